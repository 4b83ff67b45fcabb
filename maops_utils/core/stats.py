"""Small statistics used by several reports."""

from __future__ import annotations

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def wilson_interval(
    successes: pd.Series | np.ndarray | float,
    trials: pd.Series | np.ndarray | float,
    z: float = Z95,
) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval for a proportion, elementwise.

    Empty (NaN) where trials is 0 or missing, or where successes is not in [0, trials]
    (a ratio of two counts that is not a proportion, e.g. opens over a negative delivered).
    """
    k = np.asarray(successes, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    valid = (n > 0) & (k >= 0) & (k <= n)
    n_safe = np.where(valid, n, 1.0)
    p = np.where(valid, k, 0.0) / n_safe
    denom = 1 + z**2 / n_safe
    centre = (p + z**2 / (2 * n_safe)) / denom
    half = z * np.sqrt(p * (1 - p) / n_safe + z**2 / (4 * n_safe**2)) / denom
    # at no success the lower bound is 0 and at all successes the upper bound is 1 exactly;
    # the formula gives them with rounding noise (5.55e-17) that would reach the CSV files
    low = np.where(valid, np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0)), np.nan)
    high = np.where(valid, np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0)), np.nan)
    return low, high
