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
window's months; everything else is SQL on `metrics.connect(dataset)`. Functions return frames
of numbers; the notebook formats them with `views` and draws them with `plots`.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from ...backends import engines, relations
from ...contract.dataset import Dataset
from ...core.errors import ConfigError, suggest
from ...core.i18n import t
from ...core.months import month_bounds, month_range
from ...core.schema import ALL
from ...core.stats import wilson_interval
from ...metrics import compute as mx
from ...metrics import funnel
from ...metrics.specs import Spec
from ..kpi import review

REST = "rest"
TESTED: tuple[str, ...] = ("lead_to_mql", "mql_to_sql", "win_rate")
VERDICTS: tuple[str, ...] = ("higher", "lower", "no_difference", "too_few", "baseline")
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
COMPARISON_COLUMNS = [
    "month",
    "product",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "successes",
    "compared_with",
    "compared_value",
    "compared_n",
    "compared_successes",
    "difference",
    "difference_ci_low",
    "difference_ci_high",
    "p_value",
    "p_adjusted",
    "verdict",
]
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


def _check_alpha(alpha: float) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ConfigError(f"alpha: {alpha!r} must be a number between 0 and 1, e.g. 0.05")
    return float(alpha)


# ---------------------------------------------------------------- statistics


def newcombe_interval(k1: float, n1: float, k2: float, n2: float) -> tuple[float, float]:
    """95% Newcombe hybrid score interval for p1 − p2 (Newcombe 1998, method 10).

    Args:
        k1, n1: successes and trials of the first group.
        k2, n2: the same for the second group.

    Returns:
        (low, high); NaN when either group has no trials.
    """
    if not (n1 > 0 and n2 > 0):
        return math.nan, math.nan
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = (float(x) for x in wilson_interval(k1, n1))
    l2, u2 = (float(x) for x in wilson_interval(k2, n2))
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test on successes k out of n in two groups."""
    table = [[int(k1), int(n1 - k1)], [int(k2), int(n2 - k2)]]
    return float(fisher_exact(table, alternative="two-sided").pvalue)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN and is not counted in the family).

    Args:
        p_values: raw p-values of the family.

    Returns:
        Adjusted p-values in the same order, each at most 1.
    """
    p = np.asarray(p_values, dtype="float64")
    out = np.full_like(p, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    if m == 0:
        return out
    order = tested[np.argsort(p[tested], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def compare_rates(
    rates: pd.DataFrame,
    products: Sequence[str],
    *,
    baseline: str = REST,
    alpha: float = 0.05,
    min_n: int = 30,
) -> pd.DataFrame:
    """Test every product against the rest (or the baseline product), metric by metric.

    Args:
        rates: rows `product, metric, successes, n` for every compared product and metric.
        products: the compared products.
        baseline: `rest` (the other compared products pooled) or a product code.
        alpha: the family-wise error rate; verdicts need a Holm-adjusted p below it.
        min_n: fewest people in each side's denominator for a test (fewer: `too_few`).

    Returns:
        One row per product and metric: `product, metric, value, ci_low, ci_high` (95% Wilson),
        `n, successes, compared_with` (`rest`, the baseline product, or empty for the baseline
        itself), `compared_value, compared_n, compared_successes` (the compared group pooled),
        `difference` (value − compared value, with its 95% Newcombe interval), `p_value` (Fisher, two-sided), `p_adjusted` (Holm over every
        tested row) and `verdict` (higher, lower, no_difference, too_few, baseline).
    """
    alpha = _check_alpha(alpha)
    table = {
        (p, m): (float(k), float(n))
        for p, m, k, n in rates[["product", "metric", "successes", "n"]].itertuples(index=False)
    }
    rows = []
    for metric in dict.fromkeys(rates["metric"]):
        for product in products:
            k, n = table[(product, metric)]
            low, high = wilson_interval(k, n)
            row = {
                "product": product,
                "metric": metric,
                "value": k / n if n > 0 else math.nan,
                "ci_low": float(low),
                "ci_high": float(high),
                "n": n,
                "successes": k,
                "compared_with": "",
                "compared_value": math.nan,
                "compared_n": math.nan,
                "compared_successes": math.nan,
                "difference": math.nan,
                "difference_ci_low": math.nan,
                "difference_ci_high": math.nan,
                "p_value": math.nan,
                "verdict": "",
            }
            if baseline == product:
                row["verdict"] = "baseline"
                rows.append(row)
                continue
            others = [p for p in products if p != product] if baseline == REST else [baseline]
            if not others:
                rows.append(row)
                continue
            k2 = sum(table[(p, metric)][0] for p in others)
            n2 = sum(table[(p, metric)][1] for p in others)
            row.update(
                compared_with=baseline,
                compared_value=k2 / n2 if n2 > 0 else math.nan,
                compared_n=n2,
                compared_successes=k2,
            )
            if n > 0 and n2 > 0:
                row["difference"] = row["value"] - row["compared_value"]
                row["difference_ci_low"], row["difference_ci_high"] = newcombe_interval(
                    k, n, k2, n2
                )
            if n < min_n or n2 < min_n:
                row["verdict"] = "too_few"
            else:
                row["p_value"] = fisher_p(int(k), int(n), int(k2), int(n2))
            rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS[1:])
    out["p_adjusted"] = holm(out["p_value"].to_numpy())
    tested = out["p_value"].notna()
    real = tested & (out["p_adjusted"] < alpha)
    out.loc[tested, "verdict"] = np.where(
        real[tested],
        np.where(out.loc[tested, "difference"] > 0, "higher", "lower"),
        "no_difference",
    )
    return out


# ---------------------------------------------------------------- counting


def _sum_over_months(values: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return values.groupby([*keys, "metric"], sort=False, as_index=False)["value"].sum()


def window_counts(
    dataset: Dataset,
    window: Window,
    products: Sequence[str],
    *,
    specs: dict[str, Spec] | None = None,
    con=None,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """The core counts of every product summed over the window's months (on `con`, else on
    `engine`: see `engines.lease`).

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
        con=con,
        engine=None if con is not None else engine,
    )
    values = values[values["product"] != ALL]
    return _sum_over_months(values, ["product"])


def _rows(
    dataset: Dataset, sql: str, *, con=None, engine: str | engines.Engine | None = None
) -> pd.DataFrame:
    """Rows of `sql` (DuckDB's dialect) where the comparison runs: on `con` when given, else
    on `engine` (`engines.run_query`: transpiled for it; DuckDB in this process by default)."""
    if con is not None:
        return con.execute(sql).df()
    return engines.run_query(dataset, lambda dialect: relations.to_dialect(sql, dialect), engine)


def mql_to_sql_counts(
    dataset: Dataset, window: Window, *, con=None, engine: str | engines.Engine | None = None
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
    return _rows(dataset, sql, con=con, engine=engine)


def lead_to_mql_counts(
    dataset: Dataset, window: Window, *, con=None, engine: str | engines.Engine | None = None
) -> pd.DataFrame:
    """Per product: leads of the window's mature cohort months (`n`) and those that reached
    MQL within N days (`successes`), from the cohort view's own query
    (`funnel.compile_cohort_query`)."""
    sql = funnel.compile_cohort_query(
        window.month, cohorts=len(window.months), windows=(window.days,)
    )
    base = _rows(dataset, sql, con=con, engine=engine)
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
    # where the comparison's later queries run (cohorts, velocity, channels, campaigns): an
    # engine opened for `dataset`, an engine name, or None for the current
    # `engines.use_engine` block, else DuckDB
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
            `engines.Engine` opened for `dataset` (default: the current
            `engines.use_engine` block, else DuckDB in this process).

    Returns:
        A `ProductComparison`.
    """
    chosen = parse_products(products, dataset.products)
    base = check_baseline(baseline, chosen)
    window = comparison_window(month, months, window_days)
    alpha = _check_alpha(alpha)
    # plain DuckDB: one connection for the three queries; an engine holds its own
    con = None if _on_engine(engine) else relations.connect(dataset)
    try:
        counts = window_counts(dataset, window, chosen, specs=specs, con=con, engine=engine)
        mql_sql = mql_to_sql_counts(dataset, window, con=con, engine=engine)
        lead_mql = lead_to_mql_counts(dataset, window, con=con, engine=engine)
    finally:
        if con is not None:
            con.close()
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
        engine,
    )


def _on_engine(engine: str | engines.Engine | None) -> bool:
    """Whether queries go to an engine rather than maops's plain DuckDB connection."""
    return isinstance(engine, engines.Engine) or engines.engine_name(engine) != "duckdb"


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
    days = int(window_days) or max(rv.funnel_def.cohort_windows)
    return compare_products(
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


# ---------------------------------------------------------------- channels and campaigns


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


def regroup_counts(grid: pd.DataFrame, dims: tuple[str, ...]) -> pd.DataFrame:
    """`lead_counts` by `dims` from a finer grid of it: the counts summed, an empty key kept
    as a group of its own (as SQL's GROUP BY keeps NULL), the groups in key order."""
    return grid.groupby(list(dims), dropna=False, sort=True)[LEAD_COUNTS].sum().reset_index()


def campaign_window_costs(dataset: Dataset, window: Window) -> pd.DataFrame:
    """Spend of every campaign placed in the window's months by the KPI review's rule
    (`review.campaign_costs`: spread evenly over the campaign's days, both included).

    Returns:
        Rows `campaign_id, product, channel, cost` for campaigns with spend in the window.
    """
    columns = ["campaign_id", "product", "channel", "cost"]
    if not dataset.has("campaigns") or "cost" not in dataset["campaigns"].columns:
        return pd.DataFrame(columns=columns)
    camp = dataset["campaigns"]
    # campaign_costs groups by `channel`: keyed by campaign_id it places each campaign alone.
    keyed = camp.assign(channel=camp["campaign_id"])
    ds = dataclasses.replace(dataset, tables={**dataset.tables, "campaigns": keyed})
    parts = [p for p in (review.campaign_costs(ds, m)[0] for m in window.months) if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    cost = pd.concat(parts).groupby("channel")["cost"].sum()
    info = camp.set_index("campaign_id")
    out = pd.DataFrame({"campaign_id": cost.index, "cost": cost.to_numpy()})
    for col in ("product", "channel"):
        out[col] = out["campaign_id"].map(info[col]) if col in info.columns else None
    return out[columns]


def _with_rates(out: pd.DataFrame) -> pd.DataFrame:
    k, n = out["cohort_mqls"].astype("float64"), out["cohort_leads"].astype("float64")
    out["lead_to_mql"] = (k / n.where(n > 0)).astype("float64")
    out["ci_low"], out["ci_high"] = wilson_interval(k, n)
    cost = out["cost"]
    out["cost_per_lead"] = (cost / out["new_leads"]).where(out["new_leads"] > 0)
    out["cost_per_mql"] = (cost / out["mqls"]).where(out["mqls"] > 0)
    return out


def product_channels(cmp: ProductComparison) -> pd.DataFrame:
    """`product_channel.csv`: per product and lead source over the window.

    `new_leads` and `mqls` are the core counts (engine, by the lead's product and source)
    summed over the window's months; `lead_to_mql` (with 95% Wilson interval) is the compared
    definition restricted to the channel; `cost` is the spend of the product's own campaigns
    whose channel equals the lead source, placed in the window as in channels.csv
    (cross-product campaigns are not split between products); cost per lead / MQL divide it.
    """
    ds, w = cmp.dataset, cmp.window
    values = mx.compute_metrics(
        ds,
        list(w.months),
        specs=cmp.specs,
        names=["new_leads", "mqls"],
        dims=("product", "lead_source"),
        groups={"product": cmp.products},
        engine=cmp.engine,
    )
    values = values[(values["product"] != ALL) & (values["lead_source"] != ALL)]
    wide = (
        _sum_over_months(values, ["product", "lead_source"])
        .pivot_table(index=["product", "lead_source"], columns="metric", values="value")
        .reindex(columns=["new_leads", "mqls"])
    )
    wide.index = wide.index.set_names(["product", "channel"])
    cohort = regroup_counts(cmp.lead_grid, ("product", "channel"))
    cohort = cohort.set_index(["product", "channel"])
    out = wide.join(cohort[["cohort_leads", "cohort_mqls"]], how="left").fillna(0).reset_index()
    out = out[(out["new_leads"] > 0) | (out["mqls"] > 0) | (out["cohort_leads"] > 0)]
    out = out[out["product"].isin(cmp.products)]
    spend = campaign_window_costs(ds, w).groupby(["product", "channel"])["cost"].sum()
    keys = pd.MultiIndex.from_frame(out[["product", "channel"]])
    out["cost"] = spend.reindex(keys).to_numpy(dtype="float64")
    out = _with_rates(out)
    out.insert(0, "month", w.month)
    order = {p: i for i, p in enumerate(cmp.products)}
    out = out.sort_values(
        ["product", "new_leads"], key=lambda s: s.map(order) if s.name == "product" else -s
    )
    return out[CHANNEL_COLUMNS].reset_index(drop=True)


def product_campaigns(cmp: ProductComparison, max_campaigns: int = MAX_CAMPAIGNS) -> pd.DataFrame:
    """Per acquisition campaign and product: the same columns as `product_channels`, for the
    `max_campaigns` campaigns that brought the most leads in the window.

    A campaign's cost (placed in the window) counts for its own product only; a cross-product
    campaign (empty product) shows no cost per lead or MQL.
    """
    ds, w = cmp.dataset, cmp.window
    counts = regroup_counts(cmp.lead_grid, ("product", "campaign_id"))
    counts = counts[counts["campaign_id"].notna() & counts["product"].isin(cmp.products)]
    top = (
        counts.groupby("campaign_id")["new_leads"].sum().sort_values(ascending=False, kind="stable")
    )
    top = top[top > 0].head(max_campaigns)
    out = counts[counts["campaign_id"].isin(top.index)].copy()
    out["name"], out["campaign_product"] = None, None
    if ds.has("campaigns"):
        camp = ds["campaigns"].set_index("campaign_id")
        out["name"] = out["campaign_id"].map(camp["name"])
        if "product" in camp.columns:
            out["campaign_product"] = out["campaign_id"].map(camp["product"])
    spend = campaign_window_costs(ds, w).set_index("campaign_id")["cost"]
    own = out["campaign_product"] == out["product"]
    out["cost"] = out["campaign_id"].map(spend).where(own).astype("float64")
    out = _with_rates(out)
    out.insert(0, "month", w.month)
    rank = {c: i for i, c in enumerate(top.index)}
    order = {p: i for i, p in enumerate(cmp.products)}
    out = out.sort_values(
        ["campaign_id", "product"],
        key=lambda s: s.map(rank) if s.name == "campaign_id" else s.map(order),
    )
    return out[CAMPAIGN_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------- tables for the CSV


def comparison_table(cmp: ProductComparison) -> pd.DataFrame:
    """`product_comparison.csv`: the tested conversions, then the window's counts and shares.

    Tested rows carry every column; count and share rows only `value` (and `n`, the compared
    products' total, for shares), with an empty verdict: they are described, not tested.
    """
    tested = cmp.tests.copy()
    rows = []
    counts = cmp.counts.pivot_table(
        index="product", columns="metric", values="value", aggfunc="sum"
    ).reindex(index=cmp.products, columns=list(COUNT_METRICS))
    counts = counts.fillna(0.0)
    for p in cmp.products:
        for metric in COUNT_METRICS:
            rows.append({"product": p, "metric": metric, "value": counts.at[p, metric]})
        for share, metric in SHARES:
            total = counts[metric].sum()
            rows.append(
                {
                    "product": p,
                    "metric": share,
                    "value": counts.at[p, metric] / total if total > 0 else np.nan,
                    "n": total,
                }
            )
    out = pd.concat([tested, pd.DataFrame(rows)], ignore_index=True)
    out["month"] = cmp.month
    for col in COMPARISON_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out["verdict"] = out["verdict"].fillna("")
    out["compared_with"] = out["compared_with"].fillna("")
    return out[COMPARISON_COLUMNS]


def report_tables(cmp: ProductComparison) -> dict[str, pd.DataFrame]:
    """The notebook's CSV tables by file name (without `.csv`)."""
    return {
        "product_comparison": comparison_table(cmp),
        "product_channel": product_channels(cmp),
    }


# ---------------------------------------------------------------- what to do


def _lang(locale: str) -> str:
    return "ja" if locale == "ja" else "en"


def metric_label(metric: str, locale: str, days: int, *, in_sentence: bool = False) -> str:
    """Display name of a compared metric (with N for the conversions); inside an English
    sentence a capitalised word is lowered ("win rate"), acronyms stay ("MQL → SQL")."""
    label = t(f"cmp_{metric}", _lang(locale), days=days)
    if in_sentence and _lang(locale) == "en" and label[:2].istitle():
        return label[0].lower() + label[1:]
    return label


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x * 100:.1f}%"


def _points(x: float) -> str:
    return f"{x * 100:+.1f}".replace("-", "−")


def _p(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def _group_name(cmp: ProductComparison, product: str, lang: str) -> str:
    """Who `product` is compared with: `B・C 合計` / `B and C combined`, or `商材 A`."""
    if cmp.baseline != REST:
        return t("cmp_product_named", lang, product=cmp.baseline)
    others = [p for p in cmp.products if p != product]
    if len(others) == 1:
        return t("cmp_product_named", lang, product=others[0])
    if lang == "ja":
        return t("cmp_combined", lang, products="・".join(others))
    return t("cmp_combined", lang, products=", ".join(others[:-1]) + " and " + others[-1])


def _counts_phrase(metric: str, k: float, n: float, lang: str) -> str:
    return t(f"cmp_of_{metric}", lang, k=f"{k:,.0f}", n=f"{n:,.0f}")


def _opposite(cmp: ProductComparison, row: pd.Series) -> str:
    """With baseline `rest`: another product differing the other way by more on the same
    metric (the pool `row` was compared with holds it), or ""."""
    if cmp.baseline != REST or row["verdict"] not in ("higher", "lower"):
        return ""
    other = "lower" if row["verdict"] == "higher" else "higher"
    same = cmp.tests[
        (cmp.tests["metric"] == row["metric"])
        & (cmp.tests["verdict"] == other)
        & (cmp.tests["product"] != row["product"])
        & (cmp.tests["difference"].abs() > abs(row["difference"]))
    ]
    return "" if same.empty else str(same.sort_values("difference", key=abs).iloc[-1]["product"])


def _finding(cmp: ProductComparison, row: pd.Series, lang: str) -> str:
    days = cmp.window.days
    text = t(
        f"cmp_finding_{row['verdict']}",
        lang,
        product=row["product"],
        metric=metric_label(row["metric"], lang, days, in_sentence=True),
        value=_pct(row["value"]),
        of=_counts_phrase(row["metric"], row["successes"], row["n"], lang),
        group=_group_name(cmp, row["product"], lang),
        other=_pct(row["compared_value"]),
        other_of=_counts_phrase(row["metric"], row["compared_successes"], row["compared_n"], lang),
        diff=_points(row["difference"]),
        low=_points(row["difference_ci_low"]),
        high=_points(row["difference_ci_high"]),
        p=_p(row["p_adjusted"], lang),
    )
    other = _opposite(cmp, row)
    if other:
        text += t("cmp_note_opposite", lang, other=other)
    return text


def _action(product: str, found: dict[str, str], lang: str) -> str:
    """The advice of a product's verdict pattern (only from verdicts the tests supported)."""
    lead, mql, win = found.get("lead_to_mql"), found.get("mql_to_sql"), found.get("win_rate")
    keys: list[str] = []
    if mql == "lower":
        keys.append("cmp_do_mql_lower_after_more_mql" if lead == "higher" else "cmp_do_mql_lower")
    elif mql == "higher":
        keys.append("cmp_do_mql_higher_after_less_mql" if lead == "lower" else "cmp_do_mql_higher")
    elif lead == "higher":
        keys.append("cmp_do_lead_higher")
    elif lead == "lower":
        keys.append("cmp_do_lead_lower")
    if win:
        keys.append(f"cmp_do_win_{win}")
    return ("" if lang == "ja" else " ").join(t(k, lang, product=product) for k in keys)


def readiness(cmp: ProductComparison) -> pd.DataFrame:
    """Whether each product needs its own treatment and has the data to run on its own.

    A product *differs* when a test gave it `higher` or `lower` on a compared conversion,
    leaving out findings that only mirror another product of the pooled rest differing the
    other way by more (those products are listed in `mirrors`). It is *ready* for its own
    scenarios when the window holds at least `min_ready` MQLs and `min_ready` SQLs of it
    (core counts): enough events to tune its own threshold and rules and to read their effect.

    Returns:
        Rows `product, differs` (metric:verdict, comma-separated), `mirrors`, `mqls, sqls,
        ready` and `status`: `own_scenarios` (differs and ready), `own_threshold_first`
        (differs, too little data), `shared_ok` (no difference of its own, ready),
        `shared_too_few` (no difference of its own, too little data) or `baseline`.
    """
    c = cmp.counts.pivot_table(index="product", columns="metric", values="value", aggfunc="sum")
    rows = []
    for p in cmp.products:
        mine = cmp.tests[cmp.tests["product"] == p]
        found, mirrors = {}, []
        for _, r in mine.iterrows():
            if r["verdict"] not in ("higher", "lower"):
                continue
            other = _opposite(cmp, r)
            if other:
                mirrors.append(other)
            else:
                found[r["metric"]] = r["verdict"]
        mqls = float(c["mqls"].get(p, 0.0)) if "mqls" in c else 0.0
        sqls = float(c["sqls"].get(p, 0.0)) if "sqls" in c else 0.0
        ready = mqls >= cmp.min_ready and sqls >= cmp.min_ready
        if p == cmp.baseline:
            status = "baseline"
        elif found:
            status = "own_scenarios" if ready else "own_threshold_first"
        else:
            status = "shared_ok" if ready else "shared_too_few"
        rows.append(
            {
                "product": p,
                "differs": ", ".join(f"{m}:{v}" for m, v in found.items()),
                "mirrors": ", ".join(dict.fromkeys(mirrors)),
                "mqls": mqls,
                "sqls": sqls,
                "ready": ready,
                "status": status,
            }
        )
    columns = ["product", "differs", "mirrors", "mqls", "sqls", "ready", "status"]
    return pd.DataFrame(rows, columns=columns)


def what_to_do(cmp: ProductComparison, locale: str | None = None) -> list[str]:
    """Per product: its tested findings with their numbers, what to do, and whether it is
    ready to run on its own scenarios; "no evidence of a difference" said as plainly.

    Only verdicts `higher` / `lower` of `compare_rates` are told as differences, and advice
    follows from them alone (not from a finding that only mirrors another product differing
    the other way by more). Products with findings come first.

    Args:
        cmp: the comparison.
        locale: "ja" or "en" (default the comparison's).

    Returns:
        Plain sentences (escape them for HTML, e.g. with `views.bullet_list`).
    """
    lang = _lang(locale or cmp.locale)
    if len(cmp.products) < 2:
        return [t("cmp_need_two", lang, products=", ".join(cmp.products) or "-")]
    days = cmp.window.days
    sep = "、" if lang == "ja" else "; "
    ready = readiness(cmp).set_index("product")
    blocks: list[tuple[int, int, list[str]]] = []
    for i, p in enumerate(cmp.products):
        mine = cmp.tests[cmp.tests["product"] == p]
        r = ready.loc[p]
        counts = {
            "product": p,
            "mqls": f"{r['mqls']:,.0f}",
            "sqls": f"{r['sqls']:,.0f}",
            "months": len(cmp.window.months),
            "min": cmp.min_ready,
        }
        if p == cmp.baseline:
            values = sep.join(
                f"{metric_label(m['metric'], lang, days, in_sentence=True)} {_pct(m['value'])}"
                for _, m in mine.iterrows()
                if pd.notna(m["value"])
            )
            blocks.append((1, i, [t("cmp_ready_baseline", lang, values=values, **counts)]))
            continue
        out: list[str] = []
        found: dict[str, str] = {}
        basis: list[str] = []
        for _, row in mine.iterrows():
            if row["verdict"] in ("higher", "lower"):
                out.append(_finding(cmp, row, lang))
                if not _opposite(cmp, row):
                    found[row["metric"]] = row["verdict"]
                    basis.append(_pair(row, lang, days))
        same = mine[mine["verdict"] == "no_difference"]
        if not same.empty:
            claimed = mine["verdict"].isin(["higher", "lower"]).any()
            key = "cmp_no_difference" if claimed else "cmp_no_difference_all"
            parts = sep.join(_pair(m, lang, days) for _, m in same.iterrows())
            out.append(t(key, lang, product=p, group=_group_name(cmp, p, lang), parts=parts))
        few = mine[mine["verdict"] == "too_few"]
        if not few.empty:
            parts = sep.join(
                t(
                    "cmp_few_item",
                    lang,
                    metric=metric_label(m["metric"], lang, days, in_sentence=True),
                    n=f"{m['n']:,.0f}",
                    other=f"{m['compared_n']:,.0f}",
                )
                for _, m in few.iterrows()
            )
            out.append(t("cmp_too_few", lang, product=p, parts=parts, min_n=cmp.min_n))
        action = _action(p, found, lang)
        if action:
            out.append(t("cmp_do", lang, product=p, basis=sep.join(basis)) + action)
        if r["mirrors"]:
            nodiff = t("cmp_nodiff_mirror", lang, others=r["mirrors"])
        else:
            nodiff = t("cmp_nodiff", lang)
        out.append(t(f"cmp_ready_{r['status']}", lang, nodiff=nodiff, **counts))
        blocks.append((0 if found else 1, i, out))
    blocks.sort(key=lambda b: b[:2])
    return [s for *_, out in blocks for s in out]


def _pair(row: pd.Series, lang: str, days: int) -> str:
    return t(
        "cmp_pair",
        lang,
        metric=metric_label(row["metric"], lang, days, in_sentence=True),
        value=_pct(row["value"]),
        other=_pct(row["compared_value"]),
    )


# ---------------------------------------------------------------- definitions


def definitions(cmp: ProductComparison, locale: str | None = None) -> pd.DataFrame:
    """The report's definitions (term, definition), with this run's N, window and alpha."""
    lang = _lang(locale or cmp.locale)
    w = cmp.window
    fmt = {
        "days": w.days,
        "months": len(w.months),
        "first": w.months[0],
        "last": w.month,
        "mature_last": w.mature_months[-1] if w.mature_months else "-",
        "alpha": f"{cmp.alpha:g}",
        "min_n": cmp.min_n,
        "min_ready": cmp.min_ready,
        "campaigns": MAX_CAMPAIGNS,
        "baseline": t("cmp_baseline_rest", lang)
        if cmp.baseline == REST
        else t("cmp_product_named", lang, product=cmp.baseline),
    }
    keys = (
        "window",
        "lead_to_mql",
        "mql_to_sql",
        "win_rate",
        "counts",
        "shares",
        "test",
        "verdicts",
        "ready",
        "channels",
        "campaigns",
    )
    rows = [
        {
            t("cmp_term", lang): t(f"cmp_def_{k}_term", lang, **fmt),
            t("cmp_definition", lang): t(f"cmp_def_{k}", lang, **fmt),
        }
        for k in keys
    ]
    return pd.DataFrame(rows).set_index(t("cmp_term", lang)).rename_axis(None)
