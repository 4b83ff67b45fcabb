"""Cohort conversion and velocity on a tiny dataset worked out by hand.

Report month 2026-03: the cut-off is 2026-04-01 00:00. With `cohorts=4` the cohorts are
2025-12 (no leads), 2026-01, 2026-02 and 2026-03. Products: A and B have leads, D only has a
sales-sourced deal. "d" below means days after the lead's created_at; ε is one second
(1 / 86400 day).

Leads and what happens to them:

    L1 A 2026-01-31 23:59:59 (last second of January)
        mql 2026-03-02 23:59:59 = exactly 30 d (February has 28 days)     -> reached in 30
        O4 lost                                                           -> never won
    L2 A 2026-02-01 00:00:00 (first second of February)
        mql 2026-01-25, before created_at                                 -> reached in 30
        sql 2026-04-01 00:00:00 = 59 d, at the cut-off                    -> not counted
    L3 A 2026-01-10 00:00:00
        mql 2026-02-09 00:00:01 = 30 d + ε                                -> not in 30, in 60
        sql 2026-02-20 = 41 d                                             -> not in 30, in 60
        O1 won 2026-02-01 (22 d) and O2 won 2026-02-20 (41 d)             -> won once, in 30
    L4 B 2026-01-05 12:00:00
        mql 2026-01-20 12:00 (15 d), recycled mql 2026-03-30 (84 d)      -> first entry: in 30
        sql 2026-01-25 12:00 = 20 d                                       -> in 30
        O3 won 2026-04-05 00:00 = 89.5 d, after the cut-off               -> not counted
    L5 B 2026-02-10 00:00:00
        mql 2026-02-11 = 1 d                                              -> in 30
        sql 2026-03-12 00:00:01 = 30 d + ε                                -> not in 30, in 60
        O6 won 2026-03-12 00:00:00 = exactly 30 d                         -> in 30
    L6 B 2026-03-15 00:00:00
        mql 2026-03-20 = 5 d
    L7 A 2025-11-20 00:00:00 (before the four cohorts)
        mql 2026-01-10 (51 d), sql 2026-01-15 (56 d), O7 won 2026-03-01 (101 d)
    O5 D won 2026-02-15, no lead_id (sales-sourced): in no cohort

Maturity (`end of cohort month + N days <= 2026-04-01`):
    2025-12: 2026-01-01 + 30/60/90 d = 01-31 / 03-02 / 04-01 -> mature for all three (90 exactly)
    2026-01: 2026-02-01 + 30/60/90 d = 03-03 / 04-02 / 05-02 -> mature for 30 only
             (60 days misses by one day: February has 28 days)
    2026-02: 2026-03-01 + 30 d = 03-31                     -> mature for 30 only
    2026-03: 2026-04-01 + 30 d = 05-01                     -> never
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlglot

from maops_utils.contract.dataset import Dataset
from maops_utils.contract.load import load_dataset
from maops_utils.core.stats import wilson_interval
from maops_utils.metrics import funnel

LEADS = """lead_id,created_at,product,lead_source
L1,2026-01-31 23:59:59,A,webinar
L2,2026-02-01 00:00:00,A,web_ad
L3,2026-01-10 00:00:00,A,organic
L4,2026-01-05 12:00:00,B,exhibition
L5,2026-02-10 00:00:00,B,
L6,2026-03-15 00:00:00,B,referral
L7,2025-11-20 00:00:00,A,event
"""

STAGE_CHANGES = """lead_id,stage,changed_at
L1,mql,2026-03-02 23:59:59
L2,mql,2026-01-25 00:00:00
L2,sql,2026-04-01 00:00:00
L3,mql,2026-02-09 00:00:01
L3,sql,2026-02-20 00:00:00
L4,mql,2026-01-20 12:00:00
L4,mql,2026-03-30 12:00:00
L4,sql,2026-01-25 12:00:00
L5,mql,2026-02-11 00:00:00
L5,sql,2026-03-12 00:00:01
L6,mql,2026-03-20 00:00:00
L7,mql,2026-01-10 00:00:00
L7,sql,2026-01-15 00:00:00
"""

OPPORTUNITIES = """opportunity_id,lead_id,product,created_at,status,closed_at,amount
O1,L3,A,2026-01-25 00:00:00,won,2026-02-01 00:00:00,1000000
O2,L3,A,2026-02-05 00:00:00,won,2026-02-20 00:00:00,1500000
O3,L4,B,2026-02-01 00:00:00,won,2026-04-05 00:00:00,800000
O4,L1,A,2026-02-05 00:00:00,lost,2026-02-10 00:00:00,900000
O5,,D,2026-01-10 00:00:00,won,2026-02-15 00:00:00,2000000
O6,L5,B,2026-02-20 00:00:00,won,2026-03-12 00:00:00,700000
O7,L7,A,2026-02-01 00:00:00,won,2026-03-01 00:00:00,1200000
"""

ACTIVITIES = """lead_id,activity_type,occurred_at
L1,email_send,2026-01-31 23:59:59
"""

MONTH = "2026-03"
AS_OF = pd.Timestamp("2026-06-01 00:00")
EPS = 1 / 86400  # one second in days
NAN = float("nan")


def _write(folder: Path, opportunities: str = OPPORTUNITIES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(LEADS, encoding="utf-8")
    (folder / "stage_changes.csv").write_text(STAGE_CHANGES, encoding="utf-8")
    (folder / "opportunities.csv").write_text(opportunities, encoding="utf-8")
    (folder / "activities.csv").write_text(ACTIVITIES, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Dataset:
    return load_dataset(_write(tmp_path_factory.mktemp("funnel")), as_of=AS_OF)


@pytest.fixture(scope="module")
def cohorts(dataset) -> pd.DataFrame:
    return funnel.cohort_conversion(dataset, MONTH, cohorts=4)


def _row(frame: pd.DataFrame, cohort: str, product: str, stage: str, days: int) -> pd.Series:
    hit = frame[
        (frame["cohort"] == cohort)
        & (frame["product"] == product)
        & (frame["stage"] == stage)
        & (frame["window_days"] == days)
    ]
    assert len(hit) == 1, (cohort, product, stage, days)
    return hit.iloc[0]


def _reached(frame: pd.DataFrame, cohort: str, product: str, stage: str) -> list[int]:
    return [int(_row(frame, cohort, product, stage, n)["reached"]) for n in (30, 60, 90)]


# ---------------------------------------------------------------- cohort conversion


def test_cohort_table_has_every_cell(cohorts):
    assert list(cohorts.columns) == funnel.COHORT_COLUMNS
    # 4 cohorts x (A, B, D, ALL) x 3 stages x 3 windows
    assert len(cohorts) == 4 * 4 * 3 * 3
    assert list(cohorts["cohort"].unique()) == ["2025-12", "2026-01", "2026-02", "2026-03"]
    assert list(cohorts["product"].unique()) == ["A", "B", "D", "ALL"]
    assert list(cohorts["stage"].unique()) == ["mql", "sql", "won"]
    assert cohorts["leads"].dtype == "int64" and cohorts["reached"].dtype == "int64"
    assert cohorts["mature"].dtype == bool


def test_cohort_sizes_respect_month_boundaries(cohorts):
    sizes = (
        cohorts[(cohorts["stage"] == "mql") & (cohorts["window_days"] == 30)]
        .set_index(["cohort", "product"])["leads"]
        .to_dict()
    )
    # January: L1 (23:59:59 on the 31st) and L3 for A, L4 for B; February: L2 (00:00 on the
    # 1st) for A, L5 for B; March: L6; L7 (November) is before the first cohort.
    assert sizes == {
        ("2025-12", "A"): 0, ("2025-12", "B"): 0, ("2025-12", "D"): 0, ("2025-12", "ALL"): 0,
        ("2026-01", "A"): 2, ("2026-01", "B"): 1, ("2026-01", "D"): 0, ("2026-01", "ALL"): 3,
        ("2026-02", "A"): 1, ("2026-02", "B"): 1, ("2026-02", "D"): 0, ("2026-02", "ALL"): 2,
        ("2026-03", "A"): 0, ("2026-03", "B"): 1, ("2026-03", "D"): 0, ("2026-03", "ALL"): 1,
    }  # fmt: skip


def test_reached_counts_match_hand_computation(cohorts):
    # January, A: L1 mql at exactly 30 d; L3 mql at 30 d + 1 s (60 and 90 only)
    assert _reached(cohorts, "2026-01", "A", "mql") == [1, 2, 2]
    # L3 sql at 41 d
    assert _reached(cohorts, "2026-01", "A", "sql") == [0, 1, 1]
    # L3 won twice (22 d, 41 d): one lead; L1's deal was lost
    assert _reached(cohorts, "2026-01", "A", "won") == [1, 1, 1]
    # January, B: L4's first mql (15 d) counts, not the recycled one (84 d)
    assert _reached(cohorts, "2026-01", "B", "mql") == [1, 1, 1]
    assert _reached(cohorts, "2026-01", "B", "sql") == [1, 1, 1]
    # L4's won deal closes 2026-04-05, within 90 d but after the cut-off
    assert _reached(cohorts, "2026-01", "B", "won") == [0, 0, 0]
    assert _reached(cohorts, "2026-01", "ALL", "mql") == [2, 3, 3]
    assert _reached(cohorts, "2026-01", "ALL", "sql") == [1, 2, 2]
    assert _reached(cohorts, "2026-01", "ALL", "won") == [1, 1, 1]
    # February, A: L2's mql before created_at counts; its sql at the cut-off does not
    assert _reached(cohorts, "2026-02", "A", "mql") == [1, 1, 1]
    assert _reached(cohorts, "2026-02", "A", "sql") == [0, 0, 0]
    assert _reached(cohorts, "2026-02", "A", "won") == [0, 0, 0]
    # February, B: L5 sql at 30 d + 1 s (not in 30), won at exactly 30 d (in 30)
    assert _reached(cohorts, "2026-02", "B", "mql") == [1, 1, 1]
    assert _reached(cohorts, "2026-02", "B", "sql") == [0, 1, 1]
    assert _reached(cohorts, "2026-02", "B", "won") == [1, 1, 1]
    assert _reached(cohorts, "2026-02", "ALL", "sql") == [0, 1, 1]
    # March: L6 mql at 5 d (counts kept although nothing is mature)
    assert _reached(cohorts, "2026-03", "B", "mql") == [1, 1, 1]
    assert _reached(cohorts, "2026-03", "ALL", "won") == [0, 0, 0]
    # the sales-sourced deal of D belongs to no cohort
    assert (cohorts.loc[cohorts["product"] == "D", ["leads", "reached"]] == 0).all().all()


def test_maturity(cohorts):
    mature = (
        cohorts[(cohorts["product"] == "ALL") & (cohorts["stage"] == "mql")]
        .set_index(["cohort", "window_days"])["mature"]
        .to_dict()
    )
    assert mature == {
        ("2025-12", 30): True, ("2025-12", 60): True, ("2025-12", 90): True,  # 90: 04-01 exactly
        ("2026-01", 30): True, ("2026-01", 60): False, ("2026-01", 90): False,  # 60: 04-02
        ("2026-02", 30): True, ("2026-02", 60): False, ("2026-02", 90): False,
        ("2026-03", 30): False, ("2026-03", 60): False, ("2026-03", 90): False,
    }  # fmt: skip
    # maturity depends on the cohort and the window only, not on the product or stage
    assert cohorts.groupby(["cohort", "window_days"])["mature"].nunique().eq(1).all()


def test_rates_and_intervals(cohorts):
    # mature January, 30 days: ALL is 2 of 3, not the mean of A (1/2) and B (1/1)
    row = _row(cohorts, "2026-01", "ALL", "mql", 30)
    assert row["rate"] == pytest.approx(2 / 3)
    low, high = wilson_interval(2, 3)
    assert row["ci_low"] == pytest.approx(float(low)) and row["ci_high"] == pytest.approx(
        float(high)
    )
    assert row["ci_low"] < 2 / 3 < row["ci_high"]
    assert _row(cohorts, "2026-01", "A", "mql", 30)["rate"] == pytest.approx(0.5)
    assert _row(cohorts, "2026-01", "B", "won", 30)["rate"] == 0.0
    assert _row(cohorts, "2026-02", "ALL", "won", 30)["rate"] == pytest.approx(0.5)
    # immature: counts kept, rate and interval empty
    row = _row(cohorts, "2026-01", "ALL", "mql", 60)
    assert row["reached"] == 3 and row["leads"] == 3 and not row["mature"]
    assert math.isnan(row["rate"]) and math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    # mature but without leads: empty, too
    row = _row(cohorts, "2025-12", "ALL", "won", 90)
    assert row["mature"] and row["leads"] == 0 and math.isnan(row["rate"])
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    # every rate is empty exactly where the cohort is immature or empty
    empty = cohorts["rate"].isna()
    assert (empty == (~cohorts["mature"] | (cohorts["leads"] == 0))).all()
    assert (cohorts["ci_low"].isna() == empty).all() and (cohorts["ci_high"].isna() == empty).all()


def test_old_month_is_stable_when_later_data_arrives(dataset, cohorts):
    # The same data as it stood at the cut-off 2026-04-01: L2's sql (04-01 00:00) not yet
    # recorded, O3 still open. The report for 2026-03 must not change.
    cutoff = pd.Timestamp("2026-04-01")
    stages = dataset["stage_changes"]
    opps = dataset["opportunities"].copy()
    late = opps["closed_at"] >= cutoff
    opps.loc[late, "status"] = "open"
    opps.loc[late, "closed_at"] = pd.NaT
    then = Dataset(
        {
            **{n: dataset[n] for n in dataset.names},
            "stage_changes": stages[stages["changed_at"] < cutoff],
            "opportunities": opps,
        }
    )
    assert len(then["stage_changes"]) == len(stages) - 1 and late.sum() == 1
    pd.testing.assert_frame_equal(funnel.cohort_conversion(then, MONTH, cohorts=4), cohorts)


def test_next_month_sees_the_later_events(dataset):
    later = funnel.cohort_conversion(dataset, "2026-04", cohorts=5)
    # cut-off 2026-05-01: L2's sql (59 d) now counts for February, L4's won (89.5 d) for January
    assert _reached(later, "2026-02", "A", "sql") == [0, 1, 1]
    assert _reached(later, "2026-01", "B", "won") == [0, 0, 1]
    # February + 60 d = 04-30 <= 05-01: mature now; January + 90 d = 05-02: not yet
    assert _row(later, "2026-02", "A", "sql", 60)["mature"]
    assert _row(later, "2026-02", "A", "sql", 60)["rate"] == 1.0
    assert not _row(later, "2026-01", "B", "won", 90)["mature"]


def test_default_cohorts_and_product_restriction(dataset, cohorts):
    full = funnel.cohort_conversion(dataset, MONTH)
    assert len(full) == 12 * 4 * 3 * 3
    assert full["cohort"].iloc[0] == "2025-04" and full["cohort"].iloc[-1] == "2026-03"
    # L7's November cohort: mql 51 d, sql 56 d, won 101 d; mature for 90 (12-01 + 90 d = 03-01)
    assert _reached(full, "2025-11", "A", "mql") == [0, 1, 1]
    assert _reached(full, "2025-11", "A", "sql") == [0, 1, 1]
    assert _reached(full, "2025-11", "A", "won") == [0, 0, 0]
    assert _row(full, "2025-11", "A", "won", 90)["rate"] == 0.0
    # the last four cohorts are the same table as with cohorts=4
    tail = full[full["cohort"] >= "2025-12"].reset_index(drop=True)
    pd.testing.assert_frame_equal(tail, cohorts)

    only_b = funnel.cohort_conversion(dataset, MONTH, cohorts=4, products=["B"])
    assert list(only_b["product"].unique()) == ["B", "ALL"]
    # ALL is still the whole dataset
    mine = only_b[only_b["product"] == "ALL"].reset_index(drop=True)
    theirs = cohorts[cohorts["product"] == "ALL"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)


def test_windows_are_configurable(dataset):
    got = funnel.cohort_conversion(dataset, MONTH, cohorts=3, windows=(7, 41))
    assert sorted(got["window_days"].unique()) == [7, 41]
    # January A sql: L3 at exactly 41 d
    assert [int(_row(got, "2026-01", "A", "sql", n)["reached"]) for n in (7, 41)] == [0, 1]
    # January + 41 d = 03-14: mature; February + 41 d = 04-11: not
    assert _row(got, "2026-01", "A", "sql", 41)["mature"]
    assert not _row(got, "2026-02", "A", "sql", 41)["mature"]
    with pytest.raises(ValueError):
        funnel.cohort_conversion(dataset, MONTH, cohorts=0)


def test_without_opportunity_lead_ids_nothing_is_won(dataset):
    # lead_id is optional in opportunities: without it no deal belongs to a lead. A file
    # without the column loads with it empty (tests/test_contract.py), as here.
    opps = dataset["opportunities"].assign(lead_id=None)
    ds = Dataset({**{n: dataset[n] for n in dataset.names}, "opportunities": opps})
    got = funnel.cohort_conversion(ds, MONTH, cohorts=4)
    assert got.loc[got["stage"] == "won", "reached"].sum() == 0
    assert got.loc[got["stage"] == "mql", "reached"].sum() > 0
    v = funnel.velocity(ds, MONTH, lookback_months=3)
    assert v.loc[v["transition"].isin(["sql_to_won", "lead_to_won"]), "n"].sum() == 0


# ---------------------------------------------------------------- velocity

# Durations (days) whose later event falls in 2026-01 .. 2026-03 (lookback_months=3):
#   lead_to_mql  A: L1 30, L3 30 + ε, L7 51 (L2's -7 d excluded)     B: L4 15, L5 1, L6 5
#   mql_to_sql   A: L3 11 - ε, L7 5 (L2's sql is after the cut-off)  B: L4 5, L5 29 + ε
#   sql_to_won   A: L7 45 (L3's first won is 19 d before its sql: excluded)
#                B: none (L5 won 1 s before its sql: excluded; L4's won is after the cut-off)
#   lead_to_won  A: L3 22 (its first won deal), L7 101               B: L5 30
DURATIONS = {
    ("A", "lead_to_mql"): [30, 30 + EPS, 51],
    ("A", "mql_to_sql"): [11 - EPS, 5],
    ("A", "sql_to_won"): [45],
    ("A", "lead_to_won"): [22, 101],
    ("B", "lead_to_mql"): [15, 1, 5],
    ("B", "mql_to_sql"): [5, 29 + EPS],
    ("B", "sql_to_won"): [],
    ("B", "lead_to_won"): [30],
}
for _t in funnel.TRANSITIONS:
    DURATIONS[("D", _t)] = []
    DURATIONS[("ALL", _t)] = DURATIONS[("A", _t)] + DURATIONS[("B", _t)]


@pytest.fixture(scope="module")
def speeds(dataset) -> pd.DataFrame:
    return funnel.velocity(dataset, MONTH, lookback_months=3)


def _speed(frame: pd.DataFrame, product: str, transition: str) -> pd.Series:
    hit = frame[(frame["product"] == product) & (frame["transition"] == transition)]
    assert len(hit) == 1, (product, transition)
    return hit.iloc[0]


def test_velocity_table_shape(speeds):
    assert list(speeds.columns) == funnel.VELOCITY_COLUMNS
    assert len(speeds) == 4 * 4
    assert list(speeds["product"].unique()) == ["A", "B", "D", "ALL"]
    assert list(speeds["transition"].unique()) == list(funnel.TRANSITIONS)
    assert speeds["n"].dtype == "int64"


def test_velocity_hand_values(speeds):
    # A lead_to_mql, sorted 30, 30 + ε, 51: p25 at position 0.5, p75 at 1.5
    a = _speed(speeds, "A", "lead_to_mql")
    assert a["n"] == 3
    assert a["p25"] == pytest.approx(30 + EPS / 2, abs=1e-9)
    assert a["median"] == pytest.approx(30 + EPS, abs=1e-9)
    assert a["p75"] == pytest.approx(40.5 + EPS / 2, abs=1e-9)
    assert a["mean"] == pytest.approx(37 + EPS / 3, abs=1e-9)
    # B lead_to_mql, sorted 1, 5, 15: 3, 5, 10, mean 7
    b = _speed(speeds, "B", "lead_to_mql")
    assert [b["n"], b["p25"], b["median"], b["p75"], b["mean"]] == pytest.approx([3, 3, 5, 10, 7])
    # ALL lead_to_won: 22, 30, 101 -> 26, 30, 65.5, mean 51
    w = _speed(speeds, "ALL", "lead_to_won")
    assert [w["n"], w["p25"], w["median"], w["p75"], w["mean"]] == pytest.approx(
        [3, 26, 30, 65.5, 51]
    )
    # a single duration is every statistic
    s = _speed(speeds, "A", "sql_to_won")
    assert [s["n"], s["p25"], s["median"], s["p75"], s["mean"]] == pytest.approx(
        [1, 45, 45, 45, 45]
    )
    # negative durations are excluded: L2's lead_to_mql (-7 d) and L3's / L5's sql_to_won
    assert _speed(speeds, "ALL", "sql_to_won")["n"] == 1


def test_velocity_matches_numpy_on_the_same_durations(speeds):
    for (product, transition), days in DURATIONS.items():
        row = _speed(speeds, product, transition)
        assert row["n"] == len(days), (product, transition)
        if not days:
            assert row[["p25", "median", "p75", "mean"]].isna().all(), (product, transition)
            continue
        expected = [*np.quantile(days, [0.25, 0.5, 0.75]), np.mean(days)]
        got = row[["p25", "median", "p75", "mean"]].to_numpy(dtype=float)
        np.testing.assert_allclose(
            got, expected, rtol=0, atol=1e-9, err_msg=f"{product} {transition}"
        )


def test_velocity_lookback_and_products(dataset):
    # 2026-03 only: L1 30, L6 5 for lead_to_mql; L5 29 + ε for mql_to_sql; L7 45 and L5 30
    one = funnel.velocity(dataset, MONTH, lookback_months=1, products=["B"])
    assert list(one["product"].unique()) == ["B", "ALL"]
    assert _speed(one, "ALL", "lead_to_mql")["n"] == 2
    assert _speed(one, "ALL", "lead_to_mql")["median"] == pytest.approx(17.5)
    assert _speed(one, "B", "mql_to_sql")["median"] == pytest.approx(29 + EPS, abs=1e-9)
    assert _speed(one, "ALL", "lead_to_won")["median"] == pytest.approx((101 + 30) / 2)
    # December 2025 alone: nothing ended then, every statistic empty
    dec = funnel.velocity(dataset, "2025-12", lookback_months=1)
    assert (dec["n"] == 0).all() and dec[["p25", "median", "p75", "mean"]].isna().all().all()


# ---------------------------------------------------------------- SQL portability


@pytest.mark.parametrize(
    "sql",
    [
        funnel.compile_cohort_query(MONTH, cohorts=4, windows=(30, 60, 90)),
        funnel.compile_velocity_query(MONTH, lookback_months=3),
    ],
    ids=["cohort", "velocity"],
)
def test_queries_transpile_to_spark(sql):
    spark = sqlglot.transpile(sql, read="duckdb", write="spark")
    assert len(spark) == 1
    parsed = sqlglot.parse_one(spark[0], read="spark")
    assert parsed is not None
    text = spark[0].upper()
    # no engine-specific quantile function that sqlglot would turn into an approximate one
    assert "PERCENTILE" not in text and "QUANTILE" not in text
    assert "GROUPING SETS" in text or "ROW_NUMBER()" in text


def test_compile_functions_return_spark_sql_directly():
    spark = funnel.compile_cohort_query(MONTH, dialect="spark")
    assert "INTERVAL '1' DAY" in spark.upper()
    sqlglot.parse_one(spark, read="spark")
    sqlglot.parse_one(funnel.compile_velocity_query(MONTH, dialect="spark"), read="spark")


def test_module_is_fast(dataset):
    start = time.perf_counter()
    funnel.cohort_conversion(dataset, MONTH)
    funnel.velocity(dataset, MONTH)
    assert time.perf_counter() - start < 2


def test_velocity_mean_is_the_same_whatever_the_order_of_addition(tmp_path):
    """The mean is an exact sum of whole microseconds divided once: the same double however
    the rows are split between threads (a sum of doubles added in another order differs in
    its last digits: velocity.csv differed between two runs of the same data)."""
    rng = np.random.default_rng(7)
    n = 200_000
    created = pd.Timestamp("2026-01-01") + pd.to_timedelta(
        rng.integers(0, 40 * 86_400_000_000, n), unit="us"
    )
    mql = created + pd.to_timedelta(rng.integers(1, 50 * 86_400_000_000, n), unit="us")
    folder = _write(tmp_path / "data")
    ids = [f"R{i}" for i in range(n)]
    pd.DataFrame(
        {"lead_id": ids, "created_at": created, "product": "A", "lead_source": "web"}
    ).to_csv(folder / "leads.csv", index=False)
    pd.DataFrame({"lead_id": ids, "stage": "mql", "changed_at": mql}).to_csv(
        folder / "stage_changes.csv", index=False
    )
    ds = load_dataset(folder, as_of=AS_OF)
    means = []
    for threads in (1, 2, 4):
        ds.store.db.execute(f"SET threads = {threads}")
        row = _speed(funnel.velocity(ds, MONTH, lookback_months=3), "A", "lead_to_mql")
        means.append(row["mean"])
    assert means[0] == means[1] == means[2]
    kept = (mql >= pd.Timestamp("2026-01-01")) & (mql < pd.Timestamp("2026-04-01"))
    assert row["n"] == kept.sum() > 100_000
    assert means[0] == pytest.approx((mql - created)[kept].mean() / pd.Timedelta(days=1), rel=1e-12)
