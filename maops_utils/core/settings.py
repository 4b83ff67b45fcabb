"""What a run is set to: the settings every layer reads (loaded and checked from `params/` by
`batch.config`), and the run time they are judged at."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import ConfigError

LOCALES = ("ja", "en")
# Where the metric SQL runs (maops_utils/engines.py, docs/scale.md) and the Spark masters
# accepted: local[N] / local[*], spark://, yarn, k8s://, or a Spark Connect URL sc://.
ENGINES = ("duckdb", "spark")
# When `maops run` computes the 名寄せ pairs and scoring points in a process of its own while
# other notebooks run (maops_utils/ahead.py): auto for large inputs only.
PREPARE_AHEAD = ("auto", "always", "never")
PACKAGE_DIR = Path(__file__).resolve().parents[1]


def shipped(folder: str) -> Path:
    """A folder maops ships (`notebooks`, the report notebooks; `params`, the default settings
    and the vendor mappings): inside the package when it is installed from a wheel
    (pyproject.toml puts them there), beside it in a source checkout."""
    inside = PACKAGE_DIR / folder
    return inside if inside.is_dir() else PACKAGE_DIR.parent / folder


SPARK_MASTER_RE = re.compile(
    r"^(local(\[(\*|[1-9]\d*)(,[1-9]\d*)?\])?|yarn|(spark|k8s|sc)://[^\s/]\S*)$"
)


@dataclass(frozen=True)
class RunSettings:
    """Resolved settings of one run (names are the same in YAML, CLI flags and notebooks)."""

    data_dir: Path
    out_dir: Path
    params_dir: Path
    month: str | None = None
    timezone: str = "Asia/Tokyo"
    locale: str = "ja"
    currency: str = "JPY"
    encoding: str = "auto"
    trend_months: int = 13
    show_code: bool = False
    notebooks: tuple[str, ...] = (
        "00_data_quality",
        "01_kpi_evaluation",
        "02_scoring_calibration",
        "03_product_comparison",
    )
    engine: str = "duckdb"
    spark_master: str = "local[*]"
    # The validated-data cache (docs/scale.md): default `<out_dir>/.cache`; false/off: none.
    cache_dir: Path | None = None
    # Each month's scores kept for later runs (docs/scoring.md): default `<out_dir>/.history`;
    # false/off: none.
    history_dir: Path | None = None
    prepare_ahead: str = "auto"  # PREPARE_AHEAD

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: (str(v) if isinstance(v, Path) else v)
            for f in fields(self)
            for v in [getattr(self, f.name)]
        }


def parse_as_of(value: str, timezone: str) -> pd.Timestamp | None:
    """A run time given as text ("" = now), as naive local time in `timezone`."""
    if not value:
        return None
    try:
        ts = pd.Timestamp(value)
    except ValueError:
        raise ConfigError(
            f"as_of: '{value}' is not a timestamp; write it as YYYY-MM-DD HH:MM"
        ) from None
    return ts.tz_convert(timezone).tz_localize(None) if ts.tzinfo else ts
