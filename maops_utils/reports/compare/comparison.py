"""Products side by side: the same funnel measured for each product, and tests that say where
one product really differs from the others (docs/product-comparison.md).

**Window.** The comparison looks at the `months` months ending with the reported month M
(default 12); the cut-off is the end of M (first day of M+1, 00:00 local time), so re-running
an old month gives the same numbers. N (`window_days`) is the time a lead has to convert.

**Compared conversions** (proper proportions: the same people in numerator and denominator):

- `lead_to_mql`: of the leads created in the window's *mature* cohort months (end of the
  cohort month + N days <= cut-off), the share whose first MQL came within N days of creation
  (`funnel.cohort_conversion`, summed over those cohorts);
- `mql_to_sql`: of the leads whose first MQL falls in the window and that had N days to
  convert before the cut-off (first MQL <= cut-off − N days), the share whose first SQL came
  at most N days after that MQL (an SQL dated before the MQL counts, as in the cohort view);
- `win_rate`: won / (won + lost) over the opportunities closed in the window (the core
  metric's counts summed over the window's months; the opportunity's own product).

**Tests.** Each product against the other compared products pooled (`baseline="rest"`) or
against one named product. Fisher's exact test (two-sided) on the 2×2 table, Holm's
correction over every test of the report (the family), a verdict `higher` / `lower` only when
the adjusted p-value is below `alpha`, else `no_difference`; `too_few` (not tested, not in the
family) when either side has fewer than `min_n` people in the denominator. The difference
carries a 95% Newcombe hybrid score interval (from the two Wilson intervals), not adjusted.

Counts per product are the contract's core metrics from the metric engine summed over the
window's months; everything else is SQL on the comparison's engine (`engines.engine_for`).
Functions return frames of numbers; the notebook formats them with `views` and draws them with `plots`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...backends import engines, relations
from ...contract.dataset import Dataset
from ...core.errors import ConfigError, suggest
from ...core.i18n import t
from ...core.months import month_bounds, month_range
from ...core.schema import ALL
from ...metrics import compute as mx
from ...metrics import funnel
from ...metrics.labels import Labels
from ...metrics.specs import Spec
from ..kpi import review
from .statistics import REST, TESTED, _check_alpha, compare_rates

COUNT_METRICS: tuple[str, ...] = (
    "new_leads",
    "mqls",
    "sqls",
    "opportunities",
    "won_deals",
    "revenue",
)
SHARES: tuple[tuple[str, str], ...] = (
    ("mql_share", "mqls"),
    ("sql_share", "sqls"),
    ("opportunity_share", "opportunities"),
    ("revenue_share", "revenue"),
)
CHANNEL_COLUMNS = [
    "month",
    "product",
    "channel",
    "new_leads",
    "mqls",
    "cohort_leads",
    "cohort_mqls",
    "lead_to_mql",
    "ci_low",
    "ci_high",
    "cost",
    "cost_per_lead",
    "cost_per_mql",
]
CAMPAIGN_COLUMNS = [
    "month",
    "campaign_id",
    "name",
    "campaign_product",
    "product",
    *CHANNEL_COLUMNS[3:],
]
# A lead's acquisition campaign: the campaign of a form, webinar or event touch recorded
# within this long of its creation (booth scans, registrations and ad downloads create the
# lead and its first touch together; a touch months later is nurturing, not acquisition).
ACQUISITION_TYPES = ("form_submit", "webinar_attend", "event_attend")
ACQUISITION_SLACK_DAYS = 1
MAX_CAMPAIGNS = 15
MIN_READY_DEFAULT = 30


# ---------------------------------------------------------------- window and parameters


@dataclass(frozen=True)
class Window:
    """The months compared, the cut-off and the conversion time N."""

    month: str
    months: tuple[str, ...]  # oldest first, ending with `month`
    days: int

    @property
    def start(self) -> pd.Timestamp:
        return month_bounds(self.months[0])[0]

    @property
    def cutoff(self) -> pd.Timestamp:
        return month_bounds(self.month)[1]

    @property
    def mature_months(self) -> tuple[str, ...]:
        """Cohort months whose last lead had N days before the cut-off."""
        span = pd.Timedelta(days=self.days)
        return tuple(m for m in self.months if month_bounds(m)[1] + span <= self.cutoff)

    @property
    def last_mql(self) -> pd.Timestamp:
        """The latest first-MQL time that still had N days to reach SQL before the cut-off."""
        return self.cutoff - pd.Timedelta(days=self.days)


def comparison_window(month: str, months: int = 12, window_days: int = 90) -> Window:
    """The comparison window: `months` months ending with `month`, N = `window_days`.

    Args:
        month: the reported month "YYYY-MM".
        months: how many months, ending with `month` (1 to 60).
        window_days: days a lead has to convert (at least 1).

    Returns:
        The `Window`.

    Raises:
        ConfigError: a count out of range.
    """
    if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 60:
        raise ConfigError(
            f"comparison_months: {months!r} must be a whole number of months from 1 to 60"
        )
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1:
        raise ConfigError(f"window_days: {window_days!r} must be a whole number of days >= 1")
    return Window(month, tuple(month_range(month, months)), window_days)


def parse_products(products: str | Sequence[str], available: Sequence[str]) -> list[str]:
    """The products to compare, in the data's order.

    Args:
        products: comma-separated codes ("A, C") or a list; empty means every product.
        available: the dataset's products.

    Returns:
        The selected product codes.

    Raises:
        ConfigError: a code that is not in the data.
    """
    if isinstance(products, str):
        wanted = [p.strip() for p in products.split(",") if p.strip()]
    else:
        wanted = [str(p).strip() for p in products if str(p).strip()]
    if not wanted:
        return list(available)
    for code in wanted:
        if code not in available:
            raise ConfigError(
                f"products: no product '{code}' in the data{suggest(code, list(available))} "
                f"(products: {', '.join(available)}); list codes separated by commas, e.g. A,C"
            )
    return [p for p in available if p in set(wanted)]


def check_baseline(baseline: str, products: Sequence[str]) -> str:
    """`rest`, or a product among the compared ones (raises ConfigError otherwise)."""
    baseline = (baseline or REST).strip()
    if baseline == REST or baseline in products:
        return baseline
    raise ConfigError(
        f"baseline: '{baseline}' is neither 'rest' nor one of the compared products "
        f"({', '.join(products)}){suggest(baseline, [REST, *products])}; "
        "use rest, or a product code that is also in products"
    )


# ---------------------------------------------------------------- counting


def _sum_over_months(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return values.groupby([*keys, "metric"], sort=False, as_index=False)["value"].sum()


def window_counts(
    dataset: Dataset,
    window: Window,
    products: Sequence[str],
    *,
    specs: dict[str, Spec] | None = None,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """The core counts of every product summed over the window's months (on `engine`: see
    `engines.engine_for`).

    Returns:
        Rows `product, metric, value` for new_leads, mqls, sqls, opportunities, won_deals,
        revenue and closed_deals (won + lost closed in the window: the win rate's denominator).
    """
    names = [*COUNT_METRICS, "closed_deals"]
    values = mx.compute_metrics(
        dataset,
        list(window.months),
        specs=specs,
        names=names,
        groups={"product": list(products)},
        engine=engine,
    )
    values = values[values["product"] != ALL]
    return _sum_over_months(values, ["product"])


def _rows(
    dataset: Dataset, sql: str, *, engine: str | engines.Engine | None = None
) -> pd.DataFrame:
    """Rows of `sql` (DuckDB's dialect) on `engine` (`engines.run_query`: transpiled for it;
    DuckDB in this process by default)."""
    return engines.run_query(dataset, lambda dialect: relations.to_dialect(sql, dialect), engine)


def mql_to_sql_counts(
    dataset: Dataset, window: Window, *, engine: str | engines.Engine | None = None
) -> pd.DataFrame:
    """Per product: leads whose first MQL is in the window with N days left before the cut-off
    (`n`), and those whose first SQL came at most N days after that MQL (`successes`)."""
    sql = f"""
SELECT m.product,
  COUNT(*) AS n,
  CAST(SUM(CASE WHEN s.entered_at <= m.entered_at + INTERVAL 1 DAY * {window.days}
    AND s.entered_at < {relations.timestamp_literal(window.cutoff)} THEN 1 ELSE 0 END) AS BIGINT)
    AS successes
FROM first_stages AS m
LEFT JOIN first_stages AS s ON s.lead_id = m.lead_id AND s.stage = 'sql'
WHERE m.stage = 'mql'
  AND m.entered_at >= {relations.timestamp_literal(window.start)}
  AND m.entered_at <= {relations.timestamp_literal(window.last_mql)}
GROUP BY m.product
"""
    return _rows(dataset, sql, engine=engine)


def lead_to_mql_counts(
    dataset: Dataset, window: Window, *, engine: str | engines.Engine | None = None
) -> pd.DataFrame:
    """Per product: leads of the window's mature cohort months (`n`) and those that reached
    MQL within N days (`successes`), from the cohort view's own query
    (`funnel.compile_cohort_query`)."""
    sql = funnel.compile_cohort_query(
        window.month, cohorts=len(window.months), windows=(window.days,)
    )
    base = _rows(dataset, sql, engine=engine)
    base["cohort"] = pd.to_datetime(base["cohort_start"]).dt.strftime("%Y-%m")
    mature = base[(base["stage"] == "mql") & base["cohort"].isin(window.mature_months)]
    out = mature.groupby("product")[["reached", "leads"]].sum()
    return out.rename(columns={"reached": "successes", "leads": "n"}).reset_index()


def _rates(
    lead_mql: pd.DataFrame,
    mql_sql: pd.DataFrame,
    counts: pd.DataFrame,
    products: Sequence[str],
) -> pd.DataFrame:
    lead = lead_mql.set_index("product").to_dict("index")
    ms = mql_sql.set_index("product").to_dict("index")
    c = {(p, m): v for p, m, v in counts[["product", "metric", "value"]].itertuples(index=False)}
    rows = []
    for p in products:
        for metric, source in (("lead_to_mql", lead), ("mql_to_sql", ms)):
            got = source.get(p, {})
            rows.append((p, metric, got.get("successes", 0), got.get("n", 0)))
        rows.append((p, "win_rate", c.get((p, "won_deals"), 0), c.get((p, "closed_deals"), 0)))
    out = pd.DataFrame(rows, columns=["product", "metric", "successes", "n"])
    out[["successes", "n"]] = out[["successes", "n"]].astype("float64")
    return out


def _lead_query(window: Window) -> str:
    mature = window.mature_months
    mature_end = month_bounds(mature[-1])[1] if mature else window.start
    ts = relations.timestamp_literal
    types = ", ".join(f"'{a}'" for a in ACQUISITION_TYPES)
    return f"""
WITH acq AS (
  SELECT lead_id, campaign_id FROM (
    SELECT a.lead_id, a.campaign_id,
      ROW_NUMBER() OVER (PARTITION BY a.lead_id ORDER BY a.occurred_at, a.campaign_id) AS rn
    FROM activities_input AS a JOIN leads AS l ON a.lead_id = l.lead_id
    WHERE a.campaign_id IS NOT NULL AND a.activity_type IN ({types})
      AND a.occurred_at >= l.created_at - INTERVAL {ACQUISITION_SLACK_DAYS} DAY
      AND a.occurred_at <= l.created_at + INTERVAL {ACQUISITION_SLACK_DAYS} DAY
  ) AS ranked WHERE rn = 1
),
mql AS (
  SELECT lead_id, entered_at FROM first_stages
  WHERE stage = 'mql' AND entered_at < {ts(window.cutoff)}
),
flags AS (
  SELECT l.product, l.lead_source AS channel, acq.campaign_id,
    CASE WHEN l.created_at >= {ts(window.start)} AND l.created_at < {ts(window.cutoff)}
      THEN 1 ELSE 0 END AS new_lead,
    CASE WHEN m.entered_at >= {ts(window.start)} THEN 1 ELSE 0 END AS mql,
    CASE WHEN l.created_at >= {ts(window.start)} AND l.created_at < {ts(mature_end)}
      THEN 1 ELSE 0 END AS cohort_lead,
    CASE WHEN l.created_at >= {ts(window.start)} AND l.created_at < {ts(mature_end)}
      AND m.entered_at <= l.created_at + INTERVAL 1 DAY * {window.days} THEN 1 ELSE 0 END
      AS cohort_mql
  FROM leads AS l
  LEFT JOIN acq ON acq.lead_id = l.lead_id
  LEFT JOIN mql AS m ON m.lead_id = l.lead_id
)
"""


def lead_counts(
    dataset: Dataset,
    window: Window,
    dims: tuple[str, ...] = ("product",),
    *,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """Per group of `dims` (product, channel, campaign_id): leads created in the window,
    leads whose first MQL is in the window, the mature cohorts' leads and those of them that
    reached MQL within N days (the `lead_to_mql` definition, by any grouping).

    A lead's `campaign_id` is its acquisition campaign: the campaign of its first form,
    webinar or event touch within a day of its creation (empty when there is none).
    """
    keys = ", ".join(dims)
    sql = (
        _lead_query(window)
        + f"""
SELECT {keys},
  CAST(SUM(new_lead) AS BIGINT) AS new_leads, CAST(SUM(mql) AS BIGINT) AS mqls,
  CAST(SUM(cohort_lead) AS BIGINT) AS cohort_leads,
  CAST(SUM(cohort_mql) AS BIGINT) AS cohort_mqls
FROM flags GROUP BY {keys}
"""
    )
    return _rows(dataset, sql, engine=engine)


LEAD_GRID = ("product", "channel", "campaign_id")
LEAD_COUNTS = ["new_leads", "mqls", "cohort_leads", "cohort_mqls"]


# ---------------------------------------------------------------- the comparison


@dataclass
class ProductComparison:
    """Everything the product-comparison notebook shows, for one month."""

    dataset: Dataset
    window: Window
    products: list[str]
    baseline: str
    alpha: float
    min_n: int
    min_ready: int
    rates: pd.DataFrame  # product, metric, successes, n
    tests: pd.DataFrame  # `compare_rates`
    counts: pd.DataFrame  # product, metric, value: core counts summed over the window
    specs: dict[str, Spec] | None = None
    locale: str = "ja"
    currency: str = "JPY"
    labels: dict[str, str] = dataclasses.field(default_factory=dict)  # count metric -> label
    names: Labels = dataclasses.field(default_factory=Labels)  # the products' names
    # where the comparison's later queries run (cohorts, velocity, channels, campaigns): an
    # engine opened for `dataset`, or an engine name (None: DuckDB), opened per query
    engine: str | engines.Engine | None = None

    @property
    def month(self) -> str:
        return self.window.month

    @functools.cached_property
    def cohorts(self) -> pd.DataFrame:
        """`funnel.cohort_conversion` of the window's months for N days (when first used)."""
        return funnel.cohort_conversion(
            self.dataset,
            self.month,
            cohorts=len(self.window.months),
            windows=(self.window.days,),
            products=self.products,
            engine=self.engine,
        )

    @functools.cached_property
    def lead_grid(self) -> pd.DataFrame:
        """`lead_counts` by product, channel and acquisition campaign (one query over the
        activities, when first used): the channel and campaign tables sum it
        (`regroup_counts`) instead of each running the query."""
        return lead_counts(self.dataset, self.window, LEAD_GRID, engine=self.engine)

    @functools.cached_property
    def velocity(self) -> pd.DataFrame:
        """`funnel.velocity` for transitions ending in the window (computed when first used)."""
        return funnel.velocity(
            self.dataset,
            self.month,
            lookback_months=len(self.window.months),
            products=self.products,
            engine=self.engine,
        )

    def name(self, product: str, locale: str | None = None) -> str:
        """A product's name (params/labels.yaml), its code when it has none."""
        return self.names.name("products", product, locale or self.locale)

    def label(self, metric: str) -> str:
        """Display name of a count metric or a compared conversion, in the report's language."""
        if metric in TESTED:
            return metric_label(metric, self.locale, self.window.days)
        return self.labels.get(metric, metric)

    def stage_labels(self) -> dict[str, str]:
        """Funnel stage counts -> label, in funnel order."""
        return {m: self.label(m) for m in COUNT_METRICS if m != "revenue"}

    def rate_labels(self) -> dict[str, str]:
        """Compared conversions -> label, in funnel order."""
        return {m: self.label(m) for m in TESTED}

    def share_labels(self) -> dict[str, str]:
        """`mql_quality` share columns -> label."""
        return {s: t("cmp_share_of", self.locale, what=self.label(m)) for s, m in SHARES}

    def heatmap_panels(self) -> dict[str, tuple[str, str]]:
        """Columns of the channel and campaign heatmaps -> (label, unit)."""
        return {
            "new_leads": (t("cmp_leads", self.locale), "count"),
            "lead_to_mql": (self.label("lead_to_mql"), "rate"),
            "cost_per_mql": (t("cmp_cost_per_mql", self.locale), "currency"),
        }


def compare_products(
    dataset: Dataset,
    month: str,
    *,
    products: str | Sequence[str] = "",
    baseline: str = REST,
    alpha: float = 0.05,
    months: int = 12,
    window_days: int = 90,
    min_n: int = 30,
    min_ready: int = MIN_READY_DEFAULT,
    specs: dict[str, Spec] | None = None,
    labels: dict[str, str] | None = None,
    locale: str = "ja",
    currency: str = "JPY",
    engine: str | engines.Engine | None = None,
) -> ProductComparison:
    """Measure the funnel of every compared product over the window and test the differences.

    Args:
        dataset: a validated dataset.
        month: the reported month "YYYY-MM" (the window ends with it).
        products: codes to compare (comma-separated or a list); empty means all.
        baseline: `rest` or one of the compared products.
        alpha: family-wise error rate for the verdicts.
        months: length of the window in months.
        window_days: N, the days a lead has to convert.
        min_n: fewest people in a denominator for a test (`too_few` below).
        min_ready: fewest MQLs and SQLs in the window for a product to run on its own
            scenarios.
        specs: the catalogue's specs (default: the core catalogue).
        labels: display names of the count metrics (default: the core catalogue's).
        locale, currency: for the sentences and labels.
        engine: where every query of the comparison runs: "duckdb", "spark", or an
            `engines.Engine` opened for `dataset` (default: DuckDB in this process).

    Returns:
        A `ProductComparison`.
    """
    chosen = parse_products(products, dataset.products)
    base = check_baseline(baseline, chosen)
    window = comparison_window(month, months, window_days)
    alpha = _check_alpha(alpha)
    with engines.engine_for(dataset, engine) as eng:  # one engine for the three queries
        counts = window_counts(dataset, window, chosen, specs=specs, engine=eng)
        mql_sql = mql_to_sql_counts(dataset, window, engine=eng)
        lead_mql = lead_to_mql_counts(dataset, window, engine=eng)
    rates = _rates(lead_mql, mql_sql, counts, chosen)
    tests = compare_rates(rates, chosen, baseline=base, alpha=alpha, min_n=min_n)
    if labels is None:
        from ...metrics.catalogue import CORE

        labels = {m: CORE[m].label(_lang(locale)) for m in COUNT_METRICS}
    return ProductComparison(
        dataset,
        window,
        chosen,
        base,
        alpha,
        int(min_n),
        int(min_ready),
        rates,
        tests,
        counts,
        specs,
        locale,
        currency,
        dict(labels),
        engine=engine,
    )


def from_review(
    rv: review.KpiReview,
    *,
    products: str | Sequence[str] = "",
    baseline: str = REST,
    alpha: float = 0.05,
    months: int = 12,
    window_days: int = 0,
) -> ProductComparison:
    """`compare_products` for a loaded KPI review: its dataset, month, catalogue, language and
    engine (the queries run where the review's do: `engine` of the run settings).

    `window_days` 0 takes the longest of `cohort_windows` in params/funnel.yaml; `min_n` and
    `min_ready` are the catalogue's `small_sample` (params/kpis.yaml).
    """
    funnel.require_followed(rv.dataset, "the product comparison")
    days = int(window_days) or max(rv.funnel_def.cohort_windows)
    cmp = compare_products(
        rv.dataset,
        rv.month,
        products=products,
        baseline=baseline,
        alpha=alpha,
        months=months,
        window_days=days,
        min_n=rv.catalogue.small_sample,
        min_ready=rv.catalogue.small_sample,
        specs=rv.catalogue.specs,
        labels={m: rv.label(m) for m in COUNT_METRICS},
        locale=rv.locale,
        currency=rv.currency,
        engine=rv.engine,
    )
    return dataclasses.replace(cmp, names=rv.labels)


# ---------------------------------------------------------------- MQL quality


def mql_quality(cmp: ProductComparison) -> pd.DataFrame:
    """Per product: MQLs, MQL→SQL, and its share of MQLs, SQLs, opportunities and revenue.

    Shares are of the compared products' total in the window (counts are the core metrics).

    Returns:
        Rows per product: `product, mqls, mql_to_sql, mql_to_sql_ci_low, mql_to_sql_ci_high,
        sqls, opportunities, won_deals, revenue, mql_share, sql_share, opportunity_share,
        revenue_share`.
    """
    c = cmp.counts.pivot_table(index="product", columns="metric", values="value", aggfunc="sum")
    c = c.reindex(index=cmp.products, columns=list(COUNT_METRICS)).fillna(0.0)
    t_ = cmp.tests[cmp.tests["metric"] == "mql_to_sql"].set_index("product")
    out = pd.DataFrame({"product": cmp.products})
    out["mqls"] = c["mqls"].to_numpy()
    out["mql_to_sql"] = t_["value"].reindex(cmp.products).to_numpy()
    out["mql_to_sql_ci_low"] = t_["ci_low"].reindex(cmp.products).to_numpy()
    out["mql_to_sql_ci_high"] = t_["ci_high"].reindex(cmp.products).to_numpy()
    for metric in ("sqls", "opportunities", "won_deals", "revenue"):
        out[metric] = c[metric].to_numpy()
    for share, metric in SHARES:
        total = c[metric].sum()
        out[share] = c[metric].to_numpy() / total if total > 0 else np.nan
    return out


# ---------------------------------------------------------------- labels


def _lang(locale: str) -> str:
    return "ja" if locale == "ja" else "en"


def metric_label(metric: str, locale: str, days: int, *, in_sentence: bool = False) -> str:
    """Display name of a compared metric (with N for the conversions); inside an English
    sentence a capitalised word is lowered ("win rate"), acronyms stay ("MQL → SQL")."""
    label = t(f"cmp_{metric}", _lang(locale), days=days)
    if in_sentence and _lang(locale) == "en" and label[:2].istitle():
        return label[0].lower() + label[1:]
    return label
