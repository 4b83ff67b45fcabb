"""The funnel's stages (lead, MQL, SQL, opportunity, won): their labels and definitions, the
cuts of the cohort and velocity views, and the pipeline's SLA and age buckets, from
`params/funnel.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, suggest
from ..core.io import load_yaml

STAGE_NAMES = ("lead", "mql", "sql", "opportunity", "won")
# The stages a lead waits in for sales' decision: the only ones an SLA can apply to.
WAITING_STAGES = ("mql", "sql")
DEFAULT_AGE_BUCKETS = (7, 14, 30, 60, 90)


@dataclass(frozen=True)
class Stage:
    name: str
    label_ja: str
    label_en: str
    definition_ja: str
    definition_en: str

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en

    def definition(self, locale: str) -> str:
        return self.definition_ja if locale == "ja" else self.definition_en


@dataclass(frozen=True)
class Funnel:
    """Stage definitions and the cuts of the cohort and velocity views (`params/funnel.yaml`)."""

    stages: tuple[Stage, ...]
    cohort_windows: tuple[int, ...] = (30, 60, 90)
    cohorts: int = 12
    velocity_months: int = 12
    # (stage, days) a lead may wait in the stage before sales decides; () when none is set
    sla: tuple[tuple[str, int], ...] = ()
    age_buckets: tuple[int, ...] = DEFAULT_AGE_BUCKETS

    def stage(self, name: str) -> Stage:
        return next(s for s in self.stages if s.name == name)

    def sla_days(self, stage: str) -> int | None:
        """The SLA of `stage` in days, or None when none is set for it."""
        return dict(self.sla).get(stage)


def bilingual(raw: Any, where: str) -> tuple[str, str]:
    """A `{ja: ..., en: ...}` text (or one string for both) as (ja, en); "" where not given."""
    if raw is None:
        return "", ""
    if isinstance(raw, str):
        return raw, raw
    if not isinstance(raw, dict) or set(raw) - {"ja", "en"}:
        raise ConfigError(f"{where}: expected {{ja: ..., en: ...}}, got {raw!r}")
    return str(raw.get("ja", "")), str(raw.get("en", ""))


def _either(ja: str, en: str, default: str) -> tuple[str, str]:
    return ja or en or default, en or ja or default


def default_funnel() -> Funnel:
    return _funnel({}, Path("funnel.yaml"))


def load_funnel(params_dir: Path) -> Funnel:
    """The funnel definitions (`params/funnel.yaml`); every part has a default."""
    path = params_dir / "funnel.yaml"
    return _funnel(load_yaml(path) if path.is_file() else {}, path)


def _funnel(data: dict, path: Path) -> Funnel:
    known = ("stages", "cohort_windows", "cohorts", "velocity_months", "sla", "age_buckets")
    for key in data:
        if key not in known:
            raise ConfigError(f"{path}: unknown key '{key}'{suggest(str(key), list(known))}")
    raw_stages = data.get("stages", {}) or {}
    if not isinstance(raw_stages, dict):
        raise ConfigError(f"{path}: stages must be a mapping of stage -> label and definition")
    for name in raw_stages:
        if name not in STAGE_NAMES:
            raise ConfigError(
                f"{path}: stages.{name}: unknown stage{suggest(str(name), list(STAGE_NAMES))}"
            )
    stages = []
    for name in STAGE_NAMES:
        entry = raw_stages.get(name, {}) or {}
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: stages.{name}: expected label and definition")
        label = _either(*bilingual(entry.get("label"), f"{path}: stages.{name}.label"), name)
        definition = _either(
            *bilingual(entry.get("definition"), f"{path}: stages.{name}.definition"), ""
        )
        stages.append(Stage(name, *label, *definition))
    windows = data.get("cohort_windows", [30, 60, 90])
    if (
        not isinstance(windows, list)
        or not windows
        or any(isinstance(w, bool) or not isinstance(w, int) or w <= 0 for w in windows)
    ):
        raise ConfigError(
            f"{path}: cohort_windows must be a list of whole numbers of days, e.g. [30, 60, 90]"
        )
    counts = {}
    for key in ("cohorts", "velocity_months"):
        value = data.get(key, 12)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 60:
            raise ConfigError(f"{path}: {key} must be a whole number of months from 1 to 60")
        counts[key] = value
    return Funnel(
        tuple(stages),
        tuple(sorted(set(windows))),
        counts["cohorts"],
        counts["velocity_months"],
        _sla(data.get("sla"), path),
        _age_buckets(data.get("age_buckets"), path),
    )


def _whole_days(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int) and value > 0


def _sla(raw: Any, path: Path) -> tuple[tuple[str, int], ...]:
    """`sla:` as (stage, days) in funnel order; () when absent (no SLA: nothing is late)."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: sla: expected a mapping stage -> days, got {raw!r}; write e.g. "
            "sla: {mql: 14, sql: 30}"
        )
    for stage, days in raw.items():
        if stage not in WAITING_STAGES:
            where = "is a funnel stage no lead waits in" if stage in STAGE_NAMES else "unknown"
            raise ConfigError(
                f"{path}: sla.{stage}: {where} (an SLA applies to "
                f"{', '.join(WAITING_STAGES)}){suggest(str(stage), list(WAITING_STAGES))}"
            )
        if not _whole_days(days):
            raise ConfigError(
                f"{path}: sla.{stage}: '{days}' is not a whole number of days above 0; "
                f"write e.g. sla: {{{stage}: 14}}"
            )
    return tuple((s, int(raw[s])) for s in WAITING_STAGES if s in raw)


def _age_buckets(raw: Any, path: Path) -> tuple[int, ...]:
    """`age_buckets:` the upper ends in days of every age bucket but the last (open-ended)."""
    if raw is None:
        return DEFAULT_AGE_BUCKETS
    if (
        not isinstance(raw, list)
        or not raw
        or not all(_whole_days(v) for v in raw)
        or any(a >= b for a, b in zip(raw, raw[1:], strict=False))
    ):
        raise ConfigError(
            f"{path}: age_buckets: {raw!r} must be increasing whole numbers of days above 0, "
            f"e.g. {list(DEFAULT_AGE_BUCKETS)}"
        )
    return tuple(int(v) for v in raw)
