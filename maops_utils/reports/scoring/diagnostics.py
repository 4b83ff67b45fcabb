"""Diagnostics of a scoring study that open the score's black box: the decision curve (what
handing over the leads at or above a threshold is worth against handing over all or none),
the factor table (how much each rule's activity or each attribute value lifts the success
rate, beside the points each model gives it) and the Brier score's decomposition (Murphy
1973: how well calibrated, how discriminating, how uncertain).

Rows judged: the backtest's when the study has one (`split == "test"`, probabilities fitted
on earlier months), else every closed judged row; the factor table reads every closed row
(it describes, it does not predict). Every function returns codes; names are the views'.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ...contract.dataset import Dataset
from ...core.errors import ConfigError
from ...core.i18n import t
from ...core.months import month_bounds
from ...core.schema import ALL
from ...core.stats import Z95
from ...metrics.labels import Labels
from . import evaluate, points, propose, thresholds
from .model import EMPTY, Proposal, ScoringConfig
from .study import ScoringStudy

# ---------------------------------------------------------------- rows judged


def judged_rows(study: ScoringStudy) -> tuple[str, pd.DataFrame]:
    """The rows the decision curve and the Brier decomposition judge, and which they are:
    ("backtest", the test months' rows with out-of-sample probabilities), ("out_of_fold", a
    snapshot's cross-validated rows) or ("closed", every closed row, in-sample, when there is
    no backtest)."""
    if len(study.backtest):
        return ("out_of_fold" if study.snapshot else "backtest"), study.backtest
    return "closed", study.closed


# ---------------------------------------------------------------- decision curve

DECISION_COLUMNS = [
    "rows", "model", "scale", "product", "strategy", "threshold", "n", "handed", "successes",
    "exchange_rate", "net_benefit", "net_benefit_per_100", "advantage_per_100", "current",
    "recommended",
]  # fmt: skip
# Probability thresholds of the probability-scale curve (Vickers & Elkin 2006).
PROBABILITY_GRID = tuple(round(0.01 * i, 2) for i in range(1, 100))


def exchange_rate(config: ScoringConfig) -> float:
    """How many failed hand-overs one success is worth giving up, w = C / (V - C), from
    `thresholds.sql_value` V and `mql_cost` C.

    `thresholds.threshold_table`'s net benefit charges the follow-up cost to every lead handed
    over, successes included (V x successes - C x handed): divided by (V - C) it is
    successes - w x failures, Vickers' net benefit in successes, with the indifference
    probability p_t = C / V. The same w therefore puts the curve's highest point where the
    net_benefit objective recommends its threshold.

    Raises:
        ConfigError: when V is not above C (no success would pay for its own follow-up).
    """
    th = config.thresholds
    if th.sql_value <= th.mql_cost:
        raise ConfigError(
            f"{config.path}: thresholds.sql_value is {th.sql_value:g} with mql_cost "
            f"{th.mql_cost:g}: a success must be worth more than the follow-up of one lead for "
            "handing leads over to pay at all; write a sql_value above mql_cost (e.g. "
            f"sql_value: {max(10 * th.mql_cost, 10):g})"
        )
    return th.mql_cost / (th.sql_value - th.mql_cost)


def net_benefit(
    successes: np.ndarray | pd.Series | float,
    handed: np.ndarray | pd.Series | float,
    n: float,
    w: np.ndarray | pd.Series | float,
) -> np.ndarray:
    """Vickers' net benefit per judged lead, TP/N - FP/N x w (FP: handed - successes); NaN
    for no lead."""
    tp = np.asarray(successes, dtype="float64")
    fp = np.asarray(handed, dtype="float64") - tp
    if not n:
        return np.full(np.shape(tp), np.nan)
    return tp / n - fp / n * np.asarray(w, dtype="float64")


@dataclass
class DecisionCurve:
    """The decision curves of a study.

    `table` has `DECISION_COLUMNS`: per `rows`, `model` (current | proposed), `scale`
    (score: the model's own points, w fixed by the settings; probability: p_t with
    w = p_t / (1 - p_t)), `product` (ALL and each product) and `strategy` (threshold: the
    leads at or above `threshold` at their first judged moment; all: every judged lead; none:
    nobody), the judged leads `n`, the leads `handed` over and their `successes`, the
    `exchange_rate` w, the `net_benefit` per lead and per 100 leads, and for a threshold its
    `advantage_per_100` over the better of all and none. `current` and `recommended` mark the
    current threshold and the study's recommendation (the recommendation of the proposed
    model is on the full fit's scale: marked only when the rows are not the backtest's).
    """

    rows: str
    months: list[str]
    exchange_rate: float
    table: pd.DataFrame
    current_threshold: float | None
    recommended: float | None


def _recommended(study: ScoringStudy, model: str, product: str) -> float | None:
    recs = study.recommendations
    hit = recs[(recs["model"] == model) & (recs["product"] == product)]
    if hit.empty or pd.isna(hit["recommended"].iloc[0]):
        return None
    return float(hit["recommended"].iloc[0])


def _curve(
    rows: pd.DataFrame, col: str, grid: list[float], config: ScoringConfig, scale: str, w: float
) -> pd.DataFrame:
    """One model's curve over `rows`: threshold rows, then all and none."""
    th = config.thresholds
    n = float(rows["lead_id"].nunique())
    table = thresholds.threshold_table(
        rows, col, grid, months=None, sql_value=th.sql_value, mql_cost=th.mql_cost
    )
    out = pd.DataFrame(
        {
            "strategy": "threshold",
            "threshold": table["threshold"],
            "handed": table["mqls"],
            "successes": table["successes"],
        }
    )
    if scale == "score":
        out["exchange_rate"] = w
        # the net benefit as `threshold_table` values it, in successes per lead
        out["net_benefit"] = (
            table["net_benefit"] / (th.sql_value - th.mql_cost) / n if n else np.nan
        )
    else:
        out["exchange_rate"] = out["threshold"] / (1 - out["threshold"])
        out["net_benefit"] = net_benefit(out["successes"], out["handed"], n, out["exchange_rate"])
    # every lead handed over at its first judged moment: the threshold of the lowest score
    low = rows[col].min()
    every = thresholds.threshold_table(
        rows, col, [float(low)] if pd.notna(low) else [], months=None
    )
    handed_all = int(every["mqls"].sum())
    successes_all = int(every["successes"].sum())
    if scale == "score":
        all_rows = pd.DataFrame({"threshold": [np.nan], "exchange_rate": [w]})
    else:
        all_rows = pd.DataFrame(
            {"threshold": out["threshold"], "exchange_rate": out["exchange_rate"]}
        )
    all_rows["strategy"] = "all"
    all_rows["handed"] = handed_all
    all_rows["successes"] = successes_all
    all_rows["net_benefit"] = net_benefit(successes_all, handed_all, n, all_rows["exchange_rate"])
    none = pd.DataFrame(
        {
            "strategy": ["none"],
            "threshold": [np.nan],
            "handed": [0],
            "successes": [0],
            "exchange_rate": [w if scale == "score" else np.nan],
            "net_benefit": [0.0 if n else np.nan],
        }
    )
    # the better of handing over all and none, at each threshold's exchange rate
    if scale == "score":
        best_default = np.fmax(all_rows["net_benefit"].iloc[0], 0.0)
    else:
        best_default = np.fmax(all_rows["net_benefit"].to_numpy(), 0.0)
    out["advantage_per_100"] = (out["net_benefit"] - best_default) * 100
    curve = pd.concat([out, all_rows, none], ignore_index=True)
    curve["n"] = int(n)
    curve["net_benefit_per_100"] = curve["net_benefit"] * 100
    return curve


def decision_curve(study: ScoringStudy) -> DecisionCurve:
    """The decision curves of both models on the rows `judged_rows` gives, for the whole
    business and each product: on each model's own score (w from the settings,
    `exchange_rate`) and on its probability (w = p_t / (1 - p_t), p_t from 0.01 to 0.99).

    Raises:
        ConfigError: `exchange_rate`'s.
    """
    config = study.config
    w = exchange_rate(config)
    which, rows = judged_rows(study)
    rows = rows[rows["y"].notna()]
    floor = study.threshold if study.judged_at == "mql" else None
    parts = []
    for model in ("current", "proposed"):
        score_col, p_col = f"score_{model}", f"p_{model}"
        at = study.threshold if model == "current" else None
        rec = _recommended(study, model, ALL)
        # the proposed model's recommended threshold is on the scale of its fit on every
        # closed row; the backtest's proposed scores come from the fit on earlier months
        if model == "proposed" and which != "closed":
            rec = None
        include = tuple(x for x in (at, rec) if x is not None)
        grid = thresholds.candidate_thresholds(
            rows[score_col], include=include, floor=floor if model == "current" else None
        )
        for product in [ALL, *study.products]:
            sub = rows if product == ALL else rows[rows["product"] == product]
            for scale, col, cands in (
                ("score", score_col, grid),
                ("probability", p_col, list(PROBABILITY_GRID)),
            ):
                c = _curve(sub, col, cands, config, scale, w)
                c["rows"], c["model"], c["scale"], c["product"] = which, model, scale, product
                on_scale = (scale == "score") & (c["strategy"] == "threshold")
                c["current"] = on_scale & _close(c["threshold"], at)
                c["recommended"] = on_scale & _close(c["threshold"], rec)
                parts.append(c)
    table = pd.concat(parts, ignore_index=True)[DECISION_COLUMNS]
    months = sorted(m for m in rows["month"].unique() if m) if "month" in rows else []
    return DecisionCurve(
        rows=which,
        months=months,
        exchange_rate=w,
        table=table,
        current_threshold=study.threshold,
        recommended=_recommended(study, "current", ALL),
    )


def _close(values: pd.Series, target: float | None) -> np.ndarray:
    if target is None:
        return np.zeros(len(values), dtype=bool)
    return np.isclose(values.to_numpy(dtype="float64"), target)


def decision_sentence(curve: DecisionCurve, locale: str = "ja") -> str:
    """The curve in one sentence: what handing over at the current threshold (and the
    recommended one) is worth per 100 judged leads against handing over all and none; "" when
    the current threshold is not on the score's scale."""
    part = curve.table
    part = part[
        (part["model"] == "current") & (part["scale"] == "score") & (part["product"] == ALL)
    ]
    if curve.current_threshold is None or part.empty:
        return ""
    nb_all = float(part.loc[part["strategy"] == "all", "net_benefit_per_100"].iloc[0])
    at = part[part["current"].astype(bool)]
    if at.empty:
        return ""
    now = float(at["net_benefit_per_100"].iloc[0])
    text = t(
        "dg_decision_sentence",
        locale,
        threshold=curve.current_threshold,
        nb=now,
        vs_all=now - nb_all,
        vs_none=now,
        n=int(part["n"].iloc[0]),
        rows=t(f"dg_rows_{curve.rows}", locale),
    )
    rec = part[part["recommended"].astype(bool)]
    if curve.recommended is not None and not rec.empty and not bool(rec["current"].iloc[0]):
        best = float(rec["net_benefit_per_100"].iloc[0])
        text += t("dg_decision_recommended", locale, threshold=curve.recommended, nb=best)
    return text


# ---------------------------------------------------------------- factors

FACTOR_COLUMNS = [
    "kind", "factor", "attribute", "value", "n", "n_with", "successes_with", "share_successes",
    "share_failures", "rate_with", "rate_without", "lift", "lift_ci_low", "lift_ci_high",
    "reliable", "points_current", "points_proposed",
]  # fmt: skip
# Each of the four counts behind a lift at least this: the log interval's normal
# approximation holds, and no lift rests on a handful of leads.
MIN_CELL = 5


def katz_interval(
    a: np.ndarray | float, n1: np.ndarray | float, c: np.ndarray | float, n0: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The risk ratio (a / n1) / (c / n0) with its 95% interval by the Katz log method:
    exp(log RR +- 1.96 sqrt(1/a - 1/n1 + 1/c - 1/n0)), which assumes independent rows and a
    normal log ratio. Returns (lift, low, high); the interval is NaN when a or c is 0, the
    lift NaN when a group is empty or has no success to compare with."""
    a, n1, c, n0 = (np.asarray(x, dtype="float64") for x in (a, n1, c, n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = np.where((n1 > 0) & (n0 > 0) & (c > 0), (a / n1) / (c / n0), np.nan)
        se = np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
        ok = (a > 0) & (c > 0) & np.isfinite(lift)
        low = np.where(ok, np.exp(np.log(lift) - Z95 * se), np.nan)
        high = np.where(ok, np.exp(np.log(lift) + Z95 * se), np.nan)
    return lift, low, high


def _profile_factors(study: ScoringStudy) -> tuple[list[str], Proposal]:
    """The profile attributes the factors read, and a proposal whose `profile_levels` gives
    their values: the proposal's attributes by its bands, a number only the current model
    reads by the current model's bands."""
    config = study.config
    proposal = config.proposal
    attributes = list(
        dict.fromkeys([*proposal.profile, *(r.attribute for r in study.current.profile)])
    )
    bands = dict(proposal.bands)
    for rule in study.current.profile:
        if rule.numeric and rule.attribute not in bands:
            bands[rule.attribute] = tuple(sorted(b.min for b in rule.bands))
    return attributes, replace(proposal, profile=tuple(attributes), bands=tuple(bands.items()))


def factor_presence(
    dataset: Dataset, study: ScoringStudy, rows: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which factor each judged row had at its moment: a boolean frame (rows of `rows`, one
    column per factor) and its description `kind, factor, attribute, value`.

    Profile factors: the lead's value of each attribute (numbers by the proposal's bands, or
    the current model's for an attribute only it reads). Activity factors: each rule of the
    current model that had counted at least one activity at the moment, within its look-back
    (`points.points_by_rule` with the model's rules, so a kept count of the study is read
    again, not recounted). A snapshot has no moment: profile factors only.
    """
    leads = dataset["leads"]
    attributes, proposal = _profile_factors(study)
    levels = propose.profile_levels(leads, proposal)
    at = points.lead_positions(leads, rows["lead_id"])
    cols: dict[str, np.ndarray] = {}
    info = []
    for attribute in attributes:
        values = levels[attribute].to_numpy(dtype=object)
        row_values = np.where(at >= 0, values[np.clip(at, 0, None)], EMPTY)
        for level in sorted({str(v) for v in row_values}, key=_level_order):
            key = f"{attribute}={level}"
            cols[key] = row_values == level
            info.append(("profile", key, attribute, level))
    model = study.current
    if model.activities and not study.snapshot:
        con = points.connect(dataset, month_bounds(study.month)[1])
        try:
            counted = points.points_by_rule(
                con,
                rows[["row_id", "lead_id", "at"]].reset_index(drop=True),
                model.activities,
                lookback_days=model.lookback_days,
                half_life_days=None,
                cap_period=model.cap_period,
                keeper=dataset.facts,
            )
        finally:
            con.close()
        for rule in model.activities:
            cols[rule.key] = counted[rule.key].to_numpy() != 0
            info.append(("activity", rule.key, rule.activity_type, rule.category or ""))
    presence = pd.DataFrame(cols, index=rows.index)
    return presence, pd.DataFrame(info, columns=["kind", "factor", "attribute", "value"])


def _level_order(level: str) -> tuple[int, float, str]:
    """Band levels in numeric order ("<50", "50+", "300+"), others by name, empty last."""
    if level == EMPTY:
        return (2, 0.0, "")
    text = level.lstrip("<").rstrip("+")
    try:
        return (0, float(text) - (0.5 if level.startswith("<") else 0), "")
    except ValueError:
        return (1, 0.0, level)


def _current_points(study: ScoringStudy, leads: pd.DataFrame, levels: pd.DataFrame, info) -> list:
    """The current model's points of each factor: an activity rule's own points; a profile
    value's, when every lead with it gets the same (NaN when the value spans several of the
    current model's bands)."""
    rules = {r.attribute: r for r in study.current.profile}
    acts = {r.key: r.points for r in study.current.activities}
    out = []
    for kind, key, attribute, value in info:
        if kind == "activity":
            out.append(float(acts[key]))
            continue
        rule = rules.get(attribute)
        if rule is None:
            out.append(0.0)
            continue
        mask = (levels[attribute] == value).to_numpy()
        pts = points.profile_points(leads[mask], [rule]).unique()
        out.append(float(pts[0]) if len(pts) == 1 else np.nan)
    return out


def factor_table(dataset: Dataset, study: ScoringStudy) -> pd.DataFrame:
    """Per factor (`factor_presence`) over every closed judged row: its `n_with` rows and
    their successes, its share among successes and among failures, the success rate with and
    without it, the `lift` (rate with / rate without) with its 95% Katz interval
    (`katz_interval`), `reliable` (each of the four counts at least `MIN_CELL`), and the points
    the current and the proposed model give it (NaN where a model has no such rule). Sorted
    by lift, highest first (no lift last).

    A lead judged at several moments (`judged_at: month_end`) counts once per moment: the
    interval, which assumes independent rows, is then too narrow.
    """
    rows = study.closed
    presence, info = factor_presence(dataset, study, rows)
    y = rows["y"].to_numpy(dtype="float64")
    has = presence.to_numpy(dtype=bool)
    n = len(y)
    events = y.sum()
    n_with = has.sum(axis=0).astype("float64")
    a = (has * y[:, None]).sum(axis=0)
    c = events - a
    n0 = n - n_with
    lift, low, high = katz_interval(a, n_with, c, n0)
    out = info.copy()
    out["n"] = n
    out["n_with"] = n_with.astype("int64")
    out["successes_with"] = a.astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_successes"] = a / events if events else np.nan
        out["share_failures"] = (n_with - a) / (n - events) if n - events else np.nan
        out["rate_with"] = np.where(n_with > 0, a / np.maximum(n_with, 1), np.nan)
        out["rate_without"] = np.where(n0 > 0, c / np.maximum(n0, 1), np.nan)
    out["lift"], out["lift_ci_low"], out["lift_ci_high"] = lift, low, high
    cells = np.vstack([a, n_with - a, c, n0 - c])
    out["reliable"] = (cells >= MIN_CELL).all(axis=0)
    leads = dataset["leads"]
    _, proposal = _profile_factors(study)
    levels = propose.profile_levels(leads, proposal)
    out["points_current"] = _current_points(study, leads, levels, info.itertuples(index=False))
    fitted = study.fit.points
    out["points_proposed"] = [
        float(fitted[k]) if k in fitted.index else np.nan for k in out["factor"]
    ]
    out = out.sort_values("lift", ascending=False, kind="stable", na_position="last")
    return out.reset_index(drop=True)[FACTOR_COLUMNS]


def factor_names(
    table: pd.DataFrame, labels: Labels | None = None, locale: str = "ja"
) -> list[str]:
    """Each factor of a factor table in words: an activity rule by `Labels.rule`, a profile
    value as "attribute: value" by `Labels.attribute` and `Labels.value`."""
    names = labels or Labels()
    out = []
    for kind, key, attribute, value in zip(
        table["kind"], table["factor"], table["attribute"], table["value"], strict=True
    ):
        if kind == "activity":
            out.append(names.rule(key, locale))
            continue
        # the product and the channel are named in their own sections of labels.yaml
        section = {"product": "products", "lead_source": "lead_sources"}.get(attribute)
        if value == EMPTY:
            shown = t("sc_empty_value", locale)
        elif section:
            shown = names.name(section, value, locale)
        else:
            shown = names.value(attribute, value, locale)
        out.append(
            t("dg_factor_value", locale, attribute=names.attribute(attribute, locale), value=shown)
        )
    return out


# ---------------------------------------------------------------- Brier decomposition

BRIER_COLUMNS = [
    "rows", "model", "product", "n", "events", "bins", "brier", "reliability", "resolution",
    "uncertainty", "within_bin", "reliable",
]  # fmt: skip
# Groups of equal size by predicted probability, those of the reliability diagram
# (`evaluate.reliability`), so that "reliability" is one thing in the report.
BRIER_BINS = 10


@dataclass(frozen=True)
class BrierParts:
    """Murphy's decomposition: brier = reliability - resolution + uncertainty + within_bin.

    `reliability`: sum over bins of n_k/N (mean forecast - observed rate)^2 (0: calibrated);
    `resolution`: sum of n_k/N (observed rate - overall rate)^2 (higher: the bins tell leads
    apart); `uncertainty`: overall rate x (1 - overall rate), the data's own; `within_bin`:
    what the binning leaves (the within-bin variance of the forecasts minus twice their
    within-bin covariance with the outcome), 0 when the forecasts are constant in each bin.
    """

    n: int
    events: int
    bins: int
    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin: float


def brier_parts(
    y: np.ndarray | pd.Series, p: np.ndarray | pd.Series, *, bins: int = BRIER_BINS
) -> BrierParts:
    """The Brier score of `p` and its decomposition over the groups of
    `evaluate.reliability` (`bins` groups of equal size by `p`, fewer for few rows); the parts
    add up to `evaluate.brier` exactly (the remainder is `within_bin`). NaN parts for no row."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    total = evaluate.brier(y, p)
    if len(y) == 0:
        nan = float("nan")
        return BrierParts(0, 0, 0, nan, nan, nan, nan, nan)
    groups = evaluate.reliability(y, p, bins=bins)
    weight = groups["n"].to_numpy(dtype="float64") / len(y)
    rate = float(y.mean())
    rel = float((weight * (groups["mean_p"] - groups["rate"]) ** 2).sum())
    res = float((weight * (groups["rate"] - rate) ** 2).sum())
    unc = rate * (1 - rate)
    return BrierParts(
        n=len(y),
        events=int(y.sum()),
        bins=len(groups),
        brier=total,
        reliability=rel,
        resolution=res,
        uncertainty=unc,
        within_bin=total - (rel - res + unc),
    )


def brier_table(study: ScoringStudy) -> pd.DataFrame:
    """The decomposition (`brier_parts`) of p_current and p_proposed on the rows
    `judged_rows` gives, for the whole business and each product with rows; `reliable` as
    the study's metrics say it (`evaluation.min_events` successes and failures)."""
    which, rows = judged_rows(study)
    rows = rows[rows["y"].notna()]
    min_events = study.config.evaluation.min_events
    out = []
    for model in ("current", "proposed"):
        for product in [ALL, *study.products]:
            sub = rows if product == ALL else rows[rows["product"] == product]
            if sub.empty:
                continue
            parts = brier_parts(sub["y"], sub[f"p_{model}"])
            out.append(
                {
                    "rows": which,
                    "model": model,
                    "product": product,
                    **parts.__dict__,
                    "reliable": bool(
                        parts.events >= min_events and parts.n - parts.events >= min_events
                    ),
                }
            )
    return pd.DataFrame(out, columns=BRIER_COLUMNS)


def brier_sentence(table: pd.DataFrame, model: str, locale: str = "ja") -> str:
    """One model's decomposition for the whole business in one sentence ("" without rows);
    a small sample is said to be one."""
    hit = table[(table["model"] == model) & (table["product"] == ALL)]
    if hit.empty:
        return ""
    r = hit.iloc[0]
    text = t(
        "dg_brier_sentence",
        locale,
        model=t(f"sc_{model}", locale),
        brier=r["brier"],
        reliability=r["reliability"],
        resolution=r["resolution"],
        uncertainty=r["uncertainty"],
        within=r["within_bin"],
        bins=int(r["bins"]),
        rows=t(f"dg_rows_{r['rows']}", locale),
    )
    if not bool(r["reliable"]):
        text += t("dg_brier_small", locale, n=int(r["n"]), events=int(r["events"]))
    return text


__all__ = [
    "BrierParts", "DecisionCurve", "brier_parts", "brier_sentence", "brier_table",
    "decision_curve", "decision_sentence", "exchange_rate", "factor_names", "factor_presence",
    "factor_table", "judged_rows", "katz_interval", "net_benefit",
]  # fmt: skip
