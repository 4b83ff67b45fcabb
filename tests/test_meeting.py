"""The month's one page and the one model of what to do next: every product's verdict and
action comes from the scoring report's table, every KPI gap names its cause, and the month's
page, the scoring report and the product comparison say the same about the same product."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import ROOT, SAMPLE_PARAMS, maops

from maops_utils.core.i18n import format_change, t
from maops_utils.core.schema import ALL
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.reports import actions
from maops_utils.reports.scoring.tables import VERDICT_COLUMNS

MONTH = "2026-10"


def _verdict_row(product: str, flag: str, current: float = 60, recommended: float = 60) -> dict:
    return {
        "product": product,
        "n": 300,
        "events": 60,
        "observed": 0.2,
        "expected": 0.27,
        "ratio": 0.74,
        "ratio_ci_low": 0.6,
        "ratio_ci_high": 0.9,
        "flag": flag,
        "current_threshold": current,
        "recommended": recommended,
        "current_mqls_per_month": 20.0,
        "mqls_per_month": 8.0,
        "current_precision": 0.2,
        "precision": 0.3,
        "current_sqls_per_month": 4.0,
        "sqls_per_month": 2.4,
        "first_month": "2025-01",
        "last_month": "2025-12",
        "threshold_first_month": "2025-04",
        "threshold_last_month": "2025-12",
    }


def test_each_verdict_calls_for_its_action_and_the_whole_is_no_product():
    table = pd.DataFrame(
        [
            _verdict_row("A", "over", recommended=70),
            _verdict_row("B", "over", recommended=60),  # no higher threshold helps
            _verdict_row("C", "under"),
            _verdict_row("D", "ok"),
            _verdict_row(ALL, ""),
        ],
        columns=VERDICT_COLUMNS,
    )
    got = {v.product: (v.verdict, v.action) for v in actions.product_verdicts(table)}
    assert got == {
        "A": ("over_scored", "raise_threshold"),
        "B": ("over_scored", "own_rules"),
        "C": ("under_scored", "prioritise"),
        "D": ("fits", "keep"),
    }


def test_an_action_quotes_its_numbers_and_their_window_in_both_languages():
    v = actions.product_verdicts(pd.DataFrame([_verdict_row("A", "over", recommended=70)]))[0]
    ja, en = v.sentence("ja", "会計"), v.sentence("en", "Accounting")
    for text in (ja, en):
        assert "60" in text and "70" in text and "20.0 → 8.0" in text and "2025-04" in text
    assert ja.startswith("会計 の") and "Accounting" in en
    assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", en)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(SAMPLE_PARAMS)


def _metrics(rows: list[tuple]) -> pd.DataFrame:
    cols = ["month", "product", "metric", "value", "target", "attainment", "previous", "status"]
    return pd.DataFrame(rows, columns=cols)


def test_a_gap_names_the_product_furthest_behind_its_own_target(catalogue):
    metrics = _metrics(
        [
            (MONTH, ALL, "mqls", 50, 60, 50 / 60, 55, "off_track"),
            (MONTH, "A", "mqls", 30, 30, 1.0, 28, "on_track"),
            (MONTH, "B", "mqls", 12, 20, 0.6, 20, "off_track"),
            (MONTH, "C", "mqls", 8, 10, 0.8, 7, "at_risk"),
            (MONTH, ALL, "new_leads", 300, 250, 1.2, 280, "on_track"),
        ]
    )
    gaps = actions.kpi_gaps(metrics, catalogue, MONTH, locale="en", currency="JPY")
    assert [g.metric for g in gaps] == ["mqls"]  # a KPI on track is no gap
    assert gaps[0].product == "B" and "B (12, 60% of its target 20)" in gaps[0].cause


def test_without_product_targets_the_cause_is_the_largest_fall(catalogue):
    metrics = _metrics(
        [
            (MONTH, ALL, "mqls", 50, 60, 50 / 60, 55, "off_track"),
            (MONTH, "A", "mqls", 30, None, None, 26, ""),
            (MONTH, "B", "mqls", 20, None, None, 29, ""),
        ]
    )
    gap = actions.kpi_gaps(metrics, catalogue, MONTH, locale="en", currency="JPY")[0]
    assert gap.product == "B" and "(29 → 20)" in gap.cause


def test_a_change_reads_rates_in_points_and_never_writes_minus_zero():
    assert format_change(0.310, 0.214, is_rate=True) == "+9.6pt"
    assert format_change(0.2140, 0.2141, is_rate=True) == "±0.0pt"
    assert format_change(100, 100.2, is_rate=False) == "±0%"
    assert format_change(90, 100, is_rate=False) == "−10%"
    assert format_change(5, 0, is_rate=False) == "" and format_change(None, 3, False) == ""


# ------------------------------------------------------------------ the sample month


@pytest.fixture(scope="module")
def sample_month(tmp_path_factory):
    out = tmp_path_factory.mktemp("meeting") / "reports"
    proc = maops("run", "--params", SAMPLE_PARAMS, "--out", out, "--month", MONTH, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    return out / MONTH


def _text(path) -> str:
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.slow
def test_the_three_reports_and_the_page_agree_on_every_product(sample_month):
    table = pd.read_csv(sample_month / "scoring_products.csv", encoding="utf-8-sig")
    verdicts = actions.product_verdicts(table)
    names = {"A": "ミライ会計クラウド", "B": "ミライ人事クラウド", "C": "ミライガード"}
    # the sample's planted truth: C's MQLs rarely become SQL, A's and B's more than expected
    assert {v.product: v.verdict for v in verdicts} == {
        "A": "under_scored",
        "B": "under_scored",
        "C": "over_scored",
    }
    page = _text(sample_month / "index.html")
    scoring = _text(sample_month / "02_scoring_calibration.html")
    comparison = _text(sample_month / "03_product_comparison.html")
    conclusion = comparison.split("検定の詳細は付録にあります。")[1].split("商材別ファネル")[0]
    for v in verdicts:
        sentence = v.sentence("ja", names[v.product])
        assert (sentence in page) == (v.action != "keep")
        assert sentence in scoring
        short = t(f"act_short_{v.action}", "ja", **actions.fields(v.row, names[v.product]))
        row = re.search(rf"{names[v.product]} (\S+) (.+?) 成果率", conclusion)
        assert row and row.group(1) == v.verdict_text("ja") and row.group(2) == short
    # the comparison's own advice ("共通のままでよい") no longer stands beside the verdicts
    assert "共通のまま" not in conclusion


@pytest.mark.slow
def test_the_page_shows_the_months_figures_as_metrics_csv_has_them(sample_month):
    metrics = pd.read_csv(sample_month / "metrics.csv", encoding="utf-8-sig")
    whole = metrics[(metrics["month"] == MONTH) & (metrics["product"] == ALL)].set_index("metric")
    page = (sample_month / "index.html").read_text(encoding="utf-8")
    assert page.count('class="mp-card"') == 8  # the sample's KGIs and trend KPIs
    assert f"¥{whole.at['revenue', 'value']:,.0f}" in page
    assert f'{whole.at["won_deals", "value"]:.0f} <span class="mp-status">順調' in page
    # names, not codes; every link is a file the run wrote, or the index of all months
    assert "ミライガード" in page
    for href in re.findall(r'href="([^"]+)"', page):
        target = href.split("#")[0]
        assert target == "../index.html" or (sample_month / target).is_file(), href


@pytest.fixture(scope="module")
def sample_rv():
    from maops_utils.batch import config
    from maops_utils.reports.kpi import review

    settings = config.load_settings(
        SAMPLE_PARAMS, {"data_dir": SAMPLE_PARAMS.parents[2] / "data" / "sample"}
    )
    return review.load_review(settings, as_of=pd.Timestamp("2026-11-15 09:00"))


def test_the_scorecard_reads_without_cell_by_cell_work(sample_rv):
    from maops_utils.reports import views
    from maops_utils.reports.kpi import review

    shown = views.scorecard(sample_rv)
    raw = review.scorecard(sample_rv).set_index("label")
    for label, r in raw.iterrows():
        kpi = sample_rv.catalogue[r["metric"]]
        row = shown.loc[label]
        if kpi.is_rate and pd.notna(r["previous"]):  # a rate's change in points
            points = round((r["value"] - r["previous"]) * 100, 1)
            assert (
                row["前月比"].endswith("pt")
                and float(row["前月比"][:-2].replace("−", "-").replace("±", "")) == points
            )
        if pd.notna(r["target"]) and not kpi.higher_is_better:
            assert row["目標"].startswith("≤ ")
        if r["status"]:
            assert row["状態"][0] in "✓▲✕"
        assert (row["前月"] != "") == pd.notna(r["previous"])  # last month's value beside it
    assert not shown.isin(["-0%", "+0%", "-0.0pt"]).any().any()
    assert shown.loc["配信停止率", "目標"].startswith("≤")  # the sample's lower-is-better KPI


@pytest.mark.slow
def test_the_page_says_the_quarters_outlook_and_the_leads_past_their_sla(sample_month):
    page = _text(sample_month / "index.html")
    outlook = page.split("見通しと注意")[1].split("目標との差が大きい指標")[0]
    pacing = pd.read_csv(sample_month / "pacing.csv", encoding="utf-8-sig", dtype={"product": str})
    quarter = pacing[(pacing["product"] == ALL) & (pacing["period"] == "quarter")]
    revenue = quarter.set_index("kpi").loc["revenue"]
    # the sample's fiscal year starts in April: 2026-10 is the first month of FY2026-Q3
    assert revenue["period_name"] == "FY2026-Q3" and revenue["months_elapsed"] == 1
    amount = f"{revenue['projection'] / 10_000:,.0f}万円"
    assert "2026年度 第3四半期の見込み: " in outlook and f"受注金額 {amount}" in outlook
    # leads past the MQL SLA at the month's end, counted here from the stage changes alone
    stages = pd.read_csv(ROOT / "data" / "sample" / "stage_changes.csv", parse_dates=["changed_at"])
    opps = pd.read_csv(ROOT / "data" / "sample" / "opportunities.csv", parse_dates=["created_at"])
    end = pd.Timestamp("2026-11-01")
    events = pd.concat(
        [
            stages[stages["changed_at"] < end].rename(columns={"changed_at": "at"}),
            opps[opps["lead_id"].notna() & (opps["created_at"] < end)]
            .rename(columns={"created_at": "at"})
            .assign(stage="opportunity")[["lead_id", "stage", "at"]],
        ]
    )
    order = {"mql": 0, "sql": 1, "opportunity": 2}
    events["rank"] = events["stage"].map(order)
    last = events.sort_values(["at", "rank"]).groupby("lead_id").tail(1)
    mql = last[last["stage"] == "mql"]
    late = int(((end - mql["at"]).dt.days > 14).sum())
    assert f"SLA超過: MQL {late:,}件が14日を超えて未対応" in outlook
