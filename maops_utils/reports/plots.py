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


def _thousands(x: float, _pos: int) -> str:
    return f"{x:,.0f}"


def _percent(x: float, _pos: int) -> str:
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
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
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
        ax.yaxis.set_major_formatter(FuncFormatter(_percent if rate else _thousands))
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
    ax_leads.xaxis.set_major_formatter(FuncFormatter(_thousands))
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


# ---------------------------------------------------------------- lead scoring (02)


def _model_label(model: str, locale: str) -> str:
    return t(f"sc_{model}", locale)


def score_band_chart(bands: pd.DataFrame, *, outcome: str, days: int, locale: str = "ja") -> Figure:
    """Success rate per score band with 95% Wilson intervals: one series per product and the
    whole business (thicker), bands in score order; the uniform model's expectation dashed.

    Args:
        bands: rows of `scoring.band_table` (kind `band` is drawn).
        outcome: the outcome's display name; days: the window.
    """
    setup_style()
    part = bands[(bands["kind"] == "band") & (bands["n"] > 0)]
    order = list(dict.fromkeys(part["band"]))
    groups = [g for g in dict.fromkeys(part["product"]) if g != "ALL"] + ["ALL"]
    colors = dict(zip(groups, sns.color_palette(PALETTE, n_colors=len(groups)), strict=True))
    fig = Figure(figsize=(10, 4.2))
    ax = fig.subplots()
    width = 0.8 / max(len(groups), 1)
    for i, group in enumerate(groups):
        g = part[part["product"] == group].set_index("band").reindex(order)
        x = [j - 0.4 + width * (i + 0.5) for j in range(len(order))]
        rate = g["rate"] * 100
        err = [
            (rate - g["ci_low"] * 100).clip(lower=0).fillna(0),
            (g["ci_high"] * 100 - rate).clip(lower=0).fillna(0),
        ]
        label = t("all", locale) if group == "ALL" else group
        ax.errorbar(
            x, rate, yerr=err, fmt="o", ms=6 if group == "ALL" else 4, capsize=2,
            color=colors[group], label=label, lw=2 if group == "ALL" else 1,
        )  # fmt: skip
        if group == "ALL":
            ax.plot(x, g["expected"] * 100, ls="--", lw=1, color=colors[group])
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels(order)
    ax.set_xlabel(t("sc_band", locale))
    ax.set_ylabel(f"{t('sc_rate', locale)} (%)")
    ax.set_ylim(bottom=0)
    ax.legend(title=t("product", locale), loc="upper left", fontsize=8)
    ax.set_title(t("sc_band_title", locale, outcome=outcome, days=days))
    fig.tight_layout()
    return fig


def rating_heatmap(bands: pd.DataFrame, *, outcome: str, locale: str = "ja") -> Figure:
    """Profile letter × engagement digit grid of success rates for the whole business, each
    cell annotated with its rate and number of leads; empty cells stay blank.

    Args:
        bands: rows of `scoring.band_table` (kind `rating`, product `ALL`).
    """
    setup_style()
    part = bands[(bands["kind"] == "rating") & (bands["product"] == "ALL")]
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.subplots()
    if part.empty:
        ax.axis("off")
        ax.text(0.5, 0.5, t("sc_no_ratings", locale), ha="center", va="center")
        return fig
    cells = part.assign(letter=part["band"].str[:1], digit=part["band"].str[1:])
    rate = cells.pivot_table(
        index="letter", columns="digit", values="rate", aggfunc="first", dropna=False, sort=False
    )
    n = cells.pivot_table(
        index="letter", columns="digit", values="n", aggfunc="first", dropna=False, sort=False
    )
    rate = rate.reindex(
        index=list(dict.fromkeys(cells["letter"])), columns=list(dict.fromkeys(cells["digit"]))
    )
    n = n.reindex(index=rate.index, columns=rate.columns).fillna(0)
    notes = (rate * 100).round(1).astype(object)
    for i in range(rate.shape[0]):
        for j in range(rate.shape[1]):
            k = int(n.iat[i, j])
            notes.iat[i, j] = "" if k == 0 else f"{rate.iat[i, j] * 100:.1f}%\n({k:,})"
    sns.heatmap(
        rate.where(n > 0) * 100, ax=ax, annot=notes, fmt="", cmap="Blues", linewidths=0.5,
        cbar_kws={"label": "%"},
    )  # fmt: skip
    ax.set_xlabel(t("sc_engagement", locale))
    ax.set_ylabel(t("sc_profile", locale))
    ax.set_title(t("sc_rating_title", locale, outcome=outcome))
    fig.tight_layout()
    return fig


def reliability_diagram(curves: dict[str, pd.DataFrame], *, locale: str = "ja") -> Figure:
    """Predicted probability against the observed rate (95% Wilson interval) per group of
    leads, one panel per model; the diagonal is perfect calibration.

    Args:
        curves: model (current, proposed) -> rows of `scoring.evaluate.reliability`.
    """
    setup_style()
    models = list(curves) or ["current"]
    fig = Figure(figsize=(4.2 * len(models), 4.0))
    axes = fig.subplots(1, len(models), sharey=True, squeeze=False)[0]
    colors = sns.color_palette(PALETTE, n_colors=2)
    for ax, model, color in zip(axes, models, colors, strict=False):
        c = curves.get(model)
        ax.plot([0, 1], [0, 1], ls="--", lw=1, color="grey")
        if c is not None and not c.empty:
            err = [
                (c["rate"] - c["ci_low"]).clip(lower=0).fillna(0),
                (c["ci_high"] - c["rate"]).clip(lower=0).fillna(0),
            ]
            ax.errorbar(c["mean_p"], c["rate"], yerr=err, fmt="o-", color=color, capsize=3, ms=4)
            top = float(max(c["ci_high"].max(), c["mean_p"].max(), 0.05)) * 1.1
        else:
            ax.text(
                0.5, 0.5, t("sc_no_backtest_chart", locale), ha="center", transform=ax.transAxes
            )
            top = 1.0
        ax.set_xlim(0, min(top, 1))
        ax.set_ylim(0, min(top, 1))
        ax.xaxis.set_major_formatter(FuncFormatter(_percent))
        ax.yaxis.set_major_formatter(FuncFormatter(_percent))
        ax.set_title(_model_label(model, locale))
        ax.set_xlabel(t("sc_predicted", locale))
    axes[0].set_ylabel(t("sc_observed_short", locale))
    fig.suptitle(t("sc_reliability_title", locale))
    fig.tight_layout()
    return fig


def gain_chart(curves: dict[str, pd.DataFrame], *, locale: str = "ja") -> Figure:
    """Cumulative gain of each model: the share of successes found among the best-scored
    x% of leads; the diagonal is random order.

    Args:
        curves: model -> rows `depth, gain` of `scoring.evaluate.gain_curve`.
    """
    setup_style()
    fig = Figure(figsize=(5.5, 4.2))
    ax = fig.subplots()
    colors = sns.color_palette(PALETTE, n_colors=2)
    ax.plot([0, 1], [0, 1], ls="--", lw=1, color="grey", label=t("sc_random", locale))
    for (model, c), color in zip(curves.items(), colors, strict=False):
        ax.plot(c["depth"], c["gain"], color=color, label=_model_label(model, locale))
    ax.xaxis.set_major_formatter(FuncFormatter(_percent))
    ax.yaxis.set_major_formatter(FuncFormatter(_percent))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(t("sc_depth", locale))
    ax.set_ylabel(t("sc_gain", locale))
    ax.legend(loc="lower right")
    ax.set_title(t("sc_gain_title", locale))
    fig.tight_layout()
    return fig


def threshold_chart(
    table: pd.DataFrame,
    *,
    first: str,
    last: str,
    capacity: float | None = None,
    target_precision: float | None = None,
    locale: str = "ja",
) -> Figure:
    """Per model (rows): MQLs per month and precision (95% interval) against the threshold,
    for the whole business; the current threshold is a grey line, the recommended one a
    dashed coloured line, the capacity and the target precision dotted.

    Args:
        table: rows of the study's threshold table (columns of `scoring.thresholds`).
        first, last: the months the figures cover.
    """
    setup_style()
    part = table[table["product"] == "ALL"]
    models = list(dict.fromkeys(part["model"]))
    fig = Figure(figsize=(10, 3.2 * len(models)))
    axes = fig.subplots(len(models), 2, squeeze=False)
    colors = sns.color_palette(PALETTE, n_colors=2)
    for row, model in enumerate(models):
        m = part[part["model"] == model].sort_values("threshold")
        ax_n, ax_p = axes[row]
        ax_n.plot(m["threshold"], m["mqls_per_month"], marker="o", ms=3, color=colors[0])
        ax_p.plot(m["threshold"], m["precision"] * 100, marker="o", ms=3, color=colors[1])
        ax_p.fill_between(
            m["threshold"], m["precision_ci_low"] * 100, m["precision_ci_high"] * 100,
            color=colors[1], alpha=0.2,
        )  # fmt: skip
        if capacity is not None:
            ax_n.axhline(capacity, ls=":", color="black", lw=1, label=t("sc_capacity_line", locale))
            ax_n.legend(loc="upper right", fontsize=8)
        if target_precision is not None:
            ax_p.axhline(
                target_precision * 100,
                ls=":",
                color="black",
                lw=1,
                label=t("sc_target_line", locale),
            )
            ax_p.legend(loc="upper left", fontsize=8)
        for ax in (ax_n, ax_p):
            for x in m.loc[m["current"].astype(bool), "threshold"]:
                ax.axvline(x, color="grey", lw=1.5)
            for x in m.loc[m["recommended"].astype(bool), "threshold"]:
                ax.axvline(x, color=colors[0], ls="--", lw=1.5)
            ax.set_xlabel(f"{t('sc_threshold', locale)} ({_model_label(model, locale)})")
        ax_n.set_ylabel(t("sc_mqls_per_month", locale))
        ax_p.set_ylabel(f"{t('sc_precision', locale)} (%)")
        ax_n.set_ylim(bottom=0)
        ax_p.set_ylim(0, 100)
    fig.suptitle(t("sc_threshold_title", locale, first=first, last=last))
    fig.tight_layout()
    return fig


def product_ratio_chart(products: pd.DataFrame, *, locale: str = "ja") -> Figure:
    """Per product: observed ÷ expected successes under the uniform current model, with a
    95% interval; left of 1 the model over-qualifies the product, right of 1 it
    under-qualifies it.

    Args:
        products: rows of `scoring.product_table`.
    """
    setup_style()
    part = products[products["product"] != "ALL"].iloc[::-1]
    fig = Figure(figsize=(7, 0.55 * len(part) + 1.6))
    ax = fig.subplots()
    color = sns.color_palette(PALETTE)[0]
    err = [
        (part["ratio"] - part["ratio_ci_low"]).clip(lower=0).fillna(0),
        (part["ratio_ci_high"] - part["ratio"]).clip(lower=0).fillna(0),
    ]
    ax.errorbar(part["ratio"], part["product"], xerr=err, fmt="o", color=color, capsize=3)
    ax.axvline(1.0, ls="--", color="grey", lw=1)
    ax.set_xlim(left=0)
    ax.set_xlabel(t("sc_ratio", locale))
    ax.set_ylabel(t("product", locale))
    ax.set_title(t("sc_product_title", locale))
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- product comparison
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
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
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
    ax.xaxis.set_major_formatter(FuncFormatter(_percent if percent else _thousands))
    ax.set_xlim(0, top * 1.15 if top > 0 else 1)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
