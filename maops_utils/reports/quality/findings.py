"""The month's data-quality findings, one list made by `month_findings`: the data-quality
report (00) lists it, the KPI report (01), the product comparison (03) and the month's index
show or count it. It holds the contract check's findings (`Dataset.findings`), the months
without data, the tables not fresh at the month's end and the likely duplicate people."""

from __future__ import annotations

import pandas as pd

from ...contract import dedupe
from ...contract.dataset import Dataset
from ...core.errors import Finding
from ...core.i18n import finding
from ...core.io import sha256_bytes
from ...core.months import month_bounds

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
# Freshness is judged against the end of the month reported, not the run date: a month run
# weeks after it closed is complete. A table whose newest row is more than this many days
# before the month's end was exported mid-month or not again; the margin is wider than a week
# because a small company can go a week without a new opportunity.
STALE_DAYS = 10
# Pairs at least this likely the same person are a finding; the 00 report lists every pair
# from LISTED_CONFIDENCE, for a person to judge.
DUPLICATE_CONFIDENCE = 0.8
LISTED_CONFIDENCE = 0.5

Counts = dict[str, pd.DataFrame]  # table -> `table_months`, kept by the caller between calls


def table_months(dataset: Dataset, name: str, memo: Counts | None = None) -> pd.DataFrame:
    """Rows `month, n, latest` of table `name` (`activity_type` first for the activities),
    counted in DuckDB in one scan, and kept in `memo`: the counts, the gaps and the freshness
    all read them."""
    if memo is not None and name in memo:
        return memo[name]
    col = TIME_COLUMNS[name]
    kind = "activity_type, " if name == "activities" else ""
    counts = dataset.sql(
        name,
        f"SELECT {kind}strftime({col}, '%Y-%m') AS month, COUNT(*) AS n, "
        f"MAX({col}) AS latest FROM {{table}} GROUP BY ALL",
    )
    if memo is not None:
        memo[name] = counts
    return counts


def activities_by_month(dataset: Dataset, memo: Counts | None = None) -> pd.DataFrame:
    """Rows `activity_type, month, n`: dated activities by type and month."""
    counts = table_months(dataset, "activities", memo)
    dated = counts[counts["month"].notna()][["activity_type", "month", "n"]]
    return dated.sort_values(["activity_type", "month"], na_position="last").reset_index(drop=True)


def gaps(dataset: Dataset, months: list[str], memo: Counts | None = None) -> pd.DataFrame:
    """Suspicious months of `months`: a month without e-mail sends (or page views, forms, new
    leads) while other months have them. Rows `month, what`."""
    rows = []
    by_month = activities_by_month(dataset, memo)
    series = {
        kind: by_month[by_month["activity_type"] == kind].set_index("month")["n"]
        for kind in GAP_TYPES
    }
    leads = table_months(dataset, "leads", memo)
    series["new_leads"] = leads[leads["month"].notna()].set_index("month")["n"]
    starts = [s.index.min() for s in series.values() if len(s)]
    first = min(starts) if starts else None
    for kind, counts in series.items():
        if counts.reindex(months, fill_value=0).sum() == 0:
            continue
        for m in months:
            if first is not None and m < first:
                continue  # before the data starts is not a gap
            if int(counts.get(m, 0)) == 0:
                rows.append({"month": m, "what": kind})
    return pd.DataFrame(rows, columns=["month", "what"])


def latest(dataset: Dataset, name: str, memo: Counts | None = None) -> pd.Timestamp:
    """The newest timestamp of table `name` (NaT for a table without a dated row)."""
    newest = table_months(dataset, name, memo)["latest"].max()
    return pd.Timestamp(newest) if pd.notna(newest) else pd.NaT


def days_before_end(newest: pd.Timestamp, month: str) -> int:
    """Whole days from `newest` to the end of `month`; 0 when the data reaches past it."""
    end = month_bounds(month)[1]
    return max(int((end - newest) / pd.Timedelta(days=1)), 0)


def is_stale(newest: pd.Timestamp, month: str) -> bool:
    return pd.notna(newest) and days_before_end(newest, month) > STALE_DAYS


def duplicate_pairs(dataset: Dataset) -> pd.DataFrame:
    """The 名寄せ candidate pairs of the dataset's leads (`dedupe.candidate_pairs`, confidence
    `LISTED_CONFIDENCE` and up), kept with the validated data (`Dataset.derived`): computed
    once per input."""
    return dataset.derived(
        f"pairs-{dedupe.CODE_KEY}-{LISTED_CONFIDENCE}",
        lambda: dedupe.candidate_pairs(dataset["leads"], min_confidence=LISTED_CONFIDENCE),
    )


def month_findings(
    dataset: Dataset,
    month: str,
    months: list[str],
    memo: Counts | None = None,
    pairs: pd.DataFrame | None = None,
) -> list[Finding]:
    """The month's findings, in the order the reports list them: the contract check's, the
    months of `months` (the trend window ending with `month`) without data, the tables not
    fresh at the end of `month`, the likely duplicate people. Every page that shows or counts
    data-quality findings takes them from here.

    Args:
        dataset: the validated dataset.
        month: the month reported, YYYY-MM.
        months: the months the reports show, oldest first, ending with `month`.
        memo: the row counts by month, kept between calls (`table_months`).
        pairs: `duplicate_pairs(dataset)` when the caller has them already.
    """
    out = list(dataset.findings)
    for r in gaps(dataset, months, memo).itertuples():
        leads = r.what == "new_leads"
        out.append(
            finding(
                "warning",
                "leads" if leads else "activities",
                f"gap_{r.what}",
                column="created_at" if leads else "activity_type",
                month=r.month,
            )
        )
    last_day = f"{month_bounds(month)[1] - pd.Timedelta(days=1):%Y-%m-%d}"
    for name, col in TIME_COLUMNS.items():
        if not dataset.has(name):
            continue
        newest = latest(dataset, name, memo)
        if is_stale(newest, month):
            out.append(
                finding(
                    "warning",
                    name,
                    "stale",
                    column=col,
                    latest=f"{newest:%Y-%m-%d}",
                    days=days_before_end(newest, month),
                    month=month,
                    month_end=last_day,
                )
            )
    pairs = duplicate_pairs(dataset) if pairs is None else pairs
    n = int((pairs["confidence"] >= DUPLICATE_CONFIDENCE).sum())
    if n:
        out.append(
            finding("warning", "leads", "duplicate_people", column="contact_id", count=n, n=n)
        )
    return out


# The kept list's format: bump it when what a finding says or holds changes.
FINDINGS_FORMAT = "maops-findings-1"


def kept_month_findings(dataset: Dataset, month: str, months: list[str]) -> list[Finding]:
    """`month_findings`, made once per input and kept with it (`Dataset.facts`): the batch
    makes the list before its notebooks, which then read it instead of counting again."""
    keeper = dataset.facts
    # a finding names its file: the same input in another folder has its own list
    where = sorted(str(src.get("path", "")) for src in dataset.sources.values())
    key = sha256_bytes("\n".join([FINDINGS_FORMAT, month, *months, *where]).encode())[:24]
    name = f"findings-{key}.kept"
    if keeper is not None:
        kept = keeper.value(name, (Finding,))
        if isinstance(kept, list) and all(isinstance(f, Finding) for f in kept):
            return kept
    found = month_findings(dataset, month, months)
    if keeper is not None:
        keeper.keep_value(name, found)
    return found
