"""Reading cells of vendor exports: text, numbers and timestamps as Japanese teams save them.

Every parser is vectorised over a pandas Series of raw cell texts and returns the parsed values
with a mask of the cells it could not read, so the caller can name file, line and column.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from ..contract.numbers import NumbersRead, read_numbers
from ..contract.values import parse_timestamps

# Cell texts that vendor exports use for "no value" (Marketo writes `null`, Excel users `-`).
DEFAULT_NULLS = ("null", "NULL", "None", "none", "N/A", "n/a", "#N/A", "(blank)", "-", "－", "―")

# Excel's 1900 date system counts days from 1899-12-30 (it wrongly keeps 1900-02-29).
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Serials from 1 (1900-01-01) to 2958465 (9999-12-31); the first 60 are never MA data, so a
# plain number is read as a serial only from 1954 (20000) to 2173 (100000).
_EXCEL_RANGE = (20000.0, 100000.0)
_NUMERIC = re.compile(r"^\d+(?:\.\d+)?$")
_JA_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_JA_TIME = re.compile(r"(\d{1,2})\s*時\s*(\d{1,2})\s*分(?:\s*(\d{1,2})\s*秒)?")
_DOTTED_DATE = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})")

# Currency signs and codes around an amount (`¥1,200`, `1200円`, `R$ 100.000`, `USD 12.50`,
# `€ 9,99`); in CP932 the yen sign is byte 0x5C, which decodes as a backslash.
_CURRENCY = re.compile(
    r"^(?:[A-Z]{1,3}\s*)?[$¥€£\\]|^[A-Z]{3}\s*(?=[-(\d.,])|[¥€£円\\]$|(?<=[\d)])\s*[A-Z]{3}$"
)
_SPACES = re.compile(r"[\s\u00a0\u202f]")

DATE_FORMAT_WORDS = ("auto", "excel", "epoch_ms", "epoch_s")


def nfkc(values: pd.Series) -> pd.Series:
    """NFKC-normalised text: full-width digits and punctuation (`１２３`, `／`, `：`) become ASCII."""
    return values.map(lambda v: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v)


def clean_text(values: pd.Series, nulls: tuple[str, ...] = DEFAULT_NULLS) -> pd.Series:
    """Cells as trimmed text; empty, whitespace-only and `nulls` cells become missing (None).

    Args:
        values: raw cells (strings, or anything a file reader returned).
        nulls: cell texts that mean "no value" in this source.

    Returns:
        An object Series of str or None, same index.
    """
    text = values.astype("string").str.strip()
    # A full-width space (U+3000) is whitespace to str.strip, so "　" is empty too.
    missing = (text.isna() | (text == "") | text.isin(list(nulls))).fillna(True).astype(bool)
    out = text.astype(object)
    out[missing] = None
    return out


def plain_number_text(text: pd.Series) -> pd.Series:
    """Text values as exports write them, made plain: without currency signs, codes or
    spaces; an accounting negative `(1,200)` becomes `-1,200`. The contract's own files hold
    plain numbers: only an import does this."""
    text = text.astype("string").str.strip().str.replace(_CURRENCY, "", regex=True)
    text = text.str.replace(_SPACES, "", regex=True)
    return text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)


def parse_numbers(
    values: pd.Series,
    nulls: tuple[str, ...] = DEFAULT_NULLS,
    *,
    decimal: str | None = None,
    thousands: str | None = None,
) -> NumbersRead:
    """Numbers as exports write them: `１，２００，０００`, `1,200,000`, `¥1,200,000`, `1200円`,
    `(1,200)` for a negative amount, `27245,67` or `R$ 100.000` where the comma is the decimal
    sign; one way for the whole column (`contract.numbers.read_numbers`).

    Args:
        values: raw cells.
        nulls: cell texts that mean "no value".
        decimal, thousands: the separators, when the mapping declares them.

    Returns:
        The values (float64, NaN where missing or unreadable), the mask of unreadable cells,
        and why the column reads two ways when it does (no values then).
    """
    text = clean_text(values, nulls)
    present = text.notna()
    norm = pd.Series(None, index=values.index, dtype="object")
    norm[present] = plain_number_text(nfkc(text[present]))
    return read_numbers(norm, decimal=decimal, thousands=thousands)


def _excel_serial(numbers: pd.Series) -> pd.Series:
    seconds = (numbers * 86400).round()
    return _EXCEL_EPOCH + pd.to_timedelta(seconds, unit="s")


def _normalise_date_text(text: pd.Series) -> pd.Series:
    text = nfkc(text).astype("string")
    text = text.str.replace(
        _JA_DATE, lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", regex=True
    )
    text = text.str.replace(
        _JA_TIME, lambda m: f"{int(m[1]):02d}:{int(m[2]):02d}:{int(m[3] or 0):02d}", regex=True
    )
    text = text.str.replace(
        _DOTTED_DATE, lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", regex=True
    )
    # Salesforce (ja) writes "2026/10/05 9:04"; ISO parsing wants a two-digit hour.
    return text.str.replace(r"(?<=\d)\s+(\d):(\d{2})", r" 0\1:\2", regex=True)


def parse_datetimes(
    values: pd.Series,
    *,
    formats: tuple[str, ...] = ("auto",),
    source_timezone: str = "Asia/Tokyo",
    timezone: str = "Asia/Tokyo",
    nulls: tuple[str, ...] = DEFAULT_NULLS,
) -> tuple[pd.Series, pd.Series]:
    """Timestamps to naive local time in `timezone` (the data contract's time rule).

    Understood with `auto`: `2026/10/05`, `2026/10/05 13:04`, `2026-10-05 13:04:05`, ISO 8601
    with `T`, fractions, `Z` or an offset, `2026年10月5日 13時04分`, full-width digits, Excel
    serial numbers (`45931.5`, days since 1899-12-30), epoch milliseconds (13 digits, HubSpot)
    and epoch seconds (10 digits). Other layouts are given as strftime formats (`%m/%d/%Y %I:%M
    %p`), tried in order; the words `excel`, `epoch_ms`, `epoch_s` limit numbers to that reading.

    Args:
        values: raw cells.
        formats: `auto` and/or strftime formats and number words, tried in order.
        source_timezone: zone of values written without an offset (the exporting tool's zone).
        timezone: the run's zone the result is expressed in.
        nulls: cell texts that mean "no value".

    Returns:
        (datetime64[us] naive local times, NaT where missing or unreadable; mask of unreadable).
    """
    text = clean_text(values, nulls)
    present = text.notna()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if not present.any():
        return result, present
    norm = _normalise_date_text(text[present])
    numeric = norm.str.fullmatch(_NUMERIC).fillna(False).astype(bool)
    words = {f for f in formats if f in DATE_FORMAT_WORDS}
    auto = "auto" in words
    todo = pd.Series(True, index=norm.index)
    utc_parts: list[pd.Series] = []  # absolute instants (epoch): no source zone applies

    if numeric.any():
        num = pd.to_numeric(norm[numeric], errors="coerce")
        digits = norm[numeric].str.split(".").str[0].str.len()
        whole = num == num.round()
        if auto or "epoch_ms" in words:
            ms = whole & (digits == 13) if auto else whole
            if ms.any():
                utc_parts.append(pd.to_datetime(num[ms], unit="ms", utc=True))
                todo[ms[ms].index] = False
        if auto or "epoch_s" in words:
            s = whole & (digits == 10) & todo[num.index] if auto else whole & todo[num.index]
            if s.any():
                utc_parts.append(pd.to_datetime(num[s], unit="s", utc=True))
                todo[s[s].index] = False
        if auto:
            ymd = whole & (digits == 8) & todo[num.index]
            if ymd.any():
                parsed = pd.to_datetime(norm[ymd[ymd].index], format="%Y%m%d", errors="coerce")
                result[parsed.index] = parsed.astype("datetime64[us]")
                todo[ymd[ymd].index] = False
        if auto or "excel" in words:
            lo, hi = _EXCEL_RANGE
            xl = num.between(lo, hi) & todo[num.index]
            if xl.any():
                result[xl[xl].index] = _excel_serial(num[xl]).astype("datetime64[us]")
                todo[xl[xl].index] = False

    for fmt in formats:
        if fmt in DATE_FORMAT_WORDS or not todo.any():
            continue
        rest = norm[todo]
        has_tz = "%z" in fmt or "%Z" in fmt
        parsed = pd.to_datetime(rest, format=fmt, errors="coerce", utc=has_tz)
        ok = parsed.notna()
        if has_tz:
            utc_parts.append(parsed[ok])
        else:
            result[ok[ok].index] = parsed[ok].astype("datetime64[us]")
        todo[ok[ok].index] = False

    if auto and todo.any():
        rest = norm[todo & ~numeric]
        # The contract's own reader: offsets are converted, naive values stay as written.
        parsed = parse_timestamps(rest, source_timezone)
        ok = parsed.notna()
        result[ok[ok].index] = parsed[ok]
        todo[ok[ok].index] = False

    if source_timezone != timezone:
        local = result.notna()
        if local.any():
            # An hour that occurs twice when clocks go back is read as standard time.
            moved = (
                result[local]
                .dt.tz_localize(
                    source_timezone,
                    ambiguous=np.zeros(int(local.sum()), dtype=bool),
                    nonexistent="shift_forward",
                )
                .dt.tz_convert(timezone)
                .dt.tz_localize(None)
            )
            result[local] = moved.astype("datetime64[us]")
    for part in utc_parts:
        if len(part):
            result[part.index] = (
                part.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[us]")
            )
    bad = present & result.isna()
    return result, bad
