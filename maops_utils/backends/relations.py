"""The dataset as SQL relations: the tables and views every metric, funnel and scoring query
reads, in DuckDB's dialect, and their translation into another engine's dialect by SQLGlot
(docs/decisions.md). Whatever runs the SQL (DuckDB here, Spark in `engines`) holds the tables
of `ENGINE_COLUMNS` and the views of `VIEWS_SQL`."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import sqlglot

from ..contract.dataset import Dataset
from ..contract.store import database
from ..core.schema import ATTRIBUTE_TABLES, UNKNOWN_SOURCE, attribute_columns


def timestamp_literal(value: pd.Timestamp) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def to_dialect(sql: str, dialect: str) -> str:
    """SQL written in DuckDB's dialect, transpiled by SQLGlot for another engine."""
    if dialect == "duckdb":
        return sql
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect))


# Views every engine is given. Every view carries the dimensions a report groups by (`Layout.
# dimensions`): the lead's product and lead_source (an opportunity keeps its own product; one
# without a known lead takes its own `channel` attribute, else is `sales_sourced`), the
# campaign, and the attributes. `first_stages` is where "metrics use the first entry" lives.
# Stage events join the views as what they count: an MQL or SQL event as its own first entry,
# an opportunity event as an opportunity created, a won event as a deal won. `record` tells a
# deal followed from creation to close ('deal') from an event ('event'): only deals have a
# win rate.
SALES_SOURCED = "sales_sourced"
UNKNOWN_CHANNEL = UNKNOWN_SOURCE

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
EVENT_COLUMNS = ["event_id", "stage", "occurred_at", "product", "channel", "campaign_id", "amount"]
SOURCE_TABLES = {"activities_input": "activities", "opportunities_input": "opportunities"}


@dataclass(frozen=True)
class Layout:
    """What an engine holds for one dataset: its attributes, per table (`schema.
    attribute_columns`), and whether it has stage events. The plain layout (no attribute, no
    event) is that of the sample and of contract v1 as first written."""

    attributes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    events: bool = False

    def of(self, table: str) -> tuple[str, ...]:
        return dict(self.attributes).get(table, ())

    @property
    def extra(self) -> tuple[str, ...]:
        """The dimensions beyond product and lead_source, every view has them (`unknown`
        where its rows have no such value): the campaign, then the attributes."""
        names = {a for _, cols in self.attributes for a in cols} - {"campaign_id", "channel"}
        return ("campaign_id", *sorted(names))

    @property
    def dimensions(self) -> tuple[str, ...]:
        return ("product", "lead_source", *self.extra)

    def columns(self) -> dict[str, list[str]]:
        cols = {
            name: [*base, *(a for a in self.of(name) if a not in base)]
            for name, base in ENGINE_COLUMNS.items()
        }
        if self.events:
            cols["stage_events"] = [
                *EVENT_COLUMNS,
                *(a for a in self.of("stage_events") if a not in EVENT_COLUMNS),
            ]
        return cols

    def views(self) -> dict[str, str]:
        return {
            "lead_rows": self._lead_rows(),
            "activities": self._activities(),
            "first_stages": self._first_stages(),
            "opportunities": self._opportunities(),
        }

    def _pick(self, sources: list[tuple[str, str]], name: str) -> str:
        """`name` from the first of (alias, table) that has it, as text."""
        have = [
            f"{alias}.{name}"
            for alias, table in sources
            if name in self.of(table) or (table == "stage_events" and name in EVENT_COLUMNS)
        ]
        # a row without the value is a group of its own, as a lead without a source is
        value = ", ".join([*(f"CAST({h} AS VARCHAR)" for h in have), _quote(UNKNOWN_CHANNEL)])
        return f"COALESCE({value}) AS {name}"

    def _lead_rows(self) -> str:
        extra = [self._pick([("l", "leads")], a) for a in self.extra]
        cols = [f"l.{c}" for c in ENGINE_COLUMNS["leads"]]
        return f"SELECT {', '.join([*cols, *extra])} FROM leads AS l"

    def _activities(self) -> str:
        extra = [self._pick([("l", "leads")], a) for a in self.extra if a != "campaign_id"]
        return (
            f"SELECT {', '.join(['a.*', 'l.product', 'l.lead_source', *extra])} "
            "FROM activities_input AS a JOIN leads AS l ON a.lead_id = l.lead_id"
        )

    def _first_stages(self) -> str:
        extra = [self._pick([("l", "leads")], a) for a in self.extra]
        group = ["s.lead_id", "s.stage", "l.product", "l.lead_source"]
        group += [f"l.{a}" for a in self.extra if a in self.of("leads")]
        sql = (
            f"SELECT {', '.join(['s.lead_id', 's.stage', 'MIN(s.changed_at) AS entered_at', 'l.product', 'l.lead_source', *extra])} "
            "FROM stage_changes AS s JOIN leads AS l ON s.lead_id = l.lead_id "
            f"GROUP BY {', '.join(group)}"
        )
        if self.events:
            picks = [self._pick([("e", "stage_events")], a) for a in self.extra]
            sql += (
                f" UNION ALL SELECT {', '.join(['e.event_id AS lead_id', 'e.stage', 'e.occurred_at AS entered_at', 'e.product', f'COALESCE(e.channel, {_quote(UNKNOWN_CHANNEL)}) AS lead_source', *picks])} "
                "FROM stage_events AS e WHERE e.stage NOT IN ('opportunity', 'won')"
            )
        return sql

    def _opportunities(self) -> str:
        source = [("o", "opportunities_input"), ("l", "leads")]
        own_channel = "o.channel, " if "channel" in self.of("opportunities_input") else ""
        cols = [
            *(f"o.{c}" for c in ENGINE_COLUMNS["opportunities_input"]),
            f"COALESCE(l.lead_source, {own_channel}{_quote(SALES_SOURCED)}) AS lead_source",
            "'deal' AS record",
            *(self._pick(source, a) for a in self.extra),
        ]
        sql = (
            f"SELECT {', '.join(cols)} "
            "FROM opportunities_input AS o LEFT JOIN leads AS l ON o.lead_id = l.lead_id"
        )
        if self.events:
            won = "e.stage = 'won'"
            cols = [
                "e.event_id AS opportunity_id",
                "CAST(NULL AS VARCHAR) AS lead_id",
                "e.product",
                f"CASE WHEN {won} THEN NULL ELSE e.occurred_at END AS created_at",
                f"CASE WHEN {won} THEN 'won' ELSE CAST(NULL AS VARCHAR) END AS status",
                f"CASE WHEN {won} THEN e.occurred_at ELSE NULL END AS closed_at",
                "e.amount",
                f"COALESCE(e.channel, {_quote(UNKNOWN_CHANNEL)}) AS lead_source",
                "'event' AS record",
                *(self._pick([("e", "stage_events")], a) for a in self.extra),
            ]
            sql += (
                f" UNION ALL SELECT {', '.join(cols)} FROM stage_events AS e "
                "WHERE e.stage IN ('opportunity', 'won')"
            )
        return sql


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


PLAIN = Layout()
VIEWS_SQL = PLAIN.views()


def layout_of(dataset: Dataset) -> Layout:
    """The layout an engine gives `dataset`: its tables' attributes, and its stage events."""
    attrs = []
    for name in [*ENGINE_COLUMNS, "stage_events"]:
        table = SOURCE_TABLES.get(name, name)
        if table in ATTRIBUTE_TABLES and dataset.has(table) and not dataset.in_store(table):
            found = attribute_columns(table, dataset[table].columns)
            if found:
                attrs.append((name, tuple(found)))
    return Layout(tuple(attrs), events=not dataset.follows_leads)


def engine_tables(dataset: Dataset, layout: Layout) -> dict[str, pd.DataFrame]:
    """The tables an engine holds (but the activities, which an engine may read from the
    store): the layout's columns, attributes as text."""
    out = {}
    for name, cols in layout.columns().items():
        if name == "activities_input":
            continue
        frame = dataset[SOURCE_TABLES.get(name, name)][cols]
        attrs = [c for c in cols if c in layout.of(name)]
        if attrs:
            frame = frame.astype({c: "string" for c in attrs})
        out[name] = frame
    return out


def connect(dataset: Dataset) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB holding the dataset's tables and the metric views (`layout_of`).

    When the dataset keeps its activities in its DuckDB store (contract.dataset.BULK_TABLES), the
    connection is a cursor on that store and reads them where they are: only the small tables
    are copied in, as temporary tables that vanish when the connection is closed. Every
    `activities_input` row carries `_row`, its position in the file, to break ties stably."""
    layout = layout_of(dataset)
    in_store = "activities" in dataset.lazy and dataset.store is not None
    con = dataset.store.cursor() if in_store else database()
    temp = "TEMP " if in_store else ""
    for name, frame in engine_tables(dataset, layout).items():
        con.register(f"{name}_df", frame)
        con.execute(f"CREATE {temp}TABLE {name} AS SELECT * FROM {name}_df")
        con.unregister(f"{name}_df")
    cols = ", ".join(["_row", *ENGINE_COLUMNS["activities_input"]])
    if in_store:
        cut = " WHERE lead_id IN (SELECT lead_id FROM leads)" if dataset.sliced else ""
        con.execute(
            f"CREATE TEMP VIEW activities_input AS SELECT {cols} "
            f"FROM main.{dataset.lazy['activities']}{cut}"
        )
    else:
        frame = dataset["activities"][ENGINE_COLUMNS["activities_input"]]
        con.register("activities_df", frame.assign(_row=np.arange(len(frame), dtype="int64")))
        con.execute("CREATE TABLE activities_input AS SELECT * FROM activities_df")
        con.unregister("activities_df")
    for name, sql in layout.views().items():
        con.execute(f"CREATE {temp}VIEW {name} AS {sql}")
    return con
