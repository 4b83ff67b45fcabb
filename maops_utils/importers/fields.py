"""How a mapping's fields become contract columns: each export read, each field taken from
its column (or a JSON key, a template, a constant), its values mapped and parsed, and every
problem found noted with its file, line and column (`_Builder`, used by `convert`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..contract.files import RawTable, read_raw_table
from ..core.errors import Finding, suggest
from ..core.schema import TABLES
from .mapping import ColumnSpec, Mapping, TableSpec
from .parsing import clean_text, parse_datetimes, parse_numbers

MAX_EXAMPLES = 5
_SKIP = "__maops_skip__"
# Columns every frame carries while it is built: where each row came from.
_FILE, _LINE, _POS = "_file", "_line", "_pos"
# Only these fields drop a whole row when their value map says `~` (skip).
_ROW_CODES = ("activity_type", "stage", "status")


class _Problems:
    def __init__(self) -> None:
        self.errors: list[Finding] = []
        self.findings: list[Finding] = []

    def add(
        self,
        severity: str,
        table: str,
        message: str,
        *,
        file: str = "",
        column: str = "",
        rows: pd.DataFrame | None = None,
        values: pd.Series | None = None,
        action: str = "",
        count: int = 0,
    ) -> None:
        examples: list[str] = []
        if rows is not None:
            count = len(rows)
            for i, (_, r) in enumerate(rows.iterrows()):
                if i >= MAX_EXAMPLES:
                    break
                text = f"{Path(r[_FILE]).name} line {r[_LINE]}"
                if values is not None:
                    text += f": {str(values.loc[_]).strip()[:60]!r}"
                examples.append(text)
        target = self.errors if severity == "error" else self.findings
        target.append(Finding(severity, table, message, file, column, count, examples, action))


def _match_files(src: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Files of `src` matching the globs; a pattern starting with `!` excludes what it matches."""
    found: dict[Path, None] = {}
    excluded = {p for pattern in patterns if pattern.startswith("!") for p in src.glob(pattern[1:])}
    for pattern in patterns:
        if pattern.startswith("!"):
            continue
        for path in sorted(src.glob(pattern)):
            if (
                path.is_file()
                and path not in excluded
                and path.suffix.lower() in (".csv", ".txt", ".parquet")
            ):
                found[path] = None
    return list(found)


def _source_column(raw: RawTable, names: tuple[str, ...]) -> str | None:
    for name in names:
        if name in raw.frame.columns:
            return name
    return None


def _json_key(values: pd.Series, key: str) -> pd.Series:
    def get(cell: object) -> object:
        if not isinstance(cell, str) or not cell.strip().startswith("{"):
            return None
        try:
            value = json.loads(cell).get(key)
        except (json.JSONDecodeError, AttributeError):
            return None
        return None if value is None else str(value)

    return values.map(get)


def _apply_values(values: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, pd.Series]:
    """Map vendor codes; returns (mapped values, mask of codes missing from the map)."""
    if not spec.values:
        return values, pd.Series(False, index=values.index)
    exact = {k.strip(): v for k, v in spec.values.items()}
    loose = {k.strip().casefold(): v for k, v in spec.values.items()}

    def one(cell: object) -> object:
        if cell is None:
            return None
        key = str(cell).strip()
        if key in exact:
            return _SKIP if exact[key] is None else exact[key]
        folded = key.casefold()
        if folded in loose:
            return _SKIP if loose[folded] is None else loose[folded]
        return _MISSING

    # built as Python objects: pandas would infer its text type, where a missing value turns
    # into NaN and then into the text "nan" (a junk lead source, product or channel)
    cells = [None if pd.isna(v) else v for v in values.astype(object)]
    mapped = [one(v) for v in cells]
    unknown = pd.Series([v is _MISSING for v in mapped], index=values.index, dtype=bool)
    if spec.others == "skip":
        kept = [_SKIP if v is _MISSING else v for v in mapped]
    elif spec.others == "empty":
        kept = [None if v is _MISSING else v for v in mapped]
    else:
        kept = [c if v is _MISSING else v for v, c in zip(mapped, cells, strict=True)]
    out = [v if v is None or v == _SKIP else str(v) for v in kept]
    return pd.Series(out, index=values.index, dtype=object), unknown


_MISSING = object()


def _cells(raw: RawTable, column: str, pos: pd.Series) -> pd.Series:
    """The raw cells of `column` at the file positions `pos` (rows may repeat after explode)."""
    return pd.Series(raw.frame[column].to_numpy()[pos.to_numpy()], index=pos.index, dtype=object)


def _templated(raw: RawTable, spec: ColumnSpec, pos: pd.Series, product: pd.Series) -> pd.Series:
    """Values of a `{product}` column for exploded rows: the column named after each row's product."""
    out = pd.Series(None, index=pos.index, dtype=object)
    for code in sorted(product.dropna().unique()):
        for name in spec.columns:
            col = name.format(product=code)
            if col in raw.frame.columns:
                take = (product == code) & out.isna()
                out[take] = _cells(raw, col, pos[take])
    return out


class _Builder:
    def __init__(self, mapping: Mapping, src: Path, timezone: str):
        self.m = mapping
        self.src = src
        self.timezone = timezone
        self.source_tz = mapping.timezone or timezone
        self.p = _Problems()
        self.files: dict[str, list[str]] = {}
        self.absent: dict[str, list[str]] = {}

    # ------------------------------------------------------------ one field of one file
    def field(
        self,
        table: str,
        raw: RawTable,
        name: str,
        spec: ColumnSpec,
        base: pd.DataFrame,
        *,
        product: pd.Series | None = None,
        required: bool | None = None,
    ) -> pd.Series:
        column = TABLES[table].column(name)
        kind = column.kind if column else "string"
        if required is None:
            required = bool(column and column.required)
        index = base.index
        values = pd.Series(None, index=index, dtype=object)
        shown = ", ".join(spec.columns)
        if spec.columns and spec.join is not None:
            present = [c for c in spec.columns if c in raw.frame.columns]
            if not present:
                self._missing_column(table, raw, name, spec, required)
            else:
                parts = [
                    clean_text(_cells(raw, c, base[_POS]), self.m.nulls).fillna("") for c in present
                ]
                values = parts[0].astype(str)
                for part in parts[1:]:
                    values = values + spec.join + part.astype(str)
        elif spec.columns:
            if any("{product}" in c for c in spec.columns) and product is not None:
                values = _templated(raw, spec, base[_POS], product)
                if spec.json:
                    values = _json_key(values, spec.json)
            else:
                present = [c for c in spec.columns if c in raw.frame.columns]
                if not present:
                    if spec.default is None:
                        self._missing_column(table, raw, name, spec, required)
                else:
                    # the first non-empty value among the listed columns, row by row
                    values = clean_text(_cells(raw, present[0], base[_POS]), self.m.nulls)
                    for col in present[1:]:
                        values = values.where(
                            values.notna(), clean_text(_cells(raw, col, base[_POS]), self.m.nulls)
                        )
                    if spec.json:
                        values = _json_key(values, spec.json)
                    if spec.split:
                        # a list of associated ids ("123;456"): the first is the primary one
                        values = values.map(
                            lambda v: v.split(spec.split)[0] if isinstance(v, str) else v
                        )
        values = clean_text(values, self.m.nulls)
        if spec.default is not None:
            values = values.where(values.notna(), str(spec.default))
        if kind in ("timestamp", "date"):
            parsed, bad = parse_datetimes(
                values,
                formats=spec.formats or self.m.date_formats,
                source_timezone=self.source_tz,
                timezone=self.timezone,
                nulls=self.m.nulls,
            )
            if bad.any():
                fatal = required or kind == "timestamp"
                self.p.add(
                    "error" if fatal else "warning",
                    table,
                    f"{int(bad.sum())} value(s) of '{shown}' are not readable dates"
                    + ("" if fatal else "; they were left empty"),
                    file=str(raw.path),
                    column=shown,
                    rows=base[bad],
                    values=values,
                    action="set date_formats (strftime, e.g. %m/%d/%Y %H:%M) in the mapping, "
                    "or fix those cells",
                )
            return parsed
        if kind in ("number", "integer"):
            read = parse_numbers(
                values,
                self.m.nulls,
                decimal=spec.decimal or self.m.decimal,
                thousands=spec.thousands if spec.thousands is not None else self.m.thousands,
            )
            parsed, bad = read.values, read.bad
            if read.ambiguous:
                shown_values = ", ".join(repr(v) for v in read.examples)
                self.p.add(
                    "error",
                    table,
                    f"the numbers of '{shown}' can be read two ways: {read.ambiguous} "
                    f"({shown_values})",
                    file=str(raw.path),
                    column=shown,
                    action="declare how this export writes numbers in the mapping: "
                    "`decimal: ','` (and `thousands: '.'`) or `decimal: '.'`, for the whole "
                    "mapping or for this column",
                )
            if bad.any():
                self.p.add(
                    "error" if required else "warning",
                    table,
                    f"{int(bad.sum())} value(s) of '{shown}' are not numbers"
                    + ("" if required else "; they were left empty"),
                    file=str(raw.path),
                    column=shown,
                    rows=base[bad],
                    values=values,
                    action="write plain numbers (1200000, 1,200,000 or ¥1,200,000)",
                )
            return parsed
        mapped, unknown = _apply_values(values, spec)
        if unknown.any() and spec.others != "skip":
            codes = sorted(map(str, values[unknown].dropna().unique()))
            self.p.add(
                "warning",
                table,
                f"{int(unknown.sum())} value(s) of '{shown}' are not in the mapping's value map "
                f"({', '.join(codes[:MAX_EXAMPLES])}{', ...' if len(codes) > MAX_EXAMPLES else ''})"
                + ("; left empty" if spec.others == "empty" else "; kept as they are"),
                file=str(raw.path),
                column=shown,
                rows=base[unknown],
                values=values,
                action=f"add them to tables.{table}.columns.{name}.values (map to ~ to skip those rows)",
            )
        dropped = (mapped == _SKIP) & values.notna()
        if dropped.any():
            counts = values[dropped].astype(str).value_counts()
            shown_codes = ", ".join(
                f"{code} ({n:,})" for code, n in counts.head(MAX_EXAMPLES).items()
            )
            more = ", ..." if len(counts) > MAX_EXAMPLES else ""
            what = "those rows were left out" if name in _ROW_CODES else "left empty"
            self.p.add(
                "warning",
                table,
                f"{int(dropped.sum()):,} value(s) of '{shown}' map to nothing in the mapping "
                f"({shown_codes}{more}); {what}",
                file=str(raw.path),
                column=shown,
                rows=base[dropped],
                values=values,
                action=f"map them in tables.{table}.columns.{name}.values if they should count",
            )
        return mapped

    def _missing_column(
        self, table: str, raw: RawTable, name: str, spec: ColumnSpec, required: bool
    ) -> None:
        if not required:
            # optional fields a file lacks are reported once per file, in `build`
            self.absent.setdefault(str(raw.path), []).append(name)
            return
        cols = list(raw.frame.columns)
        self.p.add(
            "error",
            table,
            f"column '{' or '.join(spec.columns)}' (for {name}) is not in the file"
            f"{suggest(spec.columns[0], cols)}",
            file=str(raw.path),
            column=spec.columns[0],
            action=f"export that column, or change tables.{table}.columns.{name} in the mapping "
            f"(columns found: {', '.join(cols[:15])}{', ...' if len(cols) > 15 else ''})",
        )

    # ------------------------------------------------------------ whole tables
    def read_table(self, name: str) -> list[tuple[TableSpec, RawTable]]:
        """Every export file of `name`, with the part of the mapping that describes it."""
        out, seen = [], set()
        for spec in self.m.tables.get(name, ()):
            for path in _match_files(self.src, spec.files):
                if path in seen:
                    continue  # a file matched by two parts' patterns is read by the first
                seen.add(path)
                out.append((spec, path))
        self.files[name] = [p.name for _, p in out]
        read = [
            (spec, read_raw_table(name, p, encoding=self.m.encoding, delimiter=self.m.delimiter))
            for spec, p in out
        ]
        for _, raw in read:
            self.p.errors.extend(raw.problems)  # a file that does not read as a table
        return read

    def base(self, raw: RawTable) -> pd.DataFrame:
        pos = np.arange(len(raw.frame))
        return pd.DataFrame(
            {_POS: pos, _FILE: str(raw.path), _LINE: pos + (2 if raw.is_csv else 1)}
        )

    def build(
        self, spec: TableSpec, raw: RawTable, base: pd.DataFrame, product: pd.Series | None = None
    ) -> pd.DataFrame:
        out = pd.DataFrame(index=base.index)
        for name, col_spec in [*spec.columns.items(), *spec.attributes.items()]:
            if col_spec.generate:
                out[name] = generated_ids(spec.name, raw, base[_POS])
                continue
            values = self.field(spec.name, raw, name, col_spec, base, product=product)
            if name not in _ROW_CODES and not pd.api.types.is_numeric_dtype(values):
                # `~` in a value map: no value, never a marker in the data
                values = values.astype(object).where(values != _SKIP, None)
            out[name] = values
        out[_FILE] = base[_FILE]
        out[_LINE] = base[_LINE]
        undated = [name for name, col_spec in spec.columns.items() if col_spec.absent]
        if undated:
            # said once per file: the mapping declared it (`~`), so it is no mistake to fix,
            # but every figure placed in time leaves these rows out
            effect = (
                "each score is a snapshot, taken at a time the export does not say"
                if undated == ["scored_at"]
                else "its rows count in no month"
            )
            self.p.add(
                "warning",
                spec.name,
                f"the mapping says the export has no {', '.join(undated)} (`~`): left empty; "
                f"{effect}",
                file=str(raw.path),
                count=len(base),
                action="map the column if the tool can export it",
            )
        missing = self.absent.pop(str(raw.path), [])
        if missing:
            self.p.add(
                "warning",
                spec.name,
                f"the file has no column for {', '.join(missing)}; left empty",
                file=str(raw.path),
                action="export those columns if the tool has them, or remove them from the mapping",
            )
        return out


def generated_ids(table: str, raw: RawTable, pos: pd.Series) -> pd.Series:
    """Keys for rows an export gives none: a digest of the table's name and the row's cells,
    and how many identical rows came before it in the file. The same export gives the same
    ids, whatever its file is called or where its rows moved; a row whose cells change is a
    new row."""
    if pos.empty:
        return pd.Series(dtype=object, index=pos.index)
    cells = raw.frame.iloc[pos.to_numpy()].astype("string").fillna("")
    text = cells.apply(lambda row: "\x1f".join(row.str.strip()), axis=1)
    seen = text.groupby(text).cumcount()
    prefix = {"leads": "L", "opportunities": "O", "stage_events": "E"}[table]
    ids = [
        prefix + hashlib.sha256(f"{table}\x1e{t}\x1e{n}".encode()).hexdigest()[:16]
        for t, n in zip(text, seen, strict=True)
    ]
    return pd.Series(ids, index=pos.index, dtype=object)


# ---------------------------------------------------------------- products and links
