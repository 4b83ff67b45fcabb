"""The data-quality report's first lines: how many findings and what they mean for the
month's figures, the month's rows against the previous month's, every table's freshness at
the month's end, and the likely duplicate people, each with its numbers, taken from the
tables the report shows below them (`checks`)."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from ...core.i18n import t
from ...core.months import month_bounds, shift_month
from ..views import bullet_list
from . import findings as month_list
from .checks import QualityReview, duplicates, reading_notes

# A table whose rows in the month fell by this share from the month before was most likely
# exported incompletely (a filter, a period cut short) rather than quieter.
DROP_SHARE = 0.3
# Below this many rows in the month before, a month swings by a third by chance (a small
# company's opportunities): no drop is read into it.
DROP_MIN_ROWS = 50
SEVERITY_ORDER = ("error", "warning")


def sentences(rv: QualityReview) -> list[str]:
    """Four sentences with their numbers: the findings, the rows, the freshness, the
    duplicate people."""
    return [
        findings_sentence(rv),
        rows_sentence(rv),
        freshness_sentence(rv),
        duplicates_sentence(rv),
    ]


def conclusion(rv: QualityReview) -> HTML:
    """`sentences` as the list the report opens with."""
    return bullet_list(sentences(rv))


def findings_sentence(rv: QualityReview) -> str:
    """How many findings, by severity, and which of the KPI report's figures they touch."""
    loc = rv.locale
    if not rv.findings:
        return t("qc_findings_none", loc)
    by_severity: dict[str, int] = {}
    for f in rv.findings:
        by_severity[f.severity] = by_severity.get(f.severity, 0) + 1
    order = [*SEVERITY_ORDER, *sorted(set(by_severity) - set(SEVERITY_ORDER))]
    parts = [
        t("qc_severity_count", loc, label=t(s, loc) if s in SEVERITY_ORDER else s, n=n)
        for s in order
        if (n := by_severity.get(s, 0))
    ]
    head = t("qc_findings", loc, n=len(rv.findings), severities=t("qc_sep", loc).join(parts))
    return _join([head, *reading_notes(rv)], loc)


def _join(sentences: list[str], locale: str) -> str:
    # Japanese runs its sentences on without a space.
    return ("" if locale == "ja" else " ").join(sentences)


def month_rows(rv: QualityReview) -> pd.DataFrame:
    """Rows `table, rows, previous, change, drop`: each table's rows in the month reviewed
    and the month before (`change` empty without rows before; `drop` whether it fell
    sharply, `DROP_SHARE`)."""
    previous = shift_month(rv.month, -1)
    rows = []
    for name in month_list.TIME_COLUMNS:
        if not rv.dataset.has(name):
            continue
        counts = month_list.table_months(rv.dataset, name, rv.by_month)
        by_month = counts.groupby("month")["n"].sum()
        now, before = int(by_month.get(rv.month, 0)), int(by_month.get(previous, 0))
        change = (now - before) / before if before else float("nan")
        drop = before >= DROP_MIN_ROWS and change <= -DROP_SHARE
        rows.append(
            {"table": name, "rows": now, "previous": before, "change": change, "drop": drop}
        )
    return pd.DataFrame(rows, columns=["table", "rows", "previous", "change", "drop"])


def rows_sentence(rv: QualityReview) -> str:
    """The month's rows against the previous month's, table by table, and which fell
    sharply."""
    loc = rv.locale
    rows = month_rows(rv)
    items = [
        t(
            "qc_rows_item" if pd.notna(r.change) else "qc_rows_item_new",
            loc,
            table=r.table,
            n=f"{r.rows:,}",
            prev=f"{r.previous:,}",
            change=f"{r.change:+.0%}" if pd.notna(r.change) else "",
        )
        for r in rows.itertuples()
    ]
    dropped = rows.loc[rows["drop"], "table"].tolist()
    tail = (
        t("qc_rows_drop", loc, tables=t("qc_sep", loc).join(dropped), share=f"{DROP_SHARE:.0%}")
        if dropped
        else t("qc_rows_steady", loc, share=f"{DROP_SHARE:.0%}")
    )
    head = t(
        "qc_rows",
        loc,
        month=rv.month,
        previous=shift_month(rv.month, -1),
        tables=t("qc_sep", loc).join(items),
    )
    return _join([head, tail], loc)


def freshness_sentence(rv: QualityReview) -> str:
    """Every table's newest row in days before the month's end, and which are stale."""
    loc = rv.locale
    items, stale = [], []
    for name in month_list.TIME_COLUMNS:
        if not rv.dataset.has(name):
            continue
        newest = month_list.latest(rv.dataset, name, rv.by_month)
        if pd.isna(newest):
            items.append(t("qc_fresh_undated", loc, table=name))
            stale.append(name)
            continue
        days = month_list.days_before_end(newest, rv.month)
        items.append(t("qc_fresh_item", loc, table=name, days=days))
        if month_list.is_stale(newest, rv.month):
            stale.append(name)
    month_end = f"{month_bounds(rv.month)[1] - pd.Timedelta(days=1):%Y-%m-%d}"
    head = t(
        "qc_fresh", loc, month=rv.month, month_end=month_end, tables=t("qc_sep", loc).join(items)
    )
    tail = (
        t("qc_fresh_stale", loc, tables=t("qc_sep", loc).join(stale), days=month_list.STALE_DAYS)
        if stale
        else t("qc_fresh_all", loc, days=month_list.STALE_DAYS)
    )
    return _join([head, tail], loc)


def duplicates_sentence(rv: QualityReview) -> str:
    """How many pairs of leads look like one person, and how many of them are a finding."""
    loc = rv.locale
    confidence = duplicates(rv)["confidence"]
    high = int((confidence >= month_list.DUPLICATE_CONFIDENCE).sum())
    return t(
        "qc_duplicates" if len(confidence) else "qc_duplicates_none",
        loc,
        n=f"{len(confidence):,}",
        high=f"{high:,}",
        low_share=f"{month_list.LISTED_CONFIDENCE:.0%}",
        high_share=f"{month_list.DUPLICATE_CONFIDENCE:.0%}",
    )


def method_notes(locale: str = "ja") -> list[str]:
    """How each check of the report judges, with the thresholds it uses: the appendix's
    first lines."""
    sep = t("qc_sep", locale)
    return [
        t("qc_method_findings", locale),
        t(
            "qc_method_counts",
            locale,
            columns=sep.join(f"{n}.{c}" for n, c in month_list.TIME_COLUMNS.items()),
            share=f"{DROP_SHARE:.0%}",
            min_rows=DROP_MIN_ROWS,
        ),
        t("qc_method_freshness", locale, days=month_list.STALE_DAYS),
        t("qc_method_missing", locale),
        t("qc_method_gaps", locale, what=sep.join(month_list.GAP_TYPES)),
        t(
            "qc_method_duplicates",
            locale,
            low_share=f"{month_list.LISTED_CONFIDENCE:.0%}",
            high_share=f"{month_list.DUPLICATE_CONFIDENCE:.0%}",
        ),
    ]
