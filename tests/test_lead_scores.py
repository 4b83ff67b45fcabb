"""Layout C: a CRM lead list with the vendor's lead score and a converted flag, and no dates
(`params/mappings/example_lead_scores.yaml`, fixture `tests/fixtures/exports/lead_scores/`).

Every expectation is counted from the raw CSV in the test itself (the `csv` module, no maops
code), so the import and the scoring calibration are checked against what the file says."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.batch.importing import add_parser, run
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.importers import load_mapping

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "tests" / "fixtures" / "exports" / "lead_scores"
MAPPING = ROOT / "params" / "mappings" / "example_lead_scores.yaml"
SCORE, INDEX = "Asymmetrique Activity Score", "Asymmetrique Activity Index"


def raw_rows() -> list[dict[str, str]]:
    """The export as the file holds it; `Select` and empty cells are missing."""
    with (EXPORT / "Leads.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: (None if v in ("", "Select") else v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """The fixture imported with `maops import`, as a user runs it."""
    out = tmp_path_factory.mktemp("lead_scores") / "dataset"
    parser = argparse.ArgumentParser(prog="maops")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["import", "leadscores", "--src", str(EXPORT), "--out", str(out), "--mapping", str(MAPPING)]
    )
    assert run(args) == 0
    return out


def test_the_fixture_is_the_layout_it_stands_for():
    data = (EXPORT / "Leads.csv").read_bytes()
    assert data.count(b"\r\n") == 201 and data.count(b"\n") == 201  # CRLF only
    rows = raw_rows()
    assert len(rows) == 200
    scores = {int(r[SCORE]) for r in rows if r[SCORE]}
    assert min(scores) == 7 and max(scores) == 18
    assert {r[INDEX] for r in rows if r[INDEX]} == {"01.High", "02.Medium", "03.Low"}
    assert {r["Converted"] for r in rows} == {"0", "1"}


def test_the_lead_list_imports_with_its_scores_and_conversions_and_no_invented_dates(imported):
    rows = raw_rows()
    ds = load_dataset(imported)
    leads = ds["leads"].set_index("lead_id")
    assert len(leads) == 200 and leads["created_at"].isna().all()
    sources = {r["Prospect ID"]: r["Lead Source"] for r in rows}
    want = {
        "Organic Search": "organic", "Direct Traffic": "organic", "Referral Sites": "referral",
        "Reference": "referral", "google": "Google", None: "unknown",
    }  # fmt: skip
    for lead, source in sources.items():
        assert leads.at[lead, "lead_source"] == want.get(source, source), lead

    # one score row per scored lead, as the file has it, with no time: a snapshot
    scored = {r["Prospect ID"]: (float(r[SCORE]), r[INDEX]) for r in rows if r[SCORE]}
    scores = ds["scores"]
    assert scores["scored_at"].isna().all()
    assert dict(zip(scores["lead_id"], zip(scores["score"], scores["rating"], strict=True),
                    strict=True)) == scored  # fmt: skip

    # one undated won opportunity per converted lead
    opps = ds["opportunities"]
    assert sorted(opps["lead_id"]) == sorted(
        r["Prospect ID"] for r in rows if r["Converted"] == "1"
    )
    assert set(opps["status"]) == {"won"}
    assert opps["created_at"].isna().all() and opps["closed_at"].isna().all()
    assert ds["stage_changes"].empty and ds["activities"].empty

    findings = " ".join(f.message for f in ds.findings)
    assert "are read as a snapshot" in findings and "count in no month" in findings


def test_no_junk_code_or_form_default_is_written(imported):
    for path in sorted(imported.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for column in frame.columns:
            junk = frame[column].isin(["nan", "NaN", "None", "NaT", "__maops_skip__", "Select"])
            assert not junk.any(), (path.name, column, frame.loc[junk, column].head().tolist())


def test_only_a_date_may_be_declared_missing_from_an_export(tmp_path):
    text = MAPPING.read_text(encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    assert load_mapping("x", MAPPING)  # the shipped file declares only dates missing
    mapping.write_text(
        text.replace("      score: Asymmetrique Activity Score", "      score: ~"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"tables\.scores\.columns\.score: `~`.*for dates only"):
        load_mapping("x", mapping)
    mapping.write_text(
        text.replace("      score: Asymmetrique Activity Score\n", ""), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"tables\.scores\.columns: score not mapped"):
        load_mapping("x", mapping)


# ----------------------------------------------------------------------------- the calibration


@pytest.fixture(scope="module")
def study(imported):
    """The calibration the scoring report makes of the import, with the shipped settings (an
    MQL threshold of 60, outcome sql) and the month the export was taken in."""
    from maops_utils.reports import scoring

    return scoring.run(load_dataset(imported), scoring.load_config(ROOT / "params"), "2026-01")


def _scored() -> list[tuple[float, int]]:
    """(score, converted) of every lead the export scores, from the raw CSV."""
    return [(float(r[SCORE]), int(r["Converted"])) for r in raw_rows() if r[SCORE]]


def test_the_snapshot_is_judged_against_conversion_as_its_own_scale_demands(study):
    from sklearn.metrics import roc_auc_score

    from maops_utils.reports import scoring

    scored = _scored()
    assert study.snapshot and study.outcome == "won"  # no SQL stage: the furthest one
    notes = dict(study.notes)
    assert notes["note_outcome_fallback"] == {"configured": "sql", "used": "won"}
    assert notes["note_threshold_out_of_scale"] == {"threshold": 60.0, "low": 7.0, "high": 18.0}
    assert study.threshold is None and study.bands == (6, 8, 10, 12, 14, 16, 18)

    metrics = scoring.metrics_table(study).set_index(["model", "product"])
    y, s = [c for _, c in scored], [v for v, _ in scored]
    assert metrics.at[("current", "ALL"), "auc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert metrics.at[("current", "ALL"), "n"] == len(scored)
    assert metrics.at[("current", "ALL"), "events"] == sum(y)
    low, high = (
        metrics.at[("current", "ALL"), "auc_ci_low"],
        metrics.at[("current", "ALL"), "auc_ci_high"],
    )
    assert low < roc_auc_score(y, s) < high

    bands = scoring.band_table(study)
    got = bands[(bands["kind"] == "band") & (bands["product"] == "ALL")].set_index("band")
    edges = [6, 8, 10, 12, 14, 16, 18]
    labels = ["6–7", "8–9", "10–11", "12–13", "14–15", "16–17", "18+"]
    assert list(got.index) == labels
    for i, label in enumerate(labels):
        top = edges[i + 1] if i + 1 < len(edges) else float("inf")
        inside = [c for v, c in scored if edges[i] <= v < top]
        _check_rate(got.loc[label], len(inside), sum(inside))

    index = {r["Prospect ID"]: r[INDEX] for r in raw_rows() if r[SCORE]}
    converted = {r["Prospect ID"]: int(r["Converted"]) for r in raw_rows()}
    ratings = bands[(bands["kind"] == "rating") & (bands["product"] == "ALL")].set_index("band")
    for cell in ("01.High", "02.Medium", "03.Low"):
        leads = [lead for lead, i in index.items() if i == cell]
        _check_rate(ratings.loc[cell], len(leads), sum(converted[lead] for lead in leads))


def _check_rate(row, n: int, events: int) -> None:
    from scipy.stats import binomtest

    assert (row["n"], row["events"]) == (n, events)
    assert row["rate"] == pytest.approx(events / n, abs=1e-12)
    ci = binomtest(events, n).proportion_ci(method="wilson")
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), abs=1e-9)


def test_the_threshold_curve_steps_through_the_whole_scores(study):
    scored = _scored()
    table = study.threshold_table
    current = table[(table["model"] == "current") & (table["product"] == "ALL")]
    assert set(current["threshold"]) == set(range(7, 19))  # whole steps, nothing between
    assert not current["current"].any()  # 60 is not on this scale
    for row in current.itertuples():
        handed = [c for v, c in scored if v >= row.threshold]
        assert (row.mqls, row.successes) == (len(handed), sum(handed))
    # a snapshot spans no time: nothing per month, and capacity recommends nothing
    assert current["mqls_per_month"].isna().all() and not current["recommended"].any()


def test_the_written_tables_hold_no_junk_and_invent_no_time(study, tmp_path):
    from maops_utils.core import io
    from maops_utils.reports import scoring

    io.write_tables(tmp_path, scoring.tables(study))
    for path in sorted(tmp_path.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for column in frame.columns:
            junk = frame[column].isin(["nan", "NaN", "None", "NaT", "__maops_skip__"])
            assert not junk.any(), (path.name, column)
    scores = pd.read_csv(tmp_path / "lead_scores.csv", dtype=str, keep_default_na=False)
    assert len(scores) == len(_scored()) and (scores["scored_at"] == "").all()


def test_a_list_dated_nowhere_is_reported_for_the_month_given_and_no_other(imported):
    from maops_utils.reports.kpi.review import resolve_month

    ds = load_dataset(imported)
    now = pd.Timestamp("2026-02-15 09:00")
    assert resolve_month(ds, "2026-01", now) == "2026-01"
    with pytest.raises(ConfigError, match="no dated rows at all.*give the month"):
        resolve_month(ds, "", now)
    with pytest.raises(ConfigError, match="has not started yet"):
        resolve_month(ds, "2026-03", now)


def test_the_kpi_review_of_a_list_dated_nowhere_says_so_and_counts_no_month(imported):
    from maops_utils.metrics.catalogue import load_catalogue
    from maops_utils.reports import views
    from maops_utils.reports.kpi import review

    ds = load_dataset(imported)
    assert all(pd.isna(v) for v in review.data_period(ds))
    rv = review.review(ds, load_catalogue(ROOT / "params"), "2026-01", trend_months=2, locale="en")
    table = review.metrics_table(rv)
    counts = table[(table["product"] == "ALL") & table["metric"].isin(["new_leads", "won_deals"])]
    assert (counts["value"] == 0).all()  # nothing is dated: nothing counts in the month
    assert "no dated row" in views.summary(rv).data
    rv_ja = review.review(
        ds, load_catalogue(ROOT / "params"), "2026-01", trend_months=2, locale="ja"
    )
    assert "日付のある行がありません" in views.summary(rv_ja).data
