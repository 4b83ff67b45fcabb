"""Tables formatted for reading in the notebook and its HTML: labels in the report's language,
numbers formatted for the locale. Data strings stay text: pandas escapes them in HTML."""

from __future__ import annotations

import html

import pandas as pd
from IPython.display import HTML, Markdown

from ..core.errors import Finding
from ..core.i18n import format_ratio, format_value, t
from ..core.schema import ALL
from .kpi import review


def _pct(value: float) -> str:
    return "" if pd.isna(value) else f"{value:+.0%}"


def _interval(low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return ""
    return f"{low * 100:.1f}–{high * 100:.1f}%"


def _group(rv: review.KpiReview, product: str) -> str:
    return t("all", rv.locale) if product == ALL else product


def summary(rv: review.KpiReview) -> Markdown:
    first, last = review.data_period(rv.dataset)
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


def quality(rv: review.KpiReview) -> pd.DataFrame | Markdown:
    """The findings as a table, or a sentence saying there are none."""
    if not rv.findings:
        return Markdown(t("no_findings", rv.locale))
    return findings_table(rv.findings, rv.locale)


def scorecard(rv: review.KpiReview, product: str = ALL) -> pd.DataFrame:
    """KGI then KPI: value, interval, target, attainment, status, change vs last month and year."""
    rows = []
    for r in review.scorecard(rv, product).itertuples():
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
                text += f" ({format_ratio(part.at[g, 'attainment'])} {t(part.at[g, 'status'], rv.locale)})"
            row[_group(rv, g)] = text
        rows.append(row)
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None)


def channels(rv: review.KpiReview, table: pd.DataFrame) -> pd.DataFrame:
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


def cohorts(rv: review.KpiReview, table: pd.DataFrame, product: str = ALL) -> pd.DataFrame:
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


def velocity(rv: review.KpiReview, table: pd.DataFrame) -> pd.DataFrame:
    """Products as rows, transitions as columns: median [p25–p75] days (n)."""
    loc = rv.locale
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
    return table.rename(columns={"month": t("month", locale), "what": t("what", locale)})


def duplicate_pairs(
    pairs: pd.DataFrame, locale: str = "ja", limit: int = 30
) -> pd.DataFrame | Markdown:
    """The 名寄せ candidate pairs as people read them (already masked by `quality.duplicates`)."""
    if pairs.empty:
        return Markdown(t("no_duplicates", locale))
    rows = []
    for r in pairs.head(limit).itertuples():
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
    return pd.DataFrame(rows)


def quality_summary(
    month: str, first: pd.Timestamp, last: pd.Timestamp, timezone: str, locale: str = "ja"
) -> Markdown:
    """One line: the month reviewed and the period the data covers."""
    if locale == "ja":
        return Markdown(
            f"**対象月: {month}**　｜　データ期間: {first:%Y-%m-%d} 〜 {last:%Y-%m-%d}（{timezone}）"
        )
    return Markdown(
        f"**Month: {month}** | data from {first:%Y-%m-%d} to {last:%Y-%m-%d} ({timezone})"
    )


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
        else t("cmp_product_named", loc, product=cmp.baseline)
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
            products=", ".join(html.escape(p) for p in cmp.products),
            baseline=html.escape(baseline),
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
            group = t("cmp_product_named", loc, product=r.compared_with)
        else:
            group = ""
        diff = _signed_points(r.difference)
        if diff and pd.notna(r.difference_ci_low):
            low, high = _signed_points(r.difference_ci_low), _signed_points(r.difference_ci_high)
            diff += f" ({low} – {high})"
        rate = f"{format_value(r.value, 'rate', loc)} {_bracket(r.ci_low, r.ci_high)}"
        rows.append(
            {
                t("product", loc): r.product,
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
                t("product", loc): r.product,
                cmp.label("mqls"): format_value(r.mqls, "count", loc),
                cmp.label("mql_to_sql"): (
                    f"{format_value(r.mql_to_sql, 'rate', loc)} "
                    f"{_bracket(r.mql_to_sql_ci_low, r.mql_to_sql_ci_high)}"
                ),
                share["mqls"]: format_value(r.mql_share, "rate", loc),
                share["sqls"]: format_value(r.sql_share, "rate", loc),
                share["opportunities"]: format_value(r.opportunity_share, "rate", loc),
                share["revenue"]: format_value(r.revenue_share, "rate", loc),
                cmp.label("revenue"): format_value(r.revenue, "currency", loc, cur),
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
                t("product", loc): r.product,
                t("cmp_differs", loc): " / ".join(differs),
                cmp.label("mqls"): format_value(r.mqls, "count", loc),
                cmp.label("sqls"): format_value(r.sqls, "count", loc),
                t("cmp_ready", loc): t("cmp_yes" if r.ready else "cmp_no", loc),
                t("cmp_next", loc): t(f"cmp_s_{r.status}", loc),
            }
        )
    return pd.DataFrame(rows).set_index(t("product", loc)).rename_axis(None)


from typing import TYPE_CHECKING  # noqa: E402

# ---------------------------------------------------------------- lead scoring (02)

if TYPE_CHECKING:  # the scoring package is only needed by the scoring notebook
    from .scoring import ScoringStudy


def _sc_outcome(study: ScoringStudy) -> str:
    return t(f"sc_outcome_{study.config.evaluation.outcome}", study.locale)


def _sc_rate(rate: float, low: float, high: float, events: int, n: int) -> str:
    if not n:
        return ""
    return f"{rate * 100:.1f}% [{low * 100:.1f}–{high * 100:.1f}] ({events:,}/{n:,})"


def _sc_threshold(value: float | None, locale: str) -> str:
    return t("sc_none", locale) if value is None or pd.isna(value) else f"{value:g}"


def scoring_summary(study: ScoringStudy) -> HTML:
    """What was judged, when, against which outcome, and on how many leads."""
    loc, ev = study.locale, study.config.evaluation
    rows = study.rows
    closed = study.closed
    first = study.closed_months[0] if study.closed_months else study.month
    last = study.closed_months[-1] if study.closed_months else study.month
    items = [t("sc_source_scores" if study.source == "scores" else "sc_source_rules", loc)]
    items.append(
        t(
            f"sc_judged_{study.judged_at}",
            loc,
            first=rows["month"].min() if len(rows) else first,
            last=rows["month"].max() if len(rows) else last,
            n=len(rows),
        )
    )
    items.append(
        t(
            "sc_outcome_rule",
            loc,
            days=ev.window_days,
            outcome=_sc_outcome(study),
            censored=int((~rows["closed"]).sum()),
        )
    )
    events = int(closed["y"].sum())
    items.append(
        t(
            "sc_counts",
            loc,
            first=first,
            last=last,
            n=len(closed),
            events=events,
            non=len(closed) - events,
            rate=events / len(closed) if len(closed) else 0.0,
        )
    )
    check = study.mql_check
    if check.get("mqls"):
        key = "sc_mql_check" if check["explained"] >= 0.9 else "sc_mql_check_low"
        items.append(
            t(
                key,
                loc,
                n=int(check["mqls"]),
                share=check["explained"],
                threshold=study.current.mql_threshold,
            )
        )
    items += [t(f"sc_{key}", loc, **fmt) for key, fmt in study.notes if t(f"sc_{key}", loc)]
    return bullet_list(items)


def scoring_sample_note(study: ScoringStudy, scope: str = "all") -> Markdown:
    """The sample-size statement for a figure: `all` (every evaluated lead), `backtest` (the
    backtest's judged months) or `products` (one line per product)."""
    loc, min_events = study.locale, study.config.evaluation.min_events
    if scope == "backtest":
        parts = [(t("sc_scope_backtest", loc), study.backtest)]
    elif scope == "products":
        closed = study.closed
        parts = [
            (t("sc_scope_product", loc, product=p), closed[closed["product"] == p])
            for p in study.products
        ]
    else:
        parts = [(t("sc_scope_all", loc), study.closed)]
    lines = []
    for what, part in parts:
        events = int(part["y"].sum()) if len(part) else 0
        non = len(part) - events
        small = events < min_events or non < min_events
        key = "sc_sample_small" if small else "sc_sample_ok"
        lines.append(t(key, loc, what=what, events=events, non=non, min=min_events))
    return Markdown("\n\n".join(lines))


def scoring_bands(study: ScoringStudy, bands: pd.DataFrame, kind: str = "band") -> pd.DataFrame:
    """Bands (or rating cells) as rows, products and `ALL` as columns: rate [95%] (successes/n),
    then the uniform model's expected rate for the whole business."""
    loc = study.locale
    part = bands[bands["kind"] == kind]
    order = list(dict.fromkeys(part["band"]))
    out = pd.DataFrame(index=order)
    for product in dict.fromkeys(part["product"]):
        g = part[part["product"] == product].set_index("band")
        out[t("all", loc) if product == ALL else product] = [
            _sc_rate(r.rate, r.ci_low, r.ci_high, int(r.events), int(r.n))
            for r in g.reindex(order).itertuples()
        ]
    total = part[part["product"] == ALL].set_index("band").reindex(order)
    out[t("sc_expected", loc)] = [
        "" if pd.isna(v) else f"{v * 100:.1f}%" for v in total["expected"]
    ]
    if kind == "rating":
        out = out[total["n"].to_numpy() > 0]
    label = t("sc_rating" if kind == "rating" else "sc_band", loc)
    return out.rename_axis(label)


def scoring_metrics(study: ScoringStudy, table: pd.DataFrame) -> pd.DataFrame:
    """The backtest's metrics for the whole business: metrics as rows, models as columns."""
    loc = study.locale
    part = table[table["product"] == ALL].set_index("model")
    names = {
        "auc": ("sc_auc", "{:.3f}"),
        "brier": ("sc_brier", "{:.4f}"),
        "calibration_intercept": ("sc_cal_intercept", "{:+.2f}"),
        "calibration_slope": ("sc_cal_slope", "{:.2f}"),
        "lift_top_decile": ("sc_lift", "{:.2f}"),
        "n": ("sc_n", "{:,.0f}"),
        "events": ("sc_events", "{:,.0f}"),
    }
    out = pd.DataFrame(index=[t(key, loc) for key, _ in names.values()])
    for model in part.index:
        out[t(f"sc_{model}", loc)] = [
            "" if pd.isna(part.at[model, col]) else fmt.format(part.at[model, col])
            for col, (_, fmt) in names.items()
        ]
    return out.rename_axis(t("sc_metric", loc))


def scoring_thresholds(study: ScoringStudy) -> pd.DataFrame:
    """Per model and product: current and recommended threshold with the MQLs per month,
    precision and successes per month each would give."""
    loc = study.locale
    rows = []
    for r in study.recommendations.itertuples():
        group = t("all", loc) if r.product == ALL else r.product

        def pair(now: float, new: float, fmt: str) -> str:
            a = "" if pd.isna(now) else fmt.format(now)
            b = "" if pd.isna(new) else fmt.format(new)
            return f"{a} → {b}" if a and b else a or b

        rows.append(
            {
                t("sc_model", loc): t(f"sc_{r.model}", loc),
                t("product", loc): group,
                t("sc_threshold_now", loc): ""
                if pd.isna(r.current_threshold)
                else f"{r.current_threshold:g}",
                t("sc_recommended", loc): _sc_threshold(r.recommended, loc),
                t("sc_mqls_per_month", loc): pair(
                    r.current_mqls_per_month, r.mqls_per_month, "{:.1f}"
                ),
                t("sc_precision", loc): pair(r.current_precision, r.precision, "{:.0%}"),
                t("sc_sqls_per_month", loc): pair(
                    r.current_sqls_per_month, r.sqls_per_month, "{:.1f}"
                ),
            }
        )
    return pd.DataFrame(rows).set_index([t("sc_model", loc), t("product", loc)])


def scoring_threshold_sentence(study: ScoringStudy) -> Markdown:
    """The current threshold against the recommendation, for the whole business, in words."""
    loc, th = study.locale, study.config.thresholds
    rec = study.recommendations
    r = rec[(rec["model"] == "current") & (rec["product"] == ALL)].iloc[0]
    objective = t(
        f"sc_objective_{th.objective}", loc, capacity=th.capacity,
        precision=th.target_precision, value=th.sql_value, cost=th.mql_cost,
    )  # fmt: skip
    after = ""
    if pd.notna(r.recommended):
        after = t(
            "sc_threshold_after", loc, mqls=r.mqls_per_month, p=r.precision, s=r.sqls_per_month
        )
    text = t(
        "sc_threshold_now_rec", loc, now=r.current_threshold, mqls_now=r.current_mqls_per_month,
        p_now=r.current_precision, s_now=r.current_sqls_per_month, objective=objective,
        rec=_sc_threshold(r.recommended, loc) if pd.notna(r.recommended) else t("sc_no_fit", loc),
        after=after,
    )  # fmt: skip
    if study.judged_at == "mql":
        text += "\n\n" + t("sc_threshold_floor", loc)
    return Markdown(text)


def proposed_rules(study: ScoringStudy) -> pd.DataFrame:
    """The proposed points as an MA admin types them: kind, attribute, value, points, cap."""
    from .scoring.propose import rules_table

    loc = study.locale
    table = rules_table(study.proposed)
    table["kind"] = table["kind"].map(lambda k: t(f"sc_{k}", loc))
    table["value"] = [
        t("sc_empty_value", loc)
        if v == "" and k == t("sc_profile", loc)
        else (v or t("sc_any", loc))
        for k, v in zip(table["kind"], table["value"], strict=True)
    ]
    table["cap"] = ["" if pd.isna(c) else f"{c:.0f}" for c in table["cap"]]
    cols = {
        "kind": t("sc_kind", loc),
        "attribute": t("sc_attribute", loc),
        "value": t("sc_value", loc),
        "points": t("sc_points", loc),
        "cap": t("sc_cap", loc),
    }
    return table.rename(columns=cols).set_index([cols["kind"], cols["attribute"]])


def proposed_summary(study: ScoringStudy, metrics: pd.DataFrame) -> HTML:
    """How the proposed model compares on the backtest and how it is meant to be used."""
    loc = study.locale
    items = []
    part = metrics[metrics["product"] == ALL].set_index("model")
    if {"current", "proposed"} <= set(part.index) and pd.notna(part.at["proposed", "auc"]):
        items.append(
            t(
                "sc_proposed_auc",
                loc,
                cur=part.at["current", "auc"],
                prop=part.at["proposed", "auc"],
                cur_b=part.at["current", "brier"],
                prop_b=part.at["proposed", "brier"],
                n=int(part.at["proposed", "n"]),
                events=int(part.at["proposed", "events"]),
            )  # fmt: skip
        )
    rec = study.recommendations
    r = rec[(rec["model"] == "proposed") & (rec["product"] == ALL)].iloc[0]
    key = "sc_proposed_use_mql" if study.judged_at == "mql" else "sc_proposed_use_month_end"
    items.append(
        t(
            key,
            loc,
            current=study.current.mql_threshold,
            threshold=study.proposed.mql_threshold,
            mqls=r.mqls_per_month,
            precision=r.precision,
            sqls=r.sqls_per_month,
        )  # fmt: skip
    )
    items.append(t("sc_proposed_in_sample", loc))
    return bullet_list(items)


def scoring_products(
    study: ScoringStudy, products: pd.DataFrame, metrics: pd.DataFrame
) -> pd.DataFrame:
    """Per product: observed and expected success rate, their ratio and verdict, the backtest
    AUC of both models and the recommended thresholds."""
    from ..core.stats import wilson_interval

    loc = study.locale
    rec = study.recommendations.set_index(["model", "product"])["recommended"]
    auc = metrics.set_index(["model", "product"])["auc"]
    rows = []
    for r in products.itertuples():
        low, high = (r.observed, r.observed) if not r.n else wilson_interval(r.events, r.n)
        rows.append(
            {
                t("product", loc): t("all", loc) if r.product == ALL else r.product,
                t("sc_observed", loc): _sc_rate(r.observed, float(low), float(high), r.events, r.n),
                t("sc_expected", loc): "" if pd.isna(r.expected) else f"{r.expected * 100:.1f}%",
                t("sc_ratio", loc): ""
                if pd.isna(r.ratio)
                else f"{r.ratio:.2f} [{r.ratio_ci_low:.2f}–{r.ratio_ci_high:.2f}]",
                t("sc_flag", loc): t(f"sc_flag_{r.flag}", loc) if r.flag else "",
                t("sc_auc_current", loc): _sc_num(auc.get(("current", r.product))),
                t("sc_auc_proposed", loc): _sc_num(auc.get(("proposed", r.product))),
                t("sc_rec_current", loc): _sc_threshold(rec.get(("current", r.product)), loc),
                t("sc_rec_proposed", loc): _sc_threshold(rec.get(("proposed", r.product)), loc),
            }
        )
    return pd.DataFrame(rows).set_index(t("product", loc)).rename_axis(None)


def _sc_num(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.2f}"


def scoring_product_sentences(study: ScoringStudy, products: pd.DataFrame) -> HTML:
    """One sentence per product the uniform model over- or under-qualifies."""
    loc = study.locale
    items = [
        t(
            "sc_product_flag",
            loc,
            product=r.product,
            observed=r.observed,
            expected=r.expected,
            ratio=r.ratio,
            low=r.ratio_ci_low,
            high=r.ratio_ci_high,
            flag=t(f"sc_flag_{r.flag}", loc),
        )  # fmt: skip
        for r in products.itertuples()
        if r.product != ALL and r.flag in ("over", "under")
    ]
    return bullet_list(items)


def scoring_outcome(study: ScoringStudy) -> str:
    """The outcome's display name (SQL, opportunity, won) in the report's language."""
    return _sc_outcome(study)


def scoring_backtest_scope(study: ScoringStudy) -> HTML | Markdown:
    """Which months the backtest fitted on and which it judged on."""
    loc = study.locale
    if not (study.train_months and study.test_months):
        return Markdown(t("sc_note_no_backtest", loc))
    return bullet_list(
        [
            t(
                "sc_backtest",
                loc,
                train_first=study.train_months[0],
                train_last=study.train_months[-1],
                test_first=study.test_months[0],
                test_last=study.test_months[-1],
            )
        ]
    )
