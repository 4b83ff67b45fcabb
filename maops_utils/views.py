"""Tables formatted for reading in the notebook and its HTML: labels in the report's language,
numbers formatted for the locale. Data strings stay text: pandas escapes them in HTML."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from . import kpi
from .errors import Finding
from .i18n import format_ratio, format_value, t
from .schema import ALL


def _pct(value: float) -> str:
    return "" if pd.isna(value) else f"{value:+.0%}"


def _interval(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def _group(rv: kpi.KpiReview, product: str) -> str:
    return t("all", rv.locale) if product == ALL else product


def summary(rv: kpi.KpiReview) -> Markdown:
    first, last = kpi.data_period(rv.dataset)
    products = ", ".join(html.escape(p) for p in rv.products)
    if rv.locale == "ja":
        text = (
            f"**対象月: {rv.month}**　｜　商材: {products}　｜　"
            f"データ期間: {first:%Y-%m-%d} 〜 {last:%Y-%m-%d}（{rv.dataset.timezone}）"
        )
    else:
        text = (
            f"**Month: {rv.month}** | products: {products} | "
            f"data from {first:%Y-%m-%d} to {last:%Y-%m-%d} ({rv.dataset.timezone})"
        )
    return Markdown(text)


def bullet_list(sentences: list[str]) -> HTML:
    """Sentences as an HTML list; every sentence is escaped (they quote names from the data)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return HTML(f'<ul class="maops-highlights">{items}</ul>')


def findings_table(findings: list[Finding], locale: str = "ja") -> pd.DataFrame:
    cols = [t(k, locale) for k in ("severity", "table", "message", "rows")]
    rows = [[t(f.severity, locale), f.table, f.describe_short(), f.count] for f in findings]
    return pd.DataFrame(rows, columns=cols).set_index(cols[0]).rename_axis(None)


def quality(rv: kpi.KpiReview) -> pd.DataFrame | Markdown:
    """The findings as a table, or a sentence saying there are none."""
    if not rv.findings:
        return Markdown(t("no_findings", rv.locale))
    return findings_table(rv.findings, rv.locale)


def scorecard(rv: kpi.KpiReview, product: str = ALL) -> pd.DataFrame:
    """KGI then KPI: value, interval, target, attainment, status, change vs last month and year."""
    rows = []
    for r in kpi.scorecard(rv, product).itertuples():
        value = format_value(r.value, r.unit, rv.locale, rv.currency)
        if r.small_sample:
            value += " ※" if rv.locale == "ja" else " *"
        rows.append(
            {
                t("tier", rv.locale): r.tier,
                t("kpi", rv.locale): r.label,
                t("value", rv.locale): value,
                t("ci", rv.locale): _interval(r.ci_low, r.ci_high),
                t("target", rv.locale): format_value(r.target, r.unit, rv.locale, rv.currency),
                t("attainment", rv.locale): format_ratio(r.attainment),
                t("status", rv.locale): t(r.status, rv.locale) if r.status else "",
                t("change", rv.locale): _pct(r.change),
                t("year_change", rv.locale): _pct(r.year_change),
            }
        )
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None)


def small_sample_note(rv: kpi.KpiReview) -> Markdown:
    return Markdown(t("small_sample_note", rv.locale, n=rv.catalogue.small_sample))


def by_product(rv: kpi.KpiReview) -> pd.DataFrame:
    """KPIs as rows, products and `ALL` as columns: value, with attainment and status in brackets."""
    table = kpi.metrics_table(rv)
    groups = [*rv.products, ALL]
    rows = []
    for name in kpi.scorecard(rv)["metric"]:
        k = rv.catalogue[name]
        part = table[table["metric"] == name].set_index("product")
        row = {t("kpi", rv.locale): k.label(rv.locale)}
        for g in groups:
            text = format_value(part.at[g, "value"], k.unit, rv.locale, rv.currency)
            if pd.notna(part.at[g, "attainment"]):
                text += f" ({format_ratio(part.at[g, 'attainment'])} {t(part.at[g, 'status'], rv.locale)})"
            row[_group(rv, g)] = text
        rows.append(row)
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None)


def channels(rv: kpi.KpiReview, table: pd.DataFrame) -> pd.DataFrame:
    loc, cur = rv.locale, rv.currency
    rows = []
    for r in table.itertuples():
        name = r.channel
        if name == ALL:
            name = t("all", loc)
        elif name in ("sales_sourced", "unknown"):
            name = t(name, loc)
        rows.append(
            {
                t("channel", loc): name,
                rv.label("new_leads"): format_value(r.new_leads, "count", loc),
                rv.label(
                    "mql_rate"
                ): f"{format_value(r.mql_rate, 'rate', loc)} {_bracket(r.mql_rate_ci_low, r.mql_rate_ci_high)}",
                rv.label(
                    "sql_rate"
                ): f"{format_value(r.sql_rate, 'rate', loc)} {_bracket(r.sql_rate_ci_low, r.sql_rate_ci_high)}",
                rv.label("won_deals"): format_value(r.won_deals, "count", loc),
                rv.label("revenue"): format_value(r.revenue, "currency", loc, cur),
                t("cost", loc): format_value(r.cost, "currency", loc, cur),
                t("cost_per_lead", loc): format_value(r.cost_per_lead, "currency", loc, cur),
                t("cost_per_mql", loc): format_value(r.cost_per_mql, "currency", loc, cur),
                t("cost_per_sql", loc): format_value(r.cost_per_sql, "currency", loc, cur),
            }
        )
    return pd.DataFrame(rows).set_index(t("channel", loc)).rename_axis(None)


def _bracket(low: float, high: float) -> str:
    text = _interval(low, high)
    return f"({text})" if text else ""


def campaigns(rv: kpi.KpiReview, table: pd.DataFrame) -> pd.DataFrame | Markdown:
    loc = rv.locale
    if table.empty:
        return Markdown(t("no_campaigns", loc))
    rows = []
    for r in table.itertuples():
        rows.append(
            {
                t("campaign", loc): r.name if isinstance(r.name, str) and r.name else r.campaign_id,
                rv.label("email_sends"): format_value(r.email_sends, "count", loc),
                rv.label("email_delivered"): format_value(r.email_delivered, "count", loc),
                rv.label(
                    "email_open_rate"
                ): f"{format_value(r.email_open_rate, 'rate', loc)} {_bracket(r.email_open_rate_ci_low, r.email_open_rate_ci_high)}",
                rv.label(
                    "email_ctr"
                ): f"{format_value(r.email_ctr, 'rate', loc)} {_bracket(r.email_ctr_ci_low, r.email_ctr_ci_high)}",
                rv.label("email_ctor"): format_value(r.email_ctor, "rate", loc),
                rv.label("unsubscribe_rate"): format_value(r.unsubscribe_rate, "rate", loc),
                t("bounce_rate", loc): format_value(r.email_bounce_rate, "rate", loc),
                t("flag", loc): t(r.flag, loc) if r.flag else "",
            }
        )
    return pd.DataFrame(rows).set_index(t("campaign", loc)).rename_axis(None)


def cohorts(rv: kpi.KpiReview, table: pd.DataFrame, product: str = ALL) -> pd.DataFrame:
    """Cohort months as rows; per stage and window the share reached, `判定前` while too young."""
    loc = rv.locale
    part = table[table["product"] == product]
    stage_label = {s.name: s.label(loc) for s in rv.funnel_def.stages}
    out = pd.DataFrame(index=sorted(part["cohort"].unique(), reverse=True))
    sizes = part.drop_duplicates("cohort").set_index("cohort")["leads"]
    out[t("leads_in_cohort", loc)] = [format_value(sizes.get(c), "count", loc) for c in out.index]
    for (stage, window), rows in part.groupby(["stage", "window_days"], sort=False):
        col = f"{stage_label.get(stage, stage)} {t('within_days', loc, days=window)}"
        rows = rows.set_index("cohort")
        cells = []
        for c in out.index:
            r = rows.loc[c]
            if not r["mature"]:
                cells.append(t("too_young", loc))
            elif pd.isna(r["rate"]):
                cells.append("")
            else:
                cells.append(f"{r['rate'] * 100:.1f}% ({int(r['reached'])})")
        out[col] = cells
    return out.rename_axis(t("cohort", loc))


def velocity(rv: kpi.KpiReview, table: pd.DataFrame) -> pd.DataFrame:
    """Products as rows, transitions as columns: median [p25–p75] days (n)."""
    loc = rv.locale
    rows = {}
    for r in table.itertuples():
        cell = "" if not r.n else f"{r.median:.0f} [{r.p25:.0f}–{r.p75:.0f}] ({int(r.n)})"
        rows.setdefault(_group(rv, r.product), {})[t(r.transition, loc)] = cell
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(t("days_median", loc))
