"""名寄せ: find records that are likely the same person, within and across sources.

Records are compared on normalised keys (e-mail, phone, company without its legal form, person
name). Blocking keeps it fast: only records sharing an e-mail, a phone, a company or an e-mail
domain are ever compared. The fuzzy parts (company and name similarity) use rapidfuzz. Each
candidate pair carries its evidence and a confidence; `assign_contact_ids` gives the records of
a confident group one shared `contact_id`.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

# What the candidate pairs kept between runs (`Dataset.derived`) depend on besides the input:
# this module's matching, by its declared format (bump it when normalising, blocking or
# scoring changes), and rapidfuzz's version. The cache's one keying rule: input checksums,
# settings and a declared format, by sha256.
PAIRS_FORMAT = "maops-pairs-1"
CODE_KEY = hashlib.sha256(
    f"{PAIRS_FORMAT}|rapidfuzz={importlib.metadata.version('rapidfuzz')}".encode()
).hexdigest()[:16]

# Legal forms (法人格) and their abbreviations, removed before company names are compared.
# After NFKC, ㈱ is "(株)" and full-width brackets are ASCII.
_DESIGNATORS = [
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "公益社団法人",
    "公益財団法人",
    "特定非営利活動法人",
    "NPO法人",
    "医療法人",
    "学校法人",
    "(株)",
    "(有)",
    "(同)",
    "(社)",
    "(財)",
]
_LATIN_DESIGNATORS = re.compile(
    r"\b(co\.?,?\s*ltd\.?|company\s+limited|corporation|corp\.?|inc\.?|incorporated|"
    r"limited|ltd\.?|llc|l\.l\.c\.|k\.k\.|kk|g\.k\.|gk|co\.)(?=\W|$)",
    re.I,
)
_PUNCT = re.compile(r"[\s\u3000・･.,，、。'\"’`()\[\]（）「」『』\-‐－―_/&＆]+")
# Katakana (with ー itself), and the dashes typed for the long-vowel mark ー after one:
# `コ-ポレ－ション` is `コーポレーション`. ー is part of a word (ビール is not ビル); only a
# word's last ー is dropped, the usual spelling variant (コンピューター, コンピュータ).
_KATAKANA = "\u30a1-\u30fa\u30fc"
_LONG_VOWEL = re.compile(f"(?<=[{_KATAKANA}])[-‐―]")  # after NFKC, － is -
_FINAL_LONG_VOWEL = re.compile(f"(?<=[\u30a1-\u30fa])ー+(?![{_KATAKANA}])")
# Mail services whose domain says nothing about the company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "yahoo.co.jp",
        "ymail.ne.jp",
        "hotmail.com",
        "hotmail.co.jp",
        "outlook.com",
        "outlook.jp",
        "live.jp",
        "icloud.com",
        "me.com",
        "docomo.ne.jp",
        "ezweb.ne.jp",
        "au.com",
        "softbank.ne.jp",
        "i.softbank.jp",
        "nifty.com",
        "example.com",
    }
)
COMPANY_SAME = 90.0  # company similarity (0-100) from which two names are one company
NAME_SAME = 90.0  # person-name similarity from which two names are one person
MAX_BLOCK = 200  # larger blocks (a big company's domain) pair only people of the same name,
# and a same-name group larger than this is not paired at all


def _nfkc(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def normalize_email(value: object) -> str | None:
    """`  Taro.Yamada@Example.co.jp ` -> `taro.yamada@example.co.jp`; None when not an address."""
    text = _nfkc(value)
    if text is None:
        return None
    text = text.replace(" ", "").lower()
    return text if re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text) else None


def normalize_phone(value: object) -> str | None:
    """Digits only, `+81` / `81` country code as the domestic `0`: `+81 3-1234-5678` -> `0312345678`."""
    text = _nfkc(value)
    if text is None:
        return None
    international = text.lstrip().startswith("+")
    digits = re.sub(r"\D", "", text)
    if digits.startswith("81") and (international or len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    return digits if len(digits) >= 9 else None


def normalize_company(value: object) -> str | None:
    """A company name for comparison: NFKC (full/half width, ㈱ -> (株)), legal forms removed,
    spaces and punctuation removed, Latin letters case-folded.

    `株式会社ミライ`, `㈱ミライ`, `ミライ株式会社`, `ミライ (株)` -> `ミライ`;
    `Mirai Co., Ltd.` -> `mirai`; `コンピューター` and `コンピュータ` -> `コンピュータ`, but
    `ビール` and `ビル` stay apart (the long-vowel mark ー is kept inside a word).
    """
    text = _nfkc(value)
    if text is None:
        return None
    for word in _DESIGNATORS:
        text = text.replace(word, " ")
    text = _LATIN_DESIGNATORS.sub(" ", text)
    text = _FINAL_LONG_VOWEL.sub("", _LONG_VOWEL.sub("ー", text))
    text = _PUNCT.sub("", text).casefold()
    return text or None


def normalize_name(value: object) -> str | None:
    """A person's name for comparison: NFKC, case-folded, words kept in order, sorted later."""
    text = _nfkc(value)
    if text is None:
        return None
    words = re.split(r"[\s\u3000・,]+", text.casefold())
    return " ".join(w for w in words if w) or None


def email_domain(email: str | None) -> str | None:
    return email.split("@", 1)[1] if isinstance(email, str) and "@" in email else None


def mask_email(value: object) -> str:
    """`taro.yamada@example.co.jp` -> `t***@example.co.jp` (for shared reports)."""
    text = _nfkc(value)
    if not text or "@" not in text:
        return "" if not text else text[:1] + "***"
    local, domain = text.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_name(value: object) -> str:
    """`山田 太郎` -> `山***`, `Taro Yamada` -> `T***`."""
    text = _nfkc(value)
    return "" if not text else text[:1] + "***"


@dataclass(frozen=True)
class Entity:
    """The columns `candidate_pairs` reads; any may be missing from the frame."""

    id: str = "lead_id"
    contact_id: str = "contact_id"
    email: str = "email"
    company: str = "company"
    phone: str = "phone"
    name: str = "name"
    source: str = "source"


# The ASCII characters `str.strip()` removes and `\s` matches in a `re` pattern: in an ASCII
# text NFKC changes nothing, so these are all `_nfkc` and the e-mail pattern need to know.
_ASCII_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "
_NOT_SPACE_OR_AT = r"[^@\t\n\x0b\x0c\r\x1c-\x1f ]+"
_EMAIL_ASCII = rf"^{_NOT_SPACE_OR_AT}@{_NOT_SPACE_OR_AT}\.{_NOT_SPACE_OR_AT}$"


def _email_ascii(texts: pa.Array) -> pa.Array:
    """`normalize_email` of ASCII texts, in Arrow (a null where it gives None)."""
    text = pc.replace_substring(pc.utf8_trim(texts, characters=_ASCII_SPACE), " ", "")
    text = pc.ascii_lower(text)
    return pc.if_else(pc.match_substring_regex(text, _EMAIL_ASCII), text, None)


def _phone_ascii(texts: pa.Array) -> pa.Array:
    """`normalize_phone` of ASCII texts, in Arrow (a null where it gives None)."""
    text = pc.utf8_trim(texts, characters=_ASCII_SPACE)
    digits = pc.replace_substring_regex(text, r"[^0-9]", "")
    length = pc.utf8_length(digits)
    domestic = pc.and_(
        pc.starts_with(digits, "81"),
        pc.or_(pc.starts_with(text, "+"), pc.is_in(length, pa.array([11, 12], length.type))),
    )
    digits = pc.if_else(domestic, pc.replace_substring_regex(digits, "^81", "0"), digits)
    return pc.if_else(pc.greater_equal(pc.utf8_length(digits), 9), digits, None)


# Normalisers with an Arrow twin for ASCII texts (most e-mail addresses and phone numbers):
# the twin gives exactly what the Python function gives (tests/test_dedupe.py compares them).
_ASCII_TWINS = {"normalize_email": _email_ascii, "normalize_phone": _phone_ascii}


def _normalized(values: pd.Series, normalize) -> np.ndarray:
    """`normalize` applied once per distinct value (exports repeat companies and domains);
    distinct ASCII texts go through the normaliser's Arrow twin, when it has one."""
    out = np.full(len(values), None, dtype=object)
    present = values.notna().to_numpy()
    if not present.any():
        return out
    codes, uniques = pd.factorize(values[present])
    done = np.full(len(uniques) + 1, None, dtype=object)
    python = np.arange(len(uniques))
    twin = _ASCII_TWINS.get(normalize.__name__)
    if twin is not None:
        try:
            texts = pa.array(uniques, type=pa.large_string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: the Python way
            texts = None
        if texts is not None:
            ascii_ = pc.string_is_ascii(texts).to_numpy(zero_copy_only=False)
            done[np.flatnonzero(ascii_)] = twin(texts.filter(ascii_)).to_numpy(zero_copy_only=False)
            python = np.flatnonzero(~ascii_)
    items = np.asarray(uniques, dtype=object)
    done[python] = [normalize(items[i]) for i in python]
    out[present] = done[codes]
    return out


def _domains(emails: np.ndarray) -> np.ndarray:
    """`email_domain` of each normalised address (None where there is none)."""
    texts = pa.array(emails, type=pa.large_string(), from_pandas=True)
    after = pc.replace_substring_regex(texts, "^[^@]*@", "", max_replacements=1)
    return pc.if_else(pc.match_substring(texts, "@"), after, None).to_numpy(zero_copy_only=False)


# The fields a pair shows as they were given, beside the normalised ones it is scored on.
_SHOWN = ("source", "company", "email", "name")


def _records(frame: pd.DataFrame, cols: Entity) -> pd.DataFrame:
    """One row per record to compare: leads already sharing a contact_id are one record.

    `id` and the normalised `email`, `phone`, `company`, `name` and `domain` hold Python
    objects, None for a missing value. A record does not copy the values as given (a pair
    shows them): `at_<field>` is the row of `frame` whose value of each `_SHOWN` field it
    shows, -1 for none, so that 1 M records hold ints rather than 4 M Python strings."""
    get = lambda c: frame[c] if c in frame else pd.Series(None, index=frame.index, dtype=object)  # noqa: E731
    rows = np.arange(len(frame), dtype="int64")
    ids = get(cols.id).astype(str)
    contact = get(cols.contact_id)
    rec = pd.DataFrame(
        {
            "id": ids.to_numpy(dtype=object),
            "email": _normalized(get(cols.email), normalize_email),
            "phone": _normalized(get(cols.phone), normalize_phone),
            "company": _normalized(get(cols.company), normalize_company),
            "name": _normalized(get(cols.name), normalize_name),
        },
        index=pd.RangeIndex(len(frame)),
        dtype=object,
    )
    for f in _SHOWN:
        rec[f"at_{f}"] = np.where(get(getattr(cols, f)).notna().to_numpy(), rows, -1)
    domain = _domains(rec["email"].to_numpy(dtype=object))
    domain[pd.Series(domain).isin(FREE_MAIL_DOMAINS).to_numpy()] = None
    rec.insert(5, "domain", pd.Series(domain, index=rec.index, dtype=object))
    key = contact.where(contact.notna(), get(cols.id)).astype(str)
    shared = key.duplicated(keep=False).to_numpy()
    if not shared.any():
        return rec
    # leads sharing a contact: one record, its ids joined, the first non-empty value of each
    # field among them; records keep the order of their first lead
    many = rec[shared].assign(key=key[shared].to_numpy(dtype=object))
    at = [f"at_{f}" for f in _SHOWN]
    many[at] = many[at].where(many[at] >= 0)  # none: NaN, which `first` skips
    joined = many.groupby("key", sort=False)["id"].agg(";".join)
    merged = many.drop(columns="id").groupby("key", sort=False).first()
    merged[at] = merged[at].fillna(-1).astype("int64")
    merged.insert(0, "id", joined)
    merged = merged.reset_index(drop=True)
    merged["_at"] = np.flatnonzero(shared)[~many["key"].duplicated().to_numpy()]
    single = rec[~shared].assign(_at=np.flatnonzero(~shared))
    out = pd.concat([single, merged[single.columns]], ignore_index=True)
    out = out.sort_values("_at", kind="stable").drop(columns="_at").reset_index(drop=True)
    text = [c for c in out.columns if c not in at]
    out[text] = out[text].astype(object).where(out[text].notna(), None)  # all-empty groups
    return out


def _shown(frame: pd.DataFrame, column: str, at: np.ndarray) -> np.ndarray:
    """The values of `column` at rows `at` of `frame` as given (None for -1, or no column)."""
    out = np.full(len(at), None, dtype=object)
    if column not in frame or not len(at):
        return out
    some = at >= 0
    values = frame[column].iloc[at[some]]
    out[some] = values.astype(object).where(values.notna(), None).to_numpy()
    return out


def _groups(values: np.ndarray) -> list[np.ndarray]:
    """Positions of `values` (None: no value) sharing a value, for each value held twice or
    more (positions in order; the groups in no particular order)."""
    present = np.flatnonzero(pd.notna(values))
    if len(present) < 2:
        return []
    codes, _ = pd.factorize(values[present])
    shared = np.bincount(codes)[codes] > 1
    present, codes = present[shared], codes[shared]
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    return [present[order[s : s + n]] for s, n in zip(starts, sizes, strict=True)]


def _similar_names(names: np.ndarray, members: np.ndarray) -> set[tuple[int, int]]:
    """The pairs of `members` (positions in `names`) whose names may score NAME_SAME or more as
    `candidate_pairs` scores them: a superset, scored in C by rapidfuzz a block at a time."""
    named = [int(m) for m in members if isinstance(names[m], str) and names[m]]
    if len(named) < 2:
        return set()
    texts = [names[m] for m in named]
    joined = [n.replace(" ", "") for n in texts]
    score = np.maximum(
        process.cdist(texts, texts, scorer=fuzz.token_sort_ratio),
        process.cdist(joined, joined, scorer=fuzz.ratio),
    )
    # a hair below the threshold: the matrix is float32, the pair's own check is exact
    left, right = np.nonzero(np.triu(score >= NAME_SAME - 0.01, k=1))
    return {(named[i], named[j]) for i, j in zip(left.tolist(), right.tolist(), strict=True)}


def _all_pairs(members) -> list[tuple[int, int]]:
    m = sorted(int(x) for x in members)
    return [(a, b) for i, a in enumerate(m) for b in m[i + 1 :]]


def _block_pairs(rec: pd.DataFrame, *, similar_names_only: bool = False) -> set[tuple[int, int]]:
    """Pairs of records (positions in `rec`) sharing an e-mail, a phone, a company or an
    e-mail domain. With `similar_names_only`, company and domain blocks give only pairs with
    similar names: the others share nothing that can make them one person (`_confidence`)."""
    pairs: set[tuple[int, int]] = set()
    names = rec["name"].to_numpy(dtype=object)
    has_name = pd.notna(names).any()
    for key in ("email", "phone", "company", "domain"):
        by_company = key in ("company", "domain")
        for members in _groups(rec[key].to_numpy(dtype=object)):
            if by_company and not has_name and similar_names_only:
                continue  # nobody has a name: a shared company alone scores 0
            if len(members) > MAX_BLOCK and by_company:
                # a big company or domain: compare only people with the same normalised name
                for same in _groups(names[members]):
                    if len(same) <= MAX_BLOCK:  # a name this common says nothing
                        pairs.update(_all_pairs(members[same]))
            elif similar_names_only and by_company:
                pairs.update(_similar_names(names, members))
            else:
                pairs.update(_all_pairs(members))
    return pairs


def _confidence(
    same_email: bool, same_phone: bool, company: float, name: float, has_name: bool
) -> float:
    company_same = company >= COMPANY_SAME
    name_same = has_name and name >= NAME_SAME
    if same_email:
        return 0.99 if (company_same or same_phone or name_same) else 0.95
    if same_phone and (company_same or name_same):
        return 0.9 if name_same or not has_name else 0.7
    if name_same and company_same:
        return 0.8
    if same_phone:
        return 0.4  # one switchboard number shared by a whole office
    return 0.0


def candidate_pairs(
    frame: pd.DataFrame, *, columns: Entity = Entity(), min_confidence: float = 0.5
) -> pd.DataFrame:
    """Likely duplicate people among the rows of `frame`, with the evidence for each pair.

    Args:
        frame: leads (or any records) with some of `email`, `company`, `phone`, `name`, an id
            and optionally `contact_id` (rows sharing it are one person already) and `source`.
        columns: the column names, when they differ from the defaults.
        min_confidence: pairs below this are left out (0.4 = a shared phone number alone).

    Returns:
        One row per pair: `left`, `right` (ids; `;`-joined when a contact has several leads),
        `left_source`, `right_source`, `same_email`, `same_phone`, `company_score`,
        `name_score` (0-100; NaN when a side has no value), `confidence` (0-1), `evidence`
        (a short text) and the raw `company`, `email`, `name` of each side; sorted by
        confidence, highest first.
    """
    cols = [
        "left",
        "right",
        "left_source",
        "right_source",
        "same_email",
        "same_phone",
        "company_score",
        "name_score",
        "confidence",
        "evidence",
        "left_company",
        "right_company",
        "left_email",
        "right_email",
        "left_name",
        "right_name",
    ]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    rec = _records(frame, columns)
    email, phone, company_key, person = (
        rec[c].to_numpy(dtype=object) for c in ("email", "phone", "company", "name")
    )
    kept: list[tuple] = []
    # A pair sharing only a company or domain scores 0.8 with similar names and 0 without
    # (`_confidence`); one sharing an e-mail or phone also comes from that block.
    for a, b in sorted(_block_pairs(rec, similar_names_only=min_confidence > 0)):
        same_email = bool(email[a] and email[a] == email[b])
        same_phone = bool(phone[a] and phone[a] == phone[b])
        ca, cb = company_key[a], company_key[b]
        company = fuzz.ratio(ca, cb) if ca and cb else float("nan")
        na, nb = person[a], person[b]
        has_name = bool(na and nb)
        # Japanese names are written with or without a space between family and given name
        name = (
            max(
                fuzz.token_sort_ratio(na, nb),
                fuzz.ratio(na.replace(" ", ""), nb.replace(" ", "")),
            )
            if has_name
            else float("nan")
        )
        conf = _confidence(
            same_email,
            same_phone,
            0.0 if company != company else company,
            0.0 if not has_name else name,
            has_name,
        )
        if conf < min_confidence:
            continue
        evidence = []
        if same_email:
            evidence.append("same e-mail")
        if same_phone:
            evidence.append("same phone")
        if company == company:
            evidence.append(f"company {company:.0f}")
        if has_name:
            evidence.append(f"name {name:.0f}")
        kept.append((a, b, same_email, same_phone, company, name, conf, ", ".join(evidence)))
    ids = rec["id"].to_numpy(dtype=object)
    sides = (
        np.array([k[0] for k in kept], dtype="int64"),
        np.array([k[1] for k in kept], dtype="int64"),
    )
    shown = {
        f: [_shown(frame, getattr(columns, f), rec[f"at_{f}"].to_numpy()[s]) for s in sides]
        for f in _SHOWN
    }
    rows = [
        [
            ids[a],
            ids[b],
            shown["source"][0][i],
            shown["source"][1][i],
            *scores,
            shown["company"][0][i],
            shown["company"][1][i],
            shown["email"][0][i],
            shown["email"][1][i],
            shown["name"][0][i],
            shown["name"][1][i],
        ]
        for i, (a, b, *scores) in enumerate(kept)
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(
        ["confidence", "left", "right"], ascending=[False, True, True]
    ).reset_index(drop=True)


def assign_contact_ids(
    frame: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    threshold: float = 0.8,
    columns: Entity = Entity(),
) -> pd.DataFrame:
    """`frame` with one shared `contact_id` per group of records linked by confident pairs.

    A group keeps the smallest existing contact_id among its records (else its smallest id), so
    ids that reports already use stay stable; records in no pair keep theirs (or their own id).

    Args:
        frame: the records given to `candidate_pairs`.
        pairs: its result (possibly filtered by a person who reviewed it).
        threshold: pairs with at least this confidence are merged.
        columns: the column names.

    Returns:
        A copy of `frame` whose `contact_id` column is filled.
    """
    out = frame.copy()
    ids = out[columns.id].astype(str)
    current = (
        out[columns.contact_id].where(out[columns.contact_id].notna(), ids)
        if columns.contact_id in out
        else ids
    ).astype(str)
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        while parent.get(k, k) != k:
            parent[k] = parent.get(parent[k], parent[k])
            k = parent[k]
        return k

    # a pair names records by their ids (";"-joined for a contact); map them to contact keys
    key_of = dict(zip(ids, current, strict=True))
    for r in pairs[pairs["confidence"] >= threshold].itertuples():
        a = key_of.get(str(r.left).split(";")[0])
        b = key_of.get(str(r.right).split(";")[0])
        if a is None or b is None:
            continue
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out[columns.contact_id] = current.map(find)
    return out
