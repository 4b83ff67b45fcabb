import math

import pandas as pd
import pytest
import sqlglot

from maops_utils.backends import relations
from maops_utils.core.months import month_bounds, month_labels, month_range
from maops_utils.metrics import compute as mx
from maops_utils.metrics.catalogue import CORE, CORE_METRICS
from maops_utils.metrics.specs import Count, Sum

import handmade

AS_OF = pd.Timestamp("2026-03-01 00:00")


@pytest.fixture(scope="module")
def dataset(handmade_ds):  # validated as of AS_OF (conftest.py)
    return handmade_ds


def _value(frame, product, metric):
    row = frame[(frame["product"] == product) & (frame["metric"] == metric)]
    assert len(row) == 1, (product, metric)
    return float(row["value"].iloc[0])


def test_core_metrics_match_hand_computation(dataset):
    got = mx.compute_metrics(dataset, [handmade.MONTH])
    assert set(got["metric"]) == set(CORE_METRICS)
    assert set(got["product"]) == {"A", "B", "C", "D", "ALL"}
    assert len(got) == len(CORE_METRICS) * 5
    for (product, metric), expected in handmade.EXPECTED.items():
        value = _value(got, product, metric)
        if math.isnan(expected):
            assert math.isnan(value), f"{product} {metric}: expected empty, got {value}"
        else:
            assert value == pytest.approx(expected, abs=1e-12), f"{product} {metric}"


def test_neighbouring_months_see_boundary_rows(dataset):
    got = mx.compute_metrics(dataset, ["2025-12", "2026-02"])
    dec = got[got["month"] == "2025-12"]
    feb = got[got["month"] == "2026-02"]
    # L6 only: L4's 2025-12-31T15:30Z is January in Tokyo
    assert _value(dec, "ALL", "new_leads") == 1
    assert _value(dec, "B", "mqls") == 1  # L6's first MQL entry
    assert _value(feb, "A", "new_leads") == 1  # L3 at 2026-02-01 00:00:00
    assert _value(feb, "A", "mqls") == 1  # L2
    assert _value(feb, "D", "won_deals") == 1 and _value(feb, "D", "revenue") == 2_000_000
    assert _value(feb, "C", "product_page_views") == 1


def test_month_with_no_data_gives_zero_counts_and_empty_rates(dataset):
    got = mx.compute_metrics(dataset, ["2024-06"])
    assert _value(got, "ALL", "new_leads") == 0
    assert _value(got, "ALL", "revenue") == 0
    assert math.isnan(_value(got, "ALL", "mql_rate"))
    assert math.isnan(_value(got, "ALL", "email_open_rate"))


def test_products_can_be_restricted_and_intermediates_exposed(dataset):
    specs = {n: k.spec for n, k in CORE.items()}
    names = ["closed_deals", "email_bounces", "email_open_pairs"]
    got = mx.compute_metrics(
        dataset, [handmade.MONTH], specs=specs, names=names, groups={"product": ["A"]}
    )
    assert set(got["product"]) == {"A", "ALL"}
    assert _value(got, "ALL", "closed_deals") == 3
    assert _value(got, "ALL", "email_bounces") == 2
    assert _value(got, "A", "email_open_pairs") == 3


def test_no_months_gives_an_empty_frame(dataset):
    assert mx.compute_metrics(dataset, []).empty


def test_month_helpers():
    assert month_range("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    start, end = month_bounds("2026-12")
    assert (start, end) == (pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-01"))


def test_every_query_transpiles_to_spark_sql():
    start, end = month_bounds("2026-01")
    specs = {n: k.spec for n, k in CORE.items()}
    spark = mx.compile_base_query(
        specs, start, end, dialect="spark", dims=("product", "lead_source")
    )
    parsed = sqlglot.parse_one(spark, read="spark")
    assert parsed is not None
    assert "GROUPING SETS" in spark.upper()
    assert "DATE_TRUNC('MONTH'" in spark.upper()
    for view in relations.VIEWS_SQL.values():
        sqlglot.parse_one(sqlglot.transpile(view, read="duckdb", write="spark")[0], read="spark")


def test_compiled_sql_quotes_filter_values():
    spec = Count("activities", "occurred_at", (("category", ("it's",)),))
    start, end = month_bounds("2026-01")
    sql = mx.compile_branch([("x", spec)], start, end)
    assert "'it''s'" in sql
    sqlglot.parse_one(sql, read="duckdb")


# Metrics whose filters overlap, share a distinct key, leave NULLs in the key or sum a column:
# compiled together they share one scan per table, and must count exactly what each counts alone.
SHARED_SCAN = {
    "sends": Count("activities", "occurred_at", (("activity_type", ("email_send",)),)),
    "sends_or_bounces": Count(
        "activities", "occurred_at", (("activity_type", ("email_send", "email_bounce")),)
    ),
    "product_views": Count(
        "activities",
        "occurred_at",
        (("activity_type", ("page_view",)), ("category", ("product_detail",))),
    ),
    "open_pairs": Count(
        "activities",
        "occurred_at",
        (("activity_type", ("email_open",)),),
        ("lead_id", "campaign_id"),
    ),
    "click_pairs": Count(
        "activities",
        "occurred_at",
        (("activity_type", ("email_click",)),),
        ("lead_id", "campaign_id"),
    ),
    "active_leads": Count("activities", "occurred_at", (), ("lead_id",)),
    "opening_leads": Count(
        "activities", "occurred_at", (("activity_type", ("email_open",)),), ("lead_id",)
    ),
    "categories": Count("activities", "occurred_at", (), ("category",)),
    "won": Count("opportunities", "closed_at", (("status", ("won",)),)),
    "won_amount": Sum("opportunities", "closed_at", "amount", (("status", ("won",)),)),
    "lost": Count("opportunities", "closed_at", (("status", ("lost",)),)),
    "created": Count("opportunities", "created_at"),
    "pipeline": Sum("opportunities", "created_at", "amount"),
}


@pytest.mark.parametrize("dims", [("product",), ("lead_source",), ("product", "campaign_id")])
def test_metrics_sharing_a_scan_count_what_each_counts_alone(dataset, dims):
    months = ["2025-12", handmade.MONTH, "2026-02"]
    specs = SHARED_SCAN
    if "campaign_id" in dims:
        specs = {n: s for n, s in specs.items() if s.table == "activities"}
    together = mx.compute_metrics(dataset, months, specs=specs, names=list(specs), dims=dims)
    assert len(set(together["metric"])) == len(specs)
    for name in specs:
        alone = mx.compute_metrics(dataset, months, specs=specs, names=[name], dims=dims)
        # together shows every group any of the metrics has (a zero for the others)
        part = together[together["metric"] == name].set_index(["month", *dims])
        part = part.loc[alone.set_index(["month", *dims]).index].reset_index()
        pd.testing.assert_frame_equal(part, alone, check_dtype=False, obj=name)
        assert set(together.loc[together["metric"] == name, "value"]) - set(alone["value"]) <= {0}
    assert together.loc[together["metric"] == "open_pairs", "value"].sum() > 0
    if "won_amount" in specs:
        assert together.loc[together["metric"] == "won_amount", "value"].sum() > 0


def test_month_labels_are_strftime_of_each_month_missing_where_the_time_is():
    start = pd.Timestamp("2024-01-01")
    times = pd.Series(
        [start + pd.Timedelta(seconds=int(s)) for s in range(0, 3 * 365 * 86400, 86400 * 7 + 3599)]
        + [pd.NaT, pd.Timestamp("1999-12-31 23:59:59.999999"), pd.Timestamp("2000-01-01")],
        dtype="datetime64[us]",
    ).sample(frac=1.0, random_state=3)
    times.index = times.index * 3 + 1  # an index of its own
    got = month_labels(times)
    expected = times.dt.strftime("%Y-%m")
    pd.testing.assert_series_equal(got, expected)
    assert got.isna().sum() == 1 and got.nunique() == 38
    assert month_labels(times.iloc[:0]).equals(expected.iloc[:0])
