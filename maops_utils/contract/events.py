"""The rules of the contract's stage reports (`stage_events`) and spend (`spend`), the two
tables data without a shared lead id is counted from (docs/data-contract.md, project notes).

A stage event is one row of a stage report (an MQL list, a pipeline report, a bookings
report) that follows no lead: each is counted once, in its own month, with its own channel,
campaign and attributes. Counting a stage both from events and from the lead-level tables
would count it twice, so a dataset holds one or the other."""

from __future__ import annotations

from typing import Protocol

import pandas as pd

from ..core.months import MONTH_RE
from ..core.schema import EVENT_STAGES


class Checker(Protocol):  # rules._Checker, which calls this module
    raw: dict
    errors: list

    def report(self, level: str, raw, code: str, **kw) -> None: ...

    def drop_future(self, name: str, frame: pd.DataFrame, col: str) -> pd.DataFrame: ...

    def drop_unknown(
        self, name: str, frame: pd.DataFrame, column: str, allowed: tuple[str, ...], noun: str
    ) -> pd.DataFrame: ...

    def require_values(self, name: str, frame: pd.DataFrame, cols: tuple[str, ...]) -> None: ...


def check_fatal(chk: Checker, typed: dict[str, pd.DataFrame]) -> None:
    """The problems that stop a run: an event without a product, stages counted twice, a
    spend month that is not a month."""
    events = typed.get("stage_events")
    if events is not None:
        chk.require_values("stage_events", events, ("product",))
        if len(events):
            for name, noun in (
                ("stage_changes", "stage changes"),
                ("opportunities", "opportunities"),
            ):
                if len(typed[name]):
                    chk.report(
                        "error",
                        chk.raw["stage_events"],
                        "events_and_stages",
                        noun=noun,
                        n=len(typed[name]),
                        name=name,
                    )
    spend = typed.get("spend")
    if spend is not None:
        bad = spend["month"].notna() & ~spend["month"].astype("string").str.match(MONTH_RE.pattern)
        if bad.any():
            chk.report(
                "error",
                chk.raw["spend"],
                "not_months",
                column="month",
                rows=bad.fillna(False).astype(bool),
                n=int(bad.sum()),
            )


def checked_events(chk: Checker, events: pd.DataFrame) -> pd.DataFrame:
    """Stage events dated after the run time or of a stage maops does not count are left out
    (findings), as stage changes are."""
    events = chk.drop_future("stage_events", events, "occurred_at")
    return chk.drop_unknown("stage_events", events, "stage", EVENT_STAGES, "stage events")
