"""The monthly KPI review: metrics with targets, the scorecard, funnel and trend tables."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from IPython.display import Markdown

from . import metrics as mx
from .config import Kpi, RunSettings, check_month, load_catalogue
from .errors import ConfigError, Finding
from .i18n import STAGE_METRICS, format_ratio, format_value, t
from .schema import ALL
from .validation import Dataset, load_dataset

METRICS_CSV_COLUMNS = ["month", "product", "metric", "value", "target", "attainment"]


def data_period(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last timestamp found in leads, activities, stage changes and opportunities."""
    stamps = [
        dataset["leads"]["created_at"],
        dataset["activities"]["occurred_at"],
        dataset["stage_changes"]["changed_at"],
        dataset["opportunities"]["created_at"],
        dataset["opportunities"]["closed_at"],
    ]
    allv = pd.concat([s.dropna() for s in stamps])
    if allv.empty:
        raise ConfigError("the dataset holds no dated rows at all, so there is no month to report")
    return allv.min(), allv.max()


def resolve_month(dataset: Dataset, month: str | None, now: pd.Timestamp) -> str:
    """The month to report: `month` if given (checked), else the last complete month in the data.

    A month is complete once its last day has passed at run time (`now`, local time).
    """
    first, last = data_period(dataset)
    current = pd.Period(now, freq="M")
    if not month:
        latest = pd.Period(last, freq="M")
        return str(latest if latest < current else current - 1)
    check_month(month)
    period = pd.Period(month, freq="M")
    if period > current:
        raise ConfigError(
            f"month {month} has not started yet (now is {now:%Y-%m-%d}); choose a past month"
        )
    if period < pd.Period(first, freq="M") or period > pd.Period(last, freq="M"):
        raise ConfigError(
            f"month {month} is outside the data, which covers {first:%Y-%m} to {last:%Y-%m}; "
            "choose a month in that range or check --data"
        )
    return month


def with_targets(values: pd.DataFrame, catalogue: dict[str, Kpi]) -> pd.DataFrame:
    """Add `target` and `attainment` (value / target; empty where either is missing or target 0)."""
    out = values.copy()
    out["target"] = [
        (catalogue[m].target(mo, p) if m in catalogue else None)
        for mo, p, m in zip(out["month"], out["product"], out["metric"], strict=True)
    ]
    out["target"] = out["target"].astype("float64")
    valid = out["target"].notna() & (out["target"] != 0) & out["value"].notna()
    out["attainment"] = (out["value"] / out["target"]).where(valid)
    return out


@dataclass
class KpiReview:
    """Everything the KPI notebook and the runner need for one month."""

    dataset: Dataset
    catalogue: dict[str, Kpi]
    month: str
    months: list[str]
    products: list[str]
    values: pd.DataFrame  # month, product, metric, value, target, attainment for `months`
    locale: str = "ja"
    currency: str = "JPY"

    @property
    def findings(self) -> list[Finding]:
        return self.dataset.findings

    def label(self, metric: str) -> str:
        return self.catalogue[metric].label(self.locale) if metric in self.catalogue else metric

    def product_label(self, product: str) -> str:
        return t("all", self.locale) if product == ALL else product


def review(
    dataset: Dataset,
    catalogue: dict[str, Kpi],
    month: str,
    *,
    trend_months: int = 13,
    locale: str = "ja",
    currency: str = "JPY",
) -> KpiReview:
    """Compute the core metrics for `month` and the `trend_months - 1` months before it."""
    months = mx.month_range(month, max(trend_months, 2))
    values = with_targets(mx.compute_metrics(dataset, months), catalogue)
    return KpiReview(dataset, catalogue, month, months, dataset.products, values, locale, currency)


def load_review(settings: RunSettings, *, as_of: pd.Timestamp | None = None) -> KpiReview:
    """Load and validate the dataset and the catalogue, resolve the month, compute the review.

    `as_of` is the run time in local time (default: now); it decides the default month and
    which rows are "in the future".
    """
    now = as_of if as_of is not None else pd.Timestamp.now(tz=settings.timezone).tz_localize(None)
    dataset = load_dataset(
        settings.data_dir, timezone=settings.timezone, encoding=settings.encoding, as_of=now
    )
    catalogue = load_catalogue(settings.params_dir)
    month = resolve_month(dataset, settings.month, now)
    return review(
        dataset,
        catalogue,
        month,
        trend_months=settings.trend_months,
        locale=settings.locale,
        currency=settings.currency,
    )


def metrics_table(rv: KpiReview) -> pd.DataFrame:
    """The run's `metrics.csv`: every public metric, product and `ALL` for the reported month."""
    out = rv.values[rv.values["month"] == rv.month]
    return out[METRICS_CSV_COLUMNS].reset_index(drop=True)


def scorecard(rv: KpiReview, product: str = ALL) -> pd.DataFrame:
    """KGI first, then KPI, in catalogue order: value, target, attainment, previous month.

    Values are formatted for reading (the numbers themselves are in `metrics_table`).
    """
    prev = str(pd.Period(rv.month, freq="M") - 1)
    v = rv.values[rv.values["product"] == product].set_index(["month", "metric"])
    rows = []
    ordered = sorted(rv.catalogue.values(), key=lambda k: (k.tier != "KGI",))
    for kpi in ordered:
        if (rv.month, kpi.name) not in v.index:
            continue
        cur = v.loc[(rv.month, kpi.name)]
        before = v.loc[(prev, kpi.name), "value"] if (prev, kpi.name) in v.index else float("nan")
        change = (cur["value"] - before) / before if before and pd.notna(before) else float("nan")
        rows.append(
            {
                t("tier", rv.locale): kpi.tier,
                t("kpi", rv.locale): kpi.label(rv.locale),
                t("value", rv.locale): format_value(cur["value"], kpi.unit, rv.locale, rv.currency),
                t("target", rv.locale): format_value(
                    cur["target"], kpi.unit, rv.locale, rv.currency
                ),
                t("attainment", rv.locale): format_ratio(cur["attainment"]),
                t("previous", rv.locale): format_value(before, kpi.unit, rv.locale, rv.currency),
                t("change", rv.locale): (f"{change:+.0%}" if pd.notna(change) else ""),
            }
        )
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None)


def funnel(rv: KpiReview) -> pd.DataFrame:
    """Period funnel of the reported month: counts per stage, per product and `ALL`."""
    v = rv.values[(rv.values["month"] == rv.month) & rv.values["metric"].isin(STAGE_METRICS)]
    out = v[["product", "metric", "value"]].copy()
    out["stage"] = out["metric"].map(rv.label)
    out["order"] = out["metric"].map({m: i for i, m in enumerate(STAGE_METRICS)})
    group_order = {g: i for i, g in enumerate([*rv.products, ALL])}
    out["group"] = out["product"].map(group_order)
    return out.sort_values(["group", "order"]).drop(columns="group").reset_index(drop=True)


def trend(
    rv: KpiReview, metrics: tuple[str, ...] = ("new_leads", "mqls", "sqls", "won_deals")
) -> pd.DataFrame:
    """Monthly values and targets of `metrics` per product over the trend window."""
    v = rv.values[rv.values["metric"].isin(metrics) & (rv.values["product"] != ALL)]
    out = v[["month", "product", "metric", "value", "target"]].copy()
    out["label"] = out["metric"].map(rv.label)
    return out.reset_index(drop=True)


def findings_table(findings: list[Finding], locale: str = "ja") -> pd.DataFrame:
    cols = [t(k, locale) for k in ("severity", "table", "message", "rows")]
    rows = [[t(f.severity, locale), f.table, f.describe_short(), f.count] for f in findings]
    return pd.DataFrame(rows, columns=cols).set_index(cols[0]).rename_axis(None)


def summary(rv: KpiReview) -> str:
    """One Markdown line saying what the report covers."""
    first, last = data_period(rv.dataset)
    products = ", ".join(rv.products)
    if rv.locale == "ja":
        return (
            f"**対象月: {rv.month}**　｜　商材: {products}　｜　"
            f"データ期間: {first:%Y-%m-%d} 〜 {last:%Y-%m-%d}（{rv.dataset.timezone}）"
        )
    return (
        f"**Month: {rv.month}** | products: {products} | "
        f"data from {first:%Y-%m-%d} to {last:%Y-%m-%d} ({rv.dataset.timezone})"
    )


def scorecard_values(rv: KpiReview) -> pd.DataFrame:
    """The scorecard as numbers (for CSV): month, product, metric, tier, value, target, attainment,
    previous and change vs the previous month."""
    prev = str(pd.Period(rv.month, freq="M") - 1)
    cur = rv.values[rv.values["month"] == rv.month]
    before = rv.values[rv.values["month"] == prev][["product", "metric", "value"]]
    out = cur.merge(
        before.rename(columns={"value": "previous"}), on=["product", "metric"], how="left"
    )
    out["change"] = ((out["value"] - out["previous"]) / out["previous"]).where(out["previous"] != 0)
    out["tier"] = out["metric"].map(lambda m: rv.catalogue[m].tier if m in rv.catalogue else "KPI")
    cols = [
        "month",
        "product",
        "metric",
        "tier",
        "value",
        "target",
        "attainment",
        "previous",
        "change",
    ]
    return out[cols].reset_index(drop=True)


def product_table(rv: KpiReview) -> pd.DataFrame:
    """Metrics as rows, products and `ALL` as columns, formatted (attainment in brackets)."""
    cur = rv.values[rv.values["month"] == rv.month]
    groups = [*rv.products, ALL]
    rows = []
    for kpi in sorted(rv.catalogue.values(), key=lambda k: (k.tier != "KGI",)):
        part = cur[cur["metric"] == kpi.name].set_index("product")
        if part.empty:
            continue
        row = {t("kpi", rv.locale): kpi.label(rv.locale)}
        for g in groups:
            text = format_value(part.at[g, "value"], kpi.unit, rv.locale, rv.currency)
            if pd.notna(part.at[g, "attainment"]):
                text += f" ({format_ratio(part.at[g, 'attainment'])})"
            row[rv.product_label(g)] = text
        rows.append(row)
    return pd.DataFrame(rows).set_index(t("kpi", rv.locale)).rename_axis(None).rename_axis(None)


def quality_view(rv: KpiReview) -> pd.DataFrame | Markdown:
    """The findings as a table, or a sentence saying there are none."""
    if not rv.findings:
        return Markdown(t("no_findings", rv.locale))
    return findings_table(rv.findings, rv.locale)
