"""How the pacing's quarter projection would have done on the data's own history: at every past
month that is not its quarter's last, the quarter projected as `pacing.pace` does and checked
against the realised total (docs/kpi-review.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...core.schema import ALL
from ...metrics.specs import Count
from .pacing import (
    HISTORY_MONTHS,
    SMALL_HISTORY,
    PeriodTarget,
    fiscal_quarter,
    pace,
    paced_values,
)
from .review import KpiReview

BACKTEST_CSV_COLUMNS = [
    "kpi",
    "product",
    "method",
    "tested",
    "coverage80",
    "coverage95",
    "relative_error",
]


@dataclass(frozen=True)
class Backtest:
    """How the quarter's projection did on a history: over `tested` months that were not a
    quarter's last (and whose quarter the history completes), how often the realised quarter
    fell inside the 80% and 95% intervals (`coverage80`, `coverage95`; NaN when none was
    tested) and the mean absolute error as a share of the mean realised quarter
    (`relative_error`)."""

    tested: int
    covered80: int
    covered95: int
    relative_error: float

    @property
    def coverage80(self) -> float:
        return self.covered80 / self.tested if self.tested else float("nan")

    @property
    def coverage95(self) -> float:
        return self.covered95 / self.tested if self.tested else float("nan")


def backtest(
    history: pd.Series,
    fiscal_year_start: int = 1,
    *,
    count: bool,
    method: str = "auto",
    min_history: int = SMALL_HISTORY,
) -> Backtest:
    """Project the quarter from every month of `history` (month -> value, oldest first)
    that is not its quarter's last, with at least `min_history` months before and at it,
    and whose quarter the history completes, and check the realised total. Returns a
    `Backtest`."""
    history = history.dropna().sort_index()
    months = list(history.index)
    tested = hit80 = hit95 = 0
    errors, totals = [], []
    for i, month in enumerate(months):
        quarter = fiscal_quarter(month, fiscal_year_start)
        if month == quarter.months[-1] or i + 1 < min_history:
            continue
        if not set(quarter.months) <= set(months):
            continue
        p = pace(
            history.iloc[: i + 1],
            quarter,
            PeriodTarget(None, ""),
            count=count,
            method=method,
        )
        if np.isnan(p.low80):
            continue
        realised = float(history.reindex(list(quarter.months)).sum())
        tested += 1
        hit80 += p.low80 <= realised <= p.high80
        hit95 += p.low95 <= realised <= p.high95
        errors.append(abs(p.projection - realised))
        totals.append(realised)
    mean_total = float(np.mean(totals)) if totals else float("nan")
    relative = float(np.mean(errors)) / mean_total if totals and mean_total else float("nan")
    return Backtest(tested, hit80, hit95, relative)


def backtest_table(
    rv: KpiReview,
    *,
    values: pd.DataFrame | None = None,
    months: int = HISTORY_MONTHS,
    methods: Sequence[str] = ("auto", "run_rate"),
) -> pd.DataFrame:
    """The backtest of every paced KPI × products and `ALL` on the history up to the review's
    month, for each of `methods` (`BACKTEST_CSV_COLUMNS`), for the report's appendix.
    `values`: `paced_values` when already computed."""
    values = values if values is not None else paced_values(rv, months=months)
    wide = values.pivot_table(
        index="month", columns=["metric", "product"], values="value", aggfunc="first"
    )
    rows = []
    for name in rv.catalogue.paced:
        for product in [*rv.products, ALL]:
            if (name, product) not in wide.columns:
                continue
            history = wide[(name, product)].loc[: rv.month]
            for method in methods:
                b = backtest(
                    history,
                    rv.catalogue.fiscal_year_start,
                    count=isinstance(rv.catalogue[name].spec, Count),
                    method=method,
                )
                rows.append(
                    [name, product, method, b.tested, b.coverage80, b.coverage95, b.relative_error]
                )
    return pd.DataFrame(rows, columns=BACKTEST_CSV_COLUMNS)
