"""The score-health charts (`health.ScoreHealth`), in the house style of `reports/plots.py`;
each returns its figure, built without pyplot."""

from __future__ import annotations

import math

import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ...core.i18n import t
from ...core.schema import ALL
from ..plots import PAGE_WIDTH, PALETTE, chart_text, percent_format, setup_style
from .health import ScoreHealth


def _overall(health: ScoreHealth) -> pd.DataFrame:
    """The whole business's rows, one per month in order."""
    table = health.table[health.table["product"] == ALL].set_index("month")
    return table.reindex(health.months)


def _shade_reference(ax, health: ScoreHealth, locale: str) -> None:
    """The reference months as a light band behind the data."""
    if not health.reference:
        return
    first = health.months.index(health.reference[0])
    last = health.months.index(health.reference[-1])
    ax.axvspan(first - 0.4, last + 0.4, color="0.9", zorder=0, label=t("hl_reference_span", locale))


def psi_chart(health: ScoreHealth, *, locale: str = "ja") -> Figure:
    """PSI of each month against the reference, with the warning and alert thresholds and the
    first month of the shift marked; reference months and months without scores are left
    without a point."""
    setup_style()
    h = health.config.health
    rows = _overall(health)
    x = np.arange(len(health.months))
    fig = Figure(figsize=(PAGE_WIDTH, 3.6))
    ax = fig.subplots()
    _shade_reference(ax, health, locale)
    ax.plot(x, rows["psi"], marker="o", color=sns.color_palette(PALETTE)[0], label="PSI")
    ax.axhline(
        h.psi_warn, ls="--", lw=1, color="#d4a017", label=t("hl_psi_warn", locale, value=h.psi_warn)
    )
    ax.axhline(
        h.psi_alert,
        ls="--",
        lw=1,
        color="#c0392b",
        label=t("hl_psi_alert", locale, value=h.psi_alert),
    )
    shift = health.verdict.shift_month
    if shift in health.months:
        i = health.months.index(shift)
        ax.axvline(i, color="#c0392b", lw=1.5, label=t("hl_shift_mark", locale, month=shift))
    top = np.nanmax(rows["psi"].to_numpy(dtype="float64"), initial=0.0)
    ax.set_ylim(0, max(h.psi_alert * 1.3, top * 1.15))
    ax.set_xticks(x, [chart_text(m) for m in health.months], rotation=60)
    ax.set_ylabel("PSI")
    ax.set_title(t("hl_chart_psi", locale))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def band_share_chart(health: ScoreHealth, *, locale: str = "ja") -> Figure:
    """The share of leads in each score band, stacked, month by month (the whole business);
    a month without scores is left empty."""
    setup_style()
    bands = health.bands[health.bands["product"] == ALL]
    labels = list(dict.fromkeys(bands["band"]))
    shares = bands.pivot(index="month", columns="band", values="share")
    shares = shares.reindex(index=health.months, columns=labels).fillna(0.0)
    colors = sns.color_palette("viridis", n_colors=max(len(labels), 1))
    fig = Figure(figsize=(PAGE_WIDTH, 3.8))
    ax = fig.subplots()
    x = np.arange(len(health.months))
    bottom = np.zeros(len(x))
    for color, band in zip(colors, labels, strict=False):
        values = shares[band].to_numpy()
        ax.bar(x, values, bottom=bottom, color=color, width=0.8, label=chart_text(band))
        bottom += values
    ax.set_xticks(x, [chart_text(m) for m in health.months], rotation=60)
    ax.yaxis.set_major_formatter(FuncFormatter(percent_format))
    ax.set_ylim(0, 1)
    ax.set_ylabel(t("hl_axis_share", locale))
    ax.set_title(t("hl_chart_shares", locale))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), reverse=True)
    fig.tight_layout()
    return fig


def auc_chart(health: ScoreHealth, *, locale: str = "ja") -> Figure:
    """The AUC of each month whose outcome window has closed, with its bootstrap 95%
    interval; the reference AUC drawn, and the level an interval's top must stay above
    (reference − auc_drop) dashed."""
    setup_style()
    rows = _overall(health)
    v, h = health.verdict, health.config.health
    x = np.arange(len(health.months))
    fig = Figure(figsize=(PAGE_WIDTH, 3.6))
    ax = fig.subplots()
    _shade_reference(ax, health, locale)
    auc = rows["auc"].to_numpy(dtype="float64")
    shown = ~np.isnan(auc)
    color = sns.color_palette(PALETTE)[0]
    if shown.any():
        err = np.vstack(
            [
                np.clip(auc - rows["auc_low"].to_numpy(dtype="float64"), 0, None),
                np.clip(rows["auc_high"].to_numpy(dtype="float64") - auc, 0, None),
            ]
        )
        ax.errorbar(
            x[shown], auc[shown], yerr=err[:, shown], fmt="o", color=color, capsize=3, label="AUC"
        )
    else:
        ax.text(0.5, 0.5, t("hl_no_auc", locale), transform=ax.transAxes, ha="center")
    if not math.isnan(v.reference_auc):
        ax.axhline(
            v.reference_auc,
            color="0.3",
            lw=1,
            label=t("hl_reference_level", locale, value=v.reference_auc),
        )
        ax.axhline(v.reference_auc - h.auc_drop, color="#c0392b", lw=1, ls="--",
                   label=f"{t('hl_reference_level', locale, value=v.reference_auc)} − {h.auc_drop:g}")  # fmt: skip
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
    lows = rows["auc_low"].to_numpy(dtype="float64")
    ax.set_ylim(min(0.4, np.nanmin(lows, initial=0.4) - 0.05), 1.0)
    ax.set_xlim(-0.6, len(x) - 0.4)
    ax.set_xticks(x, [chart_text(m) for m in health.months], rotation=60)
    ax.set_ylabel("AUC")
    ax.set_title(t("hl_chart_auc", locale))
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


__all__ = ["auc_chart", "band_share_chart", "psi_chart"]
