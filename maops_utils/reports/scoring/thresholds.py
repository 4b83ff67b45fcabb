"""The MQL threshold: what each candidate threshold would have handed over, and which one
serves the configured objective.

A candidate threshold T hands a lead over at the first judged moment its score is at least T
(with `judged_at: mql` every lead is judged once, so: the MQLs whose score was at least T).
Over the judged months whose window has closed:

- **mqls_per_month**: leads handed over / months;
- **precision**: the share of them that reached the outcome within the window (95% Wilson);
- **recall**: successes handed over / all leads with a success among the judged rows;
- **sqls_per_month**: successes handed over / months (the SQLs to expect per month);
- **net_benefit** per month: sqls_per_month x sql_value - mqls_per_month x mql_cost.

Recommendations (`params/scoring.yaml`, `thresholds`): **capacity**: the lowest threshold
whose MQLs per month fit the capacity; **precision**: the lowest threshold whose precision
reaches the target; **net_benefit**: the threshold with the highest net benefit. Thresholds
judged on fewer than `min_mqls` handed-over leads are never recommended.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...core.stats import wilson_interval
from .evaluate import is_whole, scale_step
from .model import Thresholds

THRESHOLD_COLUMNS = [
    "model",
    "product",
    "threshold",
    "mqls",
    "mqls_per_month",
    "successes",
    "precision",
    "precision_ci_low",
    "precision_ci_high",
    "recall",
    "sqls_per_month",
    "net_benefit",
    "current",
    "recommended",
]


def candidate_thresholds(
    scores: pd.Series,
    *,
    include: tuple[float, ...] = (),
    target: int = 30,
    floor: float | None = None,
) -> list[float]:
    """Round thresholds spanning the scores (about `target` of them), plus `include`: whole
    steps for whole-number scores (every value of a 7-18 score), never 0.25 apart.

    Args:
        scores: the scores the thresholds apply to.
        include: thresholds always listed (e.g. the current one).
        target: about how many thresholds.
        floor: no threshold below this (e.g. the current threshold when only MQLs are judged,
            since nothing below it can be judged).
    """
    s = pd.Series(scores, dtype="float64").dropna()
    if s.empty:
        return sorted(set(include))
    lo, hi = float(s.quantile(0.01)), float(s.quantile(0.99))
    if floor is not None:
        lo = max(lo, floor)
    if hi <= lo:
        hi = lo + 1
    step = scale_step(hi - lo, target, whole=is_whole(s))
    start = math.floor(lo / step) * step
    grid = np.arange(start, hi + step, step)
    values = {round(float(v), 6) for v in grid} | {float(v) for v in include}
    if floor is not None:
        values = {v for v in values if v >= floor}
    return sorted(values)


def threshold_table(
    rows: pd.DataFrame,
    score: str,
    thresholds: list[float],
    *,
    months: int | None,
    sql_value: float = 10.0,
    mql_cost: float = 1.0,
) -> pd.DataFrame:
    """What each threshold would have handed over among judged rows.

    Args:
        rows: closed judged rows with `lead_id`, `at`, `y` and the `score` column.
        score: the score column.
        thresholds: candidate thresholds.
        months: how many months the rows span (for the per-month figures); None for a
            snapshot, which spans no known time: the per-month figures are empty and the net
            benefit is over the whole snapshot.
        sql_value, mql_cost: for the net benefit.

    Returns:
        Rows `threshold, mqls, mqls_per_month, successes, precision, precision_ci_low,
        precision_ci_high, recall, sqls_per_month, net_benefit`, by increasing threshold.
    """
    r = rows[["lead_id", "at", "y", score]].dropna(subset=[score])
    r = r.sort_values(["lead_id", "at"], kind="stable")
    # A lead is handed over at its first judged moment at or above T: with the running best
    # score before each moment, that is the moment with best_before < T <= score.
    best_before = (
        r.groupby("lead_id", sort=False)[score].cummax().groupby(r["lead_id"], sort=False).shift(1)
    )
    low = best_before.fillna(-np.inf).to_numpy()
    high = r[score].to_numpy(dtype="float64")
    y = r["y"].to_numpy(dtype="float64")
    positives = float(r.loc[r["y"] == 1, "lead_id"].nunique())
    t = np.asarray(thresholds, dtype="float64")[:, None]
    handed = (low[None, :] < t) & (high[None, :] >= t)
    mqls = handed.sum(axis=1).astype("int64")
    successes = (handed * y[None, :]).sum(axis=1).astype("int64")
    out = pd.DataFrame({"threshold": np.asarray(thresholds, dtype="float64"), "mqls": mqls})
    out["successes"] = successes
    per = np.nan if months is None else max(int(months), 1)
    out["mqls_per_month"] = out["mqls"] / per
    with np.errstate(divide="ignore", invalid="ignore"):
        out["precision"] = np.where(mqls > 0, successes / np.maximum(mqls, 1), np.nan)
    out["precision_ci_low"], out["precision_ci_high"] = wilson_interval(successes, mqls)
    out["recall"] = successes / positives if positives else np.nan
    out["sqls_per_month"] = out["successes"] / per
    if months is None:
        out["net_benefit"] = out["successes"] * sql_value - out["mqls"] * mql_cost
    else:
        out["net_benefit"] = out["sqls_per_month"] * sql_value - out["mqls_per_month"] * mql_cost
    return out[
        [
            "threshold",
            "mqls",
            "mqls_per_month",
            "successes",
            "precision",
            "precision_ci_low",
            "precision_ci_high",
            "recall",
            "sqls_per_month",
            "net_benefit",
        ]
    ]


def recommend(
    table: pd.DataFrame,
    objective: str,
    settings: Thresholds,
    *,
    capacity: float | None = None,
) -> float | None:
    """The recommended threshold of a threshold table for `objective`.

    Args:
        table: from `threshold_table`.
        objective: capacity, precision or net_benefit.
        settings: target precision, value and cost, min_mqls.
        capacity: MQLs per month for the capacity objective (default: settings.capacity).

    Returns:
        The threshold, or None when no threshold qualifies (e.g. no precision reaches the
        target, or no threshold has `min_mqls` handed-over leads).
    """
    ok = table[table["mqls"] >= settings.min_mqls]
    if ok.empty:
        return None
    if objective == "capacity":
        cap = settings.capacity if capacity is None else capacity
        fit = ok[ok["mqls_per_month"] <= cap]
        return float(fit["threshold"].min()) if not fit.empty else None
    if objective == "precision":
        fit = ok[ok["precision"] >= settings.target_precision]
        return float(fit["threshold"].min()) if not fit.empty else None
    best = ok.loc[ok["net_benefit"].idxmax()]
    return float(best["threshold"])


def allocate_capacity(
    tables: dict[str, pd.DataFrame], capacity: float, *, min_mqls: int = 1
) -> dict[str, float | None]:
    """Per-product thresholds that deliver the most successes within one shared capacity.

    Every product starts with no hand-over at all; then, step by step, the product whose next
    lower threshold adds the most successes per extra MQL gets it, as long as the total MQLs
    per month stay within `capacity` and the step adds successes (a greedy allocation:
    products whose leads convert well get the capacity first).

    Args:
        tables: product -> its `threshold_table`.
        capacity: MQLs per month for all these products together.
        min_mqls: thresholds with fewer handed-over leads are skipped.

    Returns:
        product -> threshold; None when the product should hand over no lead at all.
    """
    none = pd.DataFrame({"threshold": [np.nan], "mqls_per_month": [0.0], "sqls_per_month": [0.0]})
    curves = {}
    for product, table in tables.items():
        t = table[table["mqls"] >= min_mqls].sort_values("threshold", ascending=False)
        cols = ["threshold", "mqls_per_month", "sqls_per_month"]
        curves[product] = pd.concat([none, t[cols]], ignore_index=True)
    pos = dict.fromkeys(curves, 0)
    used = 0.0
    best_j = 0
    while True:
        best, best_ratio = None, 0.0
        for p, i in pos.items():
            # the next threshold down that fits, and what it adds per extra MQL
            for j in range(i + 1, len(curves[p])):
                extra = curves[p].loc[j, "mqls_per_month"] - curves[p].loc[i, "mqls_per_month"]
                if used + extra > capacity + 1e-9:
                    break
                gain = curves[p].loc[j, "sqls_per_month"] - curves[p].loc[i, "sqls_per_month"]
                if gain <= 0:
                    continue
                ratio = gain / extra if extra > 0 else np.inf
                if ratio > best_ratio:
                    best, best_ratio, best_j = p, ratio, j
                break
        if best is None:
            break
        used += (
            curves[best].loc[best_j, "mqls_per_month"]
            - curves[best].loc[pos[best], "mqls_per_month"]
        )
        pos[best] = best_j
    return {p: (None if i == 0 else float(curves[p].loc[i, "threshold"])) for p, i in pos.items()}
