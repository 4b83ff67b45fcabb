"""The month's one page for the monthly review (振り返り会): the KPI cards, the KGIs by product,
the largest gaps with their cause, and the one "next month" list (`reports/actions.py`).

Everything here is read from the tables the month's reports wrote (`metrics.csv`,
`trend.csv`, `scoring_products.csv`), never computed a second way: the page and the reports
show the same numbers. Pure: the batch reads the files and renders the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..core.i18n import format_change, format_value, t
from ..core.months import month_bounds, shift_month
from ..core.schema import ALL
from ..metrics.stages import Funnel
from . import actions
from .kpi import pacing_charts, pipeline
from .scoring import health

# where the outlook's lines are shown in full
PACING_EVIDENCE = "01_kpi_evaluation.html#cell-id=pacing-md"
PIPELINE_EVIDENCE = "01_kpi_evaluation.html#cell-id=pipeline-md"
HEALTH_EVIDENCE = "02_scoring_calibration.html#cell-id=health-md"


@dataclass(frozen=True)
class Card:
    """One KPI of the whole business this month. `attainment` is actual ÷ target (None
    without a target); `status` on_track / at_risk / off_track / ""; `change` since last
    month as the reader should read it: in points for rates, relative otherwise."""

    metric: str
    label: str
    tier: str
    value: str
    target: str
    attainment: float | None
    status: str
    change: str
    previous: str
    higher_is_better: bool
    spark: list[float] = field(default_factory=list)  # the last 13 months, oldest first
    spark_months: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProductRow:
    """A product's KGIs: (value, target, attainment, status) per KGI, formatted."""

    product: str
    name: str
    cells: list[tuple[str, str, str, str]]


@dataclass(frozen=True)
class Outlook:
    """One line of what lies ahead (the quarter's projection, leads past their SLA, a score
    drifting) and the report cell it comes from."""

    text: str
    evidence: str


@dataclass(frozen=True)
class MonthPage:
    month: str
    lead: list[str]
    cards: list[Card]
    kgis: list[str]  # the KGIs' labels, the columns of `products`
    products: list[ProductRow]
    gaps: list[actions.Gap]
    actions: list[actions.Action]
    warnings: int
    outlook: list[Outlook] = field(default_factory=list)


def _spark(trend: pd.DataFrame, metric: str, month: str) -> tuple[list[float], list[str]]:
    months = [shift_month(month, -k) for k in range(12, -1, -1)]
    mine = trend[(trend["product"] == ALL) & (trend["metric"] == metric)]
    by_month = dict(zip(mine["month"], mine["value"], strict=True))
    kept = [m for m in months if m in by_month]
    return [float(by_month[m]) for m in kept], kept


def cards(
    metrics: pd.DataFrame, trend: pd.DataFrame, catalogue, month: str, locale: str, currency: str
) -> list[Card]:
    """The KGIs, then the KPIs the catalogue marks `trend`, of the whole business."""
    now = metrics[(metrics["month"] == month) & (metrics["product"] == ALL)]
    out = []
    for kgi in (True, False):
        for r in now.to_dict("records"):
            kpi = catalogue[r["metric"]]
            if (kpi.tier == "KGI") != kgi or not (kpi.tier == "KGI" or kpi.trend):
                continue
            spark, spark_months = _spark(trend, r["metric"], month)
            out.append(
                Card(
                    metric=r["metric"],
                    label=kpi.label(locale),
                    tier=kpi.tier,
                    value=format_value(_v(r["value"]), kpi.unit, locale, currency),
                    target=format_value(_v(r["target"]), kpi.unit, locale, currency),
                    attainment=_v(r["attainment"]),
                    status=r["status"] if isinstance(r["status"], str) else "",
                    change=format_change(r["value"], r["previous"], kpi.is_rate),
                    previous=format_value(_v(r["previous"]), kpi.unit, locale, currency),
                    higher_is_better=kpi.higher_is_better,
                    spark=spark,
                    spark_months=spark_months,
                )
            )
    return out


def _v(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def product_kgis(
    metrics: pd.DataFrame, catalogue, month: str, locale: str, currency: str, names: dict
) -> tuple[list[str], list[ProductRow]]:
    now = metrics[(metrics["month"] == month) & (metrics["product"] != ALL)]
    kgis = [m for m in dict.fromkeys(now["metric"]) if catalogue[m].tier == "KGI"]
    rows = []
    for product in sorted(now["product"].dropna().unique(), key=str):
        mine = now[now["product"] == product].set_index("metric")
        cells = []
        for m in kgis:
            kpi = catalogue[m]
            r = mine.loc[m] if m in mine.index else None
            if r is None:
                cells.append(("", "", "", ""))
                continue
            att = _v(r["attainment"])
            cells.append(
                (
                    format_value(_v(r["value"]), kpi.unit, locale, currency),
                    format_value(_v(r["target"]), kpi.unit, locale, currency),
                    "" if att is None else f"{att:.0%}",
                    r["status"] if isinstance(r["status"], str) else "",
                )
            )
        rows.append(ProductRow(str(product), names.get(product, str(product)), cells))
    return [catalogue[m].label(locale) for m in kgis], rows


def _lead(
    month: str, found: list[Card], kgis, products, gaps, todo, warnings: int, locale: str
) -> list[str]:
    kgi_cards = [c for c in found if c.tier == "KGI"]
    out = []
    if kgi_cards:
        parts = [
            t(
                "mp_kgi_part",
                locale,
                label=c.label,
                value=c.value,
                target=c.target or "–",
                attainment="–" if c.attainment is None else f"{c.attainment:.0%}",
                status=t(c.status, locale) if c.status else "–",
            )
            for c in kgi_cards
        ]
        out.append(
            t(
                "mp_lead_kgis",
                locale,
                month=month,
                parts=("、" if locale == "ja" else "; ").join(parts),
            )
        )
    judged = [c for c in found if c.status]
    counts = {s: sum(c.status == s for c in judged) for s in ("on_track", "at_risk", "off_track")}
    out.append(t("mp_lead_counts", locale, n=len(judged), **counts))
    if gaps:
        g = gaps[0]
        out.append(
            t(
                "mp_lead_gap",
                locale,
                label=g.label,
                value=g.value,
                target=g.target,
                attainment=f"{g.attainment:.0%}",
                cause=g.cause,
            )
        )
    behind = [
        t("mp_product_part", locale, product=r.name, label=label, value=c[0], target=c[1])
        for r in products
        for label, c in zip(kgis, r.cells, strict=True)
        if c[3] == "off_track"
    ]
    if behind:
        sep = "、" if locale == "ja" else "; "
        out.append(t("mp_lead_products", locale, parts=sep.join(behind)))
    out.append(
        t("mp_lead_actions", locale, n=len(todo)) if todo else t("mp_lead_no_actions", locale)
    )
    if warnings:
        out.append(t("mp_lead_warnings", locale, count=warnings))
    return out


def outlook(
    month: str,
    *,
    catalogue,
    locale: str,
    currency: str,
    names: dict[str, str],
    pacing: pd.DataFrame | None = None,
    waiting: pd.DataFrame | None = None,
    flows: pd.DataFrame | None = None,
    funnel_def: Funnel | None = None,
    drift: pd.DataFrame | None = None,
) -> list[Outlook]:
    """The page's lines on what lies ahead, from the KPI report's `pacing.csv` (`pacing`) and
    `pipeline.csv` / `pipeline_flows.csv` (`waiting`, `flows`) and the scoring report's
    `score_drift.csv` (`drift`): the quarter's projection of the KGIs (and the products off track), the leads past their
    SLA when there are any, and the score's drift when its PSI or AUC crossed a threshold. A
    table the report did not write gives no line."""
    out = []
    if pacing is not None and not pacing.empty:
        line = pacing_charts.quarter_line(
            pacing, catalogue, locale=locale, currency=currency, names=names
        )
        if line:
            out.append(Outlook(line, PACING_EVIDENCE))
    if waiting is not None and flows is not None and funnel_def is not None:
        inv = pipeline.Inventory(
            month=month,
            by="product",
            as_of=month_bounds(month)[1],
            funnel=funnel_def,
            open=waiting[waiting["group_by"] == "product"].reset_index(drop=True),
            flows=flows[flows["group_by"] == "product"].reset_index(drop=True),
        )
        line = pipeline.month_page_line(inv, locale=locale, names=names)
        if line:
            out.append(Outlook(line, PIPELINE_EVIDENCE))
    if drift is not None and not drift.empty:
        line = health.page_line_of(drift.iloc[0].to_dict(), locale)
        if line:
            out.append(Outlook(line, HEALTH_EVIDENCE))
    return out


def month_page(
    month: str,
    *,
    metrics: pd.DataFrame,
    trend: pd.DataFrame | None,
    catalogue,
    locale: str,
    currency: str,
    names: dict[str, str] | None = None,
    verdicts: pd.DataFrame | None = None,
    warnings: int = 0,
    ahead: list[Outlook] | None = None,
) -> MonthPage:
    """The month's page from the reports' tables (`verdicts`: `scoring_products.csv`, None
    when the scoring report did not run; `warnings`: the data's warnings this run; `ahead`:
    the `outlook` lines)."""
    names = names or {}
    trend = trend if trend is not None else metrics[["month", "product", "metric", "value"]]
    found = cards(metrics, trend, catalogue, month, locale, currency)
    kgis, products = product_kgis(metrics, catalogue, month, locale, currency, names)
    gaps = actions.kpi_gaps(
        metrics, catalogue, month, locale=locale, currency=currency, names=names
    )
    product_verdicts = actions.product_verdicts(verdicts) if verdicts is not None else []
    todo = actions.next_month(product_verdicts, gaps, warnings, locale=locale, names=names)
    return MonthPage(
        month=month,
        lead=_lead(month, found, kgis, products, gaps, todo, warnings, locale),
        cards=found,
        kgis=kgis,
        products=products,
        gaps=gaps,
        actions=todo,
        warnings=warnings,
        outlook=list(ahead or []),
    )
