"""The tables and columns of data contract v1 (docs/data-contract.md), as data."""

from __future__ import annotations

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
    )
}

# Personal data: never in a shared report unless the run asks for it.
PII_COLUMNS = {"leads": ("email",)}
