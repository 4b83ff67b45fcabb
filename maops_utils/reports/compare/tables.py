"""The product comparison's CSV tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .channels import product_channels
from .comparison import COUNT_METRICS, SHARES, ProductComparison
from .statistics import COMPARISON_COLUMNS


def comparison_table(cmp: ProductComparison) -> pd.DataFrame:
    """`product_comparison.csv`: the tested conversions, then the window's counts and shares.

    Tested rows carry every column; count and share rows only `value` (and `n`, the compared
    products' total, for shares), with an empty verdict: they are described, not tested.
    """
    tested = cmp.tests.copy()
    rows = []
    counts = cmp.counts.pivot_table(
        index="product", columns="metric", values="value", aggfunc="sum"
    ).reindex(index=cmp.products, columns=list(COUNT_METRICS))
    counts = counts.fillna(0.0)
    for p in cmp.products:
        for metric in COUNT_METRICS:
            rows.append({"product": p, "metric": metric, "value": counts.at[p, metric]})
        for share, metric in SHARES:
            total = counts[metric].sum()
            rows.append(
                {
                    "product": p,
                    "metric": share,
                    "value": counts.at[p, metric] / total if total > 0 else np.nan,
                    "n": total,
                }
            )
    out = pd.concat([tested, pd.DataFrame(rows)], ignore_index=True)
    out["month"] = cmp.month
    for col in COMPARISON_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["verdict"] = out["verdict"].fillna("")
    out["compared_with"] = out["compared_with"].fillna("")
    return out[COMPARISON_COLUMNS]


def report_tables(cmp: ProductComparison) -> dict[str, pd.DataFrame]:
    """The notebook's CSV tables by file name (without `.csv`)."""
    return {
        "product_comparison": comparison_table(cmp),
        "product_channel": product_channels(cmp),
    }
