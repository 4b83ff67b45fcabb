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

from ...contract.dataset import Dataset
from ...core.io import read_parquet
from ...core.months import month_bounds, month_range
from . import outcomes, points
from .model import ScoringConfig, ScoringModel, load_config
from .study import kept_name, uses_tool_scores

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
    if uses_tool_scores(dataset, config):
        return "scores", TOOL_KEY
    return "rules", model_key(config.current)


def kept_population_name(config: ScoringConfig, month: str) -> str:
    """The name the report month's population is kept under with the dataset's input."""
    return kept_name(config, f"population-{month}", month, suffix=".arrow")


def kept_window_name(config: ScoringConfig, month: str) -> str:
    """The name the populations of the health's whole window for the report `month` are kept
    under with the input (`prepare_health`), each sampled to `health.max_leads`."""
    h = config.health
    return kept_name(
        config, f"window-{month}", month, str(h.months), str(h.max_leads), suffix=".arrow"
    )


def window_populations(
    dataset: Dataset,
    config: ScoringConfig,
    months: list[str],
    report_month: str,
    con: duckdb.DuckDBPyConnection,
) -> dict[str, tuple[pd.DataFrame | None, int]]:
    """`populations` of `months` sampled to `health.max_leads`: read from what the batch
    prepared ahead for the whole window (`prepare_health`) when it is kept, else computed."""
    keeper = dataset.facts
    kept = keeper.table(kept_window_name(config, report_month)) if keeper is not None else None
    if kept is None:
        return populations(dataset, config, months, report_month, config.health.max_leads, con)
    out: dict[str, tuple[pd.DataFrame | None, int]] = {}
    for m in months:
        rows = kept[kept["month"] == m]
        whole = int(rows["whole"].iloc[0]) if len(rows) else 0
        out[m] = (rows[POPULATION_COLUMNS].reset_index(drop=True), whole)
    return out


def prepare_health(dataset: Dataset, params_dir: Path, month: str) -> None:
    """What the score's health reads, computed ahead by the batch (`NEEDS` of this report)
    while other notebooks run: the report month's whole population (for the history) and the
    populations of the health's window, kept with the input. Nothing is kept without a
    cache, or for a snapshot scores table (only its report month can be scored)."""
    config = load_config(params_dir)
    month_population(dataset, config, month)
    keeper = dataset.facts
    source, _ = score_source(dataset, config)
    if keeper is None or (source == "scores" and outcomes.is_snapshot(dataset["scores"])):
        return
    months = month_range(month, config.health.months)
    con = points.connect(dataset, month_bounds(month)[1])
    try:
        found = populations(dataset, config, months, month, config.health.max_leads, con)
    finally:
        con.close()
    frames = [
        rows.assign(month=m, whole=whole)
        for m, (rows, whole) in found.items()
        if rows is not None and not rows.empty
    ]
    if frames:
        keeper.keep_table(kept_window_name(config, month), pd.concat(frames, ignore_index=True))


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
    return populations(dataset, config, [month], report_month, max_leads, con)[month]


def populations(
    dataset: Dataset,
    config: ScoringConfig,
    months: list[str],
    report_month: str,
    max_leads: int | None,
    con: duckdb.DuckDBPyConnection,
) -> dict[str, tuple[pd.DataFrame | None, int]]:
    """The populations of `months` (`month_population`, without the keeper), found and scored
    together (one pass over the activities, one scoring query), each with its number of
    leads before sampling; (None, 0) for a month that cannot be scored from the data."""
    source, key = score_source(dataset, config)
    snapshot = source == "scores" and outcomes.is_snapshot(dataset["scores"])
    todo = [m for m in months if not snapshot or m == report_month]
    out: dict[str, tuple[pd.DataFrame | None, int]] = {m: (None, 0) for m in months}
    if not todo:
        return out
    cutoff = month_bounds(report_month)[1]
    leads = dataset["leads"]
    chosen, whole = _candidates(dataset, config, todo, cutoff, con)
    parts = []
    for m in todo:
        pos = chosen[m]
        if max_leads is not None:
            pos = sample_rows(pd.DataFrame({"pos": pos}), max_leads, m, config.proposal.seed)
            pos = pos["pos"].to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "lead_id": leads["lead_id"].to_numpy()[pos],
                    "product": leads["product"].to_numpy()[pos],
                    "at": month_bounds(m)[1] - points.SECOND,
                    "month": m,
                }
            )
        )
    moments = pd.concat(parts, ignore_index=True)
    moments["at"] = moments["at"].astype("datetime64[us]")
    moments.insert(0, "row_id", np.arange(len(moments), dtype="int64"))
    asked = moments[["row_id", "lead_id", "at"]]
    if snapshot:
        scored = _snapshot_scores(dataset["scores"], asked)
    elif source == "scores":
        scored = outcomes.tool_scores_at(dataset["scores"], asked)
    else:
        scored = points.scores_at(dataset, config.current, asked, cutoff, con=con)
    rating = scored["rating"] if "rating" in scored.columns else pd.Series(None, index=scored.index)
    frame = pd.DataFrame(
        {
            "lead_id": moments["lead_id"],
            "product": moments["product"],
            "score": scored["score"].to_numpy(dtype="float64"),
            "rating": rating.astype(object).where(rating.notna(), None).to_numpy(),
            "source": source,
            "model_key": key,
            "scored_at": moments["at"],
        }
    )
    known = frame["score"].notna().to_numpy()
    month_of = moments["month"].to_numpy()
    for m in todo:
        rows = frame[known & (month_of == m)].reset_index(drop=True)
        out[m] = (rows, whole[m])
    return out


def _month_code(times: pd.Series | np.ndarray) -> np.ndarray:
    t = pd.DatetimeIndex(times)
    return np.where(t.isna(), -1, t.year * 12 + t.month - 1).astype("int64")


def _candidates(
    dataset: Dataset,
    config: ScoringConfig,
    months: list[str],
    cutoff: pd.Timestamp,
    con: duckdb.DuckDBPyConnection,
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """Per month, the positions in the leads table of the leads active in it, created by its
    last second and not at the outcome then, in lead-id order; and how many there are."""
    leads = dataset["leads"]
    created = leads["created_at"].to_numpy(dtype="datetime64[us]")
    made = _month_code(created)
    outcome = outcomes.resolve_outcome(dataset, config.evaluation.outcome, cutoff)
    reached = outcomes.outcome_times(dataset, outcome, cutoff)
    when = reached.reindex(leads["lead_id"]).to_numpy(dtype="datetime64[us]")
    first, last = min(months), max(months)
    base = int(_month_code(pd.Series([month_bounds(first)[0]]))[0])
    # one row per lead: the months it acted in as the bits of one integer (the months shown
    # are at most 60: `model.MAX_HEALTH_MONTHS`)
    start, end = month_bounds(first)[0], month_bounds(last)[1]
    acted = con.sql(
        "SELECT lead_id, bit_or(1::BIGINT << CAST(year(occurred_at) * 12 + month(occurred_at) "
        f"- 1 - {base} AS BIGINT)) AS bits FROM acts_all WHERE occurred_at >= "
        f"{points._stamp(start)} AND occurred_at < {points._stamp(end)} GROUP BY lead_id"
    ).to_arrow_table()
    at_pos = points.lead_positions(leads, acted.column("lead_id").to_pandas())
    bits = np.zeros(len(leads), dtype="int64")
    found = at_pos >= 0
    bits[at_pos[found]] = np.asarray(acted.column("bits").to_numpy(), dtype="int64")[found]
    order = np.argsort(leads["lead_id"].to_numpy(dtype=object), kind="stable")
    chosen, whole = {}, {}
    for m in months:
        code = _month_code(pd.Series([month_bounds(m)[0]]))[0]
        at = np.datetime64(month_bounds(m)[1] - points.SECOND, "us")
        active = (made == code) | ((bits >> (code - base)) & 1).astype(bool)
        keep = active & ~np.isnat(created) & (created <= at) & (np.isnat(when) | (when > at))
        chosen[m] = order[keep[order]]
        whole[m] = len(chosen[m])
    return chosen, whole


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
