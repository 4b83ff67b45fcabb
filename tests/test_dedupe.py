"""名寄せ: planted duplicates are found, similar but distinct companies are not merged."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pandas as pd
import pytest

from maops_utils.contract.dedupe import (
    assign_contact_ids,
    candidate_pairs,
    mask_email,
    mask_name,
    normalize_company,
    normalize_email,
    normalize_phone,
)

# Records from two sources. P1..P3 are one person typed three ways; P4/P5 one person with
# the same phone at the same company; D1..D6 are distinct people at similarly named, distinct
# companies (different e-mails and phones) that must never be merged.
PLANTED = pd.DataFrame(
    [
        # lead_id, source, name, company, email, phone, contact_id
        (
            "P1",
            "eloqua",
            "山田 太郎",
            "株式会社ミライ",
            "Taro.Yamada@Example.co.jp ",
            "03-1234-5678",
            None,
        ),
        (
            "P2",
            "salesforce",
            "山田太郎",
            "㈱ミライ",
            "taro.yamada@example.co.jp",
            "+81 3 1234 5678",
            None,
        ),
        (
            "P3",
            "hubspot",
            "Yamada Taro",
            "ミライ株式会社",
            "ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ",
            "",
            None,
        ),
        (
            "P4",
            "eloqua",
            "佐藤 花子",
            "有限会社 さくら",
            "h.sato@sakura.example.jp",
            "０６－１１１１－２２２２",
            None,
        ),
        ("P5", "salesforce", "佐藤花子", "(有)さくら", "hanako@gmail.com", "06-1111-2222", None),
        (
            "D1",
            "eloqua",
            "鈴木 一郎",
            "ミライ工業株式会社",
            "ichiro@mirai-kogyo.example.jp",
            "052-111-0001",
            None,
        ),
        (
            "D2",
            "salesforce",
            "鈴木 一郎",
            "ミライ商事株式会社",
            "ichiro@mirai-shoji.example.jp",
            "052-111-0002",
            None,
        ),
        (
            "D3",
            "eloqua",
            "田中 二郎",
            "東京電機株式会社",
            "jiro@tokyo-denki.example.jp",
            "03-2222-0001",
            None,
        ),
        (
            "D4",
            "hubspot",
            "田中 二郎",
            "東京電気株式会社",
            "jiro@tokyo-denki2.example.jp",
            "03-2222-0002",
            None,
        ),
        (
            "D5",
            "eloqua",
            "高橋 三郎",
            "Mirai Systems Co., Ltd.",
            "saburo@mirai-sys.example.com",
            "",
            None,
        ),
        (
            "D6",
            "hubspot",
            "高橋 史郎",
            "MIRAI Solutions Inc.",
            "shiro@mirai-sol.example.com",
            "",
            None,
        ),
        # a person who already has two leads (two products) under one contact_id
        ("C1", "hubspot", "伊藤 健", "株式会社アサヒ", "ken.ito@asahi.example.jp", "", "X1"),
        ("C2", "hubspot", "伊藤 健", "株式会社アサヒ", "ken.ito@asahi.example.jp", "", "X1"),
    ],
    columns=["lead_id", "source", "name", "company", "email", "phone", "contact_id"],
)


def _pair_set(pairs: pd.DataFrame, threshold: float = 0.8) -> set[frozenset[str]]:
    keep = pairs[pairs["confidence"] >= threshold]
    return {frozenset((a, b)) for a, b in zip(keep["left"], keep["right"], strict=True)}


def test_normalisation():
    assert normalize_email(" Taro.Yamada@Example.co.jp ") == "taro.yamada@example.co.jp"
    assert normalize_email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ") == "taro@example.co.jp"
    assert normalize_email("not an address") is None
    names = [
        "株式会社ミライ",
        "㈱ミライ",
        "ミライ株式会社",
        "ミライ (株)",
        "ﾐﾗｲ株式会社",
        "株式会社　ミライ",
    ]
    assert {normalize_company(n) for n in names} == {"ミライ"}
    assert normalize_company("Mirai Co., Ltd.") == normalize_company("MIRAI Inc.") == "mirai"
    assert normalize_company("有限会社 さくら") == normalize_company("(有)さくら") == "さくら"
    assert normalize_company("ミライ工業株式会社") != normalize_company("ミライ商事株式会社")
    # the long-vowel mark ー is part of a word: ビール (beer) is not ビル (building) ...
    assert normalize_company("ビール株式会社") == "ビール"
    assert normalize_company("ビール株式会社") != normalize_company("ビル株式会社")
    # ... a dash typed for it after katakana is ー, and a word's last ー is a spelling variant
    assert normalize_company("コ-ポレ－ション") == normalize_company("コーポレーション")
    assert normalize_company("コンピューター(株)") == normalize_company("ｺﾝﾋﾟｭｰﾀ株式会社")
    assert normalize_company("データー・サービス") == normalize_company("データサービス")
    assert normalize_company("AB-Tech") == "abtech"
    assert normalize_phone("+81 3-1234-5678") == normalize_phone("03(1234)5678") == "0312345678"
    assert normalize_phone("０６－１１１１－２２２２") == "0611112222"
    assert normalize_phone("123") is None


def test_planted_duplicates_are_found_with_evidence():
    pairs = candidate_pairs(PLANTED)
    found = _pair_set(pairs)
    assert frozenset({"P1", "P2"}) in found
    assert frozenset({"P1", "P3"}) in found
    assert frozenset({"P2", "P3"}) in found
    assert frozenset({"P4", "P5"}) in found  # same phone, same company, same name
    p12 = pairs[(pairs["left"] == "P1") & (pairs["right"] == "P2")].iloc[0]
    assert p12["same_email"] and p12["same_phone"]
    assert p12["company_score"] == 100 and p12["confidence"] >= 0.95
    assert "same e-mail" in p12["evidence"]
    p45 = pairs[(pairs["left"] == "P4") & (pairs["right"] == "P5")].iloc[0]
    assert not p45["same_email"] and p45["same_phone"] and p45["name_score"] == 100


def test_similar_but_distinct_companies_are_not_merged():
    pairs = candidate_pairs(PLANTED, min_confidence=0.0)
    for a, b in [("D1", "D2"), ("D3", "D4"), ("D5", "D6"), ("P1", "D1"), ("P1", "D5")]:
        assert frozenset({a, b}) not in _pair_set(pairs, 0.5), (a, b)
    # a contact's own two leads are one record, never a candidate pair with itself
    assert not pairs["left"].str.contains("C1").any() or not pairs["right"].str.contains("C2").any()


def test_assign_contact_ids_merges_only_confident_groups():
    pairs = candidate_pairs(PLANTED)
    out = assign_contact_ids(PLANTED, pairs, threshold=0.8).set_index("lead_id")["contact_id"]
    assert out["P1"] == out["P2"] == out["P3"]
    assert out["P4"] == out["P5"] != out["P1"]
    assert len({out[d] for d in ("D1", "D2", "D3", "D4", "D5", "D6")}) == 6
    assert out["C1"] == out["C2"] == "X1"  # existing contact ids are kept


def test_masking():
    assert mask_email("taro.yamada@example.co.jp") == "t***@example.co.jp"
    assert mask_name("山田 太郎") == "山***"
    assert mask_email(None) == "" and mask_name("") == ""


@pytest.mark.parametrize("n", [20_000])
def test_blocking_keeps_it_fast(n):
    """20,000 records at 2,000 companies on one corporate domain: blocking keeps it quick."""
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "company": [f"株式会社テスト{i % 2000}" for i in range(n)],
            "email": [f"user{i}@corp.example.jp" for i in range(n)],
            "name": [hashlib.md5(str(i).encode()).hexdigest()[:10] for i in range(n)],
        }
    )
    started = time.perf_counter()
    pairs = candidate_pairs(frame)
    assert time.perf_counter() - started < 30
    assert pairs.empty  # different people at the same company are not duplicates


def test_missing_values_are_not_a_crash():
    from maops_utils.contract.dedupe import email_domain

    assert email_domain(float("nan")) is None and email_domain(None) is None
    assert email_domain("a@example.co.jp") == "example.co.jp"


def test_records_without_a_value_do_not_shift_the_blocks():
    """Blocks are built from the records that have the key; a record missing it before the
    others must not move the pair onto other records."""
    frame = pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3", "L4"],
            "email": [None, "a@corp.example.jp", "b@other.example.jp", "a@corp.example.jp"],
            "company": ["甲社", "乙社", "丙社", "丁社"],  # only the e-mail links L2 and L4
            "name": ["佐藤 一", "鈴木 二", "高橋 三", "田中 四"],
        }
    )
    pairs = candidate_pairs(frame)
    assert _pair_set(pairs, 0.5) == {frozenset({"L2", "L4"})}
    assert pairs.iloc[0]["same_email"]


def test_the_name_filter_of_company_blocks_loses_no_pair():
    """min_confidence > 0 compares only similar names within a company or domain; every
    pair of the block (min_confidence 0) must give the same pairs above the cut."""
    rng = np.random.default_rng(5)
    base = ["山田 太郎", "山田太郎", "佐藤 花子", "John Smith", "john smith", "Jon Smith", None]
    n = 600
    frame = pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(n)],
            "name": [base[i] for i in rng.integers(len(base), size=n)],
            "company": [f"株式会社テスト{i}" for i in rng.integers(40, size=n)],
            "email": [
                None if rng.random() < 0.3 else f"u{i}@corp{i % 7}.example.jp"
                for i in rng.integers(500, size=n)
            ],
            "phone": [
                None if rng.random() < 0.6 else f"03-1234-{i:04d}" for i in rng.integers(60, size=n)
            ],
        }
    )
    every = candidate_pairs(frame, min_confidence=0.0)
    for cut in (0.4, 0.5, 0.8):
        want = every[every["confidence"] >= cut].reset_index(drop=True)
        got = candidate_pairs(frame, min_confidence=cut).reset_index(drop=True)
        assert len(got) > 0
        pd.testing.assert_frame_equal(got, want)


@pytest.mark.parametrize("name", ["normalize_email", "normalize_phone"])
def test_ascii_twins_give_what_the_python_normalisers_give(name):
    """Distinct ASCII e-mails and phones are normalised in Arrow (`_ASCII_TWINS`): on texts
    built from every kind of character the rules treat apart (each white space `strip` and
    `\\s` know, `@`, dots, digits, `+`, capitals, a non-ASCII letter), the result must be the
    Python function's, value for value."""
    import maops_utils.contract.dedupe as dedupe

    normalize = getattr(dedupe, name)
    rng = np.random.default_rng(11)
    alphabet = [*"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u3000 ", *"@@..++--()8118", *"aZ0é"]
    if name == "normalize_phone":
        alphabet += [*"0123456789"] * 4  # enough digits to reach nine
    texts = ["".join(rng.choice(alphabet, size=rng.integers(0, 16))) for _ in range(20_000)]
    texts += [
        " Taro.Yamada@Example.co.jp ",
        "a b@c.d",
        "a@b@c.d",
        "a@b.",
        "@b.c",
        "a\x0b@b.c",
        "a@b.c\x1f",
        "\x1fa@b.c",
        "+81 3-1234-5678",
        "81312345678",
        "8131234567",
        "+81-90",
        "0312345678",
        "12345678",
        "",
        "   ",
    ]
    values = pd.Series([*texts, None, *texts], dtype=object)
    want = [None if v is None else normalize(v) for v in values]
    got = dedupe._normalized(values, normalize)
    assert sum(w is not None for w in want) > 50  # the corpus reaches the rules' far side
    assert list(got) == want
    arrow = dedupe._normalized(values.astype("str"), normalize)  # the str columns of a load
    assert list(arrow) == [None if v is None else w for v, w in zip(values, want, strict=True)]


def test_domains_are_what_email_domain_gives():
    from maops_utils.contract.dedupe import _domains, email_domain

    emails = np.array(["a@b.c", None, "x@y@z.jp", "no-at", "@d.e", "f@"], dtype=object)
    assert list(_domains(emails)) == [email_domain(e) for e in emails]


def test_a_pair_shows_each_record_as_given_and_a_contact_its_first_values():
    """The pair's raw fields are the values as typed (not the normalised keys); a record of
    several leads under one contact shows, field by field, the first value any of them has."""
    frame = pd.DataFrame(
        [
            ("A1", None, "伊藤 健", None, None, "03-1111-2222", "X1"),
            ("B1", "eloqua", "Ken Ito", "株式会社アサヒ", "Ken.Ito@Asahi.example.jp ", "", None),
            ("A2", "hubspot", None, "㈱アサヒ", "ken.ito@asahi.example.jp", "", "X1"),
            ("A3", "salesforce", "伊藤健", "アサヒ(株)", "other@asahi.example.jp", "", "X1"),
        ],
        columns=["lead_id", "source", "name", "company", "email", "phone", "contact_id"],
    )
    for f in (frame, frame.astype({c: "str" for c in frame.columns}).set_axis([7, 3, 9, 1])):
        pairs = candidate_pairs(f, min_confidence=0.5)
        assert len(pairs) == 1
        row = pairs.iloc[0]
        sides = {row["left"]: "left", row["right"]: "right"}
        assert set(sides) == {"A1;A2;A3", "B1"}
        a, b = sides["A1;A2;A3"], sides["B1"]
        assert row[f"{a}_source"] == "hubspot"  # A1 has none: A2's
        assert row[f"{a}_name"] == "伊藤 健"
        assert row[f"{a}_company"] == "㈱アサヒ"
        assert row[f"{a}_email"] == "ken.ito@asahi.example.jp"
        assert row[f"{b}_source"] == "eloqua"
        assert row[f"{b}_email"] == "Ken.Ito@Asahi.example.jp "  # as typed
        assert row[f"{b}_company"] == "株式会社アサヒ"
        assert row["same_email"]
