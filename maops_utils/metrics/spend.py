"""What was spent, and what it bought: spend per channel or campaign over months, and the
cost of each stage, pipeline-to-spend and return on spend (docs/kpi-review.md, "Spend").

Spend comes from the contract's `spend` table when the dataset has one (amounts by month,
channel and campaign); otherwise from `campaigns.cost`, spread over each campaign's days. A
dataset with both counts the spend table only: the two describe the same money."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..contract.dataset import Dataset
from ..core.errors import DataContractError, Finding
from ..core.months import month_bounds
from ..core.schema import ALL, UNKNOWN_SOURCE

# The stages a cost is given for: (metric, its cost's name), lowest first.
STAGE_COSTS = (
    ("new_leads", "cost_per_lead"),
    ("mqls", "cost_per_mql"),
    ("sqls", "cost_per_sql"),
    ("opportunities", "cost_per_opportunity"),
    ("won_deals", "cost_per_won"),
)


def campaign_costs(dataset: Dataset, month: str) -> tuple[pd.DataFrame, int]:
    """Campaign spend falling in `month`, per campaign channel.

    A campaign's cost is spread evenly over the days from start_date to end_date (both
    included); the month gets the share of days it holds. A campaign with only one of the
    dates is a one-day campaign on that date. Campaigns without cost, or without any date,
    cannot be placed in a month and are counted in the second return value.

    Returns:
        (frame `channel, cost`, number of campaigns with a cost that could not be placed)
    """
    if not dataset.has("campaigns") or "cost" not in dataset["campaigns"].columns:
        return pd.DataFrame(columns=["channel", "cost"]), 0
    c = dataset["campaigns"]
    c = c[c["cost"].notna()]
    start = c["start_date"] if "start_date" in c.columns else pd.Series(pd.NaT, index=c.index)
    end = c["end_date"] if "end_date" in c.columns else pd.Series(pd.NaT, index=c.index)
    start, end = start.fillna(end).dt.normalize(), end.fillna(start).dt.normalize()
    placed = start.notna()
    lo, hi = start.where(start <= end, end), end.where(start <= end, start)
    days = (hi - lo).dt.days + 1
    m0, m1 = month_bounds(month)
    overlap_lo = lo.where(lo > m0, m0)
    overlap_hi = hi.where(hi < m1 - pd.Timedelta(days=1), m1 - pd.Timedelta(days=1))
    overlap = ((overlap_hi - overlap_lo).dt.days + 1).clip(lower=0)
    share = (overlap / days).where(placed, 0.0)
    channel = (
        c["channel"].fillna(UNKNOWN_SOURCE)
        if "channel" in c.columns
        else pd.Series(UNKNOWN_SOURCE, index=c.index)
    )
    frame = pd.DataFrame({"channel": channel, "cost": c["cost"] * share})
    out = frame.groupby("channel", as_index=False)["cost"].sum()
    return out[out["cost"] > 0].reset_index(drop=True), int((~placed).sum())


def has_spend(dataset: Dataset) -> bool:
    return dataset.has("spend") and not dataset["spend"].empty


def spend_by(dataset: Dataset, months: Sequence[str], by: str = "channel") -> pd.Series:
    """Spend over `months` per channel (`by="channel"`) or campaign (`"campaign_id"`): the
    spend table's, else the campaigns' cost (by channel only). Spend without a channel counts
    under `unknown`; spend without a campaign is no campaign's.

    Raises:
        DataContractError: the spend is in more than one currency (maops converts none).
    """
    if not has_spend(dataset):
        if by != "channel":
            return pd.Series(dtype="float64")
        parts = [campaign_costs(dataset, m)[0] for m in months]
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        if frame.empty:
            return pd.Series(dtype="float64")
        return frame.groupby("channel")["cost"].sum()
    spend = dataset["spend"]
    currencies = sorted(spend["currency"].dropna().unique())
    if len(currencies) > 1:
        raise DataContractError(
            [
                Finding(
                    "error",
                    "spend",
                    f"spend is in several currencies ({', '.join(map(str, currencies))}); "
                    "maops adds no amounts of different currencies",
                    column="currency",
                    action="convert the spend to one currency before importing it",
                )
            ]
        )
    rows = spend[spend["month"].isin(list(months))]
    if by == "campaign_id":  # spend not given per campaign is no campaign's
        rows = rows[rows["campaign_id"].notna()]
    key = rows[by].fillna(UNKNOWN_SOURCE)
    return rows.assign(_key=key).groupby("_key")["amount"].sum().rename_axis(by)


def spread_months(dataset: Dataset, month: str) -> list[str]:
    """The months of spend that was spread evenly (an amount given for a period) and that
    cover `month`, up to `month`: the window over which its costs mean what they say. Empty
    when the month's spend was dated."""
    if not has_spend(dataset) or "spread_over" not in dataset["spend"]:
        return []
    spend = dataset["spend"]
    spread = spend[spend["spread_over"].fillna(1) > 1]
    if spread.empty or month not in set(spread["month"]):
        return []
    return sorted(m for m in spread["month"].unique() if m <= month)


def with_returns(table: pd.DataFrame, spend: pd.Series, key: str) -> pd.DataFrame:
    """`table` (a row per `key` value and `ALL`, the counts of `STAGE_COSTS`, `pipeline` and
    `revenue`) with the spend of each row and what it bought:

    - cost per stage: spend ÷ the stage's count (empty when the count is 0);
    - pipeline_to_spend: the amount of the opportunities created ÷ spend;
    - roi: (revenue − spend) ÷ spend.

    Every ratio is empty without spend. `ALL` gets the whole spend, including spend of
    channels that have no row."""
    out = table.copy()
    total = spend.sum() if len(spend) else np.nan
    out["cost"] = [total if k == ALL else spend.get(k, np.nan) for k in out[key]]
    paid = out["cost"] > 0
    for count, name in STAGE_COSTS:
        if count in out:
            out[name] = (out["cost"] / out[count]).where(paid & (out[count] > 0))
    if "pipeline" in out:
        out["pipeline_to_spend"] = (out["pipeline"] / out["cost"]).where(paid)
    if "revenue" in out:
        out["roi"] = ((out["revenue"] - out["cost"]) / out["cost"]).where(paid)
    return out
