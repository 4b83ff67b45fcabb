"""Lead scoring on tiny datasets whose numbers were worked out by hand.

Scoring model used unless a test says otherwise (`RULES`):
    profile: job_level executive 15, manager 10; employees >= 1000: 10, >= 300: 7
    engagement: email_open 1 (cap 3 per month), page_view pricing 8, form_submit inquiry 40,
    unsubscribe -10
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from helpers import assert_same_study
from sklearn.metrics import brier_score_loss, roc_auc_score

from maops_utils.contract.dataset import Dataset
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.core.months import month_bounds
from maops_utils.reports.scoring import evaluate, outcomes, points, propose, thresholds
from maops_utils.reports.scoring.model import (
    ActivityRule,
    Band,
    ProfileRule,
    Proposal,
    ScoringModel,
    Thresholds,
    parse_config,
    parse_model,
)
from maops_utils.reports.scoring.study import run
from maops_utils.reports.scoring.tables import (
    band_table,
    lead_scores,
    metrics_table,
    product_table,
    proposed_yaml,
)

CUTOFF = pd.Timestamp("2026-07-01")

RULES = ScoringModel(
    profile=(
        ProfileRule("job_level", values=(("executive", 15), ("manager", 10))),
        ProfileRule("employees", bands=(Band(1000, 10), Band(300, 7))),
    ),
    activities=(
        ActivityRule("email_open", 1, cap=3),
        ActivityRule("page_view", 8, category="pricing"),
        ActivityRule("form_submit", 40, category="inquiry"),
        ActivityRule("unsubscribe", -10),
    ),
    mql_threshold=60,
)


def _ts(values: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(values, format="mixed"), dtype="datetime64[us]")


def make_dataset(
    leads: list[tuple],
    activities: list[tuple] = (),
    stages: list[tuple] = (),
    opportunities: list[tuple] = (),
    scores: list[tuple] | None = None,
) -> Dataset:
    """leads: (lead_id, created_at, product, job_level, employees); activities: (lead_id,
    activity_type, category, occurred_at); stages: (lead_id, stage, changed_at); scores:
    (lead_id, scored_at, score, rating)."""
    lead_frame = pd.DataFrame(
        leads, columns=["lead_id", "created_at", "product", "job_level", "employees"]
    )
    lead_frame["created_at"] = _ts(list(lead_frame["created_at"]))
    lead_frame["employees"] = lead_frame["employees"].astype("float64")
    lead_frame["lead_source"] = "organic"
    acts = pd.DataFrame(
        list(activities), columns=["lead_id", "activity_type", "category", "occurred_at"]
    )
    acts["occurred_at"] = _ts(list(acts["occurred_at"]))
    acts["category"] = acts["category"].astype(object)
    acts["campaign_id"] = pd.Series(None, index=acts.index, dtype=object)  # as validation adds it
    st = pd.DataFrame(list(stages), columns=["lead_id", "stage", "changed_at"])
    st["changed_at"] = _ts(list(st["changed_at"]))
    opps = pd.DataFrame(
        list(opportunities),
        columns=["opportunity_id", "lead_id", "product", "created_at", "status", "closed_at"],
    )
    opps["created_at"] = _ts(list(opps["created_at"]))
    opps["closed_at"] = _ts(list(opps["closed_at"]))
    opps["amount"] = 1.0
    tables = {"leads": lead_frame, "activities": acts, "stage_changes": st, "opportunities": opps}
    if scores is not None:
        sc = pd.DataFrame(scores, columns=["lead_id", "scored_at", "score", "rating"])
        sc["scored_at"] = _ts(list(sc["scored_at"]))
        sc["score"] = sc["score"].astype("float64")
        tables["scores"] = sc
    return Dataset(tables)


def moments(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row_id": np.arange(len(rows), dtype="int64"),
            "lead_id": [r[0] for r in rows],
            "at": _ts([r[1] for r in rows]),
        }
    )


def scores(dataset: Dataset, model: ScoringModel, *rows: tuple[str, str]) -> list[float]:
    return points.scores_at(dataset, model, moments(*rows), CUTOFF)["score"].tolist()


# ---------------------------------------------------------------- point-in-time scores


def test_a_score_never_uses_activities_after_the_moment():
    # L1: executive (15) at a company of 500 (7) = profile 22.
    # 2026-01-10 pricing (+8), 2026-01-20 inquiry (+40), 2026-03-01 pricing (+8).
    ds = make_dataset(
        [("L1", "2026-01-01", "A", "executive", 500)],
        [
            ("L1", "page_view", "pricing", "2026-01-10 10:00"),
            ("L1", "form_submit", "inquiry", "2026-01-20 10:00"),
            ("L1", "page_view", "pricing", "2026-03-01 10:00"),
        ],
    )
    got = scores(
        ds,
        RULES,
        ("L1", "2026-01-05"),  # before any activity: 22
        ("L1", "2026-01-10 09:59:59"),  # one second before the pricing view: 22
        ("L1", "2026-01-10 10:00"),  # at the moment of the view, it counts: 30
        ("L1", "2026-01-31 23:59:59"),  # end of January: 22 + 8 + 40 = 70
        ("L1", "2026-06-30"),  # after everything: 78
    )
    assert got == [22.0, 22.0, 30.0, 70.0, 78.0]


def test_activities_at_or_after_the_cutoff_are_never_read():
    ds = make_dataset(
        [("L1", "2026-01-01", "A", None, None)],
        [
            ("L1", "form_submit", "inquiry", "2026-06-30 23:59:59"),
            ("L1", "form_submit", "inquiry", "2026-07-01 00:00:00"),  # = CUTOFF
        ],
    )
    assert scores(ds, RULES, ("L1", "2026-12-31")) == [40.0]


def test_half_life_halves_the_points_per_half_life():
    model = ScoringModel(
        activities=(ActivityRule("form_submit", 40, category="inquiry"),), half_life_days=10
    )
    ds = make_dataset(
        [("L1", "2026-01-01", "A", None, None)],
        [("L1", "form_submit", "inquiry", "2026-01-01 00:00")],
    )
    got = scores(ds, model, ("L1", "2026-01-01"), ("L1", "2026-01-11"), ("L1", "2026-01-21"))
    assert got == pytest.approx([40.0, 20.0, 10.0])


def test_lookback_keeps_activities_of_the_last_n_days_only():
    model = ScoringModel(
        activities=(ActivityRule("page_view", 8, category="pricing"),), lookback_days=30
    )
    ds = make_dataset(
        [("L1", "2026-01-01", "A", None, None)],
        [("L1", "page_view", "pricing", "2026-01-01 12:00")],
    )
    # 29.5 days later it still counts; exactly 30 days later it has left the window
    got = scores(ds, model, ("L1", "2026-01-31 00:00"), ("L1", "2026-01-31 12:00"))
    assert got == [8.0, 0.0]


def test_a_cap_counts_the_first_activities_of_each_period():
    # email_open 1 point, cap 3 per calendar month: 5 opens in January count 3,
    # 2 opens in February count 2; mid-January after 2 opens the score is 2.
    opens = [("L1", "email_open", None, f"2026-01-{d:02d} 09:00") for d in (2, 5, 20, 21, 22)]
    opens += [("L1", "email_open", None, f"2026-02-{d:02d} 09:00") for d in (3, 4)]
    ds = make_dataset([("L1", "2026-01-01", "A", None, None)], opens)
    got = scores(ds, RULES, ("L1", "2026-01-10"), ("L1", "2026-01-31"), ("L1", "2026-02-28"))
    assert got == [2.0, 3.0, 5.0]


def write_csv(folder: Path, ds: Dataset) -> Path:
    """Write a `make_dataset` dataset as the CSV files of a data folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("leads", "activities", "stage_changes", "opportunities", "scores"):
        if name in ds.tables:
            ds.tables[name].to_csv(folder / f"{name}.csv", index=False)
    (folder / "campaigns.csv").write_text("campaign_id,name\n", encoding="utf-8")
    return folder


def loaded(tmp_path: Path, ds: Dataset) -> Dataset:
    """`ds` written to files and loaded as a run loads it: activities stay in DuckDB."""
    out = load_dataset(write_csv(tmp_path / "data", ds), as_of=pd.Timestamp("2026-12-31"))
    assert "activities" not in out.tables and "activities" in out.lazy
    return out


def counted_by_row(ds: Dataset, model: ScoringModel) -> list[tuple[int, float]]:
    """(file row, points counted) of every activity a rule matched, in the order caps count."""
    con = points.connect(ds, CUTOFF)
    try:
        points.points_by_rule(
            con,
            moments(("L1", "2026-06-30")),
            model.activities,
            lookback_days=None,
            half_life_days=None,
            cap_period=model.cap_period,
        )
        rows = con.execute(
            "SELECT a._row, c.counted FROM acts AS a JOIN (SELECT _row, counted FROM counted) "
            f"AS c USING (_row) ORDER BY a.lead_id, {points.ACT_ORDER}"
        ).fetchall()
    finally:
        con.close()
    return [(int(r), float(c)) for r, c in rows]


@pytest.mark.parametrize("where", ["memory", "files"])
def test_activities_alike_in_every_column_count_against_a_cap_in_file_order(where, tmp_path):
    # email_open 2 points, cap 3 per month. Rows 0, 2 and 4 are the same open (same lead,
    # second, type and empty category): the first in the file counts 2, the next 1, the
    # last nothing. Row 1 comes first in time; row 3 (a pricing view) matches no rule.
    model = ScoringModel(activities=(ActivityRule("email_open", 2, cap=3),))
    acts = [
        ("L1", "email_open", None, "2026-01-05 09:00"),
        ("L1", "email_open", None, "2026-01-04 09:00"),
        ("L1", "email_open", None, "2026-01-05 09:00"),
        ("L1", "page_view", "pricing", "2026-01-05 09:00"),
        ("L1", "email_open", None, "2026-01-05 09:00"),
    ]
    ds = make_dataset([("L1", "2026-01-01", "A", None, None)], acts)
    if where == "files":
        ds = loaded(tmp_path, ds)
    assert counted_by_row(ds, model) == [(1, 2.0), (0, 1.0), (2, 0.0), (4, 0.0)]
    assert scores(ds, model, ("L1", "2026-01-04 12:00"), ("L1", "2026-01-31")) == [2.0, 3.0]
    if where == "files":
        assert "activities" not in ds.tables


@pytest.mark.parametrize("where", ["memory", "files"])
def test_activities_are_ordered_as_a_stable_sort_orders_them_with_missing_values_first(
    where, tmp_path
):
    # What `ACT_ORDER` reproduces within a lead: pandas' stable sort by lead, time, type and category with
    # missing values first, which orders text by code point (upper case before lower case,
    # half-width katakana after kanji) and keeps rows alike in all four in file order.
    rng = np.random.default_rng(7)
    ids = ["b", "B", "a", "L10", "L9", "リード1", "リード2", "ﾘｰﾄﾞ", "顧客"]
    kinds = [
        ("page_view", "pricing"),
        ("page_view", "Pricing"),
        ("page_view", "料金"),
        ("page_view", "ﾌﾟﾗｲｽ"),
        ("page_view", None),
        ("form_submit", "inquiry"),
        ("email_open", None),
    ]
    times = ["2026-01-05 09:00", "2026-01-05 09:00:01", "2026-01-04 23:59:59"]
    acts = [
        (ids[i], *kinds[k], times[t])
        for i, k, t in zip(
            rng.integers(0, len(ids), 400),
            rng.integers(0, len(kinds), 400),
            rng.integers(0, len(times), 400),
            strict=True,
        )
    ]
    acts.append(("b", "page_view", "pricing", "2026-07-01"))  # at the cutoff: left out
    ds = make_dataset([(i, "2026-01-01", "A", None, None) for i in ids], acts)
    frame = ds["activities"].iloc[:-1]
    expected = frame.sort_values(
        ["lead_id", "occurred_at", "activity_type", "category"], kind="stable", na_position="first"
    )
    assert expected.duplicated(["lead_id", "occurred_at", "activity_type", "category"]).sum() > 50
    if where == "files":
        ds = loaded(tmp_path, ds)
    con = points.connect(ds, CUTOFF)
    try:
        got = con.execute(
            f"SELECT _row FROM acts ORDER BY lead_id ASC NULLS FIRST, {points.ACT_ORDER}"
        ).fetchall()
    finally:
        con.close()
    assert [r for (r,) in got] == expected.index.tolist()
    if where == "files":
        assert "activities" not in ds.tables


def reference_counted(ds: Dataset, model: ScoringModel) -> dict[int, float]:
    """What each matched activity (by file row) counts, computed the plain way: every lead's
    activities in cap order, a running sum of points per rule and period."""
    acts = ds["activities"].reset_index(drop=True)
    acts = acts[acts["occurred_at"] < CUTOFF]
    acts = acts.sort_values(
        ["lead_id", "occurred_at", "activity_type", "category"], kind="stable", na_position="first"
    )
    freq = {"day": "D", "week": "W-SUN", "month": "M"}[model.cap_period]
    used: dict[tuple, float] = {}
    out = {}
    for row, a in acts.iterrows():
        rules = [r for r in model.activities if r.activity_type == a["activity_type"]]
        rule = next((r for r in rules if r.category == a["category"]), None)
        rule = rule or next((r for r in rules if r.category is None), None)
        if rule is None or rule.points == 0:
            continue
        if rule.cap is None:
            out[row] = float(rule.points)
            continue
        period = (a["lead_id"], rule.key, a["occurred_at"].to_period(freq))
        before = used.get(period, 0.0)
        used[period] = before + abs(rule.points)
        out[row] = float(np.sign(rule.points) * min(abs(rule.points), max(rule.cap - before, 0)))
    return out


@pytest.mark.parametrize("cap_period", ["day", "week", "month"])
def test_capped_points_equal_a_running_sum_over_the_activities_in_order(cap_period):
    # Most periods stay within the cap (every activity counts in full) and some pass it (the
    # ordered sum decides): whole and fractional points, a negative rule, a rule whose single
    # activity passes its cap, and rules without a cap.
    model = ScoringModel(
        activities=(
            ActivityRule("email_open", 1, cap=3),
            ActivityRule("email_click", 2, cap=5),
            ActivityRule("page_view", 0.1, category="blog", cap=0.3),
            ActivityRule("page_view", 8, category="pricing", cap=5),
            ActivityRule("page_view", 1),
            ActivityRule("unsubscribe", -3, cap=4),
            ActivityRule("form_submit", 40, category="inquiry"),
        ),
        cap_period=cap_period,
    )
    rng = np.random.default_rng(11)
    kinds = [
        ("email_open", None),
        ("email_click", None),
        ("page_view", "blog"),
        ("page_view", "pricing"),
        ("page_view", "top"),
        ("unsubscribe", None),
        ("form_submit", "inquiry"),
    ]
    days = pd.date_range("2026-01-01", "2026-03-31", freq="D")
    acts = [
        (f"L{lead}", *kinds[kind], f"{days[day]:%Y-%m-%d} {hour:02d}:00")
        for lead, kind, day, hour in zip(
            rng.integers(0, 30, 3000),
            rng.integers(0, len(kinds), 3000),
            rng.integers(0, len(days), 3000),
            rng.integers(0, 3, 3000),
            strict=True,
        )
    ]
    ds = make_dataset([(f"L{i}", "2026-01-01", "A", None, None) for i in range(30)], acts)
    expected = reference_counted(ds, model)
    got = dict(counted_by_row(ds, model))
    assert got.keys() == expected.keys()
    assert [got[r] for r in expected] == pytest.approx(list(expected.values()), abs=1e-12)
    # both kinds of period are there: one with an activity that counts only in part or not
    # at all, and many where every activity counts its points
    full = _points(ds, model, expected)
    assert any(abs(v) < abs(p) for v, p in zip(expected.values(), full, strict=True))
    assert sum(v != 0 for v in expected.values()) > len(expected) / 2


def _points(ds: Dataset, model: ScoringModel, rows) -> list[float]:
    acts = ds["activities"]
    by_kind = {(r.activity_type, r.category): r.points for r in model.activities}
    return [
        by_kind.get((acts.at[r, "activity_type"], acts.at[r, "category"]))
        or by_kind[(acts.at[r, "activity_type"], None)]
        for r in rows
    ]


def test_a_category_rule_wins_over_a_type_rule_and_unknown_kinds_score_nothing():
    model = ScoringModel(
        activities=(
            ActivityRule("page_view", 1),
            ActivityRule("page_view", 8, category="pricing"),
        )
    )
    ds = make_dataset(
        [("L1", "2026-01-01", "A", None, None)],
        [
            ("L1", "page_view", "pricing", "2026-01-02"),  # 8, not 1 + 8
            ("L1", "page_view", "blog", "2026-01-03"),  # the type rule: 1
            ("L1", "webinar_attend", None, "2026-01-04"),  # no rule: 0
        ],
    )
    assert scores(ds, model, ("L1", "2026-01-31")) == [9.0]


def test_profile_points_by_value_band_and_empty():
    leads = pd.DataFrame(
        {
            "job_level": ["executive", "staff", None, "manager"],
            "employees": [1000.0, 999.0, np.nan, 299.0],
        }
    )
    rules = (
        ProfileRule("job_level", values=(("executive", 15), ("manager", 10), ("", 2))),
        ProfileRule("employees", values=(("", 3),), bands=(Band(1000, 10), Band(300, 7))),
    )
    # 15 + 10 | 0 + 7 | 2 (empty job) + 3 (empty size) | 10 + 0 (below every band)
    assert points.profile_points(leads, rules).tolist() == [25.0, 7.0, 5.0, 10.0]


def test_event_moments_and_first_crossings_find_when_a_threshold_was_first_reached():
    ds = make_dataset(
        [("L1", "2026-01-01", "A", "executive", 500)],  # profile 22
        [
            ("L1", "page_view", "pricing", "2026-01-10"),  # 30
            ("L1", "unsubscribe", None, "2026-01-12"),  # 20
            ("L1", "form_submit", "inquiry", "2026-01-20"),  # 60
        ],
    )
    ev = points.event_moments(ds, RULES, CUTOFF)
    traj = points.scores_at(ds, RULES, ev, CUTOFF)
    assert traj["score"].tolist() == [22.0, 30.0, 60.0]  # the unsubscribe adds no moment
    cross = points.first_crossings(traj)
    assert cross["high"].tolist() == [22.0, 30.0, 60.0]
    assert cross["low"].tolist()[1:] == [22.0, 30.0]
    at_60 = cross[(cross["low"] < 60) & (cross["high"] >= 60)]["at"]
    assert at_60.tolist() == [pd.Timestamp("2026-01-20")]


# ---------------------------------------------------------------- judgement and censoring


def test_censoring_leaves_out_open_windows_and_counts_only_successes_within_the_window():
    # window 30 days, cut-off 2026-07-01. MQL moments:
    #   L1 2026-03-01, SQL 2026-03-20 (19 days)       -> y = 1
    #   L2 2026-03-01, SQL 2026-04-15 (45 days)       -> y = 0 (too late)
    #   L3 2026-03-01, no SQL                         -> y = 0
    #   L4 2026-06-15, SQL 2026-06-20 (window open)   -> censored, not a success
    #   L5 2026-06-15, no SQL (window open)           -> censored, not a failure
    #   L6 SQL 2026-02-01 before its MQL 2026-03-01   -> not judged at all
    leads = [(f"L{i}", "2026-01-01", "A", None, None) for i in range(1, 7)]
    stages = [
        ("L1", "mql", "2026-03-01"),
        ("L1", "sql", "2026-03-20"),
        ("L2", "mql", "2026-03-01"),
        ("L2", "sql", "2026-04-15"),
        ("L3", "mql", "2026-03-01"),
        ("L4", "mql", "2026-06-15"),
        ("L4", "sql", "2026-06-20"),
        ("L5", "mql", "2026-06-15"),
        ("L6", "sql", "2026-02-01"),
        ("L6", "mql", "2026-03-01"),
    ]
    ds = make_dataset(leads, stages=stages)
    outcome = outcomes.outcome_times(ds, "sql", CUTOFF)
    rows = outcomes.judgement_moments(ds, "mql", "2026-01", "2026-06", outcome)
    assert sorted(rows["lead_id"]) == ["L1", "L2", "L3", "L4", "L5"]
    labelled = outcomes.label_outcomes(rows, outcome, 30, CUTOFF).set_index("lead_id")
    assert labelled.loc[["L1", "L2", "L3"], "y"].tolist() == [1.0, 0.0, 0.0]
    assert labelled.loc[["L4", "L5"], "closed"].tolist() == [False, False]
    assert labelled.loc[["L4", "L5"], "y"].isna().all()


def test_month_end_judges_every_open_lead_until_it_succeeds():
    # L1 created 2026-01-15, SQL 2026-03-10: judged at the end of January and February only.
    ds = make_dataset(
        [("L1", "2026-01-15", "A", None, None), ("L2", "2026-02-01", "A", None, None)],
        stages=[("L1", "sql", "2026-03-10")],
    )
    outcome = outcomes.outcome_times(ds, "sql", CUTOFF)
    rows = outcomes.judgement_moments(ds, "month_end", "2026-01", "2026-04", outcome)
    l1 = rows[rows["lead_id"] == "L1"]["at"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist()
    assert l1 == ["2026-01-31 23:59:59", "2026-02-28 23:59:59"]
    assert len(rows[rows["lead_id"] == "L2"]) == 3  # February, March, April


def test_outcome_can_be_opportunity_or_won():
    ds = make_dataset(
        [("L1", "2026-01-01", "A", None, None)],
        opportunities=[
            ("O1", "L1", "A", "2026-02-01", "lost", "2026-03-01"),
            ("O2", "L1", "A", "2026-02-10", "won", "2026-04-01"),
            ("O3", "L1", "A", "2026-02-20", "won", "2026-03-15"),
        ],
    )
    assert outcomes.outcome_times(ds, "opportunity", CUTOFF)["L1"] == pd.Timestamp("2026-02-01")
    assert outcomes.outcome_times(ds, "won", CUTOFF)["L1"] == pd.Timestamp("2026-03-15")


def test_last_closed_month_needs_the_whole_window_before_the_cutoff():
    # report 2026-10, cut-off 2026-11-01: July ends 07-31 23:59:59, + 90 days = 10-29: closed;
    # August ends 08-31, + 90 days = 11-29: open
    assert outcomes.last_closed_month("2026-10", 90) == "2026-07"
    assert outcomes.last_closed_month("2026-10", 1) == "2026-09"


# ---------------------------------------------------------------- statistics


def test_auc_and_brier_match_scikit_learn_with_ties():
    y = np.array([0, 0, 1, 1, 0, 1, 0, 1, 1, 0])
    score = np.array([10, 20, 20, 30, 30, 30, 5, 50, 10, 40])
    p = np.array([0.1, 0.2, 0.25, 0.4, 0.35, 0.5, 0.05, 0.9, 0.1, 0.6])
    assert evaluate.auc(y, score) == pytest.approx(roc_auc_score(y, score))
    assert evaluate.brier(y, p) == pytest.approx(brier_score_loss(y, p))
    # by hand: 5 successes x 5 failures = 25 pairs; successes {20, 30, 30, 50, 10} against
    # failures {10, 20, 30, 5, 40}: wins 2.5 + 3.5 + 3.5 + 5 + 1.5 = 16 -> 16/25
    assert evaluate.auc(y, score) == pytest.approx(16 / 25)
    assert math.isnan(evaluate.auc([1, 1], [1, 2]))


def test_calibration_of_true_probabilities_is_intercept_0_slope_1():
    rng = np.random.default_rng(7)
    p = rng.uniform(0.02, 0.6, 40_000)
    y = (rng.random(40_000) < p).astype(float)
    intercept, slope = evaluate.calibration(y, p)
    assert intercept == pytest.approx(0.0, abs=0.05)
    assert slope == pytest.approx(1.0, abs=0.05)
    # predictions twice as extreme on the logit scale: the slope says halve them
    logit = np.log(p / (1 - p))
    extreme = 1 / (1 + np.exp(-2 * logit))
    assert evaluate.calibration(y, extreme)[1] == pytest.approx(0.5, abs=0.05)
    # everything predicted too high: a negative calibration intercept
    assert evaluate.calibration(y, np.minimum(p * 1.5, 0.99))[0] < -0.2


def test_platt_maps_a_score_to_the_probabilities_it_was_fitted_on():
    rng = np.random.default_rng(3)
    score = rng.uniform(0, 100, 30_000)
    y = (rng.random(30_000) < 1 / (1 + np.exp(-(-4 + 0.05 * score)))).astype(float)
    mapping = evaluate.platt(score, y)
    assert mapping.intercept == pytest.approx(-4, abs=0.15)
    assert mapping.slope == pytest.approx(0.05, abs=0.004)


def test_rate_table_gives_wilson_intervals_per_band_and_all():
    rows = pd.DataFrame(
        {
            "product": ["A"] * 20 + ["B"] * 5,
            "band": ["60–69"] * 20 + ["70–79"] * 5,
            "y": [1.0] * 8 + [0.0] * 12 + [1.0] * 5,
        }
    )
    out = evaluate.rate_table(rows, "band", ["60–69", "70–79"], products=["A", "B"], min_events=1)
    a = out[(out["product"] == "A") & (out["band"] == "60–69")].iloc[0]
    assert (a["n"], a["events"], a["rate"]) == (20, 8, 0.4)
    # 8 of 20: Wilson 95% (0.2188, 0.6134)
    assert a["ci_low"] == pytest.approx(0.21879, abs=1e-4)
    assert a["ci_high"] == pytest.approx(0.61340, abs=1e-4)
    empty = out[(out["product"] == "A") & (out["band"] == "70–79")].iloc[0]
    assert empty["n"] == 0 and math.isnan(empty["rate"])
    total = out[(out["product"] == "ALL") & (out["band"] == "70–79")].iloc[0]
    assert (total["n"], total["events"]) == (5, 5)


def test_band_of_uses_half_open_bands():
    edges = (0, 20, 60)
    labels = evaluate.band_of(pd.Series([-1.0, 0.0, 19.5, 20.0, 59.0, 60.0, 250.0]), edges)
    assert labels.tolist() == ["<0", "0–19", "0–19", "20–59", "20–59", "60+", "60+"]


# ---------------------------------------------------------------- thresholds


def _toy_rows() -> pd.DataFrame:
    # one judged moment per lead (mql): scores and outcomes over 2 months
    score = [90, 80, 80, 70, 70, 60, 60, 60, 60, 60]
    y = [1, 1, 0, 1, 0, 1, 0, 0, 0, 0]
    return pd.DataFrame(
        {
            "lead_id": [f"L{i}" for i in range(10)],
            "at": _ts(["2026-01-10"] * 10),
            "y": np.array(y, dtype=float),
            "score": np.array(score, dtype=float),
        }
    )


def test_threshold_table_counts_handovers_precision_recall_per_month():
    t = thresholds.threshold_table(
        _toy_rows(), "score", [60, 70, 80, 90], months=2, sql_value=10, mql_cost=1
    ).set_index("threshold")
    assert t["mqls"].tolist() == [10, 5, 3, 1]
    assert t["successes"].tolist() == [4, 3, 2, 1]
    assert t.loc[70, "precision"] == pytest.approx(3 / 5)
    assert t.loc[80, "recall"] == pytest.approx(2 / 4)
    assert t.loc[60, "mqls_per_month"] == 5.0
    # net benefit per month at 70: 1.5 successes x 10 - 2.5 MQLs x 1
    assert t.loc[70, "net_benefit"] == pytest.approx(12.5)


def test_threshold_table_hands_a_lead_over_once_at_its_first_moment_above():
    # month_end judging: L1 is judged three times (50, 75, 80) and succeeds after the last
    rows = pd.DataFrame(
        {
            "lead_id": ["L1", "L1", "L1"],
            "at": _ts(["2026-01-31", "2026-02-28", "2026-03-31"]),
            "y": [0.0, 0.0, 1.0],
            "s": [50.0, 75.0, 80.0],
        }
    )
    t = thresholds.threshold_table(rows, "s", [40, 70, 80], months=3).set_index("threshold")
    assert t["mqls"].tolist() == [1, 1, 1]  # once per threshold, never twice
    assert t["successes"].tolist() == [0, 0, 1]  # handed over in Jan / Feb / Mar


def test_recommendation_for_each_objective():
    t = thresholds.threshold_table(
        _toy_rows(), "score", [60, 70, 80, 90], months=2, sql_value=10, mql_cost=1
    )
    settings = Thresholds(capacity=2.5, target_precision=0.6, sql_value=10, mql_cost=1, min_mqls=1)
    # capacity 2.5 MQLs a month: 60 gives 5, 70 gives 2.5 -> 70
    assert thresholds.recommend(t, "capacity", settings) == 70
    # precision: 60 -> 0.4, 70 -> 0.6 -> the lowest reaching 0.6 is 70
    assert thresholds.recommend(t, "precision", settings) == 70
    # net benefit per month: 60: 2*10-5 = 15; 70: 15-2.5 = 12.5; 80: 10-1.5; 90: 5-.5
    assert thresholds.recommend(t, "net_benefit", settings) == 60
    # a threshold resting on fewer handed-over leads than min_mqls is never recommended
    strict = Thresholds(capacity=0.5, target_precision=0.9, min_mqls=2)
    assert thresholds.recommend(t, "capacity", strict) is None
    assert thresholds.recommend(t, "precision", strict) is None


def test_shared_capacity_goes_to_the_product_that_converts_best():
    def table(points: list[tuple[float, float, float]]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "threshold": [p[0] for p in points],
                "mqls": [100] * len(points),
                "mqls_per_month": [p[1] for p in points],
                "sqls_per_month": [p[2] for p in points],
            }
        )

    good = table([(60, 20, 8), (80, 10, 5)])  # 50% at 80, then 30% for the next 10
    poor = table([(60, 20, 1), (80, 5, 0.5)])  # 10% at 80, then 3%
    got = thresholds.allocate_capacity({"A": good, "C": poor}, 25)
    # A at 80 (10 MQLs, ratio .5), then A to 60 (+10, ratio .3), then C at 80 (+5, .1) = 25
    assert got == {"A": 60, "C": 80}
    assert thresholds.allocate_capacity({"A": good, "C": poor}, 12) == {"A": 80, "C": None}


# ---------------------------------------------------------------- the proposed model


def test_coefficients_become_points_with_the_lowest_profile_value_at_zero():
    rng = np.random.default_rng(11)
    n = 20_000
    level = rng.choice(["executive", "staff", ""], n)
    pricing = rng.poisson(0.7, n).clip(max=3).astype(float)
    logit = -2 + np.select([level == "executive", level == "staff"], [1.4, 0.0], -0.7)
    logit = logit + 0.7 * pricing
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    spec = propose.FeatureSpec(
        profile=(("job_level", ""), ("job_level", "executive"), ("job_level", "staff")),
        activities=(ActivityRule("page_view", 1, category="pricing", cap=3),),
    )
    X = pd.DataFrame(
        {
            "job_level=": (level == "").astype(float),
            "job_level=executive": (level == "executive").astype(float),
            "job_level=staff": (level == "staff").astype(float),
            "page_view:pricing": pricing,
        }
    )
    proposal = Proposal(profile=("job_level",), bands=(), regularisation=100.0, per_period=3)
    fit = propose.fit(X, y, spec, proposal)
    scale = 10 / math.log(2)  # 10 points double the odds
    # profile: empty -0.7, staff 0, executive 1.4 -> shifted so empty is 0: 0, 7(.07)... points
    assert fit.points["job_level="] == 0
    assert fit.points["job_level=staff"] == pytest.approx(0.7 * scale, abs=1.5)
    assert fit.points["job_level=executive"] == pytest.approx(2.1 * scale, abs=1.5)
    assert fit.points["page_view:pricing"] == pytest.approx(0.7 * scale, abs=1.0)
    rule = fit.model.activities[0]
    assert (rule.points, rule.cap) == (int(fit.points["page_view:pricing"]), 3 * rule.points)
    assert all(p >= 0 for r in fit.model.profile for _, p in r.values)


def test_the_point_in_time_scores_score_the_proposed_model_exactly_as_its_features_say():
    # three pricing views in January (cap 2 per month for the proposal) and one in February
    acts = [("L1", "page_view", "pricing", f"2026-01-{d:02d}") for d in (3, 4, 5)]
    acts += [("L1", "page_view", "pricing", "2026-02-02"), ("L1", "email_open", None, "2026-02-03")]
    ds = make_dataset(
        [("L1", "2026-01-01", "A", "executive", 50), ("L2", "2026-01-01", "B", None, None)], acts
    )
    proposal = Proposal(
        profile=("job_level", "product"),
        bands=(),
        per_period=2,
        min_activities=1,
        lookback_days=None,
    )
    spec = propose.feature_spec(ds, proposal)
    m = moments(("L1", "2026-01-31"), ("L1", "2026-02-28"), ("L2", "2026-02-28"))
    con = points.connect(ds, CUTOFF)
    X = propose.feature_matrix(con, ds, m, spec, proposal)
    con.close()
    assert X["page_view:pricing"].tolist() == [2.0, 3.0, 0.0]
    weights = pd.Series(0.0, index=X.columns)
    weights["job_level=executive"] = 9
    weights["product=A"] = 4
    weights["page_view:pricing"] = 6
    weights["email_open"] = -1
    model = ScoringModel(
        profile=(
            ProfileRule("job_level", values=(("executive", 9),)),
            ProfileRule("product", values=(("A", 4),)),
        ),
        activities=(
            ActivityRule("page_view", 6, category="pricing", cap=12),
            ActivityRule("email_open", -1, cap=2),
        ),
    )
    by_engine = points.scores_at(ds, model, m, CUTOFF)["score"].to_numpy()
    assert by_engine.tolist() == [25.0, 30.0, 0.0]  # 13 + 12 | 13 + 18 - 1 | 0
    assert propose.points_score(X, weights).tolist() == by_engine.tolist()


# ---------------------------------------------------------------- configuration


def test_the_model_round_trips_through_yaml():
    text = yaml.safe_dump(RULES.as_dict(), allow_unicode=True, sort_keys=False)
    assert parse_model(yaml.safe_load(text)) == RULES


@pytest.mark.parametrize(
    "change, message",
    [
        ({"current": {"profile": {"jobb_level": {"staff": 1}}}}, "did you mean 'job_level'"),
        (
            {"current": {"engagement": {"rules": [{"activity_type": "email_opn", "points": 1}]}}},
            "did you mean 'email_open'",
        ),
        ({"evaluation": {"judged_at": "weekly"}}, "must be one of month_end, mql"),
        ({"evaluation": {"months": 6, "test_months": 6}}, "leaves no month to fit on"),
        ({"thresholds": {"target_precision": 30}}, "share between 0 and 1"),
        ({"thresholds": {"capacity": {"C": 5}}}, "give the whole team's capacity as ALL"),
        ({"tresholds": {}}, "did you mean 'thresholds'"),
    ],
)
def test_configuration_mistakes_name_the_entry(change, message):
    data = {"current": RULES.as_dict()}
    data.update(change)
    with pytest.raises(ConfigError, match=message):
        parse_config(data, "scoring.yaml")


# ---------------------------------------------------------------- the study


def _study_dataset(
    with_scores: bool,
    leads: list[tuple] = (),
    acts: list[tuple] = (),
    stages: list[tuple] = (),
) -> Dataset:
    # 8 leads of product A and 8 of C, each an MQL on 2026-02-01, judged over Jan-Mar 2026;
    # A leads 1-4 and C lead 1 reach SQL. Scores table: A leads 90 - i, C leads 40 + i.
    # `leads`, `acts`, `stages`: more rows (as `make_dataset` takes them).
    leads, stages, acts, sc = list(leads), list(stages), list(acts), []
    for product in ("A", "C"):
        for i in range(8):
            lid = f"{product}{i}"
            leads.append((lid, "2026-01-05", product, "manager", 100))
            stages.append((lid, "mql", "2026-02-01"))
            acts.append((lid, "form_submit", "inquiry", "2026-01-31"))
            if (product == "A" and i < 4) or (product == "C" and i == 0):
                stages.append((lid, "sql", "2026-02-10"))
            score = 90 - i if product == "A" else 40 + i
            sc.append((lid, "2026-01-31", score, "A1" if i < 4 else "B2"))
    return make_dataset(leads, acts, stages, scores=sc if with_scores else None)


def _config(**evaluation):
    data = {
        "current": RULES.as_dict(),
        "evaluation": {"window_days": 30, "months": 3, "test_months": 1, **evaluation},
        "thresholds": {"min_mqls": 1},
        "proposed": {"min_activities": 1},
    }
    return parse_config(data, "scoring.yaml")


def test_with_a_scores_table_the_tools_own_scores_and_ratings_are_calibrated():
    ds = _study_dataset(with_scores=True)
    study = run(ds, _config(), "2026-04")
    assert study.source == "scores"
    scored = lead_scores(study).set_index("lead_id")
    # the table's values, not the rules' (which would give 10 + 40 = 50 for everyone)
    assert scored.loc["A0", "score_current"] == 90 and scored.loc["C3", "score_current"] == 43
    assert set(study.rows["rating"]) == {"A1", "B2"}
    assert list(scored.columns) == ["product", "scored_at", "score_current", "p_proposed"]


def test_without_a_scores_table_the_rules_are_rebuilt_and_the_flags_show_the_weak_product():
    ds = _study_dataset(with_scores=False)
    study = run(ds, _config(), "2026-04")
    assert study.source == "rules"
    assert set(study.rows["score_current"]) == {50.0}  # manager 10 + inquiry 40
    products = product_table(study).set_index("product")
    assert products.loc["A", "observed"] == 0.5 and products.loc["C", "observed"] == 0.125
    assert products.loc["ALL", "expected"] == pytest.approx(5 / 16)
    model = parse_model(yaml.safe_load(proposed_yaml(study)))  # the YAML reads back as a model
    assert model.mql_threshold == study.proposed.mql_threshold


def test_the_mql_check_scores_every_first_mql_entry_also_those_after_the_outcome():
    # The study judges leads at their first MQL entry, less those that had reached SQL
    # before (X: SQL on 01-20, MQL on 02-01); the check of the recorded MQLs counts them all.
    # X (10 + 40 + 3 x 8 = 74) and A0 (50 + 2 x 8 = 66) had reached the threshold of 60.
    ds = _study_dataset(
        with_scores=False,
        leads=[("X", "2026-01-05", "A", "manager", 100)],
        acts=[("X", "form_submit", "inquiry", "2026-01-10")]
        + [("X", "page_view", "pricing", f"2026-01-1{d}") for d in (1, 2, 3)]
        + [("A0", "page_view", "pricing", f"2026-01-2{d}") for d in (1, 2)],
        stages=[("X", "sql", "2026-01-20"), ("X", "mql", "2026-02-01")],
    )
    study = run(ds, _config(), "2026-04")
    assert "X" not in set(study.rows["lead_id"])
    assert study.mql_check == {"mqls": 17.0, "explained": 2 / 17}
    every = outcomes.judgement_moments(
        ds, "mql", "2026-01", "2026-04", pd.Series(dtype="datetime64[us]")
    )
    scored = points.scores_at(ds, RULES, every, month_bounds("2026-04")[1])
    assert study.mql_check["explained"] == (scored["score"] >= 60).mean()


def test_a_study_on_a_loaded_dataset_never_loads_the_activities_into_pandas(tmp_path):
    in_memory = run(_study_dataset(with_scores=False), _config(), "2026-04")
    ds = loaded(tmp_path, _study_dataset(with_scores=False))
    study = run(ds, _config(), "2026-04")
    assert "activities" not in ds.tables
    assert set(study.rows["score_current"]) == {50.0}
    assert study.proposed == in_memory.proposed
    ev = points.event_moments(ds, RULES, CUTOFF)
    assert len(ev) == 32  # each lead's creation and its inquiry
    assert points.scores_at(ds, RULES, ev, CUTOFF)["score"].max() == 50.0
    assert [r.key for r in propose.feature_spec(ds, Proposal(min_activities=1)).activities] == [
        "form_submit:inquiry"
    ]
    assert "activities" not in ds.tables


def test_a_study_is_kept_with_the_cache_and_read_back_for_the_same_month_and_model(
    tmp_path, monkeypatch
):
    from maops_utils.reports.scoring import study as study_module

    data = write_csv(tmp_path / "data", _study_dataset(with_scores=False))
    cache = tmp_path / ".cache"
    as_of = pd.Timestamp("2026-12-31")
    fresh = run(load_dataset(data, as_of=as_of), _config(), "2026-04")  # no cache: nothing kept
    assert not cache.exists()
    first = run(load_dataset(data, as_of=as_of, cache_dir=cache), _config(), "2026-04")
    assert_same_study(first, fresh)
    (kept,) = cache.glob("facts-*/all/study-2026-04-*.kept")

    computed = []
    compute = study_module._compute
    monkeypatch.setattr(
        study_module, "_compute", lambda *a, **k: computed.append(a[2]) or compute(*a, **k)
    )
    config = _config()
    again = run(load_dataset(data, as_of=as_of, cache_dir=cache), config, "2026-04", locale="en")
    assert computed == []  # read, not computed
    assert again.config is config and again.locale == "en"
    assert_same_study(dataclasses.replace(again, locale="ja"), fresh)

    # another month, or another model (a setting changed), is computed and kept beside it
    ds = load_dataset(data, as_of=as_of, cache_dir=cache)
    run(ds, _config(), "2026-05")
    other = run(ds, _config(window_days=20), "2026-04")
    assert computed == ["2026-05", "2026-04"]
    assert other.config.evaluation.window_days == 20
    assert len(list(cache.glob("facts-*/all/study-*.kept"))) == 3

    # a damaged file is computed again and replaced
    kept.write_bytes(b"not a kept study")
    assert_same_study(run(ds, _config(), "2026-04"), fresh)
    assert computed[-1] == "2026-04" and kept.stat().st_size > 100


# ---------------------------------------------------------------- the score's own scale


def test_the_auc_interval_is_delongs_from_every_pair():
    rng = np.random.default_rng(11)
    y = (rng.random(60) < 0.4).astype(float)
    score = np.round(rng.normal(10 + 3 * y, 3))  # whole numbers: ties on both sides
    pos, neg = score[y == 1], score[y == 0]
    # DeLong by hand: each success's share of failures it beats (ties one half), and each
    # failure's share of successes beating it, pair by pair
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    se = math.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg))
    low, high = evaluate.auc_interval(y, score)
    assert psi.mean() == pytest.approx(roc_auc_score(y, score))
    assert low == pytest.approx(psi.mean() - 1.959963984540054 * se, abs=1e-12)
    assert high == pytest.approx(psi.mean() + 1.959963984540054 * se, abs=1e-12)
    assert all(math.isnan(v) for v in evaluate.auc_interval([1, 0, 0], [3, 2, 1]))


@pytest.mark.parametrize(
    ("scores", "edges"),
    [
        (list(range(7, 19)), (6, 8, 10, 12, 14, 16, 18)),  # a 7-18 index: whole steps of 2
        # a 0-100 score: its 99th percentile is 99, so 80+ is the last band
        (list(range(0, 101)), (0, 20, 40, 60, 80)),
        ([0.05 * i for i in range(21)], (0, 0.2, 0.4, 0.6, 0.8)),  # a probability
    ],
)
def test_bands_follow_the_scores_own_range(scores, edges):
    assert evaluate.score_bands(pd.Series(scores, dtype="float64")) == pytest.approx(edges)


def test_threshold_candidates_step_by_whole_points_on_a_whole_number_score():
    whole = thresholds.candidate_thresholds(pd.Series(range(7, 19), dtype="float64"))
    assert whole == [float(v) for v in range(7, 19)]
    wide = thresholds.candidate_thresholds(pd.Series(range(0, 301), dtype="float64"))
    assert all(float(v).is_integer() for v in wide) and wide[1] - wide[0] == 10
    # 0-75 in about 30 steps would be 2.5 apart: whole scores step by 5
    mid = thresholds.candidate_thresholds(pd.Series(range(0, 76), dtype="float64"))
    assert mid[:3] == [0.0, 5.0, 10.0]
    # a score with fractions keeps fractional steps
    fine = thresholds.candidate_thresholds(pd.Series([0.1 * i for i in range(11)]))
    assert fine[:3] == pytest.approx([0.0, 0.05, 0.1])


def test_a_rating_grid_follows_the_points_when_none_is_configured():
    profile = pd.Series([0.0] * 10 + [18.0] * 10)
    engagement = pd.Series([0.0] * 10 + [40.0] * 10)
    grid = points.derived_grid(profile, engagement)
    assert grid.profile == (("A", 15), ("B", 10), ("C", 5), ("D", 0))  # 18 / 4 = 4.5: whole 5
    assert grid.engagement == (("1", 30), ("2", 20), ("3", 10), ("4", 0))
    assert points.derived_grid(pd.Series([10.0] * 5), engagement[:5]) is None  # no spread


def _scale_config(threshold: float, **evaluation):
    data = {
        "current": {**RULES.as_dict(), "mql_threshold": threshold},
        "evaluation": {"window_days": 30, "months": 3, "test_months": 1, **evaluation},
        "thresholds": {"min_mqls": 1},
        "proposed": {"min_activities": 1},
    }
    return parse_config(data, "scoring.yaml")


def test_a_threshold_off_the_scores_scale_is_not_used_and_the_report_says_so():
    # the tool's scores: A leads 90 - i, C leads 40 + i, so 40-90
    ds = _study_dataset(with_scores=True)
    off = run(ds, _scale_config(120), "2026-04")
    assert off.threshold is None
    assert ("note_threshold_out_of_scale", {"threshold": 120.0, "low": 40.0, "high": 90.0}) in (
        off.notes
    )
    assert not off.threshold_table["current"].any()
    recs = off.recommendations.set_index(["model", "product"])
    assert math.isnan(recs.at[("current", "ALL"), "current_threshold"])
    on = run(ds, _scale_config(60), "2026-04")
    assert on.threshold == 60 and not any(k == "note_threshold_out_of_scale" for k, _ in on.notes)
    table = on.threshold_table
    assert table.loc[table["current"], "threshold"].tolist() == [60.0, 60.0, 60.0]  # ALL, A, C
    # leads judged at their MQL entry had all reached the threshold: one below them is kept
    assert run(ds, _scale_config(30), "2026-04").threshold == 30


def test_bands_set_in_the_settings_win_over_the_scores_own():
    ds = _study_dataset(with_scores=True)
    own = run(ds, _scale_config(60), "2026-04")
    assert own.bands == (40, 50, 60, 70, 80, 90)  # 40-90 in steps of 10
    assert (
        "note_bands_derived",
        {"low": 40.0, "high": 90.0, "edges": "40, 50, 60, 70, 80, 90"},
    ) in own.notes
    fixed = run(ds, _scale_config(60, bands=[0, 50, 100]), "2026-04")
    assert fixed.bands == (0, 50, 100)
    assert not any(k == "note_bands_derived" for k, _ in fixed.notes)
    got = band_table(fixed).query("kind == 'band' and product == 'ALL'").set_index("band")
    # A leads score 83-90 (4 of 8 successes), C leads 40-47 (1 of 8)
    assert got.loc["50–99", ["n", "events"]].tolist() == [8, 4]
    assert got.loc["0–49", ["n", "events"]].tolist() == [8, 1]


def _no_sql_dataset(won: bool) -> Dataset:
    # the 16 MQLs of `_study_dataset` without their SQL stage; with `won`, A0-A3 and C0 close a
    # won deal on 2026-02-10 (their former SQL date)
    leads, stages, opps, sc = [], [], [], []
    for product in ("A", "C"):
        for i in range(8):
            lid = f"{product}{i}"
            leads.append((lid, "2026-01-05", product, "manager", 100))
            stages.append((lid, "mql", "2026-02-01"))
            if won and ((product == "A" and i < 4) or (product == "C" and i == 0)):
                opps.append((f"O-{lid}", lid, product, "2026-02-05", "won", "2026-02-10"))
            sc.append((lid, "2026-01-31", 90 - i if product == "A" else 40 + i, None))
    return make_dataset(leads, stages=stages, opportunities=opps, scores=sc)


def test_without_an_sql_stage_the_outcome_falls_back_to_the_furthest_stage_the_data_has():
    study = run(_no_sql_dataset(won=True), _scale_config(60), "2026-04")
    assert study.outcome == "won"
    assert ("note_outcome_fallback", {"configured": "sql", "used": "won"}) in study.notes
    closed = study.closed
    assert sorted(closed.loc[closed["y"] == 1, "lead_id"]) == ["A0", "A1", "A2", "A3", "C0"]
    assert len(closed) == 16
    # the deals were opportunities too; won is further along
    assert outcomes.resolve_outcome(_no_sql_dataset(won=True), "sql", CUTOFF) == "won"
    # a configured stage the data has is kept
    assert outcomes.resolve_outcome(_no_sql_dataset(won=True), "opportunity", CUTOFF) == (
        "opportunity"
    )


def test_no_success_at_all_names_the_outcome_setting_and_what_the_data_holds():
    from maops_utils.core.errors import NotEnoughData

    with pytest.raises(NotEnoughData) as info:
        run(_no_sql_dataset(won=False), _scale_config(60), "2026-04")
    message = str(info.value)
    assert "0 successes out of 16" in message
    assert "evaluation.outcome in scoring.yaml" in message
    assert "0 reached sql, 0 reached opportunity, 0 reached won" in message


def test_an_outcome_at_an_unknown_time_is_neither_success_nor_failure():
    # A5 and A0 also have an SQL stage change without a date: A0 reached SQL on 02-10 anyway
    # (a success); whether A5 did within its window is unknown, so A5 is left out
    ds = _study_dataset(with_scores=True, stages=[("A5", "sql", None), ("A0", "sql", None)])
    study = run(ds, _scale_config(60), "2026-04")
    assert "A5" not in set(study.rows["lead_id"]) and "A0" in set(study.closed["lead_id"])
    assert ("note_undated_outcome", {"n": 1}) in study.notes


def _snapshot_dataset(extra_scores: list[tuple] = ()) -> Dataset:
    # 10 leads of product A scored 1..10 at an unknown time; leads 6-10 and 2 became customers
    # (an undated won deal), lead 3 an SQL on 2026-02-01
    leads = [(f"S{i}", None, "A", "manager", 100) for i in range(1, 11)]
    won = [(f"O{i}", f"S{i}", "A", None, "won", None) for i in (2, 6, 7, 8, 9, 10)]
    scores = [(f"S{i}", None, float(i), "High" if i > 5 else "Low") for i in range(1, 11)]
    return make_dataset(
        leads,
        stages=[("S3", "sql", "2026-02-01")],
        opportunities=won,
        scores=scores + list(extra_scores),
    )


def test_a_score_snapshot_is_calibrated_once_per_lead_against_whether_it_ever_succeeded():
    config = _scale_config(60, outcome="won", bands=[0, 5, 8])
    study = run(_snapshot_dataset(), config, "2026-04")
    assert study.snapshot and study.judged_at == "snapshot"
    y = {r.lead_id: r.y for r in study.rows.itertuples()}
    assert y == {f"S{i}": float(i in (2, 6, 7, 8, 9, 10)) for i in range(1, 11)}
    assert study.rows["at"].isna().all() and study.rows["closed"].all()
    bands = band_table(study).query("kind == 'band' and product == 'ALL'").set_index("band")
    assert bands.loc["0–4", ["n", "events"]].tolist() == [4, 1]  # S1-S4: S2
    assert bands.loc["5–7", ["n", "events"]].tolist() == [3, 2]  # S5-S7: S6, S7
    assert bands.loc["8+", ["n", "events"]].tolist() == [3, 3]
    ratings = band_table(study).query("kind == 'rating' and product == 'ALL'").set_index("band")
    assert ratings.loc["High", ["n", "events"]].tolist() == [5, 5]
    metrics = metrics_table(study).set_index(["model", "product"])
    truth = [float(i in (2, 6, 7, 8, 9, 10)) for i in range(1, 11)]
    assert metrics.at[("current", "ALL"), "auc"] == pytest.approx(
        roc_auc_score(truth, list(range(1, 11)))
    )
    assert study.folds == 4  # four failures: four folds, each holding both
    assert len(study.backtest) == 10 and study.backtest["p_current"].notna().all()
    assert (study.backtest.groupby("fold")["y"].nunique() == 2).all()
    # the threshold curve counts totals: at 6, S6-S10 are handed over, all successes
    table = study.threshold_table.query("model == 'current' and product == 'ALL'")
    at6 = table[table["threshold"] == 6].iloc[0]
    assert (at6["mqls"], at6["successes"], at6["mqls_per_month"]) == (
        5,
        5,
        pytest.approx(np.nan, nan_ok=True),
    )
    # the SQL outcome is dated (S3 only): judged against it, one success
    sql = run(_snapshot_dataset(), _scale_config(60, outcome="sql"), "2026-04")
    assert sql.closed.set_index("lead_id")["y"].sum() == 1 and sql.outcome == "sql"


def test_a_snapshot_lead_with_two_different_undated_scores_is_left_out():
    study = run(
        _snapshot_dataset([("S1", None, 7.0, "High"), ("S2", None, 2.0, "Low")]),
        _scale_config(60, outcome="won"),
        "2026-04",
    )
    assert "S1" not in set(study.rows["lead_id"])  # 1 or 7: which held?
    assert "S2" in set(study.rows["lead_id"])  # the same score twice is one score
    assert ("note_snapshot_ambiguous", {"n": 1}) in study.notes


def test_undated_scores_beside_dated_ones_are_left_out_and_counted():
    ds = _study_dataset(with_scores=True)
    ds.tables["scores"] = pd.concat(
        [ds["scores"], pd.DataFrame({"lead_id": ["A0"], "scored_at": [pd.NaT], "score": [5.0]})],
        ignore_index=True,
    )
    study = run(ds, _scale_config(60), "2026-04")
    assert not study.snapshot
    assert ("note_undated_scores", {"n": 1}) in study.notes
    assert study.rows.set_index("lead_id").loc["A0", "score_current"] == 90


def test_rebuilt_scores_are_rated_on_a_grid_from_their_own_points_when_none_is_configured():
    # 16 managers at 100 employees with an inquiry: profile 10, engagement 40; two executives
    # at 2,000 employees without activity: profile 25, engagement 0. Profile range 10-25 in
    # four whole steps of 4 (3.75 rounded up): A 22, B 18, C 14, D 10; engagement 0-40: 10.
    extra = [(f"E{i}", "2026-01-05", "A", "executive", 2000) for i in (1, 2)]
    ds = _study_dataset(
        with_scores=False, leads=extra, stages=[(f"E{i}", "mql", "2026-02-01") for i in (1, 2)]
    )
    study = run(ds, _config(), "2026-04")  # RULES configures no rating grid
    assert study.rating_grid.profile == (("A", 22), ("B", 18), ("C", 14), ("D", 10))
    assert study.rating_grid.engagement == (("1", 30), ("2", 20), ("3", 10), ("4", 0))
    rating = study.rows.set_index("lead_id")["rating"]
    assert rating["E1"] == "A4" and set(rating.drop(["E1", "E2"])) == {"D1"}
    assert ("note_grid_derived", {"profile": "A ≥ 22, B ≥ 18, C ≥ 14, D ≥ 10",
            "engagement": "1 ≥ 30, 2 ≥ 20, 3 ≥ 10, 4 ≥ 0"}) in study.notes  # fmt: skip
    cells = band_table(study).query("kind == 'rating' and product == 'ALL' and n > 0")
    assert cells.set_index("band")["n"].to_dict() == {"A4": 2, "D1": 16}


def test_the_verdicts_speak_of_the_score_not_of_the_leads_quality():
    # "over-qualified" read as "the leads are too good": the verdict is about the score
    from maops_utils.core.i18n import t

    over, under = t("sc_flag_over", "en"), t("sc_flag_under", "en")
    assert over.startswith("over-scored") and under.startswith("under-scored")
    assert "qualified" not in over + under
