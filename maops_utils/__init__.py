"""maops: analysis toolkit for marketing-automation operations.

What a notebook of your own may call is exported here and listed, with recipes, in
docs/api.md; everything else is the package's inside and may change. The names are loaded
on first use, so `import maops_utils` stays light:

    import maops_utils as mu

    settings = mu.notebook_settings(params_dir, month=month, data_dir=data_dir)
    dataset = mu.load_dataset(settings.data_dir, timezone=settings.timezone)
    mu.metric_values(dataset, "2026-10", ["mqls"], by="lead_source")
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> the module (under maops_utils) that defines it
_EXPORTS = {
    # settings
    "notebook_settings": "batch.config",
    "parse_as_of": "core.settings",
    "RunSettings": "core.settings",
    # the data
    "load_dataset": "contract.load",
    "Dataset": "contract.dataset",
    # metrics
    "metric_values": "metrics.compute",
    "compute_metrics": "metrics.compute",
    "load_catalogue": "metrics.catalogue",
    "month_range": "core.months",
    "month_bounds": "core.months",
    "wilson_interval": "core.stats",
    # the KPI review
    "load_review": "reports.kpi.review",
    "KpiReview": "reports.kpi.review",
    "resolve_month": "reports.kpi.review",
    "metrics_table": "reports.kpi.review",
    "scorecard": "reports.kpi.review",
    "trend": "reports.kpi.review",
    "channels": "reports.kpi.review",
    "email_campaigns": "reports.kpi.review",
    "report_tables": "reports.kpi.review",
    "cohort_conversion": "metrics.funnel",
    "velocity": "metrics.funnel",
    # charts and output
    "setup_notebook": "reports.plots",
    "bar_chart": "reports.plots",
    "write_tables": "core.io",
    # errors a notebook may raise or catch
    "ConfigError": "core.errors",
    "NotEnoughData": "core.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'maops_utils' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
