"""Scoring models and the scoring configuration (`params/scoring.yaml`), checked on load.

A `ScoringModel` is what an MA admin types into the tool: points per profile attribute value,
points per activity (type and category) with an optional cap per period, a look-back window,
an optional decay half-life, the MQL threshold, and optionally an Eloqua-style rating grid
(profile letter A-D x engagement digit 1-4). The current model comes from the YAML; the
proposed one (`propose.py`) is a model of the same kind and is written back in the same form,
so that it can replace `current:` as it is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import ConfigError, suggest
from ...core.io import load_yaml
from ...core.schema import ACTIVITY_TYPES, TABLES

# An empty attribute value is "" inside maops and "(empty)" in YAML (the contract treats an
# empty cell as missing; PyYAML would write an empty key in the hard-to-read `? ''` form).
EMPTY = ""
EMPTY_YAML = "(empty)"
PERIODS = ("day", "week", "month")
JUDGEMENTS = ("month_end", "mql")
OUTCOMES = ("sql", "opportunity", "won")
OBJECTIVES = ("capacity", "precision", "net_benefit")
SOURCES = ("auto", "rules", "scores")
# Lead columns a profile rule may use (every column of the contract's leads table but the
# identifiers, the dates and personal data).
PROFILE_COLUMNS = tuple(
    c.name
    for c in TABLES["leads"].columns
    if c.name not in ("lead_id", "created_at", "contact_id", "company", "email")
)
NUMERIC_PROFILE = ("employees",)


@dataclass(frozen=True)
class Band:
    """Points for a numeric attribute at or above `min` (the highest matching band wins)."""

    min: float
    points: int


@dataclass(frozen=True)
class ProfileRule:
    """Points for one lead attribute: by value (`values`) or, for numbers, by band (`bands`,
    with `values` holding at most the points of an empty value, `""`).

    A value without points, and an empty value without a `""` entry, score 0.
    """

    attribute: str
    values: tuple[tuple[str, int], ...] = ()
    bands: tuple[Band, ...] = ()

    @property
    def numeric(self) -> bool:
        return bool(self.bands)


@dataclass(frozen=True)
class ActivityRule:
    """Points per activity of `activity_type` (and `category`, None = any category).

    `cap` limits the points (in absolute value) this rule adds per cap period.
    """

    activity_type: str
    points: int
    category: str | None = None
    cap: int | None = None

    @property
    def key(self) -> str:
        return f"{self.activity_type}:{self.category}" if self.category else self.activity_type


@dataclass(frozen=True)
class RatingGrid:
    """Eloqua-style rating: a letter from the profile points, a digit from the engagement points.

    Each band is (label, minimum points), best first; a lead gets the first band it reaches.
    """

    profile: tuple[tuple[str, float], ...]
    engagement: tuple[tuple[str, float], ...]

    @property
    def cells(self) -> list[str]:
        return [p + e for p, _ in self.profile for e, _ in self.engagement]


@dataclass(frozen=True)
class ScoringModel:
    """A points-based lead scoring model as configured in an MA tool."""

    profile: tuple[ProfileRule, ...] = ()
    activities: tuple[ActivityRule, ...] = ()
    mql_threshold: float = 60.0
    lookback_days: int | None = None
    half_life_days: float | None = None
    cap_period: str = "month"
    rating: RatingGrid | None = None

    def as_dict(self) -> dict[str, Any]:
        """The model in the YAML form of `params/scoring.yaml` (`current:`)."""
        profile: dict[str, Any] = {}
        for rule in self.profile:
            if rule.numeric:
                profile[rule.attribute] = [
                    {"min": _plain(b.min), "points": int(b.points)} for b in rule.bands
                ] + [{"empty": True, "points": int(p)} for v, p in rule.values if v == EMPTY and p]
            else:
                profile[rule.attribute] = {v or EMPTY_YAML: int(p) for v, p in rule.values}
        rules = []
        for r in self.activities:
            entry: dict[str, Any] = {"activity_type": r.activity_type}
            if r.category:
                entry["category"] = r.category
            entry["points"] = int(r.points)
            if r.cap is not None:
                entry["cap"] = int(r.cap)
            rules.append(entry)
        out: dict[str, Any] = {
            "mql_threshold": _plain(self.mql_threshold),
            "profile": profile,
            "engagement": {
                "lookback_days": self.lookback_days,
                "half_life_days": _plain(self.half_life_days),
                "cap_period": self.cap_period,
                "rules": rules,
            },
        }
        if self.rating is not None:
            out["rating"] = {
                "profile": {k: _plain(v) for k, v in self.rating.profile},
                "engagement": {k: _plain(v) for k, v in self.rating.engagement},
            }
        return out


def _plain(x: float | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if float(x).is_integer() else float(x)


@dataclass(frozen=True)
class Evaluation:
    """How the model is judged: when, against what outcome, over which months."""

    judged_at: str = "mql"
    outcome: str = "sql"
    window_days: int = 90
    months: int = 24
    test_months: int = 6
    # band edges; None: whole steps across the scores' own range (`evaluate.score_bands`)
    bands: tuple[float, ...] | None = None
    min_events: int = 200


@dataclass(frozen=True)
class Thresholds:
    """The objective a recommended MQL threshold serves."""

    objective: str = "capacity"
    capacity: float = 40.0
    product_capacity: tuple[tuple[str, float], ...] = ()
    target_precision: float = 0.3
    sql_value: float = 10.0
    mql_cost: float = 1.0
    min_mqls: int = 10
    months: int = 12


@dataclass(frozen=True)
class Proposal:
    """How the proposed model is fitted and turned into points."""

    profile: tuple[str, ...] = ("job_level", "employees", "lead_source", "product")
    bands: tuple[tuple[str, tuple[float, ...]], ...] = (("employees", (50, 300, 1000)),)
    ignore_activities: tuple[str, ...] = ("email_send", "email_bounce")
    per_period: int = 3
    lookback_days: int | None = 180
    half_life_days: float | None = None
    regularisation: float = 0.3
    points_to_double_odds: float = 10.0
    min_activities: int = 20
    seed: int = 0
    # negative activity points set to 0 and the rest refitted without them (docs/scoring.md)
    floor_at_zero: bool = False


@dataclass(frozen=True)
class Health:
    """How the score's health is followed month by month (`health:`, docs/scoring.md)."""

    months: int = 12
    # first and last reference month; None: the earliest `reference_months` months with scores
    reference: tuple[str, str] | None = None
    reference_months: int = 3
    psi_warn: float = 0.1
    psi_alert: float = 0.25
    auc_drop: float = 0.05
    max_leads: int = 50000
    bootstrap: int = 200


@dataclass(frozen=True)
class ScoringConfig:
    """Everything `params/scoring.yaml` says."""

    current: ScoringModel = field(default_factory=ScoringModel)
    evaluation: Evaluation = field(default_factory=Evaluation)
    thresholds: Thresholds = field(default_factory=Thresholds)
    proposal: Proposal = field(default_factory=Proposal)
    source: str = "auto"
    path: str = "scoring.yaml"
    health: Health = field(default_factory=Health)


# ---------------------------------------------------------------- parsing


def _keys(data: Any, known: tuple[str, ...], where: str) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with keys {', '.join(known)}")
    for key in data:
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}'{suggest(str(key), list(known))}")
    return data


def _number(value: Any, where: str, *, low: float | None = None, whole: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where}: '{value}' is not a number")
    if whole and not float(value).is_integer():
        raise ConfigError(f"{where}: '{value}' must be a whole number")
    if low is not None and value < low:
        raise ConfigError(f"{where}: {value} must be at least {low:g}")
    return float(value)


def _choice(value: Any, options: tuple[str, ...], where: str) -> str:
    if value not in options:
        raise ConfigError(
            f"{where}: '{value}' must be one of {', '.join(options)}{suggest(str(value), list(options))}"
        )
    return str(value)


def _optional_days(value: Any, where: str, *, whole: bool) -> float | None:
    if value is None:
        return None
    return _number(value, where, low=1, whole=whole)


def _profile(data: Any, where: str) -> tuple[ProfileRule, ...]:
    if data is None:
        return ()
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping attribute -> points")
    rules = []
    for attribute, spec in data.items():
        at = f"{where}.{attribute}"
        if attribute not in PROFILE_COLUMNS:
            raise ConfigError(
                f"{at}: '{attribute}' is not a lead attribute that can be scored"
                f"{suggest(str(attribute), list(PROFILE_COLUMNS))} (use one of {', '.join(PROFILE_COLUMNS)})"
            )
        if isinstance(spec, list):
            if attribute not in NUMERIC_PROFILE:
                raise ConfigError(
                    f"{at}: bands ({{min, points}}) work for numbers only ({', '.join(NUMERIC_PROFILE)}); give value: points"
                )
            bands, empty = [], []
            for i, band in enumerate(spec):
                b = _keys(band, ("min", "points", "empty"), f"{at}[{i}]")
                if "points" not in b or ("min" not in b) == (b.get("empty") is not True):
                    raise ConfigError(
                        f"{at}[{i}]: give min and points, e.g. {{min: 1000, points: 10}}, "
                        "or points for an empty value, {empty: true, points: 3}"
                    )
                pts = int(_number(b["points"], f"{at}[{i}].points", whole=True))
                if "min" in b:
                    bands.append(Band(_number(b["min"], f"{at}[{i}].min"), pts))
                else:
                    empty.append((EMPTY, pts))
            if not bands:
                raise ConfigError(f"{at}: give at least one band {{min, points}}")
            rules.append(
                ProfileRule(
                    attribute,
                    values=tuple(empty[-1:]),
                    bands=tuple(sorted(bands, key=lambda b: -b.min)),
                )
            )
        elif isinstance(spec, dict):
            values = tuple(
                (
                    EMPTY if v is None or str(v) in (EMPTY, EMPTY_YAML) else str(v),
                    int(_number(p, f"{at}.{v}", whole=True)),
                )
                for v, p in spec.items()
            )
            rules.append(ProfileRule(attribute, values=values))
        else:
            raise ConfigError(
                f"{at}: expected value: points (e.g. {{executive: 15}}) or a list of {{min, points}} bands"
            )
    return tuple(rules)


def _activity_rules(data: Any, where: str) -> tuple[ActivityRule, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise ConfigError(f"{where}: expected a list of {{activity_type, category, points, cap}}")
    rules, seen = [], set()
    for i, entry in enumerate(data):
        at = f"{where}[{i}]"
        e = _keys(entry, ("activity_type", "category", "points", "cap"), at)
        if "activity_type" not in e or "points" not in e:
            raise ConfigError(
                f"{at}: give activity_type and points, e.g. {{activity_type: email_open, points: 1}}"
            )
        typ = _choice(e["activity_type"], ACTIVITY_TYPES, f"{at}.activity_type")
        category = e.get("category")
        category = None if category in (None, "") else str(category)
        cap = e.get("cap")
        rule = ActivityRule(
            typ,
            int(_number(e["points"], f"{at}.points", whole=True)),
            category,
            None if cap is None else int(_number(cap, f"{at}.cap", low=0, whole=True)),
        )
        if rule.key in seen:
            raise ConfigError(
                f"{at}: a second rule for {rule.key}; keep one rule per activity type and category"
            )
        seen.add(rule.key)
        rules.append(rule)
    return tuple(rules)


def _bands(data: Any, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(data, dict) or not data:
        raise ConfigError(
            f"{where}: expected label: minimum points, e.g. {{A: 20, B: 12, C: 5, D: 0}}"
        )
    bands = tuple((str(k), _number(v, f"{where}.{k}")) for k, v in data.items())
    return tuple(sorted(bands, key=lambda b: -b[1]))


def parse_model(data: Any, where: str = "current") -> ScoringModel:
    """A `ScoringModel` from its YAML form (see `params/scoring.yaml`).

    Raises:
        ConfigError: naming the entry that is wrong.
    """
    d = _keys(data, ("mql_threshold", "profile", "engagement", "rating"), where)
    eng = _keys(
        d.get("engagement"),
        ("lookback_days", "half_life_days", "cap_period", "rules"),
        f"{where}.engagement",
    )
    rating = None
    if d.get("rating") is not None:
        r = _keys(d["rating"], ("profile", "engagement"), f"{where}.rating")
        rating = RatingGrid(
            _bands(r.get("profile"), f"{where}.rating.profile"),
            _bands(r.get("engagement"), f"{where}.rating.engagement"),
        )
    lookback = _optional_days(
        eng.get("lookback_days"), f"{where}.engagement.lookback_days", whole=True
    )
    return ScoringModel(
        profile=_profile(d.get("profile"), f"{where}.profile"),
        activities=_activity_rules(eng.get("rules"), f"{where}.engagement.rules"),
        mql_threshold=_number(d.get("mql_threshold", 60), f"{where}.mql_threshold"),
        lookback_days=None if lookback is None else int(lookback),
        half_life_days=_optional_days(
            eng.get("half_life_days"), f"{where}.engagement.half_life_days", whole=False
        ),
        cap_period=_choice(
            eng.get("cap_period", "month"), PERIODS, f"{where}.engagement.cap_period"
        ),
        rating=rating,
    )


def _evaluation(data: Any, where: str) -> Evaluation:
    known = ("judged_at", "outcome", "window_days", "months", "test_months", "bands", "min_events")
    d = _keys(data, known, where)
    default = Evaluation()
    bands = d.get("bands")
    edges = None
    if bands is not None:
        if not isinstance(bands, list) or len(bands) < 2:
            raise ConfigError(
                f"{where}.bands: expected at least two band edges, e.g. [0, 20, 40, 60, 80, 100]"
            )
        edges = tuple(_number(b, f"{where}.bands") for b in bands)
        if list(edges) != sorted(set(edges)):
            raise ConfigError(f"{where}.bands: band edges must increase, e.g. [0, 20, 40, 60]")
    months = int(_number(d.get("months", default.months), f"{where}.months", low=2, whole=True))
    test = int(
        _number(
            d.get("test_months", default.test_months), f"{where}.test_months", low=1, whole=True
        )
    )
    if test >= months:
        raise ConfigError(
            f"{where}.test_months: {test} leaves no month to fit on; use fewer than months ({months})"
        )
    return Evaluation(
        judged_at=_choice(d.get("judged_at", default.judged_at), JUDGEMENTS, f"{where}.judged_at"),
        outcome=_choice(d.get("outcome", default.outcome), OUTCOMES, f"{where}.outcome"),
        window_days=int(
            _number(
                d.get("window_days", default.window_days), f"{where}.window_days", low=1, whole=True
            )
        ),
        months=months,
        test_months=test,
        bands=edges,
        min_events=int(
            _number(
                d.get("min_events", default.min_events), f"{where}.min_events", low=1, whole=True
            )
        ),
    )


def _thresholds(data: Any, where: str) -> Thresholds:
    known = (
        "objective", "capacity", "target_precision", "sql_value", "mql_cost", "min_mqls", "months",
    )  # fmt: skip
    d = _keys(data, known, where)
    default = Thresholds()
    capacity = d.get("capacity", default.capacity)
    per_product: tuple[tuple[str, float], ...] = ()
    if isinstance(capacity, dict):
        if "ALL" not in capacity:
            raise ConfigError(
                f"{where}.capacity: give the whole team's capacity as ALL, e.g. {{ALL: 40, C: 10}}"
            )
        per_product = tuple(
            (str(k), _number(v, f"{where}.capacity.{k}", low=0))
            for k, v in capacity.items()
            if k != "ALL"
        )
        capacity = capacity["ALL"]
    precision = _number(
        d.get("target_precision", default.target_precision), f"{where}.target_precision"
    )
    if not 0 < precision < 1:
        raise ConfigError(
            f"{where}.target_precision: {precision} must be a share between 0 and 1, e.g. 0.3"
        )
    return Thresholds(
        objective=_choice(d.get("objective", default.objective), OBJECTIVES, f"{where}.objective"),
        capacity=_number(capacity, f"{where}.capacity", low=0),
        product_capacity=per_product,
        target_precision=precision,
        sql_value=_number(d.get("sql_value", default.sql_value), f"{where}.sql_value", low=0),
        mql_cost=_number(d.get("mql_cost", default.mql_cost), f"{where}.mql_cost", low=0),
        min_mqls=int(
            _number(d.get("min_mqls", default.min_mqls), f"{where}.min_mqls", low=1, whole=True)
        ),
        months=int(_number(d.get("months", default.months), f"{where}.months", low=1, whole=True)),
    )


def _proposal(data: Any, where: str) -> Proposal:
    known = (
        "profile", "bands", "ignore_activities", "per_period", "lookback_days", "half_life_days",
        "regularisation", "points_to_double_odds", "min_activities", "seed", "floor_at_zero",
    )  # fmt: skip
    d = _keys(data, known, where)
    default = Proposal()
    profile = d.get("profile", list(default.profile))
    if not isinstance(profile, list):
        raise ConfigError(
            f"{where}.profile: expected a list of lead attributes, e.g. [job_level, employees]"
        )
    for name in profile:
        if name not in PROFILE_COLUMNS:
            raise ConfigError(
                f"{where}.profile: '{name}' is not a lead attribute{suggest(str(name), list(PROFILE_COLUMNS))} "
                f"(use any of {', '.join(PROFILE_COLUMNS)})"
            )
    raw_bands = d.get("bands", {k: list(v) for k, v in default.bands})
    raw_bands = _keys(raw_bands, NUMERIC_PROFILE, f"{where}.bands")
    bands = []
    for name, edges in raw_bands.items():
        if not isinstance(edges, list) or not edges:
            raise ConfigError(
                f"{where}.bands.{name}: expected a list of band minimums, e.g. [50, 300, 1000]"
            )
        bands.append((name, tuple(sorted(_number(e, f"{where}.bands.{name}") for e in edges))))
    for name in profile:
        if name in NUMERIC_PROFILE and name not in dict(bands):
            raise ConfigError(
                f"{where}.bands: '{name}' is a number; give its bands, e.g. {name}: [50, 300, 1000]"
            )
    ignore = d.get("ignore_activities", list(default.ignore_activities))
    if not isinstance(ignore, list):
        raise ConfigError(f"{where}.ignore_activities: expected a list of activity types")
    for name in ignore:
        _choice(name, ACTIVITY_TYPES, f"{where}.ignore_activities")
    lookback = _optional_days(
        d.get("lookback_days", default.lookback_days), f"{where}.lookback_days", whole=True
    )
    floor = d.get("floor_at_zero", default.floor_at_zero)
    if not isinstance(floor, bool):
        raise ConfigError(
            f"{where}.floor_at_zero: '{floor}' must be true (negative points become 0) or "
            "false (the fitted points are kept, negative ones explained)"
        )
    return Proposal(
        profile=tuple(profile),
        bands=tuple(bands),
        ignore_activities=tuple(ignore),
        per_period=int(
            _number(
                d.get("per_period", default.per_period), f"{where}.per_period", low=1, whole=True
            )
        ),
        lookback_days=None if lookback is None else int(lookback),
        half_life_days=_optional_days(
            d.get("half_life_days", default.half_life_days), f"{where}.half_life_days", whole=False
        ),
        regularisation=_number(
            d.get("regularisation", default.regularisation), f"{where}.regularisation", low=1e-6
        ),
        points_to_double_odds=_number(
            d.get("points_to_double_odds", default.points_to_double_odds),
            f"{where}.points_to_double_odds",
            low=1,
        ),
        min_activities=int(
            _number(
                d.get("min_activities", default.min_activities),
                f"{where}.min_activities",
                low=0,
                whole=True,
            )
        ),
        seed=int(_number(d.get("seed", default.seed), f"{where}.seed", low=0, whole=True)),
        floor_at_zero=floor,
    )


MAX_HEALTH_MONTHS = 60  # five years: the months a lead acted in fit one 64-bit integer
MONTH_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _health(data: Any, where: str) -> Health:
    known = (
        "months", "reference", "reference_months", "psi_warn", "psi_alert", "auc_drop",
        "max_leads", "bootstrap",
    )  # fmt: skip
    d = _keys(data, known, where)
    default = Health()

    def whole(key: str, low: int) -> int:
        return int(
            _number(d.get(key, getattr(default, key)), f"{where}.{key}", low=low, whole=True)
        )

    months = whole("months", 2)
    if months > MAX_HEALTH_MONTHS:
        raise ConfigError(
            f"{where}.months: {months} is more than the {MAX_HEALTH_MONTHS} months the health "
            "follows; give at most 60, e.g. 12 or 24"
        )
    ref_months = whole("reference_months", 1)
    if ref_months >= months:
        raise ConfigError(
            f"{where}.reference_months: {ref_months} leaves no month to follow after the "
            f"reference; use fewer than months ({months}), e.g. 3"
        )
    reference = d.get("reference")
    if reference is not None:
        good = (
            isinstance(reference, list)
            and len(reference) == 2
            and all(MONTH_TEXT.fullmatch(str(m)) for m in reference)
        )
        if not good or str(reference[0]) > str(reference[1]):
            raise ConfigError(
                f"{where}.reference: '{reference}' is not a period; write the first and the "
                'last month, e.g. ["2026-01", "2026-03"], or null for the earliest '
                "reference_months months"
            )
        reference = (str(reference[0]), str(reference[1]))
    warn = _number(d.get("psi_warn", default.psi_warn), f"{where}.psi_warn", low=0)
    alert = _number(d.get("psi_alert", default.psi_alert), f"{where}.psi_alert", low=0)
    if not 0 < warn < alert:
        raise ConfigError(
            f"{where}.psi_warn: {warn:g} must be above 0 and below psi_alert ({alert:g}), "
            "e.g. psi_warn: 0.1 with psi_alert: 0.25"
        )
    drop = _number(d.get("auc_drop", default.auc_drop), f"{where}.auc_drop", low=0)
    if drop >= 0.5:
        raise ConfigError(
            f"{where}.auc_drop: {drop:g} is more than an AUC can fall from any useful level; "
            "give a drop of the AUC below 0.5, e.g. 0.05"
        )
    return Health(
        months=months,
        reference=reference,
        reference_months=ref_months,
        psi_warn=warn,
        psi_alert=alert,
        auc_drop=drop,
        max_leads=whole("max_leads", 100),
        bootstrap=whole("bootstrap", 20),
    )


def parse_config(data: dict, path: str = "scoring.yaml") -> ScoringConfig:
    """A `ScoringConfig` from the mapping in `params/scoring.yaml`; every part has a default
    except the current model, which must be given."""
    d = _keys(data, ("source", "current", "evaluation", "thresholds", "proposed", "health"), path)
    if d.get("current") is None:
        raise ConfigError(
            f"{path}: current: is missing; describe the MA tool's scoring model there"
        )
    return ScoringConfig(
        current=parse_model(d["current"], f"{path}: current"),
        evaluation=_evaluation(d.get("evaluation"), f"{path}: evaluation"),
        thresholds=_thresholds(d.get("thresholds"), f"{path}: thresholds"),
        proposal=_proposal(d.get("proposed"), f"{path}: proposed"),
        source=_choice(d.get("source", "auto"), SOURCES, f"{path}: source"),
        path=path,
        health=_health(d.get("health"), f"{path}: health"),
    )


def load_config(params_dir: str | Path) -> ScoringConfig:
    """The scoring configuration in `params_dir/scoring.yaml`."""
    path = Path(params_dir) / "scoring.yaml"
    return parse_config(load_yaml(path), str(path))
