"""Product comparison: statistics, definitions on a handmade dataset, sentences, and the
simulations behind "names a truly different product, claims nothing on identical ones"."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from maops_utils.contract.dataset import Dataset
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.reports import compare
from maops_utils.reports.compare import charts

# ---------------------------------------------------------------- statistics


def test_holm_adjusts_step_down_and_skips_untested():
    p = [0.01, 0.04, float("nan"), 0.03, 0.005]
    # sorted 0.005, 0.01, 0.03, 0.04 with m = 4: 0.02, 0.03, 0.06, max(0.06, 0.04) = 0.06
    out = compare.holm(p)
    assert out[4] == pytest.approx(0.02)
    assert out[0] == pytest.approx(0.03)
    assert out[3] == pytest.approx(0.06)
    assert out[1] == pytest.approx(0.06)
    assert math.isnan(out[2])
    assert compare.holm([0.6, 0.9]).tolist() == [1.0, 1.0]


def test_newcombe_interval_matches_the_paper():
    # Newcombe (1998), example (a): 56/70 − 48/80 = 0.2, method 10 gives 0.0524 to 0.3339
    low, high = compare.newcombe_interval(56, 70, 48, 80)
    assert low == pytest.approx(0.0524, abs=5e-4)
    assert high == pytest.approx(0.3339, abs=5e-4)
    assert all(math.isnan(x) for x in compare.newcombe_interval(1, 0, 3, 10))


def test_fisher_matches_the_tea_tasting_table():
    assert compare.fisher_p(3, 4, 1, 4) == pytest.approx(0.4857, abs=1e-4)


def _rates(rows: dict[str, dict[str, tuple[int, int]]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"product": p, "metric": m, "successes": float(k), "n": float(n)}
            for p, metrics in rows.items()
            for m, (k, n) in metrics.items()
        ]
    )


def test_compare_rates_pools_the_rest_and_names_the_direction():
    rates = _rates(
        {
            "A": {"mql_to_sql": (40, 100)},
            "B": {"mql_to_sql": (42, 100)},
            "C": {"mql_to_sql": (5, 100)},
        }
    )
    out = compare.compare_rates(rates, ["A", "B", "C"]).set_index("product")
    c = out.loc["C"]
    assert c["compared_with"] == "rest"
    assert c["compared_successes"] == 82 and c["compared_n"] == 200
    assert c["difference"] == pytest.approx(0.05 - 0.41)
    assert c["difference_ci_low"] < c["difference"] < c["difference_ci_high"] < 0
    assert c["verdict"] == "lower"
    # the family is the three tests: C's adjusted p is its raw p times 3
    assert c["p_adjusted"] == pytest.approx(min(1, 3 * c["p_value"]))
    assert set(out["verdict"]) <= {"higher", "lower", "no_difference"}


def test_compare_rates_against_a_named_product_and_too_few():
    rates = _rates(
        {
            "A": {"win_rate": (30, 100), "lead_to_mql": (20, 200)},
            "B": {"win_rate": (31, 100), "lead_to_mql": (25, 200)},
            "C": {"win_rate": (3, 20), "lead_to_mql": (60, 200)},
        }
    )
    out = compare.compare_rates(rates, ["A", "B", "C"], baseline="A", min_n=30)
    out = out.set_index(["product", "metric"])
    assert out.loc[("A", "win_rate"), "verdict"] == "baseline"
    assert out.loc[("A", "win_rate"), "compared_with"] == ""
    assert out.loc[("B", "win_rate"), "compared_with"] == "A"
    assert out.loc[("B", "win_rate"), "verdict"] == "no_difference"
    # 20 closed deals are below min_n: not tested, not in the family
    assert out.loc[("C", "win_rate"), "verdict"] == "too_few"
    assert math.isnan(out.loc[("C", "win_rate"), "p_value"])
    assert out.loc[("C", "lead_to_mql"), "verdict"] == "higher"
    tested = out["p_value"].notna()
    assert tested.sum() == 3  # B win, B lead, C lead
    p = out.loc[("C", "lead_to_mql"), "p_value"]
    assert out.loc[("C", "lead_to_mql"), "p_adjusted"] == pytest.approx(min(1, 3 * p))


def test_parameters_are_checked_with_helpful_messages():
    assert compare.parse_products("", ["A", "B"]) == ["A", "B"]
    assert compare.parse_products(" C, A ", ["A", "B", "C"]) == ["A", "C"]
    with pytest.raises(ConfigError, match="no product 'D'.*products: A, B"):
        compare.parse_products("A,D", ["A", "B"])
    with pytest.raises(ConfigError, match="baseline: 'X'"):
        compare.check_baseline("X", ["A", "B"])
    assert compare.check_baseline("", ["A"]) == "rest"
    with pytest.raises(ConfigError, match="alpha"):
        compare.compare_rates(_rates({"A": {"win_rate": (1, 2)}}), ["A"], alpha=1.5)
    with pytest.raises(ConfigError, match="comparison_months"):
        compare.comparison_window("2026-10", 0)
    with pytest.raises(ConfigError, match="window_days"):
        compare.comparison_window("2026-10", 12, 0)


# ---------------------------------------------------------------- definitions, worked by hand
# Report month 2026-03, window of 3 months (2026-01 .. 2026-03), N = 30 days; the cut-off is
# 2026-04-01 00:00, the last MQL with N days left is 2026-03-02 00:00, and the mature cohort
# months (end + 30 d <= cut-off) are 2026-01 (02-01 + 30 = 03-03) and 2026-02 (03-01 + 30 =
# 03-31); 2026-03 is too young.
#
#   A1 A 2026-01-10  mql 01-20 (10 d), sql 01-25 (5 d after)   cohort: reached; mql_to_sql: hit
#   A2 A 2026-01-15  mql 02-20 (36 d), sql 03-30 (38 d after)  cohort: miss; mql_to_sql: miss
#   A3 A 2026-02-05  mql 02-06, recycled mql 03-20; sql 02-01 (before the MQL)
#                                                               cohort: reached; mql_to_sql: hit
#   A4 A 2026-03-05  mql 03-06 (after 03-02: no N days left)   cohort: too young; not an MQL row
#   A5 A 2025-12-01  mql 2026-01-05, sql 2026-04-01 (at the cut-off: not counted)
#                                                               cohort: before; mql_to_sql: miss
#   B1 B 2026-02-28  mql 2026-03-02 00:00 (last moment with N days) sql 2026-04-01 00:00
#                                                               cohort: reached; mql_to_sql: miss
#   B2 B 2026-01-31  no stage                                   cohort: miss
#   B3 B 2026-02-10  mql 2026-03-12 00:00:01 (30 d + 1 s)       cohort: miss (also too late)
# Win rate (closed in the window, the opportunity's product): A: won 01-20, lost 02-10, won
# 2025-12-30 (before), lost 2026-04-02 (after); B: won 03-31 23:59, open; D (no lead): lost 02-01.

LEADS = """lead_id,created_at,product,lead_source
A1,2026-01-10 00:00:00,A,webinar
A2,2026-01-15 00:00:00,A,web_ad
A3,2026-02-05 00:00:00,A,web_ad
A4,2026-03-05 00:00:00,A,organic
A5,2025-12-01 00:00:00,A,organic
B1,2026-02-28 00:00:00,B,webinar
B2,2026-01-31 00:00:00,B,
B3,2026-02-10 00:00:00,B,web_ad
"""
STAGES = """lead_id,stage,changed_at
A1,mql,2026-01-20 00:00:00
A1,sql,2026-01-25 00:00:00
A2,mql,2026-02-20 00:00:00
A2,sql,2026-03-30 00:00:00
A3,mql,2026-02-06 00:00:00
A3,mql,2026-03-20 00:00:00
A3,sql,2026-02-01 00:00:00
A4,mql,2026-03-06 00:00:00
A5,mql,2026-01-05 00:00:00
A5,sql,2026-04-01 00:00:00
B1,mql,2026-03-02 00:00:00
B1,sql,2026-04-01 00:00:00
B3,mql,2026-03-12 00:00:01
"""
OPPS = """opportunity_id,lead_id,product,created_at,status,closed_at,amount
O1,A1,A,2026-01-12,won,2026-01-20,1000000
O2,A3,A,2026-02-02,lost,2026-02-10,500000
O3,A5,A,2025-12-01,won,2025-12-30,700000
O4,A1,A,2026-03-01,lost,2026-04-02,300000
O5,B1,B,2026-03-10,won,2026-03-31 23:59:00,900000
O6,B1,B,2026-03-10,open,,400000
O7,,D,2026-01-05,lost,2026-02-01,100000
"""
ACTIVITIES = """lead_id,activity_type,occurred_at,campaign_id,asset_name,category
A1,form_submit,2026-01-10 00:00:00,W1,申込,registration
A2,form_submit,2026-01-15 00:00:30,AD1,資料,download
A2,webinar_attend,2026-01-20 00:00:00,W1,,
A3,form_submit,2026-02-05 00:00:00,AD1,資料,download
A3,email_click,2026-02-05 00:00:00,EM1,,
B3,form_submit,2026-02-10 00:00:00,AD2,資料,download
B1,webinar_attend,2026-02-28 00:00:00,W1,,
"""
CAMPAIGNS = """campaign_id,name,product,channel,start_date,end_date,cost
W1,<b>ウェビナー</b> $x$,A,webinar,2026-01-10,2026-01-10,300000
AD1,広告A,A,web_ad,2026-01-01,2026-01-31,62000
AD2,広告B,B,web_ad,2026-02-01,2026-02-28,28000
EM1,メール,,email,2026-02-05,2026-02-05,50000
"""


@pytest.fixture(scope="module")
def handmade(tmp_path_factory) -> Dataset:
    folder = tmp_path_factory.mktemp("compare")
    for name, text in (
        ("leads", LEADS),
        ("stage_changes", STAGES),
        ("opportunities", OPPS),
        ("activities", ACTIVITIES),
        ("campaigns", CAMPAIGNS),
    ):
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return load_dataset(folder, as_of=pd.Timestamp("2026-06-01"))


@pytest.fixture(scope="module")
def small(handmade) -> compare.ProductComparison:
    return compare.compare_products(
        handmade, "2026-03", months=3, window_days=30, min_n=1, min_ready=2, locale="en"
    )


def _rate(cmp: compare.ProductComparison, product: str, metric: str) -> tuple[float, float]:
    row = cmp.rates[(cmp.rates["product"] == product) & (cmp.rates["metric"] == metric)]
    return float(row["successes"].iloc[0]), float(row["n"].iloc[0])


def test_window_and_maturity(small):
    w = small.window
    assert w.months == ("2026-01", "2026-02", "2026-03")
    assert w.mature_months == ("2026-01", "2026-02")
    assert w.last_mql == pd.Timestamp("2026-03-02 00:00")
    assert small.products == ["A", "B", "D"]


def test_lead_to_mql_counts_mature_cohorts_within_n_days(small):
    assert _rate(small, "A", "lead_to_mql") == (2, 3)  # A1, A3 of A1, A2, A3
    assert _rate(small, "B", "lead_to_mql") == (1, 3)  # B1 of B1, B2, B3
    assert _rate(small, "D", "lead_to_mql") == (0, 0)


def test_mql_to_sql_needs_n_days_left_and_counts_before_the_cut_off(small):
    # A: A1 (hit), A2 (38 d: miss), A3 (SQL before MQL: hit), A5 (SQL at the cut-off: miss)
    assert _rate(small, "A", "mql_to_sql") == (2, 4)
    # B: B1 (MQL exactly at the last moment; SQL at the cut-off: miss); B3 too late
    assert _rate(small, "B", "mql_to_sql") == (0, 1)


def test_win_rate_counts_closes_in_the_window_by_the_deals_product(small):
    assert _rate(small, "A", "win_rate") == (1, 2)
    assert _rate(small, "B", "win_rate") == (1, 1)
    assert _rate(small, "D", "win_rate") == (0, 1)


def test_counts_are_the_core_metrics_over_the_window(small):
    c = small.counts.set_index(["product", "metric"])["value"]
    assert (c[("A", "new_leads")], c[("B", "new_leads")], c[("D", "new_leads")]) == (4, 3, 0)
    assert (c[("A", "mqls")], c[("B", "mqls")]) == (5, 2)  # first entries in Jan..Mar
    assert (c[("A", "sqls")], c[("B", "sqls")]) == (3, 0)  # 04-01 00:00 is after the window
    assert (c[("A", "opportunities")], c[("B", "opportunities")], c[("D", "opportunities")]) == (
        3,
        2,
        1,
    )
    assert (c[("A", "won_deals")], c[("A", "revenue")]) == (1, 1_000_000)
    assert (c[("B", "won_deals")], c[("B", "revenue")]) == (1, 900_000)


def test_comparison_table_has_tested_and_described_rows(small):
    table = compare.comparison_table(small)
    assert list(table.columns) == compare.COMPARISON_COLUMNS
    assert len(table) == 3 * 3 + 3 * 10
    assert set(table["month"]) == {"2026-03"}
    tested = table[table["metric"].isin(compare.TESTED)]
    assert set(tested["verdict"]) <= set(compare.VERDICTS)
    described = table[~table["metric"].isin(compare.TESTED)].set_index(["product", "metric"])
    assert (described["verdict"] == "").all()
    assert described.loc[("A", "mql_share"), "value"] == pytest.approx(5 / 7)
    assert described.loc[("A", "mql_share"), "n"] == 7
    assert described.loc[("B", "revenue_share"), "value"] == pytest.approx(0.9 / 1.9)


def test_product_channels_follow_the_source_and_the_products_own_campaigns(small):
    ch = compare.product_channels(small).set_index(["product", "channel"])
    assert list(compare.product_channels(small).columns) == compare.CHANNEL_COLUMNS
    web = ch.loc[("A", "web_ad")]
    assert (web["new_leads"], web["mqls"], web["cohort_leads"], web["cohort_mqls"]) == (2, 2, 2, 1)
    assert web["lead_to_mql"] == pytest.approx(0.5)
    assert web["cost"] == pytest.approx(62_000)
    assert web["cost_per_lead"] == pytest.approx(31_000)
    assert web["cost_per_mql"] == pytest.approx(31_000)
    assert ch.loc[("A", "webinar"), "cost_per_mql"] == pytest.approx(300_000)
    organic = ch.loc[("A", "organic")]  # A4 is too young; A5 was created before the window
    assert (organic["new_leads"], organic["mqls"], organic["cohort_leads"]) == (1, 2, 0)
    assert math.isnan(organic["lead_to_mql"]) and math.isnan(organic["cost_per_mql"])
    # the webinar W1 is product A's: B's webinar lead carries no cost
    assert math.isnan(ch.loc[("B", "webinar"), "cost"])
    assert ch.loc[("B", "web_ad"), "cost_per_mql"] == pytest.approx(28_000)
    assert ch.loc[("B", "unknown"), "cohort_leads"] == 1
    assert "D" not in ch.index.get_level_values("product")


def test_product_campaigns_attribute_the_acquisition_touch(small):
    ca = compare.product_campaigns(small).set_index(["campaign_id", "product"])
    assert ca.loc[("AD1", "A"), "new_leads"] == 2  # A2's download 30 s after creation counts
    assert ca.loc[("W1", "A"), "new_leads"] == 1  # A2's later webinar is not acquisition
    assert ca.loc[("W1", "B"), "new_leads"] == 1
    assert ca.loc[("W1", "A"), "cost_per_mql"] == pytest.approx(300_000)
    assert math.isnan(ca.loc[("W1", "B"), "cost"])  # a campaign's cost stays with its product
    assert ca.loc[("W1", "A"), "name"] == "<b>ウェビナー</b> $x$"
    assert "EM1" not in ca.index.get_level_values("campaign_id")  # e-mail is not acquisition


def test_lead_counts_agree_with_the_cohort_view_on_the_sample(sample_cmp):
    mine = compare.lead_counts(sample_cmp.dataset, sample_cmp.window).set_index("product")
    rates = sample_cmp.rates[sample_cmp.rates["metric"] == "lead_to_mql"].set_index("product")
    for p in sample_cmp.products:
        assert mine.at[p, "cohort_leads"] == rates.at[p, "n"]
        assert mine.at[p, "cohort_mqls"] == rates.at[p, "successes"]
    counts = sample_cmp.counts.set_index(["product", "metric"])["value"]
    for p in sample_cmp.products:
        assert mine.at[p, "new_leads"] == counts[(p, "new_leads")]
        assert mine.at[p, "mqls"] == counts[(p, "mqls")]


@pytest.mark.parametrize("dims", [("product",), ("product", "channel"), ("product", "campaign_id")])
def test_counts_summed_from_the_grid_are_the_query_s_own(sample_cmp, dims):
    """The channel and campaign tables sum one query's grid (product, channel, campaign):
    each grouping must equal the query run for it, empty channels and campaigns included."""
    direct = compare.lead_counts(sample_cmp.dataset, sample_cmp.window, dims)
    summed = compare.regroup_counts(sample_cmp.lead_grid, dims)
    assert len(summed) >= len(sample_cmp.products)
    if "campaign_id" in dims:  # leads with no acquisition campaign are a group
        assert summed["campaign_id"].isna().any()
    direct = direct.sort_values(list(dims), na_position="last").reset_index(drop=True)
    pd.testing.assert_frame_equal(summed, direct[summed.columns], check_dtype=False)


# ---------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_rv():
    from pathlib import Path

    from maops_utils.batch import config
    from maops_utils.reports.kpi import review as kpi

    root = Path(__file__).resolve().parents[1]
    settings = config.load_settings(
        root / "workspaces" / "sample" / "params", {"data_dir": root / "data" / "sample"}
    )
    return kpi.load_review(settings, as_of=pd.Timestamp("2026-11-15 09:00"))


@pytest.fixture(scope="module")
def sample_cmp(sample_rv):
    return compare.from_review(sample_rv)


def test_the_sample_names_product_c_with_the_right_directions(sample_cmp):
    assert sample_cmp.window.days == 90 and sample_cmp.month == "2026-10"
    v = sample_cmp.tests.set_index(["product", "metric"])["verdict"]
    assert v[("C", "mql_to_sql")] == "lower"
    assert v[("C", "lead_to_mql")] == "higher"
    status = compare.readiness(sample_cmp).set_index("product")["status"]
    assert status["C"].startswith("own_")
    assert status["A"].startswith("shared") and status["B"].startswith("shared")


def test_what_to_do_quotes_numbers_and_leads_with_the_different_product(sample_cmp):
    for locale in ("ja", "en"):
        sentences = compare.what_to_do(sample_cmp, locale)
        assert sentences and all(re.search(r"\d", s) for s in sentences)
        # products by the names params/labels.yaml gives them (C is ミライガード)
        assert sentences[0].startswith(
            "商材 ミライガード" if locale == "ja" else "Product Mirai Guard"
        )
        c = [s for s in sentences if "Mirai Guard" in s or "ミライガード" in s.split("：")[0]]
        assert any("6.1%" in s for s in c)  # C's MQL→SQL
    en = " ".join(compare.what_to_do(sample_cmp, "en"))
    assert "lower than Mirai Accounting Cloud and Mirai HR Cloud combined" in en
    assert "own (higher) threshold" in en


def test_against_a_named_baseline_c_is_lower_than_a(sample_rv):
    cmp = compare.from_review(sample_rv, baseline="A")
    v = cmp.tests.set_index(["product", "metric"])["verdict"]
    assert v[("A", "mql_to_sql")] == "baseline"
    assert v[("C", "mql_to_sql")] == "lower"
    assert v[("B", "mql_to_sql")] == "no_difference"
    sentences = compare.what_to_do(cmp, "ja")
    assert any(s.startswith("商材 ミライ会計クラウド は比較の基準") for s in sentences)


def test_one_product_selected_says_a_comparison_needs_two(sample_rv):
    cmp = compare.from_review(sample_rv, products="B")
    assert compare.what_to_do(cmp, "en")[0].startswith("A comparison needs at least two")
    assert (cmp.tests["verdict"] == "").all()


def test_charts_draw_japanese_on_figures_without_pyplot(sample_cmp, small):
    import matplotlib.pyplot as plt

    cmp = sample_cmp
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        figures = [
            charts.product_funnel_chart(
                cmp.counts, cmp.stage_labels(), products=cmp.products, first="a", last="b"
            ),
            charts.rate_comparison_chart(cmp.tests, cmp.rate_labels(), products=cmp.products),
            charts.cohort_comparison_chart(
                cmp.cohorts, {"mql": "MQL", "sql": "SQL"}, products=cmp.products, window=90
            ),
            charts.share_chart(compare.mql_quality(cmp), cmp.share_labels()),
            charts.product_heatmaps(
                compare.product_channels(cmp),
                cmp.heatmap_panels(),
                row="channel",
                products=cmp.products,
                first="a",
                last="b",
            ),
        ]
        campaigns = charts.product_heatmaps(
            compare.product_campaigns(small),
            small.heatmap_panels(),
            row="campaign_id",
            label="name",
            products=small.products,
            first="a",
            last="b",
            locale="en",
        )
        for fig in [*figures, campaigns]:
            fig.canvas.draw()
    for fig in figures:
        texts = [x.get_text() for x in fig.findobj(lambda a: hasattr(a, "get_text"))]
        assert any(any("\u3040" <= ch <= "\u9fff" for ch in text) for text in texts)
    labels = [x.get_text() for x in campaigns.axes[0].get_yticklabels()]
    # a name is text, never math or markup; a campaign of two products is named with each
    assert r"<b>ウェビナー</b> \$x\$ (A)" in labels
    assert plt.get_fignums() == []


def test_definitions_and_views_switch_language(sample_cmp):
    from maops_utils.reports import views

    ja = compare.definitions(sample_cmp, "ja")
    en = compare.definitions(sample_cmp, "en")
    assert list(ja.columns) == ["定義"] and list(en.columns) == ["Definition"]
    assert "Win rate" in en.index and "受注率" in ja.index
    assert "Fisher" in " ".join(en["Definition"]) and "Holm" in " ".join(ja["定義"])
    assert "2025-11" in " ".join(en["Definition"])
    tests = views.comparison_tests(sample_cmp)
    assert "判定" in tests.columns and "低い" in set(tests["判定"])
    quality = views.product_quality(sample_cmp, compare.mql_quality(sample_cmp))
    assert list(quality.index) == ["ミライ会計クラウド", "ミライ人事クラウド", "ミライガード"]
    # a count names its window: the same product's MQLs differ page by page otherwise
    assert "MQL数（2025-11〜2026-10）" in quality.columns
    ready = views.product_readiness(sample_cmp, compare.readiness(sample_cmp))
    assert "SQL数（2025-11〜2026-10）" in ready.columns
    assert ready.loc["ミライガード", "独自シナリオの準備"] in ("あり", "なし")


# ---------------------------------------------------------------- simulations
# A tiny generator: leads spread over 15 months ending 2026-10; each becomes MQL with its
# product's probability within 60 days, an MQL becomes SQL with its probability within 30 days,
# every SQL opens a deal that closes 10-60 days later, won with the product's probability.
# Stage entries after the cut-off are kept: the comparison must ignore them itself.

END = "2026-10"
PRODUCTS = ("A", "B", "C")


def simulate(
    seed: int,
    *,
    leads: tuple[int, ...] = (700, 550, 450),
    mql: tuple[float, ...] = (0.3, 0.3, 0.3),
    sql: tuple[float, ...] = (0.35, 0.35, 0.35),
    win: tuple[float, ...] = (0.3, 0.3, 0.3),
) -> Dataset:
    rng = np.random.default_rng(seed)
    start, stop = pd.Timestamp("2025-08-01"), pd.Timestamp("2026-11-01")
    idx = np.repeat(np.arange(len(leads)), leads)
    n = len(idx)
    day = pd.Timedelta(days=1)
    created = start + (stop - start) * rng.random(n)
    mql_at = created + day * rng.uniform(0, 60, n)
    sql_at = mql_at + day * rng.uniform(0, 30, n)
    is_mql = rng.random(n) < np.asarray(mql)[idx]
    is_sql = is_mql & (rng.random(n) < np.asarray(sql)[idx])
    ids = np.array([f"L{i:05d}" for i in range(n)])
    products = np.asarray(PRODUCTS)[idx]
    sec = "datetime64[us]"
    leads_df = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": pd.Series(created).dt.floor("s").astype(sec),
            "product": products,
            "lead_source": rng.choice(["web_ad", "organic", "webinar"], n),
        }
    )
    stages = pd.concat(
        [
            pd.DataFrame({"lead_id": ids[is_mql], "stage": "mql", "changed_at": mql_at[is_mql]}),
            pd.DataFrame({"lead_id": ids[is_sql], "stage": "sql", "changed_at": sql_at[is_sql]}),
        ],
        ignore_index=True,
    )
    stages["changed_at"] = stages["changed_at"].dt.floor("s").astype(sec)
    k = int(is_sql.sum())
    opened = sql_at[is_sql] + 3 * day
    closed = opened + day * rng.uniform(10, 60, k)
    won = rng.random(k) < np.asarray(win)[idx[is_sql]]
    opps = pd.DataFrame(
        {
            "opportunity_id": [f"O{i:05d}" for i in range(k)],
            "lead_id": ids[is_sql],
            "product": products[is_sql],
            "created_at": pd.Series(opened).dt.floor("s").astype(sec),
            "status": np.where(won, "won", "lost"),
            "closed_at": pd.Series(closed).dt.floor("s").astype(sec),
            "amount": 1_000_000.0,
        }
    )
    activities = pd.DataFrame(
        {
            "lead_id": pd.Series(dtype="object"),
            "activity_type": pd.Series(dtype="object"),
            "occurred_at": pd.Series(dtype=sec),
            "campaign_id": pd.Series(dtype="object"),
            "category": pd.Series(dtype="object"),
        }
    )
    return Dataset(
        {
            "leads": leads_df,
            "stage_changes": stages,
            "opportunities": opps,
            "activities": activities,
        }
    )


def _claims(cmp: compare.ProductComparison) -> pd.DataFrame:
    return cmp.tests[cmp.tests["verdict"].isin(["higher", "lower"])]


SEEDS = range(40)


def test_identical_products_rarely_get_a_claim():
    # The family-wise error rate is held at alpha = 0.05 by Holm over Fisher's exact tests:
    # on products with the same true rates, a report claiming anything should be rare.
    reports_with_a_claim = 0
    tested = []
    for seed in SEEDS:
        cmp = compare.compare_products(simulate(seed), END, locale="en")
        tested.append(int(cmp.tests["p_value"].notna().sum()))
        if not _claims(cmp).empty:
            reports_with_a_claim += 1
        else:
            text = " ".join(compare.what_to_do(cmp))
            assert "higher than" not in text and "lower than" not in text
            assert "no evidence of a difference" in text
    assert min(tested) >= 6  # the family really holds several tests per report
    assert reports_with_a_claim / len(SEEDS) <= 0.10, reports_with_a_claim


def test_identical_products_against_a_named_baseline():
    claims = sum(
        not _claims(compare.compare_products(simulate(1000 + s), END, baseline="B")).empty
        for s in range(20)
    )
    assert claims / 20 <= 0.10, claims


def test_a_product_with_truly_poor_mqls_is_named_lower():
    named, wrong_way = 0, 0
    for seed in SEEDS:
        data = simulate(2000 + seed, sql=(0.35, 0.35, 0.08))
        cmp = compare.compare_products(data, END, locale="en")
        verdict = cmp.tests.set_index(["product", "metric"])["verdict"][("C", "mql_to_sql")]
        named += verdict == "lower"
        wrong_way += verdict == "higher"
        if verdict == "lower" and seed < 5:
            text = [s for s in compare.what_to_do(cmp) if s.startswith("Product C: MQL → SQL")]
            assert "lower than A and B combined" in text[0]
            assert any(s.startswith("Product C, what to do") for s in compare.what_to_do(cmp))
    assert wrong_way == 0
    assert named / len(SEEDS) >= 0.95, named


def test_data_without_campaigns_draws_empty_panels_quietly():
    cmp = compare.compare_products(simulate(7), END)
    channels = compare.product_channels(cmp)
    assert channels["cost"].isna().all() and (channels["new_leads"] > 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for table, row in ((channels, "channel"), (compare.product_campaigns(cmp), "campaign_id")):
            fig = charts.product_heatmaps(
                table, cmp.heatmap_panels(), row=row, products=cmp.products, first="a", last="b"
            )
            fig.canvas.draw()
