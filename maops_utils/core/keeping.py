"""What the domain keeps between runs of one input (`Keeper`): the narrow interface to the
batch's cache, which the speed layer provides and the domain never imports.

A keeper belongs to one input (its files' checksums and the run settings that change what
was read): whatever it keeps is valid for that input alone, so a name only has to say what
else the result depends on (a month, a configuration, the code that computes it). Whatever is
read back is as it was written: a damaged or edited entry is dropped, noted, and comes back
as None, for the caller to compute again."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import pandas as pd


class Keeper(Protocol):
    """Results computed from one input, kept under names."""

    def value(self, name: str, classes: Iterable[type] = ()) -> Any | None:
        """The value kept as `name` (frames, series, plain values and `classes`), or None."""
        ...

    def keep_value(self, name: str, value: Any) -> bool:
        """Keep `value` as `name`; False when it cannot be kept (no reason to stop)."""
        ...

    def table(self, name: str) -> pd.DataFrame | None:
        """The frame kept as `name` with its pandas types, or None."""
        ...

    def keep_table(self, name: str, frame: pd.DataFrame) -> bool:
        """Keep `frame` as `name`; False when it cannot be kept."""
        ...

    def file(self, name: str) -> Path | None:
        """The path of the file kept as `name`, when it is there as it was written, or None."""
        ...

    def keep_file(self, name: str, write: Callable[[Path], object]) -> Path | None:
        """Keep as `name` the file `write(path)` writes to the path it is given; its kept path,
        or None when it cannot be kept."""
        ...

    def drop(self, name: str, reason: str) -> None:
        """Remove what is kept as `name`, which its reader could not use, noting `reason`."""
        ...


class MonthKeeper(Keeper, Protocol):
    """A keeper that also keeps the metric query's rows by month (`metrics.compute`), and has
    one keeper per product slice of the same input."""

    def get(self, month: str, query: str) -> pd.DataFrame | None:
        """The month's rows for `query` (the key text of the month's query), or None."""
        ...

    def put(self, month: str, query: str, rows: pd.DataFrame) -> None:
        """Keep the month's rows for `query`."""
        ...

    def for_product(self, product: str) -> MonthKeeper:
        """The keeper of one product's slice of the same input."""
        ...
