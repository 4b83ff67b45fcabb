"""Pacing: fiscal periods, period targets, the projection's intervals on simulated months (their
coverage over many seeds), the quarter and year to date on the sample against its own files,
the backtest and the chart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maops_utils.core.errors import ConfigError
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.reports.kpi import pacing as pc
from maops_utils.reports.kpi import pacing_backtest as pbt
from maops_utils.reports.kpi import pacing_charts as charts
from maops_utils.reports.kpi import review as kpi

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_PARAMS = ROOT / "workspaces" / "sample" / "params"


def _months(first: str, n: int) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def _catalogue(tmp_path, text: str):
    params = tmp_path / "params"
    params.mkdir(exist_ok=True)
    (params / "kpis.yaml").write_text(text, encoding="utf-8")
    return load_catalogue(params)


# ---------------------------------------------------------------- fiscal periods and targets


@pytest.mark.parametrize("start", [1, 4, 10])
def test_fiscal_quarters_and_years_follow_the_first_month(start):
    for month in _months("2025-01", 36):
        y, m = int(month[:4]), int(month[5:])
        fy = y if m >= start else y - 1  # named by the calendar year it starts in
        first = f"{fy:04d}-{start:02d}"
        year_months = _months(first, 12)
        q = year_months.index(month) // 3
        year = pc.fiscal_year(month, start)
        quarter = pc.fiscal_quarter(month, start)
        assert (year.kind, year.name, list(year.months)) == ("year", f"FY{fy}", year_months)
        assert quarter.name == f"FY{fy}-Q{q + 1}"
        assert list(quarter.months) == year_months[3 * q : 3 * q + 3]


def test_japanese_fiscal_year_example():
    assert pc.fiscal_year("2027-02", 4).name == "FY2026"
    q = pc.fiscal_quarter("2026-11", 4)
    assert (q.name, q.months) == ("FY2026-Q3", ("2026-10", "2026-11", "2026-12"))
    assert pc.fiscal_quarter("2026-11", 1).name == "FY2026-Q4"


TARGETS = """\
fiscal_year_start: 4
kpis:
  won_deals:
    targets:
      default: {ALL: 4, A: 2}
      months: {"2026-11": {ALL: 7}}
      quarters: {"FY2026-Q4": {ALL: 20}}
      years: {"FY2026": {A: 30}}
  new_leads:
    pace: true
    targets:
      months: {"2026-10": {ALL: 100}, "2026-11": {ALL: 110}}
  revenue: {tier: KPI}
"""


def test_period_targets_come_from_the_period_or_its_months(tmp_path):
    cat = _catalogue(tmp_path, TARGETS)
    assert cat.fiscal_year_start == 4
    won, leads = cat["won_deals"], cat["new_leads"]
    q3, q4 = pc.fiscal_quarter("2026-10", 4), pc.fiscal_quarter("2027-01", 4)
    year = pc.fiscal_year("2026-10", 4)
    summed = pc.period_target(won, q3, "ALL")  # Oct 4 + Nov 7 (override) + Dec 4
    assert (summed.value, summed.source) == (15.0, "months")
    assert summed.pro_rata(2) == 11.0  # the elapsed months' own targets
    own = pc.period_target(won, q4, "ALL")
    assert (own.value, own.source) == (20.0, "quarter")
    assert own.pro_rata(1) == pytest.approx(20 / 3)
    assert pc.period_target(won, year, "A") == pc.PeriodTarget(30.0, "year", (2.0,) * 12)
    assert pc.period_target(won, year, "ALL").value == 4 * 11 + 7
    missing = pc.period_target(leads, q3, "ALL")  # December has no target: none, not a guess
    assert (missing.value, missing.source) == (None, "")
    assert pc.period_target(won, q3, "B").value is None
    # paced: additive KGIs with a target, and what says pace: true; revenue is no KGI here
    assert cat.paced == ["won_deals", "new_leads"]  # KGIs first


def test_default_fiscal_year_and_existing_files_load_unchanged(tmp_path):
    assert _catalogue(tmp_path, "kpis: {}\n").fiscal_year_start == 1
    assert load_catalogue(ROOT / "params").fiscal_year_start == 1
    assert load_catalogue(SAMPLE_PARAMS).fiscal_year_start == 4


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('kpis: {won_deals: {targets: {quarters: {"2026-Q3": {ALL: 1}}}}}', "FY2026-Q3"),
        ('kpis: {won_deals: {targets: {quarters: {"FY2026-Q5": {ALL: 1}}}}}', "FY2026-Q3"),
        ('kpis: {won_deals: {targets: {years: {"2026": {ALL: 1}}}}}', '"FY2026"'),
        ('kpis: {won_deals: {targets: {years: {"FY2026": {ALL: x}}}}}', "not a number"),
        ("kpis: {won_deals: {targets: {quarter: {}}}}", "quarters"),
        ("fiscal_year_start: 13\n", "1 to 12"),
        ("fiscal_year_start: april\n", "1 to 12"),
        ("kpis: {mql_rate: {pace: true}}", "only a count or a sum"),
        ("kpis: {won_deals: {pace: sometimes}}", "true or false"),
    ],
)
def test_bad_pacing_settings_name_the_key_and_the_form(tmp_path, text, words):
    with pytest.raises(ConfigError) as err:
        _catalogue(tmp_path, text)
    assert "kpis.yaml" in str(err.value) and words in str(err.value)


# ---------------------------------------------------------------- the projection


def test_run_rate_projection_against_its_formula():
    history = pd.Series([10.0, 14, 9, 12, 15, 11, 13], index=_months("2026-01", 7))
    quarter = pc.fiscal_quarter("2026-07", 1)
    p = pc.pace(history, quarter, pc.PeriodTarget(40.0, "quarter", (None,) * 3), count=False)
    n, m = 7, 2
    mean, var = history.mean(), history.var()
    from scipy import stats

    half = stats.t.ppf(0.9, n - 1) * np.sqrt(var * (m + m * m / n))
    assert p.method == "run_rate" and p.actual == 13
    assert p.projection == pytest.approx(13 + m * mean)
    assert (p.low80, p.high80) == pytest.approx((13 + m * mean - half, 13 + m * mean + half))
    assert p.needed_per_month == pytest.approx((40 - 13) / 2)
    assert p.pro_rata_target == pytest.approx(40 / 3)
    reach = stats.t.sf((40 - 13 - m * mean) / np.sqrt(var * (m + m * m / n)), n - 1)
    assert p.probability == pytest.approx(reach)
    assert p.status == ("on_track" if p.projection >= 40 else "at_risk")


def test_counts_use_at_least_the_poisson_variance_and_cannot_fall():
    history = pd.Series([1.0, 1, 1, 1, 1, 0], index=_months("2026-02", 6))
    p = pc.pace(history, pc.fiscal_quarter("2026-07", 1), pc.PeriodTarget(None, ""), count=True)
    mean = history.mean()  # five 1s and a 0: s² < mean, so the Poisson variance is used
    assert history.var() < mean
    from scipy import stats

    half = stats.t.ppf(0.9, 5) * np.sqrt(mean * (2 + 4 / 6))
    assert p.high80 == pytest.approx(2 * mean + half)
    assert p.low80 == max(0.0, 2 * mean - half) == 0.0  # clipped at the actual to date
    assert p.small_sample  # 5 events < 30


def test_the_period_end_is_its_actual_and_short_histories_are_flagged():
    history = pd.Series([3.0, 4, 5], index=["2026-04", "2026-05", "2026-06"])
    end = pc.pace(history, pc.fiscal_quarter("2026-06", 4), pc.PeriodTarget(13.0, "quarter"),
                  count=True)  # fmt: skip
    assert (end.projection, end.method, end.probability, end.status) == (12, "actual", 0, "at_risk")
    assert np.isnan(end.low80) and np.isnan(end.needed_per_month)
    short = pc.pace(history.iloc[:1], pc.fiscal_quarter("2026-04", 4), pc.PeriodTarget(9.0, "quarter"),
                    count=True)  # fmt: skip
    assert np.isnan(short.projection) and short.small_sample and short.needed_per_month == 3.0


def _coverage(make, *, seeds: int, months: int, method: str = "auto") -> tuple[float, float]:
    """How often the realised quarter falls in the 80% and 95% intervals, projecting from the
    quarter's first month and from its second, over `seeds` simulated histories."""
    index = _months("2023-01", months + 3)
    hit80 = hit95 = tests = 0
    for seed in range(seeds):
        y = make(np.random.default_rng(seed), len(index)).astype(float)
        for at in (months, months + 1):  # the quarter starts at index `months`
            history = pd.Series(y[: at + 1], index=index[: at + 1])
            quarter = pc.FiscalPeriod("quarter", "Q", tuple(index[months : months + 3]))
            p = pc.pace(history, quarter, pc.PeriodTarget(None, ""), count=True, method=method)
            realised = y[months : months + 3].sum()
            hit80 += p.low80 <= realised <= p.high80
            hit95 += p.low95 <= realised <= p.high95
            tests += 1
    return hit80 / tests, hit95 / tests


SEASON = 1 + 0.4 * np.sin(np.arange(12) / 12 * 2 * np.pi)


@pytest.mark.parametrize(
    ("name", "make", "months"),
    [
        ("poisson 20", lambda rng, n: rng.poisson(20, n), 18),
        ("poisson 3", lambda rng, n: rng.poisson(3, n), 12),
        ("negative binomial 20, k 5", lambda rng, n: rng.negative_binomial(5, 5 / 25, n), 24),
        ("seasonal poisson 30", lambda rng, n: rng.poisson(30 * SEASON[np.arange(n) % 12]), 36),
    ],
)
def test_intervals_cover_the_realised_quarter_as_stated(name, make, months):
    cover80, cover95 = _coverage(make, seeds=400, months=months)
    print(f"{name}: 80% covers {cover80:.3f}, 95% covers {cover95:.3f}")
    assert 0.74 <= cover80 <= 0.88, name
    assert 0.90 <= cover95 <= 0.99, name


def test_seasonal_is_chosen_for_a_season_and_rarely_for_a_constant_rate():
    index = _months("2023-01", 36)

    def methods(make) -> float:
        used = []
        for seed in range(200):
            y = make(np.random.default_rng(seed), 36).astype(float)
            fc = pc.forecast(pd.Series(y, index=index), ["2026-01"], count=True)
            used.append(fc.method == "seasonal")
        return float(np.mean(used))

    constant = methods(lambda rng, n: rng.poisson(30, n))
    seasonal = methods(lambda rng, n: rng.poisson(30 * SEASON[np.arange(n) % 12]))
    assert constant <= 0.10  # the test's 5% level, with room for 200 draws
    assert seasonal >= 0.90


# ---------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_rv(sample_ds):
    return kpi.review(sample_ds, load_catalogue(SAMPLE_PARAMS), "2026-10", trend_months=3)


def test_sample_to_date_sums_and_needs_match_its_files(sample_rv):
    opps = pd.read_csv(ROOT / "data" / "sample" / "opportunities.csv")
    won = opps[opps["status"] == "won"].copy()
    won["month"] = won["closed_at"].str[:7]
    items = pc.pacings(sample_rv)
    table = pc.pacing_table(items)
    assert list(table.columns) == pc.PACING_CSV_COLUMNS
    # every paced KPI x the products and ALL x quarter and year
    assert len(table) == len(sample_rv.catalogue.paced) * (len(sample_rv.products) + 1) * 2
    periods = {
        "quarter": ["2026-10"],
        "year": ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"],
    }
    for row in table[table["kpi"].isin(["revenue", "won_deals"])].itertuples():
        part = won[won["month"].isin(periods[row.period])]
        if row.product != "ALL":
            part = part[part["product"] == row.product]
        expected = part["amount"].sum() if row.kpi == "revenue" else len(part)
        assert row.actual == pytest.approx(expected), (row.kpi, row.product, row.period)
        total = 3 if row.period == "quarter" else 12
        left = total - len(periods[row.period])
        assert row.months_elapsed == len(periods[row.period]) and row.months_total == total
        assert row.needed_per_month == pytest.approx(max(row.target - expected, 0) / left)
    revenue = table[(table["kpi"] == "revenue") & (table["product"] == "ALL")].set_index("period")
    assert revenue.loc["quarter", "target_source"] == "quarter"
    assert revenue.loc["quarter", "target"] == 27_000_000
    assert revenue.loc["year", "target_source"] == "year"
    a = table[(table["kpi"] == "revenue") & (table["product"] == "A")].set_index("period")
    assert a.loc["year", "target_source"] == "months" and a.loc["year", "target"] == 12 * 4e6


def test_backtest_counts_every_month_that_is_not_a_quarter_end():
    index = _months("2025-01", 15)  # 2025-01 .. 2026-03: five whole quarters
    history = pd.Series(np.random.default_rng(1).poisson(20, 15).astype(float), index=index)
    result = pbt.backtest(history, 1, count=True)
    eligible = [
        m for i, m in enumerate(index) if i + 1 >= 3 and int(m[5:]) % 3 != 0
    ]  # quarter ends (Mar, Jun, Sep, Dec) are not projected
    assert result.tested == len(eligible)
    assert 0 <= result.covered95 - result.covered80 <= result.tested
    shifted = pbt.backtest(history, 2, count=True)  # quarters from Feb: ends in Apr, Jul, ...
    expected = [
        m for i, m in enumerate(index) if i + 1 >= 3 and int(m[5:]) % 3 != 1 and m < "2026-02"
    ]
    assert shifted.tested == len(expected)


def test_sample_backtest_table(sample_rv):
    table = pbt.backtest_table(sample_rv)
    assert list(table.columns) == pbt.BACKTEST_CSV_COLUMNS
    whole = table[(table["product"] == "ALL") & (table["method"] == "auto")]
    print(whole.to_string())
    assert (whole["tested"] > 10).all()
    assert whole["coverage80"].between(0, 1).all()


# ---------------------------------------------------------------- words and chart


def test_chart_draws_the_projection_dashed_and_the_sentence_reads(sample_rv):
    items = pc.pacings(sample_rv)
    year = next(p for p in items if (p.kpi, p.product, p.period) == ("revenue", "ALL", "year"))
    values = pc.paced_values(sample_rv)
    values = values[(values["metric"] == "revenue") & (values["product"] == "ALL")]
    fig = charts.pacing_chart(
        year,
        values.set_index("month")["value"],
        label="受注金額",
        product_name="全体",
        unit="currency",
    )
    lines = fig.axes[0].get_lines()
    dashed = [line for line in lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1
    assert dashed[0].get_ydata()[-1] == pytest.approx(year.projection)
    solid = next(line for line in lines if line.get_linestyle() == "-" and len(line.get_xdata()))
    assert solid.get_ydata()[-1] == pytest.approx(year.actual)
    ja = charts.pacing_sentence(year, "受注金額", unit="currency")
    assert ja.startswith("受注金額: 2026年度の見込み") and "万円" in ja and "必要" in ja
    en = charts.pacing_sentence(year, "Revenue", unit="currency", locale="en")
    assert "FY2026" in en and "80% interval" in en


def test_a_period_the_data_does_not_reach_back_to_is_not_judged():
    # the data starts in the fiscal year's third month: the months before are unknown, not 0
    history = pd.Series([30.0, 32, 31, 29], index=_months("2026-06", 4))
    year = pc.fiscal_year("2026-09", 4)
    p = pc.pace(history, year, pc.PeriodTarget(300.0, "year"), count=True)
    assert p.missing_months == 2 and p.actual == 122
    assert p.status == "" and np.isnan(p.probability) and np.isnan(p.needed_per_month)
    whole = pc.pace(history, pc.fiscal_quarter("2026-09", 4), pc.PeriodTarget(90.0, "quarter"),
                    count=True)  # fmt: skip
    assert whole.missing_months == 0 and whole.status
    text = charts.pacing_sentence(p, "MQL", locale="en")
    assert "incomplete" in text and "2 month" in text
