"""The product comparison's charts (notebooks/03_product_comparison.ipynb): small multiples,
one panel per product, in the house style of `reports/plots.py`; each returns its figure."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib as mpl
import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...core.i18n import format_amount_short, t
from ..plots import (
    MIN_FONT_PT,
    PAGE_WIDTH,
    PALETTE,
    amount_formatter,
    chart_text,
    code_name,
    funnel_panel,
    percent_format,
    setup_style,
    thousands_format,
)

# Figures are built without pyplot so that none is left open: a notebook displays the returned
# figure exactly once, and batch runs keep no global figure state.

# Small multiples for notebooks/03_product_comparison.ipynb: one panel per product (or per
# rate) on shared axes, drawn with seaborn's axes-level functions on a Figure (seaborn's
# FacetGrid would create the figure through pyplot).

VERDICT_COLORS = {
    "higher": 2,  # green in the colorblind palette
    "lower": 3,  # vermillion
    "no_difference": 7,  # grey
    "too_few": 7,
    "baseline": 0,  # blue
    "": 0,
}


def _verdict_color(verdict: str):
    if verdict == "too_few":
        return (0.78, 0.78, 0.78)
    return sns.color_palette(PALETTE, n_colors=10)[VERDICT_COLORS.get(verdict, 7)]


def product_funnel_chart(
    counts: pd.DataFrame,
    labels: dict[str, str],
    *,
    products: list[str],
    first: str,
    last: str,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """One panel per product, sharing the count axis: the window's count at each stage, on a
    log axis with its conversion from the stage above (`plots.funnel_panel`).

    Args:
        counts: rows `product, metric, value` (as `compare.ProductComparison.counts`).
        labels: stage metric -> display label, in funnel order (e.g. new_leads ... won_deals).
        products: the panels, in order.
        first, last: the window's first and last month (for the title).
        names: product code -> name (params/labels.yaml), the panels' titles; codes without.
    """
    setup_style()
    stages = list(labels)
    ncols = min(max(len(products), 1), 3)
    nrows = max((len(products) + ncols - 1) // ncols, 1)
    fig = Figure(figsize=(PAGE_WIDTH, 2.3 * nrows + 1.0))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
    colors = sns.color_palette(PALETTE, n_colors=len(stages))
    part = counts[counts["metric"].isin(stages)]
    steps = [labels[s] for s in stages]
    for ax, product in zip(axes.flat, products, strict=False):
        mine = part[part["product"] == product].set_index("metric")["value"].reindex(stages)
        funnel_panel(ax, steps, list(mine.fillna(0.0)), colors)
        ax.set_title(code_name(product, names, locale))
    for ax in list(axes.flat)[len(products) :]:
        ax.set_visible(False)
    axes.flat[0].invert_yaxis()  # shared: the first stage on top in every panel
    fig.suptitle(t("cmp_funnel_title", locale, first=first, last=last))
    fig.supxlabel(t("funnel_axis", locale), fontsize=MIN_FONT_PT + 1)
    fig.tight_layout()
    return fig


def rate_comparison_chart(
    tests: pd.DataFrame,
    labels: dict[str, str],
    *,
    products: list[str],
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """One panel per compared conversion, products on a shared axis: the rate with its 95%
    interval, coloured by verdict, and the compared group's rate as a cross.

    Args:
        tests: rows as from `compare.compare_rates`.
        labels: metric -> display label, in panel order.
        products: the rows of every panel, in order.
        names: product code -> name (params/labels.yaml), the rows'; codes without.
    """
    setup_style()
    metrics = [m for m in labels if m in set(tests["metric"])]
    width = min(3.6 * max(len(metrics), 1) + 1.5, PAGE_WIDTH)
    fig = Figure(figsize=(width, 0.5 * len(products) + 2.2))
    axes = fig.subplots(1, max(len(metrics), 1), sharey=True, squeeze=False)[0]
    ypos = {p: i for i, p in enumerate(products)}
    for ax, metric in zip(axes, metrics, strict=False):
        part = tests[(tests["metric"] == metric) & tests["product"].isin(products)]
        for r in part.itertuples():
            y = ypos[r.product]
            color = _verdict_color(r.verdict)
            if pd.notna(r.value):
                low = max(r.value - r.ci_low, 0) if pd.notna(r.ci_low) else 0
                high = max(r.ci_high - r.value, 0) if pd.notna(r.ci_high) else 0
                xerr = [[low * 100], [high * 100]]
                ax.errorbar(r.value * 100, y, xerr=xerr, fmt="o", color=color, capsize=3, ms=7)
            if pd.notna(r.compared_value):
                ax.plot(r.compared_value * 100, y, marker="x", color="black", ms=7, ls="")
        ax.set_title(labels[metric])
        ax.set_xlim(left=0)
        ax.set_xlabel("%")
    axes[0].set_yticks(range(len(products)), [code_name(p, names, locale) for p in products])
    axes[0].set_ylim(len(products) - 0.5, -0.5)
    verdicts = ("higher", "lower", "no_difference", "too_few", "baseline")
    seen = [v for v in verdicts if v in set(tests["verdict"])]
    handles = [mpl.lines.Line2D([], [], marker="o", ls="", color=_verdict_color(v)) for v in seen]
    handles.append(mpl.lines.Line2D([], [], marker="x", ls="", color="black"))
    words = [t(f"cmp_v_{v}", locale) for v in seen] + [t("cmp_compared_with", locale)]
    fig.legend(handles, words, loc="lower center", ncols=len(handles), frameon=False)
    fig.suptitle(t("cmp_rates_title", locale))
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def cohort_comparison_chart(
    cohorts: pd.DataFrame,
    stages: dict[str, str],
    *,
    products: list[str],
    window: int,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Rows of panels per stage, one column per product, each row on a shared axis: the share
    of each month's leads reaching the stage within `window` days (mature cohorts only), with
    its 95% interval as a band and the compared products combined as a dashed line.

    Args:
        cohorts: rows as from `funnel.cohort_conversion` (one window).
        stages: stage -> display label (e.g. mql, sql).
        products: the columns, in order.
        names: product code -> name (params/labels.yaml), the columns' titles; codes without.
    """
    setup_style()
    part = cohorts[(cohorts["window_days"] == window) & cohorts["stage"].isin(stages)]
    mine = part[part["product"].isin(products)]
    pooled = mine.groupby(["cohort", "stage"], as_index=False)[["leads", "reached"]].sum()
    mature = mine.groupby(["cohort", "stage"])["mature"].all()
    keys = zip(pooled["cohort"], pooled["stage"], strict=True)
    pooled["mature"] = [bool(mature.get(key, False)) for key in keys]
    pooled["rate"] = (pooled["reached"] / pooled["leads"].where(pooled["leads"] > 0)).where(
        pooled["mature"]
    )
    months = sorted(part["cohort"].unique())
    shown = mine[mine["mature"]]
    fig = Figure(figsize=(PAGE_WIDTH, 2.6 * len(stages) + 1.2))
    axes = fig.subplots(len(stages), len(products), sharex=True, sharey="row", squeeze=False)
    color = sns.color_palette(PALETTE)[0]
    for i, (stage, label) in enumerate(stages.items()):
        ref = pooled[pooled["stage"] == stage].set_index("cohort").reindex(months)
        top = shown.loc[shown["stage"] == stage, "ci_high"].max()
        top = float(top) * 100 * 1.05 if pd.notna(top) and top > 0 else 1.0
        for j, product in enumerate(products):
            ax = axes[i][j]
            p = mine[(mine["stage"] == stage) & (mine["product"] == product)]
            p = p.set_index("cohort").reindex(months)
            x = range(len(months))
            ax.plot(x, p["rate"] * 100, marker="o", ms=3, color=color)
            ax.fill_between(x, p["ci_low"] * 100, p["ci_high"] * 100, color=color, alpha=0.2)
            ax.plot(x, ref["rate"] * 100, ls="--", lw=1, color="grey")
            if i == 0:
                ax.set_title(code_name(product, names, locale))
            if j == 0:
                ax.set_ylabel(f"{label} (%)")
            # every other month when they are many: each label at a readable size
            step = 2 if len(months) > 8 else 1
            ax.set_xticks(list(x)[::step], months[::step], rotation=60)
            ax.set_ylim(0, top)
    fig.suptitle(t("cmp_cohort_title", locale, days=window))
    fig.tight_layout()
    return fig


def share_chart(
    quality: pd.DataFrame,
    labels: dict[str, str],
    *,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Per product, side by side: its share of MQLs, of sales effort (SQLs, opportunities)
    and of revenue.

    Args:
        quality: rows as from `compare.mql_quality`.
        labels: share column -> display label, in bar order.
        names: product code -> name (params/labels.yaml), the bars' labels; codes without.
    """
    setup_style()
    long = quality.melt(id_vars="product", value_vars=list(labels), var_name="what")
    long["what"] = long["what"].map(labels)
    long["value"] = long["value"] * 100
    long["product"] = [code_name(p, names, locale) for p in long["product"]]
    fig = Figure(figsize=(min(max(2.4 * quality["product"].nunique(), 6), PAGE_WIDTH), 3.8))
    ax = fig.subplots()
    sns.barplot(long, x="product", y="value", hue="what", ax=ax, palette=PALETTE)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.0f")
    ax.set_ylabel("%")
    ax.set_xlabel(t("product", locale))
    ax.legend(title="")
    ax.set_title(t("cmp_quality_title", locale))
    fig.tight_layout()
    return fig


def product_heatmaps(
    table: pd.DataFrame,
    panels: dict[str, tuple[str, str]],
    *,
    row: str,
    products: list[str],
    first: str,
    last: str,
    label: str | None = None,
    locale: str = "ja",
    currency: str = "JPY",
    names: Mapping[str, str] | None = None,
    row_names: Mapping[str, str] | None = None,
) -> Figure:
    """Heatmaps `row` × product side by side, one per column of `panels`, sharing both axes,
    "–" where there is nothing (no lead, no cost); a grid mostly empty (campaigns run for one
    product each) becomes sorted bars of the rows and products that have leads
    (`product_bars`).

    Args:
        table: rows as from `compare.product_channels` (row `channel`) or
            `compare.product_campaigns` (row `campaign_id`, label `name`).
        panels: column -> (display label, unit: count, rate or currency).
        row: the column holding the rows.
        products: the columns, in order.
        first, last: the window's first and last month (for the title).
        label: a column with the rows' display names (campaign names: drawn as plain text).
        names: product code -> name (params/labels.yaml); codes without.
        row_names: row code -> name (the channels' in params/labels.yaml), where `label`
            gives none.
    """
    setup_style()
    kind = "channel" if row == "channel" else "campaign"
    title = t(f"cmp_heatmap_{kind}", locale, first=first, last=last)
    if table.empty:
        fig = Figure(figsize=(8, 1.6))
        ax = fig.subplots()
        ax.axis("off")
        ax.text(0.5, 0.5, t("cmp_no_campaigns", locale), ha="center", va="center")
        fig.suptitle(title)
        return fig
    rows = list(dict.fromkeys(table[row]))
    cells = table.drop_duplicates([row, "product"]).set_index([row, "product"])
    filled = cells[list(panels)].notna().any(axis=1) & cells.index.get_level_values(1).isin(
        products
    )
    # half the grid or less holds a value: its blanks would outweigh its numbers
    if 2 * int(filled.sum()) <= len(rows) * len(products):
        bars_title = t(f"cmp_{kind}_title", locale, first=first, last=last)
        return product_bars(
            table, panels, row=row, products=products, title=bars_title, label=label,
            locale=locale, currency=currency, names=names, row_names=row_names,
        )  # fmt: skip
    shown = _row_names(table, row, label, locale, row_names)
    fig = Figure(figsize=(PAGE_WIDTH, 0.42 * len(rows) + 1.9))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    cmaps = {"count": "Blues", "rate": "Greens", "currency": "Oranges"}
    for ax, (column, (name, unit)) in zip(axes, panels.items(), strict=True):
        # one cell per (row, product); an empty value stays empty (pivot_table would sum it to 0)
        grid = cells[column].unstack("product").reindex(index=rows, columns=products)
        grid = grid.astype("float64")
        notes = grid.map(lambda v, u=unit: _value_text(v, u, locale, currency))
        shade = grid * 100 if unit == "rate" else grid
        cmap = cmaps.get(unit, "Blues")
        # a panel without any value (no cost at all) needs a colour range of its own
        empty = {} if grid.notna().to_numpy().any() else {"vmin": 0.0, "vmax": 1.0}
        sns.heatmap(
            shade, ax=ax, annot=notes.to_numpy(), fmt="", cmap=cmap, cbar=False, linewidths=0.5,
            mask=grid.isna().to_numpy(), **empty,
        )  # fmt: skip
        for i, j in zip(*grid.isna().to_numpy().nonzero(), strict=True):
            ax.text(j + 0.5, i + 0.5, "–", ha="center", va="center", color="grey")
        ax.grid(False)
        ax.set_title(f"{name} (%)" if unit == "rate" else name)
        ax.set_xlabel(t("product", locale))
        ax.set_ylabel("")
        columns = [code_name(p, names, locale) for p in products]
        ax.set_xticks([i + 0.5 for i in range(len(products))], columns)
    axes[0].set_yticks([i + 0.5 for i in range(len(rows))], shown, rotation=0)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _row_names(
    table: pd.DataFrame,
    row: str,
    label: str | None,
    locale: str,
    row_names: Mapping[str, str] | None = None,
) -> list[str]:
    """Each row's display name, as plain chart text: its label if any, else its name in
    `row_names`, else its code."""
    names = dict(zip(table[row], table[label], strict=True)) if label else {}
    words = {"unknown": t("unknown", locale), "sales_sourced": t("sales_sourced", locale)}
    shown = []
    for r in dict.fromkeys(table[row]):
        name = names.get(r)
        if not (isinstance(name, str) and name.strip()):
            name = (row_names or {}).get(r) or words.get(r, r)
        shown.append(chart_text(name, 28))
    return shown


def _value_text(value: float, unit: str, locale: str, currency: str) -> str:
    if pd.isna(value):
        return ""
    if unit == "rate":
        return f"{value * 100:.1f}"
    if unit == "currency":
        return format_amount_short(value, currency, locale)
    return f"{value:,.0f}"


def product_bars(
    table: pd.DataFrame,
    panels: dict[str, tuple[str, str]],
    *,
    row: str,
    products: list[str],
    title: str,
    label: str | None = None,
    locale: str = "ja",
    currency: str = "JPY",
    names: Mapping[str, str] | None = None,
    row_names: Mapping[str, str] | None = None,
) -> Figure:
    """The rows × products that have leads as horizontal bars, most leads on top, one panel
    per column of `panels` sharing the rows, coloured by product; each bar labelled with its
    value, "–" where there is none (no cost, no MQL). A row of several products is named
    with its product.

    Args:
        table, panels, row, products, label, names, row_names: as `product_heatmaps`.
        title: the chart's title.
    """
    setup_style()
    rows = _row_names(table, row, label, locale, row_names)
    shown_rows = dict(zip(dict.fromkeys(table[row]), rows, strict=True))
    first = next(iter(panels))
    part = table.drop_duplicates([row, "product"])
    part = part[part["product"].isin(products) & (part[first].fillna(0) > 0)]
    part = part.sort_values(first, ascending=False, kind="stable")
    several = part[row].duplicated(keep=False)
    shown = [
        f"{shown_rows[r]} ({code_name(p, names, locale)})" if twice else shown_rows[r]
        for r, p, twice in zip(part[row], part["product"], several, strict=True)
    ]
    palette = dict(zip(products, sns.color_palette(PALETTE, n_colors=len(products)), strict=True))
    colors = [palette[p] for p in part["product"]]
    fig = Figure(figsize=(PAGE_WIDTH, 0.34 * len(part) + 2.0))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    y = list(range(len(part)))
    for ax, (column, (name, unit)) in zip(axes, panels.items(), strict=True):
        values = part[column].astype("float64")
        ax.barh(y, values.fillna(0.0), color=colors)
        top = float(values.max()) if values.notna().any() else 1.0
        top = top if top > 0 else 1.0
        for i, value in enumerate(values):
            text = _value_text(value, unit, locale, currency)
            if unit == "rate" and text:
                text += "%"
            x = 0.0 if pd.isna(value) else float(value)
            ax.text(x + top * 0.02, i, text or "–", va="center", color="black" if text else "grey")
        ax.set_xlim(0, top * 1.45)
        if unit == "rate":
            ax.xaxis.set_major_formatter(FuncFormatter(percent_format))
        elif unit == "currency":
            ax.xaxis.set_major_formatter(amount_formatter(currency, locale))
        else:
            ax.xaxis.set_major_formatter(FuncFormatter(thousands_format))
        ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(3))
        ax.set_title(name)
        ax.grid(False, axis="y")
    axes[0].set_yticks(y, shown)
    axes[0].set_ylim(len(part) - 0.5, -0.5)
    seen = [p for p in products if p in set(part["product"])]
    handles = [mpl.patches.Patch(color=palette[p]) for p in seen]
    fig.legend(
        handles, [code_name(p, names, locale) for p in seen], title=t("product", locale), loc="lower center",
        ncols=max(len(seen), 1), frameon=False,
    )  # fmt: skip
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig
