"""Pacing in pictures and words: the fiscal year's cumulative chart and one sentence per KPI,
from a `pacing.Pacing`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...core.i18n import format_amount_short, format_ratio, format_status, t
from ...core.schema import ALL
from ..plots import (
    MIN_FONT_PT,
    PAGE_WIDTH,
    PALETTE,
    amount_formatter,
    chart_text,
    setup_style,
    thousands_format,
)
from .pacing import Pacing
from .review import KpiReview


def period_title(name: str, locale: str = "ja") -> str:
    """A fiscal period's name as a reader says it: "FY2026-Q3" is 2026年度 第3四半期 / Q3
    FY2026, "FY2026" is 2026年度 / FY2026."""
    year, _, quarter = name.removeprefix("FY").partition("-Q")
    if quarter:
        return t("pace_quarter_name", locale, year=year, quarter=quarter)
    return t("pace_year_name", locale, year=year)


def pace_value(value: float, unit: str, currency: str = "JPY", locale: str = "ja") -> str:
    """A period total or a monthly need as the pacing writes it: an amount in the units its
    readers count in (1,234万円), a count whole, or with one decimal below 100 when it is a
    share of a month (2.5 a month); empty when missing."""
    if value is None or math.isnan(value):
        return ""
    if unit == "currency":
        return format_amount_short(value, currency, locale)
    if abs(value) < 100 and not float(value).is_integer():
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def pacing_sentence(
    p: Pacing, label: str, *, unit: str = "count", currency: str = "JPY", locale: str = "ja"
) -> str:
    """One sentence on `p` for the report: the projection with its 80% interval, the target
    and status, what is needed per month from here, the method when it is seasonal, and a
    word of caution when the history is short. Returns the sentence."""

    def fmt(value: float) -> str:
        return pace_value(value, unit, currency, locale)

    period = period_title(p.period_name, locale)
    has_target = not math.isnan(p.target)
    status = t(p.status, locale) if p.status else ""
    status = status if locale == "ja" else status.lower()  # mid-sentence in English
    if p.months_remaining == 0:
        if not has_target:
            return t(
                "pace_sentence_ended_no_target",
                locale,
                label=label,
                period=period,
                actual=fmt(p.actual),
            )
        return t(
            "pace_sentence_ended",
            locale,
            label=label,
            period=period,
            actual=fmt(p.actual),
            target=fmt(p.target),
            status=status,
        )
    if p.missing_months:
        return t(
            "pace_sentence_partial",
            locale,
            label=label,
            period=period,
            actual=fmt(p.actual),
            months=p.missing_months,
        )
    if math.isnan(p.projection):
        return t(
            "pace_sentence_no_projection", locale, label=label, period=period, actual=fmt(p.actual)
        )
    words = dict(
        label=label,
        period=period,
        projection=fmt(p.projection),
        low=fmt(p.low80),
        high=fmt(p.high80),
    )
    if not has_target:
        text = t("pace_sentence_no_target", locale, **words)
    else:
        text = t(
            "pace_sentence",
            locale,
            **words,
            target=fmt(p.target),
            status=status,
            probability=format_ratio(p.probability),
        )
        gap = p.target - p.actual
        if not p.higher_is_better:
            text += t(
                "pace_allowed",
                locale,
                months=p.months_remaining,
                per_month=fmt(p.needed_per_month),
            )
        elif p.needed_per_month == 0:
            text += t("pace_met", locale)
        else:
            text += t(
                "pace_needed",
                locale,
                months=p.months_remaining,
                amount=fmt(gap),
                per_month=fmt(p.needed_per_month),
            )
    if p.method == "seasonal":
        text += t("pace_seasonal", locale)
    if p.small_sample:
        text += t("pace_small_sample", locale)
    return text


def pacing_chart(
    p: Pacing,
    values: pd.Series,
    *,
    label: str,
    product_name: str,
    unit: str = "count",
    currency: str = "JPY",
    locale: str = "ja",
) -> Figure:
    """The fiscal year's cumulative chart of one KPI and product: the actual running total
    (solid), the pro-rata target (thin), the projection dashed from the last actual month to
    the period's end with its 80% band shaded and its end value labelled, and the quarters'
    boundaries. Returns the Figure.

    Args:
        p: the year's `Pacing` (`pacing.pacings`, period "year").
        values: the KPI's monthly values for the product ("YYYY-MM" -> value), holding at
            least the year's months so far.
        label, product_name: the KPI's and the product's names, as the report shows them.
        unit: the KPI's unit (`currency` axes in the page's units of `currency`).
    """
    setup_style()
    colors = sns.color_palette(PALETTE)
    months = list(p.months)
    x = np.arange(len(months))
    elapsed = p.months_elapsed
    actual = values.reindex(months[:elapsed]).fillna(0).cumsum().to_numpy()
    fig = Figure(figsize=(PAGE_WIDTH, 3.6))
    ax = fig.subplots()
    ax.plot(x[:elapsed], actual, marker="o", ms=4, color=colors[0], label=t("pace_actual", locale))
    if not math.isnan(p.target):
        ax.plot(
            x,
            p.cumulative_target,
            lw=1,
            color="grey",
            label=t("pace_target_line", locale),
        )

    def fmt(value: float) -> str:
        return pace_value(value, unit, currency, locale)

    if p.path:
        ahead = x[elapsed - 1 :]
        centre = [p.actual, *(c for c, _, _ in p.path)]
        low = [p.actual, *(lo for _, lo, _ in p.path)]
        high = [p.actual, *(hi for _, _, hi in p.path)]
        ax.plot(ahead, centre, ls="--", color=colors[1], label=t("pace_projection", locale))
        ax.fill_between(
            ahead, low, high, color=colors[1], alpha=0.2, lw=0, label=t("pace_band", locale)
        )
        ax.annotate(
            t(
                "pace_end_label",
                locale,
                projection=fmt(p.projection),
                low=fmt(p.low80),
                high=fmt(p.high80),
            ),
            (x[-1], centre[-1]),
            xytext=(-6, 10),
            textcoords="offset points",
            ha="right",
            fontsize=MIN_FONT_PT,
        )
    # the quarters' boundaries: a fiscal year reads in quarters in the review
    top = ax.get_ylim()[1]
    for q in range(4):
        if q:
            ax.axvline(3 * q - 0.5, color="grey", lw=0.8, ls=":")
        ax.text(3 * q + 1, top, f"Q{q + 1}", ha="center", va="bottom", fontsize=MIN_FONT_PT)
    ax.set_xticks(x, [m[2:] for m in months], rotation=0)
    ax.set_xlim(-0.5, len(months) - 0.5)
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    if unit == "currency":
        ax.yaxis.set_major_formatter(amount_formatter(currency, locale))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(thousands_format))
    ax.legend(loc="upper left")
    ax.set_title(
        t(
            "pace_chart_title",
            locale,
            label=chart_text(label),
            product=chart_text(product_name),
            period=period_title(p.period_name, locale),
        ),
        pad=18,
    )
    fig.tight_layout()
    return fig


def pacing_view(
    items: Sequence[Pacing], rv: KpiReview, *, products: Sequence[str] = (ALL,)
) -> pd.DataFrame | Markdown:
    """The pacing as a table for reading: per KPI, product and period, the total so far
    against its pro-rata target, the projection with its 80% interval, the target, what is
    needed per month and the status with the probability behind it. `products`: the rows
    shown (the whole business by default; `rv.products` for the appendix)."""
    loc, cur = rv.locale, rv.currency
    rows = []
    for p in items:
        if p.product not in products:
            continue
        unit = rv.catalogue[p.kpi].unit

        def fmt(value: float, unit: str = unit) -> str:
            return pace_value(value, unit, cur, loc)

        interval = f"{fmt(p.low80)}–{fmt(p.high80)}" if not math.isnan(p.low80) else ""
        row = {t("kpi", loc): rv.label(p.kpi)}
        if len(products) > 1:
            row[t("product", loc)] = rv.product_name(p.product)
        row |= {
            t("pace_col_period", loc): period_title(p.period_name, loc),
            t("pace_col_months", loc): f"{p.months_elapsed}/{p.months_total}",
            t("pace_col_actual", loc): fmt(p.actual),
            t("pace_col_pro_rata", loc): fmt(p.pro_rata_target),
            t("pace_col_projection", loc): fmt(p.projection),
            t("pace_col_interval", loc): interval,
            t("pace_col_target", loc): fmt(p.target),
            t("pace_col_needed", loc): fmt(p.needed_per_month) if p.months_remaining else "",
            t("pace_col_probability", loc): format_ratio(p.probability),
            t("status", loc): format_status(p.status, loc),
            t("pace_col_method", loc): t(f"pace_method_{p.method}", loc) if p.method else "",
        }
        rows.append(row)
    if not rows:
        return Markdown(t("pace_none", loc))
    return pd.DataFrame(rows).set_index(t("kpi", loc)).rename_axis(None)


def pacing_sentences(items: Sequence[Pacing], rv: KpiReview) -> list[str]:
    """One sentence per paced KPI and period of the whole business (`pacing_sentence`); one
    saying how to get them when nothing is paced (no KGI with a target, no `pace: true`)."""
    if not any(p.product == ALL for p in items):
        return [t("pace_none", rv.locale)]
    return [
        pacing_sentence(
            p,
            rv.label(p.kpi),
            unit=rv.catalogue[p.kpi].unit,
            currency=rv.currency,
            locale=rv.locale,
        )
        for p in items
        if p.product == ALL
    ]


def year_chart(items: Sequence[Pacing], values: pd.DataFrame, rv: KpiReview) -> Figure | None:
    """The cumulative chart of the first paced KPI's fiscal year for the whole business (a KGI
    comes first in the catalogue), or None when nothing is paced. `values`: the monthly
    values the pacing read (`pacing.paced_values`)."""
    year = next((p for p in items if p.product == ALL and p.period == "year"), None)
    if year is None:
        return None
    mine = values[(values["metric"] == year.kpi) & (values["product"] == ALL)]
    return pacing_chart(
        year,
        mine.set_index("month")["value"],
        label=rv.label(year.kpi),
        product_name=rv.product_name(ALL),
        unit=rv.catalogue[year.kpi].unit,
        currency=rv.currency,
        locale=rv.locale,
    )


def backtest_view(table: pd.DataFrame, rv: KpiReview) -> pd.DataFrame | Markdown:
    """The backtest (`pacing_backtest.backtest_table`) for reading: per KPI and product, the months
    projected and how often the realised quarter fell inside the 80% and 95% intervals, with
    the mean error as a share of the quarter, for the method the report uses (`auto`)."""
    loc = rv.locale
    mine = table[table["method"] == "auto"]
    if mine.empty:
        return Markdown(t("pace_none", loc))
    out = pd.DataFrame(
        {
            t("kpi", loc): [rv.label(k) for k in mine["kpi"]],
            t("product", loc): [rv.product_name(p) for p in mine["product"]],
            t("pace_col_tested", loc): mine["tested"].to_numpy(),
            t("pace_col_cover80", loc): [format_ratio(v) for v in mine["coverage80"]],
            t("pace_col_cover95", loc): [format_ratio(v) for v in mine["coverage95"]],
            t("pace_col_error", loc): [format_ratio(v) for v in mine["relative_error"]],
        }
    )
    return out.set_index(t("kpi", loc)).rename_axis(None)


def quarter_line(
    table: pd.DataFrame,
    catalogue,
    *,
    locale: str = "ja",
    currency: str = "JPY",
    names: Mapping[str, str] | None = None,
) -> str | None:
    """ONE line for the month's page from `pacing.csv` (`table`): each KGI's projection for
    the quarter of the whole business, with its 80% interval, target and status, e.g.
    "2026年度 第3四半期の見込み: 受注金額 2,469万円（80%区間 1,327万円〜3,611万円、目標 2,700万円、
    ▲ 注意）", then the products whose own projection is off track (`names`: their names).
    None when no KGI is paced or the quarter has nothing left to project."""
    quarter = table[table["period"] == "quarter"]
    if not quarter.empty:
        quarter = quarter[[catalogue[k].tier == "KGI" for k in quarter["kpi"]]]
    rows = quarter[quarter["product"] == ALL]
    if rows.empty:
        return None

    def fmt(value: float, kpi: str) -> str:
        return pace_value(value, catalogue[kpi].unit, currency, locale)

    parts = [
        t(
            "pace_line_part",
            locale,
            label=catalogue[r["kpi"]].label(locale),
            projection=fmt(r["projection"], r["kpi"]),
            low=fmt(r["low80"], r["kpi"]),
            high=fmt(r["high80"], r["kpi"]),
            target=fmt(r["target"], r["kpi"]) or "–",
            status=format_status(r["status"], locale) if isinstance(r["status"], str) else "–",
        )
        for r in rows.to_dict("records")
        if not pd.isna(r["low80"])
    ]
    if not parts:
        return None
    sep = "、" if locale == "ja" else "; "
    period = period_title(str(rows["period_name"].iloc[0]), locale)
    line = t("pace_line", locale, period=period, parts=sep.join(parts))
    behind = quarter[(quarter["product"] != ALL) & (quarter["status"] == "off_track")]
    if not behind.empty:
        products = [
            t(
                "pace_line_product",
                locale,
                product=(names or {}).get(r["product"], r["product"]),
                label=catalogue[r["kpi"]].label(locale),
                projection=fmt(r["projection"], r["kpi"]),
                target=fmt(r["target"], r["kpi"]),
            )
            for r in behind.to_dict("records")
        ]
        line += t("pace_line_behind", locale, products=sep.join(products))
    return line
