"""Tables formatted for reading in the notebook and its HTML: labels in the report's language,
numbers formatted for the locale. Data strings stay text: pandas escapes them in HTML."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown
from matplotlib.figure import Figure

from ..core.errors import Finding
from ..core.i18n import (
    finding_words,
    format_change,
    format_ratio,
    format_status,
    format_value,
    markdown_literal,
    t,
)
from ..core.schema import ALL
from ..metrics import funnel
from . import actions, plots
from .kpi import review


def _interval(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def _group(rv: review.KpiReview, product: str) -> str:
    return rv.product_name(product)


def _period(first: pd.Timestamp, last: pd.Timestamp, timezone: str, locale: str) -> str:
    if pd.isna(first):
        return t("no_dated_rows", locale)
    if locale == "ja":
        return f"データ期間: {first:%Y-%m-%d} 〜 {last:%Y-%m-%d}（{timezone}）"
    return f"data from {first:%Y-%m-%d} to {last:%Y-%m-%d} ({timezone})"


def summary(rv: review.KpiReview) -> Markdown:
    """The month, the products and the period the data covers; data dated nowhere is said to
    count in no month."""
    period = _period(*review.data_period(rv.dataset), rv.dataset.timezone, rv.locale)
    products = ", ".join(markdown_literal(rv.product_name(p)) for p in rv.products)
    if rv.locale == "ja":
        text = f"**対象月: {rv.month}**　｜　商材: {products}　｜　{period}"
    else:
        text = f"**Month: {rv.month}** | products: {products} | {period}"
    if rv.scope:
        text += "\n\n" + t("scope_product", rv.locale, product=markdown_literal(rv.scope))
    missing = funnel.unrecorded_stages(rv.dataset)
    if missing:
        names = "、".join if rv.locale == "ja" else ", ".join
        text += "\n\n" + t("unrecorded_stages", rv.locale, stages=names(map(rv.label, missing)))
    return Markdown(text)


def bullet_list(sentences: list[str]) -> HTML:
    """Sentences as an HTML list; every sentence is escaped (they quote names from the data)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return HTML(f'<ul class="maops-highlights">{items}</ul>')


def findings_table(findings: list[Finding], locale: str = "ja") -> pd.DataFrame:
    """Severity, table, message (after its column) and rows of each finding, in `locale`."""
    cols = [t(k, locale) for k in ("severity", "table", "message", "rows")]
    rows = []
    for f in findings:
        message = finding_words(f, locale)[0]
        shown = f"{f.column}: {message}" if f.column else message
        # a finding on a table as a whole (stale, a month missing) names no rows
        rows.append([t(f.severity, locale), f.table, shown, f.count or ""])
    return pd.DataFrame(rows, columns=cols).set_index(cols[0]).rename_axis(None)


def quality(rv: review.KpiReview) -> pd.DataFrame | Markdown:
    """The month's findings (`KpiReview.findings`, the list the data-quality report shows) as
    a table, or a sentence saying there are none."""
    if not rv.findings:
        return Markdown(t("no_findings", rv.locale))
    return findings_table(rv.findings, rv.locale)


def scorecard(rv: review.KpiReview, product: str = ALL) -> pd.DataFrame:
    """KGI then KPI: value, interval, target (a ceiling "≤" for a KPI where lower is better),
    attainment, status with its mark, last month's value and the change since (in points for
    rates), the change since a year before."""
    loc, rows = rv.locale, []
    for r in review.scorecard(rv, product).itertuples():
        kpi = rv.catalogue[r.metric]
        value = format_value(r.value, r.unit, loc, rv.currency)
        if r.small_sample:
            value += " ※" if loc == "ja" else " *"
        target = format_value(r.target, r.unit, loc, rv.currency)
        if target and not kpi.higher_is_better:
            target = f"≤ {target}"
        rows.append(
            {
                t("tier", loc): r.tier,
                t("kpi", loc): r.label,
                t("value", loc): value,
                t("ci", loc): _interval(r.ci_low, r.ci_high),
                t("target", loc): target,
                t("attainment", loc): format_ratio(r.attainment),
                t("status", loc): format_status(r.status, loc),
                t("previous", loc): format_value(r.previous, r.unit, loc, rv.currency),
                t("change", loc): format_change(r.value, r.previous, kpi.is_rate),
                t("year_change", loc): format_change(r.value, r.year_ago, kpi.is_rate),
            }
        )
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None)


def small_sample_note(rv: review.KpiReview) -> Markdown:
    return Markdown(t("small_sample_note", rv.locale, n=rv.catalogue.small_sample))


def by_product(rv: review.KpiReview) -> pd.DataFrame:
    """KPIs as rows, products and `ALL` as columns: value, with attainment and status in brackets."""
    table = review.metrics_table(rv)
    groups = [*rv.products, ALL]
    rows = []
    for name in review.scorecard(rv)["metric"]:
        k = rv.catalogue[name]
        part = table[table["metric"] == name].set_index("product")
        row = {t("kpi", rv.locale): k.label(rv.locale)}
        for g in groups:
            text = format_value(part.at[g, "value"], k.unit, rv.locale, rv.currency)
            if pd.notna(part.at[g, "attainment"]):
                text += f" ({format_ratio(part.at[g, 'attainment'])} {format_status(part.at[g, 'status'], rv.locale)})"
            row[_group(rv, g)] = text
        rows.append(row)
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None)


def _channel(rv: review.KpiReview, name: str) -> str:
    return rv.channel_name(name)


def _custom(rv: review.KpiReview, table: str) -> list:
    return [k for k in rv.catalogue if table in k.tables]


def channels(rv: review.KpiReview, table: pd.DataFrame) -> pd.DataFrame:
    loc, cur = rv.locale, rv.currency
    rows = []
    for r in table.itertuples():
        row = {
            t("channel", loc): _channel(rv, r.channel),
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
        for k in _custom(rv, "channels"):
            row[k.label(loc)] = format_value(getattr(r, k.name), k.unit, loc, cur)
        rows.append(row)
    return pd.DataFrame(rows).set_index(t("channel", loc)).rename_axis(None)


# What the spend bought, row by row: (column of review.channels, unit, label key).
_RETURNS = (
    ("cost", "currency", "cost"),
    ("cost_per_lead", "currency", "cost_per_lead"),
    ("cost_per_mql", "currency", "cost_per_mql"),
    ("cost_per_sql", "currency", "cost_per_sql"),
    ("cost_per_opportunity", "currency", "cost_per_opportunity"),
    ("cost_per_won", "currency", "cost_per_won"),
    ("pipeline", "currency", "pipeline"),
    ("pipeline_to_spend", "multiple", "pipeline_to_spend"),
    ("revenue", "currency", "revenue"),
    ("roi", "rate", "roi"),
)


def returns(rv: review.KpiReview, table: pd.DataFrame) -> pd.DataFrame | Markdown:
    """What each channel's spend bought (`review.channels` over `review.spend_months`): a
    column per channel, a row per cost, the period in the corner; a sentence without spend."""
    loc, cur = rv.locale, rv.currency
    if not (table["cost"] > 0).any():
        return Markdown(t("no_spend", loc))
    out = {}
    for r in table.itertuples():
        column = {}
        for col, unit, key in _RETURNS:
            value = getattr(r, col)
            label = rv.label(key) if key in rv.catalogue else t(key, loc)
            if unit == "multiple":
                column[label] = "" if pd.isna(value) else f"{value:,.2f}×"
            else:
                column[label] = format_value(value, unit, loc, cur)
        out[_channel(rv, r.channel)] = column
    period = str(table["month"].iloc[0]).replace("..", " – ")
    return pd.DataFrame(out).rename_axis(period)


def stage_campaigns(
    rv: review.KpiReview, table: pd.DataFrame | None, top: int = 10
) -> pd.DataFrame | Markdown:
    """The campaigns that brought the most MQLs (`review.stage_campaigns`), `top` of them,
    with what each stage counted; a sentence when the stages name no campaign."""
    loc, cur = rv.locale, rv.currency
    if table is None:
        return Markdown(t("no_stage_campaigns", loc))
    rows = []
    for r in table[table["campaign_id"] != ALL].head(top).itertuples():
        name = getattr(r, "name", None)
        row = {
            t("campaign", loc): name
            if isinstance(name, str) and name
            else _channel(rv, r.campaign_id),
            **{
                rv.label(m): format_value(getattr(r, m), "count", loc)
                for m in review.CHANNEL_COUNTS[:5]
            },
            t("pipeline", loc): format_value(r.pipeline, "currency", loc, cur),
            rv.label("revenue"): format_value(r.revenue, "currency", loc, cur),
        }
        if (table["cost"] > 0).any():
            row[t("cost", loc)] = format_value(r.cost, "currency", loc, cur)
            row[t("cost_per_mql", loc)] = format_value(r.cost_per_mql, "currency", loc, cur)
        for k in _custom(rv, "campaigns"):
            row[k.label(loc)] = format_value(getattr(r, k.name), k.unit, loc, cur)
        rows.append(row)
    if not rows:
        return Markdown(t("no_stage_campaigns", loc))
    period = str(table["month"].iloc[0]).replace("..", " – ")
    return pd.DataFrame(rows).set_index(t("campaign", loc)).rename_axis(period)


def _bracket(low: float, high: float) -> str:
    text = _interval(low, high)
    return f"({text})" if text else ""


def campaigns(rv: review.KpiReview, table: pd.DataFrame) -> pd.DataFrame | Markdown:
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


def cohort_chart(rv: review.KpiReview, table: pd.DataFrame | None) -> Figure | Markdown:
    """The cohort heatmap of the SQL stage at the longest window (`plots.cohort_heatmap`), or
    the sentence saying why data of stage reports has no cohorts."""
    if table is None:
        return Markdown(t("not_followed", rv.locale))
    return plots.cohort_heatmap(
        table,
        stage="sql",
        window=max(rv.funnel_def.cohort_windows),
        stage_label=rv.funnel_def.stage("sql").label(rv.locale),
        locale=rv.locale,
        names=rv.labels.named("products", rv.locale),
    )


def cohorts(
    rv: review.KpiReview, table: pd.DataFrame | None, product: str = ALL
) -> pd.DataFrame | None:
    """Cohort months as rows; per stage and window the share reached, `判定前` while too young.
    None (nothing shown) when the data has no cohorts (`cohort_chart` says why)."""
    if table is None:
        return None
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


def velocity(rv: review.KpiReview, table: pd.DataFrame | None) -> pd.DataFrame | Markdown:
    """Products as rows, transitions as columns: median [p25–p75] days (n); a sentence when
    the data cannot follow a lead from stage to stage."""
    loc = rv.locale
    if table is None:
        return Markdown(t("not_followed_short", loc))
    rows = {}
    for r in table.itertuples():
        cell = "" if not r.n else f"{r.median:.0f} [{r.p25:.0f}–{r.p75:.0f}] ({int(r.n)})"
        rows.setdefault(_group(rv, r.product), {})[t(r.transition, loc)] = cell
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis(t("days_median", loc))


# ---------------------------------------------------------------- data quality (notebook 00)


def gaps(table: pd.DataFrame, locale: str = "ja") -> pd.DataFrame | Markdown:
    """Suspicious months (`quality.gaps`), or a sentence saying there are none."""
    if table.empty:
        return Markdown(t("no_gaps", locale))
    out = table.rename(columns={"month": t("month", locale), "what": t("what", locale)})
    return out.set_index(t("month", locale))


def listed_findings(table: pd.DataFrame, locale: str = "ja") -> pd.DataFrame | Markdown:
    """The findings table of the data-quality report, or a sentence saying there are none."""
    if table.empty:
        return Markdown(t("no_findings", locale))
    return table


def completeness(complete: int, total: int, locale: str = "ja") -> Markdown:
    """How many of the contract's columns have no empty value (`quality.completeness`)."""
    if complete == total:
        return Markdown(t("qc_all_complete", locale, total=total))
    incomplete = total - complete
    return Markdown(
        t("qc_complete_columns", locale, total=total, complete=complete, incomplete=incomplete)
    )


def incomplete_fields(table: pd.DataFrame) -> pd.DataFrame | None:
    """The columns with empty values (`quality.incomplete_fields`); nothing shown when none
    has one (`completeness` says so)."""
    return None if table.empty else table


def duplicate_pairs(
    pairs: pd.DataFrame, locale: str = "ja", limit: int = 30, skip: int = 0
) -> pd.DataFrame | Markdown:
    """The 名寄せ candidate pairs as people read them (already masked by `quality.duplicates`),
    the `limit` likeliest after the first `skip` (shown elsewhere)."""
    if pairs.empty:
        return Markdown(t("no_duplicates", locale))
    if skip >= len(pairs):
        return Markdown(t("qc_more_pairs", locale, shown=len(pairs)))
    rows = []
    for r in pairs.iloc[skip : skip + limit].itertuples():
        rows.append(
            {
                t("pair_left", locale): r.left,
                t("pair_right", locale): r.right,
                t("company", locale): " / ".join(
                    str(v) for v in (r.left_company, r.right_company) if isinstance(v, str)
                ),
                t("email", locale): " / ".join(
                    str(v) for v in (r.left_email, r.right_email) if isinstance(v, str) and v
                ),
                t("person_name", locale): " / ".join(
                    str(v) for v in (r.left_name, r.right_name) if isinstance(v, str) and v
                ),
                t("evidence", locale): r.evidence,
                t("confidence", locale): f"{r.confidence:.0%}",
            }
        )
    return pd.DataFrame(rows).set_index(t("pair_left", locale))


def quality_summary(
    month: str, first: pd.Timestamp, last: pd.Timestamp, timezone: str, locale: str = "ja"
) -> Markdown:
    """One line: the month reviewed and the period the data covers."""
    period = _period(first, last, timezone, locale)
    if locale == "ja":
        return Markdown(f"**対象月: {month}**　｜　{period}")
    return Markdown(f"**Month: {month}** | {period}")


# ---------------------------------------------------------------- product comparison
# Functions for notebooks/03_product_comparison.ipynb; `cmp` is a compare.ProductComparison.


def _signed_points(value: float) -> str:
    return "" if pd.isna(value) else f"{value * 100:+.1f}".replace("-", "−")


def _p_text(value: float) -> str:
    if pd.isna(value):
        return ""
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _k_of_n(k: float, n: float) -> str:
    return "" if pd.isna(n) else f"{k:,.0f} / {n:,.0f}"


def comparison_summary(cmp) -> Markdown:
    """One line: month, window, N, products, what they are compared with, alpha."""
    from .compare.statistics import REST

    loc, w = cmp.locale, cmp.window
    baseline = (
        t("cmp_baseline_rest", loc)
        if cmp.baseline == REST
        else t("cmp_product_named", loc, product=markdown_literal(cmp.name(cmp.baseline)))
    )
    tests = int(cmp.tests["p_value"].notna().sum()) if not cmp.tests.empty else 0
    return Markdown(
        t(
            "cmp_summary",
            loc,
            month=w.month,
            first=w.months[0],
            last=w.month,
            months=len(w.months),
            days=w.days,
            products=", ".join(markdown_literal(cmp.name(p)) for p in cmp.products),
            baseline=baseline,
            alpha=f"{cmp.alpha:g}",
            tests=tests,
        )
    )


def comparison_tests(cmp) -> pd.DataFrame:
    """The tests: per product and conversion the rate with its interval and counts, what it
    was compared with, the difference with its interval, the adjusted p-value and the verdict."""
    from .compare.statistics import REST

    loc = cmp.locale
    rows = []
    for r in cmp.tests.itertuples():
        if r.compared_with == REST:
            group = t("cmp_rest", loc)
        elif r.compared_with:
            group = t("cmp_product_named", loc, product=cmp.name(r.compared_with))
        else:
            group = ""
        diff = _signed_points(r.difference)
        if diff and pd.notna(r.difference_ci_low):
            low, high = _signed_points(r.difference_ci_low), _signed_points(r.difference_ci_high)
            diff += f" ({low} – {high})"
        rate = f"{format_value(r.value, 'rate', loc)} {_bracket(r.ci_low, r.ci_high)}"
        rows.append(
            {
                t("product", loc): cmp.name(r.product),
                t("cmp_metric", loc): cmp.label(r.metric),
                t("cmp_rate_ci", loc): rate,
                t("cmp_k_of_n", loc): _k_of_n(r.successes, r.n),
                t("cmp_compared_with", loc): group,
                t("cmp_compared_rate", loc): (
                    f"{format_value(r.compared_value, 'rate', loc)} "
                    f"({_k_of_n(r.compared_successes, r.compared_n)})"
                    if group and pd.notna(r.compared_n)
                    else ""
                ),
                f"{t('cmp_difference', loc)} [{t('cmp_points', loc)}]": diff,
                t("cmp_p_adjusted", loc): _p_text(r.p_adjusted),
                t("cmp_verdict", loc): t(f"cmp_v_{r.verdict}", loc) if r.verdict else "",
            }
        )
    keys = [t("product", loc), t("cmp_metric", loc)]
    return pd.DataFrame(rows).set_index(keys)


def _in_window(cmp, label: str) -> str:
    """A count's heading with the months it sums: the same product's MQLs are a month's,
    twelve months', a cohort's or the scoring report's judged leads on different pages."""
    months = cmp.window.months
    return t("cmp_in_window", cmp.locale, label=label, first=months[0], last=months[-1])


def product_quality(cmp, table: pd.DataFrame) -> pd.DataFrame:
    """Per product: MQLs and their MQL→SQL rate, and its shares of MQLs, SQLs, opportunities
    and revenue (as from `compare.mql_quality`)."""
    loc, cur = cmp.locale, cmp.currency
    rows = []
    measures = ("mqls", "sqls", "opportunities", "revenue")
    share = {m: t("cmp_share_of", loc, what=cmp.label(m)) for m in measures}
    for r in table.itertuples():
        rows.append(
            {
                t("product", loc): cmp.name(r.product),
                _in_window(cmp, cmp.label("mqls")): format_value(r.mqls, "count", loc),
                cmp.label("mql_to_sql"): (
                    f"{format_value(r.mql_to_sql, 'rate', loc)} "
                    f"{_bracket(r.mql_to_sql_ci_low, r.mql_to_sql_ci_high)}"
                ),
                share["mqls"]: format_value(r.mql_share, "rate", loc),
                share["sqls"]: format_value(r.sql_share, "rate", loc),
                share["opportunities"]: format_value(r.opportunity_share, "rate", loc),
                share["revenue"]: format_value(r.revenue_share, "rate", loc),
                _in_window(cmp, cmp.label("revenue")): format_value(
                    r.revenue, "currency", loc, cur
                ),
            }
        )
    return pd.DataFrame(rows).set_index(t("product", loc)).rename_axis(None)


def product_readiness(cmp, table: pd.DataFrame) -> pd.DataFrame:
    """Per product: the conversions it differs on, its MQLs and SQLs in the window, whether it
    is ready for its own scenarios and the next step (as from `compare.readiness`)."""
    loc = cmp.locale
    rows = []
    for r in table.itertuples():
        differs = []
        for item in filter(None, (s.strip() for s in r.differs.split(","))):
            metric, verdict = item.split(":")
            differs.append(f"{cmp.label(metric)}: {t(f'cmp_v_{verdict}', loc)}")
        rows.append(
            {
                t("product", loc): cmp.name(r.product),
                t("cmp_differs", loc): " / ".join(differs),
                _in_window(cmp, cmp.label("mqls")): format_value(r.mqls, "count", loc),
                _in_window(cmp, cmp.label("sqls")): format_value(r.sqls, "count", loc),
                t("cmp_ready", loc): t("cmp_yes" if r.ready else "cmp_no", loc),
                t("cmp_next", loc): t(f"cmp_s_{r.status}", loc),
            }
        )
    return pd.DataFrame(rows).set_index(t("product", loc)).rename_axis(None)


def gap_causes(rv: review.KpiReview, table: pd.DataFrame) -> HTML | None:
    """Each KPI of the whole business behind its target, with its cause in one sentence: the
    same as the month's page says (`reports/actions.py`); nothing when none is behind."""
    names = rv.labels.named("products", rv.locale)
    found = actions.kpi_gaps(
        table, rv.catalogue, rv.month, locale=rv.locale, currency=rv.currency, names=names
    )
    if not found:
        return None
    return bullet_list(
        [
            t("act_gap_line", rv.locale, label=g.label, value=g.value, target=g.target)
            + " "
            + g.cause
            for g in found
        ]
    )
