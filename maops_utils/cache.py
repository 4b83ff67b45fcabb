"""Results kept between runs (month facts, a month's scoring study, marks of work done),
written in a form that cannot run code and checked whenever they are read.

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
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather

from .io import dropped_from_cache, note_dropped, write_arrow_atomic, write_bytes_atomic

FORMAT = "maops-kept-1"


def dropped() -> list[dict[str, str]]:
    """What this process found damaged or edited in the cache (kept results and validated
    tables alike), removed and computed again: `path`, `reason`."""
    return dropped_from_cache()


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


def keep(path: Path, value: Any) -> Path:
    """Write `value` to `path` atomically, with the checksum `load` verifies."""
    body = json.dumps(_encode(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = f"{FORMAT} {hashlib.sha256(body).hexdigest()}\n".encode("ascii")
    return write_bytes_atomic(head + body, path)


def load(path: Path, classes: Iterable[type] = ()) -> Any | None:
    """What `keep` wrote to `path`, or None when there is none; a file that is damaged,
    altered or not of this format is removed and noted (`dropped`)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, newline, body = data.partition(b"\n")
    fmt, _, digest = head.decode("ascii", errors="replace").partition(" ")
    if not newline or fmt != FORMAT:
        _drop(path, f"not a {FORMAT} file")
        return None
    if hashlib.sha256(body).hexdigest() != digest:
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
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    write_bytes_atomic(f"{FORMAT} {digest}\n".encode("ascii"), _digest_path(path))
    return path


def verified(path: Path) -> bytes | None:
    """The bytes of the file `path` when they match the checksum `seal` wrote, else None: a
    file without its checksum, or that does not match it, is removed and noted (`dropped`)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        expected = _digest_path(path).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        expected = []
    if expected != [FORMAT, hashlib.sha256(data).hexdigest()]:
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
