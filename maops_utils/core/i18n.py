"""Report text in Japanese (default) and English, and locale-aware number formatting.

The texts are `core/text.yaml` (key -> ja, en), read once; `t` picks and formats one."""

from __future__ import annotations

import math
from pathlib import Path

from .io import load_yaml

TEXT: dict[str, dict[str, str]] = load_yaml(Path(__file__).with_name("text.yaml"))

STAGE_METRICS = ("new_leads", "mqls", "sqls", "opportunities", "won_deals")


def t(key: str, locale: str = "ja", **fmt: object) -> str:
    text = TEXT[key].get(locale) or TEXT[key]["en"]
    return text.format(**fmt) if fmt else text


def format_value(value: float | None, unit: str, locale: str = "ja", currency: str = "JPY") -> str:
    """A metric value as people read it: 1,234 / 12.3% / ¥12,345,678; empty when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "currency":
        symbol = {"JPY": "¥", "USD": "$", "EUR": "€"}.get(currency, "")
        if currency == "JPY":
            return f"{symbol}{value:,.0f}"
        return f"{symbol}{value:,.2f}" if symbol else f"{value:,.2f} {currency}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_ratio(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value * 100:.0f}%"
