"""Months as the reports name them, "YYYY-MM", and the local-time interval each one covers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from .errors import ConfigError

MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(value: str, where: str = "month") -> str:
    """`value` if it is a month written YYYY-MM; else a ConfigError naming `where`."""
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise ConfigError(f"{where}: '{value}' is not a month; write it as YYYY-MM, e.g. 2026-10")
    return value


def month_bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Half-open local-time interval [first day 00:00, first day of next month 00:00)."""
    start = pd.Timestamp(f"{month}-01")
    return start, start + pd.offsets.MonthBegin(1)


def month_range(last: str, n: int) -> list[str]:
    """The `n` months ending with `last`, oldest first."""
    end = pd.Period(last, freq="M")
    return [str(end - i) for i in range(n - 1, -1, -1)]


def shift_month(month: str, by: int) -> str:
    """The month `by` months after `month` (before it when negative)."""
    return str(pd.Period(month, freq="M") + by)


def month_labels(times: pd.Series) -> pd.Series:
    """The month "YYYY-MM" of each timestamp (missing where it is), indexed like `times`:
    `dt.strftime("%Y-%m")`, formatting each distinct month once instead of every row."""
    present = times.notna().to_numpy()
    codes = np.zeros(len(times), dtype="int64")
    codes[present] = (
        times.dt.year.to_numpy()[present].astype("int64") * 12
        + times.dt.month.to_numpy()[present].astype("int64")
        - 1
    )
    months, at = np.unique(codes[present], return_inverse=True)
    labels = np.full(len(times), None, dtype=object)
    labels[present] = np.array([f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months], dtype=object)[
        at
    ]
    return pd.Series(labels, index=times.index, dtype="str")
