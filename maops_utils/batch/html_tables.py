"""Tables made readable in the HTML reports: text left, numbers right, no pandas row numbers,
wide tables scrolling in a box of their own.

Pure functions over BeautifulSoup trees; `batch/html.py` applies them to every page.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Tag

from ..core.i18n import STATUS_MARKS

__all__ = ["drop_range_index", "is_number", "layout_tables", "wrap_table"]

# A number as the reports write it: signed (the reports' minus is often U+2212), an amount
# with its currency's symbol before (¥, $, R$, CN¥ ...) or its ISO code after, grouped with
# commas, and a unit the reports put right after a number.
_SIGN = r"[+\-−±]?"
_SYMBOL = r"(?:[A-Z]{1,2}[$¥]\s?|R\$\s?|[¥$€£₩₹])"
_UNIT = r"(?:%|％|pt|ポイント|円|件|日|か月|倍|x|×|\s[A-Z]{3}\b)"
_NUMBER = rf"{_SIGN}{_SYMBOL}?{_SIGN}(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d+)?{_UNIT}?"
# Ranges and changes between two numbers: 15.6–24.7%, 57.4 → 37.6, 106 / 764. A bare
# hyphen is not one: 2026-10 is a month, which reads as text.
_BETWEEN = r"\s*(?:–|—|~|〜|～|→|/)\s*|\s+-\s+"
_VALUE = rf"{_NUMBER}(?:(?:{_BETWEEN}){_NUMBER})?"
# What may follow the number in the same cell: its interval, its count or status in
# brackets (`23.1% (8.2–50.3%)`, `3 (150% 順調)`, `0.526 [0.461–0.591]`), a footnote mark.
_NOTE = rf"\s*[(\[（［]\s*{_VALUE}[^()\[\]（）［］]*[)\]）］]"
_NUMERIC = re.compile(rf"{_VALUE}(?:{_NOTE})*\s*[※*†‡]*")


def is_number(text: str) -> bool:
    """True when a cell's text is a number as the reports write it (a count, a percentage,
    an amount, an interval, a signed change, with its note in brackets); anything else,
    dates and months included, is text."""
    return bool(_NUMERIC.fullmatch(" ".join(text.split())))


def _grid(table: Tag) -> list[list[tuple[Tag, int]]]:
    """Every row's cells with the column each starts at, row and column spans counted
    (pandas spans the outer levels of a MultiIndex)."""
    rows: list[list[tuple[Tag, int]]] = []
    spanned: dict[int, int] = {}  # column -> rows it is still taken by a cell above
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        row, col = [], 0
        for cell in tr.find_all(["th", "td"], recursive=False):
            while spanned.get(col, 0) > 0:
                col += 1
            row.append((cell, col))
            width, height = _span(cell, "colspan"), _span(cell, "rowspan")
            for c in range(col, col + width):
                spanned[c] = max(spanned.get(c, 0), height)
            col += width
        spanned = {c: n - 1 for c, n in spanned.items() if n > 1}
        rows.append(row)
    return rows


def _span(cell: Tag, attr: str) -> int:
    try:
        return max(1, int(str(cell.get(attr) or 1)))
    except ValueError:
        return 1


def _text(cell: Tag) -> str:
    return " ".join(cell.get_text(" ").split())


def _add_class(cell: Tag, name: str) -> None:
    classes = cell.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    if name not in classes:
        cell["class"] = [*classes, name]


# Up to this many characters a text cell is a name or a word ("ステージ", "判定前"): it is
# kept on one line rather than broken between its letters, which CJK text allows anywhere.
SHORT_TEXT = 10


# a status written with its mark (core/i18n.format_status) takes the status's colour
_STATUS_CLASS = {mark: f"st-{status}" for status, mark in STATUS_MARKS.items()}


def align_cells(table: Tag) -> None:
    """Mark each body cell `num` (right) or leave it text (left) from its own text, and each
    header cell like the cells of its columns: `num` when most of their filled cells are."""
    counts: dict[int, list[int]] = {}  # column -> [numbers, texts]
    marks: list[tuple[Tag, int]] = []  # cells of a sign only (※, —): as their column
    for row in _grid(table):
        for cell, col in row:
            if cell.find_parent("thead") is not None or cell.name != "td":
                continue
            text = _text(cell)
            if not any(c.isalnum() for c in text):
                marks.append((cell, col))
                continue
            numeric = is_number(text)
            counts.setdefault(col, [0, 0])[0 if numeric else 1] += 1
            if numeric:
                _add_class(cell, "num")
            else:
                _add_class(cell, "short" if len(text) <= SHORT_TEXT else "long")
            if text[:1] in _STATUS_CLASS:
                _add_class(cell, _STATUS_CLASS[text[:1]])

    def numeric(col: int, span: int = 1) -> bool:
        return all(n > t for n, t in (counts.get(c, [0, 0]) for c in range(col, col + span)))

    for cell, col in marks:
        if _text(cell) and numeric(col):
            _add_class(cell, "num")
    for row in _grid(table):
        for cell, col in row:
            if cell.name == "th" and cell.find_parent("thead") is not None:
                if numeric(col, _span(cell, "colspan")):
                    _add_class(cell, "num")
    for tr in table.find_all("tr", style=True):
        # pandas writes `<tr style="text-align: right;">` on the header; the cells say it now
        style = re.sub(r"text-align\s*:\s*right\s*;?", "", str(tr["style"])).strip()
        if style:
            tr["style"] = style
        else:
            del tr["style"]


def drop_range_index(table: Tag) -> bool:
    """Remove the first column of a DataFrame shown with its default index (0, 1, ..., n-1,
    without a name): row numbers that mean nothing to a reader. True if it was removed.

    It is recognised from pandas' markup alone: every body row starts with the one `<th>`
    of the index, numbered from 0, and every header row starts with an empty `<th>` (a
    named index would put its name there)."""
    body = [tr for tr in table.find_all("tr") if tr.find_parent("thead") is None]
    head = [tr for tr in table.find_all("tr") if tr.find_parent("thead") is not None]
    if not body or not head:
        return False
    firsts = []
    for n, tr in enumerate(body):
        cells = tr.find_all(["th", "td"], recursive=False)
        ths = [c for c in cells if c.name == "th"]
        if not cells or len(ths) != 1 or cells[0] is not ths[0] or _text(ths[0]) != str(n):
            return False
        if _span(ths[0], "rowspan") != 1 or _span(ths[0], "colspan") != 1:
            return False
        firsts.append(ths[0])
    for tr in head:
        first = tr.find(["th", "td"], recursive=False)
        if first is None or first.name != "th" or _text(first) or _span(first, "colspan") != 1:
            return False
        firsts.append(first)
    for cell in firsts:
        cell.decompose()
    return True


def wrap_table(soup: BeautifulSoup, table: Tag) -> None:
    """Put `table` in a box that scrolls sideways when the table is wider than the page, so
    the page itself keeps its width (and its text its line length)."""
    parent = table.parent
    if isinstance(parent, Tag) and "maops-table-box" in (parent.get("class") or []):
        return
    box = soup.new_tag("div", attrs={"class": "maops-table-box"})
    table.wrap(box)


def layout_tables(soup: BeautifulSoup) -> None:
    """Every table of a report page: the default index of a DataFrame shown by code dropped,
    cells aligned by what they hold, and the table in its own scrolling box."""
    for table in soup.find_all("table"):
        if table.find_parent(class_="jp-OutputArea-output") is not None:
            drop_range_index(table)
        align_cells(table)
        wrap_table(soup, table)
