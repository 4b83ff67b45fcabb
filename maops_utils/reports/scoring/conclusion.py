"""The scoring report's first lines: the threshold against its recommendation, the proposed
model against the current one, and each product's verdict and action in the words the
month's page and the product comparison use (`reports/actions.py`)."""

from __future__ import annotations

from pathlib import Path

from IPython.display import HTML

from ...contract.dataset import Dataset
from ...core.errors import MaopsError
from ...metrics.labels import Labels
from .. import actions
from ..views import bullet_list
from .model import load_config
from .study import ScoringStudy, run
from .tables import metrics_table, verdict_table
from .views import auc_sentence, scoring_threshold_sentence


def conclusion(study: ScoringStudy, *, labels: Labels | None = None) -> HTML:
    """Three to five sentences with their numbers: what the threshold gives and what the
    objective recommends, how much better the proposed model ranks on the backtest, and
    each product's verdict with its action (products named as `params/labels.yaml` names
    them)."""
    loc = study.locale
    names = labels.named("products", loc) if labels is not None else {}
    items = [scoring_threshold_sentence(study).data.split("\n\n")[0]]
    auc = auc_sentence(study, metrics_table(study))
    if auc:
        items.append(auc)
    for v in actions.product_verdicts(verdict_table(study)):
        items.append(f"{v.verdict_text(loc)}: {v.sentence(loc, names.get(v.product))}")
    return bullet_list(items)


def product_verdicts(
    dataset: Dataset, params_dir: Path | str, month: str, *, locale: str = "ja"
) -> tuple[list[actions.ProductVerdict] | None, str]:
    """Each product's verdict and action for `month`, as this report gives them (its study
    is kept with the input: another report asking reads it), or None and why when the data
    cannot support a scoring study (that stops this report, not the one asking)."""
    try:
        study = run(dataset, load_config(Path(params_dir)), month, locale=locale)
    except MaopsError as exc:
        return None, str(exc).splitlines()[0]
    return actions.product_verdicts(verdict_table(study)), ""
