"""The checked dataset: its tables, findings and sources (`Dataset`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..core.errors import Finding
from ..core.keeping import Keeper, MonthKeeper
from .store import BulkTable, Store, database, id_table, ident, literal, materialize

# Tables validated in DuckDB (store.py) and kept there; pandas sees them only when asked.
BULK_TABLES = ("activities",)
BULK_TIME = {"activities": "occurred_at"}  # the month a cached row is filed under
BULK_CODE = {"activities": "activity_type"}  # the column whose values must be known kinds

MAX_EXAMPLES = 5


@dataclass
class Dataset:
    """Validated tables: timestamps are naive local time in `timezone`, codes are checked.

    The bulk table (activities) stays in the dataset's DuckDB `store` (store.py): engines
    query it there, and `dataset["activities"]` loads it into pandas on first use only."""

    tables: dict[str, pd.DataFrame]
    findings: list[Finding] = field(default_factory=list)
    timezone: str = "Asia/Tokyo"
    sources: dict[str, dict[str, object]] = field(default_factory=dict)
    store: Store | None = None
    lazy: dict[str, str] = field(default_factory=dict)  # table -> view in `store`
    sliced: bool = False  # lazy tables hold other leads' rows too: cut them to `leads`
    bulk: dict[str, BulkTable] = field(default_factory=dict, repr=False)  # how they were checked
    spans: dict[tuple[str, str], tuple] = field(default_factory=dict, repr=False)  # time_span's
    cut_at: pd.Timestamp | None = None  # the run time, when it left rows or values out
    # What is kept between runs of this input (the batch's cache; None without one): results
    # of the whole input, by month or by name, and results of the leads alone.
    facts: MonthKeeper | None = field(default=None, repr=False)
    kept: Keeper | None = field(default=None, repr=False)

    def derived(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """`compute()`, a table that depends on the leads alone, kept (`kept`) as
        `derived-<name>.arrow` and read from there by later loads of the same files. `name`
        must change with anything else the result depends on (its settings, the code that
        computes it). Without a keeper, or when the run time left leads out, it is simply
        computed."""
        if self.kept is None:
            return compute()
        frame = self.kept.table(f"derived-{name}.arrow")  # None: absent, damaged or edited
        if frame is None:
            frame = compute()
            self.kept.keep_table(f"derived-{name}.arrow", frame)
        return frame

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self.tables and name in self.lazy:
            assert self.store is not None
            ids = self.tables["leads"]["lead_id"] if self.sliced else None
            self.tables[name] = materialize(self.store, self.lazy[name], ids)
        return self.tables[name]

    def has(self, name: str) -> bool:
        return name in self.tables or name in self.lazy

    def in_store(self, name: str) -> bool:
        """Whether table `name` lies in the DuckDB store only (not loaded into pandas)."""
        return name in self.lazy and name not in self.tables and self.store is not None

    def store_arrow(self, name: str, columns: Sequence[str]) -> pa.Table:
        """`columns` of table `name` (`in_store`) as Arrow, straight from DuckDB: text as
        string, timestamps as naive microseconds, never a pandas frame on the way."""
        cur = self._store_cursor()
        try:
            return cur.sql(self._store_select(cur, name, columns)).to_arrow_table()
        finally:
            cur.close()

    def store_to_parquet(self, name: str, columns: Sequence[str], path: Path) -> None:
        """Write `columns` of table `name` (`in_store`) to the Parquet file `path`, from
        DuckDB in one streaming pass (for an engine that reads files itself)."""
        cur = self._store_cursor()
        try:
            cur.execute(
                f"COPY ({self._store_select(cur, name, columns)}) "
                f"TO {literal(path.as_posix())} (FORMAT parquet)"
            )
        finally:
            cur.close()

    def _store_cursor(self) -> duckdb.DuckDBPyConnection:
        assert self.store is not None
        return self.store.cursor()

    def _store_select(
        self, cur: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str] = ()
    ) -> str:
        """SQL of table `name`'s rows in the store (`columns`, or all), cut to the leads of a
        product's dataset (the ids registered on `cur`)."""
        if not self.in_store(name):
            raise KeyError(f"table {name!r} does not lie in the dataset's DuckDB store")
        cols = ", ".join(ident(c) for c in columns) or "*"
        select = f"SELECT {cols} FROM main.{self.lazy[name]}"
        if self.sliced:
            cur.register("ids_in", id_table(self.tables["leads"]["lead_id"]))
            select += " WHERE lead_id IN (SELECT lead_id FROM ids_in)"
        return select

    def release(self) -> None:
        """Free the tables and the DuckDB store; `sources` and `findings` stay. The dataset
        cannot be read afterwards."""
        self.tables.clear()
        self.lazy.clear()
        self.bulk.clear()
        self.spans.clear()
        if self.store is not None:
            self.store.db.close()
            self.store = None

    def time_span(self, name: str, column: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last timestamp of `column` in table `name` (NaT when it has none),
        computed where the table lies and kept: the tables do not change once loaded."""
        if (name, column) not in self.spans:
            row = self.sql(
                name, f'SELECT MIN("{column}") AS lo, MAX("{column}") AS hi FROM {{table}}'
            )
            lo, hi = (row[c].iloc[0] if len(row) else None for c in ("lo", "hi"))
            self.spans[name, column] = (
                pd.Timestamp(lo) if pd.notna(lo) else pd.NaT,
                pd.Timestamp(hi) if pd.notna(hi) else pd.NaT,
            )
        return self.spans[name, column]

    def sql(self, name: str, query: str) -> pd.DataFrame:
        """Rows of `query` over table `name`, written `{table}` in the query, run in DuckDB
        where the table lies: a lazy table is never loaded into pandas for it."""
        if self.in_store(name):
            cur = self._store_cursor()
            try:
                source = f"({self._store_select(cur, name)})"
                return cur.execute(query.format(table=source)).df()
            finally:
                cur.close()
        con = database()
        try:
            con.register("table_in", self[name])
            return con.execute(query.format(table="table_in")).df()
        finally:
            con.close()

    @property
    def names(self) -> list[str]:
        """Every table of the dataset, loaded or not."""
        return [*self.tables, *(n for n in self.lazy if n not in self.tables)]

    def for_product(self, product: str) -> Dataset:
        """The part of the dataset that belongs to one product: its leads with their
        activities and stage changes, its opportunities and stage events, and its campaigns
        and the cross-product ones (empty product). Spend names no product: it stays with
        the whole business."""
        leads = self.tables["leads"]
        mine = leads[leads["product"] == product]
        ids = mine["lead_id"]
        tables = {"leads": mine}
        for name, frame in self.tables.items():
            if name in ("activities", "stage_changes", "scores"):
                tables[name] = frame[isin(frame["lead_id"], ids)]
            elif name in ("opportunities", "stage_events"):
                tables[name] = frame[frame["product"] == product]
            elif name == "campaigns":
                tables[name] = frame[frame["product"].isna() | (frame["product"] == product)]
        tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
        lazy = {k: v for k, v in self.lazy.items() if k not in tables}
        return Dataset(
            tables,
            list(self.findings),
            self.timezone,
            dict(self.sources),
            self.store,
            lazy,
            sliced=bool(lazy),
            cut_at=self.cut_at,
            facts=self.facts.for_product(product) if self.facts is not None else None,
        )

    @property
    def products(self) -> list[str]:
        """Every product code in leads, opportunities and stage events, sorted."""
        values = {
            *self.tables["leads"]["product"].unique(),
            *self.tables["opportunities"]["product"].unique(),
        }
        if "stage_events" in self.tables:
            values.update(self.tables["stage_events"]["product"].unique())
        return sorted(str(v) for v in values if pd.notna(v))

    @property
    def follows_leads(self) -> bool:
        """Whether the stages follow leads (stage changes and opportunities name them), as
        cohorts, velocity, the same lead's conversion and scoring need. A dataset of stage
        events (one report per stage, no shared id) counts each stage on its own."""
        events = self.tables.get("stage_events")
        return events is None or events.empty


def isin(values: pd.Series, among) -> pd.Series:
    """`values.isin(among)` that stays fast for text columns with many candidates: pandas
    looks each candidate up in Python for its Arrow-backed text type; Arrow's `is_in` does
    not. Missing values match missing candidates, as in pandas."""
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        return values.isin(among)
    column = pa.array(values.array)
    if isinstance(among, pd.Series | pd.Index) and isinstance(among.dtype, pd.StringDtype):
        pool = pa.array(among.array)
    else:
        pool = pa.array(pd.Series(list(among), dtype="object"), type=column.type, from_pandas=True)
    found = pc.is_in(column, value_set=pool.cast(column.type), skip_nulls=False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=values.index, dtype=bool)
