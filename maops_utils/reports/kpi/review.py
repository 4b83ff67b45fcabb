"""The monthly KPI review: every table the KPI notebook and `metrics.csv` are made of.

All counting goes through the metric engine (`metrics.compute_metrics`) with the catalogue's
definitions; this module adds targets, intervals, comparisons and status, and the views by
channel and by campaign. Functions return frames of numbers; `*_view` functions format them
for reading.

Where the queries run: `load_review` opens the engine of the run settings (`engine: duckdb |
spark`, docs/scale.md) once for the dataset and keeps it in the review, so the scorecard,
trend, channels, e-mail campaigns and the funnel's cohort and velocity queries all run on it
and a Spark session is started once. `KpiReview.close()` closes it (and stops a Spark that
the review started); the computed values stay usable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from ...backends import engines
from ...backends.relations import layout_of
from ...contract.dataset import Dataset
from ...contract.imported import check_currency
from ...contract.load import load_dataset
from ...core.errors import ConfigError, Finding
from ...core.i18n import t
from ...core.months import check_month, month_range, shift_month
from ...core.schema import ALL
from ...core.settings import RunSettings
from ...core.stats import wilson_interval
from ...metrics import compute as mx
from ...metrics.catalogue import Catalogue, load_catalogue
from ...metrics.labels import Labels, load_labels
from ...metrics.specs import Ratio, Sum
from ...metrics.spend import spend_by, spread_months, with_returns
from ...metrics.stages import Funnel, default_funnel, load_funnel
from ..quality.findings import kept_month_findings

CONTRACT_COLUMNS = ["month", "product", "metric", "value", "target", "attainment"]
METRICS_CSV_COLUMNS = [
    *CONTRACT_COLUMNS,
    "ci_low",
    "ci_high",
    "previous",
    "change",
    "year_ago",
    "year_change",
    "status",
    "small_sample",
]
STATUSES = ("on_track", "at_risk", "off_track")
FUNNEL_METRICS = ("new_leads", "mqls", "sqls", "opportunities", "won_deals")
# What channels.csv counts per channel; rates and costs follow from these.
CHANNEL_COUNTS = ("new_leads", "mqls", "sqls", "opportunities", "won_deals", "pipeline", "revenue")
# The amount of the opportunities created in the month: what a channel put into pipeline.
PIPELINE = Sum("opportunities", "created_at", "amount", ())
CAMPAIGN_METRICS = (
    "email_sends",
    "email_delivered",
    "email_open_rate",
    "email_ctr",
    "email_ctor",
    "unsubscribe_rate",
    "email_bounce_rate",
)


def data_period(dataset: Dataset) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last timestamp found in leads, activities, stage changes, opportunities and
    stage events; both NaT when no row is dated (a lead list with a score snapshot)."""
    stamps = [
        dataset["leads"]["created_at"],
        pd.Series(dataset.time_span("activities", "occurred_at"), dtype="datetime64[us]"),
        dataset["stage_changes"]["changed_at"],
        dataset["opportunities"]["created_at"],
        dataset["opportunities"]["closed_at"],
    ]
    if dataset.has("stage_events"):
        stamps.append(dataset["stage_events"]["occurred_at"])
    allv = pd.concat([s.dropna() for s in stamps])
    if allv.empty:
        return pd.NaT, pd.NaT
    return allv.min(), allv.max()


def resolve_month(dataset: Dataset, month: str | None, now: pd.Timestamp) -> str:
    """The month to report: `month` if given (checked), else the last complete month in the data.

    A month is complete once its last day has passed at run time (`now`, local time). Data
    dated nowhere (a lead list with a score snapshot) has no month of its own: the month must
    be given, and is taken as it is; nothing in the data is dated by it.
    """
    first, last = data_period(dataset)
    if pd.isna(first):
        if not month:
            raise ConfigError(
                "the dataset holds no dated rows at all, so there is no month to report: give "
                "the month the export was taken in (month, or --month YYYY-MM)"
            )
        first = last = None
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
    if first is not None and (
        period < pd.Period(first, freq="M") or period > pd.Period(last, freq="M")
    ):
        raise ConfigError(
            f"month {month} is outside the data, which covers {first:%Y-%m} to {last:%Y-%m}; "
            "choose a month in that range or check data_dir"
        )
    return month


# ---------------------------------------------------------------- the review


@dataclass
class KpiReview:
    """Everything the KPI notebook and the runner need for one month."""

    dataset: Dataset
    catalogue: Catalogue
    funnel_def: Funnel
    month: str
    months: list[str]  # the trend window, oldest first, ending with `month`
    products: list[str]
    values: pd.DataFrame  # month, product, metric, value (every catalogue metric, incl. internal)
    locale: str = "ja"
    currency: str = "JPY"
    # Where the review's further queries run (channels, campaigns, cohorts, velocity): an
    # engine opened for `dataset`, or an engine name (None: DuckDB), opened per query.
    engine: str | engines.Engine | None = None
    labels: Labels = field(default_factory=Labels)  # what the codes mean (params/labels.yaml)
    # the one product a per-product review covers ("": the whole business): its `ALL` is that
    # product's, judged against that product's targets
    scope: str = ""
    _closer: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def findings(self) -> list[Finding]:
        """The month's data-quality findings, the one list every report and the month's index
        show (`quality.findings.month_findings`)."""
        return kept_month_findings(self.dataset, self.month, self.months)

    def close(self) -> None:
        """Close the engine `load_review` opened, and stop a Spark it started. The values stay
        usable; functions that query again (`channels`, `email_campaigns`, `report_tables`)
        raise afterwards. Does nothing for a review that holds no engine of its own."""
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()

    def __enter__(self) -> KpiReview:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def label(self, metric: str) -> str:
        return self.catalogue[metric].label(self.locale) if metric in self.catalogue else metric

    def product_name(self, code: str) -> str:
        """A product's name (params/labels.yaml), the code when it has none; `ALL` is "all"."""
        return (
            t("all", self.locale)
            if code == ALL
            else self.labels.name("products", code, self.locale)
        )

    def channel_name(self, code: str) -> str:
        """A channel's name (params/labels.yaml); maops's own codes in the report's words."""
        if code == ALL:
            return t("all", self.locale)
        if code in ("sales_sourced", "unknown"):
            return t(code, self.locale)
        return self.labels.name("lead_sources", code, self.locale)


def review(
    dataset: Dataset,
    catalogue: Catalogue,
    month: str,
    *,
    funnel_def: Funnel | None = None,
    trend_months: int = 13,
    locale: str = "ja",
    currency: str = "JPY",
    engine: str | engines.Engine | None = None,
    labels: Labels | None = None,
) -> KpiReview:
    """Compute every catalogue metric for the trend window, the previous month and a year ago.

    `engine` is where this query and the review's later ones (channels, campaigns, funnel)
    run: an `engines.Engine` opened for `dataset` (left open), or "duckdb" (None) or "spark"
    for an engine opened per query (`engines.engine_for`).
    """
    months = month_range(month, max(trend_months, 1))
    wanted = sorted(set(months) | {shift_month(month, -1), shift_month(month, -12)})
    specs = catalogue.specs
    values = mx.compute_metrics(dataset, wanted, specs=specs, names=list(specs), engine=engine)
    return KpiReview(
        dataset,
        catalogue,
        funnel_def or default_funnel(),
        month,
        months,
        dataset.products,
        values,
        locale,
        currency,
        engine,
        labels or Labels(),
    )


@dataclass
class Inputs:
    """A run's settings read and its input validated: everything a review needs, checked,
    before anything is computed (the batch starts its kernels only once it has these)."""

    settings: RunSettings
    catalogue: Catalogue
    funnel_def: Funnel
    dataset: Dataset
    month: str
    labels: Labels = field(default_factory=Labels)
    product: str = ""  # the one product the inputs cover; "" = the whole business


def load_inputs(
    settings: RunSettings,
    *,
    as_of: pd.Timestamp | None = None,
    product: str = "",
    snapshot: str = "",
) -> Inputs:
    """Read the catalogue and funnel, load and validate the dataset, resolve the month.

    `as_of` is the run time in local time (default: now); it decides the default month and
    which rows are "in the future". With `product`, the inputs cover that product only.
    `snapshot`: the input as the run read it (`load_dataset`).
    """
    now = as_of if as_of is not None else pd.Timestamp.now(tz=settings.timezone).tz_localize(None)
    catalogue = load_catalogue(settings.params_dir)
    funnel_def = load_funnel(settings.params_dir)
    labels = load_labels(settings.params_dir)
    dataset = load_dataset(
        settings.data_dir,
        timezone=settings.timezone,
        encoding=settings.encoding,
        as_of=now,
        cache_dir=settings.cache_dir,
        snapshot=snapshot,
    )
    check_currency(
        settings.data_dir, settings.currency, dataset["spend"] if dataset.has("spend") else None
    )
    month = resolve_month(dataset, settings.month, now)
    if product:
        if product not in dataset.products:
            raise ConfigError(
                f"product '{product}' is not in the data (products: {', '.join(dataset.products)})"
            )
        dataset = dataset.for_product(product)
    return Inputs(settings, catalogue, funnel_def, dataset, month, labels, product)


def review_inputs(inputs: Inputs, *, engine: str | None = None) -> KpiReview:
    """The review of checked `inputs` (`load_inputs`), on one engine opened here.

    Every metric and funnel query of the review runs on that engine: `engine` ("duckdb" or
    "spark"; default: the settings' engine), on the settings' `spark_master` for Spark. The
    review keeps it open for `channels`, `email_campaigns` and `report_tables`; `rv.close()`
    (or `with ... as rv`) closes it and stops a Spark session it started. A process that ends
    stops its Spark too.
    """
    settings = inputs.settings
    name = engine or settings.engine
    eng = engines.open_engine(
        name,
        inputs.dataset,
        master=settings.spark_master if name == "spark" else None,
        stop_started_spark=True,
    )
    try:
        rv = review(
            inputs.dataset,
            inputs.catalogue,
            inputs.month,
            funnel_def=inputs.funnel_def,
            trend_months=settings.trend_months,
            locale=settings.locale,
            currency=settings.currency,
            engine=eng,
            labels=inputs.labels,
        )
        rv.scope = inputs.product
    except BaseException:
        eng.close()
        raise
    rv._closer = eng.close
    return rv


def load_review(
    settings: RunSettings,
    *,
    as_of: pd.Timestamp | None = None,
    product: str = "",
    engine: str | None = None,
    snapshot: str = "",
) -> KpiReview:
    """Load and validate the dataset and the catalogue, resolve the month, compute the review
    (`load_inputs`, then `review_inputs`)."""
    inputs = load_inputs(settings, as_of=as_of, product=product, snapshot=snapshot)
    return review_inputs(inputs, engine=engine)


# ---------------------------------------------------------------- metrics.csv


def status_of(score: pd.Series, on_track: float, at_risk: float) -> pd.Series:
    """The status of each score (attainment, or target ÷ value for a lower-is-better KPI):
    on_track, at_risk or off_track by the catalogue's thresholds; empty without a score."""
    out = np.select(
        [score >= on_track, score >= at_risk, score.notna()],
        ["on_track", "at_risk", "off_track"],
        default="",
    )
    return pd.Series(out, index=score.index)


def metrics_table(rv: KpiReview, month: str | None = None) -> pd.DataFrame:
    """`metrics.csv`: every public KPI, product and `ALL` for the month.

    The contract's columns come first, unchanged; then the 95% Wilson interval of rates
    (empty for counts and for ratios that are not a proportion), the previous month's value
    and the relative change, the same for the month a year before, the status against the
    target (thresholds from params/kpis.yaml; for lower-is-better KPIs judged on
    target / value), and whether a rate rests on fewer events than `small_sample`.
    """
    month = month or rv.month
    cat = rv.catalogue
    v = rv.values.set_index(["month", "product", "metric"])["value"]
    cur = rv.values[(rv.values["month"] == month) & rv.values["metric"].isin(cat.public)].copy()
    cur = cur[["month", "product", "metric", "value"]].reset_index(drop=True)

    def lookup(m: str, metric_of_row: pd.Series) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([[m] * len(cur), cur["product"], metric_of_row])
        return pd.Series(v.reindex(keys).to_numpy(), index=cur.index)

    # In a product's own review its whole business is that product: judged on its targets
    # (a KPI without one for the product has no status), never on the company's.
    owner = {ALL: rv.scope} if rv.scope else {}
    cur["target"] = [
        cat[m].target(month, owner.get(p, p))
        for p, m in zip(cur["product"], cur["metric"], strict=True)
    ]
    cur["target"] = cur["target"].astype("float64")
    valid = cur["target"].notna() & (cur["target"] != 0) & cur["value"].notna()
    cur["attainment"] = (cur["value"] / cur["target"]).where(valid)

    numer = cur["metric"].map(lambda m: cat[m].spec.numerator if cat[m].is_rate else None)
    denom = cur["metric"].map(lambda m: cat[m].spec.denominator if cat[m].is_rate else None)
    k = lookup(month, numer)
    n = lookup(month, denom)
    low, high = wilson_interval(k, n)
    cur["ci_low"], cur["ci_high"] = low, high
    cur["previous"] = lookup(shift_month(month, -1), cur["metric"])
    cur["change"] = ((cur["value"] - cur["previous"]) / cur["previous"].abs()).where(
        cur["previous"].notna() & (cur["previous"] != 0)
    )
    first, _ = data_period(rv.dataset)
    year_ago = shift_month(month, -12)
    if pd.notna(first) and pd.Period(year_ago, freq="M") >= pd.Period(first, freq="M"):
        cur["year_ago"] = lookup(year_ago, cur["metric"])
    else:  # the data does not reach back a year: no comparison rather than a false zero
        cur["year_ago"] = np.nan
    cur["year_change"] = ((cur["value"] - cur["year_ago"]) / cur["year_ago"].abs()).where(
        cur["year_ago"].notna() & (cur["year_ago"] != 0)
    )
    lower_better = cur["metric"].map(lambda m: not cat[m].higher_is_better)
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = (cur["target"] / cur["value"]).where(cur["target"].notna() & cur["value"].notna())
    inverse = inverse.where(cur["value"] != 0, np.inf).where(
        cur["target"].notna() & cur["value"].notna()
    )
    score = cur["attainment"].where(~lower_better, inverse)
    cur["status"] = status_of(score, cat.on_track, cat.at_risk)
    is_rate = cur["metric"].map(lambda m: cat[m].is_rate)
    cur["small_sample"] = is_rate & (n.fillna(0) < cat.small_sample)
    order = {m: i for i, m in enumerate(cat.public)}
    groups = {g: i for i, g in enumerate([*rv.products, ALL])}
    cur = cur.sort_values(
        ["metric", "product"], key=lambda s: s.map(order if s.name == "metric" else groups)
    )
    return cur[METRICS_CSV_COLUMNS].reset_index(drop=True)


def scorecard(rv: KpiReview, product: str = ALL) -> pd.DataFrame:
    """One product's rows of `metrics_table`, KGI first, with tier and unit beside them."""
    table = metrics_table(rv)
    out = table[table["product"] == product].copy()
    out["tier"] = out["metric"].map(lambda m: rv.catalogue[m].tier)
    out["unit"] = out["metric"].map(lambda m: rv.catalogue[m].unit)
    out["label"] = out["metric"].map(rv.label)
    out["tier_order"] = (out["tier"] != "KGI").astype(int)
    return (
        out.sort_values("tier_order", kind="stable")
        .drop(columns="tier_order")
        .reset_index(drop=True)
    )


def tables_for_output(
    table: pd.DataFrame, tables: dict[str, pd.DataFrame | None], product: str = ""
) -> dict[str, pd.DataFrame]:
    """The KPI report's CSV tables by file name: `metrics` (`table`, the month's KPIs: the
    batch reads its index headline from the whole business's; a product's report has its
    own, on the product's targets), then the report's further `tables` (`report_tables`)."""
    kept = {name: frame for name, frame in tables.items() if frame is not None}
    return {"metrics": table, **kept}


# ---------------------------------------------------------------- funnel, trend


def funnel(rv: KpiReview) -> pd.DataFrame:
    """Period funnel of the reported month: first entries per stage, per product and `ALL`."""
    v = rv.values[(rv.values["month"] == rv.month) & rv.values["metric"].isin(FUNNEL_METRICS)]
    out = v[["product", "metric", "value"]].copy()
    out["stage"] = out["metric"].map(rv.label)
    out["order"] = out["metric"].map({m: i for i, m in enumerate(FUNNEL_METRICS)})
    group_order = {g: i for i, g in enumerate([*rv.products, ALL])}
    out["group"] = out["product"].map(group_order)
    return out.sort_values(["group", "order"]).drop(columns="group").reset_index(drop=True)


def trend_metrics(rv: KpiReview) -> list[str]:
    """KPIs drawn in the trend (catalogue `trend: true`), KGI first."""
    marked = [k for k in rv.catalogue if k.trend and not k.internal]
    return [k.name for k in sorted(marked, key=lambda k: k.tier != "KGI")]


def trend(rv: KpiReview, metrics: list[str] | None = None) -> pd.DataFrame:
    """`trend.csv`: month, product, metric, value, target over the trend window for every
    public KPI (or `metrics`), products and `ALL`."""
    metrics = metrics if metrics is not None else rv.catalogue.public
    v = rv.values[rv.values["metric"].isin(metrics) & rv.values["month"].isin(rv.months)].copy()
    v["target"] = [
        rv.catalogue[m].target(mo, p)
        for mo, p, m in zip(v["month"], v["product"], v["metric"], strict=True)
    ]
    v["target"] = v["target"].astype("float64")
    order = {m: i for i, m in enumerate(metrics)}
    v = v.sort_values(
        ["metric", "month"], key=lambda s: s.map(order) if s.name == "metric" else s, kind="stable"
    )
    return v[["month", "product", "metric", "value", "target"]].reset_index(drop=True)


# ---------------------------------------------------------------- channels


def _engine(rv: KpiReview, engine: str | engines.Engine | None) -> str | engines.Engine | None:
    return engine if engine is not None else rv.engine


def channels(
    rv: KpiReview,
    month: str | None = None,
    *,
    months: Sequence[str] | None = None,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """`channels.csv`: per lead_source (and `ALL`) the month's leads, MQLs, SQLs,
    opportunities, won deals, pipeline (the amount of the opportunities created), revenue, MQL
    and SQL rate with Wilson intervals, the channel's spend (`metrics.spend.spend_by`) and what
    it bought: cost per lead, MQL, SQL, opportunity and won deal, pipeline-to-spend and ROI
    (`metrics.spend.with_returns`). Won deals and revenue follow the lead's source; deals
    without a lead are `sales_sourced`. A channel with spend and no row gets one.

    `months`: several months summed instead of one (the `month` column then names the
    first and last). The query runs on `engine` (default: the review's)."""
    months = list(months) if months else [month or rv.month]
    specs = {**rv.catalogue.specs, "pipeline": PIPELINE, **_custom(rv, "channels")}
    values = mx.compute_metrics(
        rv.dataset,
        months,
        specs=specs,
        names=[*CHANNEL_COUNTS, *_custom(rv, "channels")],
        dims=("lead_source",),
        engine=_engine(rv, engine),
    )
    wide = values.pivot_table(
        index="lead_source", columns="metric", values="value", sort=False, aggfunc="sum"
    )
    spend = spend_by(rv.dataset, months)
    extra = [c for c in spend.index if c not in wide.index]
    wide = wide.reindex(columns=[*CHANNEL_COUNTS, *_custom(rv, "channels")])
    if extra:  # before the whole business, which comes last
        wide = pd.concat([wide, pd.DataFrame(0.0, index=extra, columns=wide.columns)])
        wide = wide.reindex([*(c for c in wide.index if c != ALL), ALL])
    for rate, num, den in (("mql_rate", "mqls", "new_leads"), ("sql_rate", "sqls", "mqls")):
        wide[rate] = (wide[num] / wide[den]).where(wide[den] > 0)
        low, high = wilson_interval(wide[num], wide[den])
        wide[f"{rate}_ci_low"], wide[f"{rate}_ci_high"] = low, high
    wide = wide.rename_axis("channel").reset_index()
    wide = with_returns(wide, spend, "channel")
    wide.insert(0, "month", _period(months))
    return wide


# ---------------------------------------------------------------- e-mail campaigns


def email_campaigns(
    rv: KpiReview, month: str | None = None, *, engine: str | engines.Engine | None = None
) -> pd.DataFrame:
    """`campaigns.csv`: per campaign with e-mail sends in the month: sends, delivered, open
    rate, CTR, CTOR, unsubscribe and bounce rate, Wilson intervals for open rate and CTR, and
    the best and worst campaign by CTR among those with at least `small_sample` delivered.
    The query runs on `engine` (default: the review's)."""
    month = month or rv.month
    specs = {**rv.catalogue.specs, "email_bounce_rate": Ratio("email_bounces", "email_sends")}
    names = [*CAMPAIGN_METRICS, "email_open_pairs", "email_click_pairs"]
    values = mx.compute_metrics(
        rv.dataset,
        [month],
        specs=specs,
        names=names,
        dims=("campaign_id",),
        engine=_engine(rv, engine),
    )
    wide = values.pivot_table(index="campaign_id", columns="metric", values="value", sort=False)
    wide = wide[(wide.index != ALL) & (wide["email_sends"] > 0)].reindex(columns=names)
    for rate, num in (("email_open_rate", "email_open_pairs"), ("email_ctr", "email_click_pairs")):
        low, high = wilson_interval(wide[num], wide["email_delivered"])
        wide[f"{rate}_ci_low"], wide[f"{rate}_ci_high"] = low, high
    wide = wide.drop(columns=["email_open_pairs", "email_click_pairs"]).reset_index()
    if rv.dataset.has("campaigns"):
        names_by_id = rv.dataset["campaigns"].set_index("campaign_id")["name"]
        wide.insert(1, "name", wide["campaign_id"].map(names_by_id))
    else:
        wide.insert(1, "name", None)
    eligible = wide["email_delivered"] >= rv.catalogue.small_sample
    wide["flag"] = ""
    if eligible.any():
        ranked = wide[eligible].sort_values(
            ["email_ctr", "email_delivered"], ascending=[False, False]
        )
        wide.loc[ranked.index[0], "flag"] = "best"
        if len(ranked) > 1:
            wide.loc[ranked.index[-1], "flag"] = "worst"
    wide.insert(0, "month", month)
    return wide.sort_values("email_ctr", ascending=False, kind="stable").reset_index(drop=True)


def stage_campaigns(
    rv: KpiReview,
    months: Sequence[str] | None = None,
    *,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame | None:
    """`stage_campaigns.csv`: per campaign the leads, MQLs, SQLs, opportunities and won deals
    it brought over `months` (default: the review's month), with pipeline, revenue, spend
    (the spend table's, by campaign) and returns, most MQLs first. None when the data's
    stages carry no campaign (the leads have no `campaign_id` attribute and there are no
    stage events): each stage's campaign is then unknown."""
    layout = layout_of(rv.dataset)
    if "campaign_id" not in layout.of("leads") and not layout.events:
        return None
    months = list(months) if months else [rv.month]
    values = mx.compute_metrics(
        rv.dataset,
        months,
        specs={**rv.catalogue.specs, "pipeline": PIPELINE, **_custom(rv, "campaigns")},
        names=[*CHANNEL_COUNTS, *_custom(rv, "campaigns")],
        dims=("campaign_id",),
        engine=_engine(rv, engine),
    )
    wide = values.pivot_table(
        index="campaign_id", columns="metric", values="value", sort=False, aggfunc="sum"
    )
    wide = wide.rename_axis("campaign_id").reset_index()
    wide = with_returns(wide, spend_by(rv.dataset, months, "campaign_id"), "campaign_id")
    if rv.dataset.has("campaigns"):
        names = rv.dataset["campaigns"].set_index("campaign_id")["name"]
        wide.insert(1, "name", wide["campaign_id"].map(names))
    wide.insert(0, "month", _period(months))
    order = wide["campaign_id"].eq(ALL).map({True: 0, False: 1})
    wide = wide.assign(_o=order).sort_values(
        ["_o", "mqls", "new_leads"], ascending=[True, False, False], kind="stable"
    )
    return wide.drop(columns="_o").reset_index(drop=True)


def _custom(rv: KpiReview, table: str) -> dict:
    """The team's KPIs that ask (`tables:` in params/kpis.yaml) to be a column of `table`."""
    return {k.name: k.spec for k in rv.catalogue if table in k.tables}


def _period(months: Sequence[str]) -> str:
    return months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"


def spend_months(rv: KpiReview) -> list[str]:
    """The months the report's spend and returns cover: the period of spend that was spread
    over several months and covers the report month, else the month itself."""
    return spread_months(rv.dataset, rv.month) or [rv.month]


def report_tables(
    rv: KpiReview, *, engine: str | engines.Engine | None = None
) -> dict[str, pd.DataFrame | None]:
    """The tables of the KPI report beside `metrics.csv`, by file name (without `.csv`). A
    table the data cannot give is None, and not written: cohorts and velocity need leads
    followed through their stages (`Dataset.follows_leads`), campaigns per stage need stages
    that name their campaign.

    Every query runs on `engine` (default: the review's, see `load_review`)."""
    from ...metrics import funnel

    fd = rv.funnel_def
    eng = _engine(rv, engine)
    followed = rv.dataset.follows_leads
    window = spend_months(rv)
    return {
        "trend": trend(rv),
        "channels": channels(rv, engine=eng),
        "returns": channels(rv, months=window, engine=eng),
        "campaigns": email_campaigns(rv, engine=eng),
        "stage_campaigns": stage_campaigns(rv, window, engine=eng),
        "cohorts": funnel.cohort_conversion(
            rv.dataset,
            rv.month,
            cohorts=fd.cohorts,
            windows=fd.cohort_windows,
            products=rv.products,
            engine=eng,
        )
        if followed
        else None,
        "velocity": funnel.velocity(
            rv.dataset,
            rv.month,
            lookback_months=fd.velocity_months,
            products=rv.products,
            engine=eng,
        )
        if followed
        else None,
    }
