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

from pathlib import Path

import pandas as pd

from ..core.io import sha256_bytes
from . import cache

FACTS_FORMAT = "maops-facts-2"


class MonthFacts(cache.FolderKeeper):
    """The keeper (`core.keeping.MonthKeeper`) of one input's results: its month facts and
    what reports keep of it (a scoring study, counted points, a mark of work done), in
    `folder`; and what this process did with the month facts."""

    def __init__(self, cache_dir: Path, key: str, scope: str = "all"):
        self.cache_dir, self.key, self.scope = Path(cache_dir), key, scope
        self.read = 0  # months read from the cache by this process
        self.written = 0  # months queried and kept
        top = self.cache_dir / f"facts-{key}"
        super().__init__(top / scope, opens=top)

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

    @staticmethod
    def month_name(month: str, query: str) -> str:
        return f"{month}-{sha256_bytes(query.encode())[:24]}.kept"

    def get(self, month: str, query: str) -> pd.DataFrame | None:
        """The month's rows for `query` (the key text of the month's query), or None."""
        rows = self.value(self.month_name(month, query))
        if not isinstance(rows, pd.DataFrame):
            return None
        self.read += 1
        return rows

    def put(self, month: str, query: str, rows: pd.DataFrame) -> None:
        """Keep the month's rows; a cache that cannot be written is no reason to stop."""
        if self.keep_value(self.month_name(month, query), rows):
            self.written += 1
