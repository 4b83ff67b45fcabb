"""Data-quality tables for notebook 00: what the dataset holds, how fresh and complete it is,
what the contract check left out, likely duplicate people (名寄せ), and the findings the KPI
notebooks should be read with (`findings.month_findings`, the one list every page shows).
Pure functions of a validated `Dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...contract import dedupe
from ...contract.dataset import Dataset
from ...contract.load import load_dataset
from ...core.errors import Finding
from ...core.i18n import finding_words, t
from ...core.months import month_range
from ...core.schema import TABLES
from ...core.settings import RunSettings
from ..kpi.review import resolve_month
from . import findings as month_list
from .findings import TIME_COLUMNS, duplicate_pairs


@dataclass
class QualityReview:
    """Everything notebook 00 shows for one month."""

    dataset: Dataset
    month: str
    months: list[str]
    as_of: pd.Timestamp
    locale: str = "ja"
    include_pii: bool = False
    findings: list[Finding] = field(default_factory=list)
    pairs: pd.DataFrame | None = None  # 名寄せ candidates (unmasked), computed once
    by_month: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)  # see _by_month
    # Empty values per column (`_empty_counts`): a scan of every table, read by the body's
    # table, the appendix's and the conclusion, so done once.
    empties: pd.DataFrame | None = field(default=None, repr=False)


def load_quality(
    settings: RunSettings,
    *,
    as_of: pd.Timestamp | None = None,
    include_pii: bool = False,
    snapshot: str = "",
) -> QualityReview:
    """Read and check the dataset of `settings` and gather the quality review of its month.

    Args:
        settings: from `config.notebook_settings` (data folder, month, time zone, locale).
        as_of: run time (local); None means now.
        include_pii: show e-mail addresses and names unmasked in the duplicate table.
        snapshot: the input as the run read it (`load_dataset`).

    Returns:
        A `QualityReview` whose `findings` are the month's (`findings.month_findings`).
    """
    now = as_of if as_of is not None else pd.Timestamp.now(tz=settings.timezone).tz_localize(None)
    dataset = load_dataset(
        settings.data_dir,
        timezone=settings.timezone,
        encoding=settings.encoding,
        as_of=now,
        cache_dir=settings.cache_dir,
        snapshot=snapshot,
    )
    month = resolve_month(dataset, settings.month, now)
    months = month_range(month, settings.trend_months)
    rv = QualityReview(dataset, month, months, now, settings.locale, include_pii)
    rv.pairs = duplicate_pairs(dataset)
    rv.findings = month_list.month_findings(dataset, month, months, rv.by_month, rv.pairs)
    return rv


def prepare_pairs(dataset: Dataset, params_dir: Path, month: str) -> None:
    """`duplicate_pairs`, computed ahead by the batch (`NEEDS` of this report)."""
    duplicate_pairs(dataset)


def count_grid(rv: QualityReview) -> pd.DataFrame:
    """Rows per table (rows) and month (columns, oldest first), for the months reviewed, with
    the total of all rows (undated ones and months before the review included): the layout
    of `quality_counts.csv`."""
    rows = {}
    for name in TIME_COLUMNS:
        if not rv.dataset.has(name):
            continue
        counts = _by_month(rv, name)
        by_month = counts.groupby("month")["n"].sum()  # rows without a time have no month
        row = {m: int(by_month.get(m, 0)) for m in rv.months}
        row["total"] = int(counts["n"].sum())
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = t("table", rv.locale)
    return out.rename(columns={"total": t("total", rv.locale)})


def row_counts(rv: QualityReview) -> pd.DataFrame:
    """Rows per month (rows, the month reviewed first, then older ones back to the first with
    data) and table (columns), the total of all rows last: narrow enough that the month
    reviewed and the totals are never scrolled out of sight."""
    grid = count_grid(rv)
    out = grid.T.loc[[*reversed(_months_with_data(rv, grid)), t("total", rv.locale)]]
    out.index.name = t("month", rv.locale)
    out.columns.name = None
    return out


def _months_with_data(rv: QualityReview, grid: pd.DataFrame) -> list[str]:
    """The months reviewed from the first that has a row in any table: the months before the
    data starts are empty, not missing (`gaps` says the same)."""
    dated = [m for m in rv.months if grid[m].sum() > 0]
    return [m for m in rv.months if m >= dated[0]] if dated else list(rv.months)


def activity_counts(rv: QualityReview) -> pd.DataFrame:
    """Activities per month (rows, the month reviewed first) and type (columns)."""
    counts = month_list.activities_by_month(rv.dataset, rv.by_month)
    grid = counts.pivot_table(
        index="month", columns="activity_type", values="n", aggfunc="sum", fill_value=0
    )
    months = _months_with_data(rv, count_grid(rv))
    grid = grid.reindex(list(reversed(months)), fill_value=0).astype("int64")
    grid.index.name = t("month", rv.locale)
    grid.columns.name = None
    return grid


def _by_month(rv: QualityReview, name: str) -> pd.DataFrame:
    return month_list.table_months(rv.dataset, name, rv.by_month)


def freshness(rv: QualityReview) -> pd.DataFrame:
    """Per table: its newest timestamp and how many days before the end of the month reviewed
    it is (not the run date: a month run weeks after it closed is complete)."""
    rows = []
    for name in TIME_COLUMNS:
        if not rv.dataset.has(name):
            continue
        newest = month_list.latest(rv.dataset, name, rv.by_month)
        dated = pd.notna(newest)
        rows.append(
            {
                t("table", rv.locale): name,
                t("latest", rv.locale): f"{newest:%Y-%m-%d %H:%M}" if dated else "",
                t("days_before_month_end", rv.locale): (
                    month_list.days_before_end(newest, rv.month) if dated else None
                ),
                t("status", rv.locale): t(
                    "stale" if not dated or month_list.is_stale(newest, rv.month) else "fresh",
                    rv.locale,
                ),
            }
        )
    return pd.DataFrame(rows).set_index(t("table", rv.locale))


def _empty_counts(rv: QualityReview) -> pd.DataFrame:
    """Rows `table, column, required, empty, rows`: every contract column the dataset has,
    in the contract's order, with its empty values and its table's rows."""
    if rv.empties is not None:
        return rv.empties
    rows = []
    for name in rv.dataset.names:
        found = set(_columns(rv.dataset, name))
        present = [c.name for c in TABLES[name].columns if c.name in found]
        if not present:
            continue
        counts = rv.dataset.sql(
            name,
            "SELECT COUNT(*) AS rows, "
            + ", ".join(f'COUNT(*) - COUNT("{c}") AS "{c}"' for c in present)
            + " FROM {table}",
        ).iloc[0]
        for col in TABLES[name].columns:
            if col.name in present:
                rows.append(
                    {
                        "table": name,
                        "column": col.name,
                        "required": col.required,
                        "empty": int(counts[col.name]),
                        "rows": int(counts["rows"]),
                    }
                )
    rv.empties = pd.DataFrame(rows, columns=["table", "column", "required", "empty", "rows"])
    return rv.empties


def _empty_view(rv: QualityReview, empties: pd.DataFrame) -> pd.DataFrame:
    loc = rv.locale
    out = pd.DataFrame(
        {
            t("table", loc): list(empties["table"]),
            t("column", loc): list(empties["column"]),
            t("required", loc): [t("yes" if r else "no", loc) for r in empties["required"]],
            t("empty", loc): list(empties["empty"]),
            t("empty_share", loc): [
                f"{r.empty / r.rows:.1%}" if r.rows else "" for r in empties.itertuples()
            ],
        }
    )
    return out.set_index([t("table", loc), t("column", loc)])


def missing_fields(rv: QualityReview) -> pd.DataFrame:
    """Per table and contract column: required or optional, and the share of empty values."""
    return _empty_view(rv, _empty_counts(rv))


def incomplete_fields(rv: QualityReview) -> pd.DataFrame:
    """The columns of `missing_fields` that have empty values, the emptiest first."""
    empties = _empty_counts(rv)
    some = empties[empties["empty"] > 0].assign(share=lambda d: d["empty"] / d["rows"])
    some = some.sort_values(["share", "table", "column"], ascending=[False, True, True])
    return _empty_view(rv, some)


def completeness(rv: QualityReview) -> tuple[int, int]:
    """How many contract columns of the dataset have no empty value, and how many it has."""
    empties = _empty_counts(rv)
    return int((empties["empty"] == 0).sum()), len(empties)


def _columns(dataset, name: str) -> list[str]:
    if name in dataset.tables:
        return list(dataset.tables[name].columns)
    return list(dataset.sql(name, "SELECT * FROM {table} LIMIT 0").columns)


def gaps(rv: QualityReview) -> pd.DataFrame:
    """Suspicious months: a month without e-mail sends (or page views, forms, new leads) while
    other months of the review have them."""
    return month_list.gaps(rv.dataset, rv.months, rv.by_month)


def duplicates(
    rv: QualityReview, *, min_confidence: float = month_list.LISTED_CONFIDENCE
) -> pd.DataFrame:
    """Likely duplicate people among the leads (名寄せ), e-mails and names masked unless the
    review includes personal data."""
    pairs = rv.pairs
    if pairs is None:
        pairs = dedupe.candidate_pairs(rv.dataset["leads"], min_confidence=min_confidence)
    pairs = pairs[pairs["confidence"] >= min_confidence]
    return mask_pairs(pairs, include_pii=rv.include_pii)


def mask_pairs(pairs: pd.DataFrame, *, include_pii: bool = False) -> pd.DataFrame:
    """Candidate pairs with e-mail addresses (`t***@example.co.jp`) and names (`山***`) masked."""
    out = pairs.copy()
    if not include_pii:
        for side in ("left", "right"):
            out[f"{side}_email"] = out[f"{side}_email"].map(dedupe.mask_email)
            out[f"{side}_name"] = out[f"{side}_name"].map(dedupe.mask_name)
    return out


def findings_table(rv: QualityReview) -> pd.DataFrame:
    """Every finding with its table, column, rows and what to do, in the review's language."""
    loc = rv.locale
    rows = []
    for f in rv.findings:
        message, action = finding_words(f, loc)
        rows.append(
            {
                t("severity", loc): t(f.severity, loc),
                t("table", loc): f.table,
                t("column", loc): f.column,
                t("message", loc): message,
                t("rows", loc): f.count or "",  # none for a finding on a whole table
                t("action", loc): action,
            }
        )
    cols = [t(k, loc) for k in ("severity", "table", "column", "message", "rows", "action")]
    return pd.DataFrame(rows, columns=cols).set_index(cols[0])


def reading_notes(rv: QualityReview) -> list[str]:
    """Sentences for the readers of the KPI notebooks: which figures the findings affect."""
    loc = rv.locale
    notes = []
    by_table: dict[str, int] = {}
    for f in rv.findings:
        by_table[f.table] = by_table.get(f.table, 0) + 1
    if not rv.findings:
        return [t("note_clean", loc)]
    for table, n in sorted(by_table.items()):
        key = f"note_{table}"
        notes.append(
            t(key, loc, n=n) if key in _NOTE_KEYS else t("note_other", loc, table=table, n=n)
        )
    gap_months = gaps(rv)
    sends = gap_months[gap_months["what"] == "email_send"]["month"].tolist()
    if sends:
        notes.append(t("note_email_gap", loc, months=", ".join(sends)))
    return notes


_NOTE_KEYS = {
    "note_leads",
    "note_activities",
    "note_stage_changes",
    "note_opportunities",
    "note_campaigns",
}


def tables_for_output(rv: QualityReview) -> dict[str, pd.DataFrame]:
    """The CSV tables of notebook 00 (`quality_counts`, `quality_findings`,
    `duplicate_candidates`, masked unless the review includes personal data)."""
    counts = count_grid(rv).reset_index()
    findings = pd.DataFrame([_finding_row(f, rv.locale) for f in rv.findings])
    return {
        "quality_counts": counts,
        "quality_findings": findings,
        "duplicate_candidates": duplicates(rv),
    }


def _finding_row(f: Finding, locale: str) -> dict[str, object]:
    """A finding as a row of `quality_findings.csv`: its words in the report's language, its
    code for a program to read, its examples joined."""
    row = f.as_dict()
    row["message"], row["action"] = finding_words(f, locale)
    row["examples"] = "; ".join(f.examples)
    del row["params"]
    return row
