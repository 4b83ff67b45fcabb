"""The tables and columns of data contract v1 (docs/data-contract.md), as data."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "string" | "timestamp" | "number" | "integer" | "date"
    required: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    required: bool
    columns: tuple[Column, ...]
    key: str | None = None

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


ACTIVITY_TYPES = (
    "email_send",
    "email_open",
    "email_click",
    "email_bounce",
    "unsubscribe",
    "page_view",
    "form_submit",
    "webinar_attend",
    "event_attend",
)
STAGES = ("mql", "sql")
# A stage event (a row of a stage report, followed by no lead id) is one of the funnel's
# stages or one of the two an opportunity passes: created (in pipeline) and won.
EVENT_STAGES = (*STAGES, "opportunity", "won")
OPPORTUNITY_STATUSES = ("open", "won", "lost")
# `ALL` names the whole business in every output table, so no product may be called that.
ALL = "ALL"
UNKNOWN_SOURCE = "unknown"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "leads",
            True,
            (
                Column("lead_id", "string", True),
                Column("created_at", "timestamp", True),
                Column("product", "string", True),
                Column("lead_source", "string", True),
                Column("contact_id", "string"),
                Column("company", "string"),
                Column("industry", "string"),
                Column("job_level", "string"),
                Column("employees", "integer"),
                Column("region", "string"),
                Column("email", "string"),
            ),
            key="lead_id",
        ),
        Table(
            "activities",
            True,
            (
                Column("lead_id", "string", True),
                Column("activity_type", "string", True),
                Column("occurred_at", "timestamp", True),
                Column("campaign_id", "string"),
                Column("asset_name", "string"),
                Column("category", "string"),
                Column("activity_id", "string"),
            ),
            key="activity_id",
        ),
        Table(
            "stage_changes",
            True,
            (
                Column("lead_id", "string", True),
                Column("stage", "string", True),
                Column("changed_at", "timestamp", True),
            ),
        ),
        Table(
            "opportunities",
            True,
            (
                Column("opportunity_id", "string", True),
                Column("lead_id", "string"),
                Column("product", "string", True),
                Column("created_at", "timestamp", True),
                Column("status", "string", True),
                Column("closed_at", "timestamp"),
                Column("amount", "number", True),
            ),
            key="opportunity_id",
        ),
        Table(
            "campaigns",
            False,
            (
                Column("campaign_id", "string", True),
                Column("name", "string", True),
                Column("product", "string"),
                Column("channel", "string"),
                Column("start_date", "date"),
                Column("end_date", "date"),
                Column("cost", "number"),
            ),
            key="campaign_id",
        ),
        Table(
            "scores",
            False,
            (
                Column("lead_id", "string", True),
                Column("scored_at", "timestamp", True),
                Column("score", "number", True),
                Column("rating", "string"),
            ),
        ),
        Table(
            "stage_events",
            False,
            (
                Column("event_id", "string", True),
                Column("stage", "string", True),
                Column("occurred_at", "timestamp", True),
                Column("product", "string", True),
                Column("channel", "string"),
                Column("campaign_id", "string"),
                Column("amount", "number"),
            ),
            key="event_id",
        ),
        Table(
            "spend",
            False,
            (
                Column("month", "string", True),
                Column("amount", "number", True),
                Column("channel", "string"),
                Column("campaign_id", "string"),
                Column("currency", "string"),
                Column("spread_over", "integer"),
            ),
        ),
    )
}

# Tables whose extra columns are attributes: text a KPI may filter on and group by. An
# attribute's name is a plain lower-case identifier, as SQL and a KPI file can write it
# unquoted; another extra column is kept and ignored, as the contract says.
ATTRIBUTE_TABLES = ("leads", "opportunities", "stage_events")
ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def attribute_columns(name: str, columns) -> list[str]:
    """The columns of table `name` that are its attributes (`ATTRIBUTE_NAME`, not defined by
    the contract; only for `ATTRIBUTE_TABLES`)."""
    if name not in ATTRIBUTE_TABLES:
        return []
    table = TABLES[name]
    return [
        c
        for c in columns
        if table.column(c) is None and isinstance(c, str) and ATTRIBUTE_NAME.fullmatch(c)
    ]


# Personal data: never in a shared report unless the run asks for it.
PII_COLUMNS = {"leads": ("email",)}
