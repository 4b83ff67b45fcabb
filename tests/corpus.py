"""The bad-input corpus: each case is the handmade dataset (tests/handmade.py) or the project's
configuration with one thing broken, and what a user must see.

Fatal cases: exit code, the fragments the message must contain (what and where), nothing
written, inputs untouched. Non-fatal cases: a published run, the finding in the report, and
metrics that still equal the hand computation (junk rows are left out, not counted).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import handmade

Mutation = Callable[[Path, Path], None]  # (data folder, params folder)


@dataclass(frozen=True)
class Case:
    name: str
    mutate: Mutation
    exit: int
    says: tuple[
        str, ...
    ] = ()  # fragments of stderr (fatal) or of the report's findings (non-fatal)
    args: tuple[str, ...] = ()
    # the values to check; None: every value of the hand computation (handmade.EXPECTED)
    metrics: dict[tuple[str, str], float] | None = field(default=None)
    check: Callable[[Path], None] | None = None  # extra check on the published month folder
    # a fatal case found only in what the notebooks made (personal data in the report)
    after_notebooks: bool = False


def _text(path: Path) -> str:
    raw = path.read_bytes()
    return raw.decode("cp932") if path.name == "leads.csv" else raw.decode("utf-8-sig")


def _write(path: Path, text: str) -> None:
    path.write_bytes(text.encode("cp932") if path.name == "leads.csv" else text.encode("utf-8"))


def replace(file: str, old: str, new: str) -> Mutation:
    def go(data: Path, params: Path) -> None:
        text = _text(data / file)
        assert old in text, (file, old)
        _write(data / file, text.replace(old, new, 1))

    return go


def append(file: str, lines: str) -> Mutation:
    def go(data: Path, params: Path) -> None:
        _write(data / file, _text(data / file) + lines)

    return go


def raw(file: str, content: bytes) -> Mutation:
    def go(data: Path, params: Path) -> None:
        (data / file).write_bytes(content)

    return go


def delete(file: str) -> Mutation:
    def go(data: Path, params: Path) -> None:
        (data / file).unlink()

    return go


def params_file(file: str, text: str) -> Mutation:
    def go(data: Path, params: Path) -> None:
        (params / file).write_text(text, encoding="utf-8")

    return go


def nothing(data: Path, params: Path) -> None:
    return None


def both(*mutations: Mutation) -> Mutation:
    def go(data: Path, params: Path) -> None:
        for m in mutations:
            m(data, params)

    return go


HEADER_ACTS = handmade.ACTIVITIES.splitlines()[0] + "\n"


def _campaigns_csv_has(cell: str) -> Callable[[Path], None]:
    def check(month_dir: Path) -> None:
        text = (month_dir / "campaigns.csv").read_text(encoding="utf-8-sig")
        assert cell in text, cell

    return check


def _html_has(*fragments: str, absent: tuple[str, ...] = ()) -> Callable[[Path], None]:
    def check(month_dir: Path) -> None:
        html = (month_dir / "01_kpi_evaluation.html").read_text(encoding="utf-8")
        for f in fragments:
            assert f in html, f
        for f in absent:
            assert f not in html, f

    return check


def replace_all(file: str, old: str, new: str) -> Mutation:
    def go(data: Path, params: Path) -> None:
        text = _text(data / file)
        assert old in text, (file, old)
        _write(data / file, text.replace(old, new))

    return go


def _renamed(old: str, new: str) -> dict[tuple[str, str], float]:
    """The hand computation with product `old` called `new`."""
    return {(new if p == old else p, m): v for (p, m), v in handmade.EXPECTED.items()}


def _products_stay_inside(month_dir: Path) -> None:
    """Every product's reports are in a folder of `products/`, none outside the month's
    folder or named as the data wrote the code."""
    top = month_dir.parents[1]  # the test's own folder, which holds data, params and out
    outside = [p for p in top.rglob("*PWN*") if month_dir not in p.parents]
    assert outside == [], outside
    folders = sorted(p.name for p in (month_dir / "products").iterdir())
    assert folders == ["A", "B", "C", folders[-1]] and folders[-1].startswith("PWN-"), folders
    assert (month_dir / "products" / folders[-1] / "01_kpi_evaluation.html").is_file()


def _no_live_link(month_dir: Path) -> None:
    """No page links anywhere a data string said: the code is shown as text."""
    import re

    pages = [month_dir / "01_kpi_evaluation.html", month_dir / "index.html"]
    pages += sorted((month_dir / "products").glob("*/01_kpi_evaluation.html"))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        hrefs = re.findall(r"href\s*=\s*[\"']?\s*([^\"'\s>]+)", html, flags=re.I)
        assert not [h for h in hrefs if h.lower().startswith(("javascript", "data:"))], page
    whole = (month_dir / "01_kpi_evaluation.html").read_text(encoding="utf-8")
    assert "javascript:alert(1)" in whole  # shown, as text


def _no_control_characters(month_dir: Path) -> None:
    for page in sorted(month_dir.rglob("*")):
        if page.suffix in (".html", ".csv", ".json", ".log"):
            text = page.read_text(encoding="utf-8-sig")
            assert "\x00" not in text and "\x1b" not in text and "\u202e" not in text, page
    assert "1月号" in (month_dir / "campaigns.csv").read_text(encoding="utf-8-sig")


def _masked_everywhere(value: str, masked: str) -> Callable[[Path], None]:
    """`value` is in no published file; the finding that quotes it shows `masked`."""

    def check(month_dir: Path) -> None:
        for path in sorted(month_dir.rglob("*")):
            if path.is_file() and path.suffix in (".html", ".csv", ".json", ".log", ".ipynb"):
                assert value not in path.read_text(encoding="utf-8-sig"), path
        assert masked in (month_dir / "run.json").read_text(encoding="utf-8")

    return check


def _with_names(data: Path, params: Path) -> None:
    """The leads with their people's names, as an import keeps them for 名寄せ."""
    lines = _text(data / "leads.csv").splitlines()
    names = ["山田太郎", "佐藤花子", "", "", "", "", ""]
    rows = [lines[0] + ",name"] + [f"{line},{n}" for line, n in zip(lines[1:], names, strict=True)]
    _write(data / "leads.csv", "\n".join(rows) + "\n")


def _both(*steps: Mutation) -> Mutation:
    def go(data: Path, params: Path) -> None:
        for step in steps:
            step(data, params)

    return go


def _personal(name: str, mutate: Mutation, *says: str) -> Case:
    return Case(name, mutate, 1, ("personal data", *says), after_notebooks=True)


def _with_employees_value(value: str) -> Mutation:
    """The leads with an employees column, the third lead's holding `value`."""

    def go(data: Path, params: Path) -> None:
        lines = _text(data / "leads.csv").splitlines()
        rows = [lines[0] + ",employees"] + [
            f"{line},{value if i == 2 else 50}" for i, line in enumerate(lines[1:])
        ]
        _write(data / "leads.csv", "\n".join(rows) + "\n")

    return go


_with_employees = _with_employees_value("many")


NAN = float("nan")
LONG = "長" * 5000

CASES: list[Case] = [
    # ---- tables and columns
    Case("missing_leads_table", delete("leads.csv"), 2, ("required table 'leads' is missing",)),
    Case("missing_activities_table", delete("activities.csv"), 2, ("required table 'activities'",)),
    Case(
        "missing_opportunities_table",
        delete("opportunities.csv"),
        2,
        ("required table 'opportunities'",),
    ),
    Case(
        "missing_product_column",
        replace("leads.csv", "lead_id,created_at,product,", "lead_id,created_at,"),
        2,
        ("leads.csv", "required column 'product' is missing"),
    ),
    Case(
        "renamed_created_at",
        replace("leads.csv", "created_at", "CreatedAt"),
        2,
        ("leads.csv", "'created_at'", "did you mean 'CreatedAt'"),
    ),
    Case(
        "missing_occurred_at",
        replace("activities.csv", "occurred_at", "when"),
        2,
        ("activities.csv", "'occurred_at'"),
    ),
    Case(
        "missing_amount",
        replace("opportunities.csv", ",amount", ",value"),
        2,
        ("opportunities.csv", "'amount'"),
    ),
    Case(
        "missing_stage",
        replace("stage_changes.csv", "lead_id,stage,", "lead_id,step,"),
        2,
        ("stage_changes.csv", "'stage'"),
    ),
    Case(
        "duplicate_column",
        replace("stage_changes.csv", "lead_id,stage,changed_at", "lead_id,stage,stage"),
        2,
        ("stage_changes.csv", "more than once"),
    ),
    Case(
        "csv_and_parquet_both",
        raw("leads.parquet", b"PAR1"),
        2,
        ("both leads.csv and leads.parquet",),
    ),
    Case("empty_leads_file", raw("leads.csv", b""), 2, ("leads.csv", "required column 'lead_id'")),
    Case(
        "damaged_parquet",
        both(delete("leads.csv"), raw("leads.parquet", b"not parquet at all")),
        2,
        ("leads.parquet", "not a readable Parquet file"),
    ),
    Case(
        "ragged_csv",
        append("opportunities.csv", 'O9,L1,A,"2026-01-02,open\n'),
        2,
        ("opportunities.csv", "not a well-formed CSV"),
    ),
    # ---- types and timestamps
    Case(
        "unparseable_created_at",
        replace("leads.csv", "2026-01-05 10:00:00", "yesterday"),
        2,
        ("leads.csv", "created_at", "line 2", "'yesterday'"),
    ),
    Case(
        "out_of_range_year",
        replace("stage_changes.csv", "2026-01-10 09:00:00", "99999-01-10 09:00:00"),
        2,
        ("stage_changes.csv", "changed_at", "line 2"),
    ),
    Case(
        "february_30",
        replace("activities.csv", "2026-01-07 10:00:00", "2026-02-30 10:00:00"),
        2,
        ("activities.csv", "occurred_at", "not readable timestamps"),
    ),
    Case(
        "amount_with_currency_sign",
        replace("opportunities.csv", ",1000000", ",¥1000000"),
        2,
        ("opportunities.csv", "amount", "not numbers", "line 2"),
    ),
    Case(
        "unreadable_closed_at",
        replace("opportunities.csv", "2026-01-28 10:00:00", "soon"),
        2,
        ("opportunities.csv", "closed_at", "'soon'"),
    ),
    # ---- encodings
    Case(
        "undecodable_bytes",
        raw("campaigns.csv", handmade.CAMPAIGNS.encode("utf-8") + b"K9,\xff\xfe\xfd,,email,\n"),
        2,
        ("campaigns.csv", "cannot be decoded", "line 4"),
    ),
    Case(
        "forced_wrong_encoding",
        nothing,
        2,
        ("leads.csv", "cannot be decoded as utf-8"),
        args=("--encoding", "utf-8"),
    ),
    Case(
        "activities_in_cp932",
        lambda d, p: (d / "activities.csv").write_bytes(handmade.ACTIVITIES.encode("cp932")),
        0,
        (),
    ),
    Case(
        "leads_with_bom_utf8",
        lambda d, p: (d / "leads.csv").write_bytes(b"\xef\xbb\xbf" + handmade.LEADS.encode()),
        0,
        (),
    ),
    # ---- keys
    Case(
        "duplicate_lead_id",
        replace("leads.csv", "L3,", "L1,"),
        2,
        ("leads.csv", "lead_id", "'L1'", "line 4"),
    ),
    Case(
        "duplicate_opportunity_id",
        replace("opportunities.csv", "O2,", "O1,"),
        2,
        ("opportunities.csv", "'O1'"),
    ),
    Case(
        "duplicate_activity_id",
        raw(
            "activities.csv",
            b"lead_id,activity_type,occurred_at,activity_id\n"
            b"L1,email_send,2026-01-05 10:00:00,X\nL2,email_send,2026-01-05 10:00:00,X\n",
        ),
        2,
        ("activities.csv", "activity_id", "must be unique"),
    ),
    Case("empty_lead_id", replace("leads.csv", "L7,", ","), 2, ("leads.csv", "empty 'lead_id'")),
    Case("product_named_all", replace("leads.csv", ",C,", ",ALL,"), 2, ("leads.csv", "reserved")),
    # ---- non-fatal: junk rows are findings and left out; metrics stay as computed by hand
    Case(
        "orphan_activities",
        append("activities.csv", "NOPE,email_send,2026-01-05 10:00:00,K1,,\n"),
        0,
        ("orphans",),
    ),
    Case(
        "unknown_activity_type",
        append("activities.csv", "L1,fax_sent,2026-01-05 10:00:00,,,\n"),
        0,
        ("unknown activity_type (fax_sent,",),
    ),
    Case(
        "unknown_stage",
        append("stage_changes.csv", "L1,customer,2026-01-11 09:00:00\n"),
        0,
        ("unknown stage (customer,",),
    ),
    Case(
        "orphan_stage_change",
        append("stage_changes.csv", "GHOST,mql,2026-01-11 09:00:00\n"),
        0,
        ("stage changes reference a lead_id not in leads",),
    ),
    Case(
        "unknown_status",
        append("opportunities.csv", "O9,,D,2025-12-06 10:00:00,pending,,10\n"),
        0,
        ("unknown status (pending)",),
    ),
    Case(
        "won_without_close",
        append("opportunities.csv", "O9,,D,2025-12-05 10:00:00,won,,10\n"),
        0,
        ("won/lost opportunities have no closed_at",),
    ),
    Case(
        "future_activity",
        append("activities.csv", "L1,email_send,2031-01-05 10:00:00,K1,,\n"),
        0,
        ("dated after the run time",),
    ),
    Case("unreadable_optional_number", _with_employees, 0, ("not numbers and were ignored",)),
    Case(
        "empty_activities_table",
        raw("activities.csv", HEADER_ACTS.encode()),
        0,
        (),
        metrics={
            ("ALL", "email_sends"): 0,
            ("ALL", "email_delivered"): 0,
            ("ALL", "email_open_rate"): NAN,
            ("ALL", "product_page_views"): 0,
            ("ALL", "inquiries"): 0,
            ("A", "email_ctr"): NAN,
        },
    ),
    Case(
        "month_without_data", nothing, 0, (), args=("--month", "2025-11"), metrics={}
    ),  # checked in the test: counts 0 and rates empty
    Case(
        "zero_denominators_everywhere",
        both(
            raw("activities.csv", HEADER_ACTS.encode()),
            raw("stage_changes.csv", b"lead_id,stage,changed_at\n"),
            raw(
                "opportunities.csv",
                b"opportunity_id,lead_id,product,created_at,status,closed_at,amount\n",
            ),
        ),
        0,
        (),
        metrics={
            ("ALL", "mqls"): 0,
            ("ALL", "sql_rate"): NAN,
            ("ALL", "win_rate"): NAN,
            ("ALL", "revenue"): 0,
            ("ALL", "email_open_rate"): NAN,
        },
    ),
    Case(
        "extreme_amount",
        replace("opportunities.csv", ",1000000", ",999999999999999"),
        0,
        (),
        metrics={("A", "revenue"): 999999999999999, ("ALL", "revenue"): 999999999999999 + 700_000},
    ),
    Case(
        "very_long_strings",
        both(
            replace("leads.csv", "<script>alert(1)</script>", LONG),
            replace("campaigns.csv", "特集", "特" * 10000),
        ),
        0,
        (),
        check=_html_has("長長長長"),
    ),
    Case(
        "markup_in_names",
        replace("campaigns.csv", "<b>1月号</b> & ニュース", '<img src=x onerror="alert(1)"> 1月号'),
        0,
        (),
        check=_html_has("&lt;img src=x onerror=", absent=("<img src=x",)),
    ),
    Case(
        # what the sample's newest newsletter was once named: a script and markup, shown as text
        "script_and_markup_in_a_campaign_name",
        replace(
            "campaigns.csv",
            "<b>1月号</b> & ニュース",
            "<script>alert('ミライ通信')</script> 1月号 & <b>特別号</b>",
        ),
        0,
        (),
        check=_html_has(
            "&lt;script&gt;alert(",
            "&lt;b&gt;特別号&lt;/b&gt;",
            absent=("<script>alert(", "<b>特別号</b>"),
        ),
    ),
    Case(
        "formula_in_names",
        replace("campaigns.csv", "<b>1月号</b> & ニュース", '=HYPERLINK("http://x";"y")'),
        0,
        (),
        check=_campaigns_csv_has("'=HYPERLINK"),
    ),
    # ---- data values that must not become paths, links or control characters
    Case(
        "product_code_as_a_path",
        replace_all("opportunities.csv", ",D,", ",../../../PWN,"),
        0,
        (),
        args=("--products", "all"),
        metrics=_renamed("D", "../../../PWN"),
        check=_products_stay_inside,
    ),
    Case(
        "product_code_as_a_link",
        replace_all("opportunities.csv", ",D,", ",[詳細](javascript:alert(1)),"),
        0,
        (),
        args=("--products", "all"),
        metrics=_renamed("D", "[詳細](javascript:alert(1))"),
        check=_no_live_link,
    ),
    Case(
        "control_characters_in_a_name",
        replace("campaigns.csv", "<b>1月号</b>", "\x1b[31m1月号\u202e\x07"),
        0,
        (),
        check=_no_control_characters,
    ),
    # ---- personal data in any shape, wherever it would be published
    _personal(
        "email_full_width_in_a_campaign_name",
        replace("campaigns.csv", "<b>1月号</b>", "taro.yamada＠example.co.jp 宛"),
        "t***@example.co.jp",
    ),
    _personal(
        "email_url_encoded_in_a_lead_source",
        replace(
            "leads.csv",
            "<script>alert(1)</script>",
            "https://lp.example.jp/?email=jiro%40example.co.jp&tel=0312345678",
        ),
        "j***@example.co.jp",
        "phone(s)",
    ),
    _personal(
        "phone_in_a_campaign_name",
        replace("campaigns.csv", "<b>1月号</b>", "担当 090-1234-5678"),
        "phone(s)",
    ),
    _personal(
        "name_of_a_lead_in_a_campaign_name",
        _both(_with_names, replace("campaigns.csv", "<b>1月号</b>", "山田太郎様ご招待")),
        "name(s)",
        "山***",
    ),
    Case(
        "email_in_a_number_column_is_masked_in_the_findings",
        _with_employees_value("hanako@example.org"),
        0,
        ("not numbers and were ignored",),
        check=_masked_everywhere("hanako@example.org", "h***@example.org"),
    ),
    # ---- configuration and arguments
    Case(
        "malformed_kpis_yaml",
        params_file("kpis.yaml", "kpis:\n  revenue: [\n"),
        2,
        ("kpis.yaml", "invalid YAML", "line"),
    ),
    Case(
        "python_tag_in_yaml",
        params_file("kpis.yaml", "kpis: !!python/object/apply:os.system ['touch PWNED']\n"),
        2,
        ("kpis.yaml", "invalid YAML"),
    ),
    Case(
        "unknown_setting",
        params_file("run.yaml", "monht: 2026-01\n"),
        2,
        ("run.yaml", "unknown setting 'monht'", "did you mean 'month'"),
    ),
    Case(
        "unknown_kpi_key",
        params_file("kpis.yaml", "kpis:\n  revenue: {taregts: {default: {ALL: 1}}}\n"),
        2,
        ("kpis.yaml", "kpis.revenue", "unknown key 'taregts'"),
    ),
    Case(
        "month_that_does_not_exist",
        nothing,
        2,
        ("'2026-13' is not a month", "YYYY-MM"),
        args=("--month", "2026-13"),
    ),
    Case("month_outside_data", nothing, 2, ("outside the data",), args=("--month", "2019-04")),
    Case(
        "month_crafted_as_code",
        nothing,
        2,
        ("is not a month",),
        args=("--month", '2026-01"); import os; os.system("touch PWNED"); ("'),
    ),
    Case(
        "unknown_notebook", nothing, 2, ("notebook 'nope' not found",), args=("--notebooks", "nope")
    ),
    Case("unknown_product", nothing, 2, ("no product 'Z'",), args=("--products", "Z")),
    Case("zero_jobs", nothing, 2, ("--jobs must be 1 or more",), args=("--jobs", "0")),
    Case("bad_timezone", nothing, 2, ("timezone 'Mars/Base'",), args=("--timezone", "Mars/Base")),
]

# An output folder a run must refuse: "{data}" is replaced by the case's data folder.
CASES += [
    Case("out_into_the_data_folder", nothing, 2, ("is the data folder",), args=("--out", "{data}")),
    Case("out_at_file_system_top", nothing, 2, ("top of the file system",), args=("--out", "/")),
    Case(
        "out_holding_the_data", nothing, 2, ("holds the data folder",), args=("--out", "{data}/..")
    ),
]
