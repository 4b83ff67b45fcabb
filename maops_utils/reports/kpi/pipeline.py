"""Pipeline inventory and SLA: what is waiting for sales at a month's end, how old it is, and
what moved in and out during the month.

Definitions (docs/kpi-review.md quotes them):

**Month end.** Month M's end is the first instant of M+1 (`months.month_bounds`); its start is
M's first instant. Only stage changes and opportunities dated before the moment in question
count, so a month reported again later gives the same numbers. A row without a date counts
nowhere (a converted flag's opportunity has no date: it closes nothing here).

**Events.** A lead's events are its entries into `mql` and `sql` (stage_changes; the same
lead, stage and instant recorded twice is one entry) and the creations of its opportunities
(opportunities.lead_id; several at one instant are one). They are ordered by time; at one
instant the later stage in funnel order comes last: mql, then sql, then the opportunity.

**Current stage at T.** The lead's last event before T. When it is a stage entry, the lead is
*open* in that stage at T and its *age* is the whole days (24 h each, rounded down) from that
entry to T; when it is an opportunity, the lead has been converted and is in no lead stage.
A later stage entry opens the lead again (a lost deal recycled to marketing). A re-entry into
the stage the lead is open in restarts its age.

**Age buckets** (`age_buckets` in params/funnel.yaml, default [7, 14, 30, 60, 90]): "0–7",
"8–14", "15–30", "31–60", "61–90", "91+" days of age.

**SLA** (`sla` in params/funnel.yaml): the days a lead may wait in a stage for sales' decision.
An open lead is *past SLA* when its age is more than its stage's SLA (a 14-day SLA is kept by
a lead 14 days and some hours old). Without an SLA for a stage nothing in it is past SLA.

**Flows in M** (per stage; per move, so the identity below holds exactly):

- `inflow`: moves into the stage in M: an entry by a lead that was not open in the stage just
  before (a first entry, a return after a conversion, a move from the other stage);
- `outflow`: moves out of the stage in M: the lead, open in the stage, entered another stage
  or got an opportunity; `returned` counts those that went back from SQL to MQL;
- `open_at_end = open_at_start + inflow − outflow`, by definition: a lead that moves in and
  out within M counts in both, and one that moves in twice counts twice;
- `reentered`: entries into the stage in M by a lead already open in it (its age restarts;
  the open count does not change, so they are outside the identity);
- `first_entries`: leads whose first entry into the stage is in M (the `mqls` and `sqls`
  metrics); `recycled`: leads with an entry in M that is not their first into the stage;
- `decided_late`: moves out in M after more whole days in the stage than its SLA.

**What the data cannot say.** maops has no rejection or disqualification stage: an MQL that
sales never worked, or turned down without the MA tool recording it, stays open and grows
older forever. The oldest bucket shows them as they are rather than hiding them; a rejection
stage recorded in the MA tool would close them.

**Stage reports.** Data whose stages come from reports of their own, without lead ids
(`stage_events`), cannot follow a lead: `inventory` then says so (`available` False) instead
of giving numbers.

Groups: the lead's product or lead_source (empty: `unknown`), and `ALL` (the whole dataset).
The events are ordered and counted in SQL (DuckDB's dialect, transpiled for Spark, run on the
chosen engine); pandas applies the buckets and the SLA to the few aggregated rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ...backends import engines
from ...backends.relations import timestamp_literal, to_dialect
from ...contract.dataset import Dataset
from ...core.i18n import t
from ...core.months import check_month, month_bounds
from ...core.schema import ALL, UNKNOWN_SOURCE
from ...metrics.stages import WAITING_STAGES, Funnel
from ..plots import MIN_FONT_PT, PAGE_WIDTH, code_name, setup_style, thousands_format

GROUP_BY = ("product", "lead_source")
OPEN_COLUMNS = [
    "stage",
    "group_by",
    "group",
    "bucket",
    "low_days",
    "high_days",
    "open",
    "past_sla",
]
FLOW_COLUMNS = [
    "stage",
    "group_by",
    "group",
    "open_at_start",
    "inflow",
    "outflow",
    "open_at_end",
    "first_entries",
    "recycled",
    "reentered",
    "returned",
    "decided_late",
    "past_sla",
    "oldest_days",
    "sla_days",
]
# Measures of the query: counted per move or entry (`n`), except these per distinct lead.
_PER_LEAD = ("first_entries", "recycled")
NEEDS_LEAD_LEVEL = "inventory needs lead-level data (stage_changes with lead ids)"


@dataclass(frozen=True)
class Inventory:
    """The pipeline at month `month`'s end, per stage (mql, sql) and group.

    `funnel`: the settings it was computed with (`sla`, `age_buckets`, the stages' labels).
    `open`: OPEN_COLUMNS, one row per stage × group × age bucket: the leads open at the month's
    end in that bucket (`low_days`–`high_days` of age; `high_days` NaN for the last) and how
    many of them are past SLA. `flows`: FLOW_COLUMNS, one row per stage × group (module
    docstring); `oldest_days` NaN with nothing open, `sla_days` NaN without an SLA. Both are
    empty when `available` is False, and `reason` then says why."""

    month: str
    by: str
    as_of: pd.Timestamp
    funnel: Funnel
    open: pd.DataFrame
    flows: pd.DataFrame
    available: bool = True
    reason: str = ""


def bucket_labels(edges: tuple[int, ...]) -> list[str]:
    """The age buckets' names: "0–7", "8–14", …, "91+" for edges (7, 14, 30, 60, 90)."""
    lows = [0, *(e + 1 for e in edges)]
    return [f"{lo}–{hi}" for lo, hi in zip(lows, edges, strict=False)] + [f"{lows[-1]}+"]


def compile_inventory_query(month: str, *, by: str = "product", dialect: str = "duckdb") -> str:
    """SQL of the month's pipeline events, aggregated.

    Returns:
        One query giving rows `stage, measure, grp, days, n, leads`: for each stage and group
        (and `ALL`), `n` events and `leads` distinct leads of each measure (`open_at_start`,
        `open_at_end` with `days` the age at the month's end, `inflow`, `reentered`,
        `first_entries`, `recycled`, `outflow` with `days` the whole days spent in the stage,
        `returned`); `days` is NULL for the measures without one.
    """
    check_month(month)
    if by not in GROUP_BY:
        raise ValueError(f"by must be one of {', '.join(GROUP_BY)}, got {by!r}")
    start, end = (timestamp_literal(b) for b in month_bounds(month))
    day = "86400000000.0"
    group = (
        "l.product"
        if by == "product"
        else f"COALESCE(NULLIF(TRIM(l.lead_source), ''), '{UNKNOWN_SOURCE}')"
    )
    stages = ", ".join(f"'{s}'" for s in WAITING_STAGES)
    sql = f"""
WITH events AS (
  SELECT DISTINCT lead_id, stage AS kind, changed_at AS event_at,
    CASE WHEN stage = 'mql' THEN 1 ELSE 2 END AS rank
  FROM stage_changes
  WHERE stage IN ({stages}) AND changed_at < {end}
  UNION ALL
  SELECT DISTINCT lead_id, 'opportunity' AS kind, created_at AS event_at, 3 AS rank
  FROM opportunities
  WHERE lead_id IS NOT NULL AND created_at < {end}
),
seq AS (
  SELECT lead_id, kind, event_at,
    LAG(kind) OVER w AS prev_kind,
    LAG(event_at) OVER w AS prev_at,
    LEAD(event_at) OVER w AS next_at,
    ROW_NUMBER() OVER (PARTITION BY lead_id, kind ORDER BY event_at) AS nth
  FROM events
  WINDOW w AS (PARTITION BY lead_id ORDER BY event_at, rank)
),
marked AS (
  SELECT *, event_at >= {start} AS in_month,
    CAST(FLOOR(DATE_DIFF('microsecond', event_at, {end}) / {day}) AS BIGINT) AS age_days,
    CAST(FLOOR(DATE_DIFF('microsecond', prev_at, event_at) / {day}) AS BIGINT) AS stay_days
  FROM seq
),
facts AS (
  SELECT lead_id, kind AS stage, 'open_at_start' AS measure, CAST(NULL AS BIGINT) AS days
  FROM marked WHERE kind IN ({stages}) AND NOT in_month AND (next_at IS NULL OR next_at >= {start})
  UNION ALL
  SELECT lead_id, kind, 'open_at_end', age_days FROM marked
  WHERE kind IN ({stages}) AND next_at IS NULL
  UNION ALL
  SELECT lead_id, kind, 'inflow', CAST(NULL AS BIGINT) FROM marked
  WHERE kind IN ({stages}) AND in_month AND (prev_kind IS NULL OR prev_kind <> kind)
  UNION ALL
  SELECT lead_id, kind, 'reentered', CAST(NULL AS BIGINT) FROM marked
  WHERE kind IN ({stages}) AND in_month AND prev_kind = kind
  UNION ALL
  SELECT lead_id, kind, CASE WHEN nth = 1 THEN 'first_entries' ELSE 'recycled' END,
    CAST(NULL AS BIGINT)
  FROM marked WHERE kind IN ({stages}) AND in_month
  UNION ALL
  SELECT lead_id, prev_kind, 'outflow', stay_days FROM marked
  WHERE prev_kind IN ({stages}) AND in_month AND kind <> prev_kind
  UNION ALL
  SELECT lead_id, prev_kind, 'returned', CAST(NULL AS BIGINT) FROM marked
  WHERE prev_kind = 'sql' AND kind = 'mql' AND in_month
)
SELECT f.stage, f.measure,
  CASE WHEN GROUPING({group}) = 1 THEN '{ALL}' ELSE {group} END AS grp,
  f.days, COUNT(*) AS n, COUNT(DISTINCT f.lead_id) AS leads
FROM facts AS f JOIN leads AS l ON l.lead_id = f.lead_id
GROUP BY GROUPING SETS ((f.stage, f.measure, {group}, f.days), (f.stage, f.measure, f.days))
"""
    return to_dialect(sql.strip(), dialect)


def inventory(
    dataset: Dataset,
    funnel_def: Funnel,
    month: str,
    *,
    by: str = "product",
    groups: list[str] | None = None,
    engine: str | engines.Engine | None = None,
) -> Inventory:
    """The pipeline at `month`'s end: open MQLs and SQLs by age bucket, the month's flows and
    the SLA (module docstring), per `by` (the lead's `product` or `lead_source`) and `ALL`.

    Args:
        dataset: a validated dataset (`contract.load.load_dataset`).
        funnel_def: the funnel settings (`metrics.stages.load_funnel`): its `sla` and
            `age_buckets`.
        month: "YYYY-MM"; the inventory is as of its end.
        by: "product" or "lead_source".
        groups: the groups to list (default: every value of `by` among the leads); `ALL` is
            always added, last.
        engine: where the query runs: "duckdb", "spark", or an `engines.Engine` opened for
            this dataset (default: DuckDB).

    Returns:
        An `Inventory`; with stage reports instead of lead-level stage changes, one with
        `available` False, empty frames, and `reason` saying that inventory needs lead-level
        data. Every stage × group × bucket has its row, zero when nothing is there.
    """
    compile_inventory_query(month, by=by)  # bad arguments fail here
    as_of = month_bounds(month)[1]
    if not dataset.follows_leads:
        return Inventory(
            month,
            by,
            as_of,
            funnel_def,
            pd.DataFrame(columns=OPEN_COLUMNS),
            pd.DataFrame(columns=FLOW_COLUMNS),
            available=False,
            reason=NEEDS_LEAD_LEVEL,
        )
    rows = engines.run_query(
        dataset, lambda d: compile_inventory_query(month, by=by, dialect=d), engine
    )
    if groups is None:
        values = dataset["leads"][by]
        if by == "lead_source":
            values = values.astype("string").str.strip().replace("", pd.NA).fillna(UNKNOWN_SOURCE)
        groups = sorted(str(v) for v in values.dropna().unique())
    order = [*(g for g in groups if g != ALL), ALL]
    rows = rows.astype({"n": "int64", "leads": "int64"})
    return Inventory(
        month,
        by,
        as_of,
        funnel_def,
        _open_table(rows, funnel_def, by, order),
        _flow_table(rows, funnel_def, by, order),
    )


def _open_table(rows: pd.DataFrame, funnel_def: Funnel, by: str, order: list[str]) -> pd.DataFrame:
    edges = funnel_def.age_buckets
    labels = bucket_labels(edges)
    lows = np.array([0, *(e + 1 for e in edges)], dtype="int64")
    highs = [*edges, np.nan]
    ages = rows[rows["measure"] == "open_at_end"].copy()
    ages["days"] = ages["days"].astype("int64")
    ages["bucket"] = np.searchsorted(np.asarray(edges), ages["days"].to_numpy(), side="left")
    out = []
    for stage in WAITING_STAGES:
        sla = funnel_def.sla_days(stage)
        part = ages[ages["stage"] == stage]
        late = part[part["days"] > sla] if sla is not None else part.iloc[0:0]
        counts = part.groupby(["grp", "bucket"])["n"].sum()
        past = late.groupby(["grp", "bucket"])["n"].sum()
        for group in order:
            for i, label in enumerate(labels):
                out.append(
                    {
                        "stage": stage,
                        "group_by": by,
                        "group": group,
                        "bucket": label,
                        "low_days": int(lows[i]),
                        "high_days": highs[i],
                        "open": int(counts.get((group, i), 0)),
                        "past_sla": int(past.get((group, i), 0)),
                    }
                )
    frame = pd.DataFrame(out, columns=OPEN_COLUMNS)
    frame["high_days"] = frame["high_days"].astype("float64")
    return frame


def _flow_table(rows: pd.DataFrame, funnel_def: Funnel, by: str, order: list[str]) -> pd.DataFrame:
    measures = ["open_at_start", "inflow", "outflow", "open_at_end", "reentered", "returned"]
    counted = rows.assign(value=np.where(rows["measure"].isin(_PER_LEAD), rows["leads"], rows["n"]))
    # a distinct-lead count cannot be summed over `days`; those measures have none (NULL)
    totals = counted.groupby(["stage", "grp", "measure"])["value"].sum()
    out = []
    for stage in WAITING_STAGES:
        sla = funnel_def.sla_days(stage)
        ends = rows[(rows["stage"] == stage) & (rows["measure"] == "open_at_end")]
        exits = rows[(rows["stage"] == stage) & (rows["measure"] == "outflow")]
        for group in order:
            row: dict[str, object] = {"stage": stage, "group_by": by, "group": group}
            for m in [*measures, *_PER_LEAD]:
                row[m] = int(totals.get((stage, group, m), 0))
            mine = ends[ends["grp"] == group]
            left = exits[exits["grp"] == group]
            row["oldest_days"] = float(mine["days"].max()) if len(mine) else np.nan
            if sla is None:
                row["past_sla"] = row["decided_late"] = 0
            else:
                row["past_sla"] = int(mine.loc[mine["days"] > sla, "n"].sum())
                row["decided_late"] = int(left.loc[left["days"] > sla, "n"].sum())
            row["sla_days"] = float(sla) if sla is not None else np.nan
            out.append(row)
    return pd.DataFrame(out, columns=FLOW_COLUMNS)


# ---------------------------------------------------------------- for the report


def tables(*inventories: Inventory) -> dict[str, pd.DataFrame]:
    """`pipeline.csv` (OPEN_COLUMNS) and `pipeline_flows.csv` (FLOW_COLUMNS) of one month's
    inventories, one per grouping (by product, by channel), one after the other; nothing for
    an inventory that is not available."""
    ready = [inv for inv in inventories if inv.available]
    if not ready:
        return {}
    return {
        "pipeline": pd.concat([inv.open for inv in ready], ignore_index=True),
        "pipeline_flows": pd.concat([inv.flows for inv in ready], ignore_index=True),
    }


def _stage_name(inv: Inventory, stage: str, locale: str) -> str:
    return inv.funnel.stage(stage).label(locale)


def _flow(inv: Inventory, stage: str, group: str = ALL) -> pd.Series:
    f = inv.flows
    return f[(f["stage"] == stage) & (f["group"] == group)].iloc[0]


def summary_table(
    inv: Inventory, *, locale: str = "ja", names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """The report's compact table (aggregate counts only): per stage, `ALL` then each group
    with anything open or moving, the month's open at start, moves in and out, open at the
    end, past SLA, decided late and the oldest age in days; headers in `locale`. Empty when
    the inventory is not available."""
    if not inv.available:
        return pd.DataFrame()
    f = inv.flows
    moving = f[["open_at_start", "inflow", "outflow", "open_at_end"]].sum(axis=1) > 0
    part = f[(f["group"] == ALL) | moving].copy()
    part["_all"] = part["group"] != ALL  # the whole business first, as in every table
    part = part.sort_values(["stage", "_all"], kind="stable")
    group_word = t("product" if inv.by == "product" else "channel", locale)
    out = pd.DataFrame(
        {
            t("stage", locale): [_stage_name(inv, s, locale) for s in part["stage"]],
            group_word: [code_name(g, names, locale) for g in part["group"]],
            t("pl_col_open_at_start", locale): part["open_at_start"].to_numpy(),
            t("pl_col_inflow", locale): part["inflow"].to_numpy(),
            t("pl_col_outflow", locale): part["outflow"].to_numpy(),
            t("pl_col_open_at_end", locale): part["open_at_end"].to_numpy(),
            t("pl_col_past_sla", locale): part["past_sla"].to_numpy(),
            t("pl_col_decided_late", locale): part["decided_late"].to_numpy(),
            t("pl_col_oldest", locale): part["oldest_days"].astype("Int64").to_numpy(),
        }
    )
    if not inv.funnel.sla:  # no SLA: the two columns would read as "none late", not "not judged"
        out = out.drop(columns=[t("pl_col_past_sla", locale), t("pl_col_decided_late", locale)])
    return out


def report_sentences(
    inv: Inventory, *, locale: str = "ja", names: Mapping[str, str] | None = None
) -> list[str]:
    """The report's sentences on the pipeline: what waits at the month's end and what moved,
    each stage's SLA breaches (or that no SLA is set), and what the oldest bucket holds
    without a rejection stage. One sentence saying why when the inventory is not available."""
    if not inv.available:
        return [t("pl_needs_lead_level", locale)]
    mql, sql = _flow(inv, "mql"), _flow(inv, "sql")
    out = [
        t(
            "pl_summary",
            locale,
            month=inv.month,
            mql_name=_stage_name(inv, "mql", locale),
            sql_name=_stage_name(inv, "sql", locale),
            mql=int(mql["open_at_end"]),
            sql=int(sql["open_at_end"]),
            mql_in=int(mql["inflow"]),
            sql_in=int(sql["inflow"]),
            mql_out=int(mql["outflow"]),
            sql_out=int(sql["outflow"]),
        )
    ]
    if not inv.funnel.sla:
        out.append(t("pl_no_sla", locale))
    for stage in WAITING_STAGES:
        days = inv.funnel.sla_days(stage)
        if days is None:
            continue
        row = _flow(inv, stage)
        key = "pl_sla_stage" if row["past_sla"] else "pl_sla_kept"
        out.append(
            t(
                key,
                locale,
                stage=_stage_name(inv, stage, locale),
                days=days,
                late=int(row["past_sla"]),
                oldest=_days(row["oldest_days"]),
                decided_late=int(row["decided_late"]),
            )
        )
    oldest = inv.open[(inv.open["group"] == ALL) & inv.open["high_days"].isna()]
    stale = oldest[oldest["stage"] == "mql"]
    out.append(
        t(
            "pl_no_rejection",
            locale,
            stage=_stage_name(inv, "mql", locale),
            bucket=stale["bucket"].iloc[0],
            n=int(stale["open"].iloc[0]),
        )
    )
    return out


def _days(value: float) -> str:
    return "–" if pd.isna(value) else f"{int(value):,}"


def month_page_line(
    inv: Inventory, *, locale: str = "ja", names: Mapping[str, str] | None = None
) -> str | None:
    """ONE line for the month's page when a stage's SLA is breached at the month's end (e.g.
    "SLA超過: MQL 23件が14日を超えて未対応（最長 85日、ミライガード 12件）"), naming the group
    with the most past SLA when there are several; None when nothing is past SLA, no SLA is
    set, or the inventory is not available."""
    if not inv.available:
        return None
    parts = []
    for stage in WAITING_STAGES:
        days = inv.funnel.sla_days(stage)
        row = _flow(inv, stage)
        if days is None or not row["past_sla"]:
            continue
        # the oldest bucket apart: without a rejection stage it holds the MQLs nobody closed,
        # which the reader must not take for this month's slips
        o = inv.open
        last = o[(o["stage"] == stage) & (o["group"] == ALL) & o["high_days"].isna()]
        stale = int(last["open"].sum())
        fmt = {
            "stage": _stage_name(inv, stage, locale),
            "late": int(row["past_sla"]),
            "days": days,
            "oldest": _days(row["oldest_days"]),
            "stale": t("pl_month_stale", locale, bucket=last["bucket"].iloc[0], n=stale)
            if stale
            else "",
        }
        f = inv.flows
        groups = f[(f["stage"] == stage) & (f["group"] != ALL)]
        if len(groups) > 1:
            worst = groups.sort_values("past_sla", ascending=False, kind="stable").iloc[0]
            fmt |= {"group": code_name(worst["group"], names, locale), "n": int(worst["past_sla"])}
            parts.append(t("pl_month_part_group", locale, **fmt))
        else:
            parts.append(t("pl_month_part", locale, **fmt))
    if not parts:
        return None
    return t("pl_month_line", locale, parts=t("pl_month_joiner", locale).join(parts))


# ---------------------------------------------------------------- chart


def pipeline_chart(
    inv: Inventory, *, locale: str = "ja", names: Mapping[str, str] | None = None
) -> Figure | None:
    """Open MQLs and SQLs at the month's end as horizontal bars stacked by age bucket, one
    panel per stage, a bar for the whole business then each group with anything open; the
    part of each bucket past the stage's SLA in a warning colour, counts labelled.

    Args:
        inv: from `inventory`; an unavailable one gives no chart (None): the report's
            sentence says why, and a blank picture would say nothing.
        names: group code -> name (params/labels.yaml: products or channels); codes without.
    """
    if not inv.available:
        return None
    setup_style()
    fig = Figure(figsize=(PAGE_WIDTH, 1.0))
    labels = bucket_labels(inv.funnel.age_buckets)
    # age in blues, lighter when younger; past the SLA in oranges: told apart without red-green
    calm = sns.color_palette("Blues", n_colors=len(labels) + 1)[1:]
    alarm = sns.color_palette("Oranges", n_colors=len(labels) + 1)[1:]
    panels = []
    for stage in WAITING_STAGES:
        part = inv.open[inv.open["stage"] == stage]
        totals = part.groupby("group", sort=False)["open"].sum()
        groups = [g for g in totals.index if g == ALL or totals[g] > 0]
        panels.append((stage, part, [ALL, *(g for g in groups if g != ALL)]))
    # the stages side by side, their legends below: the chart stays short in the report's body
    rows_shown = max(len(groups) for _, _, groups in panels)
    fig.set_size_inches(PAGE_WIDTH, 0.32 * rows_shown + 2.6)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (stage, part, groups) in zip(axes, panels, strict=True):
        rows = [code_name(g, names, locale) for g in groups]
        left = np.zeros(len(groups))
        top = float(part.groupby("group")["open"].sum().max() or 1)
        handles: dict[str, Patch] = {}
        for i, label in enumerate(labels):
            cells = part[part["bucket"] == label].set_index("group").reindex(groups)
            past = cells["past_sla"].fillna(0).to_numpy()
            within = cells["open"].fillna(0).to_numpy() - past
            for counts, colors, late in ((within, calm, False), (past, alarm, True)):
                if not counts.any():
                    continue
                ax.barh(rows, counts, left=left, color=colors[i], edgecolor="white", lw=0.5)
                for y, (x0, n) in enumerate(zip(left, counts, strict=True)):
                    # a count fits inside its piece from about 7% of the axis on
                    if n and n / top >= 0.07:
                        dark = late or i >= len(labels) // 2
                        ax.text(
                            x0 + n / 2,
                            y,
                            f"{n:,.0f}",
                            ha="center",
                            va="center",
                            color="white" if dark else "black",
                            fontsize=MIN_FONT_PT,
                        )
                left = left + counts
                name = t("pl_bucket_past" if late else "pl_bucket", locale, bucket=label)
                handles[name] = Patch(color=colors[i], label=name)
        for y, total in enumerate(left):
            ax.text(total + top * 0.01, y, f"{total:,.0f}", va="center")
        ax.set_xlim(0, top * 1.12)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(FuncFormatter(thousands_format))
        ax.grid(False, axis="y")
        days = inv.funnel.sla_days(stage)
        sla = t("pl_sla_days", locale, days=days) if days else t("pl_sla_none", locale)
        stage_name = _stage_name(inv, stage, locale)
        ax.set_title(t("pl_panel_title", locale, stage=stage_name, sla=sla), loc="left")
        ax.legend(
            handles=list(handles.values()),
            loc="upper center",
            bbox_to_anchor=(0.5, -0.3),
            ncol=2,
            frameon=False,
        )
    fig.suptitle(t("pl_chart_title", locale, month=inv.month))
    for ax in axes:
        ax.set_xlabel(t("pl_chart_axis", locale))
    fig.tight_layout()
    return fig
