"""How a number written as text is read: its decimal and thousands separators, declared or
found in the column, never guessed.

`27245,67` is 27245.67 where the comma is the decimal sign and 2724567 where it groups
thousands; `100.000` is 100 or 100000. Dropping every comma, as a plain reader does, turns
amounts written with a decimal comma into amounts a hundred times too large, with no warning.
So a column is read one way only:

- declared (`decimal`, and `thousands`, by default the other of `.` and `,`): each value
  must be written that way, else it is unreadable;
- undeclared, the column's own values decide. `1.234,56`, `1,234.56`, `12,5`, `1,234,567`
  or `0.25` each show one convention; a column showing both is ambiguous. So is one whose
  only clues are `1,234` beside `12,5` (the comma used both ways), or `100.000` without any
  value that settles which sign is the decimal one. Without any clue, `1,234` groups
  thousands, as Japanese exports write amounts.

An ambiguous column gets no values: the caller reports it as fatal, naming the examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

DECIMAL_SIGNS = (".", ",")
THOUSANDS_SIGNS = (",", ".", " ", "'", "")

_COMMA_GROUPED_ONCE = re.compile(r"^-?\d{1,3},\d{3}$")  # 1,234: thousands, or 1.234
_COMMA_GROUPED_MORE = re.compile(r"^-?\d{1,3}(?:,\d{3}){2,}$")  # 1,234,567: thousands
_COMMA_DECIMAL = re.compile(r"^-?\d*,\d+$")
_DOT_GROUPED_ONCE = re.compile(r"^-?[1-9]\d{0,2}\.\d{3}$")  # 100.000: 100, or 100000
_DOT_GROUPED_MORE = re.compile(r"^-?\d{1,3}(?:\.\d{3}){2,}$")  # 1.234.567: thousands


@dataclass(frozen=True)
class NumbersRead:
    """A column's numbers (float64, NaN where missing or unreadable), the mask of values
    present but unreadable, and why the column cannot be read at all ("" when it can; its
    `examples` then say which values disagree)."""

    values: pd.Series
    bad: pd.Series
    ambiguous: str = ""
    examples: tuple[str, ...] = ()


def _clues(values: pd.Series) -> dict[str, pd.Series]:
    """Which values show a decimal point, a decimal comma, or could be either (each pattern
    tried only on the values it can match: a column may hold a million distinct amounts)."""
    has_dot, has_comma = (
        values.str.contains(".", regex=False),
        values.str.contains(",", regex=False),
    )
    false = pd.Series(False, index=values.index)
    point, comma, comma_once, dot_once = false.copy(), false.copy(), false.copy(), false.copy()
    both = has_dot & has_comma
    if both.any():
        last_comma = values[both].str.rfind(",") > values[both].str.rfind(".")
        comma[last_comma[last_comma].index] = True
        point[last_comma[~last_comma].index] = True
    only_comma = values[has_comma & ~has_dot]
    if len(only_comma):
        once = only_comma.str.fullmatch(_COMMA_GROUPED_ONCE)
        comma_once[once[once].index] = True
        more = only_comma.str.fullmatch(_COMMA_GROUPED_MORE)
        point[more[more].index] = True
        dec = ~once & ~more & only_comma.str.fullmatch(_COMMA_DECIMAL)
        comma[dec[dec].index] = True
    only_dot = values[has_dot & ~has_comma]
    if len(only_dot):
        once = only_dot.str.fullmatch(_DOT_GROUPED_ONCE)
        dot_once[once[once].index] = True
        several = only_dot.str.count(r"\.") > 1
        more = several & only_dot.str.fullmatch(_DOT_GROUPED_MORE)
        comma[more[more].index] = True
        point[(~once & ~more)[~once & ~more].index] = True
    return {"point": point, "comma": comma, "comma_once": comma_once, "dot_once": dot_once}


def _shown(values: pd.Series, *masks: pd.Series) -> tuple[str, ...]:
    return tuple(str(v) for mask in masks for v in values[mask].head(2))


def _style(unique: pd.Series) -> tuple[str, str, tuple[str, ...]]:
    """The decimal sign the distinct values `unique` show, or "" and why with examples."""
    clue = _clues(unique)
    point, comma = clue["point"].any(), clue["comma"].any()
    if point and comma:
        why = "some values use '.' as the decimal sign and others ','"
        return "", why, _shown(unique, clue["point"], clue["comma"])
    if comma and clue["comma_once"].any():
        why = "',' is the decimal sign in some values and groups thousands in others"
        return "", why, _shown(unique, clue["comma"], clue["comma_once"])
    if comma:
        return ",", "", ()
    if not point and clue["dot_once"].any():
        why = "'.' may be the decimal sign or group thousands, and no value says which"
        return "", why, _shown(unique, clue["dot_once"])
    return ".", "", ()


def _strict(decimal: str, thousands: str) -> re.Pattern[str]:
    d, t = re.escape(decimal), re.escape(thousands)
    grouped = rf"\d{{1,3}}(?:{t}\d{{3}})+" if thousands else r"(?!)"
    return re.compile(rf"^-?(?:{grouped}|\d+)(?:{d}\d+)?$|^-?{d}\d+$")


def read_numbers(
    text: pd.Series, *, decimal: str | None = None, thousands: str | None = None
) -> NumbersRead:
    """Read `text` (str or missing values) as numbers, one way for the whole column.

    Args:
        text: the values, trimmed, missing ones as None/NA (blank cells made missing);
            plain numbers (the importers take an export's currency signs off first).
        decimal: the decimal sign, "." or ","; None: found in the values (module doc).
        thousands: the thousands separator; None: "," for a decimal point, "." for a comma.
    """
    present = text.notna()
    out = pd.Series(np.nan, index=text.index, dtype="float64")
    plain = text[present].astype("string")
    why, examples = "", ()
    # values without a separator say nothing of the style, and plain ones read as they are
    marked = plain[plain.str.contains(",", regex=False) | plain.str.contains(".", regex=False)]
    if decimal is None:
        unique = pd.Series(marked.dropna().unique(), dtype="string")
        decimal, why, examples = _style(unique)
        if why:
            return NumbersRead(out, pd.Series(False, index=text.index), why, examples)
    if thousands is None:
        thousands = "." if decimal == "," else ","
    # plain values (and decimal points without grouping) read directly, the rest strictly
    simple = ~plain.index.isin(marked.index)
    if decimal == ".":
        simple |= ~plain.str.contains(thousands or ",", regex=False).fillna(False).astype(bool)
    direct = plain[simple]
    out[direct.index] = pd.to_numeric(direct, errors="coerce").astype("float64")
    rest = plain[~plain.index.isin(direct.index)]
    ok = rest.str.fullmatch(_strict(decimal, thousands)).fillna(False).astype(bool)
    canonical = rest[ok]
    if thousands:
        canonical = canonical.str.replace(thousands, "", regex=False)
    canonical = canonical.str.replace(decimal, ".", regex=False)
    out[canonical.index] = pd.to_numeric(canonical, errors="coerce").astype("float64")
    return NumbersRead(out, present & out.isna())
