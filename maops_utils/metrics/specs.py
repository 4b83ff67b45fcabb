"""What a metric is: a small declarative spec, compiled to SQL by `metrics` and declared in the
KPI catalogue (`catalogue/core.yaml` for the contract's core metrics, `params/kpis.yaml` for a
team's own)."""

from __future__ import annotations

from dataclasses import dataclass

Filter = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class Count:
    """Rows of `table` whose `time` falls in the month, optionally distinct on `distinct`."""

    table: str
    time: str
    where: tuple[Filter, ...] = ()
    distinct: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sum:
    """Sum of `column` over rows of `table` whose `time` falls in the month (0 when none)."""

    table: str
    time: str
    column: str
    where: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Difference:
    minuend: str
    subtrahend: str


@dataclass(frozen=True)
class Ratio:
    """numerator / denominator; empty (NaN) when the denominator is 0."""

    numerator: str
    denominator: str


Spec = Count | Sum | Difference | Ratio
