"""The product comparison's charts (notebooks/03_product_comparison.ipynb): small multiples,
one panel per product, in the house style of `reports/plots.py`; each returns its figure."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...core.i18n import t
from ..plots import PALETTE, setup_style, thousands_format

# Figures are built without pyplot so that none is left open: a notebook displays the returned
# figure exactly once, and batch runs keep no global figure state.

# The bundled Japanese font: no system font is assumed on the machine that renders reports.


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


def _text(value: object, limit: int = 0) -> str:
    """A name from the data as plain chart text: `$` would start matplotlib's math mode."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("$", r"\$")


def product_funnel_chart(
    counts: pd.DataFrame,
    labels: dict[str, str],
    *,
    products: list[str],
    first: str,
    last: str,
    locale: str = "ja",
) -> Figure:
    """One panel per product, sharing the count axis: the window's count at each stage.

    Args:
        counts: rows `product, metric, value` (as `compare.ProductComparison.counts`).
        labels: stage metric -> display label, in funnel order (e.g. new_leads ... won_deals).
        products: the panels, in order.
        first, last: the window's first and last month (for the title).
    """
    setup_style()
    stages = list(labels)
    fig = Figure(figsize=(max(3.0 * len(products), 6), 3.2))
    axes = fig.subplots(1, len(products), sharex=True, sharey=True, squeeze=False)[0]
    colors = sns.color_palette(PALETTE, n_colors=len(stages))
    part = counts[counts["metric"].isin(stages)]
    top = float(part["value"].max()) if not part.empty else 1.0
    for ax, product in zip(axes, products, strict=True):
        mine = part[part["product"] == product].set_index("metric")["value"].reindex(stages)
        mine = mine.fillna(0.0)
        names = [labels[s] for s in stages]
        sns.barplot(
            x=mine.to_numpy(), y=names, hue=names, palette=colors, legend=False, ax=ax, orient="h"
        )
        for y, value in enumerate(mine):
            ax.text(value + top * 0.02, y, f"{value:,.0f}", va="center", fontsize=8)
        ax.set_title(_text(product))
        ax.set_xlim(0, (top or 1.0) * 1.35)
        ax.xaxis.set_major_formatter(FuncFormatter(thousands_format))
        ax.set_xlabel(t("count", locale))
        ax.set_ylabel("")
    fig.suptitle(t("cmp_funnel_title", locale, first=first, last=last))
    fig.tight_layout()
    return fig


def rate_comparison_chart(
    tests: pd.DataFrame,
    labels: dict[str, str],
    *,
    products: list[str],
    locale: str = "ja",
) -> Figure:
    """One panel per compared conversion, products on a shared axis: the rate with its 95%
    interval, coloured by verdict, and the compared group's rate as a cross.

    Args:
        tests: rows as from `compare.compare_rates`.
        labels: metric -> display label, in panel order.
        products: the rows of every panel, in order.
    """
    setup_style()
    metrics = [m for m in labels if m in set(tests["metric"])]
    fig = Figure(figsize=(3.6 * max(len(metrics), 1) + 1.5, 0.5 * len(products) + 2.0))
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
        ax.set_title(labels[metric], fontsize=10)
        ax.set_xlim(left=0)
        ax.set_xlabel("%")
    axes[0].set_yticks(range(len(products)), [_text(p) for p in products])
    axes[0].set_ylim(len(products) - 0.5, -0.5)
    verdicts = ("higher", "lower", "no_difference", "too_few", "baseline")
    seen = [v for v in verdicts if v in set(tests["verdict"])]
    handles = [mpl.lines.Line2D([], [], marker="o", ls="", color=_verdict_color(v)) for v in seen]
    handles.append(mpl.lines.Line2D([], [], marker="x", ls="", color="black"))
    names = [t(f"cmp_v_{v}", locale) for v in seen] + [t("cmp_compared_with", locale)]
    fig.legend(handles, names, loc="lower center", ncols=len(handles), fontsize=8, frameon=False)
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
) -> Figure:
    """Rows of panels per stage, one column per product, each row on a shared axis: the share
    of each month's leads reaching the stage within `window` days (mature cohorts only), with
    its 95% interval as a band and the compared products combined as a dashed line.

    Args:
        cohorts: rows as from `funnel.cohort_conversion` (one window).
        stages: stage -> display label (e.g. mql, sql).
        products: the columns, in order.
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
    fig = Figure(figsize=(max(3.2 * len(products), 6), 2.6 * len(stages) + 0.8))
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
                ax.set_title(_text(product))
            if j == 0:
                ax.set_ylabel(f"{label} (%)")
            ax.set_xticks(list(x), months, rotation=60, fontsize=7)
            ax.set_ylim(0, top)
    fig.suptitle(t("cmp_cohort_title", locale, days=window))
    fig.tight_layout()
    return fig


def share_chart(quality: pd.DataFrame, labels: dict[str, str], *, locale: str = "ja") -> Figure:
    """Per product, side by side: its share of MQLs, of sales effort (SQLs, opportunities)
    and of revenue.

    Args:
        quality: rows as from `compare.mql_quality`.
        labels: share column -> display label, in bar order.
    """
    setup_style()
    long = quality.melt(id_vars="product", value_vars=list(labels), var_name="what")
    long["what"] = long["what"].map(labels)
    long["value"] = long["value"] * 100
    long["product"] = long["product"].map(_text)
    fig = Figure(figsize=(max(2.4 * quality["product"].nunique(), 6), 3.6))
    ax = fig.subplots()
    sns.barplot(long, x="product", y="value", hue="what", ax=ax, palette=PALETTE)
    for container in ax.containers:
        ax.bar_label(container, fmt="%.0f", fontsize=7)
    ax.set_ylabel("%")
    ax.set_xlabel(t("product", locale))
    ax.legend(title="", fontsize=8)
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
) -> Figure:
    """Heatmaps `row` × product side by side, one per column of `panels`, sharing both axes;
    empty cells where there is nothing (no lead, no cost).

    Args:
        table: rows as from `compare.product_channels` (row `channel`) or
            `compare.product_campaigns` (row `campaign_id`, label `name`).
        panels: column -> (display label, unit: count, rate or currency).
        row: the column holding the rows.
        products: the columns, in order.
        first, last: the window's first and last month (for the title).
        label: a column with the rows' display names (campaign names: drawn as plain text).
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
    names = dict(zip(table[row], table[label], strict=True)) if label else {}
    words = {"unknown": t("unknown", locale), "sales_sourced": t("sales_sourced", locale)}
    shown = []
    for r in rows:
        name = names.get(r)
        name = name if isinstance(name, str) and name.strip() else words.get(r, r)
        shown.append(_text(name, 28))
    fig = Figure(figsize=(3.6 * len(panels) + 2.2, 0.38 * len(rows) + 1.8))
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    cmaps = {"count": "Blues", "rate": "Greens", "currency": "Oranges"}
    for ax, (column, (name, unit)) in zip(axes, panels.items(), strict=True):
        # one cell per (row, product); an empty value stays empty (pivot_table would sum it to 0)
        grid = table.drop_duplicates([row, "product"]).set_index([row, "product"])[column]
        grid = grid.unstack("product").reindex(index=rows, columns=products).astype("float64")
        if unit == "rate":
            grid, fmt = grid * 100, ".1f"
        elif unit == "currency":
            grid, fmt = grid / 1000, ",.0f"
        else:
            fmt = ",.0f"
        unit_text = {"rate": "%", "currency": f"{currency} 1,000"}.get(unit, "")
        cmap = cmaps.get(unit, "Blues")
        # a panel without any value (no cost at all) needs a colour range of its own
        empty = {} if grid.notna().to_numpy().any() else {"vmin": 0.0, "vmax": 1.0}
        sns.heatmap(
            grid, ax=ax, annot=True, fmt=fmt, cmap=cmap, cbar=False, linewidths=0.5, **empty
        )
        ax.grid(False)
        ax.set_title(f"{name} ({unit_text})" if unit_text else name, fontsize=10)
        ax.set_xlabel(t("product", locale))
        ax.set_ylabel("")
        ax.set_xticks([i + 0.5 for i in range(len(products))], [_text(p) for p in products])
    axes[0].set_yticks([i + 0.5 for i in range(len(rows))], shown, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
