"""The cache: validated-data entries and results kept between runs (month facts, a month's
scoring study, marks of work done), written in a form that cannot run code and checked
whenever they are read.

An entry is a folder `<kind>-<key>` made by the cache (it holds `CACHE_MARK`), published
whole with its `meta.json` listing every file's size and time (`read_cache_meta` checks them);
the cache's clean-up removes only such folders.

A kept result is one file: a first line `maops-kept-<format> <sha256 of the rest>` and then a
JSON document. Frames and series travel inside it as Arrow IPC streams (data only, their
pandas types and index kept); dataclasses only as one of the classes the reader names, and
tuples, dictionaries and timestamps tagged, so what is read back equals what was kept. A file
whose checksum does not match (damaged, truncated or edited) or that does not decode is
removed and reported as dropped: the caller computes the result again, and the reason is
noted in the run's `run.json` (`cache_dropped`), never published as a number.

No pickle: a file planted in the cache folder is at worst dropped.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from ..core.io import (
    CHECKSUMS_FILE,
    current_umask,
    file_stamp,
    write_arrow_atomic,
    write_bytes_atomic,
    write_json,
    write_text_atomic,
)

FORMAT = "maops-kept-1"


# ---------------------------------------------------------------- entries


_PUBLISHED: set[Path] = set()  # cache entries this process published
# In every folder the cache makes: only a folder holding it is ever removed by the cache's
# clean-up, so a cache folder set by mistake on a folder of the user's (an exports folder
# with `activities-2026-07/` in it) loses nothing.
CACHE_MARK = ".maops-cache-entry"


def cache_entry(cache_dir: Path, table: str, key: str) -> Path:
    return Path(cache_dir) / f"{table}-{key}"


def is_cache_entry(folder: Path) -> bool:
    """Whether `folder` is an entry the cache made (it holds `CACHE_MARK`)."""
    return (folder / CACHE_MARK).is_file()


def _mark_entry(folder: Path) -> None:
    (folder / CACHE_MARK).write_text("made by the maops validated-data cache\n", encoding="utf-8")


_DROPPED: list[dict[str, str]] = []  # kept results found damaged or edited, and removed
_DROPPED_LOCK = threading.Lock()
# A file where every process of one run (the batch and the kernels it starts, which inherit
# its environment) notes what it dropped, so that the run's `run.json` lists them all.
JOURNAL_ENV = "MAOPS_CACHE_JOURNAL"


def note_dropped(path: Path, reason: str) -> None:
    """Remember that the cache found `path` damaged or edited (for `run.json`)."""
    entry = {"path": str(path), "reason": reason}
    with _DROPPED_LOCK:
        _DROPPED.append(entry)
        journal = os.environ.get(JOURNAL_ENV)
        if journal:
            try:
                with open(journal, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")
            except OSError:
                pass  # the drop itself is done; only its note in run.json is lost


def dropped() -> list[dict[str, str]]:
    """What was found damaged or edited in the cache (validated tables and kept results
    alike), removed and computed again: `path`, `reason`. Within `run_journal`, what every
    process of the run found; else what this process found."""
    journal = os.environ.get(JOURNAL_ENV)
    if journal:
        try:
            lines = Path(journal).read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        found = [json.loads(line) for line in lines if line.strip()]
        return [dict(t) for t in dict.fromkeys(tuple(sorted(e.items())) for e in found)]
    with _DROPPED_LOCK:
        return list(_DROPPED)


@contextmanager
def run_journal() -> Iterator[None]:
    """One run's journal of drops (`JOURNAL_ENV`), for this process and the kernels it
    starts meanwhile; removed afterwards."""
    fd, name = tempfile.mkstemp(prefix="maops-cache-drops-", suffix=".jsonl")
    with os.fdopen(fd, "w", encoding="utf-8") as f, _DROPPED_LOCK:
        f.writelines(json.dumps(entry) + "\n" for entry in _DROPPED)  # found before it began
    before = os.environ.get(JOURNAL_ENV)
    os.environ[JOURNAL_ENV] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(JOURNAL_ENV, None)
        else:
            os.environ[JOURNAL_ENV] = before
        Path(name).unlink(missing_ok=True)


@contextmanager
def run_cache(cache_dir: Path | None) -> Iterator[Path]:
    """The cache a run reads its input through: `cache_dir`, or with the cache off, a folder
    of this run's own (readable by its owner only, as the input is personal data), removed
    when the run ends, so that even then the notebooks read the input as the run checked
    it rather than the files again, and nothing is kept."""
    if cache_dir is not None:
        yield Path(cache_dir)
        return
    folder = Path(tempfile.mkdtemp(prefix="maops-run-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _contents(folder: Path) -> dict[str, list[int]]:
    """Every file of an entry but its meta.json: relative path -> [size, mtime in ns]. An
    entry's files are written once and never again (renaming the entry into place keeps
    their times), so a file whose size or time differs was truncated, replaced or edited.
    Hashing them instead would read every partition again in every process that loads the
    entry: the run and each notebook."""
    return {
        p.relative_to(folder).as_posix(): list(file_stamp(p))
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "meta.json"
    }


def read_cache_meta(entry: Path) -> dict | None:
    """The description of a complete cache entry, or None (absent, unfinished, unreadable,
    or a file of it not as it was written: missing, truncated, replaced or edited, which is
    noted)."""
    try:
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    contents = meta.get("contents") if isinstance(meta, dict) else None
    if not isinstance(contents, dict):
        return None  # not written by this version: typed again
    for rel, stamp in contents.items():
        path = entry / rel
        try:
            same = list(file_stamp(path)) == stamp
        except OSError:
            same = False
        if not same:
            note_dropped(path, "a file of this cache entry is missing, truncated or edited")
            return None
    return meta


def new_cache_entry(entry: Path) -> Path:
    """An empty folder beside `entry` to write a cache entry into before publishing it."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=entry.parent))
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700
    _mark_entry(tmp)
    return tmp


def publish_cache_entry(tmp: Path, entry: Path, meta: Mapping, *, keep: int = 3) -> bool:
    """Write `meta.json` last and rename the folder into place; another process that published
    the same entry first wins. Then only the `keep` newest entries of the table are kept.
    Returns whether this call published it."""
    try:
        write_json({**meta, "contents": _contents(tmp)}, tmp / "meta.json")
        os.rename(tmp, entry)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)  # published meanwhile, or no room: no cache
        return False
    _PUBLISHED.add(entry)
    _keep_newest(entry, keep)
    return True


def _keep_newest(entry: Path, keep: int) -> None:
    """Remove all but the `keep` newest entries of `entry`'s kind (`<kind>-<key>`); a folder
    the cache did not make is never touched."""
    kind = entry.name.rsplit("-", 1)[0]
    older = sorted(
        (
            p
            for p in entry.parent.glob(f"{kind}-*")
            if p.is_dir() and p != entry and is_cache_entry(p)
        ),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in older[max(keep - 1, 0) :]:
        shutil.rmtree(old, ignore_errors=True)


def open_cache_folder(entry: Path, *, keep: int = 3) -> None:
    """Make sure the cache folder `entry` (`<kind>-<key>`) exists. Creating it registers it
    as published by this process (see `drop_new_cache`) and keeps only the `keep` newest
    folders of its kind."""
    if entry.is_dir():
        return
    try:
        entry.mkdir(parents=True)
    except FileExistsError:
        return  # another process made it meanwhile
    _mark_entry(entry)
    _PUBLISHED.add(entry)
    _keep_newest(entry, keep)


@dataclass(frozen=True)
class CacheState:
    """A cache folder at the start of a run: its entries and its checksums file."""

    names: frozenset[str]
    checksums: bytes | None


def cache_state(cache_dir: Path | None) -> CacheState | None:
    """The entries of a cache folder and its checksums (None: the folder does not exist)."""
    if cache_dir is None or not Path(cache_dir).is_dir():
        return None
    folder = Path(cache_dir)
    try:
        checksums: bytes | None = (folder / CHECKSUMS_FILE).read_bytes()
    except OSError:
        checksums = None
    return CacheState(frozenset(p.name for p in folder.iterdir()), checksums)


def drop_new_cache(cache_dir: Path | None, before: CacheState | None) -> None:
    """Remove the cache entries this process published since `before` (`cache_state` at the
    start of a run that failed), put the checksums file back as it was, and remove the
    folder if the run created it and left it empty: a failed run leaves nothing behind.
    Entries other processes wrote meanwhile are kept."""
    if cache_dir is None:
        return
    folder = Path(cache_dir)
    for entry in [p for p in _PUBLISHED if p.parent == folder]:
        if (before is None or entry.name not in before.names) and is_cache_entry(entry):
            shutil.rmtree(entry, ignore_errors=True)
            _PUBLISHED.discard(entry)
    memo = folder / CHECKSUMS_FILE
    if before is None or before.checksums is None:
        memo.unlink(missing_ok=True)
    elif not memo.is_file() or memo.read_bytes() != before.checksums:
        try:
            write_text_atomic(before.checksums.decode("utf-8"), memo)
        except OSError:
            memo.unlink(missing_ok=True)  # remembered checksums are only a shortcut
    if before is None:
        try:
            folder.rmdir()
        except OSError:
            pass  # not empty: another run's entries


def _drop(path: Path, reason: str) -> None:
    path.unlink(missing_ok=True)
    note_dropped(path, reason)


# ---------------------------------------------------------------- encoding


def _frame_bytes(frame: pd.DataFrame) -> str:
    table = pa.Table.from_pandas(frame, preserve_index=True)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return base64.b64encode(sink.getvalue().to_pybytes()).decode("ascii")


def _frame_from(text: str) -> pd.DataFrame:
    reader = pa.ipc.open_stream(base64.b64decode(text.encode("ascii"), validate=True))
    return reader.read_all().to_pandas()


def _encode(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return {"$frame": _frame_bytes(value)}
    if isinstance(value, pd.Series):
        name = value.name
        frame = value.to_frame(name="value")
        return {"$series": _frame_bytes(frame), "name": _encode(name)}
    if isinstance(value, pd.Timestamp):
        return {"$timestamp": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$class": type(value).__name__, "fields": fields}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, Mapping):
        return {"$dict": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return _encode(value.item())
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"$float": repr(value)}
    raise TypeError(f"cannot keep a {type(value).__name__}")


def _decoder(classes: Iterable[type]) -> Callable[[Any], Any]:
    known = {c.__name__: c for c in classes}

    def decode(value: Any) -> Any:
        if isinstance(value, list):
            return [decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "$frame" in value:
            return _frame_from(value["$frame"])
        if "$series" in value:
            series = _frame_from(value["$series"])["value"]
            series.name = decode(value["name"])
            return series
        if "$timestamp" in value:
            return pd.Timestamp(value["$timestamp"])
        if "$float" in value:
            return float(value["$float"])
        if "$tuple" in value:
            return tuple(decode(v) for v in value["$tuple"])
        if "$dict" in value:
            return {decode(k): decode(v) for k, v in value["$dict"]}
        if "$class" in value:
            cls = known.get(value["$class"])
            if cls is None:
                raise ValueError(f"a {value['$class']!r} is not one of the kept classes")
            return cls(**{k: decode(v) for k, v in value["fields"].items()})
        raise ValueError("an untagged object")

    return decode


# ---------------------------------------------------------------- files


def _checksum_line(data: bytes) -> bytes:
    """`maops-kept-<format> <sha256 of data>` and a newline: what `_matches` checks."""
    return f"{FORMAT} {hashlib.sha256(data).hexdigest()}\n".encode("ascii")


def _matches(line: bytes, data: bytes) -> bool:
    return line.rstrip(b"\n") + b"\n" == _checksum_line(data)


def keep(path: Path, value: Any) -> Path:
    """Write `value` to `path` atomically, with the checksum `load` verifies."""
    body = json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return write_bytes_atomic(_checksum_line(body) + body, path)


def load(path: Path, classes: Iterable[type] = ()) -> Any | None:
    """What `keep` wrote to `path`, or None when there is none; a file that is damaged,
    altered or not of this format is removed and noted (`dropped`)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, newline, body = data.partition(b"\n")
    if not newline or not head.startswith(f"{FORMAT} ".encode("ascii")):
        _drop(path, f"not a {FORMAT} file")
        return None
    if not _matches(head, body):
        _drop(path, "its checksum does not match its content (damaged or edited)")
        return None
    try:
        return _decoder(classes)(json.loads(body.decode("utf-8")))
    except (ValueError, TypeError, KeyError, pa.ArrowException) as exc:
        _drop(path, f"it does not decode ({exc})")
        return None


# ---------------------------------------------------------------- tables


def seal(path: Path) -> Path:
    """Write the checksum of the file `path`, just written, beside it (`<path>.sha256`)."""
    write_bytes_atomic(_checksum_line(path.read_bytes()), _digest_path(path))
    return path


def verified(path: Path) -> bytes | None:
    """The bytes of the file `path` when they match the checksum `seal` wrote, else None: a
    file without its checksum, or that does not match it, is removed and noted (`dropped`)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        line = _digest_path(path).read_bytes()
    except OSError:
        line = b""
    if not _matches(line, data):
        _digest_path(path).unlink(missing_ok=True)
        _drop(path, "its checksum is missing or does not match its content (damaged or edited)")
        return None
    return data


def keep_table(path: Path, frame: pd.DataFrame) -> Path:
    """Keep `frame` as an Arrow file (read back in a fraction of a second, its pandas types
    kept), sealed with its checksum."""
    return seal(write_arrow_atomic(frame, path))


def load_table(path: Path) -> pa.Table | None:
    """What `keep_table` kept at `path`, or None when there is none or it is not intact."""
    data = verified(path)
    if data is None:
        return None
    try:
        return feather.read_table(pa.BufferReader(data))
    except (OSError, ValueError, pa.ArrowException) as exc:
        _digest_path(path).unlink(missing_ok=True)
        _drop(path, f"it does not decode ({exc})")
        return None


def _digest_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


# ---------------------------------------------------------------- a keeper of one input


class FolderKeeper:
    """`core.keeping.Keeper` on a folder of the cache: every name a file in `folder`, kept by
    `keep`, `keep_table` or sealed (`seal`), and read back only when intact. `opens` is the
    cache folder to make (and register as this run's, see `drop_new_cache`) before the first
    write; by default `folder` itself."""

    def __init__(self, folder: Path, opens: Path | None = None):
        self.folder = Path(folder)
        self._opens = opens

    def _open(self) -> None:
        open_cache_folder(self._opens or self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def value(self, name: str, classes: Iterable[type] = ()) -> Any | None:
        return load(self.folder / name, classes)

    def keep_value(self, name: str, value: Any) -> bool:
        try:
            self._open()
            keep(self.folder / name, value)
        except OSError:
            return False  # a cache that cannot be written is no reason to stop
        return True

    def table(self, name: str) -> pd.DataFrame | None:
        table = load_table(self.folder / name)
        return None if table is None else table.to_pandas()

    def keep_table(self, name: str, frame: pd.DataFrame) -> bool:
        try:
            self._open()
            keep_table(self.folder / name, frame)
        except (OSError, ValueError, TypeError, pa.ArrowException):
            return False  # a value Arrow cannot hold, or no room: not kept
        return True

    def file(self, name: str) -> Path | None:
        path = self.folder / name
        return path if path.is_file() and verified(path) is not None else None

    def keep_file(self, name: str, write: Callable[[Path], object]) -> Path | None:
        path = self.folder / name
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        try:
            self._open()
            write(tmp)
            os.replace(tmp, path)
            seal(path)
        except OSError:
            tmp.unlink(missing_ok=True)
            return None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return path

    def drop(self, name: str, reason: str) -> None:
        """Remove the file kept as `name`, which its reader found unusable, and note why."""
        _digest_path(self.folder / name).unlink(missing_ok=True)
        _drop(self.folder / name, reason)
