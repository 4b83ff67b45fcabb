"""Lead scoring calibration: does the MA tool's score pick the leads sales wants?

The notebook `notebooks/02_scoring_calibration.ipynb` calls `load_config` and `run`, then the
table functions of `tables` (exported here), and the score's health over time (`health`,
`history`) and its diagnostics (`diagnostics`) with their charts and views, reached as
`scoring.health` and so on; definitions are in docs/scoring.md and in each submodule.
"""

from ...core.needs import Needs
from . import diagnostics, diagnostics_charts, health, health_charts, health_views, history
from .conclusion import product_verdicts
from .model import ScoringConfig, ScoringModel, load_config, parse_config, parse_model
from .study import ScoringStudy, count_points, run, run_time
from .tables import (
    band_table,
    gain_curves,
    lead_scores,
    metrics_table,
    product_table,
    proposed_yaml,
    reliability_curves,
    tables,
    verdict_table,
)

__all__ = [
    "ScoringConfig",
    "diagnostics",
    "diagnostics_charts",
    "health",
    "health_charts",
    "health_views",
    "history",
    "ScoringModel",
    "ScoringStudy",
    "band_table",
    "count_points",
    "gain_curves",
    "lead_scores",
    "load_config",
    "metrics_table",
    "parse_config",
    "parse_model",
    "product_table",
    "product_verdicts",
    "proposed_yaml",
    "reliability_curves",
    "run",
    "run_time",
    "tables",
    "verdict_table",
]

# The study's fits import scikit-learn when they run: its kernel imports it ahead. The points
# of every activity and the health's monthly populations take long at scale: a batch prepares
# them ahead (the populations after the points, which they are scored with).
NEEDS = Needs(
    preload=("sklearn.linear_model",),
    prepare=(
        ("scoring_points", "maops_utils.reports.scoring.study:prepare_points"),
        ("score_health", "maops_utils.reports.scoring.history:prepare_health"),
    ),
)
