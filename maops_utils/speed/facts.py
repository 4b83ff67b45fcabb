"""Per-month metric facts kept between runs: the aggregated rows of the metric query by month.

A month's facts are the rows (metric, month_start, dimensions, value) that the compiled metric
query gives for that month (`metrics.compute_metrics`), before ratios and differences. They
depend only on the validated input and on the query, so they are kept as one small file per
month under the validated-data cache (`cache.keep`: checked on every read, a damaged or
edited one is queried again) and read instead of querying again:

    <cache_dir>/facts-<input key>/<scope>/<YYYY-MM>-<query key>.kept

- the input key is a checksum of every input file's checksum, the time zone, the encoding
  setting and this format; and of the run time when it left rows out (future rows, a closing
  date after it), since the validated data then depends on it. A changed input gives a new key;
  the three newest keys are kept.
- the scope is the whole dataset (`all`) or one product's slice;
- the query key is a checksum of the engine's name, the metric views and the month's
  compiled SQL, so a changed catalogue, definition or grouping is queried afresh.

A run's trend then queries only the months it has not seen with this input: a report re-run,
the notebooks after `maops run`, or another month of the same data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..core.io import sha256_bytes
from . import cache

FACTS_FORMAT = "maops-facts-2"


@dataclass
class MonthFacts:
    """Where one dataset's month facts are kept (`folder`), and what this process did."""

    cache_dir: Path
    key: str  # the input key
    scope: str = "all"
    read: int = 0  # months read from the cache by this process
    written: int = 0  # months queried and kept

    @classmethod
    def for_input(
        cls,
        cache_dir: Path,
        checksums: dict[str, str],
        *,
        timezone: str,
        encoding: str,
        as_of: pd.Timestamp | None,
    ) -> MonthFacts:
        """The facts of an input given by its files' checksums (table -> sha256). `as_of`:
        the run time if it left rows out of the validated data, else None."""
        parts = [
            FACTS_FORMAT,
            timezone,
            encoding,
            *(f"{t}={checksums[t]}" for t in sorted(checksums)),
        ]
        if as_of is not None:
            parts.append(f"as_of={as_of:%Y-%m-%d %H:%M:%S.%f}")
        return cls(Path(cache_dir), sha256_bytes("|".join(parts).encode())[:24])

    def for_product(self, product: str) -> MonthFacts:
        """The facts of one product's slice of the same input."""
        return MonthFacts(
            self.cache_dir, self.key, f"product-{sha256_bytes(product.encode())[:16]}"
        )

    @property
    def folder(self) -> Path:
        return self.cache_dir / f"facts-{self.key}" / self.scope

    def path(self, month: str, query: str) -> Path:
        return self.folder / f"{month}-{sha256_bytes(query.encode())[:24]}.kept"

    def get(self, month: str, query: str) -> pd.DataFrame | None:
        """The month's rows for `query` (the key text of the month's query), or None."""
        rows = cache.load(self.path(month, query))
        if not isinstance(rows, pd.DataFrame):
            return None
        self.read += 1
        return rows

    def put(self, month: str, query: str, rows: pd.DataFrame) -> None:
        """Keep the month's rows; a cache that cannot be written is no reason to stop."""
        if self.keep(self.path(month, query), lambda path: cache.keep(path, rows)):
            self.written += 1

    def keep(self, path: Path, write: Callable[[Path], object]) -> bool:
        """Keep a file of this input in `path` (under `folder`): `write(path)` writes it
        atomically. False when the cache cannot be written, which is no reason to stop."""
        try:
            cache.open_cache_folder(self.cache_dir / f"facts-{self.key}")
            write(path)
        except OSError:
            return False
        return True
