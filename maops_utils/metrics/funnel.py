"""Funnel analysis: how many leads of a month convert, and how fast.

Definitions (the glossary quotes these):

**Cohort.** A lead belongs to the cohort of the month of its `created_at` (month M runs from
the first day 00:00 to the first day of the next month 00:00, local time). A lead counts
under its own product and under `ALL` (the whole business, not a sum of products).

**Reached MQL / SQL within N days.** The lead's *first* entry into the stage is at most N days
after the lead was created (`first entry <= created_at + N days`, so exactly N days counts and
N days plus one second does not). A later re-entry (recycling) does not matter, and an entry
dated before `created_at` counts as reached.

**Won within N days.** The lead has at least one opportunity (linked by the opportunity's
`lead_id`) with status `won` and `closed_at <= created_at + N days`. A lead with several won
deals counts once. Sales-sourced deals (no `lead_id`) belong to no cohort.

**Cut-off.** A report for month M is "as of" the end of M (the first day of the next month
00:00). Stage entries and closes at or after the cut-off are not counted, so a report for an
old month gives the same numbers when it is run again later.

**Maturity.** A cohort is *mature* for a window of N days when even its last possible lead had
the full N days before the cut-off: `end of the cohort month + N days <= cut-off`. For an
immature cohort the counts are shown but the rate and its interval are left empty ("too young
to judge"): its leads have not all had the time to convert yet.

**Conversion rate** = leads that reached the stage within N days / leads of the cohort, with a
95% Wilson interval. It is empty when the cohort has no leads or is not mature.

**Velocity.** Days (seconds / 86,400, with fractions) between two funnel events of one lead,
counted in the month of the *later* event, for the transitions whose later event falls in the
look-back months ending with M:

- `lead_to_mql`: first MQL entry − lead created;
- `mql_to_sql`: first SQL entry − first MQL entry (leads with both);
- `sql_to_won`: close of the lead's first won deal − first SQL entry (leads with both);
- `lead_to_won`: close of the lead's first won deal − lead created.

A negative duration (the later event recorded before the earlier one: bad data) is left out of
every transition. Per product (the lead's product) and `ALL`: the number of durations `n`, the
quartiles `p25`, `median`, `p75` (interpolated between neighbouring values, as numpy's default
"linear" method and Excel's PERCENTILE.INC) and the `mean`; all empty when `n` is 0.

Everything is aggregated in SQL (DuckDB dialect, transpiled to Spark by SQLGlot; see
docs/decisions.md), run on the chosen engine (`engine=`, else DuckDB in this process:
`engines.engine_for`); pandas only completes the grid and
computes rates and intervals on the aggregated rows. The quartiles are computed with plain window functions rather than
`QUANTILE_CONT` / `PERCENTILE_CONT`, because SQLGlot turns those into Spark calls that are
either invalid (`PERCENTILE_CONT(x, q)` without `WITHIN GROUP`) or approximate
(`PERCENTILE_APPROX`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..backends import engines
from ..backends.relations import timestamp_literal, to_dialect
from ..contract.dataset import Dataset
from ..core.errors import NotEnoughData
from ..core.months import month_bounds, month_range
from ..core.schema import ALL
from ..core.stats import wilson_interval

# Why an analysis of one lead through its stages is not made for stage reports (data whose
# stages come from reports of their own without a shared id: `Dataset.follows_leads`).
NOT_FOLLOWED = (
    "this data counts each stage from a report of its own, with no id shared between them, "
    "so no lead can be followed from one stage to the next; cohorts, velocity, the same "
    "lead's conversion, the win rate and scoring need that"
)


def unrecorded_stages(dataset: Dataset) -> list[str]:
    """The funnel's stage counts (`new_leads`, `mqls`, `sqls`, `opportunities`, `won_deals`)
    of which the data holds no record at all, in any month: a stage report never exported, a
    CRM without an SQL stage. Their counts are 0 by definition, which here means "not
    recorded", not "none happened"."""
    stages = dataset["stage_changes"]["stage"]
    opps = dataset["opportunities"]
    events = dataset["stage_events"]["stage"] if dataset.has("stage_events") else pd.Series()
    recorded = {
        "new_leads": not dataset["leads"].empty,
        "mqls": (stages == "mql").any() or (events == "mql").any(),
        "sqls": (stages == "sql").any() or (events == "sql").any(),
        "opportunities": not opps.empty or (events == "opportunity").any(),
        "won_deals": (opps["status"] == "won").any() or (events == "won").any(),
    }
    return [name for name, seen in recorded.items() if not seen]


def require_followed(dataset: Dataset, what: str) -> None:
    """Raise `NotEnoughData` (the batch publishes the month without that report and says
    why) when `dataset` cannot follow a lead through its stages: `what` needs it."""
    if not dataset.follows_leads:
        raise NotEnoughData(f"{what} is not available: {NOT_FOLLOWED}.")


FUNNEL_STAGES: tuple[str, ...] = ("mql", "sql", "won")
TRANSITIONS: tuple[str, ...] = ("lead_to_mql", "mql_to_sql", "sql_to_won", "lead_to_won")
QUANTILES: tuple[tuple[str, float], ...] = (("p25", 0.25), ("median", 0.5), ("p75", 0.75))

COHORT_COLUMNS = [
    "cohort",
    "product",
    "stage",
    "window_days",
    "leads",
    "reached",
    "rate",
    "ci_low",
    "ci_high",
    "mature",
]
VELOCITY_COLUMNS = ["product", "transition", "n", "p25", "median", "p75", "mean"]

# Each funnel transition: (name, start column, end column) of the per-lead event row.
_SPANS = (
    ("lead_to_mql", "created_at", "mql_at"),
    ("mql_to_sql", "mql_at", "sql_at"),
    ("sql_to_won", "sql_at", "won_at"),
    ("lead_to_won", "created_at", "won_at"),
)


# ---------------------------------------------------------------- engine


def _check_month_count(name: str, value: int) -> None:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")


# ---------------------------------------------------------------- cohort conversion


def compile_cohort_query(
    month: str,
    *,
    cohorts: int = 12,
    windows: tuple[int, ...] = (30, 60, 90),
    dialect: str = "duckdb",
) -> str:
    """SQL counting, per cohort month, product (and `ALL`), stage and window, the cohort's
    leads and those that reached the stage within the window before the cut-off.

    Args:
        month: the report month "YYYY-MM"; the cut-off is the first day of the next month.
        cohorts: how many cohort months, ending with `month`.
        windows: window lengths in days.
        dialect: SQLGlot dialect of the returned SQL (written in DuckDB's, transpiled otherwise).

    Returns:
        One query giving rows `cohort_start, product, stage, window_days, leads, reached`; only
        cohorts with at least one lead appear.
    """
    _check_month_count("cohorts", cohorts)
    if not windows or any(int(n) != n or n < 0 for n in windows):
        raise ValueError(f"windows must be whole numbers of days >= 0, got {windows!r}")
    first = month_bounds(month_range(month, cohorts)[0])[0]
    cutoff = month_bounds(month)[1]
    stage_list = " UNION ALL ".join(f"SELECT '{s}' AS stage" for s in FUNNEL_STAGES)
    window_list = " UNION ALL ".join(f"SELECT {int(n)} AS window_days" for n in windows)
    sql = f"""
WITH cohort AS (
  SELECT lead_id, product, created_at, DATE_TRUNC('month', created_at) AS cohort_start
  FROM leads
  WHERE created_at >= {timestamp_literal(first)} AND created_at < {timestamp_literal(cutoff)}
),
stage_reached AS (
  SELECT lead_id, stage, entered_at AS reached_at
  FROM first_stages
  WHERE stage IN ('mql', 'sql') AND entered_at < {timestamp_literal(cutoff)}
  UNION ALL
  SELECT lead_id, 'won' AS stage, MIN(closed_at) AS reached_at
  FROM opportunities
  WHERE status = 'won' AND lead_id IS NOT NULL AND closed_at < {timestamp_literal(cutoff)}
  GROUP BY lead_id
),
stage_list AS ({stage_list}),
window_list AS ({window_list}),
flags AS (
  SELECT c.cohort_start, c.product, s.stage, w.window_days,
    CASE WHEN r.reached_at <= c.created_at + INTERVAL 1 DAY * w.window_days
      THEN 1 ELSE 0 END AS hit
  FROM cohort AS c
  CROSS JOIN stage_list AS s
  CROSS JOIN window_list AS w
  LEFT JOIN stage_reached AS r ON r.lead_id = c.lead_id AND r.stage = s.stage
)
SELECT cohort_start,
  CASE WHEN GROUPING(product) = 1 THEN '{ALL}' ELSE product END AS product,
  stage, window_days,
  COUNT(*) AS leads,
  CAST(SUM(hit) AS BIGINT) AS reached
FROM flags
GROUP BY GROUPING SETS (
  (cohort_start, product, stage, window_days),
  (cohort_start, stage, window_days)
)
"""
    return to_dialect(sql.strip(), dialect)


def cohort_conversion(
    dataset: Dataset,
    month: str,
    *,
    cohorts: int = 12,
    windows: tuple[int, ...] = (30, 60, 90),
    products: list[str] | None = None,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """Share of each month's new leads that reached MQL, SQL and won within N days.

    Args:
        dataset: a validated dataset (`contract.load.load_dataset`).
        month: the report month "YYYY-MM"; the table is as of its end (first day of the next
            month 00:00): later stage entries and closes are not counted.
        cohorts: how many cohort months, ending with `month`.
        windows: window lengths N in days.
        products: product codes to report (default: every product of the dataset); `ALL`
            (the whole dataset) is always added.
        engine: where the query runs: "duckdb", "spark", or an `engines.Engine` opened for
            this dataset (default: DuckDB).

    Returns:
        One row per cohort × product (products, then `ALL`) × stage (mql, sql, won) × window,
        even for cohorts without leads: `cohort` ("YYYY-MM"), `product`, `stage`,
        `window_days`, `leads` (cohort size), `reached`, `rate`, `ci_low`, `ci_high` (95%
        Wilson) and `mature`. `rate` and its interval are NaN where the cohort has no leads or
        is not mature (`end of cohort month + N days > cut-off`).
    """
    windows = tuple(int(n) for n in windows)
    compile_cohort_query(month, cohorts=cohorts, windows=windows)  # bad arguments fail here
    base = engines.run_query(
        dataset,
        lambda d: compile_cohort_query(month, cohorts=cohorts, windows=windows, dialect=d),
        engine,
    )
    base["cohort"] = pd.to_datetime(base["cohort_start"]).dt.strftime("%Y-%m")

    months = month_range(month, cohorts)
    groups = [*(products if products is not None else dataset.products), ALL]
    grid = pd.MultiIndex.from_product(
        [months, groups, list(FUNNEL_STAGES), list(windows)],
        names=["cohort", "product", "stage", "window_days"],
    )
    out = (
        base.set_index(["cohort", "product", "stage", "window_days"])[["leads", "reached"]]
        .reindex(grid)
        .fillna(0)
        .astype("int64")
        .reset_index()
    )

    cutoff = month_bounds(month)[1]
    cohort_end = out["cohort"].map(lambda m: month_bounds(m)[1])
    out["mature"] = (cohort_end + pd.to_timedelta(out["window_days"], unit="D")) <= cutoff
    usable = out["mature"].to_numpy() & (out["leads"].to_numpy() > 0)
    leads = out["leads"].to_numpy(dtype="float64")
    reached = out["reached"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(usable, reached / np.where(leads > 0, leads, 1.0), np.nan)
    low, high = wilson_interval(reached, leads)
    out["ci_low"] = np.where(usable, low, np.nan)
    out["ci_high"] = np.where(usable, high, np.nan)
    return out[COHORT_COLUMNS]


# ---------------------------------------------------------------- velocity


def compile_velocity_query(
    month: str, *, lookback_months: int = 12, dialect: str = "duckdb"
) -> str:
    """SQL giving, per product (and `ALL`) and transition, the count, quartiles and mean of
    the durations in days whose later event falls in the look-back months ending with `month`.

    Quartiles interpolate linearly between the order statistics around position
    (n − 1) × q (numpy's default), written with window functions so every engine agrees.

    Args:
        month: the last month "YYYY-MM" of the look-back period.
        lookback_months: how many months, ending with `month`.
        dialect: SQLGlot dialect of the returned SQL (written in DuckDB's, transpiled otherwise).

    Returns:
        One query giving rows `product, transition, n, p25, median, p75, mean`; only groups
        with at least one duration appear.
    """
    _check_month_count("lookback_months", lookback_months)
    start = month_bounds(month_range(month, lookback_months)[0])[0]
    cutoff = month_bounds(month)[1]
    spans = "\n  UNION ALL\n  ".join(
        f"SELECT product, '{name}' AS transition, {a} AS start_at, {b} AS end_at FROM lead_events"
        for name, a, b in _SPANS
    )
    positions = ",\n    ".join(f"CAST(n - 1 AS DOUBLE) * {q} AS h_{name}" for name, q in QUANTILES)
    picks = ",\n    ".join(
        f"MAX(CASE WHEN rn = FLOOR(h_{name}) + 1 THEN days END) AS lo_{name},\n    "
        f"MAX(CASE WHEN rn = CEIL(h_{name}) + 1 THEN days END) AS hi_{name},\n    "
        f"MAX(h_{name} - FLOOR(h_{name})) AS frac_{name}"
        for name, _ in QUANTILES
    )
    interpolated = ",\n  ".join(
        f"lo_{name} + frac_{name} * (hi_{name} - lo_{name}) AS {name}" for name, _ in QUANTILES
    )
    sql = f"""
WITH won AS (
  SELECT lead_id, MIN(closed_at) AS won_at
  FROM opportunities
  WHERE status = 'won' AND lead_id IS NOT NULL AND closed_at IS NOT NULL
  GROUP BY lead_id
),
lead_events AS (
  SELECT l.lead_id, l.product, l.created_at,
    m.entered_at AS mql_at, s.entered_at AS sql_at, w.won_at
  FROM leads AS l
  LEFT JOIN first_stages AS m ON m.lead_id = l.lead_id AND m.stage = 'mql'
  LEFT JOIN first_stages AS s ON s.lead_id = l.lead_id AND s.stage = 'sql'
  LEFT JOIN won AS w ON w.lead_id = l.lead_id
),
spans AS (
  {spans}
),
durations AS (
  SELECT product, transition,
    DATE_DIFF('microsecond', start_at, end_at) AS micros,
    CAST(DATE_DIFF('microsecond', start_at, end_at) AS DOUBLE) / 86400000000.0 AS days
  FROM spans
  WHERE end_at >= {timestamp_literal(start)} AND end_at < {timestamp_literal(cutoff)}
    AND start_at IS NOT NULL AND end_at >= start_at
),
grouped AS (
  SELECT product AS grp, transition, micros, days FROM durations
  UNION ALL
  SELECT '{ALL}' AS grp, transition, micros, days FROM durations
),
ranked AS (
  SELECT grp, transition, micros, days,
    ROW_NUMBER() OVER (PARTITION BY grp, transition ORDER BY days) AS rn,
    COUNT(*) OVER (PARTITION BY grp, transition) AS n
  FROM grouped
),
positioned AS (
  SELECT grp, transition, micros, days, rn, n,
    {positions}
  FROM ranked
),
summary AS (
  SELECT grp, transition, COUNT(*) AS n,
    -- the exact sum of whole microseconds: the same mean whatever order the rows are added
    -- in (a sum of doubles differs in its last digits from run to run, with the threads)
    CAST(SUM(CAST(micros AS DECIMAL(38, 0))) AS DOUBLE) / COUNT(*) / 86400000000.0 AS mean,
    {picks}
  FROM positioned
  GROUP BY grp, transition
)
SELECT grp AS product, transition, n,
  {interpolated},
  mean
FROM summary
"""
    return to_dialect(sql.strip(), dialect)


def velocity(
    dataset: Dataset,
    month: str,
    *,
    lookback_months: int = 12,
    products: list[str] | None = None,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """Days between funnel stages, for transitions that ended in the look-back months.

    Args:
        dataset: a validated dataset (`contract.load.load_dataset`).
        month: the last month "YYYY-MM" of the look-back period.
        lookback_months: how many months, ending with `month`, the later event may fall in.
        products: product codes to report (default: every product of the dataset); `ALL`
            (the whole dataset) is always added.
        engine: where the query runs: "duckdb", "spark", or an `engines.Engine` opened for
            this dataset (default: DuckDB).

    Returns:
        One row per product (products, then `ALL`) × transition (lead_to_mql, mql_to_sql,
        sql_to_won, lead_to_won): `product`, `transition`, `n` (number of durations), `p25`,
        `median`, `p75` (linearly interpolated quantiles) and `mean`, in days; the statistics
        are NaN where `n` is 0.
    """
    compile_velocity_query(month, lookback_months=lookback_months)  # bad arguments fail here
    base = engines.run_query(
        dataset,
        lambda d: compile_velocity_query(month, lookback_months=lookback_months, dialect=d),
        engine,
    )
    groups = [*(products if products is not None else dataset.products), ALL]
    grid = pd.MultiIndex.from_product([groups, list(TRANSITIONS)], names=["product", "transition"])
    out = base.set_index(["product", "transition"]).reindex(grid).reset_index()
    out["n"] = out["n"].fillna(0).astype("int64")
    for col in ("p25", "median", "p75", "mean"):
        out[col] = out[col].astype("float64")
    return out[VELOCITY_COLUMNS]
