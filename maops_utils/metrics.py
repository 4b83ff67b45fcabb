"""The metric engine: declarative specs compiled to SQL and run in DuckDB.

Each metric is a small spec (`Count`, `Sum`, `Difference`, `Ratio`), declared in the KPI
catalogue (`catalogue/core.yaml` for the contract's core metrics, `params/kpis.yaml` for a
team's own). Counts and sums compile to one SQL query per metric, written in DuckDB's dialect
and transpiled by SQLGlot for any other engine (see docs/decisions.md); differences and ratios
are arithmetic on the aggregated counts. pandas only ever sees the aggregated rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import sqlglot

from .schema import ALL
from .store import database
from .validation import Dataset

Filter = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Count:
    """Rows of `table` whose `time` falls in the month, optionally distinct on `distinct`."""

    table: str
    time: str
    where: tuple[Filter, ...] = ()
    distinct: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sum:
    """Sum of `column` over rows of `table` whose `time` falls in the month (0 when none)."""

    table: str
    time: str
    column: str
    where: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Difference:
    minuend: str
    subtrahend: str


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator; empty (NaN) when the denominator is 0."""

    numerator: str
    denominator: str


Spec = Count | Sum | Difference | Ratio


# ---------------------------------------------------------------- months


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Half-open local-time interval [first day 00:00, first day of next month 00:00)."""
    start = pd.Timestamp(f"{month}-01")
    return start, start + pd.offsets.MonthBegin(1)


def month_range(last: str, n: int) -> list[str]:
    """The `n` months ending with `last`, oldest first."""
    end = pd.Period(last, freq="M")
    return [str(end - i) for i in range(n - 1, -1, -1)]


def month_labels(times: pd.Series) -> pd.Series:
    """The month "YYYY-MM" of each timestamp (missing where it is), indexed like `times`:
    `dt.strftime("%Y-%m")`, formatting each distinct month once instead of every row."""
    present = times.notna().to_numpy()
    codes = np.zeros(len(times), dtype="int64")
    codes[present] = (
        times.dt.year.to_numpy()[present].astype("int64") * 12
        + times.dt.month.to_numpy()[present].astype("int64")
        - 1
    )
    months, at = np.unique(codes[present], return_inverse=True)
    labels = np.full(len(times), None, dtype=object)
    labels[present] = np.array([f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months], dtype=object)[
        at
    ]
    return pd.Series(labels, index=times.index, dtype="str")


# ---------------------------------------------------------------- SQL


def timestamp_literal(value: pd.Timestamp) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def to_dialect(sql: str, dialect: str) -> str:
    """SQL written in DuckDB's dialect, transpiled by SQLGlot for another engine."""
    if dialect == "duckdb":
        return sql
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _where(filters: Iterable[Filter]) -> list[str]:
    out = []
    for column, values in filters:
        if len(values) == 1:
            out.append(f"{column} = {_literal(values[0])}")
        else:
            out.append(f"{column} IN ({', '.join(_literal(v) for v in values)})")
    return out


# Catalogue table -> engine view, and the view's name for a catalogue time column.
_VIEWS = {
    "leads": ("leads", {}),
    "activities": ("activities", {}),
    "stage_changes": ("first_stages", {"changed_at": "entered_at"}),
    "opportunities": ("opportunities", {}),
}
DIMENSIONS = ("product", "lead_source", "campaign_id")


def _condition(filters) -> str:
    parts = _where(filters)
    return " AND ".join(parts) if parts else "TRUE"


def _flag(condition: str, then: str, otherwise: str) -> str:
    return (
        then if condition == "TRUE" else f"CASE WHEN {condition} THEN {then} ELSE {otherwise} END"
    )


def _branch_key(spec: Count | Sum, dims: tuple[str, ...]) -> tuple:
    """Metrics with the same key are computed in one scan of their view."""
    if isinstance(spec, Count) and spec.distinct:
        return (spec.table, spec.time, "distinct", tuple(c for c in spec.distinct if c not in dims))
    return (spec.table, spec.time, "rows", ())


def compile_branch(
    metrics: Sequence[tuple[str, Count | Sum]],
    start: pd.Timestamp,
    end: pd.Timestamp,
    dims: tuple[str, ...] = ("product",),
) -> str:
    """SQL (DuckDB dialect) giving rows (metric, month_start, *dims, value) for base metrics
    that share a table, a time column and a distinct key (`_branch_key`): one scan for all.

    Each metric's filter becomes a 0/1 flag per row (a distinct metric: per distinct tuple,
    1 when any of its rows passes, so GROUP BY treats NULLs as equal, as SELECT DISTINCT and
    pandas drop_duplicates do). Grouping sets give each group of `dims` and the whole
    business, where every dimension reads `ALL`; a distinct tuple is counted once even across
    groups. A tiny cross join with the metric names turns the one row per group into one
    row per metric, so the scan is not repeated."""
    first = metrics[0][1]
    view, renames = _VIEWS[first.table]
    time = renames.get(first.time, first.time)
    conds = [_condition(spec.where) for _, spec in metrics]
    where = [f"{time} >= {timestamp_literal(start)}", f"{time} < {timestamp_literal(end)}"]
    if "TRUE" not in conds:
        where.append("(" + " OR ".join(f"({c})" for c in dict.fromkeys(conds)) + ")")
    month = f"DATE_TRUNC('month', {time})"
    keys = ", ".join(dims)
    kind, extra = _branch_key(first, dims)[2:]
    if kind == "distinct":
        cols = ", ".join([*dims, *extra])
        flags = ", ".join(f"{_flag(c, '1', '0')} AS f{i}" for i, c in enumerate(conds))
        rows = f"SELECT {month} AS month_start, {cols}, {flags} FROM {view} WHERE {' AND '.join(where)}"
        maxes = ", ".join(f"MAX(f{i}) AS f{i}" for i in range(len(conds)))
        inner = (
            f"SELECT month_start, {cols}, {maxes} FROM ({rows}) AS r GROUP BY month_start, {cols}"
        )
    else:
        values = [
            f"{_flag(c, spec.column, 'NULL') if isinstance(spec, Sum) else _flag(c, '1', '0')} AS f{i}"
            for i, ((_, spec), c) in enumerate(zip(metrics, conds, strict=True))
        ]
        inner = f"SELECT {month} AS month_start, {keys}, {', '.join(values)} FROM {view} WHERE {' AND '.join(where)}"
    labels = ", ".join(
        f"CASE WHEN GROUPING({d}) = 1 THEN {_literal(ALL)} ELSE CAST({d} AS VARCHAR) END AS {d}"
        for d in dims
    )
    sums = ", ".join(f"CAST(SUM(f{i}) AS DOUBLE) AS v{i}" for i in range(len(metrics)))
    grouped = (
        f"SELECT month_start, {labels}, {sums} FROM ({inner}) AS t "
        f"GROUP BY GROUPING SETS ((month_start, {keys}), (month_start))"
    )
    out_dims = ", ".join(f"g.{d}" for d in dims)
    if len(metrics) == 1:
        return f"SELECT {_literal(metrics[0][0])} AS metric, g.month_start, {out_dims}, g.v0 AS value FROM ({grouped}) AS g"
    names = ", ".join(f"({_literal(name)})" for name, _ in metrics)
    pick = " ".join(f"WHEN {_literal(name)} THEN g.v{i}" for i, (name, _) in enumerate(metrics))
    return (
        f"SELECT m.metric, g.month_start, {out_dims}, CASE m.metric {pick} END AS value "
        f"FROM ({grouped}) AS g CROSS JOIN (VALUES {names}) AS m(metric)"
    )


def compile_base_query(
    specs: Mapping[str, Spec],
    start: pd.Timestamp,
    end: pd.Timestamp,
    dialect: str = "duckdb",
    dims: tuple[str, ...] = ("product",),
) -> str:
    """The single query computing every count and sum in `specs` for months in [start, end):
    one branch per table, time column and distinct key (`compile_branch`), joined by UNION
    ALL, so each table is scanned once or twice however many metrics read it."""
    branches: dict[tuple, list[tuple[str, Count | Sum]]] = {}
    for name, spec in specs.items():
        if isinstance(spec, Count | Sum):
            branches.setdefault(_branch_key(spec, dims), []).append((name, spec))
    parts = [compile_branch(metrics, start, end, dims) for metrics in branches.values()]
    return to_dialect("\nUNION ALL\n".join(parts), dialect)


# Views every engine is given. Every table carries the dimensions a report groups by: the
# lead's product and lead_source (an opportunity keeps its own product; one without a known
# lead is `sales_sourced`). `first_stages` is where "metrics use the first entry" lives.
SALES_SOURCED = "sales_sourced"
VIEWS_SQL = {
    "activities": (
        "SELECT a.*, l.product, l.lead_source "
        "FROM activities_input AS a JOIN leads AS l ON a.lead_id = l.lead_id"
    ),
    "first_stages": (
        "SELECT s.lead_id, s.stage, MIN(s.changed_at) AS entered_at, l.product, l.lead_source "
        "FROM stage_changes AS s JOIN leads AS l ON s.lead_id = l.lead_id "
        "GROUP BY s.lead_id, s.stage, l.product, l.lead_source"
    ),
    "opportunities": (
        f"SELECT o.*, COALESCE(l.lead_source, '{SALES_SOURCED}') AS lead_source "
        "FROM opportunities_input AS o LEFT JOIN leads AS l ON o.lead_id = l.lead_id"
    ),
}


ENGINE_COLUMNS = {
    "leads": ["lead_id", "created_at", "product", "lead_source"],
    "activities_input": ["lead_id", "activity_type", "occurred_at", "campaign_id", "category"],
    "stage_changes": ["lead_id", "stage", "changed_at"],
    "opportunities_input": [
        "opportunity_id",
        "lead_id",
        "product",
        "created_at",
        "status",
        "closed_at",
        "amount",
    ],
}
_SOURCE = {"activities_input": "activities", "opportunities_input": "opportunities"}


def _tables_for_engine(dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {name: dataset[_SOURCE.get(name, name)][cols] for name, cols in ENGINE_COLUMNS.items()}


def connect(dataset: Dataset) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB holding the dataset's tables and the metric views.

    When the dataset keeps its activities in its DuckDB store (validation.BULK_TABLES), the
    connection is a cursor on that store and reads them where they are: only the small tables
    are copied in, as temporary tables that vanish when the connection is closed. Every
    `activities_input` row carries `_row`, its position in the file, to break ties stably."""
    if "activities" in dataset.lazy and dataset.store is not None:
        con = dataset.store.cursor()
        for name, cols in ENGINE_COLUMNS.items():
            if name == "activities_input":
                continue
            con.register(f"{name}_df", dataset[_SOURCE.get(name, name)][cols])
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM {name}_df")
            con.unregister(f"{name}_df")
        cut = " WHERE lead_id IN (SELECT lead_id FROM leads)" if dataset.sliced else ""
        cols = ", ".join(["_row", *ENGINE_COLUMNS["activities_input"]])
        con.execute(
            f"CREATE TEMP VIEW activities_input AS SELECT {cols} "
            f"FROM main.{dataset.lazy['activities']}{cut}"
        )
        for name, sql in VIEWS_SQL.items():
            con.execute(f"CREATE TEMP VIEW {name} AS {sql}")
        return con
    con = database()
    for name, frame in _tables_for_engine(dataset).items():
        if name == "activities_input":
            frame = frame.assign(_row=np.arange(len(frame), dtype="int64"))
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    for name, sql in VIEWS_SQL.items():
        con.execute(f"CREATE VIEW {name} AS {sql}")
    return con


def _derive(wide: pd.DataFrame, specs: Mapping[str, Spec]) -> pd.DataFrame:
    for name, spec in specs.items():
        if isinstance(spec, Difference):
            wide[name] = wide[spec.minuend] - wide[spec.subtrahend]
        elif isinstance(spec, Ratio):
            num, den = wide[spec.numerator], wide[spec.denominator]
            with np.errstate(divide="ignore", invalid="ignore"):
                wide[name] = np.where(den != 0, num / den.where(den != 0, 1), np.nan)
    return wide


def _needed(specs: Mapping[str, Spec], names: Sequence[str]) -> dict[str, Spec]:
    """The specs `names` depend on, in `specs` order (only those are compiled and run)."""
    wanted: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in wanted:
            continue
        if name not in specs:
            raise KeyError(f"metric '{name}' has no definition")
        wanted.add(name)
        spec = specs[name]
        if isinstance(spec, Ratio):
            stack += [spec.numerator, spec.denominator]
        elif isinstance(spec, Difference):
            stack += [spec.minuend, spec.subtrahend]
    return {n: s for n, s in specs.items() if n in wanted}


def _facts_key(specs: Mapping[str, Spec], month: str, dims: tuple[str, ...], engine: str) -> str:
    """What a month's facts depend on besides the input: the engine, the views and the
    month's compiled query (facts.py)."""
    views = "\n".join(f"{n}: {s}" for n, s in VIEWS_SQL.items())
    query = compile_base_query(specs, *month_bounds(month), dims=dims)
    return f"{engine}\n{ENGINE_COLUMNS}\n{views}\n{query}"


def _query_months(
    dataset: Dataset,
    specs: Mapping[str, Spec],
    months: Sequence[str],
    dims: tuple[str, ...],
    con: duckdb.DuckDBPyConnection | None,
    engine: str | object | None,
) -> pd.DataFrame:
    """The base rows of `months` (sorted), from one query over the months they span."""
    from . import engines

    start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
    leased = None if con is not None else engines.lease(dataset, engine)
    if leased is not None:
        eng, owned = leased
        try:
            base = eng.run(compile_base_query(specs, start, end, dialect=eng.dialect, dims=dims))
        finally:
            if owned:
                eng.close()
    else:
        own = con is None
        con = con or connect(dataset)
        try:
            base = con.execute(compile_base_query(specs, start, end, dims=dims)).df()
        finally:
            if own:
                con.close()
    base["month"] = pd.to_datetime(base["month_start"]).dt.strftime("%Y-%m")
    return base[base["month"].isin(months)]


def compute_metrics(
    dataset: Dataset,
    months: Sequence[str],
    *,
    specs: Mapping[str, Spec] | None = None,
    names: Sequence[str] | None = None,
    dims: tuple[str, ...] = ("product",),
    groups: Mapping[str, Sequence[str]] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    engine: str | object | None = None,
) -> pd.DataFrame:
    """Metrics per month, per group of `dims` and for the whole business (`ALL`).

    Args:
        dataset: a validated dataset.
        months: months as "YYYY-MM" (need not be contiguous).
        specs: metric name -> spec, every reference before its use (default: the core
            catalogue, see `catalogue.Catalogue.specs`).
        names: metrics to return, in this order (default: the core metrics of the contract).
        dims: what to group by: `product` (default), `lead_source`, `campaign_id` (activity
            metrics only), or several.
        groups: the values each dimension must show even when nothing happened (default:
            every product of the dataset for `product`, the values found otherwise).
        con: an open connection from `connect(dataset)` to reuse across calls.
        engine: where the query runs: "duckdb", "spark", or an `engines.Engine` opened for
            this dataset (default: the current `engines.use_engine` block, else DuckDB). The
            same compiled SQL runs on each, transpiled to the engine's dialect.

    Returns:
        Long frame `month, *dims, metric, value`; rates are NaN where the denominator is 0.
    """
    if specs is None or names is None:
        from .catalogue import CORE, CORE_METRICS

        specs = specs if specs is not None else {n: k.spec for n, k in CORE.items()}
        names = names if names is not None else CORE_METRICS
    names = list(names)
    specs = _needed(specs, names)
    columns = ["month", *dims, "metric", "value"]
    if not months:
        return pd.DataFrame(columns=columns)
    from . import engines  # imported here: engines builds on this module

    if con is not None and engine not in (None, "duckdb"):
        raise ValueError("give either con (a DuckDB connection) or engine, not both")
    name = "duckdb" if con is not None else engines.engine_name(engine)
    facts = getattr(dataset, "facts", None)  # None: a bare connection (benchmarks)
    keys = {m: _facts_key(specs, m, dims, name) for m in months} if facts is not None else {}
    kept = {m: facts.get(m, keys[m]) for m in keys}
    todo = sorted(m for m in months if kept.get(m) is None)
    parts = [frame for frame in kept.values() if frame is not None and not frame.empty]
    if todo:
        fresh = _query_months(dataset, specs, todo, dims, con, engine)
        for month in keys.keys() & set(todo):
            facts.put(month, keys[month], fresh[fresh["month"] == month])
        parts.append(fresh)
    if parts:
        base = pd.concat(parts, ignore_index=True)
    else:  # every month read from the cache, none with a row
        base = pd.DataFrame(columns=["metric", "month_start", *dims, "value", "month"])
    levels = []
    for d in dims:
        given = (groups or {}).get(d)
        if given is None:
            given = (
                dataset.products
                if d == "product"
                else sorted(base.loc[base[d] != ALL, d].dropna().unique())
            )
        levels.append([*given, ALL])
    index = pd.MultiIndex.from_product([list(months), *levels], names=["month", *dims])
    if len(dims) > 1:  # the rollup row is ALL in every dimension, not in one of them
        all_all = np.array(
            [all(v == ALL for v in row[1:]) or all(v != ALL for v in row[1:]) for row in index]
        )
        index = index[all_all]
    base_names = [n for n, sp in specs.items() if isinstance(sp, Count | Sum)]
    wide = (
        base.pivot_table(
            index=["month", *dims], columns="metric", values="value", aggfunc="sum", dropna=False
        )
        .reindex(index)
        .reindex(columns=base_names)
        .fillna(0.0)
    )
    wide = _derive(wide, specs)
    long = (
        wide[names]
        .reset_index()
        .melt(id_vars=["month", *dims], var_name="metric", value_name="value")
    )
    order = {name: i for i, name in enumerate(names)}
    level_order = [{g: i for i, g in enumerate(lv)} for lv in levels]

    def key(col: pd.Series) -> pd.Series:
        if col.name == "metric":
            return col.map(order)
        if col.name in dims:
            return col.map(level_order[dims.index(col.name)])
        return col

    long = long.sort_values(["month", "metric", *dims], key=key)
    return long[columns].reset_index(drop=True)
