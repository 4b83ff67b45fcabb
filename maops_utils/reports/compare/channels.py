"""Channels and campaigns per product over the comparison window: the leads and MQLs each
brought, their conversions and their cost (docs/product-comparison.md)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from ...contract.dataset import Dataset
from ...core.schema import ALL
from ...core.stats import wilson_interval
from ...metrics import compute as mx
from ...metrics.spend import campaign_costs
from .comparison import (
    CAMPAIGN_COLUMNS,
    CHANNEL_COLUMNS,
    LEAD_COUNTS,
    MAX_CAMPAIGNS,
    ProductComparison,
    Window,
    _sum_over_months,
)


def regroup_counts(grid: pd.DataFrame, dims: tuple[str, ...]) -> pd.DataFrame:
    """`lead_counts` by `dims` from a finer grid of it: the counts summed, an empty key kept
    as a group of its own (as SQL's GROUP BY keeps NULL), the groups in key order."""
    return grid.groupby(list(dims), dropna=False, sort=True)[LEAD_COUNTS].sum().reset_index()


def campaign_window_costs(dataset: Dataset, window: Window) -> pd.DataFrame:
    """Spend of every campaign placed in the window's months by the KPI review's rule
    (`metrics.spend.campaign_costs`: spread evenly over the campaign's days, both included).

    Returns:
        Rows `campaign_id, product, channel, cost` for campaigns with spend in the window.
    """
    columns = ["campaign_id", "product", "channel", "cost"]
    if not dataset.has("campaigns") or "cost" not in dataset["campaigns"].columns:
        return pd.DataFrame(columns=columns)
    camp = dataset["campaigns"]
    # campaign_costs groups by `channel`: keyed by campaign_id it places each campaign alone.
    keyed = camp.assign(channel=camp["campaign_id"])
    ds = dataclasses.replace(dataset, tables={**dataset.tables, "campaigns": keyed})
    parts = [p for p in (campaign_costs(ds, m)[0] for m in window.months) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    cost = pd.concat(parts).groupby("channel")["cost"].sum()
    info = camp.set_index("campaign_id")
    out = pd.DataFrame({"campaign_id": cost.index, "cost": cost.to_numpy()})
    for col in ("product", "channel"):
        out[col] = out["campaign_id"].map(info[col]) if col in info.columns else None
    return out[columns]


def _with_rates(out: pd.DataFrame) -> pd.DataFrame:
    k, n = out["cohort_mqls"].astype("float64"), out["cohort_leads"].astype("float64")
    out["lead_to_mql"] = (k / n.where(n > 0)).astype("float64")
    out["ci_low"], out["ci_high"] = wilson_interval(k, n)
    cost = out["cost"]
    out["cost_per_lead"] = (cost / out["new_leads"]).where(out["new_leads"] > 0)
    out["cost_per_mql"] = (cost / out["mqls"]).where(out["mqls"] > 0)
    return out


def product_channels(cmp: ProductComparison) -> pd.DataFrame:
    """`product_channel.csv`: per product and lead source over the window.

    `new_leads` and `mqls` are the core counts (engine, by the lead's product and source)
    summed over the window's months; `lead_to_mql` (with 95% Wilson interval) is the compared
    definition restricted to the channel; `cost` is the spend of the product's own campaigns
    whose channel equals the lead source, placed in the window as in channels.csv
    (cross-product campaigns are not split between products); cost per lead / MQL divide it.
    """
    ds, w = cmp.dataset, cmp.window
    values = mx.compute_metrics(
        ds,
        list(w.months),
        specs=cmp.specs,
        names=["new_leads", "mqls"],
        dims=("product", "lead_source"),
        groups={"product": cmp.products},
        engine=cmp.engine,
    )
    values = values[(values["product"] != ALL) & (values["lead_source"] != ALL)]
    wide = (
        _sum_over_months(values, ["product", "lead_source"])
        .pivot_table(index=["product", "lead_source"], columns="metric", values="value")
        .reindex(columns=["new_leads", "mqls"])
    )
    wide.index = wide.index.set_names(["product", "channel"])
    cohort = regroup_counts(cmp.lead_grid, ("product", "channel"))
    cohort = cohort.set_index(["product", "channel"])
    out = wide.join(cohort[["cohort_leads", "cohort_mqls"]], how="left").fillna(0).reset_index()
    out = out[(out["new_leads"] > 0) | (out["mqls"] > 0) | (out["cohort_leads"] > 0)]
    out = out[out["product"].isin(cmp.products)]
    spend = campaign_window_costs(ds, w).groupby(["product", "channel"])["cost"].sum()
    keys = pd.MultiIndex.from_frame(out[["product", "channel"]])
    out["cost"] = spend.reindex(keys).to_numpy(dtype="float64")
    out = _with_rates(out)
    out.insert(0, "month", w.month)
    order = {p: i for i, p in enumerate(cmp.products)}
    out = out.sort_values(
        ["product", "new_leads"], key=lambda s: s.map(order) if s.name == "product" else -s
    )
    return out[CHANNEL_COLUMNS].reset_index(drop=True)


def product_campaigns(cmp: ProductComparison, max_campaigns: int = MAX_CAMPAIGNS) -> pd.DataFrame:
    """Per acquisition campaign and product: the same columns as `product_channels`, for the
    `max_campaigns` campaigns that brought the most leads in the window.

    A campaign's cost (placed in the window) counts for its own product only; a cross-product
    campaign (empty product) shows no cost per lead or MQL.
    """
    ds, w = cmp.dataset, cmp.window
    counts = regroup_counts(cmp.lead_grid, ("product", "campaign_id"))
    counts = counts[counts["campaign_id"].notna() & counts["product"].isin(cmp.products)]
    top = (
        counts.groupby("campaign_id")["new_leads"].sum().sort_values(ascending=False, kind="stable")
    )
    top = top[top > 0].head(max_campaigns)
    out = counts[counts["campaign_id"].isin(top.index)].copy()
    out["name"], out["campaign_product"] = None, None
    if ds.has("campaigns"):
        camp = ds["campaigns"].set_index("campaign_id")
        out["name"] = out["campaign_id"].map(camp["name"])
        if "product" in camp.columns:
            out["campaign_product"] = out["campaign_id"].map(camp["product"])
    spend = campaign_window_costs(ds, w).set_index("campaign_id")["cost"]
    own = out["campaign_product"] == out["product"]
    out["cost"] = out["campaign_id"].map(spend).where(own).astype("float64")
    out = _with_rates(out)
    out.insert(0, "month", w.month)
    rank = {c: i for i, c in enumerate(top.index)}
    order = {p: i for i, p in enumerate(cmp.products)}
    out = out.sort_values(
        ["campaign_id", "product"],
        key=lambda s: s.map(rank) if s.name == "campaign_id" else s.map(order),
    )
    return out[CAMPAIGN_COLUMNS].reset_index(drop=True)
