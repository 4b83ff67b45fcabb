"""Data-quality tables for notebook 00: what the dataset holds, how fresh and complete it is,
what the contract check left out, likely duplicate people (名寄せ), and the findings the KPI
notebooks should be read with. Pure functions of a validated `Dataset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...contract import dedupe
from ...contract.dataset import Dataset
from ...contract.load import load_dataset
from ...core.errors import Finding
from ...core.i18n import t
from ...core.months import month_range
from ...core.schema import TABLES
from ...core.settings import RunSettings
from ..kpi.review import resolve_month

# The timestamp that places a row of each table in a month.
TIME_COLUMNS = {
    "leads": "created_at",
    "activities": "occurred_at",
    "stage_changes": "changed_at",
    "opportunities": "created_at",
    "scores": "scored_at",
}
# Activity types whose absence in a month is suspicious when other months have them.
GAP_TYPES = ("email_send", "page_view", "form_submit")
STALE_DAYS = 35  # a table whose newest row is older than this at run time is stale


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
        A `QualityReview` whose `findings` are the contract check's plus the gaps, staleness
        and duplicates found here.
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
    rv.findings = [*dataset.findings, *extra_findings(rv)]
    return rv


def prepare_pairs(dataset: Dataset, params_dir: Path, month: str) -> None:
    """`duplicate_pairs`, computed ahead by the batch (`NEEDS` of this report)."""
    duplicate_pairs(dataset)


def duplicate_pairs(dataset: Dataset) -> pd.DataFrame:
    """The 名寄せ candidate pairs of the dataset's leads (`dedupe.candidate_pairs`, confidence
    0.5 and up), kept with the validated data (`Dataset.derived`): computed once per input."""
    return dataset.derived(
        f"pairs-{dedupe.CODE_KEY}-0.5",
        lambda: dedupe.candidate_pairs(dataset["leads"], min_confidence=0.5),
    )


def row_counts(rv: QualityReview) -> pd.DataFrame:
    """Rows per table (rows) and month (columns), for the months reviewed, with a total."""
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


def activity_counts(rv: QualityReview) -> pd.DataFrame:
    """Activities per type (rows) and month (columns), for the months reviewed."""
    counts = _activities_by_month(rv)
    grid = counts.pivot_table(
        index="activity_type", columns="month", values="n", aggfunc="sum", fill_value=0
    )
    grid = grid.reindex(columns=rv.months, fill_value=0).astype("int64")
    grid.index.name = t("activity_type", rv.locale)
    grid.columns.name = None
    return grid


def _by_month(rv: QualityReview, name: str) -> pd.DataFrame:
    """Rows `month, n, latest` of table `name` (and `activity_type` first for the
    activities), counted in DuckDB in one scan and kept in the review: the counts, the gaps
    and the freshness tables all read them."""
    if name not in rv.by_month:
        col = TIME_COLUMNS[name]
        kind = "activity_type, " if name == "activities" else ""
        rv.by_month[name] = rv.dataset.sql(
            name,
            f"SELECT {kind}strftime({col}, '%Y-%m') AS month, COUNT(*) AS n, "
            f"MAX({col}) AS latest FROM {{table}} GROUP BY ALL",
        )
    return rv.by_month[name]


def _activities_by_month(rv: QualityReview) -> pd.DataFrame:
    """Rows `activity_type, month, n`: dated activities by type and month."""
    counts = _by_month(rv, "activities")
    dated = counts[counts["month"].notna()][["activity_type", "month", "n"]]
    return dated.sort_values(["activity_type", "month"], na_position="last").reset_index(drop=True)


def _latest(rv: QualityReview, name: str) -> pd.Timestamp:
    latest = _by_month(rv, name)["latest"].max()  # NaT for an empty table
    return pd.Timestamp(latest) if pd.notna(latest) else pd.NaT


def freshness(rv: QualityReview) -> pd.DataFrame:
    """Per table: its newest timestamp and how many days old that is at run time."""
    rows = []
    for name in TIME_COLUMNS:
        if not rv.dataset.has(name):
            continue
        latest = _latest(rv, name)
        days = None if pd.isna(latest) else int((rv.as_of - latest) / pd.Timedelta(days=1))
        rows.append(
            {
                t("table", rv.locale): name,
                t("latest", rv.locale): "" if pd.isna(latest) else f"{latest:%Y-%m-%d %H:%M}",
                t("days_old", rv.locale): days,
                t("status", rv.locale): t(
                    "stale" if days is None or days > STALE_DAYS else "fresh", rv.locale
                ),
            }
        )
    return pd.DataFrame(rows).set_index(t("table", rv.locale))


def missing_fields(rv: QualityReview) -> pd.DataFrame:
    """Per table and contract column: required or optional, and the share of empty values."""
    rows = []
    for name in rv.dataset.names:
        found = set(_columns(rv.dataset, name))
        present = [c.name for c in TABLES[name].columns if c.name in found]
        counts = (
            rv.dataset.sql(
                name,
                "SELECT COUNT(*) AS rows, "
                + ", ".join(f'COUNT(*) - COUNT("{c}") AS "{c}"' for c in present)
                + " FROM {table}",
            ).iloc[0]
            if present
            else pd.Series({"rows": 0})
        )
        total = int(counts["rows"])
        for col in TABLES[name].columns:
            if col.name not in present:
                continue
            empty = int(counts[col.name])
            rows.append(
                {
                    t("table", rv.locale): name,
                    t("column", rv.locale): col.name,
                    t("required", rv.locale): t("yes" if col.required else "no", rv.locale),
                    t("empty", rv.locale): empty,
                    t("empty_share", rv.locale): f"{empty / total:.1%}" if total else "",
                }
            )
    out = pd.DataFrame(rows)
    return out.set_index([t("table", rv.locale), t("column", rv.locale)])


def _columns(dataset, name: str) -> list[str]:
    if name in dataset.tables:
        return list(dataset.tables[name].columns)
    return list(dataset.sql(name, "SELECT * FROM {table} LIMIT 0").columns)


def gaps(rv: QualityReview) -> pd.DataFrame:
    """Suspicious months: a month without e-mail sends (or page views, forms, new leads) while
    other months of the review have them."""
    rows = []
    by_month = _activities_by_month(rv)
    series = {
        kind: by_month[by_month["activity_type"] == kind].set_index("month")["n"]
        for kind in GAP_TYPES
    }
    leads = _by_month(rv, "leads")  # counted in SQL once for the counts and freshness too
    series["new_leads"] = leads[leads["month"].notna()].set_index("month")["n"]
    starts = [s.index.min() for s in series.values() if len(s)]
    first = min(starts) if starts else None
    for kind, counts in series.items():
        if counts.reindex(rv.months, fill_value=0).sum() == 0:
            continue
        for m in rv.months:
            if first is not None and m < first:
                continue  # before the data starts is not a gap
            if int(counts.get(m, 0)) == 0:
                rows.append({"month": m, "what": kind})
    out = pd.DataFrame(rows, columns=["month", "what"])
    return out


def duplicates(rv: QualityReview, *, min_confidence: float = 0.5) -> pd.DataFrame:
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


def extra_findings(rv: QualityReview) -> list[Finding]:
    """Findings beyond the contract check: gaps, stale tables, duplicate people."""
    out = []
    for r in gaps(rv).itertuples():
        out.append(
            Finding(
                "warning",
                "leads" if r.what == "new_leads" else "activities",
                f"no {r.what} in {r.month} while other months have them",
                column="created_at" if r.what == "new_leads" else "activity_type",
                action="check that the export covers that month (a missing file or a filter)",
            )
        )
    for name, col in TIME_COLUMNS.items():
        if not rv.dataset.has(name):
            continue
        latest = _latest(rv, name)  # NaT for an empty table
        if pd.notna(latest) and (rv.as_of - latest) > pd.Timedelta(days=STALE_DAYS):
            out.append(
                Finding(
                    "warning",
                    name,
                    f"the newest row is from {latest:%Y-%m-%d}, {int((rv.as_of - latest).days)} days before the run",
                    column=col,
                    action="export the table again",
                )
            )
    pairs = rv.pairs if rv.pairs is not None else dedupe.candidate_pairs(rv.dataset["leads"])
    pairs = pairs[pairs["confidence"] >= 0.8]
    if len(pairs):
        out.append(
            Finding(
                "warning",
                "leads",
                f"{len(pairs)} pair(s) of leads with different contact_id look like the same "
                "person; per-person counts may be too high",
                column="contact_id",
                count=len(pairs),
                action="review duplicate_candidates.csv, then import with --dedupe",
            )
        )
    return out


def findings_table(rv: QualityReview) -> pd.DataFrame:
    """Every finding with its table, column, rows and what to do, in the review's language."""
    loc = rv.locale
    rows = [
        {
            t("severity", loc): t(f.severity, loc),
            t("table", loc): f.table,
            t("column", loc): f.column,
            t("message", loc): f.message,
            t("rows", loc): f.count,
            t("action", loc): f.action,
        }
        for f in rv.findings
    ]
    cols = [t(k, loc) for k in ("severity", "table", "column", "message", "rows", "action")]
    return pd.DataFrame(rows, columns=cols)


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
    counts = row_counts(rv).reset_index()
    findings = pd.DataFrame([f.as_dict() for f in rv.findings])
    if not findings.empty:
        findings["examples"] = findings["examples"].map("; ".join)
    return {
        "quality_counts": counts,
        "quality_findings": findings,
        "duplicate_candidates": duplicates(rv),
    }
