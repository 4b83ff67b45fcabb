"""The product comparison report (notebooks/03_product_comparison.ipynb): the products side by
side over the same window, tests that say where one really differs, and what to do about it
(docs/product-comparison.md).

`comparison` measures (`ProductComparison`, `from_review`), `statistics` tests, `channels`
splits by channel and campaign, `tables` writes the CSV tables and `advice` puts it in words;
what a notebook calls is exported here.
"""

from .advice import definitions, readiness, what_to_do
from .channels import product_campaigns, product_channels, regroup_counts
from .comparison import (
    CHANNEL_COLUMNS,
    LEAD_GRID,
    ProductComparison,
    Window,
    check_baseline,
    compare_products,
    comparison_window,
    from_review,
    lead_counts,
    metric_label,
    mql_quality,
    parse_products,
)
from .conclusion import conclusion_table, verdict_note
from .statistics import (
    COMPARISON_COLUMNS,
    REST,
    TESTED,
    VERDICTS,
    compare_rates,
    fisher_p,
    holm,
    newcombe_interval,
)
from .tables import comparison_table, report_tables

__all__ = [
    "CHANNEL_COLUMNS",
    "COMPARISON_COLUMNS",
    "LEAD_GRID",
    "REST",
    "TESTED",
    "VERDICTS",
    "ProductComparison",
    "Window",
    "check_baseline",
    "compare_products",
    "compare_rates",
    "comparison_table",
    "comparison_window",
    "conclusion_table",
    "definitions",
    "fisher_p",
    "from_review",
    "holm",
    "lead_counts",
    "metric_label",
    "mql_quality",
    "newcombe_interval",
    "parse_products",
    "product_campaigns",
    "product_channels",
    "readiness",
    "regroup_counts",
    "report_tables",
    "verdict_note",
    "what_to_do",
]
