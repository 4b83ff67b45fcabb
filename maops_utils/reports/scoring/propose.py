"""The proposed model: a regularised logistic regression on the kinds of features an MA tool
can score, translated back into whole points an MA admin can type in.

Features, each taken at the moment the lead is judged (never later):

- one indicator per value of each profile attribute in `proposed.profile` (numbers by the
  bands in `proposed.bands`; an empty value is a value of its own);
- per activity kind (activity type, and category for page views and forms) the number of
  such activities in the look-back window, at most `per_period` per cap period, decayed like
  the scores (`proposed.lookback_days`, `half_life_days`); kinds seen fewer than
  `min_activities` times, and the types in `ignore_activities`, are left out.

Translation to points: a coefficient b (change in log-odds) becomes round(b x PDO / ln 2)
points, PDO being `points_to_double_odds`. Within each profile attribute the points are
shifted so that the lowest value scores 0 (profile points are never negative); activity
points keep their sign, and a rule's cap is its points x `per_period` per cap period, so the
integer model adds exactly the points the features count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from ...backends import relations
from ...contract.dataset import Dataset
from .model import EMPTY, ActivityRule, Band, ProfileRule, Proposal, ScoringModel
from .points import lead_positions, points_by_rule, profile_points

# Activity types whose category names what was viewed or sent (contract: activities.category).
CATEGORISED = ("page_view", "form_submit")


@dataclass(frozen=True)
class FeatureSpec:
    """The columns of the feature matrix: profile indicators and activity kinds."""

    profile: tuple[tuple[str, str], ...]  # (attribute, level) per indicator column
    activities: tuple[ActivityRule, ...]  # one rule per activity kind, points 1, cap per_period

    @property
    def columns(self) -> list[str]:
        return [f"{a}={v}" for a, v in self.profile] + [r.key for r in self.activities]


def _band_levels(edges: tuple[float, ...]) -> list[str]:
    return [f"<{edges[0]:g}"] + [f"{e:g}+" for e in edges]


def profile_levels(leads: pd.DataFrame, proposal: Proposal) -> pd.DataFrame:
    """Each lead's level of every profile attribute of the proposal (a string; "" = empty)."""
    bands = dict(proposal.bands)
    out = pd.DataFrame(index=leads.index)
    for attribute in proposal.profile:
        col = leads[attribute] if attribute in leads.columns else pd.Series(None, index=leads.index)
        if attribute in bands:
            edges = bands[attribute]
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64")
            idx = np.searchsorted(
                np.asarray(edges), np.nan_to_num(values, nan=-np.inf), side="right"
            )
            level = np.asarray(_band_levels(edges), dtype=object)[idx]
            out[attribute] = np.where(np.isnan(values), EMPTY, level)
        else:
            # Arrow-backed text: no Python object per lead (1 M leads: 1.5 s less)
            out[attribute] = col.astype("string").fillna(EMPTY).str.strip()
    return out


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def activity_kinds(
    dataset: Dataset, proposal: Proposal, con: duckdb.DuckDBPyConnection | None = None
) -> pd.DataFrame:
    """How many activities of each kind the dataset holds (every activity, read in SQL):
    rows `activity_type, category, n`; the category is empty but for page views and forms,
    and the types in `ignore_activities` are left out."""
    own = con is None
    con = con or relations.connect(dataset)
    try:
        ignore = ", ".join(_literal(t) for t in proposal.ignore_activities)
        where = f"WHERE NOT COALESCE(activity_type IN ({ignore}), false)" if ignore else ""
        categorised = ", ".join(_literal(t) for t in CATEGORISED)
        kinds = con.execute(
            "SELECT activity_type, category, COUNT(*) AS n FROM ("
            "SELECT activity_type, CASE WHEN COALESCE(activity_type IN "
            f"({categorised}), false) THEN category END AS category "
            f"FROM activities_input {where}) AS a GROUP BY activity_type, category"
        ).df()
    finally:
        if own:
            con.close()
    return kinds.astype({"activity_type": object, "category": object, "n": "int64"})


def feature_spec(
    dataset: Dataset, proposal: Proposal, con: duckdb.DuckDBPyConnection | None = None
) -> FeatureSpec:
    """The profile levels and activity kinds the proposal can give points to (`con`: a
    connection from `relations.connect` or `points.connect` to reuse)."""
    levels = profile_levels(dataset["leads"], proposal)
    bands = dict(proposal.bands)
    profile = []
    for attribute in proposal.profile:
        seen = {str(v) for v in levels[attribute].unique()}
        if attribute in bands:
            order = [lv for lv in _band_levels(bands[attribute]) if lv in seen]
            order += [EMPTY] if EMPTY in seen else []
        else:
            order = sorted(seen)
        profile += [(attribute, lv) for lv in order]
    kinds = activity_kinds(dataset, proposal, con)
    kinds = kinds[kinds["n"] >= proposal.min_activities]
    # a page view or form without a category would become a rule for every category
    kinds = kinds[~(kinds["activity_type"].isin(CATEGORISED) & kinds["category"].isna())]
    kinds = kinds.sort_values(["activity_type", "category"], na_position="first")
    rules = tuple(
        ActivityRule(t, 1, None if pd.isna(c) else str(c), proposal.per_period)
        for t, c in zip(kinds["activity_type"], kinds["category"], strict=True)
    )
    return FeatureSpec(tuple(profile), rules)


def feature_matrix(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    moments: pd.DataFrame,
    spec: FeatureSpec,
    proposal: Proposal,
    cap_period: str = "month",
) -> pd.DataFrame:
    """The features of each judged moment (rows of `moments`, in order; columns `spec.columns`).

    Args:
        con: from `points.connect(dataset, cutoff)`.
        dataset: the validated dataset.
        moments: rows `row_id, lead_id, at`.
        spec: from `feature_spec`.
        proposal: look-back, decay and cap settings.
        cap_period: the period `per_period` applies to.
    """
    leads = dataset["leads"]
    levels = profile_levels(leads, proposal)
    m = moments.reset_index(drop=True)
    at = lead_positions(leads, m["lead_id"])
    out = {}
    for attribute, level in spec.profile:
        has = (levels[attribute] == level).to_numpy(dtype="float64")
        out[f"{attribute}={level}"] = np.where(at >= 0, has[at], 0.0)
    X = pd.DataFrame(out, index=m.index)
    counts = points_by_rule(
        con,
        m,
        spec.activities,
        lookback_days=proposal.lookback_days,
        half_life_days=proposal.half_life_days,
        cap_period=cap_period,
        keeper=dataset.facts,
    )
    counts.index = m.index
    return pd.concat([X, counts], axis=1)[spec.columns]


@dataclass(frozen=True)
class Fit:
    """A fitted proposal: the logistic regression and its translation into points.

    `coefficients`, `std_errors` and `signals` describe the fit without a floor, which the
    explanations of negative points quote; `points` and `model` are the proposal, floored when
    `proposed.floor_at_zero` is set; `unfloored` and `floored_points` hold both choices, and
    `floored` the rules the floor sets to 0, so the report can say what either choice costs.
    """

    coefficients: pd.Series  # log-odds per feature column
    intercept: float
    model: ScoringModel  # the integer points (mql_threshold not yet chosen)
    points: pd.Series  # integer points per feature column (after the profile shift)
    base_points: float  # the score at which the odds are exp(intercept) before rounding
    std_errors: pd.Series | None = None  # of `coefficients` (the penalised fit's curvature)
    unfloored: pd.Series | None = None  # the points without the floor
    floored_points: pd.Series | None = None  # the points with the floor
    floored: tuple[str, ...] = ()  # activity rules the floor sets to 0
    floor_applied: bool = False
    signals: pd.DataFrame | None = None  # per activity rule: `activity_signals`


def _logistic(
    X: pd.DataFrame, y: np.ndarray, proposal: Proposal
) -> tuple[pd.Series, float, np.ndarray]:
    """Coefficients, intercept and fitted probabilities of the L2-regularised regression."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=proposal.regularisation, max_iter=2000, random_state=proposal.seed)
    values = X.to_numpy(dtype="float64")
    lr.fit(values, y)
    return (
        pd.Series(lr.coef_[0], index=X.columns),
        float(lr.intercept_[0]),
        lr.predict_proba(values)[:, 1],
    )


def std_errors(X: pd.DataFrame, p: np.ndarray, regularisation: float) -> pd.Series:
    """Standard errors of the penalised coefficients (Laplace approximation): scikit-learn's
    penalty with strength C is a normal prior of variance C on each coefficient (the
    intercept unpenalised), so the covariance is the inverse of X'WX + I/C at the fit."""
    Z = np.column_stack([X.to_numpy(dtype="float64"), np.ones(len(X))])
    w = p * (1 - p)
    hessian = (Z.T * w) @ Z
    k = X.shape[1]
    hessian[np.arange(k), np.arange(k)] += 1.0 / regularisation
    cov = np.linalg.pinv(hessian)
    return pd.Series(np.sqrt(np.clip(np.diag(cov)[:-1], 0, None)), index=X.columns)


def activity_signals(
    X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, positive: list[str]
) -> pd.DataFrame:
    """How each activity rule shows up among the fitted rows: `n_with` (rows with at least
    one such activity) and `share_with` (their share of the rows), `rate_with` and `rate_without` (their success rates), `with_positive`
    (the share of them that also have an activity of another rule in `positive`), and one
    column per rule key: the share of the rows with the row's rule that also have the
    column's."""
    keys = [r.key for r in spec.activities]
    has = X[keys].to_numpy(dtype="float64") > 0
    n_with = has.sum(axis=0)
    both = has.T.astype("float64") @ has.astype("float64")
    share = np.divide(both, n_with[:, None], out=np.zeros_like(both), where=n_with[:, None] > 0)
    success = np.asarray(y, dtype="float64")
    hits = has.T.astype("float64") @ success
    n_without = len(success) - n_with
    with_positive = []
    for i, key in enumerate(keys):
        others = [j for j, k in enumerate(keys) if k in positive and k != key]
        also = has[has[:, i]][:, others].any(axis=1) if others else np.zeros(0, dtype=bool)
        with_positive.append(float(also.mean()) if n_with[i] and others else 0.0)
    out = pd.DataFrame(share, index=keys, columns=keys)
    out.insert(0, "n_with", n_with.astype("int64"))
    out.insert(1, "rate_with", np.where(n_with > 0, hits / np.maximum(n_with, 1), np.nan))
    out.insert(
        2,
        "rate_without",
        np.where(n_without > 0, (success.sum() - hits) / np.maximum(n_without, 1), np.nan),
    )
    out.insert(3, "with_positive", with_positive)
    out.insert(1, "share_with", n_with / max(len(success), 1))
    return out


# The 95% two-sided normal quantile.
Z95 = 1.959963984540054
NEGATIVE_COLUMNS = [
    "rule", "points", "low", "high", "includes_zero", "n_with", "share_with", "rate_with",
    "rate_without", "with_positive", "others",
]  # fmt: skip


def negative_points(fit: Fit, proposal: Proposal, *, most: int = 2) -> pd.DataFrame:
    """The activity rules the fit gives negative points (before any floor), with what the
    model knows of them: `points`, their 95% interval `low`, `high` in points (coefficient
    +- 1.96 standard errors on the point scale) and whether it `includes_zero`; `n_with` and
    `share_with`, the fitted rows with such an activity; their success rate and that of the
    others; `with_positive`, the share of them that also had an activity of a positive rule,
    and `others`: up to `most` of those rules, the most frequent alongside first."""
    points = fit.unfloored if fit.unfloored is not None else fit.points
    signals = fit.signals
    if signals is None or fit.std_errors is None:
        return pd.DataFrame(columns=NEGATIVE_COLUMNS)
    scale = proposal.points_to_double_odds / math.log(2)
    keys = [k for k in signals.index if points[k] < 0]
    positive = [k for k in signals.index if points[k] > 0]
    rows = []
    for key in keys:
        coef, se = float(fit.coefficients[key]), float(fit.std_errors[key])
        low, high = (coef - Z95 * se) * scale, (coef + Z95 * se) * scale
        alongside = signals.loc[key, positive].astype("float64") if positive else pd.Series()
        alongside = alongside[alongside > 0].sort_values(ascending=False, kind="stable")
        rows.append(
            {
                "rule": key,
                "points": int(points[key]),
                "low": low,
                "high": high,
                "includes_zero": bool(low <= 0 <= high),
                "n_with": int(signals.at[key, "n_with"]),
                "share_with": float(signals.at[key, "share_with"]),
                "rate_with": float(signals.at[key, "rate_with"]),
                "rate_without": float(signals.at[key, "rate_without"]),
                "with_positive": float(signals.at[key, "with_positive"]),
                "others": tuple(alongside.index[:most]),
            }
        )
    return pd.DataFrame(rows, columns=NEGATIVE_COLUMNS)


def _translate(
    coef: pd.Series, intercept: float, spec: FeatureSpec, proposal: Proposal, cap_period: str
) -> tuple[ScoringModel, pd.Series, float]:
    """Coefficients as whole points: the model, the points per column and the base score."""
    scale = proposal.points_to_double_odds / math.log(2)
    raw = coef * scale
    points = pd.Series(0.0, index=coef.index)
    profile_rules = []
    for attribute in dict.fromkeys(a for a, _ in spec.profile):
        cols = [f"{a}={v}" for a, v in spec.profile if a == attribute]
        shift = float(raw[cols].min())
        intercept += shift / scale
        pts = (raw[cols] - shift).round().astype("int64")
        points[cols] = pts
        levels = [v for a, v in spec.profile if a == attribute]
        bands = dict(proposal.bands).get(attribute)
        if bands is not None:
            rule_bands = []
            empty_points = 0
            for level, p in zip(levels, pts, strict=True):
                if level == EMPTY:
                    empty_points = int(p)
                else:
                    low = 0.0 if level.startswith("<") else float(level.rstrip("+"))
                    rule_bands.append(Band(low, int(p)))
            rule_bands.sort(key=lambda b: -b.min)
            profile_rules.append(
                ProfileRule(attribute, values=((EMPTY, empty_points),), bands=tuple(rule_bands))
            )
        else:
            profile_rules.append(
                ProfileRule(
                    attribute, values=tuple((v, int(p)) for v, p in zip(levels, pts, strict=True))
                )
            )
    activity_rules = []
    for rule in spec.activities:
        p = int(round(float(raw[rule.key])))
        points[rule.key] = p
        if p != 0:
            activity_rules.append(
                ActivityRule(rule.activity_type, p, rule.category, abs(p) * proposal.per_period)
            )
    model = ScoringModel(
        profile=tuple(profile_rules),
        activities=tuple(activity_rules),
        mql_threshold=0.0,
        lookback_days=proposal.lookback_days,
        half_life_days=proposal.half_life_days,
        cap_period=cap_period,
    )
    return model, points.astype("float64"), -intercept * scale


def _floor(
    X: pd.DataFrame,
    y: np.ndarray,
    spec: FeatureSpec,
    proposal: Proposal,
    coef: pd.Series,
    intercept: float,
) -> tuple[pd.Series, float, tuple[str, ...]]:
    """The fit with no negative activity points: rules whose points come out negative are set
    to 0 and the others refitted without them, until none is negative (each round drops at
    least one rule, so it ends). Clipping alone would leave the other points fitted on the
    assumption that those rules subtract."""
    scale = proposal.points_to_double_odds / math.log(2)
    activity = [r.key for r in spec.activities]
    dropped: list[str] = []
    while True:
        negative = [k for k in activity if k not in dropped and round(coef[k] * scale) < 0]
        if not negative:
            return coef, intercept, tuple(dropped)
        dropped += negative
        kept = [c for c in X.columns if c not in dropped]
        refit, intercept, _ = _logistic(X[kept], y, proposal)
        coef = refit.reindex(X.columns, fill_value=0.0)


def _signals(X: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, points: pd.Series) -> pd.DataFrame:
    positive = [r.key for r in spec.activities if points[r.key] > 0]
    return activity_signals(X, y, spec, positive)


def fit(
    X: pd.DataFrame,
    y: pd.Series | np.ndarray,
    spec: FeatureSpec,
    proposal: Proposal,
    *,
    cap_period: str = "month",
) -> Fit:
    """Fit the regularised logistic regression and translate it into a points model.

    Args:
        X: from `feature_matrix`, rows with a known outcome.
        y: the outcomes (0/1).
        spec: the feature spec behind `X`.
        proposal: regularisation, point scale, look-back, decay, caps and the floor.
        cap_period: the cap period of the proposed rules.
    """
    y = np.asarray(y, dtype="int64")
    coef, intercept, p = _logistic(X, y, proposal)
    model, points, base = _translate(coef, intercept, spec, proposal, cap_period)
    points_unfloored = points
    f_coef, f_intercept, floored = _floor(X, y, spec, proposal, coef, intercept)
    f_model, f_points, f_base = _translate(f_coef, f_intercept, spec, proposal, cap_period)
    if proposal.floor_at_zero:
        model, points, base = f_model, f_points, f_base
    return Fit(
        coef,
        intercept,
        model,
        points,
        base,
        std_errors=std_errors(X, p, proposal.regularisation),
        unfloored=points_unfloored,
        floored_points=f_points,
        floored=floored,
        floor_applied=proposal.floor_at_zero,
        signals=_signals(X, y, spec, points_unfloored),
    )


def points_score(X: pd.DataFrame, points: pd.Series) -> np.ndarray:
    """The proposed integer score of each row of a feature matrix."""
    return X[points.index].to_numpy(dtype="float64") @ points.to_numpy(dtype="float64")


def rules_table(model: ScoringModel) -> pd.DataFrame:
    """The model's rules as rows `kind, attribute, value, points, cap` for reading."""
    rows = []
    for rule in model.profile:
        if rule.numeric:
            for band in rule.bands:
                rows.append(("profile", rule.attribute, f">= {band.min:g}", band.points, None))
        for value, p in rule.values:
            rows.append(("profile", rule.attribute, value, p, None))
    for r in model.activities:
        rows.append(("engagement", r.activity_type, r.category or "", r.points, r.cap))
    return pd.DataFrame(rows, columns=["kind", "attribute", "value", "points", "cap"])


def lead_points(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    model: ScoringModel,
    moment: pd.DataFrame,
) -> pd.DataFrame:
    """One lead's points at one moment, rule by rule: rows `kind` (profile | engagement),
    `rule` (the attribute, or the activity rule's key) and `points`, whose sum is the model's
    score of the lead at that moment (`points.scores_at`).

    Args:
        con: from `points.connect(dataset, cutoff)`.
        dataset: the validated dataset.
        model: the scoring model.
        moment: one row `row_id, lead_id, at`.
    """
    leads = dataset["leads"]
    at = lead_positions(leads, moment["lead_id"])[0]
    lead = leads.iloc[[at]] if at >= 0 else leads.iloc[0:0]
    rows = [
        ("profile", rule.attribute, float(profile_points(lead, [rule]).sum()))
        for rule in model.profile
    ]
    by_rule = points_by_rule(
        con,
        moment[["row_id", "lead_id", "at"]],
        model.activities,
        lookback_days=model.lookback_days,
        half_life_days=model.half_life_days,
        cap_period=model.cap_period,
        keeper=dataset.facts,
    )
    rows += [("engagement", key, float(by_rule[key].iloc[0])) for key in by_rule.columns]
    return pd.DataFrame(rows, columns=["kind", "rule", "points"])


def lead_activities(con: duckdb.DuckDBPyConnection, moment: pd.DataFrame) -> pd.DataFrame:
    """How many activities of each kind one lead had at or before one moment (every one, not
    only those a look-back keeps): rows `activity_type, category, n`."""
    lead_id, at = str(moment["lead_id"].iloc[0]), pd.Timestamp(moment["at"].iloc[0])
    return con.execute(
        "SELECT activity_type, category, COUNT(*) AS n FROM acts "
        "WHERE lead_id = ? AND occurred_at <= ? GROUP BY activity_type, category",
        [lead_id, at.to_pydatetime()],
    ).df()
