"""Charts of the score diagnostics (`diagnostics.py`) in the house style of `reports/plots.py`:
the decision curve and the factors' lifts; each returns its figure, built without pyplot."""

from __future__ import annotations

import matplotlib_fontja  # noqa: F401  (registers the bundled IPAexGothic font)
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ...core.i18n import t
from ...core.schema import ALL
from ..plots import PALETTE, chart_text, setup_style
from .diagnostics import DecisionCurve

LIFT_TICKS = (0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20)


def decision_curve_chart(
    curve: DecisionCurve, *, sql_value: float, mql_cost: float, locale: str = "ja"
) -> Figure:
    """Net benefit per 100 judged leads against the current score's threshold, for the
    whole business: the curve of handing over the leads at or above each threshold, beside
    handing over all (dashed) and none (0, dotted); the current threshold a grey line, the
    recommended one a dashed coloured line. The subtitle says what one success is worth.

    Args:
        curve: from `diagnostics.decision_curve`.
        sql_value, mql_cost: the settings behind its exchange rate, quoted in the subtitle.
    """
    setup_style()
    table = curve.table
    part = table[
        (table["model"] == "current") & (table["scale"] == "score") & (table["product"] == ALL)
    ]
    line = part[part["strategy"] == "threshold"].sort_values("threshold")
    every = part.loc[part["strategy"] == "all", "net_benefit_per_100"]
    colors = sns.color_palette(PALETTE, n_colors=3)
    fig = Figure(figsize=(10, 4.2))
    ax = fig.subplots()
    ax.plot(
        line["threshold"], line["net_benefit_per_100"], marker="o", ms=3, color=colors[0],
        label=t("sc_current", locale),
    )  # fmt: skip
    if len(every):
        ax.axhline(
            float(every.iloc[0]), ls="--", color=colors[1], lw=1.5, label=t("dg_all", locale)
        )
    ax.axhline(0.0, ls=":", color="black", lw=1, label=t("dg_none", locale))
    for x in line.loc[line["current"].astype(bool), "threshold"]:
        ax.axvline(x, color="grey", lw=1.5, label=t("dg_threshold_current", locale))
    for x in line.loc[line["recommended"].astype(bool), "threshold"]:
        ax.axvline(x, color=colors[0], ls="--", lw=1.5, label=t("dg_threshold_recommended", locale))
    ax.set_xlabel(f"{t('sc_threshold', locale)} ({t('sc_current', locale)})")
    ax.set_ylabel(t("dg_net_benefit", locale))
    ax.legend(loc="upper right")
    ax.set_title(
        t("dg_exchange", locale, per=1 / curve.exchange_rate, value=sql_value, cost=mql_cost),
        fontsize="medium",
    )
    fig.suptitle(t("dg_decision_title", locale))
    fig.tight_layout()
    return fig


def factor_chart(
    factors: pd.DataFrame, names: list[str], *, most: int = 20, locale: str = "ja"
) -> Figure:
    """The lift of each factor with its 95% interval, horizontal, highest on top, on a log
    scale with a reference line at 1 (no difference); factors resting on few leads are drawn
    hollow, those without a lift are left out.

    Args:
        factors: rows of `diagnostics.factor_table` (in its order).
        names: each row's name (`diagnostics.factor_names`).
        most: at most this many factors, the furthest from 1 first.
    """
    setup_style()
    part = factors.assign(name=[chart_text(n, 40) for n in names])
    part = part[part["lift"].notna() & (part["lift"] > 0)]
    far = np.abs(np.log(part["lift"].to_numpy(dtype="float64")))
    part = part.iloc[np.sort(np.argsort(-far, kind="stable")[:most])].iloc[::-1]
    color = sns.color_palette(PALETTE)[0]
    fig = Figure(figsize=(9, 0.38 * len(part) + 1.8))
    ax = fig.subplots()
    y = np.arange(len(part))
    err = [
        (part["lift"] - part["lift_ci_low"]).clip(lower=0).fillna(0),
        (part["lift_ci_high"] - part["lift"]).clip(lower=0).fillna(0),
    ]
    reliable = part["reliable"].astype(bool).to_numpy()
    for keep, face in ((reliable, color), (~reliable, "white")):
        ax.errorbar(
            part["lift"][keep], y[keep], xerr=[e[keep] for e in err], fmt="o", color=color,
            mfc=face, capsize=3,
            label=None if face == color else t("dg_factor_small", locale),
        )  # fmt: skip
    ax.axvline(1.0, ls="--", color="grey", lw=1)
    ax.set_xscale("log")
    # lifts read as plain ratios (0.5, 2), not powers of ten
    ax.xaxis.set_major_locator(FixedLocator(LIFT_TICKS))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}"))
    ax.set_yticks(y)
    ax.set_yticklabels(part["name"])
    ax.set_xlabel(t("dg_lift", locale))
    if (~reliable).any():
        ax.legend(loc="lower right")
    ax.set_title(t("dg_factor_title", locale))
    fig.tight_layout()
    return fig
