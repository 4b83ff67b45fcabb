"""The scoring report's choices on the score's own scale: the bands and the rating grid it is
read in, whether the configured MQL threshold lies on it, and the threshold tables with the
threshold each objective recommends per product."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.schema import ALL
from . import evaluate, points, thresholds
from .model import RatingGrid, ScoringConfig

RECOMMENDATION_COLUMNS = [
    "model",
    "product",
    "objective",
    "current_threshold",
    "recommended",
    "current_mqls_per_month",
    "current_precision",
    "current_sqls_per_month",
    "mqls_per_month",
    "precision",
    "sqls_per_month",
    "current_mqls",
    "current_successes",
    "mqls",
    "successes",
]


def rating_grid(
    config: ScoringConfig, rows: pd.DataFrame, use_scores: bool, notes: list
) -> RatingGrid | None:
    """The grid that rates rebuilt scores: the configured one, else one derived from the
    points' own range (`points.derived_grid`), written in `rows["rating"]`. The tool's own
    scores carry the tool's ratings: no grid."""
    if use_scores:
        return None
    grid = config.current.rating
    if grid is None:
        grid = points.derived_grid(rows["profile_points"], rows["engagement_points"])
        if grid is not None:
            rows["rating"] = points.rating_of(
                rows["profile_points"], rows["engagement_points"], grid
            ).to_numpy()
            shown = {
                part: ", ".join(f"{k} ≥ {v:g}" for k, v in bands)
                for part, bands in (("profile", grid.profile), ("engagement", grid.engagement))
            }
            notes.append(("note_grid_derived", shown))
    return grid


def band_edges(config: ScoringConfig, scores: pd.Series, notes: list) -> tuple[float, ...]:
    """The configured band edges, else edges that follow the scores' own scale."""
    if config.evaluation.bands is not None:
        return config.evaluation.bands
    bands = evaluate.score_bands(scores)
    lo, hi = scores.min(), scores.max()
    if pd.notna(lo):
        notes.append(
            (
                "note_bands_derived",
                {"low": float(lo), "high": float(hi), "edges": ", ".join(f"{b:g}" for b in bands)},
            )
        )
    return bands


def threshold_in_scale(
    config: ScoringConfig, scores: pd.Series, notes: list, *, judged_at_mql: bool
) -> float | None:
    """The current MQL threshold when it lies in the range of the tool's scores, else None
    (and a note).

    A threshold above every score hands nobody over, one below every score everybody: on
    another scale (60 against a 7-18 index) it describes nothing. Leads judged at their MQL
    entry all had reached the threshold, so there only a threshold above them all is out."""
    threshold = config.current.mql_threshold
    s = scores.dropna()
    if s.empty:
        return threshold
    lo, hi = float(s.min()), float(s.max())
    if threshold > hi or (threshold < lo and not judged_at_mql):
        notes.append(
            ("note_threshold_out_of_scale", {"threshold": threshold, "low": lo, "high": hi})
        )
        return None
    return threshold


def threshold_tables(
    part: pd.DataFrame,
    config: ScoringConfig,
    months: int | None,
    products: list[str],
    current: float | None,
    *,
    floor: float | None,
) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Threshold tables of both models over the closed rows `part` spanning `months` months
    (None: a snapshot, no time span), the recommendations and the proposed model's threshold.
    `current`: the current threshold (None when it is not on the scores' scale); `floor`: no
    candidate below it (leads judged at their MQL entry)."""
    th = config.thresholds
    tables = []
    recs = []
    proposed_threshold = float("nan")
    for model, col in (("current", "score_current"), ("proposed", "score_proposed")):
        include = (current,) if model == "current" and current is not None else ()
        grid = thresholds.candidate_thresholds(
            part[col], include=include, floor=floor if model == "current" else None
        )
        per_product = {}
        for product in [ALL, *products]:
            sub = part if product == ALL else part[part["product"] == product]
            t = thresholds.threshold_table(
                sub, col, grid, months=months, sql_value=th.sql_value, mql_cost=th.mql_cost
            )
            t.insert(0, "product", product)
            t.insert(0, "model", model)
            per_product[product] = t
        if months is None and th.objective == "capacity":
            # a snapshot spans no known time: MQLs per month, what capacity is, are unknown
            chosen: dict[str, float | None] = {}
        else:
            chosen = _recommend_all(per_product, th, products)
        if model == "proposed":
            overall = chosen.get(ALL)
            proposed_threshold = overall if overall is not None else float(grid[-1])
        for product, t in per_product.items():
            is_current = model == "current" and current is not None
            t["current"] = np.isclose(t["threshold"], current) if is_current else False
            rec = chosen.get(product)
            t["recommended"] = (
                np.isclose(t["threshold"], rec) if rec is not None else np.zeros(len(t), bool)
            )
            tables.append(t)
            recs.append(_recommendation_row(model, product, t, th.objective, current, rec))
    table = pd.concat(tables, ignore_index=True)[thresholds.THRESHOLD_COLUMNS]
    return table, pd.DataFrame(recs, columns=RECOMMENDATION_COLUMNS), proposed_threshold


def _recommend_all(
    per_product: dict[str, pd.DataFrame], th, products: list[str]
) -> dict[str, float | None]:
    chosen: dict[str, float | None] = {
        ALL: thresholds.recommend(per_product[ALL], th.objective, th)
    }
    if th.objective != "capacity":
        for p in products:
            chosen[p] = thresholds.recommend(per_product[p], th.objective, th)
        return chosen
    own = dict(th.product_capacity)
    for p in products:
        if p in own:
            chosen[p] = thresholds.recommend(per_product[p], "capacity", th, capacity=own[p])
    rest = [p for p in products if p not in own]
    if rest:
        left = max(th.capacity - sum(own.get(p, 0.0) for p in products), 0.0)
        chosen.update(
            thresholds.allocate_capacity(
                {p: per_product[p] for p in rest}, left, min_mqls=th.min_mqls
            )
        )
    return chosen


def _at(table: pd.DataFrame, threshold: float | None) -> pd.Series | None:
    if threshold is None:
        return None
    hit = table[np.isclose(table["threshold"], threshold)]
    return hit.iloc[0] if not hit.empty else None


def _recommendation_row(
    model: str,
    product: str,
    table: pd.DataFrame,
    objective: str,
    current: float | None,
    rec: float | None,
) -> dict:
    now = _at(table, current) if model == "current" else None
    new = _at(table, rec)
    return {
        "model": model,
        "product": product,
        "objective": objective,
        "current_threshold": current if model == "current" and current is not None else np.nan,
        "recommended": np.nan if rec is None else rec,
        "current_mqls_per_month": np.nan if now is None else now["mqls_per_month"],
        "current_precision": np.nan if now is None else now["precision"],
        "current_sqls_per_month": np.nan if now is None else now["sqls_per_month"],
        "mqls_per_month": np.nan if new is None else new["mqls_per_month"],
        "precision": np.nan if new is None else new["precision"],
        "sqls_per_month": np.nan if new is None else new["sqls_per_month"],
        "current_mqls": np.nan if now is None else now["mqls"],
        "current_successes": np.nan if now is None else now["successes"],
        "mqls": np.nan if new is None else new["mqls"],
        "successes": np.nan if new is None else new["successes"],
    }
