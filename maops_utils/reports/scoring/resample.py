"""Bootstrap intervals of a month's AUC and calibration slope, computed on counts per score
and outcome so that a resample costs the number of distinct scores, not of leads."""

from __future__ import annotations

import numpy as np

from . import evaluate

# the bootstrap groups leads by score; a score with more distinct values (decayed points) is
# cut into this many equal-count groups for the intervals only (the figures stay exact)
MAX_GROUPS = 1000


def bootstrap_intervals(
    y: np.ndarray,
    score: np.ndarray,
    p_ref: np.ndarray,
    replicates: int,
    rng: np.random.Generator,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% percentile bootstrap intervals of the AUC of `score` and of the calibration slope
    of `p_ref` (the reference-fitted probability), from `replicates` resamples of the leads.

    A resample of n leads is a multinomial draw over the cells (score, outcome), so each
    replicate costs the number of distinct scores, not of leads; a score with more than
    `MAX_GROUPS` distinct values is grouped by rank for the intervals. Replicates that drew
    one class only are left out.

    Returns:
        ((auc_low, auc_high), (slope_low, slope_high))."""
    y = np.asarray(y, dtype="float64")
    score = np.asarray(score, dtype="float64")
    lp = evaluate._logit(p_ref)
    uniq, code = np.unique(score, return_inverse=True)
    if len(uniq) > MAX_GROUPS:
        order = np.argsort(score, kind="stable")
        code = np.empty(len(score), dtype="int64")
        code[order] = np.arange(len(score)) * MAX_GROUPS // len(score)
    groups = int(code.max()) + 1
    x = np.bincount(code, weights=lp, minlength=groups) / np.bincount(code, minlength=groups)
    cells = np.bincount(code * 2 + y.astype("int64"), minlength=2 * groups).astype("float64")
    draws = rng.multinomial(len(y), cells / cells.sum(), size=replicates).reshape(
        replicates, groups, 2
    )
    neg, pos = draws[:, :, 0].astype("float64"), draws[:, :, 1].astype("float64")
    n1, n0 = pos.sum(axis=1), neg.sum(axis=1)
    ok = (n1 > 0) & (n0 > 0)
    below = np.cumsum(neg, axis=1) - neg
    aucs = (pos * (below + 0.5 * neg)).sum(axis=1)[ok] / (n1 * n0)[ok]
    slopes = _grouped_slopes(x, pos[ok], neg[ok])
    return _percentiles(aucs), _percentiles(slopes)


def _percentiles(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if len(v) < 2:
        return float("nan"), float("nan")
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


def _grouped_slope(x: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> float:
    """Slope b of logit P(y) = a + b·x fitted by maximum likelihood on groups with `pos`
    successes and `neg` failures at `x`."""
    return float(_grouped_slopes(x, pos[None, :], neg[None, :])[0])


def _grouped_slopes(x: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    """`_grouped_slope` of every row of `pos` and `neg` (replicates × groups) at once:
    Newton-Raphson with the tiny ridge of `evaluate.fit_logistic`, each step's 2 × 2 system
    solved in closed form for all replicates."""
    ridge = 1e-6
    n = pos + neg
    a = np.zeros(len(pos))
    b = np.zeros(len(pos))
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(a[:, None] + b[:, None] * x[None, :], -700, 700)))
        r = pos - n * p
        w = n * p * (1 - p)
        g0 = r.sum(axis=1) - ridge * a
        g1 = (r * x).sum(axis=1) - ridge * b
        h00 = w.sum(axis=1) + ridge
        h01 = (w * x).sum(axis=1)
        h11 = (w * x * x).sum(axis=1) + ridge
        det = h00 * h11 - h01 * h01
        da = (h11 * g0 - h01 * g1) / det
        db = (h00 * g1 - h01 * g0) / det
        a, b = a + da, b + db
        if np.nanmax(np.abs(np.concatenate([da, db]))) < 1e-10:
            break
    return b
