"""The comparison's conclusion: one row per product (verdict, next step, the reason in one
line), the verdict and step being the scoring report's (`scoring.product_verdicts`, which
the notebook passes in; `reports/actions.py`), so the two reports never disagree about a
product; the comparison's tested differences are its evidence."""

from __future__ import annotations

import pandas as pd
from IPython.display import Markdown

from ...core.i18n import t
from .. import actions
from .advice import _pair, readiness
from .comparison import ProductComparison, _lang


def _tested(cmp: ProductComparison, product: str, lang: str) -> str:
    days = cmp.window.days
    mine = cmp.tests[
        (cmp.tests["product"] == product) & cmp.tests["verdict"].isin(["higher", "lower"])
    ]
    items = [
        f"{_pair(r, lang, days)} ({t('cmp_v_' + r['verdict'], lang)})" for _, r in mine.iterrows()
    ]
    return t("act_tested", lang, items="; ".join(items)) if items else ""


def conclusion_table(
    cmp: ProductComparison, verdicts: list[actions.ProductVerdict] | None
) -> pd.DataFrame:
    """Product, verdict, next step and reason for each compared product. Without the scoring
    report's verdicts, the step is the comparison's own readiness (`compare.readiness`)."""
    lang = _lang(cmp.locale)
    by_product = {v.product: v for v in verdicts or []}
    status = readiness(cmp).set_index("product")["status"]
    rows = []
    for p in cmp.products:
        v = by_product.get(p)
        tested = _tested(cmp, p, lang)
        if v is not None:
            fields = actions.fields(v.row, cmp.name(p, lang))
            verdict = v.verdict_text(lang)
            step = t(f"act_short_{v.action}", lang, **fields)
            reason = v.reason(lang)
        else:
            verdict = ""
            step = t(f"cmp_s_{status.get(p, 'baseline')}", lang)
            reason = ""
        reason = "; ".join(x for x in (reason, tested) if x)
        rows.append(
            {
                t("product", lang): cmp.name(p, lang),
                t("cmp_col_verdict", lang): verdict,
                t("cmp_col_action", lang): step,
                t("cmp_col_reason", lang): reason,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.set_index(t("product", lang)).rename_axis(None)


def verdict_note(cmp: ProductComparison, why: str) -> Markdown | None:
    """That the conclusion stands on the comparison alone, when the scoring report could not
    judge the products (its own report says why; its message may name local files)."""
    return Markdown(t("act_no_scoring", _lang(cmp.locale))) if why else None
