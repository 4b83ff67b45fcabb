"""What the month's page and the reports say about what lies ahead, from the tables the reports
write: the quarter's line from pacing.csv, the SLA line from the pipeline's tables, the drift
line from score_drift.csv, and the tables for reading of the score's health and factors."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.core.schema import ALL
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.metrics.stages import load_funnel
from maops_utils.reports import meeting
from maops_utils.reports.kpi import pacing, pacing_charts, pipeline
from maops_utils.reports.scoring import health, health_views

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PARAMS = ROOT / "workspaces" / "sample" / "params"


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(SAMPLE_PARAMS)


def _pacing_row(kpi: str, product: str, period: str, **values) -> dict:
    row = dict.fromkeys(pacing.PACING_CSV_COLUMNS, float("nan"))
    row |= {"kpi": kpi, "product": product, "period": period, "status": "at_risk"}
    row |= {"period_name": "FY2026-Q3" if period == "quarter" else "FY2026"}
    return row | values


def test_the_quarters_line_names_each_kgi_of_the_whole_business(catalogue):
    table = pd.DataFrame(
        [
            _pacing_row("revenue", ALL, "quarter", projection=24_690_000, low80=13_270_000,
                        high80=36_110_000, target=27_000_000),
            _pacing_row("revenue", "A", "quarter", projection=1, low80=0, high80=2, target=3),
            _pacing_row("revenue", ALL, "year", projection=9, low80=8, high80=10, target=10),
            _pacing_row("sqls", ALL, "quarter", projection=48, low80=37, high80=60, target=48),
        ]
    )  # fmt: skip
    line = pacing_charts.quarter_line(table, catalogue, locale="ja", currency="JPY")
    assert line == (
        "2026年度 第3四半期の見込み: 受注金額 2,469万円（80%区間 1,327万円〜3,611万円、"
        "目標 2,700万円、▲ 注意）"
    )
    # a KPI that is not a KGI, a product or the year: not on the page
    assert "SQL" not in line
    assert pacing_charts.quarter_line(table[table["kpi"] == "sqls"], catalogue) is None
    # the quarter's last month: nothing left to project, no line
    ended = table.assign(low80=float("nan"))
    assert pacing_charts.quarter_line(ended, catalogue) is None


def _inventory_tables(past: int, stale: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    waiting = pd.DataFrame(
        [
            {"stage": s, "group_by": "product", "group": g, "bucket": b, "low_days": lo,
             "high_days": hi, "open": n, "past_sla": p}
            for s in ("mql", "sql")
            for g in (ALL, "A")
            for b, lo, hi, n, p in (("0–14", 0, 14, 3, 0), ("15+", 15, float("nan"), 0, 0))
        ]
    )  # fmt: skip
    last = (waiting["stage"] == "mql") & (waiting["bucket"] == "15+")
    waiting.loc[last, ["open", "past_sla"]] = [stale, stale]
    flows = pd.DataFrame(
        [
            {"stage": s, "group_by": "product", "group": g, "past_sla": past if s == "mql" else 0,
             "oldest_days": 40.0, "decided_late": 0, "open_at_end": 3, "sla_days": 14}
            for s in ("mql", "sql")
            for g in (ALL, "A")
        ]
    )  # fmt: skip
    by_channel = flows.assign(group_by="lead_source", past_sla=99)  # never read for the page
    return waiting, pd.concat([flows, by_channel], ignore_index=True)


def test_the_page_gathers_the_three_lines_with_their_evidence(catalogue):
    funnel_def = load_funnel(SAMPLE_PARAMS)  # the sample's SLA: MQL 14 days, SQL 30
    waiting, flows = _inventory_tables(past=5, stale=2)
    pace = pd.DataFrame(
        [_pacing_row("won_deals", ALL, "quarter", projection=13.2, low80=8.9, high80=17.5,
                     target=12, status="on_track")]
    )  # fmt: skip
    drift = pd.DataFrame([{"shift_month": "2026-05", "shift_psi": 0.31, "psi_alert": 0.25}])
    lines = meeting.outlook(
        "2026-10", catalogue=catalogue, locale="ja", currency="JPY", names={"A": "製品A"},
        pacing=pace, waiting=waiting, flows=flows, funnel_def=funnel_def, drift=drift,
    )  # fmt: skip
    assert [o.evidence for o in lines] == [
        meeting.PACING_EVIDENCE,
        meeting.PIPELINE_EVIDENCE,
        meeting.HEALTH_EVIDENCE,
    ]
    assert "受注件数 13.2（80%区間 8.9〜17.5、目標 12、✓ 順調）" in lines[0].text
    # the channels' rows of the same tables are not the whole business's
    assert lines[1].text.startswith("SLA超過: MQL 5件が14日を超えて未対応（うち15+日 2件、")
    assert "2026-05" in lines[2].text and "0.31" in lines[2].text
    calm = drift.assign(shift_month=float("nan"))
    nothing, _ = _inventory_tables(past=0, stale=0)
    quiet = meeting.outlook(
        "2026-10", catalogue=catalogue, locale="ja", currency="JPY", names={},
        waiting=nothing, flows=flows.assign(past_sla=0), funnel_def=funnel_def, drift=calm,
    )  # fmt: skip
    assert quiet == []


def test_a_drift_line_follows_the_auc_when_the_distribution_held():
    row = {
        "shift_month": "",
        "auc_month": "2026-04",
        "auc_high": 0.6,
        "reference_auc": 0.72,
        "auc_drop": 0.05,
    }
    line = health.page_line_of(row, "en")
    assert line and "2026-04" in line
    assert health.page_line_of({"shift_month": "", "auc_month": ""}, "en") is None


def test_pipeline_tables_concatenate_the_groupings_and_skip_what_is_not_there():
    one = pipeline.Inventory(
        "2026-10", "product", pd.Timestamp("2026-11-01"), load_funnel(SAMPLE_PARAMS),
        pd.DataFrame({"x": [1]}), pd.DataFrame({"y": [1]}),
    )  # fmt: skip
    two = pipeline.Inventory(
        "2026-10", "lead_source", pd.Timestamp("2026-11-01"), load_funnel(SAMPLE_PARAMS),
        pd.DataFrame({"x": [2]}), pd.DataFrame({"y": [2]}),
    )  # fmt: skip
    out = pipeline.tables(one, two)
    assert list(out["pipeline"]["x"]) == [1, 2] and list(out["pipeline_flows"]["y"]) == [1, 2]
    missing = pipeline.Inventory(
        "2026-10", "product", pd.Timestamp("2026-11-01"), load_funnel(SAMPLE_PARAMS),
        pd.DataFrame(), pd.DataFrame(), available=False, reason="stage reports",
    )  # fmt: skip
    assert pipeline.tables(missing) == {}


def _factor(name: str, lift: float, reliable: bool, low: float = 0.5, high: float = 2.0) -> dict:
    return {
        "kind": "activity", "factor": name, "attribute": "x", "value": name, "n": 100,
        "n_with": 10, "successes_with": 3, "share_successes": 0.3, "share_failures": 0.1,
        "rate_with": 0.3, "rate_without": 0.1, "lift": lift, "lift_ci_low": low,
        "lift_ci_high": high, "reliable": reliable, "points_current": 5.0,
        "points_proposed": 7.0,
    }  # fmt: skip


def test_the_factor_view_shows_the_factors_the_data_can_judge_first():
    table = pd.DataFrame(
        [
            _factor("tiny", 0.0, False, float("nan"), float("nan")),
            _factor("strong", 3.0, True),
            _factor("weak", 1.1, True),
            _factor("negative", 0.4, True),
        ]
    )
    view = health_views.factor_view(table, list(table["factor"]), "en", most=2)
    assert list(view.index) == ["strong", "negative"]  # by lift, of the two furthest from 1
    assert view.loc["strong", "Lift [95%]"] == "3.00 [0.50–2.00]"
    view = health_views.factor_view(table, list(table["factor"]), "en", most=4)
    assert view.loc["tiny", "Lift [95%]"] == "0.00 ※"


def test_the_health_view_shows_open_months_without_an_auc():
    table = pd.DataFrame(
        [
            {"month": "2026-01", "product": ALL, "n": 100, "source": "recorded", "psi": math.nan,
             "psi_status": "reference", "auc": 0.7, "auc_low": 0.6, "auc_high": 0.8,
             "slope": 1.0, "slope_low": 0.8, "slope_high": 1.2, "events": 20, "closed": True},
            {"month": "2026-02", "product": ALL, "n": 120, "source": "recomputed", "psi": 0.3,
             "psi_status": "alert", "auc": math.nan, "auc_low": math.nan,
             "auc_high": math.nan, "slope": math.nan, "slope_low": math.nan,
             "slope_high": math.nan, "events": math.nan, "closed": False},
        ]
    )  # fmt: skip

    class Stub:
        pass

    h = Stub()
    h.table = table
    view = health_views.health_view(h, "en")
    assert list(view.loc["2026-01"]) == ["100", "recorded", "", "reference", "0.70 [0.60–0.80]",
                                          "1.00 [0.80–1.20]", "20"]  # fmt: skip
    assert view.loc["2026-02", "PSI"] == "0.300" and view.loc["2026-02", "AUC [95%]"] == ""


def test_the_quarters_line_names_the_products_off_track(catalogue):
    table = pd.DataFrame(
        [
            _pacing_row("revenue", ALL, "quarter", projection=24_690_000, low80=13_270_000,
                        high80=36_110_000, target=27_000_000),
            _pacing_row("revenue", "C", "quarter", projection=1_000_000, low80=0,
                        high80=3_000_000, target=7_500_000, status="off_track"),
            _pacing_row("revenue", "A", "quarter", projection=9, low80=8, high80=10,
                        target=9, status="on_track"),
            _pacing_row("revenue", "B", "year", projection=1, low80=0, high80=2, target=9,
                        status="off_track"),
        ]
    )  # fmt: skip
    line = pacing_charts.quarter_line(table, catalogue, names={"C": "ミライガード"})
    assert line.endswith(
        "。商材別では見込みが目標に届かない: ミライガード の受注金額 100万円（目標 750万円）"
    )
    assert "A" not in line.split("。")[-1] and "B" not in line.split("。")[-1]


def test_without_a_paced_kpi_the_outlook_says_how_to_get_one():
    class Review:  # what pacing_sentences reads of a review
        locale = "ja"

    assert pacing_charts.pacing_sentences([], Review()) == [
        "目標のあるKGI（または pace: true の指標）がないため、四半期・年度の見通しは出していません。"
        "params/kpis.yaml に月・四半期・年度の目標を設定すると表示されます。"
    ]
