"""Pacing: will an additive KPI make its fiscal quarter and year, and what is needed per month.

For the quarter and the fiscal year holding the report month, `pace` adds up the months so
far, sets them against the target of the period (its own, or its months' added up), and
projects the period's total: the actual to date plus a forecast of the months that remain,
with 80% and 95% prediction intervals and the probability of reaching the target.

How the remaining months are forecast (`forecast`), and what it assumes:

- **run rate** (`run_rate`): the last n complete months (n = 12 when the data has them, never
  fewer than 2; fewer than 3 is flagged) are exchangeable draws around a constant mean: no
  trend, no season. The sum of the m remaining months is predicted by m × their mean, with
  the prediction interval of a future sum from a normal sample: Student's t with n − 1
  degrees of freedom and variance s²·(m + m²/n) (m months of new noise plus the mean's own
  error, counted m times). For a count, s² is at least the mean (the Poisson variance), so a
  lucky quiet history cannot give too narrow an interval.
- **seasonal** (`seasonal`): used only when the history holds at least 24 complete months and
  the months of the year differ more than noise would make them: each month's ratio to a
  straight line fitted through the last two or three years, grouped by calendar month, passes
  a one-way analysis of variance at the 5% level (`SEASON_TEST_P`). Each future month is then
  the level (the mean of the last 12 months, each divided by its month's index) times its
  calendar month's index (the mean of its ratios over those years); the variance adds the
  index's own error (one residual variance per year of history) to the run rate's two terms.
  On data with a constant rate the test keeps the run rate 19 times in 20.

Neither method follows a trend: a business that grows is projected at its recent level, below
where it ends; the backtest (`pacing_backtest.backtest`) measures how often the intervals held on the data's
own history. The lower bounds never fall below the actual to date for a KPI whose months are
never negative (what is counted or summed cannot be taken back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ...backends import engines
from ...core.months import month_range
from ...core.schema import ALL
from ...metrics import compute as mx
from ...metrics.catalogue import Kpi
from ...metrics.specs import Count
from .review import KpiReview, data_period, status_of

PACING_CSV_COLUMNS = [
    "kpi",
    "product",
    "period",
    "period_name",
    "months_elapsed",
    "months_total",
    "actual",
    "target",
    "target_source",
    "pro_rata_target",
    "attainment",
    "projection",
    "low80",
    "high80",
    "low95",
    "high95",
    "method",
    "needed_per_month",
    "probability",
    "status",
    "small_sample",
    "missing_months",
]
METHODS = ("auto", "run_rate", "seasonal")
RUN_RATE_MONTHS = 12  # the run rate's window: a whole year, so no season weighs twice
MIN_HISTORY = 2  # fewer complete months give no variance, hence no interval
SMALL_HISTORY = 3  # fewer months than this: the interval rests on too little, flagged
SEASON_MONTHS = 24  # two years: every calendar month seen twice before its index is used
SEASON_TEST_P = 0.05
HISTORY_MONTHS = 36  # what the review reads back: three years of seasons at most
LEVELS = (0.80, 0.95)


# ---------------------------------------------------------------- fiscal periods


@dataclass(frozen=True)
class FiscalPeriod:
    """A fiscal quarter or year: `kind` "quarter" or "year", its `name` ("FY2026-Q3",
    "FY2026": named by the calendar year the fiscal year starts in) and its months."""

    kind: str
    name: str
    months: tuple[str, ...]


def fiscal_year(month: str, start: int = 1) -> FiscalPeriod:
    """The fiscal year holding `month` when fiscal years begin in month `start` (1-12)."""
    period = pd.Period(month, freq="M")
    first = period - (period.month - start) % 12
    return FiscalPeriod("year", f"FY{first.year}", tuple(str(first + i) for i in range(12)))


def fiscal_quarter(month: str, start: int = 1) -> FiscalPeriod:
    """The fiscal quarter holding `month` ("FY2026-Q3" and its three months)."""
    period = pd.Period(month, freq="M")
    offset = (period.month - start) % 12
    year_first = period - offset
    first = year_first + offset // 3 * 3
    return FiscalPeriod(
        "quarter",
        f"FY{year_first.year}-Q{offset // 3 + 1}",
        tuple(str(first + i) for i in range(3)),
    )


@dataclass(frozen=True)
class PeriodTarget:
    """A period's target for one product: `value` (None when there is none), where it came
    from (`source`: "quarter" or "year" for the period's own entry, "months" for its months'
    targets added up, "" for none) and each month's target (`monthly`, for the pro-rata)."""

    value: float | None
    source: str
    monthly: tuple[float | None, ...] = ()

    def pro_rata(self, elapsed: int) -> float:
        """The target of the first `elapsed` months: their own targets when the period's is
        theirs added up, else the period's share by months; NaN without a target."""
        if self.value is None:
            return float("nan")
        if self.source == "months":
            return float(sum(v for v in self.monthly[:elapsed] if v is not None))
        return self.value * elapsed / max(len(self.monthly), 1)


def period_target(kpi: Kpi, period: FiscalPeriod, product: str) -> PeriodTarget:
    """The target of `period` for `product`: the period's own entry (`targets.quarters` or
    `targets.years`) when given, else the sum of its months' targets when every month has
    one (`Kpi.target`), else none: a missing month is not guessed."""
    monthly = tuple(kpi.target(m, product) for m in period.months)
    own = (kpi.quarter_targets if period.kind == "quarter" else kpi.year_targets).get(
        period.name, {}
    )
    if product in own:
        return PeriodTarget(own[product], period.kind, monthly)
    if all(v is not None for v in monthly):
        return PeriodTarget(float(sum(monthly)), "months", monthly)  # type: ignore[arg-type]
    return PeriodTarget(None, "", monthly)


# ---------------------------------------------------------------- the forecast


@dataclass(frozen=True)
class Forecast:
    """The forecast of the months after the history: each month's expected value (`mean`),
    the predictive variance of their running sum (`variance`, after 1, 2, ... months), the
    t distribution's degrees of freedom, the method, how many months and (for a count) how
    many events the level rests on."""

    method: str
    mean: tuple[float, ...]
    variance: tuple[float, ...]
    df: int
    history_months: int
    events: float

    def interval(self, horizon: int, level: float) -> tuple[float, float]:
        """The central `level` prediction interval of the sum of the first `horizon` months."""
        centre = float(sum(self.mean[:horizon]))
        half = float(stats.t.ppf(0.5 + level / 2, self.df)) * np.sqrt(self.variance[horizon - 1])
        return centre - half, centre + half

    def probability_at_least(self, horizon: int, amount: float) -> float:
        """The predictive probability that the first `horizon` months add up to `amount` or more."""
        centre = float(sum(self.mean[:horizon]))
        sd = float(np.sqrt(self.variance[horizon - 1]))
        if sd == 0:
            return float(centre >= amount)
        return float(stats.t.sf((amount - centre) / sd, self.df))


def seasonal_indices(history: pd.Series) -> tuple[dict[int, float], float, int] | None:
    """Each calendar month's index from the last two or three whole years of `history`
    (ratios to a straight line fitted through them, averaged per calendar month, scaled to
    average 1), the p-value of the one-way analysis of variance of those ratios by calendar
    month, and the number of years; None when the history is shorter than 24 months or the
    line is not positive throughout (a ratio to it would mean nothing), or a calendar month
    is zero in every year."""
    years = min(len(history) // 12, 3)
    if years < 2:
        return None
    part = history.iloc[-12 * years :]
    x = np.arange(len(part), dtype="float64")
    y = part.to_numpy(dtype="float64")
    line = np.polyval(np.polyfit(x, y, 1), x)
    if (line <= 0).any():
        return None
    ratio = pd.Series(y / line, index=[pd.Period(m, freq="M").month for m in part.index])
    groups = [g.to_numpy() for _, g in ratio.groupby(level=0)]
    within = sum(((g - g.mean()) ** 2).sum() for g in groups)
    between = sum(len(g) * (g.mean() - ratio.mean()) ** 2 for g in groups)
    df_between, df_within = len(groups) - 1, len(ratio) - len(groups)
    if within == 0:
        p = 0.0 if between > 0 else 1.0
    else:
        p = float(stats.f.sf((between / df_between) / (within / df_within), df_between, df_within))
    means = ratio.groupby(level=0).mean()
    if (means <= 0).any():  # a calendar month that never happened cannot scale a level
        return None
    means = means / means.mean()
    return {int(k): float(v) for k, v in means.items()}, p, years


def forecast(
    history: pd.Series, future: Sequence[str], *, count: bool, method: str = "auto"
) -> Forecast | None:
    """The forecast of the `future` months from `history` (complete months "YYYY-MM" ->
    value, oldest first, ending just before `future`), by the module's rules: `method`
    "auto" (seasonal when the test says so, else the run rate), "run_rate" or "seasonal"
    (seasonal whenever 24 months allow it, untested). None with fewer than 2 months."""
    values = history.dropna()
    n = min(len(values), RUN_RATE_MONTHS)
    if n < MIN_HISTORY or not future:
        return None
    recent = values.iloc[-n:].to_numpy(dtype="float64")
    season = seasonal_indices(values) if method in ("auto", "seasonal") else None
    use_season = season is not None and (method == "seasonal" or season[1] < SEASON_TEST_P)
    m = len(future)
    if not use_season:
        mean = float(recent.mean())
        var = float(recent.var(ddof=1))
        if count:
            var = max(var, mean)
        h = np.arange(1, m + 1, dtype="float64")
        return Forecast(
            "run_rate", (mean,) * m, tuple(var * (h + h**2 / n)), n - 1, n, float(recent.sum())
        )
    index, _, years = season  # type: ignore[misc]
    past = np.array([index[pd.Period(x, freq="M").month] for x in values.index[-n:]])
    ahead = np.array([index[pd.Period(x, freq="M").month] for x in future])
    level_values = recent / past
    level = float(level_values.mean())
    var = float(level_values.var(ddof=1))
    if count:  # a month's Poisson variance, level × index, in deseasonalised units
        var = max(var, float(np.mean(level / past)))
    squares = np.cumsum(ahead**2)
    sums = np.cumsum(ahead)
    h = np.arange(1, m + 1, dtype="float64")
    variance = var * (squares + sums**2 / n + h / years)
    return Forecast(
        "seasonal", tuple(level * ahead), tuple(variance), n - 1, n, float(recent.sum())
    )


# ---------------------------------------------------------------- pacing of one period


@dataclass(frozen=True)
class Pacing:
    """One KPI's pacing for one product over one fiscal period (see the module's docstring).

    `actual` is the period's total so far (months_elapsed months, the report month last);
    `attainment` = actual / pro_rata_target; `projection` the expected total at the period's
    end, `low80`..`high95` its prediction intervals (NaN when nothing remains or the history
    is too short); `needed_per_month` what each remaining month must add to reach the target
    (0 once it is reached, NaN at the period's end when it was not); `probability` that the
    total reaches the target (for a lower-is-better KPI: stays at or below it); `status` the
    review's rule applied to projection / target. `path` is the projection's running total
    after each remaining month with its 80% band (the chart's), `cumulative_target` the
    pro-rata target after each month of the period.
    """

    kpi: str
    product: str
    period: str
    period_name: str
    months: tuple[str, ...]
    months_elapsed: int
    months_total: int
    actual: float
    target: float
    target_source: str
    pro_rata_target: float
    attainment: float
    projection: float
    low80: float
    high80: float
    low95: float
    high95: float
    method: str
    needed_per_month: float
    probability: float
    status: str
    small_sample: bool
    history_months: int
    higher_is_better: bool = True
    # months of the period so far that the data does not reach back to: its total so far is
    # then unknown, so the period is not judged (no status, no probability)
    missing_months: int = 0
    path: tuple[tuple[float, float, float], ...] = ()
    cumulative_target: tuple[float, ...] = field(default_factory=tuple)

    @property
    def months_remaining(self) -> int:
        return self.months_total - self.months_elapsed

    def row(self) -> dict[str, object]:
        """The `pacing.csv` row."""
        values = asdict(self)
        return {c: values[c] for c in PACING_CSV_COLUMNS}


def pace(
    history: pd.Series,
    period: FiscalPeriod,
    target: PeriodTarget,
    *,
    count: bool,
    kpi: str = "",
    product: str = ALL,
    higher_is_better: bool = True,
    on_track: float = 1.0,
    at_risk: float = 0.9,
    small_sample: int = 30,
    method: str = "auto",
) -> Pacing:
    """The pacing of `period` from `history` (complete months "YYYY-MM" -> value, oldest
    first; its last month is the report month, inside `period`; months before the data
    began are left out, not zero). Returns a `Pacing`; the forecast follows `forecast`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    history = history.sort_index()
    month = str(history.index[-1])
    elapsed = period.months.index(month) + 1
    total = len(period.months)
    remaining = period.months[elapsed:]
    actual = float(history.reindex(list(period.months[:elapsed])).fillna(0).sum())
    goal = np.nan if target.value is None else float(target.value)
    before = [m for m in period.months[:elapsed] if m not in history.index]
    pro_rata = target.pro_rata(elapsed)
    attainment = actual / pro_rata if pro_rata and not np.isnan(pro_rata) else np.nan
    cumulative = tuple(target.pro_rata(k) for k in range(1, total + 1))
    floor = actual if (history.dropna() >= 0).all() else -np.inf
    nan = float("nan")
    projection, bounds, path = actual, {lv: (nan, nan) for lv in LEVELS}, ()
    fc = forecast(history, remaining, count=count, method=method) if remaining else None
    used = fc.method if fc else ("actual" if not remaining else "")
    probability = nan
    if not remaining:
        if not np.isnan(goal):
            probability = float(actual >= goal if higher_is_better else actual <= goal)
    elif fc is None:
        projection = nan
    else:
        m = len(remaining)
        projection = actual + float(sum(fc.mean))
        for lv in LEVELS:
            low, high = fc.interval(m, lv)
            bounds[lv] = (max(actual + low, floor), actual + high)
        path = tuple(
            (
                actual + float(sum(fc.mean[:h])),
                max(actual + fc.interval(h, 0.80)[0], floor),
                actual + fc.interval(h, 0.80)[1],
            )
            for h in range(1, m + 1)
        )
        if not np.isnan(goal):
            reach = fc.probability_at_least(m, goal - actual)
            probability = reach if higher_is_better else 1 - reach
    if before:
        probability = nan
    if np.isnan(goal) or before:
        needed = nan
    elif actual >= goal if higher_is_better else False:
        needed = 0.0
    else:
        needed = max(goal - actual, 0.0) / len(remaining) if remaining else nan
    score = pd.Series([np.nan])
    if not np.isnan(goal) and not np.isnan(projection) and goal != 0 and not before:
        if higher_is_better:
            score = pd.Series([projection / goal])
        else:
            score = pd.Series([goal / projection if projection else np.inf])
    n = fc.history_months if fc else min(len(history.dropna()), RUN_RATE_MONTHS)
    events = fc.events if fc else float(history.dropna().iloc[-n:].sum()) if n else 0.0
    small = bool(n < SMALL_HISTORY or (count and events < small_sample))
    return Pacing(
        kpi=kpi,
        product=product,
        period=period.kind,
        period_name=period.name,
        months=period.months,
        months_elapsed=elapsed,
        months_total=total,
        actual=actual,
        target=goal,
        target_source=target.source,
        pro_rata_target=pro_rata,
        attainment=float(attainment),
        projection=float(projection),
        low80=float(bounds[0.80][0]),
        high80=float(bounds[0.80][1]),
        low95=float(bounds[0.95][0]),
        high95=float(bounds[0.95][1]),
        method=used,
        needed_per_month=float(needed),
        probability=float(probability),
        status=str(status_of(score, on_track, at_risk).iloc[0]),
        small_sample=small,
        history_months=n,
        higher_is_better=higher_is_better,
        missing_months=len(before),
        path=path,
        cumulative_target=cumulative,
    )


# ---------------------------------------------------------------- the review's table


def history_months(rv: KpiReview, months: int = HISTORY_MONTHS) -> list[str]:
    """The months the pacing reads: up to `months` ending with the review's month, none
    before the data's first dated month (a month before the data is unknown, not zero)."""
    window = month_range(rv.month, months)
    first, _ = data_period(rv.dataset)
    if pd.isna(first):
        return [rv.month]
    start = str(pd.Period(first, freq="M"))
    return [m for m in window if m >= start]


def paced_values(
    rv: KpiReview,
    *,
    months: int = HISTORY_MONTHS,
    engine: str | engines.Engine | None = None,
) -> pd.DataFrame:
    """The paced KPIs' monthly values over `history_months`, per product and `ALL` (`month,
    product, metric, value`): the review's where it has them, the other months computed on
    `engine` (default: the review's) for the paced KPIs only."""
    names = rv.catalogue.paced
    wanted = history_months(rv, months)
    have = rv.values[rv.values["metric"].isin(names) & rv.values["month"].isin(wanted)]
    missing = [m for m in wanted if m not in set(have["month"])]
    parts = [have[["month", "product", "metric", "value"]]]
    if missing and names:
        specs = rv.catalogue.specs
        extra = mx.compute_metrics(
            rv.dataset,
            missing,
            specs=specs,
            names=names,
            engine=engine if engine is not None else rv.engine,
        )
        parts.append(extra[["month", "product", "metric", "value"]])
    return pd.concat(parts, ignore_index=True).sort_values("month", kind="stable")


def pacings(
    rv: KpiReview,
    *,
    months: int = HISTORY_MONTHS,
    method: str = "auto",
    values: pd.DataFrame | None = None,
    engine: str | engines.Engine | None = None,
) -> list[Pacing]:
    """Every paced KPI (`Catalogue.paced`) × the products and `ALL` × the quarter and the
    fiscal year holding the review's month. `ALL` is projected from its own months, not
    added up from the products' projections. In a product's own review its `ALL` is judged
    on that product's targets. `values`: `paced_values` when already computed."""
    cat = rv.catalogue
    values = values if values is not None else paced_values(rv, months=months, engine=engine)
    wide = values.pivot_table(
        index="month", columns=["metric", "product"], values="value", aggfunc="first"
    )
    owner = {ALL: rv.scope} if rv.scope else {}
    periods = (
        fiscal_quarter(rv.month, cat.fiscal_year_start),
        fiscal_year(rv.month, cat.fiscal_year_start),
    )
    out = []
    for name in cat.paced:
        kpi = cat[name]
        for product in [*rv.products, ALL]:
            if (name, product) not in wide.columns:
                continue
            history = wide[(name, product)].loc[: rv.month]
            for period in periods:
                out.append(
                    pace(
                        history,
                        period,
                        period_target(kpi, period, owner.get(product, product)),
                        count=isinstance(kpi.spec, Count),
                        kpi=name,
                        product=product,
                        higher_is_better=kpi.higher_is_better,
                        on_track=cat.on_track,
                        at_risk=cat.at_risk,
                        small_sample=cat.small_sample,
                        method=method,
                    )
                )
    return out


def pacing_table(items: Sequence[Pacing]) -> pd.DataFrame:
    """`pacing.csv`: one row per `Pacing` (`PACING_CSV_COLUMNS`)."""
    return pd.DataFrame([p.row() for p in items], columns=PACING_CSV_COLUMNS)
