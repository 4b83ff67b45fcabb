"""The data-quality report (notebooks/00_data_quality.ipynb): what the input holds, what is
missing, late or duplicated (`checks`)."""

from ...core.needs import Needs

# The 名寄せ candidate pairs take long at scale: a batch computes them ahead.
NEEDS = Needs(prepare=(("pairs", "maops_utils.reports.quality.checks:prepare_pairs"),))
