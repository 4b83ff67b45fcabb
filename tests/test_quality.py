"""Data-quality tables (maops_utils.reports.quality.checks) and notebook 00 executed on the sample."""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from maops_utils.batch import config
from maops_utils.core import io
from maops_utils.core.errors import Finding
from maops_utils.core.i18n import finding_words
from maops_utils.core.schema import TABLES
from maops_utils.reports import views
from maops_utils.reports.kpi import review
from maops_utils.reports.quality import checks as quality
from maops_utils.reports.quality import conclusion
from maops_utils.reports.quality import findings as month_list
from maops_utils.tools.sample import generate_sample

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_data_quality.ipynb"
SAMPLE = ROOT / "data" / "sample"
AS_OF = pd.Timestamp("2026-11-15 09:00")


@pytest.fixture(scope="module")
def flawed(tmp_path_factory):
    """A small dataset with planted problems: no e-mail sends in 2026-08, an orphan activity,
    an unknown activity type, two leads of one person under different contact ids."""
    tables = generate_sample(leads=300, months=6, seed=3, end_month="2026-10")
    acts = tables["activities"]
    month = acts["occurred_at"].dt.strftime("%Y-%m")
    acts = acts[~((acts["activity_type"] == "email_send") & (month == "2026-08"))].copy()
    extra = acts.iloc[:2].copy()
    extra["activity_id"] = ["X1", "X2"]
    extra["lead_id"] = ["L999999", extra["lead_id"].iloc[1]]
    extra["activity_type"] = ["email_open", "webinar_signup"]
    tables["activities"] = pd.concat([acts, extra], ignore_index=True)
    leads = tables["leads"].copy()
    leads.loc[1, "email"] = " " + str(leads.loc[0, "email"]).upper() + " "
    leads.loc[1, "company"] = leads.loc[0, "company"]
    tables["leads"] = leads
    folder = tmp_path_factory.mktemp("flawed")
    io.write_dataset(tables, folder)
    settings = config.load_settings(ROOT / "params", {"data_dir": folder})
    return quality.load_quality(settings, as_of=AS_OF)


def test_counts_freshness_and_missing(flawed):
    counts = quality.row_counts(flawed)
    assert list(counts.columns) == ["leads", "activities", "stage_changes", "opportunities"]
    # the month reviewed first, older months back to the first with data, the total last
    ds = flawed.dataset
    first = min(
        ds[name][col].min().strftime("%Y-%m")
        for name, col in month_list.TIME_COLUMNS.items()
        if ds.has(name)
    )
    assert first > flawed.months[0]  # the sample is younger than the months reviewed
    assert list(counts.index) == [*reversed([m for m in flawed.months if m >= first]), "合計"]
    assert counts.index[0] == flawed.month == "2026-10"
    assert counts.loc["合計", "leads"] == 300
    assert counts.loc[counts.index[:-1], "leads"].sum() <= 300
    leads = flawed.dataset["leads"]
    in_month = leads["created_at"].dt.strftime("%Y-%m") == flawed.month
    assert counts.iloc[0]["leads"] == in_month.sum() > 0
    grid = quality.count_grid(flawed)  # the CSV keeps its layout: tables as rows
    assert grid.loc["leads", "合計"] == 300 and list(grid.columns[:-1]) == flawed.months
    fresh = quality.freshness(flawed)
    assert fresh.loc["leads", "月末までの日数"] <= month_list.STALE_DAYS
    assert fresh.loc["leads", "状態"] == "最新"
    missing = quality.missing_fields(flawed)
    assert missing.loc[("leads", "lead_id"), "必須"] == "はい"
    assert missing.loc[("leads", "lead_id"), "空欄"] == 0


def test_gap_orphans_unknown_codes_and_duplicates_are_findings(flawed):
    gaps = quality.gaps(flawed)
    assert {"month": "2026-08", "what": "email_send"} in gaps.to_dict("records")
    messages = " | ".join(f.message for f in flawed.findings)
    assert "orphans" in messages
    assert "unknown activity_type" in messages and "webinar_signup" in messages
    assert "no email_send in 2026-08" in messages
    assert "look like the same person" in messages
    table = quality.findings_table(flawed)
    assert table.index.name == "重要度"
    assert {"テーブル", "列", "内容", "行数", "対処"} <= set(table.columns)
    notes = quality.reading_notes(flawed)
    assert any("2026-08" in n and "メール" in n for n in notes)


def test_duplicate_table_is_masked_unless_pii_is_included(flawed):
    masked = quality.duplicates(flawed)
    assert len(masked) >= 1
    assert masked["left_email"].str.contains(r"^\w\*\*\*@", regex=True).all()
    flawed.include_pii = True
    try:
        assert "***" not in " ".join(quality.duplicates(flawed)["left_email"])
    finally:
        flawed.include_pii = False
    out = quality.tables_for_output(flawed)
    assert set(out) == {"quality_counts", "quality_findings", "duplicate_candidates"}
    assert out["duplicate_candidates"]["right_email"].str.contains(r"\*\*\*").all()


def test_english_labels(flawed):
    flawed.locale = "en"
    try:
        assert quality.row_counts(flawed).index[-1] == "Total"
        assert "Total" in quality.count_grid(flawed).columns
        assert "What to do" in quality.findings_table(flawed).columns
    finally:
        flawed.locale = "ja"


def test_notebook_layout_follows_notebook_01():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.cells[1].source.startswith("%matplotlib inline")
    assert "plots.setup_notebook()" in nb.cells[1].source
    params = nb.cells[2]
    assert "parameters" in params.metadata["tags"]
    for line in (
        'month: str = ""',
        'data_dir: str = ""',
        'params_dir: str = ""',
        'output_dir: str = ""',
        'locale: str = ""',
        'timezone: str = ""',
        'encoding: str = ""',
        'as_of: str = ""',
        "include_pii: bool = False",
    ):
        assert line in params.source
    for line in params.source.splitlines():
        comment = line.split("#", 1)[1]
        assert "=" not in comment and '"' not in comment and "'" not in comment
    for cell in nb.cells:
        assert cell.get("id") and not cell.get("outputs")
        if cell.cell_type == "markdown":
            assert cell.metadata["maops"]["en"].strip()
    tagged = [c for c in nb.cells if "remove-cell" in c.metadata.get("tags", [])]
    assert [c.cell_type for c in tagged] == ["markdown", "code"]
    assert "io.write_tables(output_dir" in tagged[1].source


def test_the_notebook_opens_with_its_conclusion_and_ends_with_its_appendix():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    ids = [c.id for c in nb.cells]
    heading, shown = nb.cells[ids.index("setup") + 1], nb.cells[ids.index("setup") + 2]
    assert heading.source == "## 結論" and heading.metadata["maops"]["en"] == "## Conclusion"
    assert shown.source == "conclusion.conclusion(rv)"
    (start,) = [i for i, c in enumerate(nb.cells) if "appendix" in c.metadata.get("tags", [])]
    appendix = nb.cells[start]
    assert appendix.cell_type == "markdown" and appendix.source.startswith("## 付録\n")
    assert appendix.metadata["maops"]["en"].startswith("## Appendix\n")
    body = " ".join(c.source for c in nb.cells[:start] if c.cell_type == "code")
    after = " ".join(c.source for c in nb.cells[start:] if c.cell_type == "code")
    for long in ("checks.missing_fields(", "checks.activity_counts(", "method_notes("):
        assert long not in body and long in after
    assert "checks.incomplete_fields(" in body and "checks.row_counts(" in body
    # what follows the appendix's heading is the appendix's (the output cells are removed)
    shown_after = [
        c
        for c in nb.cells[start + 1 :]
        if c.cell_type == "markdown" and "remove-cell" not in c.metadata.get("tags", [])
    ]
    assert shown_after and all(c.source.startswith("### ") for c in shown_after)


@pytest.mark.slow
def test_notebook_runs_on_the_sample_and_writes_its_tables(tmp_path):
    import papermill

    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        parameters={"data_dir": str(SAMPLE), "output_dir": str(tmp_path), "as_of": str(AS_OF)},
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    nb = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "leads" in html and "合計" in html
    (first,) = [c for c in nb.cells if c.get("id") == "conclusion"]
    opening = first.outputs[0]["data"]["text/html"]
    assert opening.count("<li>") == 4 and "指摘は" in opening and "2026-10 の行数" in opening
    for name in ("quality_counts", "quality_findings", "duplicate_candidates"):
        assert (tmp_path / f"{name}.csv").is_file(), name
    counts = pd.read_csv(tmp_path / "quality_counts.csv")
    assert counts.set_index(counts.columns[0]).loc["leads", "合計"] == 5000


def test_a_month_without_new_leads_is_a_gap(flawed, tmp_path):
    """New leads are counted by month in SQL with the other tables: a month whose leads are
    all gone is a gap, and no other month is one."""
    assert not any(g["what"] == "new_leads" for g in quality.gaps(flawed).to_dict("records"))
    ds = flawed.dataset
    leads = ds["leads"]
    gone = set(leads.loc[leads["created_at"].dt.strftime("%Y-%m") == "2026-07", "lead_id"])
    assert gone
    tables = {name: ds[name] for name in ds.names}
    for name, table in tables.items():
        if "lead_id" in table.columns:
            tables[name] = table[~table["lead_id"].isin(gone)]
    io.write_dataset(tables, tmp_path)
    settings = config.load_settings(ROOT / "params", {"data_dir": tmp_path})
    gaps = quality.gaps(quality.load_quality(settings, as_of=AS_OF))
    assert [g for g in gaps.to_dict("records") if g["what"] == "new_leads"] == [
        {"month": "2026-07", "what": "new_leads"}
    ]


def test_the_candidate_pairs_are_kept_with_the_cached_leads(tmp_path, monkeypatch):
    from maops_utils.contract import dedupe

    tables = generate_sample(leads=400, months=6, seed=5, end_month="2026-10")
    leads = tables["leads"].copy()
    leads.loc[1, ["email", "company"]] = [" " + str(leads.loc[0, "email"]).upper(), None]
    tables["leads"] = leads
    folder = tmp_path / "data"
    io.write_dataset(tables, folder)
    plain = config.load_settings(ROOT / "params", {"data_dir": folder, "cache_dir": False})
    cached = config.load_settings(
        ROOT / "params", {"data_dir": folder, "cache_dir": tmp_path / "cache"}
    )
    expected = quality.load_quality(plain, as_of=AS_OF).pairs
    assert len(expected) >= 1
    first = quality.load_quality(cached, as_of=AS_OF)
    (kept,) = (tmp_path / "cache").glob("tables-*/derived-pairs-*.arrow")
    assert dedupe.CODE_KEY in kept.name
    computed: list[int] = []
    real = dedupe.candidate_pairs
    monkeypatch.setattr(
        dedupe, "candidate_pairs", lambda *a, **k: computed.append(1) or real(*a, **k)
    )
    second = quality.load_quality(cached, as_of=AS_OF)
    assert computed == []  # read back, not computed
    for got in (first.pairs, second.pairs):
        pd.testing.assert_frame_equal(got, expected)
    pd.testing.assert_frame_equal(
        quality.duplicates(second), quality.duplicates(quality.load_quality(plain, as_of=AS_OF))
    )
    # a run time that leaves leads out: the pairs of the leads kept, computed afresh
    early = pd.Timestamp("2026-08-01")
    computed.clear()
    cut = quality.load_quality(cached, as_of=early)
    assert computed == [1]
    pd.testing.assert_frame_equal(cut.pairs, quality.load_quality(plain, as_of=early).pairs)


# ------------------------------------------------------------------ the month's one list


def _stale(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code == "stale"]


def _folder(rv: quality.QualityReview) -> Path:
    return Path(str(rv.dataset.sources["leads"]["path"])).parent


@pytest.fixture(scope="module")
def ending_mid_month(tmp_path_factory):
    """A sample whose every table stops on 2026-10-15 (an export taken mid-month), with an
    activity of a lead that is not in leads."""
    tables = generate_sample(leads=300, months=6, seed=3, end_month="2026-10")
    cut = pd.Timestamp("2026-10-15 12:00")
    for name, col in month_list.TIME_COLUMNS.items():
        if name in tables:
            tables[name] = tables[name][~(tables[name][col] >= cut)]
    acts = tables["activities"]
    orphan = acts.iloc[:1].assign(activity_id="X1", lead_id="L999999")
    tables["activities"] = pd.concat([acts, orphan], ignore_index=True)
    folder = tmp_path_factory.mktemp("mid-month")
    io.write_dataset(tables, folder)
    return folder


def test_freshness_is_judged_against_the_end_of_the_month_not_the_run_date(
    flawed, ending_mid_month
):
    late_run = pd.Timestamp("2026-12-05 09:00")  # 35 days after the month closed
    complete = config.load_settings(
        ROOT / "params", {"data_dir": _folder(flawed), "month": "2026-10"}
    )
    late = quality.load_quality(complete, as_of=late_run)
    assert _stale(late.findings) == []
    assert set(quality.freshness(late)["状態"]) == {"最新"}
    cut = config.load_settings(ROOT / "params", {"data_dir": ending_mid_month, "month": "2026-10"})
    for as_of in (AS_OF, late_run):
        mid = quality.load_quality(cut, as_of=as_of)
        stale = {f.table: f for f in _stale(mid.findings)}
        assert {"leads", "activities"} <= set(stale)
        assert "the end of 2026-10 (2026-10-31)" in stale["activities"].message
        assert stale["activities"].params["days"] > month_list.STALE_DAYS
        assert "2026-10-31" in finding_words(stale["activities"], "ja")[0]
        assert quality.freshness(mid).loc["activities", "状態"] == "古い"
    # the month before, from the same export, is complete
    before = month_list.month_findings(mid.dataset, "2026-09", mid.months[:-1])
    assert _stale(before) == []


def test_a_finding_is_worded_in_the_reports_language(ending_mid_month):
    settings = config.load_settings(
        ROOT / "params", {"data_dir": ending_mid_month, "month": "2026-10"}
    )
    rv = quality.load_quality(settings, as_of=AS_OF)
    (orphan,) = [f for f in rv.findings if f.code == "orphans"]
    assert (
        orphan.message
        == "1 activities reference a lead_id not in leads (orphans) and were left out"
    )
    assert finding_words(orphan, "en") == (orphan.message, orphan.action)
    ja_message, ja_action = finding_words(orphan, "ja")
    assert "孤立レコード" in ja_message and "lead_id" in ja_message
    assert "リード" in ja_action and "exports" not in ja_action
    for table in (quality.findings_table(rv), views.findings_table(rv.findings, "ja")):
        shown = " ".join(table.astype(str).to_numpy().ravel())
        assert ja_message in shown and orphan.message not in shown
    rv.locale = "en"
    try:
        assert orphan.message in " ".join(quality.findings_table(rv)["Message"])
    finally:
        rv.locale = "ja"
    # a finding made without a code (an importer's) keeps its words
    plain = Finding("warning", "leads", "a message", action="an action")
    assert finding_words(plain, "ja") == ("a message", "an action")


def test_a_value_a_finding_quotes_is_masked_in_every_language():
    from maops_utils.core.i18n import finding

    found = finding(
        "warning",
        "activities",
        "unknown_codes",
        column="activity_type",
        n=1,
        noun="activities",
        shown="taro@example.co.jp",
        allowed="email_send",
    )
    for locale in ("ja", "en"):
        message = finding_words(found, locale)[0]
        assert "t***@example.co.jp" in message and "taro@" not in message


def test_the_kpi_and_quality_reports_show_the_same_list(ending_mid_month):
    settings = config.load_settings(
        ROOT / "params", {"data_dir": ending_mid_month, "month": "2026-10"}
    )
    rv = quality.load_quality(settings, as_of=AS_OF)
    with review.load_review(settings, as_of=AS_OF) as kpi:
        assert kpi.findings == rv.findings
        assert len(views.quality(kpi)) == len(quality.findings_table(rv)) == len(rv.findings)
    assert {"contract": 1, "stale": 2} == {
        "contract": sum(f in rv.dataset.findings for f in rv.findings),
        "stale": len([f for f in _stale(rv.findings) if f.table in ("leads", "activities")]),
    }


@pytest.mark.slow
def test_the_index_and_every_report_count_the_same_findings(ending_mid_month, tmp_path):
    """The month's index, the data-quality report (00) and the KPI report (01) of one run."""
    import json

    from helpers import maops

    out = tmp_path / "reports"
    proc = maops(
        "run",
        "--params",
        ROOT / "params",
        "--data",
        ending_mid_month,
        "--out",
        out,
        "--month",
        "2026-10",
        "--as-of",
        "2026-12-05 09:00",
        "--notebooks",
        "00_data_quality,01_kpi_evaluation",
    )
    assert proc.returncode == 0, proc.stderr
    month_dir = out / "2026-10"
    listed = [Finding(**f) for f in json.loads((month_dir / "run.json").read_text())["findings"]]
    assert len(listed) >= 3 and _stale(listed)
    index = (month_dir / "index.html").read_text(encoding="utf-8")
    assert index.count('class="sev sev-') == len(listed)
    assert len(pd.read_csv(month_dir / "quality_findings.csv")) == len(listed)
    for name in ("index.html", "00_data_quality.html", "01_kpi_evaluation.html"):
        page = (month_dir / name).read_text(encoding="utf-8")
        for f in listed:
            assert html.escape(finding_words(f, "ja")[0], quote=False) in page, (name, f)
        assert "指摘はありません" not in page


# ------------------------------------------------------------------ read at a glance


@pytest.fixture(scope="module")
def mid_month(ending_mid_month):
    settings = config.load_settings(
        ROOT / "params", {"data_dir": ending_mid_month, "month": "2026-10"}
    )
    return quality.load_quality(settings, as_of=AS_OF)


def _contract_empties(dataset) -> dict[tuple[str, str], tuple[int, int]]:
    """(table, column) -> (empty values, rows) of every contract column, counted in pandas."""
    out = {}
    for name in dataset.names:
        frame = dataset[name]
        for col in TABLES[name].columns:
            if col.name in frame.columns:
                out[(name, col.name)] = (int(frame[col.name].isna().sum()), len(frame))
    return out


def test_the_missing_values_view_lists_only_the_incomplete_columns_emptiest_first(flawed):
    empties = _contract_empties(flawed.dataset)
    incomplete = {k: v for k, v in empties.items() if v[0]}
    assert incomplete and len(incomplete) < len(empties)
    shown = quality.incomplete_fields(flawed)
    assert set(shown.index) == set(incomplete)
    assert [int(n) for n in shown["空欄"]] == [incomplete[k][0] for k in shown.index]
    shares = [incomplete[k][0] / incomplete[k][1] for k in shown.index]
    assert shares == sorted(shares, reverse=True)
    assert list(shown["空欄率"]) == [f"{x:.1%}" for x in shares]
    complete, total = quality.completeness(flawed)
    assert (complete, total) == (len(empties) - len(incomplete), len(empties))
    sentence = views.completeness(complete, total, "ja").data
    assert f"{total} 列のうち {complete} 列は空欄がありません" in sentence
    assert f"空欄のある {len(incomplete)} 列" in sentence
    # the appendix keeps every column, the complete ones too
    assert set(quality.missing_fields(flawed).index) == set(empties)
    assert views.incomplete_fields(shown.iloc[0:0]) is None
    assert "35 列すべてに空欄がありません" in views.completeness(35, 35, "ja").data


def _in_month(frame: pd.DataFrame, col: str, month: str) -> int:
    return int((frame[col].dt.strftime("%Y-%m") == month).sum())


@pytest.mark.parametrize("case", ["flawed", "mid_month"])
def test_the_conclusion_carries_the_numbers_of_the_tables_below_it(case, request):
    rv = request.getfixturevalue(case)
    found, rows, fresh, dups = conclusion.sentences(rv)
    # the findings, by severity, as the findings table lists them
    table = quality.findings_table(rv)
    assert len(table) == len(rv.findings) > 0
    assert found.startswith(f"指摘は {len(table)} 件（")
    for severity, n in table.index.value_counts().items():
        assert f"{severity} {n} 件" in found
    assert quality.reading_notes(rv)[0] in found
    # the month's rows against the previous month's, as the row-count table shows them
    ds, counts, previous = rv.dataset, quality.row_counts(rv), "2026-09"
    assert counts.index[0] == rv.month
    dropped = []
    for name, col in month_list.TIME_COLUMNS.items():
        if not ds.has(name):
            continue
        now, before = _in_month(ds[name], col, rv.month), _in_month(ds[name], col, previous)
        assert counts.at[rv.month, name] == now and counts.at[previous, name] == before
        assert f"{name} {now:,} 件（前月 {before:,} 件" in rows
        if before >= conclusion.DROP_MIN_ROWS and now <= before * (1 - conclusion.DROP_SHARE):
            dropped.append(name)
    head, tail = rows.split("）。", 1)
    if dropped:
        assert tail.startswith("、".join(dropped) + " は前月から 30% 以上減っています")
    else:
        assert tail == "前月から 30% 以上減ったテーブルはありません。"
    # freshness in days before the month's end, as the freshness table shows it
    end = pd.Timestamp("2026-11-01")
    shown = quality.freshness(rv)
    stale = []
    for name, col in month_list.TIME_COLUMNS.items():
        if not ds.has(name):
            continue
        days = max(int((end - ds[name][col].max()) / pd.Timedelta(days=1)), 0)
        assert shown.at[name, "月末までの日数"] == days
        assert f"{name} {days} 日前" in fresh
        if days > month_list.STALE_DAYS:
            stale.append(name)
    assert (
        ("、".join(stale) + " は 10 日を超えて古く" in fresh) if stale else "すべて 10 日" in fresh
    )
    # the likely duplicate people, as the name-matching table lists them
    pairs = quality.duplicates(rv)
    listed = views.duplicate_pairs(pairs, "ja")
    n = len(listed) if isinstance(listed, pd.DataFrame) else 0
    high = int((pairs["confidence"] >= month_list.DUPLICATE_CONFIDENCE).sum())
    assert n == len(pairs)
    assert (
        (f"{n} 組（確度 50% 以上）で、うち確度 80% 以上の {high} 組" in dups)
        if n
        else ("0 組" in dups)
    )
    # one case of each: a complete export, and one cut mid-month
    assert (bool(dropped), bool(stale)) == ((False, False) if case == "flawed" else (True, True))


def test_the_conclusion_reads_in_english(mid_month):
    mid_month.locale = "en"
    try:
        found, rows, fresh, _ = conclusion.sentences(mid_month)
    finally:
        mid_month.locale = "ja"
    assert found.startswith(f"{len(mid_month.findings)} finding(s) (")
    assert rows.startswith("Rows in 2026-10 (against 2026-09): leads ")
    assert "fell by 30% or more" in rows and "more than 10 days old" in fresh


def test_every_table_of_the_report_has_a_named_index(flawed):
    frames = {
        "counts": quality.row_counts(flawed),
        "activities": quality.activity_counts(flawed),
        "freshness": quality.freshness(flawed),
        "incomplete": quality.incomplete_fields(flawed),
        "missing": quality.missing_fields(flawed),
        "findings": quality.findings_table(flawed),
        "gaps": views.gaps(quality.gaps(flawed)),
        "pairs": views.duplicate_pairs(quality.duplicates(flawed)),
    }
    for name, frame in frames.items():
        assert isinstance(frame, pd.DataFrame), name
        assert not isinstance(frame.index, pd.RangeIndex), name
        assert all(frame.index.names), name
    assert quality.activity_counts(flawed).index[0] == flawed.month


def test_the_pairs_after_the_first_five_go_to_the_appendix(flawed):
    pairs = quality.duplicates(flawed)
    many = pd.concat([pairs] * 12, ignore_index=True)
    assert len(views.duplicate_pairs(many, "ja", limit=5)) == 5
    assert len(views.duplicate_pairs(many, "ja", limit=25, skip=5)) == len(many) - 5
    rest = views.duplicate_pairs(pairs, "ja", limit=25, skip=5)
    assert f"{len(pairs)} 組のほかに候補はありません" in rest.data


def test_the_method_notes_state_the_thresholds_the_checks_use():
    notes = " ".join(conclusion.method_notes("ja"))
    assert f"{month_list.STALE_DAYS} 日より前" in notes
    assert f"{conclusion.DROP_MIN_ROWS} 行以上" in notes
    assert f"{month_list.DUPLICATE_CONFIDENCE:.0%} 以上を指摘" in notes


def test_the_months_findings_are_made_once_per_input_and_read_back_as_they_were(
    handmade_dir, tmp_path, monkeypatch
):
    from maops_utils.contract.load import load_dataset
    from maops_utils.core.months import month_range

    import handmade

    months = month_range(handmade.MONTH, 13)
    first = load_dataset(handmade_dir, cache_dir=tmp_path / "cache")
    made = month_list.kept_month_findings(first, handmade.MONTH, months)
    assert made and made == month_list.month_findings(first, handmade.MONTH, months)

    def counted_again(*args, **kwargs):
        raise AssertionError("the kept list was not read")

    monkeypatch.setattr(month_list, "month_findings", counted_again)
    again = load_dataset(handmade_dir, cache_dir=tmp_path / "cache")
    read = month_list.kept_month_findings(again, handmade.MONTH, months)
    assert read == made and all(isinstance(f, Finding) for f in read)
    assert [finding_words(f, "ja") for f in read] == [finding_words(f, "ja") for f in made]
