"""What a validated-data cache entry of the bulk table holds: its typed rows as Parquet by
month, and the summaries (lead ids, latest time, codes) that let a later load skip a scan
(`store.BulkTable._none_match` reads them). `contract/load.py` makes and reads the entries."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from .store import CODES, LATEST, LEAD_IDS, BulkTable, Store, ident, literal

CACHE_FORMAT = 2  # bump when typing rules or the cached layout change (2: findings keep their code)


def _may_differ(bulk: BulkTable, col: str) -> bool:
    """Whether a text value of `col` can differ from its typed form. A column typed
    `NULLIF(value, '')` (no value to trim, no empty value: `BulkTable._find_untrimmed`) has
    none that does, so the cache keeps no `_raw_` column of nothing but NULLs for it (six
    such columns cost 4 s of the 13 s of writing the cache at 1 M leads)."""
    return bulk.typed_sql[col] != f"NULLIF(s.{ident(col)}, '')"


def write_cache(
    bulk: BulkTable,
    entry: Path,
    time_col: str,
    codes: Sequence[str] = (),
    *,
    summaries: bool = True,
) -> None:
    """Write the typed rows of `bulk` to `entry/data/` as Parquet partitioned by month.

    Findings quote the value as it was in the file; where a text value differs from its
    typed form (trimmed, empty, a timestamp written another way), `_raw_<column>` keeps it
    (a column only when some value can differ: `_may_differ`). One scan
    of the source, no sort: rows keep `_row`, which orders them when needed."""
    raws = [
        f"CASE WHEN s.{ident(c)} IS DISTINCT FROM CAST({bulk.typed_sql[c]} AS VARCHAR) "
        f"THEN s.{ident(c)} END AS {ident('_raw_' + c)}"
        for c in bulk.columns
        if bulk.types.get(c) == "VARCHAR" and c in bulk.typed_sql and _may_differ(bulk, c)
    ]
    month = f"COALESCE(strftime({bulk.typed_sql[time_col]}, '%Y-%m'), 'none') AS _month"
    columns = ", ".join([*bulk.typed_columns, *raws])
    cur = bulk.store.cursor()
    try:
        # rows carry `_row`, so their order in the files is free; with it free and smaller
        # buffers per month, DuckDB writes without holding most of the table in memory
        # (preserve_insertion_order is a setting of the whole database: put back after)
        (order,) = cur.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0]
        cur.execute("SET preserve_insertion_order = false")
        cur.execute("SET partitioned_write_flush_threshold = 122880")
        try:
            only = _only_month(bulk, time_col, cur)
            if only is not None:  # the folder PARTITION_BY would write, without its cost
                folder = entry / "data" / f"_month={only}"
                folder.mkdir(parents=True)
                target = literal((folder / "data_0.parquet").as_posix())
                cur.execute(
                    f"COPY (SELECT {columns} FROM {bulk.typed_source}) TO {target} (FORMAT parquet)"
                )
            else:
                target = literal((entry / "data").as_posix())
                cur.execute(
                    f"COPY (SELECT {columns}, {month} FROM {bulk.typed_source}) TO {target} "
                    "(FORMAT parquet, PARTITION_BY (_month), OVERWRITE_OR_IGNORE)"
                )
        finally:
            cur.execute(f"SET preserve_insertion_order = {str(order).lower()}")
        if summaries:
            data = literal((entry / "data" / "**" / "*.parquet").as_posix())
            write_summaries(
                bulk, entry, time_col, codes, f"read_parquet({data}, hive_partitioning = false)"
            )
    finally:
        cur.close()


def _only_month(bulk: BulkTable, time_col: str, cur: duckdb.DuckDBPyConnection) -> str | None:
    """The month ("YYYY-MM") of every row of `bulk`, when they all have one and it is the
    same (a file of a folder partitioned by month), found from the lowest and highest time;
    None otherwise, or when the time column is text (reading it twice would cost more than
    partitioning). Writing such rows needs no partitioning (0.26 s of the 0.79 s of typing a
    file of 1 M rows)."""
    if bulk.types.get(time_col) not in ("TIMESTAMP", "DATE"):
        return None
    typed = bulk.typed_sql[time_col]
    ((low, high, missing),) = cur.execute(
        f"SELECT strftime(MIN({typed}), '%Y-%m'), strftime(MAX({typed}), '%Y-%m'), "
        f"COUNT(*) FILTER (WHERE {typed} IS NULL) FROM {bulk.typed_source}"
    ).fetchall()
    return low if low is not None and low == high and missing == 0 else None


def key_range(store: Store, data: Path, key: str) -> list[Any]:
    """`[repeats, lowest, highest]` of the values of `key` in the typed rows under `data`
    (Parquet; none there: no rows): repeats counts values whose 8-byte hash another value
    has too (0: no value repeats), lowest and highest compare as DuckDB orders text (by
    UTF-8 bytes, which is Python's order of str)."""
    if not data.is_dir():
        return [0, None, None]
    k = ident(key)
    files = literal((data / "**" / "*.parquet").as_posix())
    cur = store.cursor()
    try:
        ((repeats, low, high),) = cur.execute(
            f"SELECT COUNT({k}) - COUNT(DISTINCT hash({k})) FILTER (WHERE {k} IS NOT NULL), "
            f"MIN({k}), MAX({k}) FROM read_parquet({files}, hive_partitioning = false)"
        ).fetchall()
    finally:
        cur.close()
    return [int(repeats), low, high]


def write_summaries(
    bulk: BulkTable, entry: Path, time_col: str, codes: Sequence[str], rows: str
) -> None:
    """Write into `entry` the distinct lead ids, the latest time and the distinct codes of
    the typed rows `rows` (SQL), so that a later load can see without a scan that no row is
    an orphan, in the future or of an unknown kind (see `BulkTable._none_match`)."""
    summaries = [(f"MAX({ident(time_col)}) AS {ident(time_col)}", LATEST)]
    summaries += [(f"DISTINCT {ident(c)}", CODES.format(c)) for c in codes]
    cur = bulk.store.cursor()
    try:
        if bulk.lead_ids:  # made by the orphan rule from the same typed rows
            cur.execute(
                f"COPY {bulk.lead_ids} TO {literal((entry / LEAD_IDS).as_posix())} (FORMAT parquet)"
            )
        elif "lead_id" in bulk.types:
            summaries.append(("DISTINCT lead_id", LEAD_IDS))
        for what, name in summaries:
            cur.execute(
                f"COPY (SELECT {what} FROM {rows}) TO {literal((entry / name).as_posix())} "
                "(FORMAT parquet)"
            )
    finally:
        cur.close()
