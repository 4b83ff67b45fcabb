"""Stage reports and spend: exports that count a funnel without following a lead.

A marketing team often gets one report per stage (the leads, the MQLs, the opportunities
that reached pipeline, the bookings) that share no id, and one spend figure per channel. The
contract holds such rows as `stage_events` and `spend` (docs/data-contract.md, project notes);
this module builds them from a mapping's `tables.stage_events` and `tables.spend`."""

from __future__ import annotations

import pandas as pd

from ..core.months import month_range
from .fields import _SKIP, _Builder
from .mapping import Mapping


def build_stage_events(b: _Builder, m: Mapping) -> pd.DataFrame | None:
    """Every stage report's rows as stage events, each with its product (the mapping's
    `product.default` when the report has none). None when the mapping has no stage reports."""
    raws = b.read_table("stage_events")
    if not raws:
        return None
    parts = []
    for spec, raw in raws:
        part = b.build(spec, raw, b.base(raw))
        part = part[part["stage"].notna() & (part["stage"] != _SKIP)].copy()
        if "product" not in part:
            part["product"] = None
        if m.product.default is not None:
            part["product"] = part["product"].where(part["product"].notna(), m.product.default)
        missing = part["product"].isna()
        if missing.any():
            b.p.add(
                "error",
                "stage_events",
                f"{int(missing.sum())} row(s) have no product",
                file=str(raw.path),
                column="product",
                rows=part[missing],
                action="map the report's product column, or set product.default in the mapping",
            )
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def build_spend(b: _Builder, m: Mapping) -> pd.DataFrame | None:
    """Spend rows by month. An amount the export gives for a period (no month) is spread
    evenly over the months the mapping names, each share marked with `spread_over`: a
    month's cost is then an even share, not what was spent that month."""
    raws = b.read_table("spend")
    if not raws:
        return None
    parts = []
    for spec, raw in raws:
        part = b.build(spec, raw, b.base(raw))
        if spec.spread is not None:
            first, last = spec.spread
            months = month_range(last, (pd.Period(last, "M") - pd.Period(first, "M")).n + 1)
            part = part.loc[part.index.repeat(len(months))].copy()
            part["month"] = months * (len(part) // len(months))
            part["amount"] = part["amount"] / len(months)
            part["spread_over"] = len(months)
            b.p.add(
                "warning",
                "spend",
                f"the amounts of {raw.path.name} name no month: each was spread evenly over "
                f"{first} to {last} ({len(months)} months)",
                file=str(raw.path),
            )
        if "currency" not in part or part["currency"].isna().all():
            part["currency"] = m.currency or None
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
