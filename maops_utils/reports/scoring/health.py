"""The score's health month by month: per month and product, the leads per band and their
share, the population stability index against a reference period, the outcome rate per band
with Wilson intervals, the AUC and the calibration slope with bootstrap intervals, and a
drift verdict (docs/scoring.md). Each month's scores come from the history or the data
(`history.month_population`); its outcome y: reached within `evaluation.window_days` after
the month's end, known only once that window has ended before the report month's end
(`outcomes.label_outcomes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...contract.dataset import Dataset, isin
from ...core.i18n import t
from ...core.months import month_bounds, month_range
from ...core.schema import ALL
from ...core.stats import wilson_interval
from . import evaluate, outcomes, points
from .choices import band_edges
from .history import (
    RECOMPUTED,
    RECORDED,
    month_population,
    read_history,
    sample_rows,
    score_source,
    window_populations,
)
from .model import ScoringConfig
from .resample import bootstrap_intervals

HEALTH_COLUMNS = [
    "month",
    "product",
    "n",
    "population",
    "source",
    "psi",
    "psi_status",
    "auc",
    "auc_low",
    "auc_high",
    "slope",
    "slope_low",
    "slope_high",
    "events",
    "closed",
    "reliable",
]
BAND_MONTH_COLUMNS = [
    "month",
    "product",
    "band",
    "n",
    "share",
    "successes",
    "rate",
    "rate_low",
    "rate_high",
]
# AUC and slope need both classes in number: below this many successes or failures a month's
# figure would be a coin toss and is not computed (the `reliable` flag uses min_events)
MIN_CLASS = 10


# ---------------------------------------------------------------- health


@dataclass(frozen=True)
class Verdict:
    """The drift verdict over the months after the reference.

    `shift_month`: the first month whose PSI reached `psi_alert` (None: none), with its
    `shift_psi`; `warning_months`: months with psi_warn <= PSI < psi_alert; `auc_months`:
    closed months whose AUC's upper bound lies below `reference_auc` - auc_drop, the first
    with `auc`, `auc_high`."""

    shift_month: str | None = None
    shift_psi: float = float("nan")
    warning_months: tuple[str, ...] = ()
    auc_months: tuple[str, ...] = ()
    reference_auc: float = float("nan")
    auc: float = float("nan")
    auc_high: float = float("nan")


@dataclass
class ScoreHealth:
    """The score's health over `months` (the last is the report month).

    `table`: one row per month and product (`HEALTH_COLUMNS`; `source` recorded / recomputed,
    empty for a month without scores); `bands`: per month, product and band
    (`BAND_MONTH_COLUMNS`); `reference`: the reference months; `edges`: the band edges;
    `score_source`: scores or rules; `empty_months`: months without scores; `sampled`: month
    -> leads in the month when a sample of `max_leads` was measured; `notes`: (text key,
    values) for the report."""

    config: ScoringConfig
    month: str
    months: list[str]
    reference: list[str]
    edges: tuple[float, ...]
    score_source: str
    outcome: str
    table: pd.DataFrame
    bands: pd.DataFrame
    verdict: Verdict
    empty_months: list[str] = field(default_factory=list)
    sampled: dict[str, int] = field(default_factory=dict)
    notes: list[tuple[str, dict]] = field(default_factory=list)


def for_report(
    dataset: Dataset, config: ScoringConfig, month: str, *, history_dir: Path | None
) -> ScoreHealth:
    """The health the scoring report shows: the report month's population kept with the input
    for the run's history (`month_population`), the earlier months read from the history in
    `history_dir` (None: no history), then `score_health`."""
    month_population(dataset, config, month)
    return score_health(
        dataset, config, month, history=read_history(history_dir, window(config, month))
    )


def window(config: ScoringConfig, month: str) -> list[str]:
    """The months the health covers for the report `month` (`health.months`, oldest first):
    the history entries a run reads."""
    return month_range(month, config.health.months)


def psi(actual: np.ndarray, expected: np.ndarray) -> float:
    """Population stability index Σ (a − e)·ln(a/e) of the shares of two count vectors over
    the same bands. A band empty in one period counts as half a lead of that period (share
    0.5 / n): an empty band stays finite and weighs as much as a small sample warrants.

    Returns:
        NaN when either period has no lead."""
    a = np.asarray(actual, dtype="float64")
    e = np.asarray(expected, dtype="float64")
    if a.sum() <= 0 or e.sum() <= 0:
        return float("nan")
    pa_ = np.where(a > 0, a, 0.5) / a.sum()
    pe = np.where(e > 0, e, 0.5) / e.sum()
    return float(np.sum((pa_ - pe) * np.log(pa_ / pe)))


def score_health(
    dataset: Dataset,
    config: ScoringConfig,
    month: str,
    *,
    history: Mapping[str, pd.DataFrame] | None = None,
) -> ScoreHealth:
    """The score's health over the `health.months` months ending with the report `month`.

    Args:
        history: the history entries by month (`read_history`); an entry of the current
            source is used for its month instead of the data.

    Returns:
        A `ScoreHealth`.
    """
    h = config.health
    months = month_range(month, h.months)
    cutoff = month_bounds(month)[1]
    notes: list[tuple[str, dict]] = []
    source, key = score_source(dataset, config)
    pops, origin, sampled = {}, {}, {}
    entries = {
        m: e for m, e in (history or {}).items() if m in months and _same_source(e, source, key)
    }
    con = points.connect(dataset, cutoff)
    try:
        todo = [m for m in months if m not in entries]
        computed = window_populations(dataset, config, todo, month, con)
    finally:
        con.close()
    for m in months:
        if m in entries:
            pop, origin[m] = entries[m], RECORDED
            if len(pop) > h.max_leads:
                sampled[m] = len(pop)
                pop = sample_rows(pop, h.max_leads, m, config.proposal.seed)
        else:
            pop, whole = computed[m]
            if pop is None:
                continue
            origin[m] = RECOMPUTED
            if whole > h.max_leads:
                sampled[m] = whole
        if not pop.empty:
            pops[m] = pop
    empty = [m for m in months if m not in pops]
    if empty and source == "scores" and outcomes.is_snapshot(dataset["scores"]):
        notes.append(("hl_note_history_starts", {"first": min(pops) if pops else month}))
    if sampled:
        notes.append(("hl_note_sampled", {"n": h.max_leads, "months": ", ".join(sorted(sampled))}))
    outcome = outcomes.resolve_outcome(dataset, config.evaluation.outcome, cutoff)
    rows = _labelled(dataset, pops, outcome, config.evaluation.window_days, cutoff)
    reference = _reference(config, months, list(pops), notes)
    ref_rows = rows[rows["month"].isin(reference)]
    edges = band_edges(config, ref_rows["score"] if len(ref_rows) else rows["score"], [])
    labels = evaluate.band_labels(edges)
    rows["band"] = evaluate.band_of(rows["score"], edges) if len(rows) else []
    ref_closed = ref_rows[ref_rows["y"].notna()]
    ref_map = evaluate.platt(ref_closed["score"], ref_closed["y"])
    if ref_closed["y"].nunique() < 2:
        notes.append(("hl_note_reference_open", {}))
    rows["p_ref"] = ref_map(rows["score"]) if len(rows) else []
    table, bands = _tables(
        rows, months, reference, labels, origin, sampled, dataset.products, config
    )
    # the reference AUC pools the reference's closed months of every product
    ref_auc = (
        evaluate.auc(ref_closed["y"], ref_closed["score"])
        if _enough(ref_closed["y"])
        else float("nan")
    )
    verdict = _verdict(table, reference, ref_auc, config)
    return ScoreHealth(
        config=config,
        month=month,
        months=months,
        reference=reference,
        edges=edges,
        score_source=source,
        outcome=outcome,
        table=table,
        bands=bands,
        verdict=verdict,
        empty_months=empty,
        sampled=sampled,
        notes=notes,
    )


def _same_source(entry: pd.DataFrame, source: str, key: str) -> bool:
    if entry.empty:
        return False
    return bool((entry["source"] == source).all() and (entry["model_key"] == key).all())


def _labelled(
    dataset: Dataset,
    pops: dict[str, pd.DataFrame],
    outcome: str,
    window_days: int,
    cutoff: pd.Timestamp,
) -> pd.DataFrame:
    """Every month's population with `month`, `at`, `closed` and `y` (NaN while the window
    is open, and for a lead whose outcome is recorded without a date and not within it)."""
    cols = ["month", "lead_id", "product", "score", "at", "closed", "y"]
    if not pops:
        return pd.DataFrame(columns=cols).astype({"score": "float64", "y": "float64"})
    parts = []
    for m, pop in pops.items():
        part = pop[["lead_id", "product", "score"]].copy()
        part["month"] = m
        part["at"] = month_bounds(m)[1] - points.SECOND
        parts.append(part)
    rows = pd.concat(parts, ignore_index=True)
    rows["at"] = rows["at"].astype("datetime64[us]")
    reached = outcomes.outcome_times(dataset, outcome, cutoff)
    rows = outcomes.label_outcomes(rows, reached, window_days, cutoff)
    unknown = isin(rows["lead_id"], outcomes.undated_outcomes(dataset, outcome)) & (rows["y"] != 1)
    rows.loc[unknown, "y"] = np.nan
    return rows[cols]


def _reference(
    config: ScoringConfig, months: list[str], scored: list[str], notes: list
) -> list[str]:
    """The reference months: the configured period, else the earliest `reference_months`
    months with scores."""
    h = config.health
    if h.reference is not None:
        first, last = h.reference
        if first < months[0] or last >= months[-1]:
            from ...core.errors import ConfigError

            raise ConfigError(
                f"{config.path}: health.reference: {list(h.reference)} lies outside the "
                f"months shown before the report month ({months[0]} to {months[-2]}); give a "
                f'period inside them, e.g. ["{months[0]}", "{months[min(2, len(months) - 2)]}"], '
                "or null for the earliest reference_months months"
            )
        return [m for m in months if first <= m <= last]
    ref = [m for m in months if m in scored][: h.reference_months]
    if len(ref) < h.reference_months:
        notes.append(("hl_note_short_reference", {"n": len(ref)}))
    return ref


def _enough(y: pd.Series) -> bool:
    y = y.dropna()
    return bool((y == 1).sum() >= MIN_CLASS and (y == 0).sum() >= MIN_CLASS)


def _tables(
    rows: pd.DataFrame,
    months: list[str],
    reference: list[str],
    labels: list[str],
    origin: dict[str, str],
    sampled: dict[str, int],
    products: list[str],
    config: ScoringConfig,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    h = config.health
    health_rows, band_rows = [], []
    rng = np.random.default_rng([config.proposal.seed, 20])
    for product in [ALL, *products]:
        part = rows if product == ALL else rows[rows["product"] == product]
        if part.empty:
            continue
        ref_counts = _counts(part[part["month"].isin(reference)], labels)
        for m in months:
            mp = part[part["month"] == m]
            counts = _counts(mp, labels)
            n = int(counts.sum())
            closed = bool(len(mp)) and bool(mp["closed"].all())
            known = mp[mp["y"].notna()] if closed else mp.iloc[0:0]
            value = psi(counts, ref_counts) if n and m not in reference else float("nan")
            if m in reference and n:
                status = "reference"
            elif math.isnan(value):
                status = ""
            else:
                status = (
                    "alert" if value >= h.psi_alert else "warning" if value >= h.psi_warn else "ok"
                )
            auc = low = high = slope = s_low = s_high = float("nan")
            if _enough(known["y"]):
                auc = evaluate.auc(known["y"], known["score"])
                _, slope = evaluate.calibration(known["y"], known["p_ref"])
                (low, high), (s_low, s_high) = bootstrap_intervals(
                    known["y"].to_numpy(), known["score"].to_numpy(), known["p_ref"].to_numpy(),
                    h.bootstrap, rng,
                )  # fmt: skip
            events = int(known["y"].sum()) if len(known) else 0
            failures = len(known) - events
            health_rows.append(
                {
                    "month": m,
                    "product": product,
                    "n": n,
                    "population": sampled.get(m, n) if product == ALL else n,
                    "source": origin.get(m, "") if n else "",
                    "psi": value,
                    "psi_status": status,
                    "auc": auc,
                    "auc_low": low,
                    "auc_high": high,
                    "slope": slope,
                    "slope_low": s_low,
                    "slope_high": s_high,
                    "events": events if closed else np.nan,
                    "closed": closed,
                    "reliable": bool(
                        closed
                        and events >= config.evaluation.min_events
                        and failures >= config.evaluation.min_events
                    ),
                }
            )
            if not n:
                continue
            succ = known.groupby("band")["y"].sum().reindex(labels).fillna(0)
            tried = known.groupby("band")["y"].size().reindex(labels).fillna(0)
            rate_low, rate_high = wilson_interval(succ.to_numpy(), tried.to_numpy())
            for i, band in enumerate(labels):
                band_rows.append(
                    {
                        "month": m,
                        "product": product,
                        "band": band,
                        "n": int(counts[i]),
                        "share": counts[i] / n,
                        "successes": int(succ.iloc[i]) if closed else np.nan,
                        "rate": succ.iloc[i] / tried.iloc[i]
                        if closed and tried.iloc[i]
                        else np.nan,
                        "rate_low": rate_low[i] if closed else np.nan,
                        "rate_high": rate_high[i] if closed else np.nan,
                    }
                )
    table = pd.DataFrame(health_rows, columns=HEALTH_COLUMNS)
    return table, pd.DataFrame(band_rows, columns=BAND_MONTH_COLUMNS)


def _counts(part: pd.DataFrame, labels: list[str]) -> np.ndarray:
    return part["band"].value_counts().reindex(labels).fillna(0).to_numpy(dtype="float64")


def _verdict(
    table: pd.DataFrame, reference: list[str], ref_auc: float, config: ScoringConfig
) -> Verdict:
    h = config.health
    after = table[(table["product"] == ALL) & (table["month"] > max(reference, default=""))]
    alert = after[after["psi_status"] == "alert"]
    warning = after[after["psi_status"] == "warning"]
    drop = after[
        after["closed"] & after["auc_high"].notna() & (after["auc_high"] < ref_auc - h.auc_drop)
    ]
    first = alert.iloc[0] if len(alert) else None
    worst = drop.iloc[0] if len(drop) else None
    return Verdict(
        shift_month=None if first is None else str(first["month"]),
        shift_psi=float("nan") if first is None else float(first["psi"]),
        warning_months=tuple(warning["month"]),
        auc_months=tuple(drop["month"]),
        reference_auc=ref_auc,
        auc=float("nan") if worst is None else float(worst["auc"]),
        auc_high=float("nan") if worst is None else float(worst["auc_high"]),
    )


# ---------------------------------------------------------------- words and tables


def verdict_sentence(health: ScoreHealth, locale: str = "ja") -> str:
    """The report's sentence on the score's drift (and what it rests on)."""
    v, h = health.verdict, health.config.health
    parts = []
    if v.shift_month:
        parts.append(t("hl_shift", locale, month=v.shift_month, psi=v.shift_psi, alert=h.psi_alert))
    elif v.warning_months:
        parts.append(t("hl_warning", locale, months=", ".join(v.warning_months), warn=h.psi_warn))
    else:
        parts.append(t("hl_stable", locale, warn=h.psi_warn))
    if v.auc_months:
        parts.append(
            t(
                "hl_auc_drop",
                locale,
                month=v.auc_months[0],
                auc=v.auc,
                high=v.auc_high,
                ref=v.reference_auc,
                drop=h.auc_drop,
            )  # fmt: skip
        )
    elif not math.isnan(v.reference_auc):
        parts.append(t("hl_auc_held", locale, ref=v.reference_auc, drop=h.auc_drop))
    parts.append(t("hl_reference", locale, first=health.reference[0], last=health.reference[-1])
                 if health.reference else t("hl_no_reference", locale))  # fmt: skip
    return " ".join(parts)


VERDICT_COLUMNS = [
    "month",
    "shift_month",
    "shift_psi",
    "psi_alert",
    "auc_month",
    "auc",
    "auc_high",
    "reference_auc",
    "auc_drop",
]


def verdict_table(health: ScoreHealth) -> pd.DataFrame:
    """`score_drift.csv`: the verdict in one row (`VERDICT_COLUMNS`), with the thresholds it
    was judged on, so that the month's page says what the report says (`page_line_of`)."""
    v, h = health.verdict, health.config.health
    row = {
        "month": health.month,
        "shift_month": v.shift_month or "",
        "shift_psi": v.shift_psi,
        "psi_alert": h.psi_alert,
        "auc_month": v.auc_months[0] if v.auc_months else "",
        "auc": v.auc,
        "auc_high": v.auc_high,
        "reference_auc": v.reference_auc,
        "auc_drop": h.auc_drop,
    }
    return pd.DataFrame([row], columns=VERDICT_COLUMNS)


def page_line_of(row: Mapping[str, object], locale: str = "ja") -> str | None:
    """The month's page line from a `verdict_table` row: a shift in the distribution when the
    PSI reached its alert, else a fall of the AUC; None when neither crossed its threshold."""

    def text(key: str) -> str:
        value = row.get(key)
        return value if isinstance(value, str) else ""

    if text("shift_month"):
        return t(
            "hl_page_shift", locale, month=text("shift_month"), psi=float(row["shift_psi"]),
            alert=float(row["psi_alert"]),
        )  # fmt: skip
    if text("auc_month"):
        return t(
            "hl_page_auc", locale, month=text("auc_month"), high=float(row["auc_high"]),
            ref=float(row["reference_auc"]), drop=float(row["auc_drop"]),
        )  # fmt: skip
    return None


def page_line(health: ScoreHealth, locale: str = "ja") -> str | None:
    """The month's page line when the PSI or the AUC crossed its threshold, else None."""
    return page_line_of(verdict_table(health).iloc[0].to_dict(), locale)


def health_tables(health: ScoreHealth) -> dict[str, pd.DataFrame]:
    """The CSV tables: `score_health.csv` and `score_bands_by_month.csv` (aggregates only:
    no lead id)."""
    return {
        "score_health": health.table,
        "score_bands_by_month": health.bands,
        "score_drift": verdict_table(health),
    }


__all__ = [
    "BAND_MONTH_COLUMNS",
    "HEALTH_COLUMNS",
    "ScoreHealth",
    "Verdict",
    "for_report",
    "health_tables",
    "page_line",
    "page_line_of",
    "verdict_table",
    "window",
    "psi",
    "score_health",
    "verdict_sentence",
]
