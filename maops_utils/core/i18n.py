"""Report text in Japanese (default) and English, and locale-aware number formatting.

The texts are `core/text.yaml` (key -> ja, en), read once; `t` picks and formats one."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path

from .errors import Finding
from .io import load_yaml, printable

TEXT: dict[str, dict[str, str]] = load_yaml(Path(__file__).with_name("text.yaml"))

STAGE_METRICS = ("new_leads", "mqls", "sqls", "opportunities", "won_deals")


# Characters Markdown gives a meaning to: a data string written into Markdown text has each
# escaped, so a product called `[詳細](javascript:alert(1))` stays text, never a link.
_MARKDOWN_SIGNS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>:])")


def markdown_literal(value: object) -> str:
    """`value` (a string from the data) as Markdown that shows exactly that text: HTML
    escaped, Markdown's signs backslash-escaped, control characters dropped."""
    return _MARKDOWN_SIGNS.sub(r"\\\1", html.escape(printable(str(value)), quote=False))


def t(key: str, locale: str = "ja", **fmt: object) -> str:
    text = TEXT[key].get(locale) or TEXT[key]["en"]
    return text.format(**fmt) if fmt else text


def finding(
    severity: str,
    table: str,
    code: str,
    *,
    file: str = "",
    column: str = "",
    count: int = 0,
    examples: list[str] | None = None,
    **params: str | int,
) -> Finding:
    """A finding worded by `core/text.yaml` (`finding_<code>`, `finding_<code>_action`): in
    English for the terminal and run.log, and kept with its code and `params` so that a
    report words it in its own language (`finding_words`)."""
    action = f"finding_{code}_action"
    return Finding(
        severity,
        table,
        t(f"finding_{code}", "en", column=column, **params),
        file,
        column,
        count,
        list(examples or []),
        t(action, "en", column=column, **params) if action in TEXT else "",
        code,
        dict(params),
    )


def finding_words(f: Finding, locale: str = "ja") -> tuple[str, str]:
    """The message and the action of `f` in `locale`. Its values are those the finding
    kept, masked; a finding made without a code (a fatal one, an importer's) keeps its
    English."""
    key = f"finding_{f.code}"
    if not f.code or key not in TEXT:
        return f.message, f.action
    action = f"{key}_action"
    fmt = {"column": f.column, **f.params}
    return t(key, locale, **fmt), t(action, locale, **fmt) if action in TEXT else ""


# How an amount is written in each currency the reports know: its symbol (before the number),
# its decimals, and its name in Japanese (the glossary's unit). Numbers are grouped as both
# report languages write them (1,234.56). Any other ISO 4217 code (CHF, SEK, ...) is written
# after the amount, with two decimals. params/README.md lists them.
CURRENCIES: dict[str, tuple[str, int, str]] = {
    "JPY": ("¥", 0, "円"),
    "USD": ("$", 2, "米ドル"),
    "EUR": ("€", 2, "ユーロ"),
    "GBP": ("£", 2, "英ポンド"),
    "BRL": ("R$ ", 2, "ブラジルレアル"),
    "CNY": ("CN¥", 2, "人民元"),
    "KRW": ("₩", 0, "韓国ウォン"),
    "INR": ("₹", 2, "インドルピー"),
    "AUD": ("A$", 2, "豪ドル"),
    "CAD": ("CA$", 2, "カナダドル"),
    "SGD": ("S$", 2, "シンガポールドル"),
    "MXN": ("MX$", 2, "メキシコペソ"),
}


def format_amount(value: float, currency: str = "JPY") -> str:
    """An amount in `currency`: ¥12,345,678 / $1,234.56 / R$ 1,234.56 / 1,234.56 CHF."""
    symbol, decimals, _ = CURRENCIES.get(currency, ("", 2, ""))
    number = f"{value:,.{decimals}f}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def _number(value: float, decimals: int) -> str:
    """Grouped, with at most `decimals` decimals and none that are zeros: 1,052 / 4.7 / 10."""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_amount_short(value: float, currency: str = "JPY", locale: str = "ja") -> str:
    """An amount as a chart's axis or label shows it, in the units its readers count in:
    1,052万円 / 4.7万円 / 8,000円 for yen in Japanese (the 万 is how Japanese business reads
    amounts), ¥10.5M / $12.3k / $950 in English; other currencies in Japanese with their
    symbol and separators ($12,345)."""
    sign, amount = ("-" if value < 0 else ""), abs(float(value))
    if locale == "ja" and currency == "JPY":
        if amount < 10_000:
            return f"{sign}{_number(amount, 0)}円"
        return f"{sign}{_number(amount / 10_000, 1 if amount < 1_000_000 else 0)}万円"
    symbol, decimals, _ = CURRENCIES.get(currency, ("", 2, ""))
    number = _number(amount, decimals if amount < 100 else 0)
    if locale != "ja":
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if amount >= size:
                number = _number(amount / size, 1) + suffix
                break
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


def currency_word(currency: str, locale: str = "ja") -> str:
    """The currency's name as a unit: 円 / 米ドル in Japanese, the ISO code in English."""
    if locale == "ja" and currency in CURRENCIES:
        return CURRENCIES[currency][2]
    return currency


def format_value(value: float | None, unit: str, locale: str = "ja", currency: str = "JPY") -> str:
    """A metric value as people read it: 1,234 / 12.3% / ¥12,345,678; empty when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "currency":
        return format_amount(value, currency)
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_change(value: float | None, before: float | None, is_rate: bool) -> str:
    """A change as a reader compares it: a rate in points (21.4% → 31.0% is +9.6pt, not
    +45%), anything else relative; no "-0%" (a change that rounds to nothing is ±0), and a
    true minus sign. Empty without both values, or from 0 for a relative change."""
    if any(x is None or math.isnan(float(x)) for x in (value, before)):
        return ""
    if is_rate:
        points = round((float(value) - float(before)) * 100, 1)
        return "±0.0pt" if points == 0 else f"{points:+.1f}pt".replace("-", "−")
    if before == 0:
        return ""
    rel = round((float(value) - float(before)) / abs(float(before)) * 100)
    return "±0%" if rel == 0 else f"{rel:+d}%".replace("-", "−")


STATUS_MARKS = {"on_track": "✓", "at_risk": "▲", "off_track": "✕"}


def format_status(status: str | None, locale: str = "ja") -> str:
    """A status with a mark that reads without colour and in print: ✓ 順調, ▲ 注意, ✕ 未達."""
    if not isinstance(status, str) or status not in STATUS_MARKS:
        return ""
    return f"{STATUS_MARKS[status]} {t(status, locale)}"


def format_ratio(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value * 100:.0f}%"
