"""Charts of the reports. Each function returns a matplotlib Figure; none shows or saves it."""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping, Sequence

import matplotlib as mpl
import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..core.i18n import format_amount_short, t
from ..core.schema import ALL

# Figures are built without pyplot so that none is left open: a notebook displays the returned
# figure exactly once, and batch runs keep no global figure state.

# The bundled Japanese font: no system font is assumed on the machine that renders reports.
JAPANESE_FONT = "IPAexGothic"
PALETTE = "colorblind"

# A report page's column is 1,052 px wide (batch/templates/report.css): a figure at most this
# wide (at figure.dpi 100) is shown at its own size, so its 10 pt text stays 10 pt; a wider
# one would be shrunk by the browser.
DPI = 100
PAGE_WIDTH = 10.5
MIN_FONT_PT = 10
# High-density screens (and zooming in a meeting room) need twice the pixels; the page still
# shows the chart at its size in inches.
HIDPI = 2

_SIZES = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT,
    "legend.fontsize": MIN_FONT_PT,
    "legend.title_fontsize": MIN_FONT_PT,
    "figure.titlesize": 13,
}


def setup_style() -> None:
    """Seaborn's theme with the Japanese font (set_theme alone would reset the font), text
    sizes a meeting can read, and, in a notebook, charts displayed at twice their density."""
    sns.set_theme(style="whitegrid", font=JAPANESE_FONT, palette=PALETTE, rc=_SIZES)
    mpl.rcParams["axes.unicode_minus"] = False
    mpl.rcParams["figure.dpi"] = DPI
    _display_sharp()


def chart_text(value: object, limit: int = 0) -> str:
    """A name from the data or labels.yaml as plain chart text: `$` would start matplotlib's
    math mode; longer than `limit`, it is cut with an ellipsis."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def code_name(code: str, names: Mapping[str, str] | None, locale: str = "ja") -> str:
    """A product's or channel's name on a chart: the one `names` gives it (params/labels.yaml),
    "all" for `ALL`, else its code, as plain chart text. Channels without a source
    (`unknown`, `sales_sourced`) are named in the report's words."""
    if code == ALL:
        return t("all", locale)
    name = (names or {}).get(code)
    if not name and code in ("unknown", "sales_sourced"):
        return t(code, locale)
    return chart_text(name or code)


def chart_title(fig: Figure) -> str:
    """What a chart is about, for its alt text: its suptitle, else its first axes' title."""
    titles = [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes if ax.get_visible()]
    title = next((x for x in titles if x.strip()), "")
    # chart text escapes `$` (matplotlib's math mode); a reader of the alt text sees it plain
    return " ".join(title.replace("\\$", "$").split())


def _png_size(png: bytes) -> tuple[int, int]:
    # a PNG starts with its signature and the IHDR chunk: width, height as big-endian 32 bits
    return struct.unpack(">II", png[16:24])


def sharp_png(fig: Figure) -> tuple[bytes, dict[str, object]] | None:
    """`fig` as a PNG of HIDPI times its pixels, with the size to display it at and its title
    as alt text: an IPython formatter's `(data, metadata)`; None for an empty figure."""
    if not fig.axes:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi * HIDPI, bbox_inches="tight")
    png = buffer.getvalue()
    width, height = _png_size(png)
    meta: dict[str, object] = {"width": round(width / HIDPI), "height": round(height / HIDPI)}
    title = chart_title(fig)
    if title:
        meta["alt"] = title
    return png, meta


def _display_sharp() -> None:
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        # after `%matplotlib inline`, which registers its own 1x formatter for figures
        shell.display_formatter.formatters["image/png"].for_type(Figure, sharp_png)


def thousands_format(x: float, _pos: int) -> str:
    return f"{x:,.0f}"


def percent_format(x: float, _pos: int) -> str:
    return f"{x * 100:.0f}%"


def amount_formatter(currency: str, locale: str) -> FuncFormatter:
    """Axis ticks as amounts in the units the page's readers count in (`format_amount_short`)."""
    return FuncFormatter(lambda x, _pos: format_amount_short(x, currency, locale))


def funnel_panel(
    ax: Axes, names: Sequence[str], values: Sequence[float], colors: Sequence[object]
) -> None:
    """One funnel's stages as bars on a log axis, so that SQLs, deals and wins stay visible
    beside the leads, each labelled with its count and its conversion from the stage above."""
    ax.set_xscale("log")
    ax.barh(list(names), [max(float(v), 0.0) for v in values], color=list(colors))
    top = max([float(v) for v in values] + [1.0])
    previous = 0.0
    for y, value in enumerate(values):
        note = f"{value:,.0f}"
        if previous:
            note += f" ({value / previous:.0%})"
        ax.text(max(float(value), 1.0) * 1.15, y, note, va="center")
        previous = float(value)
    # room on the right for the largest bar's label: nearly a decade on a log axis
    ax.set_xlim(0.7, top * 8)
    ax.xaxis.set_major_locator(LogLocator(base=10))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_formatter(FuncFormatter(thousands_format))
    ax.grid(False, axis="y")


def funnel_chart(
    funnel: pd.DataFrame,
    *,
    month: str,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Horizontal bars per stage, one panel per product, with stage-to-stage conversion noted.

    Args:
        funnel: rows `product, stage, value, order` as from `review.funnel`.
        names: product code -> name (params/labels.yaml), the panels' titles; codes without.
    """
    setup_style()
    products = list(dict.fromkeys(funnel["product"]))
    # two panels a row: each wide enough for its stages' labels at a readable size
    ncols = min(len(products), 2)
    nrows = (len(products) + ncols - 1) // ncols
    fig = Figure(figsize=(PAGE_WIDTH, 2.3 * nrows + 1.0))
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False)
    colors = sns.color_palette(PALETTE, n_colors=funnel["order"].nunique())
    for ax, product in zip(axes.flat, products, strict=False):
        part = funnel[funnel["product"] == product].sort_values("order")
        funnel_panel(ax, list(part["stage"]), list(part["value"]), colors[: len(part)])
        ax.set_title(code_name(product, names, locale))
    for ax in list(axes.flat)[len(products) :]:
        ax.set_visible(False)
    axes.flat[0].invert_yaxis()  # the axes share y: inverting one inverts all, top stage first
    fig.suptitle(t("funnel_title", locale, month=month))
    fig.supxlabel(t("funnel_axis", locale), fontsize=MIN_FONT_PT + 1)
    fig.tight_layout()
    return fig


def trend_chart(
    trend: pd.DataFrame,
    labels: dict[str, str],
    *,
    units: dict[str, str] | None = None,
    locale: str = "ja",
    currency: str = "JPY",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Small multiples, one per metric: a line per product, its target dashed in the same colour.

    Args:
        trend: rows `month, product, metric, value, target` as from `review.trend`; `ALL` rows
            are left out (its scale would flatten the products).
        labels: metric -> display label of the metrics to draw, in drawing order.
        units: metric -> unit (`rate` axes read in %, `currency` in the page's units of
            `currency`, others in thousands-separated numbers).
        names: product code -> name (params/labels.yaml), the legend's; codes without.
    """
    setup_style()
    trend = trend[(trend["product"] != "ALL") & trend["metric"].isin(labels)]
    metrics = [m for m in labels if m in set(trend["metric"])]
    products = sorted(trend["product"].unique())
    colors = dict(zip(products, sns.color_palette(PALETTE, n_colors=len(products)), strict=True))
    # three panels a row from five metrics on: the trend is one screen of the report's four
    ncols = 1 if len(metrics) == 1 else 2 if len(metrics) <= 4 else 3
    nrows = max(1, (len(metrics) + ncols - 1) // ncols)
    fig = Figure(figsize=(PAGE_WIDTH, 2.5 * nrows))
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
    months = sorted(trend["month"].unique())
    for ax, metric in zip(axes.flat, metrics, strict=False):
        part = trend[trend["metric"] == metric]
        for product in products:
            p = part[part["product"] == product].set_index("month").reindex(months)
            shown = code_name(product, names, locale)
            ax.plot(months, p["value"], marker="o", ms=3, color=colors[product], label=shown)
            if p["target"].notna().any():
                ax.plot(months, p["target"], ls="--", lw=1, color=colors[product])
        ax.set_title(labels.get(metric, metric))
        unit = (units or {}).get(metric)
        if unit == "rate":
            ax.yaxis.set_major_formatter(FuncFormatter(percent_format))
        elif unit == "currency":
            ax.yaxis.set_major_formatter(amount_formatter(currency, locale))
        else:
            ax.yaxis.set_major_formatter(FuncFormatter(thousands_format))
        ax.tick_params(axis="x", labelrotation=60)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, title=t("product", locale), loc="upper right")
    if months:
        fig.suptitle(t("trend_title", locale, first=months[0], last=months[-1]))
    fig.tight_layout(rect=(0, 0, 0.9, 0.97))
    return fig


def channel_chart(
    channels: pd.DataFrame,
    labels: dict[str, str],
    *,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Per channel: new leads (bars) and MQL rate with its 95% interval, the whole business
    as a dashed reference line.

    Args:
        channels: rows as from `review.channels`.
        labels: metric -> display label (new_leads, mql_rate).
        names: channel code -> name (params/labels.yaml), the rows'; codes without.
    """
    setup_style()
    total = channels[channels["channel"] == "ALL"]
    part = channels[(channels["channel"] != "ALL") & (channels["new_leads"] > 0)]
    part = part.sort_values("new_leads", ascending=True)
    rows = [code_name(c, names, locale) for c in part["channel"]]
    fig = Figure(figsize=(PAGE_WIDTH, 0.45 * len(part) + 1.9))
    ax_leads, ax_rate = fig.subplots(1, 2, sharey=True)
    color = sns.color_palette(PALETTE)[0]
    ax_leads.barh(rows, part["new_leads"], color=color)
    ax_leads.set_title(labels.get("new_leads", "new_leads"))
    ax_leads.xaxis.set_major_formatter(FuncFormatter(thousands_format))
    rate = part["mql_rate"] * 100
    err = [
        (rate - part["mql_rate_ci_low"] * 100).clip(lower=0).fillna(0),
        (part["mql_rate_ci_high"] * 100 - rate).clip(lower=0).fillna(0),
    ]
    ax_rate.errorbar(rate, rows, xerr=err, fmt="o", color=sns.color_palette(PALETTE)[1], capsize=3)
    if not total.empty and pd.notna(total["mql_rate"].iloc[0]):
        ax_rate.axvline(total["mql_rate"].iloc[0] * 100, ls="--", lw=1, color="grey")
    ax_rate.set_title(f"{labels.get('mql_rate', 'mql_rate')} (%)")
    ax_rate.set_xlim(left=0)
    fig.suptitle(t("channel_chart_title", locale))
    fig.tight_layout()
    return fig


def setup_notebook() -> None:
    """Notebook display settings: whole cell texts, aligned Japanese, the report's chart style."""
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_rows", 200)
    pd.set_option("display.unicode.east_asian_width", True)
    setup_style()


def cohort_heatmap(
    cohorts: pd.DataFrame,
    *,
    stage: str,
    window: int,
    stage_label: str,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Cohort month × product heatmap of the share reaching `stage` within `window` days;
    cohorts too young to judge stay blank.

    Args:
        cohorts: rows as from `funnel.cohort_conversion`.
        names: product code -> name (params/labels.yaml), the rows'; codes without.
    """
    setup_style()
    part = cohorts[(cohorts["stage"] == stage) & (cohorts["window_days"] == window)]
    grid = part.pivot_table(
        index="product", columns="cohort", values="rate", aggfunc="first", dropna=False
    )
    order = [p for p in dict.fromkeys(part["product"]) if p != "ALL"] + ["ALL"]
    grid = grid.reindex([p for p in order if p in grid.index]) * 100
    grid.index = [code_name(p, names, locale) for p in grid.index]
    fig = Figure(figsize=(PAGE_WIDTH, 0.6 * len(grid) + 1.8))
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
        ax.text(value + top * 0.01, y, text, va="center")
    ax.xaxis.set_major_formatter(FuncFormatter(percent_format if percent else thousands_format))
    ax.set_xlim(0, top * 1.15 if top > 0 else 1)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
