"""Writing the sample, with optional Hive-style month partitions."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

# ---------------------------------------------------------------------------------------------
# Writing, with optional Hive-style month partitions
# ---------------------------------------------------------------------------------------------

# The time column that decides a row's month when a table is written partitioned by month.
MONTH_COLUMNS: dict[str, str] = {
    "leads": "created_at",
    "activities": "occurred_at",
    "stage_changes": "changed_at",
    "opportunities": "created_at",
    "campaigns": "start_date",
}
PART_FILE = "part-0.parquet"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # what Hive, Spark, DuckDB and Arrow read as null


def _month_codes(values: pd.Series) -> np.ndarray:
    """Months since 1970-01 of each timestamp as written (naive wall-clock time; an aware
    column is taken in its own zone); missing values get the smallest int64."""
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)


def _month_name(code: np.int64) -> str:
    month = np.datetime64(int(code), "M")
    return NULL_PARTITION if np.isnat(month) else str(month)


def _is_partition_folder(folder: Path) -> bool:
    """A folder of `month=...` sub-folders only, as `write_month_partitions` leaves it."""
    return all(e.is_dir() and e.name.startswith("month=") for e in folder.iterdir())


def write_month_partitions(frame: pd.DataFrame, folder: Path, column: str) -> list[Path]:
    """Write `frame` as a Hive-partitioned Parquet folder, one file per month of `column`:
    ``folder/month=YYYY-MM/part-0.parquet`` (zstd, as `io.write_dataset` writes single files).

    The partition column `month` is in the path only, not in the files, as Hive does it; rows
    keep their order within a month. The folder is built beside `folder` and then put in its
    place, so a partly written folder is never left behind. Returns the files written.
    """
    import pyarrow.parquet as pq

    codes = _month_codes(frame[column])
    order = np.argsort(codes, kind="stable")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if not np.array_equal(order, np.arange(len(order))):
        table = table.take(pa.array(order))
    codes = codes[order]
    del order
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True]) if len(codes) else []
    stage = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir(parents=True)
    try:
        parts = []
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=False):
            part = Path(f"month={_month_name(codes[lo])}") / PART_FILE
            (stage / part.parent).mkdir()
            pq.write_table(table.slice(lo, hi - lo), stage / part, compression="zstd")
            parts.append(part)
        if folder.exists():
            if not folder.is_dir() or not _is_partition_folder(folder):
                raise FileExistsError(f"{folder} exists and is not a month-partitioned folder")
            shutil.rmtree(folder)
        stage.rename(folder)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return [folder / part for part in parts]


def write_sample(
    tables: Mapping[str, pd.DataFrame],
    out_dir: Path,
    *,
    parquet: Iterable[str] = (),
    partition_months: Iterable[str] = (),
) -> list[Path]:
    """Write the tables of `generate_sample` to `out_dir`, as `maops sample` does.

    Tables in `partition_months` become Hive-partitioned Parquet folders
    (`write_month_partitions`, by the month of `MONTH_COLUMNS[table]`); the others are written
    by `io.write_dataset` exactly as without partitions (CSV, or Parquet for the tables in
    `parquet`). A table exists once: a single file of a partitioned table is removed, and so
    is a month-partitioned folder of a table now written as one file. Returns the files and
    folders written, in table order.
    """
    from ...core import io
    from ...core.errors import ConfigError

    partitioned = tuple(dict.fromkeys(partition_months))
    unknown = [t for t in partitioned if t not in tables or t not in MONTH_COLUMNS]
    if unknown:
        raise ConfigError(
            f"--partition-months: unknown table(s) {', '.join(unknown)}; use "
            f"{', '.join(t for t in tables if t in MONTH_COLUMNS)}"
        )
    single = {name: frame for name, frame in tables.items() if name not in partitioned}
    written = dict.fromkeys(tables, None)
    for path in io.write_dataset(single, out_dir, parquet=tuple(parquet)):
        written[path.stem] = path
    for name in single:
        stale = out_dir / name
        if stale.is_dir() and _is_partition_folder(stale):
            shutil.rmtree(stale)
    for name in partitioned:
        for suffix in (".csv", ".parquet"):
            (out_dir / f"{name}{suffix}").unlink(missing_ok=True)
        write_month_partitions(tables[name], out_dir / name, MONTH_COLUMNS[name])
        written[name] = out_dir / name
    return [p for p in written.values() if p is not None]
