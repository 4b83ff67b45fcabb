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
from .points import lead_positions, points_by_rule

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
    """A fitted proposal: the logistic regression and its translation into points."""

    coefficients: pd.Series  # log-odds per feature column
    intercept: float
    model: ScoringModel  # the integer points (mql_threshold not yet chosen)
    points: pd.Series  # integer points per feature column (after the profile shift)
    base_points: float  # the score at which the odds are exp(intercept) before rounding


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
        proposal: regularisation, point scale, look-back, decay and caps.
        cap_period: the cap period of the proposed rules.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(y, dtype="int64")
    lr = LogisticRegression(C=proposal.regularisation, max_iter=2000, random_state=proposal.seed)
    lr.fit(X.to_numpy(dtype="float64"), y)
    coef = pd.Series(lr.coef_[0], index=X.columns)
    scale = proposal.points_to_double_odds / math.log(2)
    raw = coef * scale
    intercept = float(lr.intercept_[0])
    points = pd.Series(0.0, index=X.columns)
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
    return Fit(coef, float(lr.intercept_[0]), model, points.astype("float64"), -intercept * scale)


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
