"""The dataset as SQL relations: the tables and views every metric, funnel and scoring query
reads, in DuckDB's dialect, and their translation into another engine's dialect by SQLGlot
(docs/decisions.md). Whatever runs the SQL (DuckDB here, Spark in `engines`) holds the tables
of `ENGINE_COLUMNS` and the views of `VIEWS_SQL`."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import sqlglot

from ..contract.dataset import Dataset
from ..contract.store import database


def timestamp_literal(value: pd.Timestamp) -> str:
    return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"


def to_dialect(sql: str, dialect: str) -> str:
    """SQL written in DuckDB's dialect, transpiled by SQLGlot for another engine."""
    if dialect == "duckdb":
        return sql
    return ";\n".join(sqlglot.transpile(sql, read="duckdb", write=dialect))


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
SOURCE_TABLES = {"activities_input": "activities", "opportunities_input": "opportunities"}


def _tables_for_engine(dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {
        name: dataset[SOURCE_TABLES.get(name, name)][cols] for name, cols in ENGINE_COLUMNS.items()
    }


def connect(dataset: Dataset) -> duckdb.DuckDBPyConnection:
    """An in-process DuckDB holding the dataset's tables and the metric views.

    When the dataset keeps its activities in its DuckDB store (contract.dataset.BULK_TABLES), the
    connection is a cursor on that store and reads them where they are: only the small tables
    are copied in, as temporary tables that vanish when the connection is closed. Every
    `activities_input` row carries `_row`, its position in the file, to break ties stably."""
    if "activities" in dataset.lazy and dataset.store is not None:
        con = dataset.store.cursor()
        for name, cols in ENGINE_COLUMNS.items():
            if name == "activities_input":
                continue
            con.register(f"{name}_df", dataset[SOURCE_TABLES.get(name, name)][cols])
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
