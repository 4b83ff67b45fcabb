"""Check raw tables against data contract v1 and turn them into typed frames.

Fatal problems (a missing table or column, a timestamp that cannot be read, a duplicate key)
raise `DataContractError` listing every one of them at once. Everything else becomes a
`Finding` and the offending rows are left out, so one bad row never stops a monthly report.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather

from . import cache
from .cache import cache_entry, new_cache_entry, publish_cache_entry, read_cache_meta
from .core.errors import DataContractError, Finding
from .core.schema import ACTIVITY_TYPES, ALL, OPPORTUNITY_STATUSES, STAGES, TABLES, UNKNOWN_SOURCE
from .facts import MonthFacts
from .io import (
    CHECKSUMS_FILE,
    Checksums,
    KeptTable,
    RawTable,
    ScanTable,
    locate_tables,
    read_raw_dataset,
    remove_tree,
    scan_parquet,
    sha256_bytes,
    source_digest,
    write_arrow_atomic,
)
from .store import (
    CACHE_FORMAT,
    BulkTable,
    Problem,
    Store,
    database,
    id_table,
    ident,
    key_range,
    literal,
    materialize,
    write_cache,
    write_summaries,
)

# Tables validated in DuckDB (store.py) and kept there; pandas sees them only when asked.
BULK_TABLES = ("activities",)
BULK_TIME = {"activities": "occurred_at"}  # the month a cached row is filed under
BULK_CODE = {"activities": "activity_type"}  # the column whose values must be known kinds

MAX_EXAMPLES = 5

_OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.I)
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})")


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
    facts: MonthFacts | None = field(default=None, repr=False)  # month facts kept between runs
    kept: Path | None = field(default=None, repr=False)  # the small tables' cache entry (leads)

    def derived(self, name: str, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """`compute()`, a table that depends on the leads alone, kept in the small tables'
        cache entry as `derived-<name>.arrow` and read from there by later loads of the same
        files. `name` must change with anything else the result depends on (its settings,
        the code that computes it). Without a cache entry, or when the run time left leads
        out, it is simply computed."""
        if self.kept is None:
            return compute()
        path = self.kept / f"derived-{name}.arrow"
        table = cache.load_table(path)  # None: absent, damaged or edited
        if table is not None:
            return table.to_pandas()
        frame = compute()
        try:
            cache.keep_table(path, frame)
        except (OSError, ValueError, TypeError, pa.ArrowException):
            pass  # a value Arrow cannot hold, or no room: not kept
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
        activities and stage changes, its opportunities, and its campaigns and the
        cross-product ones (empty product)."""
        leads = self.tables["leads"]
        mine = leads[leads["product"] == product]
        ids = mine["lead_id"]
        tables = {"leads": mine}
        for name, frame in self.tables.items():
            if name in ("activities", "stage_changes", "scores"):
                tables[name] = frame[isin(frame["lead_id"], ids)]
            elif name == "opportunities":
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
        """Every product code in leads and opportunities, sorted."""
        values = {
            *self.tables["leads"]["product"].unique(),
            *self.tables["opportunities"]["product"].unique(),
        }
        return sorted(str(v) for v in values)


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


def _may_repeat(values: pd.Series) -> bool:
    """False when the values present are all distinct, found by Arrow's hash of the distinct
    values for an Arrow-backed column (0.27 s per million against 0.38 s for pandas'
    `duplicated`); True when they may repeat, which `duplicated` then decides."""
    array = values.array
    if not hasattr(array, "__arrow_array__"):
        return True
    column = pa.array(array).drop_null()
    return len(pc.unique(column)) != len(column)


def _columns(raw: RawTable | ScanTable) -> list[str]:
    return list(raw.columns)


def _absent(spec, index: pd.Index) -> pd.Series:
    """The column of an optional column the file lacks: empty, of the column's kind."""
    empty = {"timestamp": "datetime64[us]", "date": "datetime64[us]"}.get(spec.kind)
    return pd.Series(
        pd.NaT if empty else (np.nan if spec.kind in ("number", "integer") else None),
        index=index,
        dtype=empty or ("float64" if spec.kind in ("number", "integer") else object),
    )


def _blank(values: pd.Series) -> pd.Series:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return values.isna() | (values.astype("string").str.strip() == "")
    return values.isna()


def _examples(raw: RawTable, mask: pd.Series, column: str | None = None) -> list[str]:
    # Frames keep the raw table's RangeIndex through every filter, so an index label is the
    # row's position in the file even after earlier rows were left out.
    labels = mask.index[mask.to_numpy(dtype=bool)][:MAX_EXAMPLES]
    out = []
    for i in labels:
        if column is None or column not in raw.frame.columns:
            out.append(raw.where(int(i)))
        else:
            value = raw.frame[column].iloc[int(i)]
            out.append(f"{raw.where(int(i))}: {str(value)[:60]!r}")
    return out


def _unknown_values(frame: pd.DataFrame, column: str, mask: pd.Series) -> str:
    values = sorted(map(str, frame.loc[mask, column].dropna().unique()))[:MAX_EXAMPLES]
    return ", ".join(values) or "empty"


def parse_timestamps(values: pd.Series, timezone: str) -> pd.Series:
    """Parse timestamps to naive local time in `timezone` (the contract's time rule).

    A value without an offset is already local time; one with an offset (or `Z`) is converted.
    Blank values become NaT; unreadable ones too (the caller tells them apart with `_blank`).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[us]")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]")
    text = values.astype("string").str.strip()
    text = text.where(text != "", None)
    text = text.str.replace(
        _SLASH_DATE, lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", regex=True
    )
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    has_offset = text.str.contains(_OFFSET).fillna(False).astype(bool)
    present = text.notna()
    naive = present & ~has_offset
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(text[naive][retry], format="mixed", errors="coerce")
        result[naive] = parsed.astype("datetime64[us]")
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(
                text[has_offset][retry], format="mixed", utc=True, errors="coerce"
            )
        result[has_offset] = (
            parsed.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[us]")
        )
    return result


def _parse_numbers(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    text = text.where(text != "", None)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _strings(values: pd.Series) -> pd.Series:
    # pandas' own text type (Arrow-backed, NaN when missing): no Python object per cell
    out = values.astype("string").str.strip().astype("str")
    return out.where(out != "")


# What every finding says, whichever engine found it (pandas here, SQL in store.py).
_TIME_ACTION = "use YYYY-MM-DD HH:MM:SS (local time) or ISO 8601 with an offset"


def _blank_text(n: int, col: str, kind: str) -> str:
    # Rows are kept: a lead without created_at still owns its activities, a deal without an
    # amount is still a deal. Such a value counts in no month or sum.
    effect = "count in no month" if kind == "timestamp" else "add nothing to sums"
    return f"{n} row(s) have no value in required column '{col}' and {effect}"


def _duplicate_text(n_keys: int, n_rows: int, key: str) -> str:
    return f"{n_keys} '{key}' value(s) occur more than once ({n_rows} rows); '{key}' must be unique"


_DUPLICATE_ACTION = "remove the duplicate rows or give them distinct keys"


def _future_text(as_of: pd.Timestamp) -> str:
    return f"row(s) dated after the run time {as_of:%Y-%m-%d %H:%M} were left out"


_FUTURE_ACTION = "check the source system's clock or time zone"


def _orphan_text(noun: str) -> str:
    return f"{noun} reference a lead_id not in leads (orphans) and were left out"


_ORPHAN_ACTION = "check that the exports cover the same leads"


def _unknown_text(noun: str, column: str, values: str) -> str:
    return f"{noun} have an unknown {column} ({values}) and were left out"


def _unknown_action(allowed: tuple[str, ...]) -> str:
    return f"use one of {', '.join(allowed)} (map vendor codes with an importer)"


class _Checker:
    def __init__(
        self,
        raw: dict[str, RawTable | ScanTable],
        timezone: str,
        as_of: pd.Timestamp | None,
        cached_findings: dict[str, list[Finding]],
    ):
        self.raw = raw
        self.cached_findings = cached_findings
        self.timezone = timezone
        self.as_of = as_of
        self.errors: list[Finding] = []
        self.findings: list[Finding] = []
        self.cut = False  # whether as_of left rows or values out

    # -- helpers
    def error(self, raw: RawTable, message: str, *, column: str = "", mask=None, action: str = ""):
        count = int(mask.sum()) if mask is not None else 0
        examples = _examples(raw, mask, column or None) if mask is not None else []
        self.errors.append(
            Finding("error", raw.name, message, str(raw.path), column, count, examples, action)
        )

    def warn(self, raw: RawTable, message: str, *, column: str = "", mask=None, action: str = ""):
        count = int(mask.sum()) if mask is not None else 0
        examples = _examples(raw, mask, column or None) if mask is not None else []
        self.findings.append(
            Finding("warning", raw.name, message, str(raw.path), column, count, examples, action)
        )

    def note(
        self,
        level: str,
        raw: RawTable | ScanTable,
        message: str,
        *,
        column: str = "",
        problem: Problem,
        action: str = "",
    ) -> None:
        """A finding from a problem found in SQL (store.py), worded as `error`/`warn` do."""
        show = bool(column) and column in _columns(raw)
        examples = [
            f"{raw.where(i)}: {str(v)[:60]!r}" if show else raw.where(i)
            for i, v in problem.examples[:MAX_EXAMPLES]
        ]
        (self.errors if level == "error" else self.findings).append(
            Finding(
                level, raw.name, message, str(raw.path), column, problem.count, examples, action
            )
        )

    # -- structure
    def check_structure(self) -> None:
        for name, table in TABLES.items():
            if name not in self.raw:
                if table.required:
                    self.errors.append(
                        Finding(
                            "error",
                            name,
                            f"required table '{name}' is missing",
                            file=f"{name}.csv",
                            action=f"add {name}.csv or {name}.parquet to the data folder",
                        )
                    )
                continue
            raw = self.raw[name]
            cols = _columns(raw)
            dupes = sorted({c for c in cols if cols.count(c) > 1})
            if dupes:
                self.errors.append(
                    Finding(
                        "error", name, f"column(s) {dupes} appear more than once", str(raw.path)
                    )
                )
            for col in table.required_columns:
                if col not in cols:
                    close = difflib.get_close_matches(col, cols, n=1, cutoff=0.6)
                    close += [c for c in cols if c.lower() == col.lower() and c not in close]
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    self.errors.append(
                        Finding(
                            "error",
                            name,
                            f"required column '{col}' is missing (columns found: {', '.join(cols) or 'none'}){hint}",
                            file=str(raw.path),
                            column=col,
                            action=f"add or rename the column to '{col}'",
                        )
                    )

    # -- per table typing
    def typed(self, name: str) -> pd.DataFrame:
        raw = self.raw[name]
        table = TABLES[name]
        src = raw.frame
        out = pd.DataFrame(index=src.index)
        for col in src.columns:
            spec = table.column(col)
            values = src[col]
            if spec is None:
                out[col] = values  # unknown extra columns are kept and ignored
                continue
            blank = _blank(values)
            if spec.kind in ("timestamp", "date"):
                parsed = parse_timestamps(values, self.timezone)
                bad = parsed.isna() & ~blank
                if bad.any():
                    if spec.required or spec.kind == "timestamp":
                        self.error(
                            raw,
                            f"{int(bad.sum())} value(s) are not readable timestamps",
                            column=col,
                            mask=bad,
                            action=_TIME_ACTION,
                        )
                    else:
                        self.warn(
                            raw,
                            f"{int(bad.sum())} unreadable date(s) ignored",
                            column=col,
                            mask=bad,
                        )
                out[col] = parsed
            elif spec.kind in ("number", "integer"):
                parsed = _parse_numbers(values)
                bad = parsed.isna() & ~blank
                if spec.required and bad.any():
                    self.error(
                        raw,
                        f"{int(bad.sum())} value(s) are not numbers",
                        column=col,
                        mask=bad,
                        action="use plain numbers such as 1200000 (no currency signs)",
                    )
                elif bad.any():
                    self.warn(
                        raw,
                        f"{int(bad.sum())} value(s) are not numbers and were ignored",
                        column=col,
                        mask=bad,
                    )
                out[col] = parsed
            else:
                out[col] = _strings(values)
                continue
            if spec.required and blank.any():
                self.warn(
                    raw,
                    _blank_text(int(blank.sum()), col, spec.kind),
                    column=col,
                    mask=blank,
                    action="fill in the value",
                )
        # Optional columns the file lacks are empty columns, so no later step has to ask.
        for spec in table.columns:
            if spec.name not in out.columns:
                out[spec.name] = _absent(spec, out.index)
        return out

    def check_key(self, name: str, frame: pd.DataFrame) -> None:
        key = TABLES[name].key
        if key is None or key not in frame.columns:
            return
        raw = self.raw[name]
        present = frame[key].notna()
        if TABLES[name].column(key).required and (~present).any():
            self.error(
                raw,
                f"{int((~present).sum())} row(s) have an empty '{key}'",
                column=key,
                mask=~present,
                action=f"every row needs a unique {key}",
            )
        if not _may_repeat(frame[key]):
            return
        dup = present & frame[key].duplicated(keep=False)
        if dup.any():
            n = frame.loc[dup, key].nunique()
            self.error(
                raw,
                _duplicate_text(n, int(dup.sum()), key),
                column=key,
                mask=dup,
                action=_DUPLICATE_ACTION,
            )

    def require_values(self, name: str, frame: pd.DataFrame, cols: tuple[str, ...]) -> None:
        raw = self.raw[name]
        for col in cols:
            if col in frame.columns:
                blank = frame[col].isna()
                if blank.any():
                    self.error(
                        raw,
                        f"{int(blank.sum())} row(s) have no value in required column '{col}'",
                        column=col,
                        mask=blank,
                        action="fill in the value or remove those rows",
                    )

    def reserved_product(self, name: str, frame: pd.DataFrame) -> None:
        if "product" in frame.columns:
            bad = frame["product"] == ALL
            if bad.any():
                self.error(
                    self.raw[name],
                    f"product code '{ALL}' is reserved for the whole business",
                    column="product",
                    mask=bad,
                    action="rename that product code",
                )

    def drop(
        self,
        name: str,
        frame: pd.DataFrame,
        mask: pd.Series,
        what: str,
        *,
        column: str,
        action: str = "",
    ) -> pd.DataFrame:
        """Leave out the rows in `mask`, recording a finding "<n> <what>"."""
        if not mask.any():
            return frame
        self.warn(
            self.raw[name], f"{int(mask.sum())} {what}", column=column, mask=mask, action=action
        )
        return frame[~mask]

    def drop_future(self, name: str, frame: pd.DataFrame, col: str) -> pd.DataFrame:
        if self.as_of is None or col not in frame.columns:
            return frame
        future = frame[col] > self.as_of
        self.cut |= bool(future.any())
        return self.drop(
            name,
            frame,
            future,
            _future_text(self.as_of),
            column=col,
            action=_FUTURE_ACTION,
        )

    def drop_orphans(
        self, name: str, frame: pd.DataFrame, known: pd.Index, noun: str
    ) -> pd.DataFrame:
        return self.drop(
            name,
            frame,
            ~isin(frame["lead_id"], known),
            _orphan_text(noun),
            column="lead_id",
            action=_ORPHAN_ACTION,
        )

    def drop_unknown(
        self, name: str, frame: pd.DataFrame, column: str, allowed: tuple[str, ...], noun: str
    ) -> pd.DataFrame:
        mask = ~frame[column].isin(allowed)
        return self.drop(
            name,
            frame,
            mask,
            _unknown_text(noun, column, _unknown_values(frame, column, mask)),
            column=column,
            action=_unknown_action(allowed),
        )

    # -- the bulk table, in SQL (store.py): the same checks, in the same order, as above
    def typed_bulk(self, name: str, store: Store) -> BulkTable:
        raw = self.raw[name]
        bulk = BulkTable(store, raw, self.timezone)
        unreadable = bulk.create_typed(lambda values: parse_timestamps(values, self.timezone))
        before = len(self.findings)
        if bulk.cached:
            self.findings.extend(self.cached_findings.get(name, []))
        for col, condition in unreadable.items():
            spec = TABLES[name].column(col)
            bad = bulk.problem(condition, col)
            if bad.count and (spec.required or spec.kind == "timestamp"):
                self.note(
                    "error",
                    raw,
                    f"{bad.count} value(s) are not readable timestamps",
                    column=col,
                    problem=bad,
                    action=_TIME_ACTION,
                )
            elif bad.count:
                self.note(
                    "warning",
                    raw,
                    f"{bad.count} unreadable date(s) ignored",
                    column=col,
                    problem=bad,
                )
            blank = bulk.blank(col) if spec.required else Problem(0, [])
            if blank.count:
                self.note(
                    "warning",
                    raw,
                    _blank_text(blank.count, col, spec.kind),
                    column=col,
                    problem=blank,
                    action="fill in the value",
                )
        bulk.typing_findings = self.findings[before:]
        return bulk

    def check_bulk_key(self, bulk: BulkTable) -> None:
        key, raw = TABLES[bulk.name].key, self.raw[bulk.name]
        if key is None:
            return
        if TABLES[bulk.name].column(key).required:
            empty = bulk.problem(f"{key} IS NULL", key)
            if empty.count:
                self.note(
                    "error",
                    raw,
                    f"{empty.count} row(s) have an empty '{key}'",
                    column=key,
                    problem=empty,
                    action=f"every row needs a unique {key}",
                )
        n_keys, dup = bulk.duplicates(key)
        if n_keys:
            self.note(
                "error",
                raw,
                _duplicate_text(n_keys, dup.count, key),
                column=key,
                problem=dup,
                action=_DUPLICATE_ACTION,
            )
        if "product" in bulk.columns:
            reserved = bulk.problem(f"CAST(product AS VARCHAR) = '{ALL}'", "product")
            if reserved.count:
                self.note(
                    "error",
                    raw,
                    f"product code '{ALL}' is reserved for the whole business",
                    column="product",
                    problem=reserved,
                    action="rename that product code",
                )

    def keep_bulk(
        self,
        bulk: BulkTable,
        known: pd.Index | None,
        time_col: str,
        code: str,
        allowed,
        noun: str,
    ) -> None:
        """The bulk table's rules; `known` None: its rows are known to reference only leads."""
        raw = self.raw[bulk.name]
        ids = pd.Series(known) if known is not None else None
        found = bulk.create_valid(ids, self.as_of, time_col, {code: allowed})
        if "future" in found and found["future"].count:
            self.cut = True
            p = found["future"]
            self.note(
                "warning",
                raw,
                f"{p.count} {_future_text(self.as_of)}",
                column=time_col,
                problem=p,
                action=_FUTURE_ACTION,
            )
        if found["orphans"].count:
            p = found["orphans"]
            self.note(
                "warning",
                raw,
                f"{p.count} {_orphan_text(noun)}",
                column="lead_id",
                problem=p,
                action=_ORPHAN_ACTION,
            )
        if found[code].count:
            p = found[code]
            values = sorted(str(v) for v in p.values)[:MAX_EXAMPLES]
            self.note(
                "warning",
                raw,
                f"{p.count} {_unknown_text(noun, code, ', '.join(values) or 'empty')}",
                column=code,
                problem=p,
                action=_unknown_action(allowed),
            )


def validate(
    raw: dict[str, RawTable | ScanTable],
    *,
    timezone: str = "Asia/Tokyo",
    as_of: pd.Timestamp | None = None,
    typing_findings: dict[str, list[Finding]] | None = None,
) -> Dataset:
    """Validate raw tables against the contract.

    Args:
        raw: tables as read by `io.read_raw_dataset`.
        timezone: the run's time zone; every timestamp is converted to naive local time in it.
        as_of: rows dated after this local time are "future" findings and left out.

    Returns:
        A `Dataset` of typed tables and the non-fatal findings.

    Raises:
        DataContractError: listing every fatal problem.
    """
    return _validate(raw, timezone=timezone, as_of=as_of, typing_findings=typing_findings)[0]


@dataclass
class KeptTables:
    """The small tables as typed (before the rules that depend on the run), the findings of
    typing them, and how many rows of each table that refers to leads reference none: what the
    validated-data cache keeps of them (`_tables_from_cache`)."""

    frames: dict[str, pd.DataFrame]
    findings: dict[str, list[Finding]]
    orphans: dict[str, int] = field(default_factory=dict)
    covers: set[str] = field(default_factory=set)  # bulk entries none of whose rows is an orphan
    leads_cut: bool = False  # whether the run time left leads out (then `orphans` do not apply)


def _validate(
    raw: dict[str, RawTable | ScanTable],
    *,
    timezone: str,
    as_of: pd.Timestamp | None,
    typing_findings: dict[str, list[Finding]] | None = None,
    kept: KeptTables | None = None,
    covered: frozenset[str] = frozenset(),
) -> tuple[Dataset, KeptTables]:
    """`validate`, taking the small tables as typed from `kept` (the cache) when given: their
    typing findings are replayed in place, and the checks that can only fail (keys, reserved
    and required codes) are skipped, since only an input that passed them is cached. Returns
    the dataset and the small tables as typed, to be cached. The bulk tables in `covered`
    reference only leads (known from the cache): unless leads are left out, their orphan
    rule is skipped."""
    chk = _Checker(raw, timezone, as_of, typing_findings or {})
    chk.check_structure()
    if chk.errors:
        raise DataContractError(chk.errors)

    store = Store()
    bulk: dict[str, BulkTable] = {}
    typed: dict[str, pd.DataFrame] = {}
    found: dict[str, list[Finding]] = {}
    for name in raw:
        if name in BULK_TABLES:
            bulk[name] = chk.typed_bulk(name, store)
        elif name in TABLES:
            before = len(chk.findings)
            if kept is not None and name in kept.frames:
                typed[name] = kept.frames[name]
                chk.findings.extend(kept.findings.get(name, []))
            else:
                typed[name] = chk.typed(name)
            found[name] = chk.findings[before:]
    for name in raw:
        if name in bulk:
            chk.check_bulk_key(bulk[name])
        elif name in typed and kept is None:
            chk.check_key(name, typed[name])
            chk.reserved_product(name, typed[name])
    if kept is None:
        chk.require_values("leads", typed["leads"], ("product",))
        chk.require_values("opportunities", typed["opportunities"], ("product",))
    if chk.errors:
        raise DataContractError(chk.errors)
    leads = typed["leads"]
    if leads["lead_source"].isna().any():
        leads["lead_source"] = leads["lead_source"].fillna(UNKNOWN_SOURCE)
    # shallow copies (copy on write): the rules below change some frames in place
    typed_now = KeptTables(
        {k: v.copy(deep=False) for k, v in typed.items()},
        found,
        kept.orphans if kept is not None else {},
    )

    n_leads = len(leads)
    leads = chk.drop_future("leads", leads, "created_at")
    known = pd.Index(leads["lead_id"])
    # from the cache: the tables that reference no lead outside the (uncut) leads
    typed_now.leads_cut = len(leads) != n_leads
    no_orphans = {t for t, n in typed_now.orphans.items() if n == 0 and not typed_now.leads_cut}

    chk.keep_bulk(
        bulk["activities"],
        None if "activities" in covered and not typed_now.leads_cut else known,
        BULK_TIME["activities"],
        BULK_CODE["activities"],
        ACTIVITY_TYPES,
        "activities",
    )

    stages = chk.drop_future("stage_changes", typed["stage_changes"], "changed_at")
    if "stage_changes" not in no_orphans:
        stages = chk.drop_orphans("stage_changes", stages, known, "stage changes")
    stages = chk.drop_unknown("stage_changes", stages, "stage", STAGES, "stage changes")

    opps = typed["opportunities"]
    opps = chk.drop_future("opportunities", opps, "created_at")
    future_close = (
        opps["closed_at"] > as_of if as_of is not None else pd.Series(False, index=opps.index)
    )
    if future_close.any():
        chk.cut = True
        chk.warn(
            raw["opportunities"],
            f"{int(future_close.sum())} closed_at value(s) after the run time were ignored",
            column="closed_at",
            mask=future_close,
        )
        opps.loc[future_close, "closed_at"] = pd.NaT
    bad_status = ~opps["status"].isin(OPPORTUNITY_STATUSES)
    if bad_status.any():
        chk.warn(
            raw["opportunities"],
            f"{int(bad_status.sum())} opportunities have an unknown status "
            f"({_unknown_values(opps, 'status', bad_status)}); they count as opportunities but "
            "neither won nor lost",
            column="status",
            mask=bad_status,
            action=f"use one of {', '.join(OPPORTUNITY_STATUSES)}",
        )
    no_close = opps["status"].isin(("won", "lost")) & opps["closed_at"].isna()
    if no_close.any():
        chk.warn(
            raw["opportunities"],
            f"{int(no_close.sum())} won/lost opportunities have no closed_at and "
            "count in no month's won deals or win rate",
            column="closed_at",
            mask=no_close,
        )
    orphan = (
        opps["lead_id"].notna() & ~isin(opps["lead_id"], known)
        if "opportunities" not in no_orphans
        else pd.Series(False, index=opps.index)
    )
    if orphan.any():
        chk.warn(
            raw["opportunities"],
            f"{int(orphan.sum())} opportunities reference a lead_id not in leads; "
            "they are kept (their product is their own)",
            column="lead_id",
            mask=orphan,
        )

    tables = {"leads": leads, "stage_changes": stages, "opportunities": opps}
    if "campaigns" in typed:
        tables["campaigns"] = typed["campaigns"]
    if "scores" in typed:
        scores = chk.drop_future("scores", typed["scores"], "scored_at")
        if "scores" not in no_orphans:
            scores = chk.drop_orphans("scores", scores, known, "scores")
        tables["scores"] = scores
    tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
    sources = {
        name: {
            "path": str(r.path),
            "encoding": r.encoding,
            "bytes": r.size,
            "sha256": r.sha256,
            "rows": r.rows,
        }
        for name, r in raw.items()
    }
    lazy = {name: b.valid_view for name, b in bulk.items()}
    cut_at = as_of if chk.cut else None
    dataset = Dataset(
        tables, chk.findings, timezone, sources, store, lazy, bulk=bulk, cut_at=cut_at
    )
    return dataset, typed_now


def load_dataset(
    data_dir: Path,
    *,
    timezone: str = "Asia/Tokyo",
    encoding: str = "auto",
    as_of: pd.Timestamp | None = None,
    cache_dir: Path | None = None,
) -> Dataset:
    """Read every table of the dataset folder and validate it (see `validate`).

    With `cache_dir`, the bulk table's typed rows are kept there as Parquet by month, keyed by
    the checksum of its file(s) and the time zone. A later load of the same input reads them
    instead of parsing and checking the file again; the rules that depend on the run (future
    rows, orphans, unknown codes) are applied afresh each time. The dataset and its findings
    are the same with or without the cache (docs/scale.md)."""
    data_dir = Path(data_dir)
    entries: dict[str, Path] = {}
    hits: dict[str, tuple[ScanTable, list[Finding]]] = {}
    parts: dict[str, tuple[ScanTable, int]] = {}  # folders typed file by file, files typed anew
    small: Path | None = None
    kept: tuple[dict[str, KeptTable], KeptTables] | None = None
    checksums = Checksums(Path(cache_dir) / CHECKSUMS_FILE) if cache_dir is not None else None
    if cache_dir is not None:
        paths = locate_tables(data_dir)
        for name, path in paths.items():
            if name in BULK_TABLES:
                key = f"{CACHE_FORMAT}|{name}|{timezone}|{source_digest(path, checksums)}"
                if path.suffix.lower() == ".csv":  # the same bytes read in another encoding
                    key += f"|{encoding}"
                entries[name] = cache_entry(cache_dir, name, sha256_bytes(key.encode())[:24])
                hit = _from_cache(entries[name], path)
                if hit is not None:
                    hits[name] = hit
                elif path.is_dir():  # a folder: each file typed in an entry of its own
                    typed_parts = _typed_parts(name, path, Path(cache_dir), timezone, checksums)
                    if typed_parts is not None:
                        parts[name] = typed_parts
        others = {n: p for n, p in paths.items() if n not in BULK_TABLES}
        if "leads" in others:
            key = f"{CACHE_FORMAT}|{TABLES_ENTRY}|{timezone}|{encoding}|" + "|".join(
                f"{n}={source_digest(p, checksums)}" for n, p in sorted(others.items())
            )
            small = cache_entry(cache_dir, TABLES_ENTRY, sha256_bytes(key.encode())[:24])
            kept = _tables_from_cache(small, others, encoding)
    given: dict[str, RawTable | ScanTable] = {n: h[0] for n, h in hits.items()}
    given.update({n: t for n, (t, _) in parts.items()})
    given.update(kept[0] if kept is not None else {})
    try:
        raw = read_raw_dataset(data_dir, encoding=encoding, given=given, checksums=checksums)
    finally:
        if checksums is not None:
            checksums.save()
    covered = frozenset(
        n for n, e in entries.items() if n in hits and kept and e.name in kept[1].covers
    )
    dataset, typed = _validate(
        raw,
        timezone=timezone,
        as_of=as_of,
        typing_findings={n: h[1] for n, h in hits.items()},
        kept=kept[1] if kept is not None else None,
        covered=covered,
    )
    for name, entry in entries.items():
        if name in hits:
            state = "read"
        elif dataset.bulk.get(name) is not None and _to_cache(dataset.bulk[name], entry):
            state = "written"
        else:
            state = "not written"
        dataset.sources[name]["cache"] = f"{state} ({entry})"
        if name in parts:
            n_files = len(parts[name][0].files)
            dataset.sources[name]["cache"] += f"; {parts[name][1]} of {n_files} file(s) typed anew"
    for bulk in dataset.bulk.values():
        bulk.forget_lead_ids()
    if small is not None:
        if kept is not None:
            state = "read"
        elif _tables_to_cache(typed, raw, small):
            state = "written"
        else:
            state = "not written"
        for name in typed.frames:
            dataset.sources[name]["cache"] = f"{state} ({small})"
        if state != "not written" and not typed.leads_cut:
            _note_covered(small, dataset, entries, covered)
            dataset.kept = small
    if cache_dir is not None:
        dataset.facts = MonthFacts.for_input(
            cache_dir,
            {name: str(src["sha256"]) for name, src in dataset.sources.items()},
            timezone=timezone,
            encoding=encoding,
            as_of=dataset.cut_at,
        )
    return dataset


TABLES_ENTRY = "tables"  # the cache entry of the small tables (every table but the bulk one)
COVERS = "covers-"  # in it: a mark per bulk entry that references only its leads


def _tables_from_cache(
    entry: Path, paths: dict[str, Path], encoding: str
) -> tuple[dict[str, KeptTable], KeptTables] | None:
    """The small tables as typed from their cache entry, with a `KeptTable` standing for each
    file; None when there is no complete entry (a damaged one is removed)."""
    meta = read_cache_meta(entry)
    if meta is None or meta.get("format") != CACHE_FORMAT or set(meta["tables"]) != set(paths):
        if entry.exists():
            remove_tree(entry)
        return None
    raws: dict[str, KeptTable] = {}
    frames: dict[str, pd.DataFrame] = {}
    findings: dict[str, list[Finding]] = {}
    try:
        for name, info in meta["tables"].items():
            path = paths[name]
            table = feather.read_table(entry / f"{name}.arrow")  # checked by read_cache_meta
            frames[name] = frame = table.to_pandas()
            for column in table.schema:
                spec = TABLES[name].column(column.name)
                if pa.types.is_null(column.type) and spec is not None:
                    frame[column.name] = _absent(spec, frame.index)  # as `typed` makes it
            raws[name] = KeptTable(
                name,
                path,
                encoding=info["encoding"],
                sha256=info["sha256"],
                size=int(info["size"]),
                rows=int(info["rows"]),
                columns=list(info["columns"]),
                read_encoding=encoding,
            )
            # the same content may have moved: findings name the file where it is now
            findings[name] = [Finding(**{**f, "file": str(path)}) for f in info["findings"]]
    except (OSError, ValueError, KeyError, pa.ArrowException):
        remove_tree(entry)
        return None
    orphans = {name: int(n) for name, n in meta.get("orphans", {}).items()}
    covers = {p.name[len(COVERS) :] for p in entry.glob(f"{COVERS}*")}
    return raws, KeptTables(frames, findings, orphans, covers)


def _tables_to_cache(typed: KeptTables, raw: dict[str, RawTable | ScanTable], entry: Path) -> bool:
    """Keep the small tables as typed in `entry`, with their typing findings and the count of
    rows of each table that reference no lead (against every typed lead). The entry holds
    the leads' personal data, as the input files do: it is readable by its owner only."""
    if "leads" not in typed.frames:
        return False
    known = typed.frames["leads"]["lead_id"]
    orphans = {}
    for name in ("stage_changes", "opportunities", "scores"):
        if name in typed.frames:
            ids = typed.frames[name]["lead_id"]
            orphan = ~isin(ids, known)
            if name == "opportunities":  # a deal without a lead is no orphan (`_validate`)
                orphan &= ids.notna()
            orphans[name] = int(orphan.sum())
    meta = {
        "format": CACHE_FORMAT,
        "tables": {
            name: {
                "source": str(raw[name].path),
                "encoding": raw[name].encoding,
                "sha256": raw[name].sha256,
                "size": raw[name].size,
                "rows": raw[name].rows,
                "columns": _columns(raw[name]),
                "findings": [dataclasses.asdict(f) for f in typed.findings.get(name, [])],
            }
            for name in typed.frames
        },
        "orphans": orphans,
    }
    tmp = new_cache_entry(entry)
    try:
        os.chmod(tmp, 0o700)
        for name, frame in typed.frames.items():
            write_arrow_atomic(frame, tmp / f"{name}.arrow")
    except (OSError, ValueError, TypeError, pa.ArrowException):
        remove_tree(tmp)  # a value Arrow cannot hold, or no room: no cache, the run goes on
        return False
    return publish_cache_entry(tmp, entry, meta)


def _note_covered(
    small: Path, dataset: Dataset, entries: dict[str, Path], covered: frozenset[str]
) -> None:
    """Mark in the small tables' entry each bulk entry whose every row references a lead
    (no orphan, none of its rows left out as future), so that a later load of the same
    inputs skips the orphan rule (`_validate`'s `covered`). Called only when no lead was
    left out."""
    for name, entry in entries.items():
        bulk = dataset.bulk.get(name)
        if name in covered or bulk is None or not entry.is_dir():
            continue
        found = bulk.found
        if not found or any(found[k].count for k in ("orphans", "future") if k in found):
            continue
        try:
            (small / f"{COVERS}{entry.name}").touch()
        except OSError:
            pass  # a cache that cannot be written is no reason to stop a run


def _from_cache(entry: Path, path: Path) -> tuple[ScanTable, list[Finding]] | None:
    meta = read_cache_meta(entry)
    if meta is None or meta.get("format") != CACHE_FORMAT:
        if entry.exists():  # entries are published whole, so this one is damaged: rebuild
            remove_tree(entry)
        return None
    files = tuple((path / rel if path.is_dir() else path, int(n)) for rel, n in meta["files"])
    typed_parts: list[tuple[Path, int]] = []
    first = 0
    for part, n in meta.get("parts", []):  # an entry made of its files' entries
        if read_cache_meta(entry.parent / part) is None:
            remove_tree(entry)  # a file's entry is gone: checked again from the files'
            return None
        _touch(entry.parent / part)
        typed_parts.append((entry.parent / part / "data", first))
        first += int(n)
    table = ScanTable(
        meta["name"],
        path,
        files,
        list(meta["columns"]),
        meta["sha256"],
        int(meta["size"]),
        meta["encoding"],
        csv=bool(meta["csv"]),
        typed_from=entry / "data",
        typed_parts=tuple(typed_parts),
    )
    # the same content may have moved: findings name the file where it is now
    return table, [Finding(**{**f, "file": str(path)}) for f in meta["findings"]]


def _to_cache(bulk: BulkTable, entry: Path) -> bool:
    raw = bulk.raw
    if isinstance(raw, ScanTable) and not raw.is_csv:
        files = [
            [f.relative_to(raw.path).as_posix() if raw.path.is_dir() else f.name, n]
            for f, n in raw.files
        ]
    else:  # a CSV file (staged or read whole): its own name
        files = [[raw.path.name, raw.rows]]
    meta = {
        "format": CACHE_FORMAT,
        "name": raw.name,
        "source": str(raw.path),
        "sha256": raw.sha256,
        "size": raw.size,
        "encoding": raw.encoding,
        "csv": raw.is_csv,
        "columns": bulk.columns,
        "files": files,
        "findings": [dataclasses.asdict(f) for f in bulk.typing_findings],
    }
    tmp = new_cache_entry(entry)
    if isinstance(raw, ScanTable) and raw.typed_parts:
        # the rows are in the files' entries: this one names them, with the findings of the
        # whole and its summaries
        meta["parts"] = [
            [data.parent.name, n]
            for (data, _), (_, n) in zip(raw.typed_parts, raw.files, strict=True)
        ]
        try:
            write_summaries(bulk, tmp, BULK_TIME[raw.name], [BULK_CODE[raw.name]], bulk.typed_view)
        except (duckdb.Error, OSError):
            remove_tree(tmp)
            return False
        return publish_cache_entry(tmp, entry, meta)
    try:
        write_cache(bulk, tmp, BULK_TIME[raw.name], [BULK_CODE[raw.name]])
    except (duckdb.Error, OSError):
        remove_tree(tmp)  # a cache that cannot be written is no reason to stop a run
        return False
    if not any((tmp / "data").glob("*/*.parquet")):
        remove_tree(tmp)  # no rows: nothing worth keeping
        return False
    return publish_cache_entry(tmp, entry, meta)


PART = "{}_part"  # the cache kind of one file of a folder: `activities_part-<key>`


def _typed_parts(
    name: str, path: Path, cache_dir: Path, timezone: str, checksums: Checksums | None
) -> tuple[ScanTable, int] | None:
    """The Parquet folder `path` of table `name` with each file's rows typed in a cache entry
    of its own, keyed by that file's checksum: a new month's file is typed alone, the others
    are read. The checks of the whole (keys across files, orphans, future rows, codes) are
    then made on the typed rows. Returns the table and how many files were typed anew; None
    when no file has a row, or an entry cannot be written (the folder is then typed whole)."""
    scan = scan_parquet(name, path, checksums)
    keep = max(3 * len(scan.files), 3)  # the entries of the last few folders read
    typed, missing, first = [], [], 0
    for f, n in scan.files:
        key = f"{CACHE_FORMAT}|{name}|file|{timezone}|{source_digest(f, checksums)}"
        entry = cache_entry(cache_dir, PART.format(name), sha256_bytes(key.encode())[:24])
        meta = read_cache_meta(entry)
        if meta is None or meta.get("format") != CACHE_FORMAT:
            missing.append((f, entry))
        else:
            _touch(entry)  # in use: among the newest of its kind, kept by the clean-up
        typed.append((entry / "data", first))
        first += n
    # A file is often one row group, which DuckDB reads on one thread: files are typed side
    # by side, one per core, each worker in a database of its own (opening one costs 17 ms,
    # as much as typing a small file) on its share of the cores.
    workers = min(os.cpu_count() or 1, len(missing)) or 1
    threads = max(1, (os.cpu_count() or 1) // workers)
    local, stores = threading.local(), []

    def type_one(missing_file: tuple[Path, Path]) -> bool:
        if not hasattr(local, "store"):
            local.store = Store()
            local.store.db.execute(f"SET threads = {threads}")
            stores.append(local.store)
        f, entry = missing_file
        remove_tree(entry)  # absent, or damaged
        return _type_file(scan_parquet(name, f, checksums), entry, timezone, keep, local.store)

    try:
        with ThreadPoolExecutor(workers) as pool:
            if not all(pool.map(type_one, missing)):
                return None
    finally:
        for store in stores:
            store.db.close()
    if not any(data.is_dir() for data, _ in typed):
        return None
    return dataclasses.replace(scan, typed_parts=tuple(typed)), len(missing)


def _type_file(raw: ScanTable, entry: Path, timezone: str, keep: int, store: Store) -> bool:
    """Type the rows of one file (`raw`) into the cache entry `entry`, unchecked, in `store`
    (left empty again for the next file)."""
    tmp: Path | None = None
    try:
        bulk = BulkTable(store, raw, timezone)  # an unreadable file: its error, as uncached
        tmp = new_cache_entry(entry)
        bulk.create_typed(lambda values: parse_timestamps(values, timezone))
        write_cache(bulk, tmp, BULK_TIME[raw.name], summaries=False)
    except (duckdb.Error, OSError):
        if tmp is not None:
            remove_tree(tmp)  # a cache that cannot be written is no reason to stop a run
        return False
    finally:
        store.clear()
    meta: dict[str, Any] = {
        "format": CACHE_FORMAT,
        "name": raw.name,
        "rows": raw.rows,
        "columns": raw.columns,
    }
    key = TABLES[raw.name].key
    if key is not None:  # for the check of the whole (`BulkTable.duplicates`)
        try:
            meta["keys"] = {key: key_range(store, tmp / "data", key)}
        except duckdb.Error:
            pass  # the whole is then checked by a scan
    return publish_cache_entry(tmp, entry, meta, keep=keep) or entry.is_dir()


def _touch(entry: Path) -> None:
    try:
        os.utime(entry)
    except OSError:
        pass
