"""The scoring report's charts (notebooks/02_scoring_calibration.ipynb), in the house style
of `reports/plots.py`; each returns its figure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...core.i18n import t
from ..plots import MIN_FONT_PT, PALETTE, code_name, percent_format, setup_style

if TYPE_CHECKING:
    from .study import ScoringStudy

# Figures are built without pyplot so that none is left open: a notebook displays the returned
# figure exactly once, and batch runs keep no global figure state.


def _model_label(model: str, locale: str) -> str:
    return t(f"sc_{model}", locale)


def score_band_chart(
    bands: pd.DataFrame,
    *,
    outcome: str,
    days: int,
    locale: str = "ja",
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Success rate per score band with 95% Wilson intervals: one series per product and the
    whole business (thicker), bands in score order; the uniform model's expectation dashed.

    Args:
        bands: rows of `scoring.band_table` (kind `band` is drawn).
        outcome: the outcome's display name; days: the window.
        names: product code -> name (params/labels.yaml), the legend's; codes without.
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
        label = code_name(group, names, locale)
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
    ax.legend(title=t("product", locale), loc="upper left")
    ax.set_title(t("sc_band_title", locale, outcome=outcome, days=days))
    fig.tight_layout()
    return fig


def rating_heatmap(bands: pd.DataFrame, *, outcome: str, locale: str = "ja") -> Figure:
    """Profile letter × engagement digit grid of success rates for the whole business, each
    cell annotated with its rate and number of leads. A letter or digit without any lead is
    left out (named under the grid); a cell without leads says so ("データなし" / "no data").

    Args:
        bands: rows of `scoring.band_table` (kind `rating`, product `ALL`).
    """
    setup_style()
    part = bands[(bands["kind"] == "rating") & (bands["product"] == "ALL")]
    if not part.empty and not all(re.fullmatch(r"[A-Za-z]\d+", str(b)) for b in part["band"]):
        return _rating_rates(part, outcome=outcome, locale=locale)
    fig = Figure(figsize=(6.5, 4.4))
    ax = fig.subplots()
    title = t("sc_rating_title", locale, outcome=outcome)
    if part.empty:
        ax.axis("off")
        ax.text(0.5, 0.5, t("sc_no_ratings", locale), ha="center", va="center")
        ax.set_title(title)
        return fig
    cells = part.assign(letter=part["band"].str[:1], digit=part["band"].str[1:])
    rate = cells.pivot_table(
        index="letter", columns="digit", values="rate", aggfunc="first", dropna=False, sort=False
    )
    n = cells.pivot_table(
        index="letter", columns="digit", values="n", aggfunc="first", dropna=False, sort=False
    )
    letters, digits = list(dict.fromkeys(cells["letter"])), list(dict.fromkeys(cells["digit"]))
    n = n.reindex(index=letters, columns=digits).fillna(0)
    kept_letters = [x for x in letters if n.loc[x].sum() > 0]
    kept_digits = [d for d in digits if n[d].sum() > 0]
    n = n.loc[kept_letters, kept_digits]
    rate = rate.reindex(index=n.index, columns=n.columns)
    notes = rate.astype(object)
    for i in range(rate.shape[0]):
        for j in range(rate.shape[1]):
            k = int(n.iat[i, j])
            rate_text = f"{rate.iat[i, j] * 100:.1f}%\n({k:,})"
            notes.iat[i, j] = t("chart_no_data", locale) if k == 0 else rate_text
    # a cell without leads shows the axes' grey through the mask, and says so
    ax.set_facecolor("#eeeeee")
    sns.heatmap(
        rate.where(n > 0) * 100, ax=ax, annot=notes.to_numpy(), fmt="", cmap="Blues",
        linewidths=0.5, cbar_kws={"label": "%"}, mask=(n == 0).to_numpy(),
    )  # fmt: skip
    for i, j in zip(*(n == 0).to_numpy().nonzero(), strict=True):
        ax.text(j + 0.5, i + 0.5, notes.iat[i, j], ha="center", va="center", color="dimgrey")
    ax.grid(False)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_xlabel(t("sc_engagement", locale))
    ax.set_ylabel(t("sc_profile", locale))
    ax.set_title(title)
    dropped = [
        (t(key, locale), ", ".join(gone))
        for key, gone in (
            ("sc_profile", [x for x in letters if x not in kept_letters]),
            ("sc_engagement", [d for d in digits if d not in kept_digits]),
        )
        if gone
    ]
    if dropped:
        note = " / ".join(t("chart_no_leads", locale, what=w, which=g) for w, g in dropped)
        fig.text(0.01, 0.01, note, fontsize=MIN_FONT_PT, color="dimgrey")
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    else:
        fig.tight_layout()
    return fig


def _rating_rates(part: pd.DataFrame, *, outcome: str, locale: str) -> Figure:
    """Ratings that are not a letter x digit grid (a tool's `01.High`, `02.Medium`, ...): the
    success rate of each, with its 95% interval and number of leads, in rating order."""
    part = part[part["n"] > 0]
    fig = Figure(figsize=(6.5, 0.5 * len(part) + 1.8))
    ax = fig.subplots()
    color = sns.color_palette(PALETTE)[0]
    rate = part["rate"] * 100
    err = [
        (rate - part["ci_low"] * 100).clip(lower=0).fillna(0),
        (part["ci_high"] * 100 - rate).clip(lower=0).fillna(0),
    ]
    labels = [f"{b} ({n:,})" for b, n in zip(part["band"], part["n"], strict=True)]
    ax.errorbar(rate, labels, xerr=err, fmt="o", color=color, capsize=3)
    ax.invert_yaxis()  # the first rating on top
    ax.set_xlim(left=0)
    ax.set_xlabel(f"{t('sc_rate', locale)} (%)")
    ax.set_ylabel(t("sc_rating", locale))
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
        ax.xaxis.set_major_formatter(FuncFormatter(percent_format))
        ax.yaxis.set_major_formatter(FuncFormatter(percent_format))
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
    ax.xaxis.set_major_formatter(FuncFormatter(percent_format))
    ax.yaxis.set_major_formatter(FuncFormatter(percent_format))
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
    snapshot: bool = False,
    locale: str = "ja",
) -> Figure:
    """Per model (rows): MQLs per month and precision (95% interval) against the threshold,
    for the whole business; the current threshold is a grey line, the recommended one a
    dashed coloured line, the capacity and the target precision dotted.

    Args:
        table: rows of the study's threshold table (columns of `scoring.thresholds`).
        first, last: the months the figures cover.
        snapshot: the table is a snapshot's: MQLs in all, not per month (it spans no time).
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
        volume = m["mqls"] if snapshot else m["mqls_per_month"]
        ax_n.plot(m["threshold"], volume, marker="o", ms=3, color=colors[0])
        ax_p.plot(m["threshold"], m["precision"] * 100, marker="o", ms=3, color=colors[1])
        ax_p.fill_between(
            m["threshold"], m["precision_ci_low"] * 100, m["precision_ci_high"] * 100,
            color=colors[1], alpha=0.2,
        )  # fmt: skip
        if capacity is not None:
            ax_n.axhline(capacity, ls=":", color="black", lw=1, label=t("sc_capacity_line", locale))
            ax_n.legend(loc="upper right")
        if target_precision is not None:
            ax_p.axhline(
                target_precision * 100,
                ls=":",
                color="black",
                lw=1,
                label=t("sc_target_line", locale),
            )
            ax_p.legend(loc="upper left")
        for ax in (ax_n, ax_p):
            for x in m.loc[m["current"].astype(bool), "threshold"]:
                ax.axvline(x, color="grey", lw=1.5)
            for x in m.loc[m["recommended"].astype(bool), "threshold"]:
                ax.axvline(x, color=colors[0], ls="--", lw=1.5)
            ax.set_xlabel(f"{t('sc_threshold', locale)} ({_model_label(model, locale)})")
        ax_n.set_ylabel(t("sc_mqls_total" if snapshot else "sc_mqls_per_month", locale))
        ax_p.set_ylabel(f"{t('sc_precision', locale)} (%)")
        ax_n.set_ylim(bottom=0)
        ax_p.set_ylim(0, 100)
    if snapshot:
        fig.suptitle(t("sc_threshold_title_snapshot", locale))
    else:
        fig.suptitle(t("sc_threshold_title", locale, first=first, last=last))
    fig.tight_layout()
    return fig


def study_threshold_chart(study: ScoringStudy) -> Figure:
    """`threshold_chart` of a study: its months, and the capacity or target precision its
    objective aims at (a snapshot's has no months, and no capacity per month)."""
    th, months = study.config.thresholds, study.threshold_months
    return threshold_chart(
        study.threshold_table,
        first=months[0] if months else "",
        last=months[-1] if months else "",
        capacity=th.capacity if th.objective == "capacity" and not study.snapshot else None,
        target_precision=th.target_precision if th.objective == "precision" else None,
        snapshot=study.snapshot,
        locale=study.locale,
    )


def product_ratio_chart(
    products: pd.DataFrame, *, locale: str = "ja", names: Mapping[str, str] | None = None
) -> Figure:
    """Per product: observed ÷ expected successes under the uniform current model, with a
    95% interval; left of 1 the model over-qualifies the product, right of 1 it
    under-qualifies it.

    Args:
        products: rows of `scoring.product_table`.
        names: product code -> name (params/labels.yaml), the rows'; codes without.
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
    rows = [code_name(p, names, locale) for p in part["product"]]
    ax.errorbar(part["ratio"], rows, xerr=err, fmt="o", color=color, capsize=3)
    ax.axvline(1.0, ls="--", color="grey", lw=1)
    ax.set_xlim(left=0)
    ax.set_xlabel(t("sc_ratio", locale))
    ax.set_ylabel(t("product", locale))
    ax.set_title(t("sc_product_title", locale))
    fig.tight_layout()
    return fig
