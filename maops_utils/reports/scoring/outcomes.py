"""The moments a lead is judged at and what became of it: month ends and stage crossings, the
outcome within the window, and the tool's own scores at those moments (docs/scoring.md)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...contract.dataset import Dataset
from ...contract.store import database
from ...core.months import month_bounds, month_labels, month_range
from .points import SECOND


def tool_scores_at(scores: pd.DataFrame, moments: pd.DataFrame) -> pd.DataFrame:
    """The tool's own score (and rating) of each lead at each moment: its latest `scores` row
    at or before the moment. Moments before a lead's first score row get no score (NaN).

    Args:
        scores: the dataset's `scores` table (lead_id, scored_at, score, rating).
        moments: rows `row_id, lead_id, at`.
    """
    s = scores[scores["scored_at"].notna() & scores["score"].notna()]
    s = s.sort_values(["scored_at", "lead_id"], kind="stable")
    m = moments.reset_index(drop=True).sort_values("at", kind="stable")
    cols = ["lead_id", "scored_at", "score"] + (["rating"] if "rating" in s.columns else [])
    merged = pd.merge_asof(
        m, s[cols], left_on="at", right_on="scored_at", by="lead_id", direction="backward"
    )
    merged = merged.sort_values("row_id").reset_index(drop=True).drop(columns="scored_at")
    if "rating" in merged.columns:
        merged["rating"] = merged["rating"].where(merged["rating"].notna(), None)
    return merged


def tool_trajectory(scores: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The tool's score history as a trajectory (`lead_id, at, score`), before `cutoff`."""
    s = scores[scores["scored_at"].notna() & scores["score"].notna()]
    s = s[s["scored_at"] < cutoff]
    return (
        s.rename(columns={"scored_at": "at"})[["lead_id", "at", "score"]]
        .sort_values(["lead_id", "at"], kind="stable")
        .reset_index(drop=True)
    )


# ---------------------------------------------------------------- judgement and outcome


# The stages after a lead is handed over, nearest first: what an outcome can be (the MQL is
# when a lead is judged, not what it is judged against).
OUTCOME_ORDER = ("sql", "opportunity", "won")


def _outcome_records(dataset: Dataset, outcome: str) -> tuple[pd.Series, pd.Series]:
    """Every record of a lead reaching `outcome`, dated or not: (lead_id, time).

    sql: its `sql` stage changes; opportunity: its opportunities, when created; won: its
    opportunities closed as won, when closed."""
    if outcome == "sql":
        s = dataset["stage_changes"]
        s = s[s["stage"] == "sql"]
        return s["lead_id"], s["changed_at"]
    o = dataset["opportunities"]
    o = o[o["lead_id"].notna()]
    if outcome == "won":
        o = o[o["status"] == "won"]
        return o["lead_id"], o["closed_at"]
    return o["lead_id"], o["created_at"]


def outcome_times(dataset: Dataset, outcome: str, cutoff: pd.Timestamp) -> pd.Series:
    """When each lead first reached the outcome (before `cutoff`), indexed by lead_id.

    sql: its first `sql` stage change; opportunity: the creation of its first opportunity;
    won: the first close of one of its opportunities as won. Records without a date are not
    here (`undated_outcomes`).
    """
    leads, times = _outcome_records(dataset, outcome)
    dated = times < cutoff
    return times[dated].groupby(leads[dated]).min().rename_axis("lead_id").rename("outcome_at")


def undated_outcomes(dataset: Dataset, outcome: str) -> pd.Index:
    """The leads with a record of the outcome that has no date (a converted flag imported as
    an undated opportunity): they reached it, at a time nobody can place."""
    leads, times = _outcome_records(dataset, outcome)
    return pd.Index(leads[times.isna()].unique(), name="lead_id")


def outcome_counts(dataset: Dataset, cutoff: pd.Timestamp) -> dict[str, int]:
    """How many leads reached each outcome before `cutoff` or at an unknown time."""
    counts = {}
    for outcome in OUTCOME_ORDER:
        leads, times = _outcome_records(dataset, outcome)
        counts[outcome] = int(leads[(times < cutoff) | times.isna()].nunique())
    return counts


def resolve_outcome(dataset: Dataset, configured: str, cutoff: pd.Timestamp) -> str:
    """The outcome to judge against: the configured one, or, when no lead of the data has
    reached it (a funnel without an SQL stage), the furthest stage the data has
    (sql < opportunity < won). The configured one when the data has none of them: the study
    then says there is nothing to judge against."""
    counts = outcome_counts(dataset, cutoff)
    if counts[configured] or not any(counts.values()):
        return configured
    return [o for o in OUTCOME_ORDER if counts[o]][-1]


def is_snapshot(scores: pd.DataFrame) -> bool:
    """Whether a `scores` table is a snapshot: every row with a score has no `scored_at`
    (docs/data-contract.md, project notes)."""
    usable = scores[scores["score"].notna()]
    return bool(len(usable)) and bool(usable["scored_at"].isna().all())


def month_ends(first: str, last: str) -> list[pd.Timestamp]:
    """The last second of every month from `first` to `last` ("YYYY-MM")."""
    n = (pd.Period(last, freq="M") - pd.Period(first, freq="M")).n + 1
    return [month_bounds(m)[1] - SECOND for m in month_range(last, n)]


def judgement_moments(
    dataset: Dataset,
    judged_at: str,
    first_month: str,
    month: str,
    outcome_at: pd.Series,
) -> pd.DataFrame:
    """The moments leads are judged at, from `first_month` to the report `month`.

    month_end: every lead created by the last second of a month and not yet at the outcome
    then is judged at that second. mql: every lead is judged when it first became MQL (its
    first `mql` stage change), unless it had already reached the outcome.

    Returns:
        Rows `row_id, lead_id, product, at, month` ordered by moment and lead.
    """
    leads = dataset["leads"]
    leads = leads[leads["created_at"].notna()][["lead_id", "product", "created_at"]]
    start = month_bounds(first_month)[0]
    end = month_bounds(month)[1]
    if judged_at == "month_end":
        ends = pd.DataFrame({"at": month_ends(first_month, month)})
        con = database()
        try:
            con.register("leads", leads)
            con.register("ends", ends)
            rows = con.execute(
                "SELECT l.lead_id, l.product, e.at FROM leads AS l JOIN ends AS e "
                "ON l.created_at <= e.at"
            ).df()
        finally:
            con.close()
    else:
        s = dataset["stage_changes"]
        s = s[(s["stage"] == "mql") & s["changed_at"].notna()]
        first = s.groupby("lead_id", as_index=False)["changed_at"].min()
        rows = first.merge(leads[["lead_id", "product"]], on="lead_id").rename(
            columns={"changed_at": "at"}
        )
        rows = rows[(rows["at"] >= start) & (rows["at"] < end)]
    rows = rows.sort_values(["at", "lead_id"], kind="stable").reset_index(drop=True)
    rows["at"] = rows["at"].astype("datetime64[us]")
    rows["month"] = month_labels(rows["at"])
    rows.insert(0, "row_id", np.arange(len(rows), dtype="int64"))
    return before_outcome(rows[["row_id", "lead_id", "product", "at", "month"]], outcome_at)


def before_outcome(moments: pd.DataFrame, outcome_at: pd.Series) -> pd.DataFrame:
    """The `moments` (of `judgement_moments`) at which the lead had not yet reached the
    outcome (`outcome_times`), numbered afresh: `judgement_moments` with those times."""
    reached = outcome_at.reindex(moments["lead_id"]).to_numpy(dtype="datetime64[us]")
    keep = np.isnat(reached) | (reached > moments["at"].to_numpy())
    if keep.all():
        return moments
    out = moments[keep].reset_index(drop=True)
    out["row_id"] = np.arange(len(out), dtype="int64")
    return out


def label_outcomes(
    moments: pd.DataFrame, outcome_at: pd.Series, window_days: int, cutoff: pd.Timestamp
) -> pd.DataFrame:
    """Add `outcome_at`, `closed` and `y` to judgement moments.

    y = 1 when the lead reached the outcome after the moment and within `window_days`, 0 when
    it did not. A moment whose window ends after `cutoff` is not closed: y is left empty
    (censored) even if the outcome has already happened, so that early successes do not
    count while the failures cannot yet be known.
    """
    out = moments.copy()
    out["outcome_at"] = pd.Series(
        outcome_at.reindex(out["lead_id"]).to_numpy(), index=out.index, dtype="datetime64[us]"
    )
    window = pd.Timedelta(days=window_days)
    out["closed"] = (out["at"] + window) <= cutoff
    hit = (out["outcome_at"] > out["at"]) & (out["outcome_at"] <= out["at"] + window)
    out["y"] = np.where(out["closed"], hit.astype("float64"), np.nan)
    return out


def last_closed_month(month: str, window_days: int) -> str | None:
    """The last month whose end plus the window still falls before the end of `month`."""
    cutoff = month_bounds(month)[1]
    last = pd.Period(month, freq="M")
    for _ in range(240):
        if month_bounds(str(last))[1] - SECOND + pd.Timedelta(days=window_days) <= cutoff:
            return str(last)
        last -= 1
    return None


__all__ = [
    "OUTCOME_ORDER",
    "before_outcome",
    "is_snapshot",
    "judgement_moments",
    "label_outcomes",
    "last_closed_month",
    "month_ends",
    "outcome_counts",
    "outcome_times",
    "resolve_outcome",
    "tool_scores_at",
    "tool_trajectory",
    "undated_outcomes",
]
