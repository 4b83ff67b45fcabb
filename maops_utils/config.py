"""Run settings and the KPI catalogue from `params/`, checked when they are loaded."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError
from .io import ENCODINGS, load_yaml
from .metrics import CORE_METRICS, METRICS

PACKAGE_DIR = Path(__file__).resolve().parent
LOCALES = ("ja", "en")
TIERS = ("KGI", "KPI")
UNITS = ("count", "rate", "currency")
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def project_root(start: Path | None = None) -> Path:
    """The project folder: the nearest parent holding `params/` and `pyproject.toml`."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    fallback = PACKAGE_DIR.parent
    if (fallback / "params").is_dir():
        return fallback
    raise ConfigError(
        "cannot find the maops project folder (a folder with params/ and pyproject.toml); "
        "run from inside the project or pass --params DIR"
    )


def suggest(name: str, known: list[str]) -> str:
    """ "; did you mean 'x'?" for the closest known name, or ""."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def check_month(value: str, where: str = "month") -> str:
    if not isinstance(value, str) or not MONTH_RE.match(value):
        raise ConfigError(f"{where}: '{value}' is not a month; write it as YYYY-MM, e.g. 2026-10")
    return value


@dataclass(frozen=True)
class RunSettings:
    """Resolved settings of one run (names are the same in YAML, CLI flags and notebooks)."""

    data_dir: Path
    out_dir: Path
    params_dir: Path
    month: str | None = None
    timezone: str = "Asia/Tokyo"
    locale: str = "ja"
    currency: str = "JPY"
    encoding: str = "auto"
    trend_months: int = 13
    show_code: bool = False
    notebooks: tuple[str, ...] = ("01_kpi_evaluation",)

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: (str(v) if isinstance(v, Path) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }


_SETTING_NAMES = [f.name for f in fields(RunSettings) if f.name != "params_dir"]


def _check_settings(s: RunSettings, source: str) -> RunSettings:
    if s.month is not None:
        check_month(s.month, f"{source}: month")
    if s.locale not in LOCALES:
        raise ConfigError(
            f"{source}: locale '{s.locale}' is not supported; use one of {', '.join(LOCALES)}"
        )
    if s.encoding not in ENCODINGS:
        raise ConfigError(
            f"{source}: encoding '{s.encoding}' is not supported; use one of {', '.join(ENCODINGS)}"
        )
    try:
        pd.Timestamp("2020-01-01").tz_localize(s.timezone)
    except Exception:
        raise ConfigError(
            f"{source}: timezone '{s.timezone}' is not a known time zone (e.g. Asia/Tokyo)"
        ) from None
    if not isinstance(s.trend_months, int) or not 1 <= s.trend_months <= 120:
        raise ConfigError(f"{source}: trend_months must be a whole number from 1 to 120")
    return s


def load_settings(
    params_dir: Path,
    overrides: dict[str, Any] | None = None,
    *,
    run_file: Path | None = None,
    root: Path | None = None,
) -> RunSettings:
    """Settings from `params/run.yaml`, then a run file, then `overrides` (CLI flags; None = unset).

    Relative paths are resolved against the project folder `root`.
    """
    root = root or params_dir.resolve().parent
    values: dict[str, Any] = {}
    sources = [(params_dir / "run.yaml", True), *([(run_file, True)] if run_file else [])]
    for path, must_exist in sources:
        if not path.is_file():
            if must_exist and path != params_dir / "run.yaml":
                raise ConfigError(f"run file '{path}' does not exist")
            continue
        data = load_yaml(path)
        for key, value in data.items():
            if key not in _SETTING_NAMES:
                raise ConfigError(
                    f"{path}: unknown setting '{key}'{suggest(str(key), _SETTING_NAMES)}"
                )
            if value is None and key != "month":
                continue  # `key:` left empty means "use the default"
            values[key] = value
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    for key in ("data_dir", "out_dir"):
        if key in values:
            p = Path(str(values[key]))
            values[key] = p if p.is_absolute() else root / p
    values.setdefault("data_dir", root / "data" / "sample")
    values.setdefault("out_dir", root / "reports")
    if "notebooks" in values:
        nbs = values["notebooks"]
        if isinstance(nbs, str):
            nbs = [n.strip() for n in nbs.split(",") if n.strip()]
        values["notebooks"] = tuple(str(n).removesuffix(".ipynb") for n in nbs)
    if "month" in values and values["month"] is not None:
        values["month"] = str(values["month"])
    try:
        settings = RunSettings(params_dir=params_dir, **values)
    except TypeError as exc:
        raise ConfigError(f"{params_dir / 'run.yaml'}: {exc}") from None
    return _check_settings(settings, str(run_file or params_dir / "run.yaml"))


def notebook_settings(params_dir: str | Path, **given: Any) -> RunSettings:
    """Settings for a notebook: its parameters where set ("" means "take params/run.yaml")."""
    params = Path(params_dir).resolve()
    overrides = {k: (None if v == "" else v) for k, v in given.items()}
    return load_settings(params, overrides, root=params.parent)


def parse_as_of(value: str, timezone: str) -> pd.Timestamp | None:
    """A run time given as text ("" = now), as naive local time in `timezone`."""
    if not value:
        return None
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise ConfigError(
            f"as_of: '{value}' is not a timestamp; write it as YYYY-MM-DD HH:MM"
        ) from None
    return ts.tz_convert(timezone).tz_localize(None) if ts.tzinfo else ts


# ---------------------------------------------------------------- KPI catalogue


@dataclass(frozen=True)
class Kpi:
    """A catalogue entry: how a metric is presented and what it is measured against."""

    name: str
    label_ja: str
    label_en: str
    tier: str = "KPI"
    unit: str = "count"
    higher_is_better: bool = True
    default_targets: dict[str, float] = field(default_factory=dict)
    month_targets: dict[str, dict[str, float]] = field(default_factory=dict)

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en

    def target(self, month: str, product: str) -> float | None:
        per_month = self.month_targets.get(month, {})
        if product in per_month:
            return per_month[product]
        return self.default_targets.get(product)


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


_KPI_KEYS = ("label", "tier", "unit", "higher_is_better", "targets")


def _default_unit(name: str) -> str:
    if METRICS[name].is_rate:
        return "rate"
    return "currency" if name == "revenue" else "count"


def load_catalogue(params_dir: Path) -> dict[str, Kpi]:
    """The KPI catalogue (`params/kpis.yaml`), in file order; core metrics missing from it get
    plain labels so every core metric can always be reported."""
    path = params_dir / "kpis.yaml"
    data = load_yaml(path) if path.is_file() else {}
    entries = data.get("kpis", {}) or {}
    if not isinstance(entries, dict):
        raise ConfigError(f"{path}: 'kpis' must be a mapping of KPI name -> definition")
    known = list(METRICS)
    out: dict[str, Kpi] = {}
    for name, entry in entries.items():
        where = f"{path}: kpis.{name}"
        if name not in METRICS:
            raise ConfigError(f"{where}: unknown metric '{name}'{suggest(name, known)}")
        entry = entry or {}
        for key in entry:
            if key not in _KPI_KEYS:
                raise ConfigError(f"{where}: unknown key '{key}'{suggest(key, list(_KPI_KEYS))}")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with {', '.join(_KPI_KEYS)}")
        label = entry.get("label", {}) or {}
        if not isinstance(label, dict):
            raise ConfigError(f"{where}.label: expected {{ja: ..., en: ...}}, got {label!r}")
        tier = entry.get("tier", "KPI")
        unit = entry.get("unit", _default_unit(name))
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
            if key not in ("default", "months"):
                raise ConfigError(
                    f"{where}.targets: unknown key '{key}'{suggest(str(key), ['default', 'months'])}"
                    " (write targets: {default: {ALL: n, A: n}})"
                )
        if not isinstance(targets.get("months", {}) or {}, dict):
            raise ConfigError(f"{where}.targets.months: expected a mapping of YYYY-MM -> targets")
        months = {}
        for month, per in (targets.get("months", {}) or {}).items():
            check_month(str(month), f"{where}.targets.months")
            months[str(month)] = _targets(per, f"{where}.targets.months.{month}")
        out[name] = Kpi(
            name=name,
            label_ja=str(label.get("ja", name)),
            label_en=str(label.get("en", name)),
            tier=tier,
            unit=unit,
            higher_is_better=bool(entry.get("higher_is_better", True)),
            default_targets=_targets(targets.get("default"), f"{where}.targets.default"),
            month_targets=months,
        )
    for name in CORE_METRICS:
        if name not in out:
            out[name] = Kpi(name, name, name, unit=_default_unit(name))
    return out
