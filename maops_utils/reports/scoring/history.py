"""Who is scored each month and the history of those scores that the batch keeps.

**The month's population** (`month_population`): for month M, the leads *active* in M
(created in M, or with at least one activity in M), created by M's end and not yet at the
outcome (`outcomes.outcome_times`) at M's last second, scored at that second with the current
source: the tool's own scores (`outcomes.tool_scores_at`, when the dataset has a dated
`scores` table and `source` lets it be used) or the current rules (`points.scores_at`), with
the rating when there is one. A snapshot `scores` table (no `scored_at`) gives the report
month's scores only: it was exported then.

**The history**: after a month is published, the batch keeps its population as one Parquet
file (`history_path`); later runs read it (`read_history`). A month with an entry of the
same source (the tool's scores, or the rules of the same `model_key`) is read from it
(`recorded`); any other is computed from the data (`recomputed`), or left empty when neither
is possible (a snapshot, for any month but the report month). Lead ids stay in the history:
no report table shows them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from ...contract.dataset import Dataset, isin
from ...core.io import read_parquet
from ...core.months import month_bounds
from . import outcomes, points
from .model import ScoringConfig, ScoringModel
from .study import _use_scores, kept_name

POPULATION_COLUMNS = ["lead_id", "product", "score", "rating", "source", "model_key", "scored_at"]
RECORDED, RECOMPUTED = "recorded", "recomputed"
TOOL_KEY = "tool"  # the model key of the tool's own scores
HISTORY_FILE = "scores-{month}.parquet"


def model_key(model: ScoringModel) -> str:
    """A short key of the rules that make a score (the MQL threshold left out: it moves no
    score): two runs with the same key score every lead alike."""
    rules = model.as_dict()
    rules.pop("mql_threshold", None)
    text = json.dumps(rules, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def score_source(dataset: Dataset, config: ScoringConfig) -> tuple[str, str]:
    """The current source of scores: ("scores", "tool") for the tool's own, else ("rules",
    `model_key` of the current model)."""
    if _use_scores(dataset, config):
        return "scores", TOOL_KEY
    return "rules", model_key(config.current)


def kept_population_name(config: ScoringConfig, month: str) -> str:
    """The name the report month's population is kept under with the dataset's input."""
    return kept_name(config, f"population-{month}", month, suffix=".arrow")


def history_path(history_dir: Path, month: str) -> Path:
    """The history entry of `month`: one Parquet file of its population."""
    return Path(history_dir) / HISTORY_FILE.format(month=month)


def read_history(history_dir: Path | None, months: list[str]) -> dict[str, pd.DataFrame]:
    """The history entries of `months` that exist and can be read, by month."""
    if history_dir is None:
        return {}
    found = {}
    for month in months:
        frame = read_parquet(history_path(history_dir, month))
        if frame is not None and set(POPULATION_COLUMNS) <= set(frame.columns):
            found[month] = frame[POPULATION_COLUMNS]
    return found


def month_population(
    dataset: Dataset,
    config: ScoringConfig,
    month: str,
    *,
    report_month: str | None = None,
    max_leads: int | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pd.DataFrame | None:
    """The month's population (module docstring) scored at `month`'s last second.

    Args:
        report_month: the report month (default `month`): nothing at or after its end is read.
        max_leads: above this many leads, a seeded random sample of them (`sample_rows`).
        con: a `points.connect(dataset, end of report_month)` connection to reuse.

    Returns:
        Rows `POPULATION_COLUMNS` ordered by lead id; None when the month cannot be scored
        from the data (a snapshot scores table, for any month but the report month). The
        report month's whole population is kept with the input (`Dataset.facts`) and read
        from there by a later call.
    """
    report_month = report_month or month
    keeper = dataset.facts if max_leads is None and month == report_month else None
    name = kept_population_name(config, month)
    if keeper is not None:
        kept = keeper.table(name)
        if kept is not None:
            return kept
    own = con is None
    con = con or points.connect(dataset, month_bounds(report_month)[1])
    try:
        out, _ = _population(dataset, config, month, report_month, max_leads, con)
    finally:
        if own:
            con.close()
    if keeper is not None and out is not None:
        keeper.keep_table(name, out)
    return out


def _population(
    dataset: Dataset,
    config: ScoringConfig,
    month: str,
    report_month: str,
    max_leads: int | None,
    con: duckdb.DuckDBPyConnection,
) -> tuple[pd.DataFrame | None, int]:
    """`month_population` without the keeper, and the number of leads before sampling."""
    source, key = score_source(dataset, config)
    snapshot = source == "scores" and outcomes.is_snapshot(dataset["scores"])
    if snapshot and month != report_month:
        return None, 0
    cutoff = month_bounds(report_month)[1]
    at = month_bounds(month)[1] - points.SECOND
    leads = _candidates(dataset, config, month, at, cutoff, con)
    whole = len(leads)
    if max_leads is not None:
        leads = sample_rows(leads, max_leads, month, config.proposal.seed)
    moments = pd.DataFrame(
        {
            "row_id": np.arange(len(leads), dtype="int64"),
            "lead_id": leads["lead_id"].to_numpy(),
            "at": pd.Series(at, index=range(len(leads))).astype("datetime64[us]"),
        }
    )
    if snapshot:
        scored = _snapshot_scores(dataset["scores"], moments)
    elif source == "scores":
        scored = outcomes.tool_scores_at(dataset["scores"], moments)
    else:
        scored = points.scores_at(dataset, config.current, moments, cutoff, con=con)
    rating = scored["rating"] if "rating" in scored.columns else pd.Series(None, index=scored.index)
    out = pd.DataFrame(
        {
            "lead_id": leads["lead_id"].to_numpy(),
            "product": leads["product"].to_numpy(),
            "score": scored["score"].to_numpy(dtype="float64"),
            "rating": rating.astype(object).where(rating.notna(), None).to_numpy(),
            "source": source,
            "model_key": key,
            "scored_at": moments["at"].to_numpy(),
        }
    )
    return out[out["score"].notna()].reset_index(drop=True), whole


def _candidates(
    dataset: Dataset,
    config: ScoringConfig,
    month: str,
    at: pd.Timestamp,
    cutoff: pd.Timestamp,
    con: duckdb.DuckDBPyConnection,
) -> pd.DataFrame:
    """The leads active in `month`, created by `at` and not at the outcome then: `lead_id,
    product`, by lead id."""
    start, end = month_bounds(month)
    leads = dataset["leads"][["lead_id", "product", "created_at"]]
    leads = leads[leads["created_at"].notna() & (leads["created_at"] <= at)]
    acted = con.execute(
        "SELECT DISTINCT lead_id FROM acts_all WHERE occurred_at >= ? AND occurred_at < ?",
        [start.to_pydatetime(), end.to_pydatetime()],
    ).df()["lead_id"]
    active = (leads["created_at"] >= start) | isin(leads["lead_id"], acted)
    leads = leads[active]
    outcome = outcomes.resolve_outcome(dataset, config.evaluation.outcome, cutoff)
    reached = outcomes.outcome_times(dataset, outcome, cutoff)
    when = reached.reindex(leads["lead_id"]).to_numpy(dtype="datetime64[us]")
    open_ = np.isnat(when) | (when > np.datetime64(at, "us"))
    leads = leads[open_].sort_values("lead_id", kind="stable")
    return leads[["lead_id", "product"]].reset_index(drop=True)


def _snapshot_scores(scores: pd.DataFrame, moments: pd.DataFrame) -> pd.DataFrame:
    """A snapshot's score (and rating) of each lead of `moments`; a lead with two different
    undated scores is ambiguous and gets none, as in the study."""
    sc = scores[scores["score"].notna()]
    cols = ["lead_id", "score"] + (["rating"] if "rating" in sc.columns else [])
    sc = sc[cols].drop_duplicates()
    sc = sc[~sc["lead_id"].duplicated(keep=False)]
    return moments.merge(sc, on="lead_id", how="left")


def sample_rows(rows: pd.DataFrame, max_leads: int, month: str, seed: int) -> pd.DataFrame:
    """`rows` when there are at most `max_leads`, else a random sample of `max_leads` of them,
    the same on every run (seeded by `seed` and the month), in their own order."""
    if len(rows) <= max_leads:
        return rows
    year, mon = (int(x) for x in month.split("-"))
    rng = np.random.default_rng([seed, year, mon])
    keep = np.sort(rng.choice(len(rows), size=max_leads, replace=False))
    return rows.iloc[keep].reset_index(drop=True)


__all__ = [
    "HISTORY_FILE",
    "POPULATION_COLUMNS",
    "RECOMPUTED",
    "RECORDED",
    "TOOL_KEY",
    "history_path",
    "kept_population_name",
    "model_key",
    "month_population",
    "read_history",
    "sample_rows",
    "score_source",
]
