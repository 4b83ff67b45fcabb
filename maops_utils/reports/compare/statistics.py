"""The tests of the product comparison: each product's conversion against the other products
pooled (or one named product), Fisher's exact test, Holm's correction over the report, and
the difference's Newcombe interval (docs/product-comparison.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from ...core.errors import ConfigError
from ...core.stats import wilson_interval

REST = "rest"
TESTED: tuple[str, ...] = ("lead_to_mql", "mql_to_sql", "win_rate")
VERDICTS: tuple[str, ...] = ("higher", "lower", "no_difference", "too_few", "baseline")
COMPARISON_COLUMNS = [
    "month",
    "product",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "successes",
    "compared_with",
    "compared_value",
    "compared_n",
    "compared_successes",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "p_value",
    "p_adjusted",
    "verdict",
]


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ConfigError(f"alpha: {alpha!r} must be a number between 0 and 1, e.g. 0.05")
    return float(alpha)


def newcombe_interval(k1: float, n1: float, k2: float, n2: float) -> tuple[float, float]:
    """95% Newcombe hybrid score interval for p1 − p2 (Newcombe 1998, method 10).

    Args:
        k1, n1: successes and trials of the first group.
        k2, n2: the same for the second group.

    Returns:
        (low, high); NaN when either group has no trials.
    """
    if not (n1 > 0 and n2 > 0):
        return math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = (float(x) for x in wilson_interval(k1, n1))
    l2, u2 = (float(x) for x in wilson_interval(k2, n2))
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on successes k out of n in two groups."""
    table = [[int(k1), int(n1 - k1)], [int(k2), int(n2 - k2)]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted in the family).

    Args:
        p_values: raw p-values of the family.

    Returns:
        Adjusted p-values in the same order, each at most 1.
    """
    p = np.asarray(p_values, dtype="float64")
    out = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def compare_rates(
    rates: pd.DataFrame,
    products: Sequence[str],
    *,
    baseline: str = REST,
    alpha: float = 0.05,
    min_n: int = 30,
) -> pd.DataFrame:
    """Test every product against the rest (or the baseline product), metric by metric.

    Args:
        rates: rows `product, metric, successes, n` for every compared product and metric.
        products: the compared products.
        baseline: `rest` (the other compared products pooled) or a product code.
        alpha: the family-wise error rate; verdicts need a Holm-adjusted p below it.
        min_n: fewest people in each side's denominator for a test (fewer: `too_few`).

    Returns:
        One row per product and metric: `product, metric, value, ci_low, ci_high` (95% Wilson),
        `n, successes, compared_with` (`rest`, the baseline product, or empty for the baseline
        itself), `compared_value, compared_n, compared_successes` (the compared group pooled),
        `difference` (value − compared value, with its 95% Newcombe interval), `p_value` (Fisher, two-sided), `p_adjusted` (Holm over every
        tested row) and `verdict` (higher, lower, no_difference, too_few, baseline).
    """
    alpha = _check_alpha(alpha)
    table = {
        (p, m): (float(k), float(n))
        for p, m, k, n in rates[["product", "metric", "successes", "n"]].itertuples(index=False)
    }
    rows = []
    for metric in dict.fromkeys(rates["metric"]):
        for product in products:
            k, n = table[(product, metric)]
            low, high = wilson_interval(k, n)
            row = {
                "product": product,
                "metric": metric,
                "value": k / n if n > 0 else math.nan,
                "ci_low": float(low),
                "ci_high": float(high),
                "n": n,
                "successes": k,
                "compared_with": "",
                "compared_value": math.nan,
                "compared_n": math.nan,
                "compared_successes": math.nan,
                "difference": math.nan,
                "difference_ci_low": math.nan,
                "difference_ci_high": math.nan,
                "p_value": math.nan,
                "verdict": "",
            }
            if baseline == product:
                row["verdict"] = "baseline"
                rows.append(row)
                continue
            others = [p for p in products if p != product] if baseline == REST else [baseline]
            if not others:
                rows.append(row)
                continue
            k2 = sum(table[(p, metric)][0] for p in others)
            n2 = sum(table[(p, metric)][1] for p in others)
            row.update(
                compared_with=baseline,
                compared_value=k2 / n2 if n2 > 0 else math.nan,
                compared_n=n2,
                compared_successes=k2,
            )
            if n > 0 and n2 > 0:
                row["difference"] = row["value"] - row["compared_value"]
                row["difference_ci_low"], row["difference_ci_high"] = newcombe_interval(
                    k, n, k2, n2
                )
            if n < min_n or n2 < min_n:
                row["verdict"] = "too_few"
            else:
                row["p_value"] = fisher_p(int(k), int(n), int(k2), int(n2))
            rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS[1:])
    out["p_adjusted"] = holm(out["p_value"].to_numpy())
    tested = out["p_value"].notna()
    real = tested & (out["p_adjusted"] < alpha)
    out.loc[tested, "verdict"] = np.where(
        real[tested],
        np.where(out.loc[tested, "difference"] > 0, "higher", "lower"),
        "no_difference",
    )
    return out
