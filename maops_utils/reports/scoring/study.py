"""One month's scoring calibration: every table of the notebook and its CSV files.

`run` judges the leads, scores them with the current model (or takes the tool's own scores),
fits the proposed model, backtests both and analyses thresholds; the other functions turn
the result into the tables the notebook shows and the batch writes.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...contract.dataset import Dataset, isin
from ...core.io import sha256_bytes
from ...core.months import month_bounds, month_range
from ...metrics import funnel
from . import evaluate, outcomes, points, propose
from .choices import (
    band_edges,
    rating_grid,
    threshold_in_scale,
    threshold_tables,
)
from .model import (
    ActivityRule,
    Band,
    ProfileRule,
    RatingGrid,
    ScoringConfig,
    ScoringModel,
    load_config,
)

MODELS = ("current", "proposed")
LEAD_SCORE_COLUMNS = ["lead_id", "product", "scored_at", "score_current", "p_proposed"]
METRICS_COLUMNS = ["model", "product", *evaluate.METRIC_COLUMNS]
PRODUCT_COLUMNS = [
    "product",
    "n",
    "events",
    "observed",
    "expected",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
    "flag",
    "reliable",
]
# Folds of the out-of-fold evaluation of a snapshot (fewer when a class has fewer rows).
SNAPSHOT_FOLDS = 5


@dataclass
class ScoringStudy:
    """Everything the scoring notebook shows for one month.

    `rows` holds one row per judged moment (lead and moment): `row_id, lead_id, product, at,
    month, outcome_at, closed, y` (1/0, NaN while the window is open), `score_current`
    (`rating` with a grid or the tool's ratings), `split` (`train` / `test` / "" for the
    backtest), `p_current` (the current score on a probability scale, fitted on every closed
    row of all products: the uniform model's expectation), `score_proposed` and `p_proposed`
    (the proposed model fitted on every closed row).

    `outcome` is what success means (the configured outcome, or the furthest stage the data
    has when it has none of that: `outcomes.resolve_outcome`); `bands` the band edges used;
    `threshold` the current MQL threshold, None when it lies outside the scores' range;
    `rating_grid` the grid that rated rebuilt scores (configured, or derived from the points'
    range). A `snapshot` study judges a scores table without `scored_at`: one row per lead,
    `at` empty, every row closed, and `backtest` holds the out-of-fold probabilities of
    `folds` folds instead of later months.
    """

    config: ScoringConfig
    month: str
    products: list[str]
    source: str
    judged_at: str
    rows: pd.DataFrame
    closed_months: list[str]
    train_months: list[str]
    test_months: list[str]
    threshold_months: list[str]
    proposed: ScoringModel
    fit: propose.Fit
    backtest: pd.DataFrame
    backtest_fit: propose.Fit | None
    threshold_table: pd.DataFrame
    recommendations: pd.DataFrame
    notes: list[tuple[str, dict]] = field(default_factory=list)
    mql_check: dict[str, float] = field(default_factory=dict)
    locale: str = "ja"
    outcome: str = "sql"
    bands: tuple[float, ...] = ()
    threshold: float | None = None
    rating_grid: RatingGrid | None = None
    snapshot: bool = False
    folds: int = 0

    @property
    def closed(self) -> pd.DataFrame:
        return self.rows[self.rows["closed"] & self.rows["y"].notna()]

    @property
    def current(self) -> ScoringModel:
        return self.config.current


NO_OUTCOME = pd.Series(dtype="datetime64[us]")  # outcome times of no lead


def _data_start(dataset: Dataset) -> str:
    first = dataset["leads"]["created_at"].dropna().min()
    if pd.isna(first):
        from ...core.errors import NotEnoughData

        raise NotEnoughData(
            "no lead has a created_at, so no month of leads can be judged; only a scores "
            "table without scored_at (a snapshot) can be calibrated without dates"
        )
    return str(pd.Period(first, freq="M"))


def _months_between(first: str, last: str) -> list[str]:
    n = (pd.Period(last, freq="M") - pd.Period(first, freq="M")).n + 1
    return month_range(last, n) if n > 0 else []


def uses_tool_scores(dataset: Dataset, config: ScoringConfig) -> bool:
    """Whether the tool's own scores are judged (the dataset's `scores` table, as `source`
    allows) rather than the current rules rebuilt from the activities."""
    has = dataset.has("scores") and not dataset["scores"].empty
    if config.source == "scores" and not has:
        from ...core.errors import ConfigError

        raise ConfigError(
            f"{config.path}: source is 'scores' but the dataset has no scores table (or it is "
            "empty); add scores.csv to the data folder or set source: auto"
        )
    return has and config.source != "rules"


def _score_rows(
    dataset: Dataset,
    config: ScoringConfig,
    rows: pd.DataFrame,
    cutoff: pd.Timestamp,
    con,
    use_scores: bool,
) -> pd.DataFrame:
    if use_scores:
        scored = outcomes.tool_scores_at(dataset["scores"], rows[["row_id", "lead_id", "at"]])
        out = rows.copy()
        out["score_current"] = scored["score"].to_numpy()
        if "rating" in scored.columns and scored["rating"].notna().any():
            out["rating"] = scored["rating"].to_numpy()
        return out
    scored = points.scores_at(dataset, config.current, rows, cutoff, con=con)
    out = rows.copy()
    out["score_current"] = scored["score"].to_numpy()
    out["profile_points"] = scored["profile"].to_numpy()
    out["engagement_points"] = scored["engagement"].to_numpy()
    if "rating" in scored.columns:
        out["rating"] = scored["rating"].to_numpy()
    return out


def _fit_and_score(
    X: pd.DataFrame,
    rows: pd.DataFrame,
    fit_mask: np.ndarray,
    spec: propose.FeatureSpec,
    config: ScoringConfig,
) -> tuple[propose.Fit, np.ndarray, evaluate.ProbabilityMap]:
    fitted = propose.fit(
        X[fit_mask], rows.loc[fit_mask, "y"], spec, config.proposal,
        cap_period=config.current.cap_period,
    )  # fmt: skip
    score = propose.points_score(X, fitted.points)
    mapping = evaluate.platt(score[fit_mask], rows.loc[fit_mask, "y"])
    return fitted, score, mapping


# What a kept study depends on besides the input, the month and the configuration: bump when
# a study is kept differently.
STUDY_FORMAT = "maops-study-4"


@functools.cache
def code_key() -> str:
    """The declared format of a kept study with the versions of the libraries its numbers
    come from: bump `STUDY_FORMAT` when the study's computation changes."""
    digest = hashlib.sha256(STUDY_FORMAT.encode())
    for name in ("numpy", "pandas", "pyarrow", "duckdb", "scipy", "scikit-learn"):
        digest.update(f"{name}={importlib.metadata.version(name)}".encode())
    return digest.hexdigest()[:24]


# What a kept study may hold besides frames, series and plain values (`cache.load`).
KEPT_CLASSES = (
    ScoringStudy,
    ScoringModel,
    ProfileRule,
    ActivityRule,
    Band,
    RatingGrid,
    propose.Fit,
)


def kept_name(config: ScoringConfig, name: str, *parts: str, suffix: str) -> str:
    """The name under which a result of this code (`code_key`), `config` (its content, not
    its path) and `parts` is kept with its input (`Dataset.facts`): `name` and their key."""
    text = "\n".join([code_key(), repr(replace(config, path="")), *parts])
    return f"{name}-{sha256_bytes(text.encode())[:24]}{suffix}"


def kept_study_name(config: ScoringConfig, month: str) -> str:
    """The name the study of `month` is kept under for this configuration and code."""
    return kept_name(config, f"study-{month}", month, suffix=".kept")


def run(dataset: Dataset, config: ScoringConfig, month: str, *, locale: str = "ja") -> ScoringStudy:
    """Judge, score, fit, backtest and analyse thresholds for the report `month`.

    Args:
        dataset: a validated dataset (`contract.load.load_dataset`).
        config: `params/scoring.yaml` (`model.load_config`).
        month: the report month "YYYY-MM"; nothing at or after the end of it is read.
        locale: ja or en, for the views.

    Returns:
        A `ScoringStudy`.

    With a validated-data cache, the study is kept with the dataset's input
    (`kept_study_name`) and read by a later call for the same month, input and configuration:
    a report run again, or the notebook opened again after `maops run`, reads it
    (docs/scale.md). Only what the study computes is kept: a kept study is returned with this
    `config` object (its path) and `locale`.
    """
    funnel.require_followed(dataset, "the scoring calibration")
    keeper, name = dataset.facts, kept_study_name(config, month)
    if keeper is not None:
        kept = keeper.value(name, KEPT_CLASSES)
        if isinstance(kept, ScoringStudy):
            return replace(kept, config=config, locale=locale)
    study = _compute(dataset, config, month, locale=locale)
    if keeper is not None:
        # the configuration is the caller's: it is not kept, the study is returned with it
        keeper.keep_value(name, replace(study, config=None))
    return study


def _compute(dataset: Dataset, config: ScoringConfig, month: str, *, locale: str) -> ScoringStudy:
    ev = config.evaluation
    cutoff = month_bounds(month)[1]
    notes: list[tuple[str, dict]] = []
    outcome = outcomes.resolve_outcome(dataset, ev.outcome, cutoff)
    if outcome != ev.outcome:
        notes.append(("note_outcome_fallback", {"configured": ev.outcome, "used": outcome}))
    use_scores = uses_tool_scores(dataset, config)
    if use_scores and outcomes.is_snapshot(dataset["scores"]):
        return _compute_snapshot(dataset, config, month, outcome, notes, locale=locale)
    if use_scores:
        sc = dataset["scores"]
        undated = int((sc["score"].notna() & sc["scored_at"].isna()).sum())
        if undated:
            notes.append(("note_undated_scores", {"n": undated}))
    outcome_at = outcomes.outcome_times(dataset, outcome, cutoff)
    start = _data_start(dataset)
    last_closed = outcomes.last_closed_month(month, ev.window_days)
    if last_closed is None or pd.Period(last_closed, freq="M") < pd.Period(start, freq="M"):
        closed_months: list[str] = []
        first_month = max(start, month_range(month, ev.months)[0])
    else:
        closed_months = [m for m in month_range(last_closed, ev.months) if m >= start]
        first_month = closed_months[0]
    # every first MQL entry: the check of the recorded MQLs reads them all, the study those
    # before the outcome
    every_mql = None
    if not use_scores and ev.judged_at == "mql":
        every_mql = outcomes.judgement_moments(dataset, "mql", first_month, month, NO_OUTCOME)
        moments = outcomes.before_outcome(every_mql, outcome_at)
    else:
        moments = outcomes.judgement_moments(dataset, ev.judged_at, first_month, month, outcome_at)
    con = points.connect(dataset, cutoff)
    try:
        rows = outcomes.label_outcomes(moments, outcome_at, ev.window_days, cutoff)
        rows = _score_rows(dataset, config, rows, cutoff, con, use_scores)
        missing = rows["score_current"].isna()
        if missing.any():
            notes.append(("note_no_tool_score", {"n": int(missing.sum())}))
        # a lead that reached the outcome at an unknown time may have done so in the window
        # or not: neither a success nor a failure can be counted for it
        unknown = isin(rows["lead_id"], outcomes.undated_outcomes(dataset, outcome)) & (
            rows["y"] != 1
        )
        if unknown.any():
            notes.append(("note_undated_outcome", {"n": int(unknown.sum())}))
        if missing.any() or unknown.any():
            rows = rows[~(missing | unknown)].reset_index(drop=True)
            rows["row_id"] = np.arange(len(rows), dtype="int64")
        rows["closed"] = rows["closed"] & rows["month"].isin(closed_months)
        rows.loc[~rows["closed"], "y"] = np.nan
        grid = rating_grid(config, rows, use_scores, notes)
        bands = band_edges(config, rows["score_current"], notes)
        threshold = config.current.mql_threshold
        if use_scores:  # rebuilt scores are on the scale of the rules the threshold belongs to
            threshold = threshold_in_scale(
                config, rows["score_current"], notes, judged_at_mql=ev.judged_at == "mql"
            )

        mql_check = {}
        if not use_scores:
            mql_check = _mql_check(
                dataset, config, first_month, month, cutoff, con, every_mql, rows
            )

        test_months = closed_months[-ev.test_months :] if closed_months else []
        test_start = month_bounds(test_months[0])[0] if test_months else cutoff
        window = pd.Timedelta(days=ev.window_days)
        train_mask = (rows["closed"] & (rows["at"] + window <= test_start)).to_numpy()
        test_mask = (rows["closed"] & rows["month"].isin(test_months)).to_numpy()
        rows["split"] = np.where(train_mask, "train", np.where(test_mask, "test", ""))
        train_months = sorted(rows.loc[train_mask, "month"].unique())
        closed_mask = rows["closed"].to_numpy()

        spec = propose.feature_spec(dataset, config.proposal, con)
        X = propose.feature_matrix(
            con, dataset, rows, spec, config.proposal, cap_period=config.current.cap_period
        )
    finally:
        con.close()

    y_closed = rows.loc[closed_mask, "y"]
    current_map = evaluate.platt(rows.loc[closed_mask, "score_current"], y_closed)
    rows["p_current"] = current_map(rows["score_current"])
    if y_closed.nunique() < 2:
        raise_too_few(config, y_closed, dataset, outcome, cutoff)
    fitted, proposed_score, proposed_map = _fit_and_score(X, rows, closed_mask, spec, config)
    rows["score_proposed"] = proposed_score
    rows["p_proposed"] = proposed_map(proposed_score)

    backtest_fit = None
    backtest = rows[test_mask].copy()
    y_train = rows.loc[train_mask, "y"]
    if test_mask.any() and y_train.nunique() == 2:
        cur_bt = evaluate.platt(rows.loc[train_mask, "score_current"], y_train)
        backtest["p_current"] = cur_bt(backtest["score_current"])
        backtest_fit, bt_score, bt_map = _fit_and_score(X, rows, train_mask, spec, config)
        backtest["score_proposed"] = bt_score[test_mask]
        backtest["p_proposed"] = bt_map(bt_score[test_mask])
        # both choices of proposed.floor_at_zero, for what the floor costs on the backtest
        for name, pts in (
            ("floored", backtest_fit.floored_points),
            ("unfloored", backtest_fit.unfloored),
        ):
            backtest[f"score_{name}"] = propose.points_score(X[test_mask], pts)
    else:
        notes.append(("note_no_backtest", {}))
        backtest = backtest.iloc[0:0]

    threshold_months = closed_months[-config.thresholds.months :]
    part = rows[rows["closed"] & rows["month"].isin(threshold_months)]
    floor = threshold if ev.judged_at == "mql" else None
    table, recs, proposed_threshold = threshold_tables(
        part, config, len(threshold_months), dataset.products, threshold, floor=floor
    )
    proposed = ScoringModel(
        profile=fitted.model.profile,
        activities=fitted.model.activities,
        mql_threshold=proposed_threshold,
        lookback_days=fitted.model.lookback_days,
        half_life_days=fitted.model.half_life_days,
        cap_period=fitted.model.cap_period,
    )
    if use_scores:
        notes.append(("note_tool_scores", {}))
    return ScoringStudy(
        config=config,
        month=month,
        products=list(dataset.products),
        source="scores" if use_scores else "rules",
        judged_at=ev.judged_at,
        rows=rows,
        closed_months=closed_months,
        train_months=train_months,
        test_months=test_months,
        threshold_months=threshold_months,
        proposed=proposed,
        fit=fitted,
        backtest=backtest,
        backtest_fit=backtest_fit,
        threshold_table=table,
        recommendations=recs,
        notes=notes,
        mql_check=mql_check,
        locale=locale,
        outcome=outcome,
        bands=bands,
        threshold=threshold,
        rating_grid=grid,
    )


def _snapshot_rows(
    dataset: Dataset, outcome: str, cutoff: pd.Timestamp, notes: list
) -> pd.DataFrame:
    """One row per lead of a snapshot scores table: its score (and rating) and whether it
    reached the outcome at all, before `cutoff` or at an unknown time. A lead with two
    different undated scores is ambiguous (which one held when?): left out and counted."""
    sc = dataset["scores"]
    sc = sc[sc["score"].notna()]
    cols = ["lead_id", "score"] + (["rating"] if "rating" in sc.columns else [])
    sc = sc[cols].drop_duplicates()
    several = sc["lead_id"].duplicated(keep=False)
    if several.any():
        notes.append(("note_snapshot_ambiguous", {"n": int(sc.loc[several, "lead_id"].nunique())}))
        sc = sc[~several]
    leads = dataset["leads"][["lead_id", "product"]]
    rows = sc.merge(leads, on="lead_id").sort_values("lead_id", kind="stable")
    rows = rows.reset_index(drop=True).rename(columns={"score": "score_current"})
    dated = outcomes.outcome_times(dataset, outcome, cutoff)
    reached = isin(rows["lead_id"], dated.index) | isin(
        rows["lead_id"], outcomes.undated_outcomes(dataset, outcome)
    )
    out = pd.DataFrame(
        {
            "row_id": np.arange(len(rows), dtype="int64"),
            "lead_id": rows["lead_id"],
            "product": rows["product"],
            "at": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[us]"),
            "month": "",
            "outcome_at": pd.Series(
                dated.reindex(rows["lead_id"]).to_numpy(), index=rows.index, dtype="datetime64[us]"
            ),
            "closed": True,
            "y": reached.to_numpy(dtype="float64"),
            "score_current": rows["score_current"].astype("float64"),
        }
    )
    if "rating" in rows.columns and rows["rating"].notna().any():
        out["rating"] = rows["rating"].where(rows["rating"].notna(), None)
    out["split"] = ""
    return out


def _folds(y: np.ndarray, k: int) -> np.ndarray:
    """Fold of each row: successes and failures dealt out in turn in row order (lead id), so
    that every fold holds both and the folds are the same on every run."""
    fold = np.empty(len(y), dtype="int64")
    for cls in (0.0, 1.0):
        idx = np.flatnonzero(y == cls)
        fold[idx] = np.arange(len(idx)) % k
    return fold


def _compute_snapshot(
    dataset: Dataset,
    config: ScoringConfig,
    month: str,
    outcome: str,
    notes: list[tuple[str, dict]],
    *,
    locale: str,
) -> ScoringStudy:
    """The study of a snapshot: each scored lead once, against whether it ever reached the
    outcome. Rates by band and rating, AUC with its interval, calibration and the threshold
    curve need no time; what does (change over time, lead time to the outcome, a backtest on
    later months) is not there, and the report says so. Probabilities are judged out of fold:
    each fold's are fitted on the other folds."""
    cutoff = month_bounds(month)[1]
    rows = _snapshot_rows(dataset, outcome, cutoff, notes)
    y = rows["y"].to_numpy()
    if len(np.unique(y)) < 2:
        raise_too_few(config, rows["y"], dataset, outcome, cutoff, snapshot=True)
    bands = band_edges(config, rows["score_current"], notes)
    threshold = threshold_in_scale(config, rows["score_current"], notes, judged_at_mql=False)
    con = points.connect(dataset, cutoff)
    try:
        # profile attributes only: activities cannot be counted before an unknown moment
        spec = propose.feature_spec(dataset, config.proposal, con)
        spec = propose.FeatureSpec(spec.profile, ())
        X = propose.feature_matrix(
            con, dataset, rows, spec, config.proposal, cap_period=config.current.cap_period
        )
    finally:
        con.close()
    notes.append(("note_snapshot_profile_only", {}))
    every = np.ones(len(rows), dtype=bool)
    score = rows["score_current"].to_numpy()
    rows["p_current"] = evaluate.platt(score, y)(score)
    fitted, proposed_score, proposed_map = _fit_and_score(X, rows, every, spec, config)
    rows["score_proposed"] = proposed_score
    rows["p_proposed"] = proposed_map(proposed_score)

    k = int(min(SNAPSHOT_FOLDS, (y == 1).sum(), (y == 0).sum()))
    backtest = rows.iloc[0:0].copy()
    if k >= 2:
        fold = _folds(y, k)
        backtest = rows.copy()
        backtest["fold"] = fold
        for f in range(k):
            fit, held = fold != f, fold == f
            backtest.loc[held, "p_current"] = evaluate.platt(score[fit], y[fit])(score[held])
            _, fold_score, fold_map = _fit_and_score(X, rows, fit, spec, config)
            # each fold's points are on their own scale: held-out leads are ranked by the
            # probability their fold's fit gives
            backtest.loc[held, "p_proposed"] = fold_map(fold_score[held])
        backtest["score_proposed"] = backtest["p_proposed"]
    else:
        k = 0
        notes.append(("note_no_backtest", {}))
    if config.thresholds.objective == "capacity":
        notes.append(("note_snapshot_capacity", {}))
    table, recs, proposed_threshold = threshold_tables(
        rows, config, None, dataset.products, threshold, floor=None
    )
    proposed = ScoringModel(
        profile=fitted.model.profile,
        activities=(),
        mql_threshold=proposed_threshold,
        lookback_days=fitted.model.lookback_days,
        half_life_days=fitted.model.half_life_days,
        cap_period=fitted.model.cap_period,
    )
    return ScoringStudy(
        config=config,
        month=month,
        products=list(dataset.products),
        source="scores",
        judged_at="snapshot",
        rows=rows,
        closed_months=[],
        train_months=[],
        test_months=[],
        threshold_months=[],
        proposed=proposed,
        fit=fitted,
        backtest=backtest,
        backtest_fit=None,
        threshold_table=table,
        recommendations=recs,
        notes=notes,
        locale=locale,
        outcome=outcome,
        bands=bands,
        threshold=threshold,
        snapshot=True,
        folds=k,
    )


def prepare_points(dataset: Dataset, params_dir: Path, month: str) -> None:
    """`count_points` with the scoring settings of `params_dir`, computed ahead by the
    batch (`NEEDS` of this report)."""
    count_points(dataset, load_config(params_dir), month)


def count_points(dataset: Dataset, config: ScoringConfig, month: str) -> None:
    """Count and keep the scoring points `run` reads for `month`: those of the current model
    (unless the tool's own scores are used) and those of the proposal's features.

    They are kept with the dataset's input (`points.count_points`), so this only
    helps a dataset loaded with a validated-data cache: a monthly run calls it in a process of
    its own while other notebooks run, and the study then reads them (docs/scale.md)."""
    cutoff = month_bounds(month)[1]
    con = points.connect(dataset, cutoff)
    try:
        current = config.current
        if current.activities and not uses_tool_scores(dataset, config):
            points.count_points(con, current.activities, current.cap_period, dataset.facts)
        spec = propose.feature_spec(dataset, config.proposal, con)
        if spec.activities:
            points.count_points(con, spec.activities, current.cap_period, dataset.facts)
    finally:
        con.close()


def raise_too_few(
    config: ScoringConfig,
    y: pd.Series,
    dataset: Dataset,
    outcome: str,
    cutoff: pd.Timestamp,
    *,
    snapshot: bool = False,
) -> None:
    """Stop the report: the judged leads hold only successes or only failures. The message
    names the outcome setting and what the data holds of each outcome, since the usual cause
    is an outcome the data does not record."""
    from ...core.errors import NotEnoughData

    counts = outcomes.outcome_counts(dataset, cutoff)
    held = ", ".join(f"{counts[o]:,} reached {o}" for o in outcomes.OUTCOME_ORDER)
    what = (
        "the leads of the snapshot"
        if snapshot
        else "the leads judged in this period whose outcome window has closed"
    )
    ways = (
        "" if snapshot else ", or use a later month, a longer `months` or a shorter `window_days`"
    )
    raise NotEnoughData(
        f"{what} hold {int(y.sum())} successes out of {len(y)} (success: reaching {outcome}, "
        f"evaluation.outcome in {config.path}); a scoring model cannot be judged without both "
        f"successes and failures. Of the data's leads, {held}: set evaluation.outcome to a "
        f"stage the data records{ways}."
    )


def _mql_check(
    dataset: Dataset,
    config: ScoringConfig,
    first_month: str,
    month: str,
    cutoff: pd.Timestamp,
    con,
    moments: pd.DataFrame | None = None,
    known: pd.DataFrame | None = None,
) -> dict[str, float]:
    """How well the rebuilt score explains the recorded MQLs: the share of first MQL entries
    at which the rebuilt score had reached the threshold.

    `moments`: those entries, when the study has them (`judgement_moments` of "mql" without
    outcome times). `known`: moments already scored with the current model (`lead_id, at,
    score_current`; the study's own when it judges leads at their first MQL entry): only the
    others are scored here."""
    if moments is None:
        moments = outcomes.judgement_moments(dataset, "mql", first_month, month, NO_OUTCOME)
    if moments.empty:
        return {}
    score = np.full(len(moments), np.nan)
    if known is not None and not known.empty:
        keys = ["lead_id", "at"]
        found = moments[keys].merge(known[[*keys, "score_current"]], on=keys, how="left")
        score = found["score_current"].to_numpy(dtype="float64", copy=True)
    todo = np.isnan(score)
    if todo.any():
        rest = points.scores_at(dataset, config.current, moments[todo], cutoff, con=con)
        score[todo] = rest["score"].to_numpy(dtype="float64")
    reached = score >= config.current.mql_threshold
    return {"mqls": float(len(score)), "explained": float(reached.mean())}


# ---------------------------------------------------------------- thresholds


def run_time(as_of: str, timezone: str) -> pd.Timestamp:
    """The run time as naive local time: `as_of` when given ("YYYY-MM-DD HH:MM"), else now."""
    from ...core.settings import parse_as_of

    given = parse_as_of(as_of, timezone)
    return given if given is not None else pd.Timestamp.now(tz=timezone).tz_localize(None)
