"""Report text in Japanese (default) and English, and locale-aware number formatting."""

from __future__ import annotations

import math

TEXT: dict[str, dict[str, str]] = {
    "kpi_report": {"ja": "KPI評価レポート", "en": "KPI evaluation report"},
    "tier": {"ja": "区分", "en": "Tier"},
    "kpi": {"ja": "指標", "en": "Metric"},
    "value": {"ja": "実績", "en": "Value"},
    "target": {"ja": "目標", "en": "Target"},
    "attainment": {"ja": "達成率", "en": "Attainment"},
    "previous": {"ja": "前月", "en": "Previous month"},
    "change": {"ja": "前月比", "en": "vs previous month"},
    "product": {"ja": "商材", "en": "Product"},
    "month": {"ja": "月", "en": "Month"},
    "stage": {"ja": "ステージ", "en": "Stage"},
    "count": {"ja": "件数", "en": "Count"},
    "all": {"ja": "全体", "en": "All"},
    "funnel_title": {
        "ja": "{month} のファネル（当月件数）",
        "en": "Funnel for {month} (counts in the month)",
    },
    "trend_title": {
        "ja": "{first}〜{last} の推移（破線は目標）",
        "en": "{first} to {last} (dashed: target)",
    },
    "severity": {"ja": "重要度", "en": "Severity"},
    "table": {"ja": "テーブル", "en": "Table"},
    "message": {"ja": "内容", "en": "Message"},
    "rows": {"ja": "行数", "en": "Rows"},
    "warning": {"ja": "警告", "en": "warning"},
    "error": {"ja": "エラー", "en": "error"},
    "no_findings": {"ja": "データ品質の指摘はありません。", "en": "No data-quality findings."},
    "ci": {"ja": "95%信頼区間", "en": "95% interval"},
    "status": {"ja": "状態", "en": "Status"},
    "year_change": {"ja": "前年同月比", "en": "vs a year before"},
    "on_track": {"ja": "順調", "en": "On track"},
    "at_risk": {"ja": "注意", "en": "At risk"},
    "off_track": {"ja": "未達", "en": "Off track"},
    "small_sample_note": {
        "ja": "※ 件数が少なく（分母 {n} 件未満）、率は大きくぶれます。",
        "en": "* Few events (denominator under {n}): the rate can swing widely.",
    },
    "channel": {"ja": "チャネル", "en": "Channel"},
    "campaign": {"ja": "キャンペーン", "en": "Campaign"},
    "cost": {"ja": "費用", "en": "Cost"},
    "cost_per_lead": {"ja": "リード単価", "en": "Cost per lead"},
    "cost_per_mql": {"ja": "MQL単価", "en": "Cost per MQL"},
    "cost_per_sql": {"ja": "SQL単価", "en": "Cost per SQL"},
    "bounce_rate": {"ja": "バウンス率", "en": "Bounce rate"},
    "flag": {"ja": "評価", "en": "Flag"},
    "best": {"ja": "最良", "en": "best"},
    "worst": {"ja": "最低", "en": "worst"},
    "no_campaigns": {
        "ja": "当月のメール配信はありません。",
        "en": "No e-mails were sent this month.",
    },
    "sales_sourced": {"ja": "営業起点", "en": "sales-sourced"},
    "unknown": {"ja": "不明", "en": "unknown"},
}

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


TEXT.update(
    {
        "cohort": {"ja": "コホート（作成月）", "en": "Cohort (month created)"},
        "leads_in_cohort": {"ja": "リード数", "en": "Leads"},
        "too_young": {"ja": "判定前", "en": "too young"},
        "within_days": {"ja": "{days}日以内", "en": "within {days} days"},
        "cohort_title": {
            "ja": "作成月ごとの {stage} 到達率（{days}日以内）",
            "en": "Share reaching {stage} within {days} days, by month created",
        },
        "transition": {"ja": "区間", "en": "Transition"},
        "lead_to_mql": {"ja": "リード → MQL", "en": "Lead → MQL"},
        "mql_to_sql": {"ja": "MQL → SQL", "en": "MQL → SQL"},
        "sql_to_won": {"ja": "SQL → 受注", "en": "SQL → won"},
        "lead_to_won": {"ja": "リード → 受注", "en": "Lead → won"},
        "days_median": {"ja": "中央値 [四分位] 日（件数）", "en": "median [quartiles] days (n)"},
    }
)
