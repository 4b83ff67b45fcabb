"""The metrics: declarative specs (`specs`) compiled to SQL and computed, in DuckDB or Spark.

Each metric is a small spec (`Count`, `Sum`, `Difference`, `Ratio`), declared in the KPI
catalogue (`catalogue/core.yaml` for the contract's core metrics, `params/kpis.yaml` for a
team's own). Counts and sums compile to one SQL query per metric, written in DuckDB's dialect
and transpiled by SQLGlot for any other engine (see docs/decisions.md); differences and ratios
are arithmetic on the aggregated counts. pandas only ever sees the aggregated rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..backends import engines
from ..backends.relations import Layout, layout_of, timestamp_literal, to_dialect
from ..contract.dataset import Dataset
from ..core.errors import ConfigError, suggest
from ..core.months import month_bounds
from ..core.schema import ALL
from .catalogue import CORE_METRICS, CORE_SPECS, source_columns
from .specs import Count, Difference, Filter, Ratio, Spec, Sum

# ---------------------------------------------------------------- SQL


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
    "leads": ("lead_rows", {}),
    "activities": ("activities", {}),
    "stage_changes": ("first_stages", {"changed_at": "entered_at"}),
    "opportunities": ("opportunities", {}),
}
DIMENSIONS = ("product", "lead_source", "campaign_id")  # and the dataset's attributes


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


def _facts_key(
    specs: Mapping[str, Spec], month: str, dims: tuple[str, ...], engine: str, layout: Layout
) -> str:
    """What a month's facts depend on besides the input: the engine, the tables and views
    it holds and the month's compiled query (facts.py)."""
    views = "\n".join(f"{n}: {s}" for n, s in layout.views().items())
    query = compile_base_query(specs, *month_bounds(month), dims=dims)
    return f"{engine}\n{layout.columns()}\n{views}\n{query}"


def check_columns(specs: Mapping[str, Spec], dims: Sequence[str], layout: Layout) -> None:
    """Every column a metric filters on and every dimension is one the dataset has: a KPI
    may name an attribute (an extra column of leads, opportunities or stage events), which
    only the dataset can confirm."""
    known = layout.dimensions
    for d in dims:
        if d not in known:
            raise ConfigError(
                f"by: the dataset has no dimension '{d}'{suggest(d, list(known))}; its "
                f"dimensions are {', '.join(known)}"
            )
    for name, spec in specs.items():
        if not isinstance(spec, Count | Sum):
            continue
        own = set(source_columns(spec.table))
        for column, _ in spec.where:
            if column not in own and column not in known:
                attrs = ", ".join(layout.extra[1:]) or "none"
                raise ConfigError(
                    f"KPI '{name}': where.{column}: the dataset's {spec.table} have no column "
                    f"'{column}'{suggest(column, [*own, *known])} (its attributes: {attrs})"
                )


def _query_months(
    dataset: Dataset,
    specs: Mapping[str, Spec],
    months: Sequence[str],
    dims: tuple[str, ...],
    engine: str | engines.Engine | None,
) -> pd.DataFrame:
    """The base rows of `months` (sorted), from one query over the months they span."""
    start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
    with engines.engine_for(dataset, engine) as eng:
        base = eng.run(compile_base_query(specs, start, end, dialect=eng.dialect, dims=dims))
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
    engine: str | engines.Engine | None = None,
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
        engine: where the query runs: an `engines.Engine` opened for this dataset (to reuse
            across calls), or "duckdb" (None) or "spark" for an engine opened for the call
            (`engines.engine_for`). The same compiled SQL runs on each, transpiled to the
            engine's dialect.

    Returns:
        Long frame `month, *dims, metric, value`; rates are NaN where the denominator is 0.
    """
    if specs is None or names is None:
        specs = specs if specs is not None else CORE_SPECS
        names = names if names is not None else CORE_METRICS
    names = list(names)
    specs = _needed(specs, names)
    columns = ["month", *dims, "metric", "value"]
    if not months:
        return pd.DataFrame(columns=columns)
    name = engines.engine_name(engine)
    layout = layout_of(dataset)
    check_columns(specs, dims, layout)
    facts = getattr(dataset, "facts", None)  # None: a bare connection (benchmarks)
    keys = (
        {m: _facts_key(specs, m, dims, name, layout) for m in months} if facts is not None else {}
    )
    kept = {m: facts.get(m, keys[m]) for m in keys}
    todo = sorted(m for m in months if kept.get(m) is None)
    parts = [frame for frame in kept.values() if frame is not None and not frame.empty]
    if todo:
        fresh = _query_months(dataset, specs, todo, dims, engine)
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


def is_count(specs: Mapping[str, Spec], name: str) -> bool:
    """Whether metric `name` counts rows (a `Count`, or a difference of counts): a whole number."""
    spec = specs[name]
    if isinstance(spec, Count):
        return True
    if isinstance(spec, Difference):
        return is_count(specs, spec.minuend) and is_count(specs, spec.subtrahend)
    return False


def metric_values(
    dataset: Dataset,
    months: str | Sequence[str],
    names: Sequence[str] | None = None,
    *,
    by: str | tuple[str, ...] = "product",
    specs: Mapping[str, Spec] | None = None,
) -> pd.DataFrame:
    """Metrics as a table to read: a row per month and group of `by` (and `ALL`), a column per
    metric; counts as whole numbers (`Int64`), sums and rates as floats (NaN where a rate's
    denominator is 0). `months`: one month "YYYY-MM" or several. `specs`: the catalogue's
    (`load_catalogue(params_dir).specs`) for a team's own KPIs; default the core metrics.

        metric_values(dataset, "2026-10", ["mqls"], by="lead_source")
    """
    months = [months] if isinstance(months, str) else list(months)
    dims = (by,) if isinstance(by, str) else tuple(by)
    specs = dict(specs) if specs is not None else CORE_SPECS
    names = list(names) if names is not None else list(CORE_METRICS)
    long = compute_metrics(dataset, months, specs=specs, names=names, dims=dims)
    wide = long.pivot(index=["month", *dims], columns="metric", values="value")
    wide = wide.reindex(columns=names).reset_index()
    wide.columns.name = None
    for name in names:
        if is_count(specs, name):
            wide[name] = wide[name].round().astype("Int64")
    return wide
