"""`load_dataset`: the input files read, checked and typed, through the validated-data cache;
`snapshot_of`: the input as a run read it, for its notebooks to read the same."""

from __future__ import annotations

import dataclasses
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from ..core.errors import ConfigError, Finding, InputChanged
from ..core.io import CHECKSUMS_FILE, Checksums, remove_tree, sha256_bytes, write_arrow_atomic
from ..core.schema import TABLES
from ..speed.cache import (
    FolderKeeper,
    cache_entry,
    new_cache_entry,
    publish_cache_entry,
    read_cache_meta,
)
from ..speed.facts import MonthFacts
from .dataset import BULK_CODE, BULK_TABLES, BULK_TIME, Dataset, isin
from .entries import CACHE_FORMAT, key_range, write_cache, write_summaries
from .files import (
    KeptTable,
    RawTable,
    ScanTable,
    locate_tables,
    read_raw_dataset,
    scan_parquet,
    source_digest,
)
from .imported import check_import_zone, unmapped_codes
from .rules import KeptTables, _validate
from .store import BulkTable, Store
from .values import _absent, _columns, parse_timestamps


def load_dataset(
    data_dir: Path,
    *,
    timezone: str = "Asia/Tokyo",
    encoding: str = "auto",
    as_of: pd.Timestamp | None = None,
    cache_dir: Path | None = None,
    snapshot: str = "",
) -> Dataset:
    """Read every table of the dataset folder and validate it (see `validate`).

    With `cache_dir`, the bulk table's typed rows are kept there as Parquet by month, keyed by
    the checksum of its file(s) and the time zone. A later load of the same input reads them
    instead of parsing and checking the file again; the rules that depend on the run (future
    rows, orphans, unknown codes) are applied afresh each time. The dataset and its findings
    are the same with or without the cache (docs/scale.md).

    `snapshot` (`snapshot_of` a load of the same folder, as `maops run` hands it to its
    notebooks): read the input as it was then. The tables are read from the cache entries of
    those checksums, whatever the files hold now; a table found nowhere but in the folder is
    read there only if its checksum is still the snapshot's, else `InputChanged`.

    A dataset whose `import.json` records another zone than `timezone` is refused
    (`TimezoneMismatch`, docs/importers.md): its timestamps are local time in that zone."""
    data_dir = Path(data_dir)
    if data_dir.is_dir():  # a missing folder: `locate_tables` says so, and how to fix it
        check_import_zone(data_dir, timezone)
    pins = _pins(snapshot) if snapshot else None
    entries: dict[str, Path] = {}
    hits: dict[str, tuple[ScanTable, list[Finding]]] = {}
    parts: dict[str, tuple[ScanTable, int]] = {}  # folders typed file by file, files typed anew
    small: Path | None = None
    kept: tuple[dict[str, KeptTable], KeptTables] | None = None
    checksums = Checksums(Path(cache_dir) / CHECKSUMS_FILE) if cache_dir is not None else None
    paths = locate_tables(data_dir) if pins is not None or cache_dir is not None else {}
    if pins is not None:
        _check_tables(pins, paths, data_dir)

    def digest(name: str, path: Path) -> str:
        return pins[name] if pins is not None else source_digest(path, checksums)

    if cache_dir is not None:
        for name, path in paths.items():
            if name in BULK_TABLES:
                key = f"{CACHE_FORMAT}|{name}|{timezone}|{digest(name, path)}"
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
                f"{n}={digest(n, p)}" for n, p in sorted(others.items())
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
    if pins is not None:
        _check_read(pins, raw, data_dir)
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
    dataset.findings.extend(unmapped_codes(data_dir, dataset))
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
            dataset.kept = FolderKeeper(small)
    if cache_dir is not None:
        dataset.facts = MonthFacts.for_input(
            cache_dir,
            {name: str(src["sha256"]) for name, src in dataset.sources.items()},
            timezone=timezone,
            encoding=encoding,
            as_of=dataset.cut_at,
        )
    return dataset


def snapshot_of(dataset: Dataset) -> str:
    """The input as `dataset` was read from it, each table's name and sha256
    (`name:sha256,...`): `load_dataset(..., snapshot=...)` reads that input and no other."""
    return ",".join(f"{name}:{src['sha256']}" for name, src in sorted(dataset.sources.items()))


_SHA256 = frozenset("0123456789abcdef")


def _pins(snapshot: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for part in snapshot.split(","):
        name, _, sha = part.strip().partition(":")
        if name not in TABLES or len(sha) != 64 or not set(sha) <= _SHA256:
            raise ConfigError(
                f"snapshot: '{snapshot[:80]}' is not the snapshot of an input (table:sha256,...) "
                "that `maops run` hands its notebooks; leave it empty to read the data folder"
            )
        pins[name] = sha
    return pins


def _changed(files: list[str], data_dir: Path) -> InputChanged:
    return InputChanged(
        f"the input changed since the run read it ({', '.join(files)}), and what the run read "
        f"is not kept in a cache, so {data_dir} can no longer be read as the run read it. "
        "Run again once the export is complete."
    )


def _check_tables(pins: dict[str, str], paths: dict[str, Path], data_dir: Path) -> None:
    """The tables of the folder are the snapshot's (none came or went)."""
    if set(paths) != set(pins):
        gone = [f"{n} (gone)" for n in sorted(set(pins) - set(paths))]
        came = [str(paths[n]) for n in sorted(set(paths) - set(pins))]
        raise _changed(gone + came, data_dir)


def _check_read(pins: dict[str, str], raw: dict[str, RawTable | ScanTable], data_dir: Path) -> None:
    """Each table read (from the cache or the folder) is the one the snapshot names."""
    changed = [str(t.path) for n, t in sorted(raw.items()) if t.sha256 != pins.get(n)]
    if changed:
        raise _changed(changed, data_dir)


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
    part_keys: list[dict] = []
    first = 0
    for part, n in meta.get("parts", []):  # an entry made of its files' entries
        part_meta = read_cache_meta(entry.parent / part)
        if part_meta is None:
            remove_tree(entry)  # a file's entry is gone: checked again from the files'
            return None
        _touch(entry.parent / part)
        typed_parts.append((entry.parent / part / "data", first))
        part_keys.append(part_meta.get("keys") or {})
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
        part_keys=tuple(part_keys),
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
    keys = tuple((read_cache_meta(data.parent) or {}).get("keys") or {} for data, _ in typed)
    return dataclasses.replace(scan, typed_parts=tuple(typed), part_keys=keys), len(missing)


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
