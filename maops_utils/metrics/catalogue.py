"""The KPI catalogue: the contract's core metrics plus the KPIs a team declares in YAML.

Core definitions ship with the package (`catalogue/core.yaml`) and cannot be redefined;
`params/kpis.yaml` relabels them, sets targets, and adds KPIs of its own with the same
`count` / `sum` / `ratio` / `difference` forms. Everything is checked when it is loaded:
unknown tables, columns, references and cycles are errors naming the file and the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import ConfigError, suggest
from ..core.io import load_yaml
from ..core.months import check_month
from ..core.schema import ATTRIBUTE_NAME, TABLES
from .specs import Count, Difference, Ratio, Spec, Sum
from .stages import bilingual

TIERS = ("KGI", "KPI")
UNITS = ("count", "rate", "currency", "days")
FORMS = ("count", "sum", "ratio", "difference")
_PRESENTATION = (
    "label",
    "description",
    "tier",
    "unit",
    "higher_is_better",
    "targets",
    "trend",
    "tables",
    "pace",
)
# The KPI report's tables a team's count or sum may ask to be a column of (`tables:`).
KPI_TABLES = ("channels", "campaigns")
_KEYS = (*_PRESENTATION, *FORMS, "internal")
_TARGET_KEYS = ("default", "months", "quarters", "years")
# Fiscal periods are named by the calendar year they start in (the Japanese 年度 convention):
# with fiscal_year_start 4, FY2026 is 2026-04..2027-03 and FY2026-Q1 is 2026-04..06.
QUARTER_NAME = re.compile(r"^FY\d{4}-Q[1-4]$")
YEAR_NAME = re.compile(r"^FY\d{4}$")

# Catalogue table -> its default time column and the columns a definition may use. Every table
# also carries the lead's `product` and `lead_source` (opportunities: their own product).
SOURCES: dict[str, dict[str, Any]] = {
    "leads": {"time": "created_at", "times": ("created_at",)},
    "activities": {"time": "occurred_at", "times": ("occurred_at",)},
    "stage_changes": {"time": "changed_at", "times": ("changed_at",)},
    "opportunities": {"time": "created_at", "times": ("created_at", "closed_at")},
}
_EXTRA_COLUMNS = ("product", "lead_source")
# An opportunity row is a deal followed from creation to close, or a stage event (relations.py)
_OWN_EXTRA = {"opportunities": ("record",)}


def source_columns(table: str) -> list[str]:
    cols = [c.name for c in TABLES[table].columns]
    return cols + [c for c in (*_EXTRA_COLUMNS, *_OWN_EXTRA.get(table, ())) if c not in cols]


@dataclass(frozen=True)
class Kpi:
    """A catalogue entry: how a metric is computed, presented and judged."""

    name: str
    spec: Spec
    label_ja: str
    label_en: str
    tier: str = "KPI"
    unit: str = "count"
    higher_is_better: bool = True
    core: bool = False
    internal: bool = False
    trend: bool = False
    description_ja: str = ""
    description_en: str = ""
    default_targets: dict[str, float] = field(default_factory=dict)
    month_targets: dict[str, dict[str, float]] = field(default_factory=dict)
    tables: tuple[str, ...] = ()  # KPI_TABLES it is a column of
    # targets of whole fiscal periods: "FY2026-Q3" / "FY2026" -> product -> target
    quarter_targets: dict[str, dict[str, float]] = field(default_factory=dict)
    year_targets: dict[str, dict[str, float]] = field(default_factory=dict)
    pace: bool | None = None  # projected to the quarter's and year's end; None: if a KGI

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en

    def description(self, locale: str) -> str:
        return self.description_ja if locale == "ja" else self.description_en

    def target(self, month: str, product: str) -> float | None:
        per_month = self.month_targets.get(month, {})
        if product in per_month:
            return per_month[product]
        return self.default_targets.get(product)

    @property
    def is_rate(self) -> bool:
        return isinstance(self.spec, Ratio)

    @property
    def is_additive(self) -> bool:
        """Whether months add up to a quarter and a year: a count or a sum, never a ratio or
        a difference (a difference of sums adds up, but can fall: no pacing rule fits it)."""
        return isinstance(self.spec, Count | Sum)

    @property
    def paced(self) -> bool:
        """Whether the review projects it to the quarter's and the year's end: an additive
        KPI that is a KGI or says `pace: true`, and that has some target."""
        wanted = self.pace if self.pace is not None else self.tier == "KGI"
        has_target = bool(
            self.default_targets or self.month_targets or self.quarter_targets or self.year_targets
        )
        return self.is_additive and wanted and has_target


@dataclass
class Catalogue:
    """KPIs in report order (core first, in the contract's order, then the team's own)."""

    kpis: dict[str, Kpi]
    on_track: float = 1.0
    at_risk: float = 0.9
    small_sample: int = 30
    fiscal_year_start: int = 1  # the first month (1-12) of the fiscal year

    def __getitem__(self, name: str) -> Kpi:
        return self.kpis[name]

    def __contains__(self, name: object) -> bool:
        return name in self.kpis

    def __iter__(self):
        return iter(self.kpis.values())

    @property
    def public(self) -> list[str]:
        return [k.name for k in self.kpis.values() if not k.internal]

    @property
    def paced(self) -> list[str]:
        """The public KPIs projected to the quarter's and the year's end (`Kpi.paced`), the
        KGIs first: the review's question is the goal before its drivers."""
        paced = [k for k in self.kpis.values() if k.paced and not k.internal]
        return [k.name for k in sorted(paced, key=lambda k: k.tier != "KGI")]

    @property
    def specs(self) -> dict[str, Spec]:
        """Name -> spec in an order where every reference comes before its use."""
        return {name: self.kpis[name].spec for name in _dependency_order(self.kpis)}


# ---------------------------------------------------------------- parsing


def _where(raw: Any, table: str, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}.where: expected a mapping column -> value or list of values")
    out = []
    allowed = source_columns(table)
    for column, values in raw.items():
        # Another name may be an attribute of the dataset (checked when it is computed,
        # metrics.compute.check_columns), unless it looks like a misspelt column.
        hint = suggest(str(column), allowed)
        if column not in allowed and (hint or not ATTRIBUTE_NAME.fullmatch(str(column))):
            raise ConfigError(
                f"{where}.where: table '{table}' has no column '{column}'{hint}; an attribute "
                "of the dataset is written in lower case (a-z, 0-9, _)"
            )
        values = values if isinstance(values, list) else [values]
        if not values or any(isinstance(v, dict | list) or v is None for v in values):
            raise ConfigError(f"{where}.where.{column}: expected a value or a list of values")
        out.append((str(column), tuple(str(v) for v in values)))
    return tuple(out)


def _source(body: dict, where: str, form: str) -> tuple[str, str]:
    table = body.get("table")
    if table not in SOURCES:
        raise ConfigError(
            f"{where}.{form}.table: unknown table '{table}'{suggest(str(table), list(SOURCES))} "
            f"(tables: {', '.join(SOURCES)})"
        )
    time = body.get("time", SOURCES[table]["time"])
    if time not in SOURCES[table]["times"]:
        raise ConfigError(
            f"{where}.{form}.time: '{time}' is not a time column of {table} "
            f"(use {', '.join(SOURCES[table]['times'])})"
        )
    return table, time


def _spec(name: str, entry: dict, where: str) -> Spec:
    forms = [f for f in FORMS if f in entry]
    if len(forms) != 1:
        raise ConfigError(f"{where}: give exactly one of {', '.join(FORMS)} (found {len(forms)})")
    form = forms[0]
    body = entry[form]
    if not isinstance(body, dict):
        raise ConfigError(f"{where}.{form}: expected a mapping")
    known = {
        "count": ("table", "time", "where", "distinct"),
        "sum": ("table", "time", "column", "where"),
        "ratio": ("numerator", "denominator"),
        "difference": ("minuend", "subtrahend"),
    }[form]
    for key in body:
        if key not in known:
            raise ConfigError(
                f"{where}.{form}: unknown key '{key}'{suggest(str(key), list(known))}"
            )
    if form in ("count", "sum"):
        table, time = _source(body, where, form)
        filters = _where(body.get("where"), table, f"{where}.{form}")
        if form == "sum":
            column = body.get("column")
            numeric = [c.name for c in TABLES[table].columns if c.kind in ("number", "integer")]
            if column not in numeric:
                raise ConfigError(
                    f"{where}.sum.column: '{column}' is not a numeric column of {table} "
                    f"(use {', '.join(numeric) or 'none'})"
                )
            return Sum(table, time, column, filters)
        distinct = body.get("distinct") or []
        distinct = [distinct] if isinstance(distinct, str) else distinct
        for column in distinct:
            if column not in source_columns(table):
                raise ConfigError(
                    f"{where}.count.distinct: table '{table}' has no column '{column}'"
                    f"{suggest(str(column), source_columns(table))}"
                )
        return Count(table, time, filters, tuple(str(c) for c in distinct))
    a, b = known
    if not isinstance(body.get(a), str) or not isinstance(body.get(b), str):
        raise ConfigError(f"{where}.{form}: give {a} and {b} as names of other KPIs")
    return (Ratio if form == "ratio" else Difference)(body[a], body[b])


def _targets(raw: Any, where: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{where}: expected a mapping of product -> target, e.g. {{ALL: 250, A: 100}}"
        )
    out = {}
    for product, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}.{product}: target '{value}' is not a number")
        out[str(product)] = float(value)
    return out


def _default_unit(spec: Spec, name: str) -> str:
    if isinstance(spec, Ratio):
        return "rate"
    if isinstance(spec, Sum) and spec.column in ("amount", "cost"):
        return "currency"
    return "count"


def _entry(name: str, entry: Any, where: str, *, base: Kpi | None, core: bool) -> Kpi:
    if not isinstance(entry, dict):
        raise ConfigError(
            f"{where}: expected a mapping with {', '.join(_PRESENTATION)} and a definition"
        )
    for key in entry:
        if key not in _KEYS:
            raise ConfigError(f"{where}: unknown key '{key}'{suggest(str(key), list(_KEYS))}")
    defines = [f for f in FORMS if f in entry]
    if base is not None and defines:
        raise ConfigError(
            f"{where}: '{name}' is a core metric defined by the data contract and cannot be "
            "redefined; give your KPI another name"
        )
    if base is None and not defines:
        close = suggest(name, list(CORE_NAMES))
        raise ConfigError(
            f"{where}: '{name}' is not a core metric{close or ''}; a KPI of your own needs a "
            f"definition ({', '.join(FORMS)}), see params/README.md"
        )
    spec = base.spec if base is not None else _spec(name, entry, where)
    label_ja, label_en = bilingual(entry.get("label"), f"{where}.label")
    desc_ja, desc_en = bilingual(entry.get("description"), f"{where}.description")
    if base is not None:  # a language left out keeps the core wording
        label_ja, label_en = label_ja or base.label_ja, label_en or base.label_en
    else:  # a language left out borrows the other one
        label_ja, label_en = label_ja or label_en, label_en or label_ja
        desc_ja, desc_en = desc_ja or desc_en, desc_en or desc_ja
    tier = entry.get("tier", base.tier if base else "KPI")
    unit = entry.get("unit", base.unit if base else _default_unit(spec, name))
    if tier not in TIERS:
        raise ConfigError(f"{where}.tier: '{tier}' must be one of {', '.join(TIERS)}")
    if unit not in UNITS:
        raise ConfigError(f"{where}.unit: '{unit}' must be one of {', '.join(UNITS)}")
    targets = entry.get("targets", {}) or {}
    if not isinstance(targets, dict):
        raise ConfigError(
            f"{where}.targets: expected {{default: {{ALL: n}}, months: {{...}}}}, got {targets!r}"
        )
    for key in targets:
        if key not in _TARGET_KEYS:
            raise ConfigError(
                f"{where}.targets: unknown key '{key}'{suggest(str(key), list(_TARGET_KEYS))}"
                " (write targets: {default: {ALL: n, A: n}})"
            )
    raw_months = targets.get("months", {}) or {}
    if not isinstance(raw_months, dict):
        raise ConfigError(f"{where}.targets.months: expected a mapping of YYYY-MM -> targets")
    months = {}
    for month, per in raw_months.items():
        check_month(str(month), f"{where}.targets.months")
        months[str(month)] = _targets(per, f"{where}.targets.months.{month}")
    quarters = _period_targets(targets.get("quarters"), f"{where}.targets.quarters", QUARTER_NAME)
    years = _period_targets(targets.get("years"), f"{where}.targets.years", YEAR_NAME)
    pace = entry.get("pace", base.pace if base else None)
    if pace is not None and not isinstance(pace, bool):
        raise ConfigError(f"{where}.pace: '{pace}' is not true or false")
    if pace and not isinstance(spec, Count | Sum):
        raise ConfigError(
            f"{where}.pace: only a count or a sum can be paced (its months add up to the "
            "quarter and the year; a rate or a difference does not); remove pace: true"
        )
    return Kpi(
        name=name,
        spec=spec,
        label_ja=label_ja or name,
        label_en=label_en or name,
        tier=tier,
        unit=unit,
        higher_is_better=bool(
            entry.get("higher_is_better", base.higher_is_better if base else True)
        ),
        core=core,
        internal=bool(entry.get("internal", base.internal if base else False)),
        # a team's own KPI is drawn in the trend unless it says otherwise
        trend=bool(entry.get("trend", base.trend if base else not core)),
        description_ja=desc_ja or (base.description_ja if base else ""),
        description_en=desc_en or (base.description_en if base else ""),
        default_targets=_targets(targets.get("default"), f"{where}.targets.default")
        or (base.default_targets if base else {}),
        month_targets=months or (base.month_targets if base else {}),
        tables=_tables(entry.get("tables"), spec, where),
        quarter_targets=quarters or (base.quarter_targets if base else {}),
        year_targets=years or (base.year_targets if base else {}),
        pace=pace,
    )


def _period_targets(raw: Any, where: str, name: re.Pattern[str]) -> dict[str, dict[str, float]]:
    if raw is None:
        return {}
    example = '"FY2026-Q3"' if "Q" in name.pattern else '"FY2026"'
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping of {example} -> {{ALL: n, A: n}}")
    out = {}
    for period, per in raw.items():
        if not name.match(str(period)):
            raise ConfigError(
                f"{where}: '{period}' is not a fiscal period; write it as {example} (fiscal "
                "years are named by the calendar year they start in)"
            )
        out[str(period)] = _targets(per, f"{where}.{period}")
    return out


def _tables(raw: Any, spec: Spec, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    names = raw if isinstance(raw, list) else [raw]
    for name in names:
        if name not in KPI_TABLES:
            raise ConfigError(
                f"{where}.tables: '{name}' is not one of {', '.join(KPI_TABLES)}"
                f"{suggest(str(name), list(KPI_TABLES))}"
            )
    if not isinstance(spec, Count | Sum):
        raise ConfigError(
            f"{where}.tables: only a count or a sum can be a column of {', '.join(names)} "
            "(they add months up; a rate does not add up)"
        )
    return tuple(str(n) for n in names)


def _references(spec: Spec) -> tuple[str, ...]:
    if isinstance(spec, Ratio):
        return (spec.numerator, spec.denominator)
    if isinstance(spec, Difference):
        return (spec.minuend, spec.subtrahend)
    return ()


def _dependency_order(kpis: dict[str, Kpi], where: str = "catalogue") -> list[str]:
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            cycle = " -> ".join([*path[path.index(name) :], name])
            raise ConfigError(f"{where}: KPI definitions form a cycle: {cycle}")
        state[name] = "visiting"
        for ref in _references(kpis[name].spec):
            if ref not in kpis:
                raise ConfigError(
                    f"{where}: KPI '{name}' refers to unknown KPI '{ref}'{suggest(ref, list(kpis))}"
                )
            visit(ref, [*path, name])
        state[name] = "done"
        order.append(name)

    for name in kpis:
        visit(name, [])
    return order


def _core_names() -> list[str]:
    text = (
        resources.files("maops_utils.metrics")
        .joinpath("catalogue/core.yaml")
        .read_text(encoding="utf-8")
    )
    return list(yaml.safe_load(text))


CORE_NAMES: list[str] = _core_names()


def core_catalogue() -> dict[str, Kpi]:
    text = (
        resources.files("maops_utils.metrics")
        .joinpath("catalogue/core.yaml")
        .read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    return {
        name: _entry(name, entry, f"core.yaml: {name}", base=None, core=True)
        for name, entry in data.items()
    }


CORE: dict[str, Kpi] = core_catalogue()
# The contract's core metrics, in the contract's order.
CORE_METRICS: tuple[str, ...] = tuple(k.name for k in CORE.values() if not k.internal)
# Their definitions, in the order of core.yaml: what the metric functions compute by default.
CORE_SPECS: dict[str, Spec] = {name: kpi.spec for name, kpi in CORE.items()}


def load_catalogue(params_dir: Path) -> Catalogue:
    """Core metrics (with the team's labels and targets) followed by the team's own KPIs."""
    path = params_dir / "kpis.yaml"
    data = load_yaml(path) if path.is_file() else {}
    top = ["kpis", "status", "small_sample", "fiscal_year_start"]
    for key in data:
        if key not in top:
            raise ConfigError(f"{path}: unknown key '{key}'{suggest(str(key), top)}")
    entries = data.get("kpis", {}) or {}
    if not isinstance(entries, dict):
        raise ConfigError(f"{path}: 'kpis' must be a mapping of KPI name -> definition")
    kpis = dict(CORE)
    for name, entry in entries.items():
        name = str(name)
        where = f"{path}: kpis.{name}"
        if not name.isidentifier() or name.lower() != name:
            raise ConfigError(f"{where}: KPI names are lower_case_with_underscores")
        kpis[name] = _entry(
            name, entry if entry is not None else {}, where, base=CORE.get(name), core=name in CORE
        )
    _dependency_order(kpis, str(path))
    status = data.get("status", {}) or {}
    if not isinstance(status, dict) or set(status) - {"on_track", "at_risk"}:
        raise ConfigError(f"{path}: status: expected {{on_track: 1.0, at_risk: 0.9}}")
    on_track = float(status.get("on_track", 1.0))
    at_risk = float(status.get("at_risk", 0.9))
    if not 0 < at_risk <= on_track:
        raise ConfigError(
            f"{path}: status: need 0 < at_risk <= on_track (got {at_risk}, {on_track})"
        )
    small = data.get("small_sample", 30)
    if isinstance(small, bool) or not isinstance(small, int) or small < 0:
        raise ConfigError(f"{path}: small_sample must be a whole number of events, e.g. 30")
    start = data.get("fiscal_year_start", 1)
    if isinstance(start, bool) or not isinstance(start, int) or not 1 <= start <= 12:
        raise ConfigError(
            f"{path}: fiscal_year_start: '{start}' is not a month number; write the first month "
            "of the fiscal year as 1 to 12 (4 for a year from April)"
        )
    return Catalogue(kpis, on_track, at_risk, small, start)
