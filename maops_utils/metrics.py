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


def compile_metric(
    name: str,
    spec: Count | Sum,
    start: pd.Timestamp,
    end: pd.Timestamp,
    dims: tuple[str, ...] = ("product",),
) -> str:
    """SQL (DuckDB dialect) giving rows (metric, month_start, *dims, value) for one base metric.

    Groups by `dims` and, through GROUPING SETS in the same scan, the whole business, where
    every dimension reads `ALL`: a distinct pair is counted once even across groups.
    """
    view, renames = _VIEWS[spec.table]
    time = renames.get(spec.time, spec.time)
    conds = [
        f"{time} >= {timestamp_literal(start)}",
        f"{time} < {timestamp_literal(end)}",
        *_where(spec.where),
    ]
    month = f"DATE_TRUNC('month', {time})"
    keys = ", ".join(dims)
    if isinstance(spec, Count) and spec.distinct:
        # SELECT DISTINCT treats NULLs as equal, as pandas drop_duplicates does.
        extra = [c for c in spec.distinct if c not in dims]
        inner = (
            f"SELECT DISTINCT {month} AS month_start, {', '.join([*dims, *extra])} "
            f"FROM {view} WHERE {' AND '.join(conds)}"
        )
        agg = "COUNT(*)"
    elif isinstance(spec, Count):
        inner = f"SELECT {month} AS month_start, {keys} FROM {view} WHERE {' AND '.join(conds)}"
        agg = "COUNT(*)"
    else:
        inner = (
            f"SELECT {month} AS month_start, {keys}, {spec.column} AS amount "
            f"FROM {view} WHERE {' AND '.join(conds)}"
        )
        agg = "SUM(amount)"
    labels = ", ".join(
        f"CASE WHEN GROUPING({d}) = 1 THEN {_literal(ALL)} ELSE CAST({d} AS VARCHAR) END AS {d}"
        for d in dims
    )
    return (
        f"SELECT {_literal(name)} AS metric, month_start, {labels}, "
        f"CAST({agg} AS DOUBLE) AS value "
        f"FROM ({inner}) AS t GROUP BY GROUPING SETS ((month_start, {keys}), (month_start))"
    )


def compile_base_query(
    specs: Mapping[str, Spec],
    start: pd.Timestamp,
    end: pd.Timestamp,
    dialect: str = "duckdb",
    dims: tuple[str, ...] = ("product",),
) -> str:
    """The single query computing every count and sum in `specs` for months in [start, end)."""
    parts = [
        compile_metric(name, spec, start, end, dims)
        for name, spec in specs.items()
        if isinstance(spec, Count | Sum)
    ]
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
    con = duckdb.connect(":memory:")
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
    bounds = [month_bounds(m) for m in months]
    start, end = min(b[0] for b in bounds), max(b[1] for b in bounds)
    from . import engines  # imported here: engines builds on this module

    if con is not None and engine not in (None, "duckdb"):
        raise ValueError("give either con (a DuckDB connection) or engine, not both")
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
    base = base[base["month"].isin(months)]
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
