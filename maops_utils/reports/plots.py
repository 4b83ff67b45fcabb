"""Charts of the reports. Each function returns a matplotlib Figure; none shows or saves it."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..core.i18n import t

# Figures are built without pyplot so that none is left open: a notebook displays the returned
# figure exactly once, and batch runs keep no global figure state.

# The bundled Japanese font: no system font is assumed on the machine that renders reports.
JAPANESE_FONT = "IPAexGothic"
PALETTE = "colorblind"


def setup_style() -> None:
    """Seaborn's theme with the Japanese font (set_theme alone would reset the font)."""
    sns.set_theme(style="whitegrid", font=JAPANESE_FONT, palette=PALETTE)
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["figure.dpi"] = 100


def thousands_format(x: float, _pos: int) -> str:
    return f"{x:,.0f}"


def percent_format(x: float, _pos: int) -> str:
    return f"{x * 100:.0f}%"


def funnel_chart(funnel: pd.DataFrame, *, month: str, locale: str = "ja") -> Figure:
    """Horizontal bars per stage, one panel per product, with stage-to-stage conversion noted.

    Args:
        funnel: rows `product, stage, value, order` as from `review.funnel`.
    """
    setup_style()
    products = list(dict.fromkeys(funnel["product"]))
    fig = Figure(figsize=(3.2 * len(products), 3.4))
    axes = fig.subplots(1, len(products), sharey=True)
    axes = [axes] if len(products) == 1 else list(axes)
    colors = sns.color_palette(PALETTE, n_colors=funnel["order"].nunique())
    for ax, product in zip(axes, products, strict=True):
        part = funnel[funnel["product"] == product].sort_values("order")
        ax.barh(part["stage"], part["value"], color=colors[: len(part)])
        top = float(part["value"].max() or 1)
        previous = None
        for y, value in enumerate(part["value"]):
            note = f"{value:,.0f}"
            if previous:
                note += f"  ({value / previous:.0%})"
            ax.text(value + top * 0.02, y, note, va="center", fontsize=8)
            previous = value
        ax.set_xlim(0, top * 1.6)
        ax.set_title(t("all", locale) if product == "ALL" else product)
        ax.xaxis.set_major_formatter(FuncFormatter(thousands_format))
        ax.set_xlabel(t("count", locale))
    axes[0].invert_yaxis()  # the axes share y: inverting one inverts all, top stage first
    fig.suptitle(t("funnel_title", locale, month=month))
    fig.tight_layout()
    return fig


def trend_chart(
    trend: pd.DataFrame,
    labels: dict[str, str],
    *,
    units: dict[str, str] | None = None,
    locale: str = "ja",
) -> Figure:
    """Small multiples, one per metric: a line per product, its target dashed in the same colour.

    Args:
        trend: rows `month, product, metric, value, target` as from `review.trend`; `ALL` rows
            are left out (its scale would flatten the products).
        labels: metric -> display label of the metrics to draw, in drawing order.
        units: metric -> unit (`rate` axes read in %, others in thousands-separated numbers).
    """
    setup_style()
    trend = trend[(trend["product"] != "ALL") & trend["metric"].isin(labels)]
    metrics = [m for m in labels if m in set(trend["metric"])]
    products = sorted(trend["product"].unique())
    colors = dict(zip(products, sns.color_palette(PALETTE, n_colors=len(products)), strict=True))
    ncols = 2 if len(metrics) > 1 else 1
    nrows = max(1, (len(metrics) + ncols - 1) // ncols)
    fig = Figure(figsize=(11, 3.0 * nrows))
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
    months = sorted(trend["month"].unique())
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = trend[trend["metric"] == metric]
        for product in products:
            p = part[part["product"] == product].set_index("month").reindex(months)
            ax.plot(months, p["value"], marker="o", ms=3, color=colors[product], label=product)
            if p["target"].notna().any():
                ax.plot(months, p["target"], ls="--", lw=1, color=colors[product])
        ax.set_title(labels.get(metric, metric))
        rate = (units or {}).get(metric) == "rate"
        ax.yaxis.set_major_formatter(FuncFormatter(percent_format if rate else thousands_format))
        ax.tick_params(axis="x", labelrotation=60, labelsize=8)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, title=t("product", locale), loc="upper right")
    if months:
        fig.suptitle(t("trend_title", locale, first=months[0], last=months[-1]))
    fig.tight_layout(rect=(0, 0, 0.92, 0.97))
    return fig


def channel_chart(channels: pd.DataFrame, labels: dict[str, str], *, locale: str = "ja") -> Figure:
    """Per channel: new leads (bars) and MQL rate with its 95% interval, the whole business
    as a dashed reference line.

    Args:
        channels: rows as from `review.channels`.
        labels: metric -> display label (new_leads, mql_rate).
    """
    setup_style()
    total = channels[channels["channel"] == "ALL"]
    part = channels[(channels["channel"] != "ALL") & (channels["new_leads"] > 0)]
    part = part.sort_values("new_leads", ascending=True)
    names = [t(c, locale) if c in ("unknown", "sales_sourced") else c for c in part["channel"]]
    fig = Figure(figsize=(10, 0.45 * len(part) + 1.6))
    ax_leads, ax_rate = fig.subplots(1, 2, sharey=True)
    color = sns.color_palette(PALETTE)[0]
    ax_leads.barh(names, part["new_leads"], color=color)
    ax_leads.set_title(labels.get("new_leads", "new_leads"))
    ax_leads.xaxis.set_major_formatter(FuncFormatter(thousands_format))
    rate = part["mql_rate"] * 100
    err = [
        (rate - part["mql_rate_ci_low"] * 100).clip(lower=0).fillna(0),
        (part["mql_rate_ci_high"] * 100 - rate).clip(lower=0).fillna(0),
    ]
    ax_rate.errorbar(rate, names, xerr=err, fmt="o", color=sns.color_palette(PALETTE)[1], capsize=3)
    if not total.empty and pd.notna(total["mql_rate"].iloc[0]):
        ax_rate.axvline(total["mql_rate"].iloc[0] * 100, ls="--", lw=1, color="grey")
    ax_rate.set_title(f"{labels.get('mql_rate', 'mql_rate')} (%)")
    ax_rate.set_xlim(left=0)
    fig.tight_layout()
    return fig


def setup_notebook() -> None:
    """Notebook display settings: whole cell texts, aligned Japanese, the report's chart style."""
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.unicode.east_asian_width", True)
    setup_style()


def cohort_heatmap(
    cohorts: pd.DataFrame, *, stage: str, window: int, stage_label: str, locale: str = "ja"
) -> Figure:
    """Cohort month × product heatmap of the share reaching `stage` within `window` days;
    cohorts too young to judge stay blank.

    Args:
        cohorts: rows as from `funnel.cohort_conversion`.
    """
    setup_style()
    part = cohorts[(cohorts["stage"] == stage) & (cohorts["window_days"] == window)]
    grid = part.pivot_table(
        index="product", columns="cohort", values="rate", aggfunc="first", dropna=False
    )
    order = [p for p in dict.fromkeys(part["product"]) if p != "ALL"] + ["ALL"]
    grid = grid.reindex([p for p in order if p in grid.index]) * 100
    grid.index = [t("all", locale) if p == "ALL" else p for p in grid.index]
    fig = Figure(figsize=(11, 0.6 * len(grid) + 1.8))
    ax = fig.subplots()
    sns.heatmap(
        grid, ax=ax, annot=True, fmt=".1f", cmap="Blues", cbar_kws={"label": "%"}, linewidths=0.5
    )
    ax.set_xlabel(t("cohort", locale))
    ax.set_ylabel("")
    ax.set_title(t("cohort_title", locale, stage=stage_label, days=window))
    fig.tight_layout()
    return fig


def bar_chart(values: pd.Series, *, title: str = "", percent: bool = False) -> Figure:
    """Horizontal bars of `values` (its index as labels, largest first) in the reports' style:
    the Japanese font, the colour-blind palette, values written at the bars' ends."""
    setup_style()
    data = values.dropna().sort_values()
    fig = Figure(figsize=(6.4, 0.45 * max(len(data), 1) + 1.2))
    ax = fig.subplots()
    ax.barh([str(i) for i in data.index], data.to_numpy(), color=sns.color_palette(PALETTE)[0])
    top = float(data.abs().max()) if len(data) else 1.0
    for y, value in enumerate(data.to_numpy()):
        text = f"{value:.1%}" if percent else f"{value:,.0f}"
        ax.text(value + top * 0.01, y, text, va="center", fontsize=9)
    ax.xaxis.set_major_formatter(FuncFormatter(percent_format if percent else thousands_format))
    ax.set_xlim(0, top * 1.15 if top > 0 else 1)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
