"""How well a score predicts the outcome: rates by band, discrimination, calibration, lift.

A points score is not a probability. To judge its calibration (and to compare it with another
model on the same scale) it is turned into one by a logistic map fitted on earlier months
(Platt scaling: p = 1 / (1 + exp(-(a + b x score)))), then judged on later months.

- **AUC**: the probability that a random success has a higher score than a random failure
  (ties count one half); 0.5 is guessing, 1 is perfect ranking.
- **Brier score**: mean of (p - y)^2; lower is better; a model that always predicts the base
  rate r scores r (1 - r).
- **Calibration slope**: b in logit P(y) = a + b logit(p); 1 is ideal, below 1 means the
  predictions are too extreme (over-fitted), above 1 too timid.
- **Calibration intercept** (calibration-in-the-large): a in logit P(y) = a + logit(p) (slope
  fixed at 1); 0 is ideal, negative means the model predicts too many successes.
- **Lift** of the top x% of leads by score: their success rate / the overall rate;
  **cumulative gain**: the share of all successes found in the top x%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

from ...core.stats import wilson_interval


def auc(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> float:
    """Area under the ROC curve by ranks (Mann-Whitney), ties counted one half.

    Returns:
        NaN when `y` holds only one class.
    """
    y = np.asarray(y, dtype="float64")
    s = np.asarray(score, dtype="float64")
    n1 = float((y == 1).sum())
    n0 = float((y == 0).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def auc_interval(
    y: np.ndarray | pd.Series, score: np.ndarray | pd.Series, *, level: float = 0.95
) -> tuple[float, float]:
    """The interval of `auc` by DeLong's variance (normal approximation, clipped to 0-1).

    Each success's share of failures it outscores (ties one half) and each failure's share
    of successes that outscore it are read from mid-ranks; their variances give the AUC's.

    Returns:
        NaN, NaN with fewer than two successes or two failures.
    """
    y = np.asarray(y, dtype="float64")
    s = np.asarray(score, dtype="float64")
    pos, neg = s[y == 1], s[y == 0]
    n1, n0 = len(pos), len(neg)
    if n1 < 2 or n0 < 2:
        return float("nan"), float("nan")
    every = pd.Series(s).rank(method="average").to_numpy()
    v10 = (every[y == 1] - pd.Series(pos).rank(method="average").to_numpy()) / n0
    v01 = 1 - (every[y == 0] - pd.Series(neg).rank(method="average").to_numpy()) / n1
    se = math.sqrt(np.var(v10, ddof=1) / n1 + np.var(v01, ddof=1) / n0)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    centre = float(v10.mean())  # the AUC itself
    return max(0.0, centre - z * se), min(1.0, centre + z * se)


def brier(y: np.ndarray | pd.Series, p: np.ndarray | pd.Series) -> float:
    """Mean squared difference between predicted probability and outcome (0/1)."""
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype="float64"), 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -700, 700)))


def fit_logistic(
    x: np.ndarray | None,
    y: np.ndarray,
    offset: np.ndarray | None = None,
    *,
    ridge: float = 1e-6,
    max_iter: int = 100,
) -> tuple[float, float]:
    """Maximum-likelihood logistic regression of `y` on an intercept and one variable `x`
    (or the intercept alone when `x` is None), with an optional fixed `offset`.

    Newton-Raphson with a tiny ridge, so that perfectly separated data give large but finite
    coefficients instead of an error.

    Returns:
        (intercept, slope); slope is 0 when `x` is None; NaN, NaN when `y` is empty.
    """
    y = np.asarray(y, dtype="float64")
    if len(y) == 0:
        return float("nan"), float("nan")
    off = np.zeros(len(y)) if offset is None else np.asarray(offset, dtype="float64")
    cols = [np.ones(len(y))] if x is None else [np.ones(len(y)), np.asarray(x, dtype="float64")]
    X = np.column_stack(cols)
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        p = _sigmoid(X @ beta + off)
        grad = X.T @ (y - p) - ridge * beta
        hess = (X * (p * (1 - p))[:, None]).T @ X + ridge * np.eye(X.shape[1])
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1]) if x is not None else 0.0


@dataclass(frozen=True)
class ProbabilityMap:
    """p = 1 / (1 + exp(-(intercept + slope x score))): a score on a probability scale."""

    intercept: float
    slope: float

    def __call__(self, score: np.ndarray | pd.Series) -> np.ndarray:
        return _sigmoid(self.intercept + self.slope * np.asarray(score, dtype="float64"))


def platt(score: np.ndarray | pd.Series, y: np.ndarray | pd.Series) -> ProbabilityMap:
    """The logistic map from score to probability that fits (score, y) best."""
    s = np.asarray(score, dtype="float64")
    y = np.asarray(y, dtype="float64")
    if len(y) == 0:
        return ProbabilityMap(float("nan"), float("nan"))
    centre, spread = float(np.mean(s)), float(np.std(s)) or 1.0
    a, b = fit_logistic((s - centre) / spread, y)
    return ProbabilityMap(a - b * centre / spread, b / spread)


def calibration(y: np.ndarray | pd.Series, p: np.ndarray | pd.Series) -> tuple[float, float]:
    """(calibration intercept, calibration slope) of predicted probabilities `p`.

    Returns:
        NaN, NaN when `y` holds only one class.
    """
    y = np.asarray(y, dtype="float64")
    if len(y) == 0 or y.min() == y.max():
        return float("nan"), float("nan")
    lp = _logit(np.asarray(p, dtype="float64"))
    intercept, _ = fit_logistic(None, y, offset=lp)
    _, slope = fit_logistic(lp, y)
    return intercept, slope


METRIC_COLUMNS = [
    "auc",
    "auc_ci_low",
    "auc_ci_high",
    "brier",
    "calibration_intercept",
    "calibration_slope",
    "n",
    "events",
    "rate",
    "lift_top_decile",
    "reliable",
]


def metrics(
    y: np.ndarray | pd.Series,
    p: np.ndarray | pd.Series,
    score: np.ndarray | pd.Series | None = None,
    *,
    min_events: int = 200,
) -> dict[str, float | int | bool]:
    """AUC (of `score`, or of `p`), Brier score and calibration of `p`, counts and lift.

    `reliable` is False when successes or failures are fewer than `min_events` (rule of thumb
    for a calibration that does not swing with a handful of leads).
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    s = p if score is None else np.asarray(score, dtype="float64")
    intercept, slope = calibration(y, p)
    events = int(y.sum())
    low, high = auc_interval(y, s)
    return {
        "auc": auc(y, s),
        "auc_ci_low": low,
        "auc_ci_high": high,
        "brier": brier(y, p),
        "calibration_intercept": intercept,
        "calibration_slope": slope,
        "n": len(y),
        "events": events,
        "rate": float(y.mean()) if len(y) else float("nan"),
        "lift_top_decile": top_lift(y, s, 0.1),
        "reliable": bool(events >= min_events and len(y) - events >= min_events),
    }


def top_lift(y: np.ndarray, score: np.ndarray, share: float) -> float:
    """Success rate of the top `share` of rows by score over the overall rate (ties at the
    cut are taken in row order, which is stable)."""
    y = np.asarray(y, dtype="float64")
    if len(y) == 0 or y.sum() == 0:
        return float("nan")
    order = np.argsort(-np.asarray(score, dtype="float64"), kind="stable")
    k = max(1, int(round(share * len(y))))
    return float(y[order[:k]].mean() / y.mean())


def gain_curve(y: np.ndarray | pd.Series, score: np.ndarray | pd.Series) -> pd.DataFrame:
    """Cumulative gain: for the top 0%..100% of rows by score (ties broken by row order),
    the share of all successes they hold, and the lift at that depth.

    Returns:
        Rows `depth` (share of leads), `gain` (share of successes), `lift`; starts at (0, 0).
    """
    y = np.asarray(y, dtype="float64")
    order = np.argsort(-np.asarray(score, dtype="float64"), kind="stable")
    hits = np.cumsum(y[order])
    n = len(y)
    total = hits[-1] if n else 0.0
    depth = np.arange(1, n + 1) / max(n, 1)
    gain = hits / total if total else np.full(n, np.nan)
    out = pd.DataFrame({"depth": depth, "gain": gain})
    out["lift"] = out["gain"] / out["depth"]
    start = pd.DataFrame({"depth": [0.0], "gain": [0.0], "lift": [np.nan]})
    return pd.concat([start, out], ignore_index=True)


def reliability(
    y: np.ndarray | pd.Series, p: np.ndarray | pd.Series, *, bins: int = 10
) -> pd.DataFrame:
    """Reliability diagram data: rows grouped into (up to) `bins` groups of equal size by
    predicted probability; per group the mean prediction and the observed rate with its 95%
    Wilson interval.

    Returns:
        Rows `bin, n, mean_p, events, rate, ci_low, ci_high`.
    """
    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    cols = ["bin", "n", "mean_p", "events", "rate", "ci_low", "ci_high"]
    if len(y) == 0:
        return pd.DataFrame(columns=cols)
    k = int(max(1, min(bins, len(y) // 20 or 1)))
    order = np.argsort(p, kind="stable")
    group = np.empty(len(y), dtype="int64")
    group[order] = np.arange(len(y)) * k // len(y)
    frame = pd.DataFrame({"bin": group, "p": p, "y": y})
    out = frame.groupby("bin").agg(n=("y", "size"), mean_p=("p", "mean"), events=("y", "sum"))
    out["rate"] = out["events"] / out["n"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["events"], out["n"])
    return out.reset_index()[cols]


def is_whole(values: np.ndarray | pd.Series) -> bool:
    """Whether every known value is a whole number (a points score, a 7-18 index)."""
    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    return bool(len(v)) and bool(np.all(v == np.round(v)))


def scale_step(span: float, parts: int, *, whole: bool) -> float:
    """A round step cutting `span` into about `parts`: 1, 2, 2.5 or 5 times a power of ten;
    for whole-number scores a whole number of at least 1 (so never 2.5 or 0.25)."""
    raw = max(span / max(parts, 1), 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    step = 10 * power
    for mult in (1, 2, 5) if whole else (1, 2, 2.5, 5):
        if mult * power >= raw:
            step = mult * power
            break
    return float(max(1, round(step))) if whole else float(step)


def score_range(scores: np.ndarray | pd.Series) -> tuple[float, float]:
    """The range most scores lie in: the 1st to the 99th percentile (a stray value does not
    stretch the bands); NaN, NaN without scores."""
    s = pd.Series(np.asarray(scores, dtype="float64")).dropna()
    if s.empty:
        return float("nan"), float("nan")
    return float(s.quantile(0.01)), float(s.quantile(0.99))


def score_bands(scores: np.ndarray | pd.Series, *, parts: int = 6) -> tuple[float, ...]:
    """Band edges that follow the scores' own scale: round steps (whole ones for whole-number
    scores) from below the lowest score to the highest, about `parts` bands. A score of 7-18
    gets 6, 8, ..., 18; a score of 0-100 gets 0, 20, ..., 100. Values beyond the 1st and 99th
    percentile fall in the open first or last band."""
    lo, hi = score_range(scores)
    if math.isnan(lo):
        return (0.0,)
    whole = is_whole(scores)
    if whole:
        lo, hi = math.floor(lo), math.ceil(hi)
    step = scale_step(hi - lo, parts, whole=whole) if hi > lo else 1.0
    start = math.floor(lo / step) * step
    count = int(math.floor((hi - start) / step + 1e-9)) + 1
    return tuple(round(start + i * step, 9) for i in range(count))


BAND_COLUMNS = [
    "product",
    "kind",
    "band",
    "low",
    "high",
    "n",
    "events",
    "rate",
    "ci_low",
    "ci_high",
    "expected",
    "reliable",
]


def band_labels(edges: tuple[float, ...]) -> list[str]:
    """Band names for the edges: "<0", "0-19", ..., "100+" (integer scores)."""

    def fmt(x: float) -> str:
        return f"{x:g}"

    labels = [f"<{fmt(edges[0])}"]
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        top = hi - 1 if float(lo).is_integer() and float(hi).is_integer() else hi
        labels.append(
            f"{fmt(lo)}–{fmt(top)}" if float(hi).is_integer() else f"{fmt(lo)}–<{fmt(hi)}"
        )
    labels.append(f"{fmt(edges[-1])}+")
    return labels


def band_of(score: pd.Series, edges: tuple[float, ...]) -> pd.Series:
    """The band label of each score: [edge_i, edge_i+1), below the first edge, or the last
    edge and above."""
    labels = band_labels(edges)
    idx = np.searchsorted(
        np.asarray(edges, dtype="float64"), score.to_numpy(dtype="float64"), side="right"
    )
    return pd.Series(np.asarray(labels, dtype=object)[idx], index=score.index)


def rate_table(
    rows: pd.DataFrame,
    group: str,
    order: list[str],
    *,
    products: list[str],
    min_events: int,
    expected: str | None = None,
) -> pd.DataFrame:
    """Success rate per group value, per product and `ALL`, with 95% Wilson intervals.

    Args:
        rows: judged rows with `product`, `y` and the `group` column.
        group: the column to group by (a band or a rating).
        order: group values in display order (values absent from the data get n = 0).
        products: product codes; `ALL` is added.
        min_events: below this many successes or failures a rate is marked not reliable.
        expected: a column of predicted probabilities to average per group, if any.

    Returns:
        Rows `product, band, n, events, rate, ci_low, ci_high, expected, reliable`.
    """
    parts = []
    for product in [*products, "ALL"]:
        part = rows if product == "ALL" else rows[rows["product"] == product]
        agg = part.groupby(group).agg(n=("y", "size"), events=("y", "sum"))
        if expected:
            agg["expected"] = part.groupby(group)[expected].mean()
        agg = agg.reindex(order)
        agg["n"] = agg["n"].fillna(0).astype("int64")
        agg["events"] = agg["events"].fillna(0).astype("int64")
        agg.index.name = "band"
        agg = agg.reset_index()
        agg.insert(0, "product", product)
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(
            out["n"] > 0, out["events"] / out["n"].where(out["n"] > 0, 1), np.nan
        )
    out["ci_low"], out["ci_high"] = wilson_interval(out["events"], out["n"])
    if "expected" not in out.columns:
        out["expected"] = np.nan
    out["reliable"] = (out["events"] >= min_events) & (out["n"] - out["events"] >= min_events)
    return out[
        ["product", "band", "n", "events", "rate", "ci_low", "ci_high", "expected", "reliable"]
    ]
