"""Every file maops writes is written here, atomically; checksums, YAML, and a folder published
whole. (The input files are read by `contract/files.py`.)"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import yaml

from .errors import ConfigError, RunInProgress
from .months import MONTH_RE


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_stamp(path: Path) -> tuple[int, int]:
    """A file's size and modification time (ns): what changes when it is rewritten."""
    info = path.stat()
    return info.st_size, info.st_mtime_ns


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Checksums:
    """sha256 of input files, remembered between runs in a JSON file (the validated-data
    cache's `checksums.json`) by each file's identity: its size, modification and change
    times and inode. A file none of which changed is not read again (a 1.2 GB CSV takes
    seconds to hash); any write to a file changes its change time, which no tool sets back.
    As git does for its index, a file written within the last few seconds is hashed but not
    remembered, so a second write in the same clock tick cannot go unseen."""

    RECENT_S = 3.0
    MAX_FILES = 10_000

    def __init__(self, path: Path | None = None):
        self.path = path
        self.known: dict[str, list] = {}
        self.changed = False
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self.known = {k: v for k, v in data.get("files", {}).items() if len(v) == 6}
            except (OSError, ValueError, AttributeError):
                self.known = {}

    @staticmethod
    def _identity(st: os.stat_result) -> list:
        return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]

    def of(self, file: Path) -> str:
        """The sha256 of `file`'s bytes."""
        key = str(Path(file).resolve())
        st = os.stat(key)
        seen = self.known.get(key)
        if seen is not None and seen[:5] == self._identity(st):
            return seen[5]
        sha = sha256_file(Path(key))
        self.remember(file, sha, st)
        return sha

    def remember(self, file: Path, sha: str, st: os.stat_result | None = None) -> None:
        """Record `sha` as `file`'s checksum, taken when the file had the stat `st`."""
        key = str(Path(file).resolve())
        st = st or os.stat(key)
        if time.time() - max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 < self.RECENT_S:
            self.known.pop(key, None)
            return
        self.known[key] = [*self._identity(st), sha]
        self.changed = True

    def save(self) -> None:
        """Write the file (atomically) if anything new was learned; a failure is ignored."""
        if self.path is None or not self.changed:
            return
        files = dict(list(self.known.items())[-self.MAX_FILES :])
        try:
            write_text_atomic(json.dumps({"files": files}), self.path)
        except OSError:
            pass  # remembered checksums are only a shortcut
        self.changed = False


# libyaml's safe loader when it is installed: the same documents, read several times faster
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: Path) -> dict:
    """Load a YAML mapping safely (no object construction), naming the file on errors."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"configuration file '{path}' does not exist") from None
    try:
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: invalid YAML ({problem}); fix the syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    return data


# ---------------------------------------------------------------- writing


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+`, `-`, `@`) get a
    leading apostrophe, the spreadsheet's own mark for "this is text". Numbers are untouched."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype("string")
            risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
            if risky.any():
                out[col] = values.astype(object).where(~risky, "'" + text.astype(object))
    text_index = out.index.dtype == object or pd.api.types.is_string_dtype(out.index)
    if text_index and out.index.astype(str).str.startswith(_FORMULA_START).any():
        out.index = ["'" + v if str(v).startswith(_FORMULA_START) else v for v in out.index]
    return out


# Characters no published text carries: control characters (NUL, BEL, ESC ...) but tab and
# line ends, and the direction overrides that make text read other than it is written.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` without `CONTROL_CHARACTERS`."""
    return CONTROL_CHARACTERS.sub("", text)


def printable_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with `CONTROL_CHARACTERS` removed from its text cells (and text index)."""
    out = frame.copy(deep=False)
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype("string")
            bad = text.str.contains(CONTROL_CHARACTERS.pattern, regex=True).fillna(False)
            if bad.any():
                out[col] = values.astype(object).where(
                    ~bad.astype(bool), text.str.replace(CONTROL_CHARACTERS.pattern, "", regex=True)
                )
    if out.index.dtype == object or pd.api.types.is_string_dtype(out.index):
        out.index = [printable(v) if isinstance(v, str) else v for v in out.index]
    return out


def whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every whole number of a float column written as one (`13`, not `13.0`):
    counts are computed as floats beside rates in the same column, and read as counts."""
    out = frame.copy(deep=False)
    for column in frame.columns:
        values = frame[column]
        if values.dtype.kind != "f":
            continue
        number = values.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(number) & (np.abs(number) < 2**53) & (number == np.round(number))
        if whole.any():
            cells = values.astype(object)
            cells[whole] = [int(v) for v in number[whole]]
            out[column] = cells
    return out


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A report table as CSV for people: UTF-8 with BOM (Excel then shows Japanese text),
    whole numbers without a decimal point, formula-like text neutralised (see
    `neutralize_formulas`), no control character (`printable_cells`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    whole_numbers(neutralize_formulas(printable_cells(frame))).to_csv(
        path, index=False, encoding="utf-8-sig", lineterminator="\n"
    )
    return path


def write_text(text: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_json(data: Mapping, path: Path) -> Path:
    return write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n", path)


def write_dataset(
    tables: Mapping[str, pd.DataFrame], out_dir: Path, *, parquet: tuple[str, ...] = ()
) -> list[Path]:
    """Write tables in data contract v1: UTF-8 CSV (local timestamps), or Parquet for the
    tables named in `parquet`. A file of the same table in the other format is removed, since
    a table may exist only once in a dataset."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        as_parquet = name in parquet
        path = out_dir / f"{name}.{'parquet' if as_parquet else 'csv'}"
        (out_dir / f"{name}.{'csv' if as_parquet else 'parquet'}").unlink(missing_ok=True)
        if as_parquet:
            frame.to_parquet(path, index=False, compression="zstd")
        else:
            frame.to_csv(
                path,
                index=False,
                encoding="utf-8",
                lineterminator="\n",
                date_format="%Y-%m-%d %H:%M:%S",
            )
        written.append(path)
    return written


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def staging_dir(final: Path, *, kind: str = "tmp") -> Iterator[Path]:
    """A fresh folder `.<name>.<kind>-*` beside `final` to build output in; removed if the
    block fails.

    Building beside the target keeps the final rename on one file system, so it is atomic.
    The folder is locked (flock) while the block runs: `remove_leftovers` in another process
    tells it from the leftover of a killed one, since the lock dies with its holder, even by
    SIGKILL.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.{kind}-", dir=final.parent))
        try:
            handle = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:
            continue  # a clean-up took it for a leftover before it was even opened
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            # or before it was locked: then it is gone, or another folder has its name
            if os.stat(tmp).st_ino == os.fstat(handle).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(handle)
    try:
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp makes 0700: a shared report must be readable
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(handle)


def publish_dir(staged: Path, final: Path) -> None:
    """Replace `final` by `staged`; the old folder is removed only after the new one is in place.

    Between the two renames the previous folder is `.<name>.old-<pid>`; a process killed
    exactly there is repaired by `recover_dir` at the start of the next one.
    """
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{os.getpid()}"
        os.replace(final, old)
    try:
        os.replace(staged, final)
    except BaseException:
        if old is not None:
            os.replace(old, final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _holds_only(folder: Path, names: frozenset[str]) -> bool:
    try:
        return folder.is_dir() and all(p.name in names for p in folder.iterdir())
    except OSError:
        return False


def _alive(pid: int) -> bool:
    """Whether another process `pid` runs (this one's own pid is a dead namesake's: a
    process recovers before it publishes anything of its own)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True


def _old_pid(folder: Path) -> int | None:
    tail = folder.name.rpartition(".old-")[2]
    return int(tail) if tail.isdigit() else None


def recover_dir(final: Path, *, kind: str = "tmp", by: str = "run") -> list[str]:
    """Clean up after a process writing `final` that was killed: put back a previous folder
    left aside by `publish_dir`, remove half-built staging folders (`.<name>.<kind>-*`).
    What a live process is still doing is left alone. Returns what was done."""
    done: list[str] = []
    parent = final.parent
    if not parent.is_dir():
        return done
    olds = [
        p
        for p in parent.glob(f".{final.name}.old-*")
        if p.is_dir() and (pid := _old_pid(p)) is not None and not _alive(pid)
    ]
    olds.sort(key=lambda p: p.stat().st_mtime)
    if olds and not final.exists():
        os.replace(olds[-1], final)
        done.append(f"restored the previous folder {final} left aside by an interrupted {by}")
        olds = olds[:-1]
    for leftover in olds:
        shutil.rmtree(leftover, ignore_errors=True)
        done.append(f"removed {leftover.name} left by an interrupted {by}")
    return done + remove_leftovers(parent, f".{final.name}.{kind}-*", by=by)


def remove_leftovers(
    parent: Path, pattern: str, *, by: str = "run", names: frozenset[str] | None = None
) -> list[str]:
    """Remove the staging folders in `parent` matching `pattern` that no live process holds
    (`staging_dir` locks its folder until its block ends), each named in what is returned.
    With `names`, a folder holding any other name is not a staging folder and is left."""
    done = []
    for leftover in sorted(parent.glob(pattern)):
        if names is not None and not _holds_only(leftover, names):
            continue
        try:
            handle = os.open(leftover, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or not a folder (a file, a link): no staging folder
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue  # a live process is building it
        try:
            shutil.rmtree(leftover, ignore_errors=True)
        finally:
            os.close(handle)
        if leftover.exists():
            done.append(
                f"could not remove {leftover} left by an interrupted {by}; remove it by hand"
            )
        else:
            done.append(f"removed {leftover.name} left by an interrupted {by}")
    return done


@contextmanager
def run_lock(out_dir: Path, name: str) -> Iterator[None]:
    """Hold `<out_dir>/.<name>.lock` for the block; another holder makes this raise at once.

    The lock is the operating system's (flock), so it is released when the holder dies, even
    by SIGKILL.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f".{name}.lock"
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgress(
                f"another run of {name} is writing to {out_dir} ({holder}); wait for it to finish "
                "and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def list_report_months(reports_dir: Path) -> list[str]:
    """Months (YYYY-MM) that have a published report folder, newest first."""
    if not reports_dir.is_dir():
        return []
    months = [
        p.name
        for p in reports_dir.iterdir()
        if p.is_dir() and MONTH_RE.fullmatch(p.name) and (p / "index.html").is_file()
    ]
    return sorted(months, reverse=True)


def write_tables(out_dir: str | Path, tables: Mapping[str, pd.DataFrame]) -> list[Path]:
    """Write each frame as `<name>.csv` into `out_dir` (a report's output tables)."""
    return [write_csv(frame, Path(out_dir) / f"{name}.csv") for name, frame in tables.items()]


def write_text_atomic(text: str, path: Path) -> Path:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def remove_file(path: Path) -> None:
    path.unlink(missing_ok=True)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def copy_file(src: Path, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest


def _write_atomic(path: Path, write: Callable[[str], None]) -> Path:
    """`write(tmp)` into a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_arrow_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as an uncompressed Arrow file (Arrow's own format: 1 M leads are read
    back in 0.03 s, against 0.25 s from Parquet, for 4.5 times the disk), atomically."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return _write_atomic(
        path, lambda tmp: feather.write_feather(table, tmp, compression="uncompressed")
    )


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as a Parquet file (zstd), atomically: a reader sees the old file or the
    whole new one, never a part. Returns `path`."""
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    return _write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def read_parquet(path: Path) -> pd.DataFrame | None:
    """The frame in the Parquet file `path`; None when it is absent or cannot be read (a
    damaged file is no reason to stop: its reader computes what it held)."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException):
        return None


def write_bytes_atomic(data: bytes, path: Path) -> Path:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    return _write_atomic(path, lambda tmp: Path(tmp).write_bytes(data))


CHECKSUMS_FILE = "checksums.json"  # in a cache folder: the inputs' checksums (`Checksums`)


def remove_empty_dir(path: Path) -> None:
    """Remove `path` if it is an empty folder."""
    try:
        path.rmdir()
    except OSError:
        pass  # absent or not empty
