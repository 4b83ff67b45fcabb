"""The core metrics of data contract v1, defined once and compiled to SQL.

Each metric is a small declarative spec (`Count`, `Sum`, `Difference`, `Ratio`). Counts and
sums compile to one SQL query per metric, written in DuckDB's dialect and transpiled by SQLGlot
for any other engine (see docs/decisions.md); differences and ratios are arithmetic on the
aggregated counts. pandas only ever sees the aggregated rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Metric:
    name: str
    spec: Spec
    public: bool = True  # False: an intermediate count, not written to metrics.csv
    is_rate: bool = field(default=False)


def _is(column: str, *values: str) -> Filter:
    return (column, tuple(values))


def _metrics() -> dict[str, Metric]:
    acts = "activities"
    items = [
        Metric("new_leads", Count("leads", "created_at")),
        Metric("mqls", Count("first_stages", "entered_at", (_is("stage", "mql"),), ("lead_id",))),
        Metric("sqls", Count("first_stages", "entered_at", (_is("stage", "sql"),), ("lead_id",))),
        Metric("opportunities", Count("opportunities", "created_at")),
        Metric("won_deals", Count("opportunities", "closed_at", (_is("status", "won"),))),
        Metric("revenue", Sum("opportunities", "closed_at", "amount", (_is("status", "won"),))),
        Metric(
            "closed_deals",
            Count("opportunities", "closed_at", (_is("status", "won", "lost"),)),
            False,
        ),
        Metric("mql_rate", Ratio("mqls", "new_leads"), is_rate=True),
        Metric("sql_rate", Ratio("sqls", "mqls"), is_rate=True),
        Metric("win_rate", Ratio("won_deals", "closed_deals"), is_rate=True),
        Metric("email_sends", Count(acts, "occurred_at", (_is("activity_type", "email_send"),))),
        Metric(
            "email_bounces",
            Count(acts, "occurred_at", (_is("activity_type", "email_bounce"),)),
            False,
        ),
        Metric("email_delivered", Difference("email_sends", "email_bounces")),
        Metric(
            "email_open_pairs",
            Count(
                acts,
                "occurred_at",
                (_is("activity_type", "email_open"),),
                ("lead_id", "campaign_id"),
            ),
            False,
        ),
        Metric(
            "email_click_pairs",
            Count(
                acts,
                "occurred_at",
                (_is("activity_type", "email_click"),),
                ("lead_id", "campaign_id"),
            ),
            False,
        ),
        Metric("email_open_rate", Ratio("email_open_pairs", "email_delivered"), is_rate=True),
        Metric("email_ctr", Ratio("email_click_pairs", "email_delivered"), is_rate=True),
        Metric("email_ctor", Ratio("email_click_pairs", "email_open_pairs"), is_rate=True),
        Metric(
            "unsubscribes",
            Count(acts, "occurred_at", (_is("activity_type", "unsubscribe"),)),
            False,
        ),
        Metric("unsubscribe_rate", Ratio("unsubscribes", "email_delivered"), is_rate=True),
        Metric(
            "product_page_views",
            Count(
                acts,
                "occurred_at",
                (_is("activity_type", "page_view"), _is("category", "product_detail")),
            ),
        ),
        Metric(
            "inquiries",
            Count(
                acts,
                "occurred_at",
                (_is("activity_type", "form_submit"), _is("category", "inquiry")),
            ),
        ),
    ]
    return {m.name: m for m in items}


METRICS: dict[str, Metric] = _metrics()
# The contract's core metrics, in the contract's order.
CORE_METRICS: tuple[str, ...] = tuple(m.name for m in METRICS.values() if m.public)


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


def compile_metric(name: str, spec: Count | Sum, start: pd.Timestamp, end: pd.Timestamp) -> str:
    """SQL (DuckDB dialect) giving rows (metric, month_start, product, value) for one base metric.

    Per product and `ALL` come from one scan through GROUPING SETS; `ALL` counts the whole
    dataset, so a distinct pair is counted once even across products.
    """
    conds = [
        f"{spec.time} >= TIMESTAMP '{start:%Y-%m-%d %H:%M:%S}'",
        f"{spec.time} < TIMESTAMP '{end:%Y-%m-%d %H:%M:%S}'",
        *_where(spec.where),
    ]
    month = f"DATE_TRUNC('month', {spec.time})"
    if isinstance(spec, Count) and spec.distinct:
        # SELECT DISTINCT treats NULLs as equal, as pandas drop_duplicates does.
        inner = (
            f"SELECT DISTINCT {month} AS month_start, product, {', '.join(spec.distinct)} "
            f"FROM {spec.table} WHERE {' AND '.join(conds)}"
        )
        agg = "COUNT(*)"
    elif isinstance(spec, Count):
        inner = (
            f"SELECT {month} AS month_start, product FROM {spec.table} WHERE {' AND '.join(conds)}"
        )
        agg = "COUNT(*)"
    else:
        inner = (
            f"SELECT {month} AS month_start, product, {spec.column} AS amount "
            f"FROM {spec.table} WHERE {' AND '.join(conds)}"
        )
        agg = "SUM(amount)"
    return (
        f"SELECT {_literal(name)} AS metric, month_start, "
        f"CASE WHEN GROUPING(product) = 1 THEN {_literal(ALL)} ELSE product END AS product, "
        f"CAST({agg} AS DOUBLE) AS value "
        f"FROM ({inner}) AS t GROUP BY GROUPING SETS ((month_start, product), (month_start))"
    )


def compile_base_query(start: pd.Timestamp, end: pd.Timestamp, dialect: str = "duckdb") -> str:
    """The single query computing every count and sum metric for months in [start, end)."""
    parts = [
        compile_metric(m.name, m.spec, start, end)
        for m in METRICS.values()
        if isinstance(m.spec, Count | Sum)
    ]
    sql = "\nUNION ALL\n".join(parts)
    if dialect != "duckdb":
        sql = ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect))
    return sql


# Views every engine is given; `first_stages` is where "metrics use the first entry" lives.
VIEWS_SQL = {
    "activities": (
        "SELECT a.*, l.product FROM activities_input AS a JOIN leads AS l ON a.lead_id = l.lead_id"
    ),
    "first_stages": (
        "SELECT s.lead_id, s.stage, MIN(s.changed_at) AS entered_at, l.product "
        "FROM stage_changes AS s JOIN leads AS l ON s.lead_id = l.lead_id "
        "GROUP BY s.lead_id, s.stage, l.product"
    ),
}


def _tables_for_engine(dataset: Dataset) -> dict[str, pd.DataFrame]:
    keep = {
        "leads": ["lead_id", "created_at", "product", "lead_source"],
        "activities_input": ["lead_id", "activity_type", "occurred_at", "campaign_id", "category"],
        "stage_changes": ["lead_id", "stage", "changed_at"],
        "opportunities": [
            "opportunity_id",
            "product",
            "created_at",
            "status",
            "closed_at",
            "amount",
        ],
    }
    source = {"activities_input": "activities"}
    return {name: dataset[source.get(name, name)][cols] for name, cols in keep.items()}


def connect(dataset: Dataset) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB holding the dataset's tables and the metric views."""
    con = duckdb.connect(":memory:")
    for name, frame in _tables_for_engine(dataset).items():
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    for name, sql in VIEWS_SQL.items():
        con.execute(f"CREATE VIEW {name} AS {sql}")
    return con


def _derive(wide: pd.DataFrame) -> pd.DataFrame:
    for m in METRICS.values():
        if isinstance(m.spec, Difference):
            wide[m.name] = wide[m.spec.minuend] - wide[m.spec.subtrahend]
        elif isinstance(m.spec, Ratio):
            num, den = wide[m.spec.numerator], wide[m.spec.denominator]
            with np.errstate(divide="ignore", invalid="ignore"):
                wide[m.name] = np.where(den != 0, num / den.where(den != 0, 1), np.nan)
    return wide


def compute_metrics(
    dataset: Dataset,
    months: Sequence[str],
    *,
    products: Sequence[str] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    include_intermediate: bool = False,
) -> pd.DataFrame:
    """Core metrics per month, per product and for `ALL`.

    Args:
        dataset: a validated dataset.
        months: months as "YYYY-MM" (need not be contiguous).
        products: product codes to report (default: every product in the data); `ALL` is added.
        con: an open connection from `connect(dataset)` to reuse across calls.
        include_intermediate: also return the counts behind the rates (closed_deals, ...).

    Returns:
        Long frame `month, product, metric, value`; rates are NaN where the denominator is 0.
    """
    if not months:
        return pd.DataFrame(columns=["month", "product", "metric", "value"])
    products = list(products) if products is not None else dataset.products
    own = con is None
    con = con or connect(dataset)
    try:
        bounds = [month_bounds(m) for m in months]
        start, end = min(b[0] for b in bounds), max(b[1] for b in bounds)
        base = con.execute(compile_base_query(start, end)).df()
    finally:
        if own:
            con.close()
    base["month"] = pd.to_datetime(base["month_start"]).dt.strftime("%Y-%m")
    base = base[base["month"].isin(months)]
    groups = [*products, ALL]
    grid = pd.MultiIndex.from_product([list(months), groups], names=["month", "product"])
    wide = (
        base.pivot_table(
            index=["month", "product"], columns="metric", values="value", aggfunc="sum"
        )
        .reindex(grid)
        .reindex(columns=[m.name for m in METRICS.values() if isinstance(m.spec, Count | Sum)])
        .fillna(0.0)
    )
    wide = _derive(wide)
    names = [m.name for m in METRICS.values() if m.public or include_intermediate]
    long = (
        wide[names]
        .reset_index()
        .melt(id_vars=["month", "product"], var_name="metric", value_name="value")
    )
    order = {name: i for i, name in enumerate(names)}
    group_order = {g: i for i, g in enumerate(groups)}
    long = long.sort_values(
        ["month", "metric", "product"],
        key=lambda s: (
            s.map(order)
            if s.name == "metric"
            else (s.map(group_order) if s.name == "product" else s)
        ),
    )
    return long.reset_index(drop=True)
