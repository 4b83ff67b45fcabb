"""What to do next month, out of one model: every recommendation a report makes about a
product's handling or a KPI's gap is made here, from the reports' own tables, so the month's
one page, the KPI report, the scoring report and the product comparison say the same thing
about the same product, with the same numbers and the window they were measured over.

A product's verdict is the scoring report's: whether the uniform score over- or under-rates
its leads (observed ÷ expected successes, with its interval) and the MQL threshold the
scoring objective recommends for it. The comparison's tests are the evidence beside it, never
a second verdict. A KPI's gap is the KPI report's: the whole business against its target,
with the product that falls shortest of its own target (or lost most since last month) as
the cause the page names.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..core.i18n import format_value, t
from ..core.schema import ALL

# evidence: the report and the cell (the notebook's own cell id) a reader checks a claim in
SCORING_EVIDENCE = "02_scoring_calibration.html#cell-id=products-md"
THRESHOLD_EVIDENCE = "02_scoring_calibration.html#cell-id=thresholds-md"
SCORECARD_EVIDENCE = "01_kpi_evaluation.html#cell-id=scorecard-md"
QUALITY_EVIDENCE = "00_data_quality.html"


@dataclass(frozen=True)
class ProductVerdict:
    """One product's verdict and action (`verdict`: over_scored, under_scored or fits;
    `action`: raise_threshold, own_rules, prioritise or keep) with the numbers behind it."""

    product: str
    verdict: str
    action: str
    row: dict

    def sentence(self, locale: str, name: str | None = None) -> str:
        """The action in one sentence, quoting its numbers and their window."""
        return t(f"act_{self.action}", locale, **fields(self.row, name or self.product))

    def reason(self, locale: str, name: str | None = None) -> str:
        """Why, in one line: observed against expected successes over the window."""
        key = "act_reason_fits" if self.verdict == "fits" else "act_reason"
        return t(key, locale, **fields(self.row, name or self.product))

    def verdict_text(self, locale: str) -> str:
        return t(f"act_verdict_{self.verdict}", locale)


@dataclass(frozen=True)
class Action:
    """One line of the month's "next month" list: what to do, and where its evidence is."""

    text: str
    evidence: str


@dataclass(frozen=True)
class Gap:
    """A KPI of the whole business behind its target this month, and its largest cause."""

    metric: str
    label: str
    value: str
    target: str
    attainment: float
    status: str
    cause: str
    product: str = ""  # the product the cause names, "" when none stands out
    evidence: str = SCORECARD_EVIDENCE


def product_verdicts(table: pd.DataFrame) -> list[ProductVerdict]:
    """The verdict and action of every product of `scoring_products.csv` (the scoring
    report's `verdict_table`; not the whole business).

    - over_scored (the score expects more successes than its MQLs bring): raise its threshold
      to the recommended one when that is higher, else give it rules of its own (no
      threshold on the common score helps);
    - under_scored: its MQLs go to sales first; a threshold below the current one cannot be
      judged from data judged at MQL time (leads below it were never passed);
    - fits (no evidence either way): keep the common model.
    """
    out = []
    for r in table.to_dict("records"):
        if r["product"] == ALL:
            continue
        flag = r.get("flag")
        if flag == "over":
            higher = _num(r["recommended"]) > _num(r["current_threshold"])
            verdict, action = "over_scored", "raise_threshold" if higher else "own_rules"
        elif flag == "under":
            verdict, action = "under_scored", "prioritise"
        else:
            verdict, action = "fits", "keep"
        out.append(ProductVerdict(str(r["product"]), verdict, action, r))
    return out


def _num(value) -> float:
    return float(value) if value is not None and pd.notna(value) else float("nan")


def fields(r: dict, name: str) -> dict:
    """A verdict row's numbers as its sentences write them (rates in %, thresholds as set)."""

    def f1(x) -> str:
        return "–" if pd.isna(x) else f"{float(x):.1f}"

    def pct(x) -> str:
        return "–" if pd.isna(x) else f"{float(x):.0%}"

    def th(x) -> str:
        return "–" if pd.isna(x) else f"{float(x):g}"

    return {
        "product": name,
        "observed": pct(r.get("observed")),
        "expected": pct(r.get("expected")),
        "ratio": "–" if pd.isna(r.get("ratio")) else f"{r['ratio']:.2f}",
        "low": "–" if pd.isna(r.get("ratio_ci_low")) else f"{r['ratio_ci_low']:.2f}",
        "high": "–" if pd.isna(r.get("ratio_ci_high")) else f"{r['ratio_ci_high']:.2f}",
        "events": f"{int(r.get('events') or 0):,}",
        "n": f"{int(r.get('n') or 0):,}",
        "threshold": th(r.get("current_threshold")),
        "recommended": th(r.get("recommended")),
        "mqls_now": f1(r.get("current_mqls_per_month")),
        "mqls_new": f1(r.get("mqls_per_month")),
        "precision_now": pct(r.get("current_precision")),
        "precision_new": pct(r.get("precision")),
        "sqls_now": f1(r.get("current_sqls_per_month")),
        "sqls_new": f1(r.get("sqls_per_month")),
        "first": r.get("first_month") or "–",
        "last": r.get("last_month") or "–",
        "th_first": r.get("threshold_first_month") or "–",
        "th_last": r.get("threshold_last_month") or "–",
    }


def kpi_gaps(
    metrics: pd.DataFrame,
    catalogue,
    month: str,
    *,
    locale: str,
    currency: str,
    names: dict[str, str] | None = None,
    limit: int = 3,
) -> list[Gap]:
    """The KPIs of the whole business behind target this month (`at_risk` or `off_track` in
    `metrics.csv`), furthest behind first, each with its cause: the product furthest behind
    its own target, else the product that fell most since last month."""
    names = names or {}
    now = metrics[metrics["month"] == month]
    whole = now[(now["product"] == ALL) & now["status"].isin(["at_risk", "off_track"])]
    gaps = []
    for r in whole.to_dict("records"):
        kpi = catalogue[r["metric"]]
        shortfall = (1 - r["attainment"]) if kpi.higher_is_better else (r["attainment"] - 1)
        parts = now[(now["metric"] == r["metric"]) & (now["product"] != ALL)]
        cause, product = _cause(parts, kpi, locale, currency, names)
        gaps.append(
            (
                -shortfall,
                Gap(
                    metric=r["metric"],
                    label=kpi.label(locale),
                    value=format_value(r["value"], kpi.unit, locale, currency),
                    target=format_value(r["target"], kpi.unit, locale, currency),
                    attainment=float(r["attainment"]),
                    status=str(r["status"]),
                    cause=cause,
                    product=product,
                ),
            )
        )
    gaps.sort(key=lambda g: g[0])
    return [g for _, g in gaps[:limit]]


def _cause(
    parts: pd.DataFrame, kpi, locale: str, currency: str, names: dict[str, str]
) -> tuple[str, str]:
    def fmt(x) -> str:
        return format_value(None if pd.isna(x) else x, kpi.unit, locale, currency)

    sign = 1 if kpi.higher_is_better else -1
    own = parts[parts["target"].notna() & parts["attainment"].notna()]
    if not own.empty:
        worst = own.loc[(sign * own["attainment"]).idxmin()]
        if sign * (worst["attainment"] - 1) < 0:
            name = names.get(worst["product"], worst["product"])
            return t(
                "act_cause_target",
                locale,
                product=name,
                value=fmt(worst["value"]),
                target=fmt(worst["target"]),
                attainment=f"{worst['attainment']:.0%}",
            ), name
    moved = parts[parts["previous"].notna() & parts["value"].notna()]
    if not moved.empty:
        delta = sign * (moved["value"] - moved["previous"])
        worst = moved.loc[delta.idxmin()]
        if delta.min() < 0:
            name = names.get(worst["product"], worst["product"])
            return t(
                "act_cause_change",
                locale,
                product=name,
                previous=fmt(worst["previous"]),
                value=fmt(worst["value"]),
            ), name
    return t("act_cause_none", locale), ""


def next_month(
    verdicts: list[ProductVerdict],
    gaps: list[Gap],
    warnings: int,
    *,
    locale: str,
    names: dict[str, str] | None = None,
) -> list[Action]:
    """The month's one list of actions: each product whose handling should change, each KPI
    gap, and the data's warnings to look at; in that order, every one with its evidence."""
    names = names or {}
    out = [
        Action(
            v.sentence(locale, names.get(v.product)),
            THRESHOLD_EVIDENCE if v.action == "raise_threshold" else SCORING_EVIDENCE,
        )
        for v in verdicts
        if v.action != "keep"
    ]
    out += [
        Action(
            t(
                "act_gap",
                locale,
                product=g.product,
                label=g.label,
                value=g.value,
                target=g.target,
                cause=g.cause,
            ),
            g.evidence,
        )
        for g in gaps
        if g.product  # a gap no product explains is shown, but names no one to act
    ]
    if warnings:
        out.append(Action(t("act_warnings", locale, count=warnings), QUALITY_EVIDENCE))
    return out
