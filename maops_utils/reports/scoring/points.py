"""Point-in-time scores: what a lead's score was at a given moment, rebuilt in SQL.

Every score is computed from the activities at or before the moment it is taken for, never
from later ones. The heavy part (matching activities to rules, applying caps per period,
the look-back window and the decay, summing per lead and moment) runs in DuckDB; pandas
only sees one row per (moment, rule). The activities are read with SQL on
`relations.connect(dataset)`, where the dataset keeps them (its DuckDB store): they are never
loaded into pandas (`dataset["activities"]`).

Definitions (docs/scoring.md quotes these):

- **Profile points** come from the lead's attributes as they are in the leads table (the
  contract keeps no history of attributes, so a changed job title counts from the start).
- **Engagement points** of an activity are the points of its rule: the rule for its
  activity type and category, else the rule for its activity type without a category.
- **Cap.** A rule with a cap adds at most `cap` points (in absolute value) per cap period
  (calendar day, ISO week or calendar month of the activity); activities are counted in time
  order, so the first ones of a period count.
- **Look-back.** With `lookback_days` = L, only activities less than L days before the
  moment count.
- **Decay.** With `half_life_days` = h, an activity d days before the moment counts
  points x 0.5^(d / h).
- **Score** = profile points + engagement points, at any moment t: the activities with
  `occurred_at <= t`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ...backends import relations
from ...contract.dataset import Dataset, isin
from ...contract.store import literal
from ...core.keeping import Keeper
from .evaluate import is_whole, score_range
from .model import EMPTY, ActivityRule, ProfileRule, RatingGrid, ScoringModel

SECOND = pd.Timedelta(seconds=1)


# ---------------------------------------------------------------- profile


def profile_points(leads: pd.DataFrame, rules: Sequence[ProfileRule]) -> pd.Series:
    """Profile points per lead.

    Args:
        leads: the leads table (at least `lead_id` and the attributes the rules name).
        rules: profile rules; a value without points and a missing attribute score 0.

    Returns:
        Points indexed like `leads`, as float.
    """
    total = pd.Series(0.0, index=leads.index)
    for rule in rules:
        if rule.attribute not in leads.columns:
            continue
        col = leads[rule.attribute]
        if rule.numeric:
            values = pd.to_numeric(col, errors="coerce").astype("float64")
            pts = pd.Series(0.0, index=leads.index)
            placed = pd.Series(False, index=leads.index)
            for band in rule.bands:  # highest minimum first
                hit = ~placed & (values >= band.min)
                pts[hit] = band.points
                placed |= hit
            pts[values.isna()] = float(dict(rule.values).get(EMPTY, 0))
            total += pts
        else:
            text = col.astype("string").fillna(EMPTY).str.strip().astype(object)
            total += text.map(dict(rule.values)).fillna(0).astype("float64")
    return total


def rating_of(profile: pd.Series, engagement: pd.Series, grid: RatingGrid) -> pd.Series:
    """The rating cell (e.g. `A1`) of each lead from its profile and engagement points."""

    def band(points: pd.Series, bands: tuple[tuple[str, float], ...]) -> pd.Series:
        labels = np.select(
            [points.to_numpy() >= low for _, low in bands],
            [name for name, _ in bands],
            default=bands[-1][0],
        )
        return pd.Series(labels, index=points.index)

    return band(profile, grid.profile) + band(engagement, grid.engagement)


def derived_grid(profile: pd.Series, engagement: pd.Series) -> RatingGrid | None:
    """A rating grid on the points' own scale, for a model that configures none: letters A-D
    in four equal steps over the range of the profile points, digits 1-4 over that of the
    engagement points (whole steps for whole points; the range is `score_range`'s). None
    when either has no spread: one letter or digit for everybody would say nothing."""

    def levels(points: pd.Series, names: tuple[str, ...]) -> tuple[tuple[str, float], ...] | None:
        lo, hi = score_range(points)
        if math.isnan(lo) or hi <= lo:
            return None
        step = (hi - lo) / len(names)
        if is_whole(points):
            lo, step = math.floor(lo), max(1.0, float(math.ceil(step)))
        top = len(names) - 1
        return tuple((name, round(lo + (top - i) * step, 9)) for i, name in enumerate(names))

    letters = levels(profile, ("A", "B", "C", "D"))
    digits = levels(engagement, ("1", "2", "3", "4"))
    if letters is None or digits is None:
        return None
    return RatingGrid(letters, digits)


def lead_positions(leads: pd.DataFrame, lead_ids: pd.Series) -> np.ndarray:
    """The row of `leads` each of `lead_ids` is (-1: not a lead), found with one look-up
    table for all (a `map` per attribute would build one each time), in Arrow. A validated
    dataset's lead ids are unique."""
    known = pa.array(leads["lead_id"], type=pa.large_string(), from_pandas=True)
    wanted = pa.array(lead_ids, type=pa.large_string(), from_pandas=True)
    found = pc.fill_null(pc.index_in(wanted, value_set=known), -1)
    return found.to_numpy().astype(np.intp)


# ---------------------------------------------------------------- scores at a moment


def _stamp(value: pd.Timestamp) -> str:
    """A TIMESTAMP literal to the microsecond."""
    return f"TIMESTAMP '{pd.Timestamp(value):%Y-%m-%d %H:%M:%S.%f}'"


def _before(cutoff: pd.Timestamp) -> str:
    return f"occurred_at < {_stamp(cutoff)}"


# The order caps count a lead's activities in: pandas' stable sort by these columns with
# missing values first. `_row` (the row's position in the file) is the stable sort's
# tie-break; DuckDB orders VARCHAR by UTF-8 bytes, which is the code-point order pandas sorts
# str by. Caps are counted per lead, so the order only matters within a lead's activities.
ACT_ORDER = (
    "occurred_at ASC NULLS FIRST, activity_type ASC NULLS FIRST, category ASC NULLS FIRST, _row ASC"
)


def connect(dataset: Dataset, cutoff: pd.Timestamp) -> duckdb.DuckDBPyConnection:
    """`relations.connect(dataset)` plus `acts`: the activities before `cutoff` with what
    orders them (`_row` breaks ties so that caps count the same activities on every run;
    activities alike in every column count in file order).

    The activities are read where the dataset keeps them (its DuckDB store), never loaded
    into pandas. `acts` is a temporary view, read afresh by each query (materialising the
    activities of every month cost 0.8 GB at 1 M leads and saved no time); it vanishes when
    the connection is closed. `acts_all` has the activities of every month, and
    `acts_context` the cut-off."""
    con = relations.connect(dataset)
    try:
        con.execute(
            "CREATE TEMP VIEW acts_all AS SELECT _row, lead_id, activity_type, category, "
            "occurred_at FROM activities_input WHERE occurred_at IS NOT NULL"
        )
        con.execute(f"CREATE TEMP VIEW acts AS SELECT * FROM acts_all WHERE {_before(cutoff)}")
        con.execute(f"CREATE TEMP TABLE acts_context AS SELECT {_stamp(cutoff)} AS cutoff")
    except BaseException:
        con.close()
        raise
    return con


def _rules_frame(rules: Sequence[ActivityRule]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rule_key": [r.key for r in rules],
            "activity_type": [r.activity_type for r in rules],
            "category": [r.category for r in rules],
            "points": [float(r.points) for r in rules],
            "cap": [np.nan if r.cap is None else float(r.cap) for r in rules],
        },
        columns=["rule_key", "activity_type", "category", "points", "cap"],
    ).astype({"category": object, "points": "float64", "cap": "float64"})


def compile_counted_query(
    period: str, *, capped: bool = True, uncapped: bool = True, source: str = "acts"
) -> str:
    """SQL giving every activity that matches a rule with the points it adds after the rule's
    cap per period: rows `_row, lead_id, occurred_at, rule_key, counted`.

    Only a rule with a cap needs the running sum of what its earlier activities added (a
    window over the matching activities, ordered, the costly part); the activities of the
    others count their points as they are. `capped` / `uncapped` say which kinds of rule
    there are: the query leaves out the part the rules do not need. `source`: the activities
    read.

    The window is computed only for the periods whose activities pass the cap (about 0.2% of
    them at 1 M leads): where a lead's activities of a rule in a period add up to at most
    the cap, every one counts its points in full, whatever their order. Such periods are
    found by a sum per period, grouped on a hash of the period's key: two periods sharing a
    hash are summed together, which can only send both to the window. A rule whose points or
    cap are not whole numbers always goes through the window (a sum of fractions in another
    order can round the other way).

    What an activity counts depends only on the activities before it (of its lead, rule
    and period), so counting every month and keeping the activities before a cut-off gives
    what counting only those would."""
    parts = []
    if uncapped or not capped:
        parts.append(
            "SELECT _row, lead_id, occurred_at, rule_key, points AS counted FROM matched "
            "WHERE cap IS NULL AND points <> 0"
        )
    ctes = ""
    if capped:
        ctes = f""",
capped AS (
  SELECT _row, activity_type, category, lead_id, occurred_at, rule_key, points, cap,
    hash(lead_id, rule_key, DATE_TRUNC('{period}', occurred_at)) AS cap_key,
    points = FLOOR(points) AND cap = FLOOR(cap) AND ABS(points) < 1e9 AND ABS(cap) < 1e9
      AS whole
  FROM matched
  WHERE cap IS NOT NULL AND points <> 0
),
over_cap AS (
  SELECT cap_key FROM capped GROUP BY cap_key
  HAVING SUM(ABS(points)) > MIN(cap) OR NOT BOOL_AND(whole)
)"""
        parts.append(
            "SELECT _row, lead_id, occurred_at, rule_key, points AS counted "
            "FROM capped ANTI JOIN over_cap USING (cap_key)"
        )
        parts.append(f"""SELECT _row, lead_id, occurred_at, rule_key,
  SIGN(points) * LEAST(ABS(points), GREATEST(cap - used_before, 0)) AS counted
FROM (
  SELECT *,
    COALESCE(SUM(ABS(points)) OVER (
      PARTITION BY lead_id, rule_key, DATE_TRUNC('{period}', occurred_at)
      ORDER BY {ACT_ORDER} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0) AS used_before
  FROM capped SEMI JOIN over_cap USING (cap_key)
) AS used""")
    union = "\nUNION ALL\n".join(parts)
    return f"""
WITH matched AS (
  SELECT a._row, a.activity_type, a.category, a.lead_id, a.occurred_at,
    COALESCE(s.rule_key, g.rule_key) AS rule_key,
    COALESCE(s.points, g.points) AS points,
    CASE WHEN s.rule_key IS NOT NULL THEN s.cap ELSE g.cap END AS cap
  FROM {source} AS a
  LEFT JOIN rules AS s ON s.activity_type = a.activity_type AND s.category = a.category
  LEFT JOIN rules AS g ON g.activity_type = a.activity_type AND g.category IS NULL
  WHERE COALESCE(s.rule_key, g.rule_key) IS NOT NULL
){ctes}
{union}
"""


def compile_points_at_query(lookback_days: int | None, half_life_days: float | None) -> str:
    """SQL summing, per moment (`moments`: row_id, lead_id, at) and rule, the counted points
    of the lead's activities at or before the moment, within the look-back, decayed."""
    window = (
        f"AND c.occurred_at > m.at - INTERVAL {int(lookback_days)} DAY" if lookback_days else ""
    )
    if half_life_days:
        weight = (
            "POW(0.5, CAST(DATE_DIFF('second', c.occurred_at, m.at) AS DOUBLE) "
            f"/ {86400.0 * float(half_life_days)!r})"
        )
    else:
        weight = "1.0"
    return f"""
SELECT m.row_id, c.rule_key, SUM(c.counted * {weight}) AS points
FROM moments AS m
JOIN counted AS c ON c.lead_id = m.lead_id AND c.occurred_at <= m.at {window}
GROUP BY m.row_id, c.rule_key
"""


# What `count_points` keeps with a dataset's input: bump when the counting changes.
COUNTED_FORMAT = "maops-counted-1"


def count_points(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[ActivityRule],
    cap_period: str,
    keeper: Keeper | None = None,
) -> None:
    """Make `counted` (see `compile_counted_query`) the points of `rules` on `con`'s `acts`.

    With a `keeper` (the dataset's, `Dataset.facts`), the points of every activity (every
    month) are kept with the input, keyed by the rules and the cap period: a later study of
    the same data, for any month, reads them instead of counting again (the capped sum over
    every activity is the costly part). Otherwise the last one computed is kept on the
    connection: a study scores one model at several sets of moments.
    """
    frame = _rules_frame(rules)
    text = f"{COUNTED_FORMAT}\n{ACT_ORDER}\n{cap_period}\n{frame.to_json()}"
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    ((cutoff,),) = con.execute("SELECT cutoff FROM acts_context").fetchall()
    path = _kept_counts(con, frame, cap_period, keeper, f"counted-{key}.parquet")
    if path is not None:
        con.execute(
            "CREATE OR REPLACE TEMP VIEW counted AS SELECT * FROM "
            f"read_parquet({literal(path.as_posix())}) WHERE {_before(cutoff)}"
        )
        return
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'counted_%'"
    ).fetchall()
    if (f"counted_{key}",) not in tables:
        for (name,) in tables:
            con.execute(f"DROP TABLE {name}")
        con.register("rules", frame)
        con.execute(f"CREATE TEMP TABLE counted_{key} AS {_counted_sql(frame, cap_period)}")
        con.unregister("rules")
    con.execute(f"CREATE OR REPLACE TEMP VIEW counted AS SELECT * FROM counted_{key}")


def _kept_counts(
    con: duckdb.DuckDBPyConnection,
    rules: pd.DataFrame,
    cap_period: str,
    keeper: Keeper | None,
    name: str,
) -> Path | None:
    """The kept file of every activity's points (counted into it when it is not kept, or
    was kept damaged); None without a keeper or when it cannot be written."""
    if keeper is None:
        return None
    path = keeper.file(name)
    if path is not None:
        try:
            con.execute(f"SELECT num_rows FROM parquet_file_metadata({literal(path.as_posix())})")
            return path
        except duckdb.Error as exc:
            keeper.drop(name, f"DuckDB cannot read it ({exc})")
    return _write_counted(con, rules, cap_period, keeper, name)


def _write_counted(
    con: duckdb.DuckDBPyConnection,
    rules: pd.DataFrame,
    cap_period: str,
    keeper: Keeper,
    name: str,
) -> Path | None:
    """Count the points of every activity into the file kept as `name`; None when it
    cannot be written: a cache that cannot be written is no reason to stop."""

    def write(tmp: Path) -> None:
        con.execute(
            f"COPY ({_counted_sql(rules, cap_period, 'acts_all')}) "
            f"TO {literal(tmp.as_posix())} (FORMAT parquet, COMPRESSION zstd)"
        )

    con.register("rules", rules)
    try:
        return keeper.keep_file(name, write)
    except duckdb.Error:
        return None
    finally:
        con.unregister("rules")


def _counted_sql(rules: pd.DataFrame, cap_period: str, source: str = "acts") -> str:
    has_cap = rules["cap"].notna()
    return compile_counted_query(
        cap_period, capped=bool(has_cap.any()), uncapped=bool((~has_cap).any()), source=source
    )


def points_by_rule(
    con: duckdb.DuckDBPyConnection,
    moments: pd.DataFrame,
    rules: Sequence[ActivityRule],
    *,
    lookback_days: int | None,
    half_life_days: float | None,
    cap_period: str,
    keeper: Keeper | None = None,
) -> pd.DataFrame:
    """Engagement points per moment and rule.

    Args:
        con: from `connect`.
        moments: rows `row_id, lead_id, at` (at: the moment the score is taken for).
        rules: the activity rules.
        lookback_days, half_life_days, cap_period: as in `ScoringModel`.
        keeper: where the points of every activity are kept (`count_points`).

    Returns:
        Wide frame indexed by `row_id` (every row of `moments`), one column per rule key, 0
        where nothing counts.
    """
    keys = [r.key for r in rules]
    if not rules or moments.empty:
        return pd.DataFrame(0.0, index=pd.Index(moments["row_id"], name="row_id"), columns=keys)
    count_points(con, rules, cap_period, keeper)
    con.register("moments", moments[["row_id", "lead_id", "at"]])
    long = con.execute(compile_points_at_query(lookback_days, half_life_days)).df()
    con.unregister("moments")
    # one row per moment and rule (the query groups by both): placed in a grid of zeros
    index = pd.Index(moments["row_id"], name="row_id")
    grid = np.zeros((len(index), len(keys)))
    grid[index.get_indexer(long["row_id"]), pd.Index(keys).get_indexer(long["rule_key"])] = long[
        "points"
    ].to_numpy(dtype="float64")
    return pd.DataFrame(grid, index=index, columns=keys)


def scores_at(
    dataset: Dataset,
    model: ScoringModel,
    moments: pd.DataFrame,
    cutoff: pd.Timestamp,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """The model's score of each lead at each moment, rebuilt from the activity history.

    Args:
        dataset: a validated dataset.
        model: the scoring model.
        moments: rows `row_id, lead_id, at`.
        cutoff: activities at or after this are never read (the end of the report month).
        con: a connection from `connect(dataset, cutoff)` to reuse.

    Returns:
        `moments` with `profile`, `engagement`, `score` and, with a rating grid, `rating`.
    """
    own = con is None
    con = con or connect(dataset, cutoff)
    try:
        by_rule = points_by_rule(
            con,
            moments,
            model.activities,
            lookback_days=model.lookback_days,
            half_life_days=model.half_life_days,
            cap_period=model.cap_period,
            keeper=dataset.facts,
        )
    finally:
        if own:
            con.close()
    leads = dataset["leads"]
    profile = profile_points(leads, model.profile).to_numpy()
    out = moments.reset_index(drop=True).copy()
    at = lead_positions(leads, out["lead_id"])
    out["profile"] = np.where(at >= 0, profile[at], 0.0)
    out["engagement"] = by_rule.sum(axis=1).to_numpy()
    out["score"] = out["profile"] + out["engagement"]
    if model.rating is not None:
        out["rating"] = rating_of(out["profile"], out["engagement"], model.rating)
    return out


def _kinds_frame(kinds: set[tuple[str, str | None]]) -> pd.DataFrame:
    rows = sorted(kinds, key=lambda k: (k[0], k[1] is not None, k[1] or ""))
    return pd.DataFrame(
        {"activity_type": [t for t, _ in rows], "category": [c for _, c in rows]},
        columns=["activity_type", "category"],
    ).astype(object)


# An activity matches a kind (activity_type, category) of a registered frame when the types are
# equal and the kind has no category or the same one.
_MATCHES = (
    "EXISTS (SELECT 1 FROM {kinds} AS k WHERE k.activity_type = a.activity_type "
    "AND (k.category IS NULL OR k.category = a.category))"
)


def event_moments(
    dataset: Dataset,
    model: ScoringModel,
    cutoff: pd.Timestamp,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame:
    """Every moment a lead's score can reach a new high: its creation, each activity that
    adds points, and (with a look-back) the moment a negative activity leaves the window.

    Between these moments a score only falls (decay, activities leaving the window), so the
    first moment a score reaches a threshold is one of them.

    An activity adds points when a positive rule names its type without a category, or its
    type and category; it is negative when a negative rule does. The activities are read in
    SQL (`con`: a connection from `relations.connect` or `connect` to reuse).
    """
    leads = dataset["leads"]
    leads = leads[leads["created_at"].notna() & (leads["created_at"] < cutoff)]
    positive = {(r.activity_type, r.category) for r in model.activities if r.points > 0}
    negative = {(r.activity_type, r.category) for r in model.activities if r.points < 0}
    with_expiry = bool(model.lookback_days and negative)
    own = con is None
    con = con or relations.connect(dataset)
    try:
        kinds = {"scoring_positive_kinds": positive}
        if with_expiry:
            kinds["scoring_negative_kinds"] = negative
        for name, pairs in kinds.items():
            con.register(f"{name}_df", _kinds_frame(pairs))
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT "
                "CAST(activity_type AS VARCHAR) AS activity_type, "
                f"CAST(category AS VARCHAR) AS category FROM {name}_df"
            )
            con.unregister(f"{name}_df")
        acts = (
            "FROM activities_input AS a WHERE a.occurred_at IS NOT NULL "
            f"AND a.occurred_at < {_stamp(cutoff)}"
        )
        # lead_id typed as `dataset["activities"]` holds it (object once loaded from the store)
        loaded = dataset.tables.get("activities")
        id_type = object if loaded is None else loaded["lead_id"].dtype
        select = f"SELECT DISTINCT a.lead_id, a.occurred_at AS at {acts} AND "
        hits = con.execute(select + _MATCHES.format(kinds="scoring_positive_kinds")).df()
        hits = hits.astype({"lead_id": id_type})
        if with_expiry:
            negatives = con.execute(select + _MATCHES.format(kinds="scoring_negative_kinds")).df()
            negatives = negatives.astype({"lead_id": id_type})
        for name in kinds:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    finally:
        if own:
            con.close()
    parts = [leads[["lead_id", "created_at"]].rename(columns={"created_at": "at"}), hits]
    if with_expiry:
        expiry = negatives
        expiry["at"] = expiry["at"] + pd.Timedelta(days=model.lookback_days)
        parts.append(expiry[expiry["at"] < cutoff])
    out = pd.concat(parts, ignore_index=True)
    out = out[isin(out["lead_id"], leads["lead_id"])]
    # (lead_id, at) is unique after drop_duplicates, so the sort fixes the order completely.
    out = out.drop_duplicates().sort_values(["lead_id", "at"], kind="stable")
    out.insert(0, "row_id", np.arange(len(out), dtype="int64"))
    return out.reset_index(drop=True)


def first_crossings(trajectory: pd.DataFrame) -> pd.DataFrame:
    """The moments a lead's score reached a new high, with the range of thresholds each
    moment is the first crossing for.

    Args:
        trajectory: rows `lead_id, at, score` (a lead's scores at its event moments).

    Returns:
        Rows `lead_id, at, low, high`: the lead first reaches any threshold T with
        low < T <= high at `at` (low is -inf for the first moment).
    """
    t = trajectory.sort_values(["lead_id", "at"], kind="stable")
    best = t.groupby("lead_id", sort=False)["score"].cummax()
    before = best.groupby(t["lead_id"], sort=False).shift(1)
    new_high = before.isna() | (best > before)
    out = pd.DataFrame(
        {
            "lead_id": t["lead_id"],
            "at": t["at"],
            "low": before.fillna(-np.inf),
            "high": best,
        }
    )[new_high.to_numpy()]
    return out.reset_index(drop=True)


__all__ = [
    "connect",
    "count_points",
    "derived_grid",
    "event_moments",
    "first_crossings",
    "points_by_rule",
    "profile_points",
    "rating_of",
    "scores_at",
]
