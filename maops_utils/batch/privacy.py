"""What must not leave the building: the personal data a report would show (a run refuses to
publish one that does, unless `--include-pii`). E-mail addresses in any shape (full-width,
URL-encoded), telephone numbers, and the names and numbers of the dataset's own people."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import MaopsError
from ..core.personal import EMAIL, PHONE, mask, mask_email, plain


class PersonalDataFound(MaopsError):
    """The report would have shown personal data; it was not published."""


_TEXT_FILES = (".html", ".csv", ".json", ".ipynb", ".log", ".yaml", ".txt")
MIN_NAME = 3  # a name shorter than this (a surname alone) is too common to look for


# `EMAIL` matching a whole value in Arrow's RE2, as `fullmatch` does in Python (RE2's `$`
# without multi-line mode is the end of the text only: no newline may follow either).
_EMAIL_WHOLE = f"^(?:{EMAIL.pattern})$"


def unusual_addresses(values: pd.Series) -> set[str]:
    """The addresses among `values` that the generic pattern does not match whole: the only
    ones `find_personal_data` looks for one by one (the pattern finds the others), so a run
    keeps these rather than every lead's address while notebooks run. The distinct values
    are matched in Arrow, much faster than in Python (docs/scale.md)."""
    text = pa.array(values.dropna().astype("str").array, type=pa.large_string()).unique()
    whole = pc.match_substring_regex(text, _EMAIL_WHOLE)
    # a value without "@" ("なし", "-") is no address: searching for it would flag any report
    # that shows that text
    odd = pc.filter(text, pc.and_(pc.invert(whole), pc.match_substring(text, "@")))
    return set(odd.to_pylist())


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


@dataclass
class People:
    """What a run looks for besides the generic shapes: the dataset's own odd addresses, its
    people's names (folded, without spaces) and their numbers (digits only)."""

    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, leads: pd.DataFrame) -> People:
        emails = unusual_addresses(leads["email"]) if "email" in leads else set()
        names = set()
        if "name" in leads:
            for value in leads["name"].dropna().astype(str).unique():
                folded = re.sub(r"\s+", "", plain(value))
                if len(folded) >= MIN_NAME:
                    names.add(folded)
        phones = set()
        if "phone" in leads:
            phones = {d for d in map(_digits, leads["phone"].dropna().astype(str)) if len(d) >= 9}
        return cls(emails, names, phones)

    def name_lengths(self) -> range:
        lengths = [len(n) for n in self.names]
        return range(min(lengths, default=0), max(lengths, default=-1) + 1)


def _names_in(text: str, people: People) -> set[str]:
    """The dataset's names found in `text`, spaces ignored: every run of letters is cut into
    the pieces a name could be, and each looked up (no search per name: a million leads)."""
    if not people.names:
        return set()
    found = set()
    lengths = people.name_lengths()
    for run in re.findall(r"[^\W\d_](?:[^\W\d_]|\s(?=[^\W\d_]))*", text):
        letters = re.sub(r"\s+", "", run)
        for start in range(len(letters)):
            for n in lengths:
                piece = letters[start : start + n]
                if len(piece) < n:
                    break
                if piece in people.names:
                    found.add(piece)
    return found


def personal_data_in(text: str, people: People) -> dict[str, set[str]]:
    """What of `text` is personal data, by kind: `email`, `phone`, `name`."""
    seen = plain(text)
    # a value without "@" ("なし", "-") is no address: it would flag any text that shows it
    emails = set(EMAIL.findall(seen)) | {e for e in people.emails if "@" in e and e in seen}
    phones = set(PHONE.findall(seen))
    if people.phones:
        phones |= {
            m for m in re.findall(r"\+?\d[\d\s()-]{7,}\d", seen) if _digits(m) in people.phones
        }
    names = _names_in(seen, people)
    return {k: v for k, v in (("email", emails), ("phone", phones), ("name", names)) if v}


def find_personal_data(folder: Path, people: People) -> list[str]:
    """Personal data in any text file under `folder`: e-mail addresses (the generic pattern,
    full-width or URL-encoded too, and the dataset's own), telephone numbers and the dataset's
    names, as `file: what, e.g. masked values` lines."""
    hits = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in _TEXT_FILES:
            continue
        found = personal_data_in(path.read_text(encoding="utf-8", errors="replace"), people)
        if found:
            shown = []
            for kind, values in found.items():
                masked = sorted(mask_email(v) if kind == "email" else mask(v) for v in values)
                shown.append(f"{len(values)} {kind}(s), e.g. {', '.join(masked[:3])}")
            hits.append(f"{path.relative_to(folder)}: {'; '.join(shown)}")
    return hits
