"""Score diagnostics: the decision curve, the factor table and the Brier decomposition, each
checked against a computation written here with plain loops."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.reports import scoring
from maops_utils.reports.scoring import diagnostics as dg
from maops_utils.reports.scoring import diagnostics_charts, evaluate

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "workspaces" / "sample" / "params"
AS_OF = pd.Timestamp("2026-11-15 09:00")
MONTH = "2026-10"


@pytest.fixture(scope="module")
def sample():
    return load_dataset(ROOT / "data" / "sample", as_of=AS_OF)


@pytest.fixture(scope="module")
def study(sample):
    return scoring.run(sample, scoring.load_config(PARAMS), MONTH, locale="en")


def _w(config) -> float:
    th = config.thresholds
    return th.mql_cost / (th.sql_value - th.mql_cost)


# ---------------------------------------------------------------- decision curve


def _loop_handover(rows: pd.DataFrame, col: str, threshold: float) -> tuple[int, int]:
    """(handed, successes): each lead handed over at its first moment at or above the
    threshold, written as a loop over leads."""
    handed = successes = 0
    for _, lead in rows.sort_values("at", kind="stable").groupby("lead_id"):
        for score, y in zip(lead[col], lead["y"], strict=True):
            if score >= threshold:
                handed += 1
                successes += int(y)
                break
    return handed, successes


def _hand_rows() -> pd.DataFrame:
    """Leads judged at month ends: a lead can reach a threshold at its second moment."""
    base = pd.Timestamp("2026-01-31")
    data = [
        # lead, product, month offset, score, y
        ("a", "A", 0, 10, 0), ("a", "A", 1, 70, 1),
        ("b", "A", 0, 80, 1),
        ("c", "B", 0, 30, 0), ("c", "B", 1, 40, 0),
        ("d", "B", 0, 65, 0),
        ("e", "A", 0, 50, 1),
        ("f", "B", 0, 90, 0), ("f", "B", 1, 20, 1),
        ("g", "A", 0, 55, 0),
    ]  # fmt: skip
    rows = pd.DataFrame(data, columns=["lead_id", "product", "k", "score_current", "y"])
    rows["at"] = [base + pd.DateOffset(months=k) for k in rows["k"]]
    rows["month"] = rows["at"].dt.strftime("%Y-%m")
    rows["y"] = rows["y"].astype("float64")
    rows["score_proposed"] = 100 - rows["score_current"]
    rows["p_current"] = rows["score_current"] / 100
    rows["p_proposed"] = 1 - rows["p_current"]
    rows["closed"] = True
    rows["split"] = "test"
    rows["row_id"] = np.arange(len(rows))
    return rows.drop(columns="k")


def _hand_study(study, rows: pd.DataFrame, threshold: float = 50.0):
    recs = study.recommendations.copy()
    recs = recs[recs["product"] == "ALL"].assign(recommended=[60.0, np.nan])
    return dataclasses.replace(
        study,
        rows=rows,
        backtest=rows,
        products=["A", "B"],
        threshold=threshold,
        judged_at="month_end",
        recommendations=recs,
    )


def test_net_benefit_at_each_threshold_is_successes_less_failures_at_the_exchange_rate(study):
    rows = _hand_rows()
    curve = dg.decision_curve(_hand_study(study, rows))
    w = _w(study.config)
    assert curve.exchange_rate == pytest.approx(w)
    assert curve.rows == "backtest"
    table = curve.table
    for product in ("ALL", "A", "B"):
        sub = rows if product == "ALL" else rows[rows["product"] == product]
        n = sub["lead_id"].nunique()
        part = table[
            (table["model"] == "current")
            & (table["scale"] == "score")
            & (table["product"] == product)
            & (table["strategy"] == "threshold")
        ]
        assert len(part) > 3
        for r in part.itertuples():
            handed, tp = _loop_handover(sub, "score_current", r.threshold)
            assert (r.handed, r.successes, r.n) == (handed, tp, n)
            assert r.net_benefit == pytest.approx(tp / n - (handed - tp) / n * w)
            assert r.net_benefit_per_100 == pytest.approx(100 * r.net_benefit)
    marks = table[(table["model"] == "current") & (table["product"] == "ALL")]
    assert marks.loc[marks["current"], "threshold"].tolist() == [50.0]
    assert marks.loc[marks["recommended"], "threshold"].tolist() == [60.0]


def test_all_and_none_rows_hand_over_every_lead_at_its_first_moment_and_nobody(study):
    rows = _hand_rows()
    curve = dg.decision_curve(_hand_study(study, rows))
    table = curve.table
    w = _w(study.config)
    for model in ("current", "proposed"):
        for product in ("ALL", "A", "B"):
            sub = rows if product == "ALL" else rows[rows["product"] == product]
            first = sub.sort_values("at").groupby("lead_id").head(1)
            n, tp = len(first), int(first["y"].sum())
            part = table[(table["model"] == model) & (table["product"] == product)]
            score = part[part["scale"] == "score"]
            every = score[score["strategy"] == "all"]
            none = score[score["strategy"] == "none"]
            assert len(every) == 1 and len(none) == 1
            assert (every["handed"].iloc[0], every["successes"].iloc[0]) == (n, tp)
            assert every["net_benefit"].iloc[0] == pytest.approx(tp / n - (n - tp) / n * w)
            assert none["net_benefit"].iloc[0] == 0.0 and none["handed"].iloc[0] == 0
            # on the probability scale "all" is a curve: prevalence - (1 - prevalence) odds(p_t)
            prob = part[(part["scale"] == "probability") & (part["strategy"] == "all")]
            assert len(prob) == len(dg.PROBABILITY_GRID)
            for r in prob.itertuples():
                odds = r.threshold / (1 - r.threshold)
                assert r.net_benefit == pytest.approx(tp / n - (n - tp) / n * odds)
            advantage = score[score["strategy"] == "threshold"]
            best = max(tp / n - (n - tp) / n * w, 0.0)
            np.testing.assert_allclose(
                advantage["advantage_per_100"], 100 * (advantage["net_benefit"] - best)
            )


def test_probability_scale_uses_the_threshold_odds_as_exchange_rate(study):
    rows = _hand_rows()
    table = dg.decision_curve(_hand_study(study, rows)).table
    part = table[
        (table["model"] == "proposed")
        & (table["scale"] == "probability")
        & (table["product"] == "ALL")
        & (table["strategy"] == "threshold")
    ]
    n = rows["lead_id"].nunique()
    for r in part.itertuples():
        handed, tp = _loop_handover(rows, "p_proposed", r.threshold)
        odds = r.threshold / (1 - r.threshold)
        assert r.exchange_rate == pytest.approx(odds)
        assert r.net_benefit == pytest.approx(tp / n - (handed - tp) / n * odds)


def test_the_sample_curve_judges_the_backtest_and_says_so(study):
    curve = dg.decision_curve(study)
    assert curve.rows == "backtest" and curve.months == study.test_months
    bt = study.backtest
    table = curve.table
    part = table[
        (table["model"] == "current") & (table["scale"] == "score") & (table["product"] == "ALL")
    ]
    w = _w(study.config)
    at = part[part["current"]]
    assert at["threshold"].tolist() == [study.threshold]
    handed, tp = _loop_handover(bt, "score_current", study.threshold)
    n = bt["lead_id"].nunique()
    assert at["net_benefit"].iloc[0] == pytest.approx(tp / n - (handed - tp) / n * w)
    for locale in ("ja", "en"):
        sentence = dg.decision_sentence(curve, locale)
        assert f"{100 * at['net_benefit'].iloc[0]:.1f}" in sentence
        assert f"{n:,}" in sentence
    fig = diagnostics_charts.decision_curve_chart(curve, sql_value=10, mql_cost=1, locale="en")
    assert isinstance(fig, Figure) and fig.get_suptitle()


@pytest.mark.parametrize(("value", "cost"), [(1.0, 1.0), (0.5, 2.0)])
def test_a_success_worth_no_more_than_a_follow_up_is_a_settings_error(study, value, cost):
    config = dataclasses.replace(
        study.config,
        path=Path("params/scoring.yaml"),
        thresholds=dataclasses.replace(study.config.thresholds, sql_value=value, mql_cost=cost),
    )
    with pytest.raises(ConfigError) as err:
        dg.decision_curve(dataclasses.replace(study, config=config))
    message = str(err.value)
    assert "params/scoring.yaml" in message and "thresholds.sql_value" in message
    assert f"{value:g}" in message and "write a sql_value above mql_cost" in message


# ---------------------------------------------------------------- factors


def test_katz_interval_is_the_log_risk_ratio_interval():
    lift, low, high = dg.katz_interval(30, 100, 20, 200)
    rr = (30 / 100) / (20 / 200)
    se = np.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 200)
    assert lift == pytest.approx(rr)
    assert low == pytest.approx(rr * np.exp(-1.959964 * se))
    assert high == pytest.approx(rr * np.exp(1.959964 * se))
    # no success on one side: no interval; an empty group: no lift
    assert np.isnan(dg.katz_interval(0, 10, 5, 10)[1])
    assert np.isnan(dg.katz_interval(3, 0, 5, 10)[0])


def test_the_lift_interval_covers_the_true_lift_about_95_times_in_100():
    rng = np.random.default_rng(7)
    seeds, n, base, true_lift = 2000, 1500, 0.08, 2.5
    factor = rng.random((seeds, n)) < 0.3
    y = rng.random((seeds, n)) < np.where(factor, base * true_lift, base)
    a = (factor & y).sum(axis=1)
    n1 = factor.sum(axis=1)
    c = (~factor & y).sum(axis=1)
    _, low, high = dg.katz_interval(a, n1, c, n - n1)
    covered = np.mean((low <= true_lift) & (true_lift <= high))
    assert 0.93 <= covered <= 0.97


def _planted_study(study, sample, key: str, seed: int = 3):
    """The sample's closed rows with outcomes drawn again: 70% success with the activity rule
    `key` counted by the judged moment, 10% without."""
    acts = sample["activities"]
    typ, _, category = key.partition(":")
    kind = acts[(acts["activity_type"] == typ) & (acts["category"] == category)]
    rows = study.closed.copy()
    firsts = kind.groupby("lead_id")["occurred_at"].min()
    has = np.array(
        [
            lead in firsts.index and firsts[lead] <= at
            for lead, at in zip(rows["lead_id"], rows["at"], strict=True)
        ]
    )
    rng = np.random.default_rng(seed)
    rows["y"] = (rng.random(len(rows)) < np.where(has, 0.7, 0.1)).astype("float64")
    return dataclasses.replace(study, rows=rows), has


def test_a_planted_factor_ranks_first_and_the_counts_match_a_loop(study, sample):
    planted, has = _planted_study(study, sample, "page_view:case_study")
    table = dg.factor_table(sample, planted)
    assert table["factor"].iloc[0] == "page_view:case_study"
    rows = planted.closed
    y = rows["y"].to_numpy()
    r = table.iloc[0]
    a, n1 = int(y[has].sum()), int(has.sum())
    c, n0 = int(y[~has].sum()), int((~has).sum())
    assert (r.n_with, r.successes_with, r.n) == (n1, a, len(rows))
    assert r.share_successes == pytest.approx(a / (a + c))
    assert r.share_failures == pytest.approx((n1 - a) / (n1 - a + n0 - c))
    assert r.lift == pytest.approx((a / n1) / (c / n0))
    assert r.points_current == 3.0  # the sample's current rule
    assert r.points_proposed == study.fit.points["page_view:case_study"]
    assert table["lift"].dropna().is_monotonic_decreasing


def test_profile_factors_count_the_leads_value_and_quote_both_models_points(study, sample):
    table = dg.factor_table(sample, study).set_index("factor")
    rows = study.closed
    leads = sample["leads"].set_index("lead_id")
    y = rows["y"].to_numpy()
    level = leads["job_level"].reindex(rows["lead_id"]).fillna("").to_numpy()
    employees = leads["employees"].reindex(rows["lead_id"]).to_numpy(dtype="float64")
    for factor, has, current in (
        ("job_level=executive", level == "executive", 15.0),
        ("job_level=staff", level == "staff", 5.0),
        ("job_level=student", level == "student", 0.0),  # two leads: flagged
        ("employees=1000+", employees >= 1000, 10.0),
        ("employees=300+", (employees >= 300) & (employees < 1000), 7.0),
    ):
        r = table.loc[factor]
        assert r["n_with"] == has.sum() and r["successes_with"] == y[has].sum(), factor
        assert r["rate_without"] == pytest.approx(y[~has].mean())
        assert r["points_current"] == current
        assert r["points_proposed"] == study.fit.points[factor]
        four = [y[has].sum(), (1 - y[has]).sum(), y[~has].sum(), (1 - y[~has]).sum()]
        assert r["reliable"] == (min(four) >= dg.MIN_CELL)
    # every current activity rule is a factor; the names read as the labels say
    assert {r.key for r in study.current.activities} <= set(table.index)
    names = dg.factor_names(table.reset_index(), locale="en")
    assert "Job level: executive" in names or any(n.endswith(": executive") for n in names)
    fig = diagnostics_charts.factor_chart(table.reset_index(), names, locale="en")
    assert isinstance(fig, Figure)


# ---------------------------------------------------------------- Brier decomposition


def _loop_parts(y: np.ndarray, p: np.ndarray, bins: int) -> dict[str, float]:
    """Murphy's parts over equal-size groups by p, with the within-bin terms of Stephenson et
    al. (2008), written with loops."""
    n = len(y)
    k = max(1, min(bins, n // 20 or 1))
    order = np.argsort(p, kind="stable")
    group = np.empty(n, dtype=int)
    for rank, i in enumerate(order):
        group[i] = rank * k // n
    rate = y.mean()
    rel = res = wbv = wbc = 0.0
    for g in range(k):
        idx = [i for i in range(n) if group[i] == g]
        pk = sum(p[i] for i in idx) / len(idx)
        ok = sum(y[i] for i in idx) / len(idx)
        rel += len(idx) / n * (pk - ok) ** 2
        res += len(idx) / n * (ok - rate) ** 2
        wbv += sum((p[i] - pk) ** 2 for i in idx) / n
        wbc += sum((p[i] - pk) * (y[i] - ok) for i in idx) / n
    return {"reliability": rel, "resolution": res, "within_bin": wbv - 2 * wbc, "bins": k}


@pytest.mark.parametrize("seed", [0, 1])
def test_brier_parts_add_up_and_match_a_loop(seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(2, 5, 537)
    y = (rng.random(537) < np.clip(p * 1.3, 0, 1)).astype(float)
    parts = dg.brier_parts(y, p)
    assert parts.brier == evaluate.brier(y, p)
    total = parts.reliability - parts.resolution + parts.uncertainty + parts.within_bin
    assert total == pytest.approx(parts.brier, abs=1e-12)
    loop = _loop_parts(y, p, dg.BRIER_BINS)
    assert parts.bins == loop["bins"]
    for key in ("reliability", "resolution", "within_bin"):
        assert getattr(parts, key) == pytest.approx(loop[key], abs=1e-12), key
    assert parts.uncertainty == pytest.approx(y.mean() * (1 - y.mean()))


def test_bin_constant_forecasts_leave_no_remainder():
    # ten forecasts of twenty rows each: the ten groups of equal size are the ten forecasts
    p = np.repeat(np.linspace(0.05, 0.95, 10), 20)
    y = (np.arange(200) % 7 < 3).astype(float)
    assert dg.brier_parts(y, p).within_bin == pytest.approx(0.0, abs=1e-15)


def test_the_sample_brier_table_decomposes_each_model_on_the_backtest(study):
    table = dg.brier_table(study)
    bt = study.backtest
    min_events = study.config.evaluation.min_events
    assert set(table["rows"]) == {"backtest"}
    for r in table.itertuples():
        sub = bt if r.product == "ALL" else bt[bt["product"] == r.product]
        assert r.n == len(sub)
        assert r.brier == pytest.approx(evaluate.brier(sub["y"], sub[f"p_{r.model}"]))
        assert r.reliability - r.resolution + r.uncertainty + r.within_bin == pytest.approx(
            r.brier, abs=1e-12
        )
        events = int(sub["y"].sum())
        assert r.reliable == (events >= min_events and len(sub) - events >= min_events)
    for locale in ("ja", "en"):
        sentence = dg.brier_sentence(table, "proposed", locale)
        row = table[(table["model"] == "proposed") & (table["product"] == "ALL")].iloc[0]
        assert f"{row['resolution']:.3f}" in sentence and f"{row['uncertainty']:.3f}" in sentence
