"""Small vectorised helpers of the generator, and the months it covers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from .story import DAY, HOUR


@dataclass(frozen=True)
class _Window:
    """The months covered, as seconds since 1970-01-01 in naive local time."""

    bounds: np.ndarray  # months + 1 month starts (int64 seconds)
    years: np.ndarray
    cal: np.ndarray  # calendar month 1..12 of each month

    @property
    def months(self) -> int:
        return len(self.bounds) - 1

    @property
    def start(self) -> int:
        return int(self.bounds[0])

    @property
    def end(self) -> int:
        return int(self.bounds[-1])


def last_complete_month(today: date | None = None) -> str:
    """The last complete calendar month before `today` (default: the local date), as YYYY-MM."""
    today = today or date.today()
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def _window(end_month: str, months: int) -> _Window:
    last = np.datetime64(end_month, "M")
    bounds_m = np.arange(last - (months - 1), last + 2)
    mi = bounds_m[:-1].astype(np.int64)
    return _Window(
        bounds=bounds_m.astype("datetime64[s]").astype(np.int64),
        years=mi // 12 + 1970,
        cal=mi % 12 + 1,
    )


# ---------------------------------------------------------------------------------------------
# Small vectorised helpers
# ---------------------------------------------------------------------------------------------


def _weekday(sec: np.ndarray) -> np.ndarray:
    """Monday = 0 for int64 seconds since 1970-01-01 (a Thursday)."""
    return (sec // DAY + 3) % 7


def _office_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Time of day (seconds) for office activity: morning and afternoon peaks, some evening."""
    u = rng.random(n)
    h = np.where(
        u < 0.45,
        rng.normal(10.8, 1.3, n),
        np.where(u < 0.9, rng.normal(15.3, 1.6, n), rng.uniform(6.0, 24.0, n)),
    )
    return np.clip(h * HOUR, 0, DAY - 1).astype(np.int64)


def _working_days(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """A day start (seconds) drawn in [lo, hi) days, weekends mostly redrawn."""
    lo_d, hi_d = lo // DAY, np.maximum(hi // DAY, lo // DAY + 1)
    day = lo_d + (rng.random(len(lo)) * (hi_d - lo_d)).astype(np.int64)
    for _ in range(3):
        redo = ((day + 3) % 7 >= 5) & (rng.random(len(day)) < 0.6)
        day = np.where(redo, lo_d + (rng.random(len(lo)) * (hi_d - lo_d)).astype(np.int64), day)
    return day * DAY


def _to_office_hours(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Move raw instants to a working day's office hours (weekends mostly to Monday)."""
    day = t // DAY
    wd = (day + 3) % 7
    move = (wd >= 5) & (rng.random(len(t)) < 0.8)
    day = np.where(move, day + (7 - wd), day)
    return day * DAY + _office_seconds(rng, len(t))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Fixed-width ids such as ``L000123`` built straight into an Arrow string buffer."""
    numbers = np.asarray(numbers, dtype=np.int64)
    n = len(numbers)
    p = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    w = len(p) + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : len(p)] = p
    rest = numbers.astype(np.uint32) if numbers.max(initial=0) < 2**32 else numbers.copy()
    for k in range(w - 1, len(p) - 1, -1):
        buf[:, k] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(buf.ravel()))


def _str_col(codes: np.ndarray, vocabulary: list[str] | tuple[str, ...] | pa.Array) -> pd.Series:
    """A str column from integer codes into `vocabulary`; code -1 (or an empty word) is missing."""
    codes = np.asarray(codes)
    if isinstance(vocabulary, pa.Array):
        dictionary = vocabulary
        empty = np.zeros(len(vocabulary) + 1, dtype=bool)
    else:
        dictionary = pa.array(list(vocabulary), type=pa.large_string())
        empty = np.array([v == "" for v in vocabulary] + [False])
    empty[-1] = True
    missing = empty[np.where(codes < 0, len(dictionary), codes)]
    arr = pa.DictionaryArray.from_arrays(
        pa.array(np.where(missing, 0, codes).astype(np.int32), mask=missing), dictionary
    ).dictionary_decode()
    return _arrow_str(arr)


def _arrow_str(arr: pa.Array) -> pd.Series:
    return pd.Series(pd.array(arr, dtype="str"))


def _ts(sec: np.ndarray) -> pd.Series:
    """Naive datetime64[us] from int64 seconds; negative sentinel values become NaT."""
    sec = np.asarray(sec, dtype=np.int64)
    out = sec.astype("datetime64[s]").astype("datetime64[us]")
    out[sec < 0] = np.datetime64("NaT")
    return pd.Series(out)


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    cum /= cum[:, -1:]
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` summing to `total` (largest remainders)."""
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    rest = total - int(out.sum())
    out[np.argsort(-(exact - out), kind="stable")[:rest]] += 1
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row owners (np.repeat of arange) and the 0-based position of each row in its group."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(len(owner)) - starts[owner]


class _Acts:
    """Activity rows collected as parallel integer arrays."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, lead, t, typ, camp=None, asset=None, cat=None) -> None:  # noqa: ANN001
        n = len(lead)
        if n == 0:
            return

        def full(x, dtype):  # noqa: ANN001, ANN202
            if x is None:
                return np.full(n, -1, dtype=dtype)
            return np.broadcast_to(np.asarray(x, dtype=dtype), (n,)).copy()

        self.parts.append(
            (
                np.asarray(lead, dtype=np.int64),
                np.asarray(t, dtype=np.int64),
                full(typ, np.int8),
                full(camp, np.int32),
                full(asset, np.int32),
                full(cat, np.int8),
            )
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        cols = list(zip(*self.parts, strict=True))
        return tuple(np.concatenate(c) for c in cols)


class _Vocab:
    """Asset names, interned to integer codes."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, word: str) -> int:
        if word not in self.index:
            self.index[word] = len(self.words)
            self.words.append(word)
        return self.index[word]


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------
