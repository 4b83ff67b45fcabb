"""The score's health over time and its diagnostics as tables for reading: month by month
(`health.ScoreHealth`), the factors' lifts and the Brier score's parts
(`diagnostics.factor_table`, `brier_table`). Labels in the report's language; aggregates
only, never a lead."""

from __future__ import annotations

import math

import pandas as pd
from IPython.display import Markdown

from ...core.i18n import t
from ...core.schema import ALL
from .diagnostics import DecisionCurve
from .health import ScoreHealth, verdict_sentence


def _num(value: float, digits: int = 2) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _ci(value: float, low: float, high: float, digits: int = 2) -> str:
    if value is None or math.isnan(value):
        return ""
    if math.isnan(low) or math.isnan(high):
        return _num(value, digits)
    return f"{value:.{digits}f} [{low:.{digits}f}–{high:.{digits}f}]"


def health_notes(health: ScoreHealth, locale: str = "ja") -> list[str]:
    """The notes on what the health rests on (a history that starts late, sampled months,
    a short or open reference), in words."""
    return [t(key, locale, **values) for key, values in health.notes]


def health_view(health: ScoreHealth, locale: str = "ja", product: str = ALL) -> pd.DataFrame:
    """Month by month for `product` (the whole business by default): the leads measured and
    where their scores came from, the PSI against the reference with its status, the AUC
    and the calibration slope with their 95% bootstrap intervals, and the successes behind
    them (empty while the month's window is open)."""
    rows = health.table[health.table["product"] == product]
    status = {
        "reference": t("hl_status_reference", locale),
        "ok": t("hl_status_ok", locale),
        "warning": t("hl_psi_warn", locale),
        "alert": t("hl_psi_alert", locale),
    }
    out = pd.DataFrame(
        {
            t("month", locale): rows["month"].to_numpy(),
            t("hl_col_leads", locale): [f"{n:,.0f}" if n == n else "" for n in rows["n"]],
            t("hl_col_source", locale): [
                t(f"hl_source_{s}", locale) if isinstance(s, str) and s else ""
                for s in rows["source"]
            ],
            "PSI": [_num(v, 3) for v in rows["psi"]],
            t("status", locale): [status.get(s, "") for s in rows["psi_status"]],
            "AUC [95%]": [
                _ci(a, lo, hi)
                for a, lo, hi in zip(rows["auc"], rows["auc_low"], rows["auc_high"], strict=True)
            ],
            t("hl_col_slope", locale): [
                _ci(a, lo, hi)
                for a, lo, hi in zip(
                    rows["slope"], rows["slope_low"], rows["slope_high"], strict=True
                )
            ],
            t("hl_col_events", locale): [
                "" if not c or e != e else f"{e:,.0f}"
                for e, c in zip(rows["events"], rows["closed"], strict=True)
            ],
        }
    )
    return out.set_index(t("month", locale)).rename_axis(None)


def factor_view(
    table: pd.DataFrame, names: list[str], locale: str = "ja", *, most: int = 15
) -> pd.DataFrame:
    """The factors furthest from no difference (lift 1), at most `most`: the share among the
    leads that succeeded and among those that did not, the lift with its 95% interval, the
    leads with the factor, and the current and proposed points side by side."""
    if table.empty:
        return pd.DataFrame()
    shown = table.assign(_name=names)
    shown = shown[shown["lift"].notna()]
    # the factors the data can judge first: a lift of 0 from two leads is not the largest news
    far = shown.assign(
        _far=shown["lift"].apply(lambda v: abs(math.log(v)) if v > 0 else math.inf),
        _weak=~shown["reliable"].astype(bool),
    ).sort_values(["_weak", "_far"], ascending=[True, False], kind="stable")
    shown = shown.loc[far.index[:most]].sort_values("lift", ascending=False, kind="stable")
    out = pd.DataFrame(
        {
            t("dg_col_factor", locale): shown["_name"].to_numpy(),
            t("dg_col_share_successes", locale): [f"{v:.0%}" for v in shown["share_successes"]],
            t("dg_col_share_failures", locale): [f"{v:.0%}" for v in shown["share_failures"]],
            t("dg_col_lift", locale): [
                _ci(v, lo, hi) + ("" if ok else " ※")
                for v, lo, hi, ok in zip(
                    shown["lift"],
                    shown["lift_ci_low"],
                    shown["lift_ci_high"],
                    shown["reliable"],
                    strict=True,
                )
            ],
            t("dg_col_with", locale): [f"{n:,.0f}" for n in shown["n_with"]],
            t("dg_col_points_current", locale): [_num(v, 0) for v in shown["points_current"]],
            t("dg_col_points_proposed", locale): [_num(v, 0) for v in shown["points_proposed"]],
        }
    )
    return out.set_index(t("dg_col_factor", locale)).rename_axis(None)


def brier_view(table: pd.DataFrame, locale: str = "ja", names: dict | None = None) -> pd.DataFrame:
    """The Brier score and its parts per model and product: reliability (lower is better),
    resolution (higher is better), uncertainty (the data's, the same for every model) and
    the remainder within the bins; ※ where successes or failures are few."""
    if table.empty:
        return pd.DataFrame()
    names = names or {}
    out = pd.DataFrame(
        {
            t("dg_col_model", locale): [t(f"sc_{m}", locale) for m in table["model"]],
            t("product", locale): [
                t("all", locale) if p == ALL else names.get(p, p) for p in table["product"]
            ],
            t("dg_col_n", locale): [
                f"{n:,.0f}" + ("" if ok else " ※")
                for n, ok in zip(table["n"], table["reliable"], strict=True)
            ],
            "Brier": [_num(v, 3) for v in table["brier"]],
            t("dg_col_reliability", locale): [_num(v, 3) for v in table["reliability"]],
            t("dg_col_resolution", locale): [_num(v, 3) for v in table["resolution"]],
            t("dg_col_uncertainty", locale): [_num(v, 3) for v in table["uncertainty"]],
            t("dg_col_within", locale): [_num(v, 4) for v in table["within_bin"]],
        }
    )
    return out.set_index(t("dg_col_model", locale)).rename_axis(None)


def health_summary(health: ScoreHealth, locale: str = "ja") -> Markdown:
    """The verdict on the score's drift and what it rests on, as the report's paragraph."""
    return Markdown(" ".join([verdict_sentence(health, locale), *health_notes(health, locale)]))


def sentences(*texts: str) -> Markdown:
    """Sentences of the diagnostics as one paragraph (empty ones left out)."""
    return Markdown(" ".join(s for s in texts if s))


def diagnostics_tables(
    curve: DecisionCurve, factors: pd.DataFrame, brier: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """The diagnostics' CSV tables: `scoring_decision_curve`, `scoring_factors` (codes, not
    names) and `scoring_brier`."""
    return {
        "scoring_decision_curve": curve.table,
        "scoring_factors": factors,
        "scoring_brier": brier,
    }
