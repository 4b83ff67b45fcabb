"""Mapping files: how a vendor's export columns and codes become data contract v1.

A mapping is YAML (`params/mappings/<source>.yaml` for the shipped vendors, or any file passed
with `--mapping`). Which vendor value maps to which contract value lives there, not in code, so
a team reads and overrides it. The layout is documented in docs/importers.md.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..contract.files import DELIMITERS, ENCODINGS
from ..contract.numbers import DECIMAL_SIGNS, THOUSANDS_SIGNS
from ..core.errors import ConfigError, suggest
from ..core.io import load_yaml
from ..core.months import check_month
from ..core.schema import ATTRIBUTE_NAME, ATTRIBUTE_TABLES, TABLES
from ..core.settings import shipped
from .parsing import DATE_FORMAT_WORDS, DEFAULT_NULLS

PACKAGE_PARAMS = shipped("params") / "mappings"
IMPORT_TABLES = (
    "leads",
    "activities",
    "stage_changes",
    "opportunities",
    "campaigns",
    "stage_events",
    "spend",
    "scores",
)
# Fields an importer fills besides the contract's columns: links between files, and the
# contact details 名寄せ compares (personal data, like `email`).
LINK_FIELDS = {
    "leads": ("converted_opportunity_id", "name", "phone"),
    "activities": ("lead_email",),
    "stage_changes": ("lead_email", "product"),
    "opportunities": ("lead_email",),
    "campaigns": (),
    "stage_events": (),
    "spend": (),
    "scores": ("lead_email",),
}
_TOP_KEYS = (
    "description",
    "extends",
    "encoding",
    "timezone",
    "date_formats",
    "nulls",
    "decimal",
    "thousands",
    "delimiter",
    "currency",
    "product",
    "campaign_products",
    "category_rules",
    "tables",
)
_SPEC_KEYS = (
    "column",
    "json",
    "join",
    "values",
    "others",
    "default",
    "formats",
    "split",
    "decimal",
    "thousands",
    "generate",
)
_TABLE_KEYS = ("files", "columns", "stages", "attributes", "spread")
# Keys an export may lack: the import makes them from the row itself (`generate: true`).
GENERATED_KEYS = ("lead_id", "opportunity_id", "event_id")
# The fields a table's mapping must fill (each a choice: one of them): the import cannot link,
# date or tell apart its rows without them. A product comes from `product` when not mapped.
MAPPED_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "leads": (("lead_id",), ("created_at",)),
    "activities": (("lead_id", "lead_email"), ("activity_type",), ("occurred_at",)),
    "stage_changes": (("lead_id", "lead_email"), ("stage",), ("changed_at",)),
    "opportunities": (("opportunity_id",), ("created_at",), ("status",)),
    "campaigns": (("campaign_id",), ("name",)),
    "stage_events": (("event_id",), ("stage",), ("occurred_at",)),
    "spend": (("amount",),),
    # a snapshot export has no scored_at: the score as it stood when the file was written
    "scores": (("lead_id", "lead_email"), ("score",)),
}
_PRODUCT_KEYS = ("column", "split", "values", "default")
OTHERS = ("keep", "skip", "empty")


@dataclass(frozen=True)
class ColumnSpec:
    """Where one contract field comes from.

    `columns` are tried in order (the first non-empty value wins); a name may contain
    `{product}` (per-product fields of a person exploded into one lead per product). `json`
    reads a key of a JSON object held in the column (Marketo's `attributes`). `join` joins the
    values of all listed columns with that text instead (`Type|Status`). `values` maps
    vendor codes to contract codes; `others` says what happens to a code not in the map:
    `keep` it (the contract check reports unknown codes), `skip` the row, or leave it `empty`.
    """

    columns: tuple[str, ...] = ()
    json: str | None = None
    join: str | None = None
    values: dict[str, Any] | None = None
    others: str = "keep"
    default: Any = None
    formats: tuple[str, ...] | None = None
    split: str | None = None
    # the number style of this column when it differs from the mapping's (`separators`)
    decimal: str | None = None
    thousands: str | None = None
    generate: bool = False  # a key the export lacks, made from the row (fields.generated_ids)

    @property
    def absent(self) -> bool:
        """The mapping says the export has no such column (`created_at: ~`): left empty."""
        return not self.columns and self.default is None


@dataclass(frozen=True)
class TableSpec:
    """One kind of export file feeding a table (a table may have several kinds)."""

    name: str
    files: tuple[str, ...]
    columns: dict[str, ColumnSpec]
    stages: dict[str, ColumnSpec] = field(default_factory=dict)
    # extra columns kept as the table's attributes (schema.ATTRIBUTE_TABLES)
    attributes: dict[str, ColumnSpec] = field(default_factory=dict)
    # spend without a month: spread evenly over these months (first, last)
    spread: tuple[str, str] | None = None


@dataclass(frozen=True)
class ProductSpec:
    column: ColumnSpec | None = None
    split: str | None = None
    default: str | None = None


@dataclass(frozen=True)
class Mapping:
    """A resolved mapping (after `extends`), checked when it was loaded."""

    name: str
    path: Path | None
    tables: dict[str, tuple[TableSpec, ...]]
    product: ProductSpec
    encoding: str = "auto"
    timezone: str = ""
    date_formats: tuple[str, ...] = ("auto",)
    nulls: tuple[str, ...] = DEFAULT_NULLS
    # how numbers are written: the decimal sign and the thousands separator; None: found in
    # each column's values (`contract.numbers.read_numbers`), an ambiguous column an error
    decimal: str | None = None
    thousands: str | None = None
    delimiter: str | None = None  # the CSV field separator; None: found in each header line
    campaign_products: dict[str, str] = field(default_factory=dict)
    category_rules: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    description: str = ""
    currency: str = ""  # the currency the export's amounts are in; "" = the run's

    def codes(self) -> dict[str, list[str]]:
        """The codes the mapping gives each coded field (`table.field`: the values of its
        value maps and its default): a dataset it wrote holding another value there was
        edited since, or kept a vendor code the map did not know (`others: keep`)."""
        out: dict[str, set[str]] = {}
        for name, specs in self.tables.items():
            for spec in specs:
                for field_name, col in spec.columns.items():
                    if col.values is None:
                        continue
                    found = out.setdefault(f"{name}.{field_name}", set())
                    found.update(str(v) for v in col.values.values() if v is not None)
                    if col.default is not None:
                        found.add(str(col.default))
        if self.product.column is not None and self.product.column.values:
            found = {str(v) for v in self.product.column.values.values() if v is not None}
            if self.product.default is not None:
                found.add(self.product.default)
            out["leads.product"] = out.get("leads.product", set()) | found
        return {key: sorted(values) for key, values in sorted(out.items())}


def available_sources(mappings_dir: Path = PACKAGE_PARAMS) -> list[str]:
    """Names of the shipped vendor mappings (files not starting with `_` or `example`)."""
    if not mappings_dir.is_dir():
        return []
    return sorted(
        p.stem for p in mappings_dir.glob("*.yaml") if not p.stem.startswith(("_", "example"))
    )


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(path: Path, mappings_dir: Path, seen: tuple[Path, ...] = ()) -> dict:
    if path in seen:
        chain = " -> ".join(str(p) for p in (*seen, path))
        raise ConfigError(f"{path}: 'extends' forms a cycle ({chain})")
    data = load_yaml(path)
    parents = data.get("extends") or []
    if isinstance(parents, str):
        parents = [parents]
    if not isinstance(parents, list):
        raise ConfigError(f"{path}: extends must be a mapping name or a list of names")
    merged: dict = {}
    for parent in parents:
        merged = _merge(
            merged, _resolve(_locate(str(parent), mappings_dir, path), mappings_dir, (*seen, path))
        )
    data = {k: v for k, v in data.items() if k != "extends"}
    return _merge(merged, data)


def _locate(name: str, mappings_dir: Path, where: Path | None = None) -> Path:
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_absolute() and where is not None:
            beside = where.parent / candidate
            if beside.is_file():
                return beside
        if candidate.is_file():
            return candidate
    shipped = mappings_dir / f"{name}.yaml"
    if shipped.is_file():
        return shipped
    known = available_sources(mappings_dir)
    origin = f"{where}: " if where else ""
    raise ConfigError(
        f"{origin}mapping '{name}' not found (neither a file nor one of "
        f"{', '.join(known) or 'none'} in {mappings_dir}){suggest(name, known)}"
    )


def _as_tuple(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise ConfigError(f"{where}: expected a name or a list of names, got {value!r}")


def _spec(raw: Any, where: str) -> ColumnSpec:
    if isinstance(raw, str | list):
        return ColumnSpec(columns=_as_tuple(raw, where))
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where}: expected a column name or {{column: ..., values: ...}}, got {raw!r}"
        )
    for key in raw:
        if key not in _SPEC_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{suggest(str(key), list(_SPEC_KEYS))}")
    values = raw.get("values")
    if values is not None and not isinstance(values, dict):
        raise ConfigError(f"{where}.values: expected a mapping of vendor value -> contract value")
    others = raw.get("others", "keep")
    if others not in OTHERS:
        raise ConfigError(f"{where}.others: '{others}' is not one of {', '.join(OTHERS)}")
    columns = _as_tuple(raw.get("column"), f"{where}.column")
    generate = raw.get("generate", False)
    if not isinstance(generate, bool):
        raise ConfigError(
            f"{where}.generate: write true (an id made from each row) or leave it out"
        )
    if generate and (columns or raw.get("default") is not None):
        raise ConfigError(f"{where}: an id is either generated or read from a column, not both")
    if not columns and raw.get("default") is None and not generate:
        raise ConfigError(f"{where}: give a column or a default value")
    formats = raw.get("formats")
    return ColumnSpec(
        columns=columns,
        json=str(raw["json"]) if raw.get("json") is not None else None,
        join=str(raw["join"]) if raw.get("join") is not None else None,
        values={str(k): v for k, v in values.items()} if values else None,
        others=others,
        default=raw.get("default"),
        formats=_formats(formats, f"{where}.formats") if formats is not None else None,
        split=raw.get("split"),
        decimal=_sign(raw.get("decimal"), DECIMAL_SIGNS, f"{where}.decimal"),
        thousands=_sign(raw.get("thousands"), THOUSANDS_SIGNS, f"{where}.thousands"),
        generate=generate,
    )


def _sign(raw: Any, allowed: tuple[str, ...], where: str) -> str | None:
    """A separator as the mapping writes it (None: not declared)."""
    if raw is None:
        return None
    if raw not in allowed:
        shown = ", ".join(f"'{a}'" for a in allowed)
        raise ConfigError(f"{where}: '{raw}' is not a separator maops reads; use one of {shown}")
    return str(raw)


def _formats(raw: Any, where: str) -> tuple[str, ...]:
    formats = _as_tuple(raw, where)
    for f in formats:
        if f not in DATE_FORMAT_WORDS and "%" not in f:
            raise ConfigError(
                f"{where}: '{f}' is neither one of {', '.join(DATE_FORMAT_WORDS)} nor a strftime "
                "format such as %Y/%m/%d %H:%M"
            )
    return formats or ("auto",)


def _table(name: str, raw: Any, where: str) -> TableSpec:
    if name not in IMPORT_TABLES:
        raise ConfigError(f"{where}: unknown table '{name}'{suggest(name, list(IMPORT_TABLES))}")
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected files and columns")
    for key in raw:
        if key not in _TABLE_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{suggest(str(key), list(_TABLE_KEYS))}")
    files = _as_tuple(raw.get("files"), f"{where}.files")
    if not files:
        raise ConfigError(f'{where}.files: name the export file(s), e.g. ["*Lead*.csv"]')
    known = [c.name for c in TABLES[name].columns] + list(LINK_FIELDS[name])
    columns = {}
    for col, spec in (raw.get("columns") or {}).items():
        if col not in known:
            raise ConfigError(
                f"{where}.columns: '{col}' is not a field of {name}{suggest(str(col), known)} "
                f"(fields: {', '.join(known)})"
            )
        if spec is None:
            columns[col] = _absent(name, col, f"{where}.columns.{col}")
            continue
        columns[col] = _spec(spec, f"{where}.columns.{col}")
        if columns[col].generate and col not in GENERATED_KEYS:
            raise ConfigError(
                f"{where}.columns.{col}: only a key can be generated "
                f"({', '.join(GENERATED_KEYS)}); map {col} to a column or give a default"
            )
    missing = [
        " or ".join(need) for need in MAPPED_FIELDS[name] if not any(f in columns for f in need)
    ]
    if missing:
        raise ConfigError(
            f"{where}.columns: {', '.join(missing)} not mapped: every {name} row needs "
            f"{'it' if len(missing) == 1 else 'them'}; map each to the export's column "
            f"(`{missing[0].split(' or ')[0]}: <column name>`) or give a `default`"
        )
    stages = {}
    if raw.get("stages"):
        if name != "leads":
            raise ConfigError(f"{where}.stages: stage dates can only be read from the leads export")
        for stage, spec in raw["stages"].items():
            stages[str(stage)] = _spec(spec, f"{where}.stages.{stage}")
    return TableSpec(
        name,
        files,
        columns,
        stages,
        _attributes(name, raw.get("attributes"), where),
        _spread(name, raw.get("spread"), columns, where),
    )


def _attributes(name: str, raw: Any, where: str) -> dict[str, ColumnSpec]:
    if raw is None:
        return {}
    if name not in ATTRIBUTE_TABLES:
        raise ConfigError(f"{where}.attributes: only {', '.join(ATTRIBUTE_TABLES)} have attributes")
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}.attributes: expected a mapping of name -> column")
    out = {}
    for attr, spec in raw.items():
        attr = str(attr)
        if not ATTRIBUTE_NAME.fullmatch(attr) or TABLES[name].column(attr) is not None:
            raise ConfigError(
                f"{where}.attributes.{attr}: an attribute is named in lower case (a-z, 0-9, _) "
                f"and is not a column of the contract's {name}"
            )
        out[attr] = _spec(spec, f"{where}.attributes.{attr}")
    return out


def _spread(
    name: str, raw: Any, columns: dict[str, ColumnSpec], where: str
) -> tuple[str, str] | None:
    """The months undated spend covers; spend has a month column or this, not both."""
    if name != "spend":
        if raw is not None:
            raise ConfigError(f"{where}.spread: only spend is spread over months")
        return None
    if raw is None:
        if "month" not in columns:
            raise ConfigError(
                f"{where}: spend needs its month: map columns.month, or say which months the "
                "amounts cover with spread: {from: YYYY-MM, to: YYYY-MM}"
            )
        return None
    if "month" in columns:
        raise ConfigError(f"{where}: give spend a month column or a spread, not both")
    if not isinstance(raw, dict) or set(raw) != {"from", "to"}:
        raise ConfigError(f"{where}.spread: expected {{from: YYYY-MM, to: YYYY-MM}}")
    first = check_month(str(raw["from"]), f"{where}.spread.from")
    last = check_month(str(raw["to"]), f"{where}.spread.to")
    if last < first:
        raise ConfigError(f"{where}.spread: 'to' ({last}) comes before 'from' ({first})")
    return first, last


def _absent(table: str, name: str, where: str) -> ColumnSpec:
    """`created_at: ~`: the export has no such date (a list dated nowhere). Only a date may be
    declared absent: its rows are kept and count in no month, as the contract says of an empty
    timestamp; an id, a code or an amount left out silently would make other numbers wrong."""
    column = TABLES[table].column(name)
    if column is None or column.kind not in ("timestamp", "date"):
        dates = [c.name for c in TABLES[table].columns if c.kind in ("timestamp", "date")]
        raise ConfigError(
            f"{where}: `~` (the export has no such column) is for dates only "
            f"({', '.join(dates) or 'this table has none'}); map {name} to a column or give a "
            "`default`"
        )
    return ColumnSpec()


def load_mapping(
    source: str, mapping_file: str | Path | None = None, *, mappings_dir: Path = PACKAGE_PARAMS
) -> Mapping:
    """The mapping for `source` (a shipped vendor name, or `custom` / any name with a file).

    Args:
        source: `eloqua`, `marketo`, `hubspot`, `salesforce`, or any name when `mapping_file`
            is given.
        mapping_file: a YAML file; it may `extends: <vendor>` to override a few entries only.
        mappings_dir: where the shipped mappings live (`params/mappings/`).

    Returns:
        The checked `Mapping`.

    Raises:
        ConfigError: naming the file and the key that is wrong.
    """
    if mapping_file is not None:
        path = Path(mapping_file)
        if not path.is_file():
            raise ConfigError(f"mapping file '{path}' does not exist; pass --mapping FILE (YAML)")
    else:
        path = _locate(source, mappings_dir)
    raw = _resolve(path.resolve(), mappings_dir)
    where = str(path)
    for key in raw:
        if key not in _TOP_KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{suggest(str(key), list(_TOP_KEYS))}")
    encoding = str(raw.get("encoding", "auto"))
    if encoding not in ENCODINGS:
        raise ConfigError(f"{where}: encoding '{encoding}' is not one of {', '.join(ENCODINGS)}")
    tz = str(raw.get("timezone") or "")
    if tz:
        try:
            pd.Timestamp("2020-01-01").tz_localize(tz)
        except Exception:
            raise ConfigError(
                f"{where}: timezone '{tz}' is not a known time zone (e.g. Asia/Tokyo, UTC)"
            ) from None
    tables_raw = raw.get("tables") or {}
    if not isinstance(tables_raw, dict) or "leads" not in tables_raw:
        raise ConfigError(f"{where}: tables must include at least 'leads' (files and columns)")
    tables = {}
    for name, spec in tables_raw.items():
        if spec is None:
            continue  # `activities: ~` in an override removes a table the parent maps
        parts = spec if isinstance(spec, list) else [spec]
        tables[str(name)] = tuple(
            _table(
                str(name), part, f"{where}: tables.{name}" + (f"[{i}]" if len(parts) > 1 else "")
            )
            for i, part in enumerate(parts)
        )
    if "leads" not in tables:
        raise ConfigError(f"{where}: tables must include at least 'leads' (files and columns)")
    prod_raw = raw.get("product") or {}
    if not isinstance(prod_raw, dict):
        raise ConfigError(f"{where}: product must be a mapping (column, split, values, default)")
    for key in prod_raw:
        if key not in _PRODUCT_KEYS:
            raise ConfigError(
                f"{where}: product: unknown key '{key}'{suggest(str(key), list(_PRODUCT_KEYS))}"
            )
    column = None
    if prod_raw.get("column"):
        column = _spec(
            {k: v for k, v in prod_raw.items() if k in ("column", "values")}, f"{where}: product"
        )
    default = prod_raw.get("default")
    if (
        column is None
        and default is None
        and any("product" not in t.columns for t in tables["leads"])
    ):
        raise ConfigError(
            f"{where}: say where the product comes from: product.column (a column of the leads "
            "export), product.default (one product for all), or tables.leads.columns.product"
        )
    rules: dict[str, tuple[tuple[str, str], ...]] = {}
    for activity, items in (raw.get("category_rules") or {}).items():
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and set(i) == {"match", "category"} for i in items
        ):
            raise ConfigError(
                f"{where}: category_rules.{activity}: expected a list of {{match: regex, category: name}}"
            )
        rules[str(activity)] = tuple((str(i["match"]), str(i["category"])) for i in items)
    camp = raw.get("campaign_products") or {}
    if not isinstance(camp, dict):
        raise ConfigError(f"{where}: campaign_products must map campaign id -> product")
    return Mapping(
        name=source,
        path=path,
        tables=tables,
        product=ProductSpec(
            column, prod_raw.get("split"), None if default is None else str(default)
        ),
        encoding=encoding,
        timezone=tz,
        date_formats=_formats(raw.get("date_formats", ["auto"]), f"{where}: date_formats"),
        nulls=tuple(
            dict.fromkeys((*DEFAULT_NULLS, *_as_tuple(raw.get("nulls"), f"{where}: nulls")))
        ),
        decimal=_sign(raw.get("decimal"), DECIMAL_SIGNS, f"{where}: decimal"),
        thousands=_sign(raw.get("thousands"), THOUSANDS_SIGNS, f"{where}: thousands"),
        delimiter=_sign(raw.get("delimiter"), DELIMITERS, f"{where}: delimiter"),
        campaign_products={str(k): str(v) for k, v in camp.items()},
        category_rules=rules,
        description=str(raw.get("description", "")),
        currency=_currency(raw.get("currency"), where),
    )


def _currency(raw: Any, where: str) -> str:
    if raw is None:
        return ""
    code = str(raw)
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ConfigError(
            f"{where}: currency '{code}' is not an ISO 4217 code such as JPY, USD, BRL"
        )
    return code
