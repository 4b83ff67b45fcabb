"""The scoring report's first lines: the threshold against its recommendation, the proposed
model against the current one, and each product's verdict and action in the words the
month's page and the product comparison use (`reports/actions.py`)."""

from __future__ import annotations

from pathlib import Path

from IPython.display import HTML

from ...metrics.labels import load_labels
from .. import actions
from ..views import bullet_list
from .study import ScoringStudy
from .tables import metrics_table, verdict_table
from .views import auc_sentence, scoring_threshold_sentence


def conclusion(study: ScoringStudy, params_dir: Path | str | None = None) -> HTML:
    """Three to five sentences with their numbers: what the threshold gives and what the
    objective recommends, how much better the proposed model ranks on the backtest, and
    each product's verdict with its action (products named as `params/labels.yaml` names
    them)."""
    loc = study.locale
    names = load_labels(Path(params_dir)).named("products", loc) if params_dir else {}
    items = [scoring_threshold_sentence(study).data.split("\n\n")[0]]
    auc = auc_sentence(study, metrics_table(study))
    if auc:
        items.append(auc)
    for v in actions.product_verdicts(verdict_table(study)):
        items.append(f"{v.verdict_text(loc)}: {v.sentence(loc, names.get(v.product))}")
    return bullet_list(items)
