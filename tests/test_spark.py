"""The same compiled metric SQL on Apache Spark (local mode) gives what DuckDB gives.

One Spark session serves the whole module (start-up costs seconds); every dataset gets a
`SparkEngine` of its own on it. The end-to-end test runs `maops run --engine spark` in a
process of its own. Skipped, with the reason, where pyspark or Java 17+ is missing.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from helpers import maops

from maops_utils.backends import engines
from maops_utils.contract.load import load_dataset
from maops_utils.core.io import write_csv
from maops_utils.core.months import month_range
from maops_utils.metrics import compute as mx
from maops_utils.metrics import funnel
from maops_utils.metrics.catalogue import CORE, CORE_METRICS, load_catalogue
from maops_utils.metrics.specs import Ratio
from maops_utils.reports.kpi import review as kpi

import handmade

_UNAVAILABLE = engines.spark_unavailable()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(_UNAVAILABLE is not None, reason=f"Spark tests need Spark: {_UNAVAILABLE}"),
]

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MONTHS = month_range("2026-10", 12)
HANDMADE_MONTHS = ["2025-12", "2026-01", "2026-02"]
EMAIL = ["email_sends", "email_bounces", "email_open_pairs", "email_click_pairs",
         "email_delivered", "email_open_rate", "email_ctr", "email_ctor", "unsubscribe_rate"]  # fmt: skip

# The handmade dataset plus rows on the traps between engines: e-mail opens without a
# campaign (a NULL in a SELECT DISTINCT pair, twice for one lead), a row at 23:59:59 on a
# month's last day and one at 00:00:00 on the first, a won deal without an amount.
EDGE_ACTIVITIES = """L1,email_open,2026-01-12 09:00:00,,,
L1,email_open,2026-01-13 09:00:00,,,
L2,email_open,2026-01-31 23:59:59,,,
L4,email_click,2026-02-01 00:00:00,,,
"""
EDGE_OPPORTUNITIES = "O6,L5,B,2026-01-31 23:59:59,won,2026-01-31 23:59:59,\n"


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def spark():
    return engines.spark_session("local[2]")


@pytest.fixture(scope="module")
def edge_ds(tmp_path_factory):
    folder = handmade.write(tmp_path_factory.mktemp("edge"))
    with open(folder / "activities.csv", "a", encoding="utf-8") as f:
        f.write(EDGE_ACTIVITIES)
    with open(folder / "opportunities.csv", "a", encoding="utf-8") as f:
        f.write(EDGE_OPPORTUNITIES)
    return load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))


@pytest.fixture(scope="module")
def sample_ds():
    return load_dataset(ROOT / "data" / "sample")


def _engine(request, spark, dataset):
    eng = engines.SparkEngine(dataset, session=spark)
    request.addfinalizer(eng.close)
    return eng


@pytest.fixture(scope="module")
def handmade_spark(request, spark, handmade_ds):
    return _engine(request, spark, handmade_ds)


@pytest.fixture(scope="module")
def edge_spark(request, spark, edge_ds):
    return _engine(request, spark, edge_ds)


@pytest.fixture(scope="module")
def sample_spark(request, spark, sample_ds):
    return _engine(request, spark, sample_ds)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(ROOT / "workspaces" / "sample" / "params")


def assert_same_metrics(duck: pd.DataFrame, spark: pd.DataFrame, specs) -> None:
    """Same rows in the same order; counts and sums exactly equal, rates to 1e-12."""
    assert len(duck) > 0
    pd.testing.assert_frame_equal(duck.drop(columns="value"), spark.drop(columns="value"))
    rate = duck["metric"].map(lambda m: isinstance(specs[m], Ratio)).to_numpy()
    d, s = duck["value"].to_numpy(), spark["value"].to_numpy()
    assert np.array_equal(d[~rate], s[~rate]), "counts differ"
    np.testing.assert_allclose(s[rate], d[rate], rtol=0, atol=1e-12, equal_nan=True)
    assert np.nansum(d[~rate]) > 0  # not a comparison of empty months


def _value(frame: pd.DataFrame, **keys) -> float:
    mask = np.ones(len(frame), dtype=bool)
    for k, v in keys.items():
        mask &= (frame[k] == v).to_numpy()
    assert mask.sum() == 1, keys
    return float(frame.loc[mask, "value"].iloc[0])


# ----------------------------------------------------------------------------- time


def test_session_is_utc_with_naive_timestamps(handmade_spark):
    conf = handmade_spark.session.conf
    assert conf.get("spark.sql.session.timeZone") == "UTC"
    assert conf.get("spark.sql.timestampType") == "TIMESTAMP_NTZ"
    schema = handmade_spark.session.table("leads").schema
    assert schema["created_at"].dataType.simpleString() == "timestamp_ntz"


def test_naive_timestamps_round_trip_without_shifting(handmade_spark, handmade_ds):
    got = handmade_spark.run(
        "SELECT lead_id, created_at, DATE_TRUNC('MONTH', created_at) AS month_start "
        "FROM leads ORDER BY lead_id"
    )
    leads = handmade_ds["leads"].sort_values("lead_id").reset_index(drop=True)
    assert list(got["created_at"]) == list(leads["created_at"])
    by_id = got.set_index("lead_id")
    # L2 at 23:59:59 on January's last day, L3 at 00:00:00 on February's first
    assert by_id.loc["L2", "created_at"] == pd.Timestamp("2026-01-31 23:59:59")
    assert by_id.loc["L2", "month_start"] == pd.Timestamp("2026-01-01")
    assert by_id.loc["L3", "created_at"] == pd.Timestamp("2026-02-01 00:00:00")
    assert by_id.loc["L3", "month_start"] == pd.Timestamp("2026-02-01")
    # L4 was 2025-12-31T15:30Z: January in Tokyo, and still January after Spark
    assert by_id.loc["L4", "month_start"] == pd.Timestamp("2026-01-01")


def test_session_time_zone_does_not_move_months(handmade_spark):
    # Spark's DATE_TRUNC returns a zoned TIMESTAMP even for a TIMESTAMP_NTZ input; reading it
    # back as wall-clock time in the session's zone keeps the month whatever that zone is.
    sql = "SELECT lead_id, DATE_TRUNC('MONTH', created_at) AS m FROM leads WHERE lead_id = 'L2'"
    conf = handmade_spark.session.conf
    try:
        for zone in ("Asia/Tokyo", "America/Los_Angeles"):
            conf.set("spark.sql.session.timeZone", zone)
            assert handmade_spark.run(sql)["m"].iloc[0] == pd.Timestamp("2026-01-01")
    finally:
        conf.set("spark.sql.session.timeZone", "UTC")


def test_engine_session_ignores_the_callers_time_zone(spark, handmade_ds):
    before = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        with engines.SparkEngine(handmade_ds, session=spark) as eng:
            assert eng.session.conf.get("spark.sql.session.timeZone") == "UTC"
            got = mx.compute_metrics(handmade_ds, [handmade.MONTH], engine=eng)
        assert _value(got, product="ALL", metric="new_leads") == 5
        assert spark.conf.get("spark.sql.session.timeZone") == "Asia/Tokyo"  # left as it was
    finally:
        spark.conf.set("spark.sql.session.timeZone", before)


# ----------------------------------------------------------------------------- core metrics


def test_handmade_expected_values_on_spark(handmade_spark, handmade_ds):
    got = mx.compute_metrics(handmade_ds, [handmade.MONTH], engine=handmade_spark)
    assert set(got["metric"]) == set(CORE_METRICS)
    for (product, metric), expected in handmade.EXPECTED.items():
        value = _value(got, product=product, metric=metric)
        if math.isnan(expected):
            assert math.isnan(value), (product, metric)
        else:
            assert value == pytest.approx(expected, abs=1e-12), (product, metric)


@pytest.mark.parametrize("dims", [("product",), ("lead_source",), ("product", "lead_source")])
def test_handmade_core_metrics_match_duckdb(handmade_spark, handmade_ds, dims):
    specs = {n: k.spec for n, k in CORE.items()}
    duck = mx.compute_metrics(handmade_ds, HANDMADE_MONTHS, dims=dims)
    spark = mx.compute_metrics(handmade_ds, HANDMADE_MONTHS, dims=dims, engine=handmade_spark)
    assert_same_metrics(duck, spark, specs)


def test_edge_rows_null_campaigns_boundaries_and_missing_amounts(edge_spark, edge_ds):
    specs = {n: k.spec for n, k in CORE.items()}
    names = [*CORE_METRICS, "email_open_pairs", "email_click_pairs", "closed_deals"]
    for dims in (("product",), ("lead_source",)):
        duck = mx.compute_metrics(edge_ds, HANDMADE_MONTHS, specs=specs, names=names, dims=dims)
        spark = mx.compute_metrics(
            edge_ds, HANDMADE_MONTHS, specs=specs, names=names, dims=dims, engine=edge_spark
        )
        assert_same_metrics(duck, spark, specs)
        jan = spark[spark["month"] == "2026-01"]
        if dims == ("product",):
            # (L1, K1) (L2, K1) (L1, K2) + (L1, NULL) once + (L2, NULL) at 23:59:59
            assert _value(jan, product="ALL", metric="email_open_pairs") == 5
            assert _value(jan, product="B", metric="won_deals") == 1  # O6, no amount
            assert _value(jan, product="B", metric="revenue") == 0
            assert _value(jan, product="ALL", metric="revenue") == 1_700_000
            feb = spark[spark["month"] == "2026-02"]
            assert _value(feb, product="B", metric="email_click_pairs") == 1
        else:  # COALESCE: deals without a lead are sales-sourced
            assert _value(jan, lead_source="sales_sourced", metric="won_deals") == 1
            assert _value(jan, lead_source="unknown", metric="won_deals") == 1  # L5: no source
    # by campaign: the NULL campaign is no campaign row, in both engines
    duck = mx.compute_metrics(
        edge_ds, HANDMADE_MONTHS, specs=specs, names=EMAIL, dims=("campaign_id",)
    )
    spark = mx.compute_metrics(
        edge_ds, HANDMADE_MONTHS, specs=specs, names=EMAIL, dims=("campaign_id",), engine=edge_spark
    )
    assert_same_metrics(duck, spark, specs)
    assert set(spark["campaign_id"]) == {"K1", "K2", "ALL"}
    assert (
        _value(spark[spark["month"] == "2026-01"], campaign_id="ALL", metric="email_open_pairs")
        == 5
    )


@pytest.mark.parametrize("dims", [("product",), ("lead_source",)])
def test_sample_catalogue_metrics_match_duckdb(sample_spark, sample_ds, catalogue, dims):
    specs = catalogue.specs  # core metrics and params/kpis.yaml's own KPIs
    names = list(specs)
    assert {"webinar_attendees", "downloads", "inquiry_rate"} <= set(names)
    duck = mx.compute_metrics(sample_ds, SAMPLE_MONTHS, specs=specs, names=names, dims=dims)
    spark = mx.compute_metrics(
        sample_ds, SAMPLE_MONTHS, specs=specs, names=names, dims=dims, engine=sample_spark
    )
    assert_same_metrics(duck, spark, specs)
    assert sorted(spark["month"].unique()) == SAMPLE_MONTHS


def test_sample_campaign_metrics_match_duckdb(sample_spark, sample_ds, catalogue):
    specs = catalogue.specs
    months = SAMPLE_MONTHS[-3:]
    duck = mx.compute_metrics(sample_ds, months, specs=specs, names=EMAIL, dims=("campaign_id",))
    spark = mx.compute_metrics(
        sample_ds, months, specs=specs, names=EMAIL, dims=("campaign_id",), engine=sample_spark
    )
    assert_same_metrics(duck, spark, specs)


# ----------------------------------------------------------------------------- metrics.csv


def test_metrics_csv_is_the_same_on_spark(sample_spark, sample_ds, catalogue, tmp_path):
    month = "2026-10"
    duck_rv = kpi.review(sample_ds, catalogue, month)
    spark_rv = kpi.review(sample_ds, catalogue, month, engine=sample_spark)
    assert spark_rv.engine is sample_spark and sample_spark.name == "spark"
    spark_channels = kpi.channels(spark_rv)
    spark_campaigns = kpi.email_campaigns(spark_rv)
    duck_table, spark_table = kpi.metrics_table(duck_rv), kpi.metrics_table(spark_rv)
    pd.testing.assert_frame_equal(duck_table, spark_table, check_exact=True)
    a = write_csv(duck_table, tmp_path / "duckdb" / "metrics.csv")
    b = write_csv(spark_table, tmp_path / "spark" / "metrics.csv")
    assert a.read_bytes() == b.read_bytes()
    pd.testing.assert_frame_equal(kpi.channels(duck_rv), spark_channels, check_exact=True)
    pd.testing.assert_frame_equal(kpi.email_campaigns(duck_rv), spark_campaigns, check_exact=True)


# ----------------------------------------------------------------------------- funnel SQL


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize("which", ["handmade", "sample"])
def test_cohort_query_matches_duckdb(request, which):
    ds = request.getfixturevalue(f"{which}_ds")
    eng = request.getfixturevalue(f"{which}_spark")
    month = "2026-02" if which == "handmade" else "2026-10"

    def build(dialect: str) -> str:
        return funnel.compile_cohort_query(month, cohorts=12, windows=(0, 30, 90), dialect=dialect)

    keys = ["cohort_start", "product", "stage", "window_days"]
    duck = _sorted(engines.run_query(ds, build), keys)
    spark = _sorted(engines.run_query(ds, build, eng), keys)
    assert len(duck) > 0 and duck["reached"].sum() > 0
    pd.testing.assert_frame_equal(duck, spark, check_exact=True)


@pytest.mark.parametrize("which", ["handmade", "sample"])
def test_velocity_query_matches_duckdb(request, which):
    ds = request.getfixturevalue(f"{which}_ds")
    eng = request.getfixturevalue(f"{which}_spark")
    month = "2026-02" if which == "handmade" else "2026-10"

    def build(dialect: str) -> str:
        return funnel.compile_velocity_query(month, lookback_months=12, dialect=dialect)

    keys = ["product", "transition"]
    duck = _sorted(engines.run_query(ds, build), keys)
    spark = _sorted(engines.run_query(ds, build, eng), keys)
    assert len(duck) > 0
    # order statistics and their interpolation are the same doubles, and so is the mean: an
    # exact sum of whole microseconds, whatever order either engine adds the rows in
    pd.testing.assert_frame_equal(duck, spark, check_exact=True)


# ----------------------------------------------------------------------------- comparison


def test_product_comparison_is_the_same_on_spark(sample_spark, sample_ds, monkeypatch):
    """Notebook 03's queries (core counts, MQL->SQL, cohorts, the acquisition campaigns,
    velocity) run on the review's engine: on Spark they give DuckDB's tables."""
    from maops_utils.reports import compare

    ran: list[str] = []
    run = sample_spark.run
    monkeypatch.setattr(sample_spark, "run", lambda sql: ran.append(sql) or run(sql))
    duck = compare.compare_products(sample_ds, "2026-10", window_days=90)
    spark = compare.compare_products(sample_ds, "2026-10", window_days=90, engine=sample_spark)
    assert spark.engine is sample_spark
    pd.testing.assert_frame_equal(duck.rates, spark.rates, check_exact=True)
    assert duck.rates["successes"].sum() > 0
    pd.testing.assert_frame_equal(duck.tests, spark.tests)
    pd.testing.assert_frame_equal(duck.lead_grid.pipe(_sorted, list(compare.LEAD_GRID)),
                                  spark.lead_grid.pipe(_sorted, list(compare.LEAD_GRID)),
                                  check_dtype=False)  # fmt: skip
    assert duck.lead_grid["campaign_id"].notna().any()  # acquisition campaigns were found
    tables, on_spark = compare.report_tables(duck), compare.report_tables(spark)
    assert tables.keys() == on_spark.keys()
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, on_spark[name], check_dtype=False, obj=name)
    pd.testing.assert_frame_equal(
        compare.product_campaigns(duck), compare.product_campaigns(spark), check_dtype=False
    )
    pd.testing.assert_frame_equal(duck.velocity, spark.velocity, check_dtype=False)
    pd.testing.assert_frame_equal(duck.cohorts, spark.cohorts, check_dtype=False)
    # every query went to Spark: the three of the comparison, cohorts, velocity, the
    # acquisition grid and the channel counts
    assert len(ran) == 7 and any("ROW_NUMBER" in q for q in ran)


# ----------------------------------------------------------------------------- engine life


def test_engine_by_name_and_closing(spark, handmade_ds):
    plain = mx.compute_metrics(handmade_ds, [handmade.MONTH])
    # by name: an engine is opened on the running Spark for the call and closed after it
    pd.testing.assert_frame_equal(
        mx.compute_metrics(handmade_ds, [handmade.MONTH], engine="spark"), plain
    )
    eng = engines.SparkEngine(handmade_ds)
    views = set(eng.views)
    assert views == {"leads", "activities_input", "stage_changes", "opportunities_input",
                     "lead_rows", "activities", "first_stages", "opportunities"}  # fmt: skip
    session = eng.session
    eng.close()
    left = {t.name for t in session.catalog.listTables() if t.isTemporary}
    assert not (views & left)
    with pytest.raises(engines.EngineError, match="already running"):
        engines.spark_session("local[3]")


def test_activities_reach_local_spark_as_a_file_never_as_pandas(spark):
    """The activities lie in DuckDB: a local Spark reads them from a Parquet file DuckDB
    wrote into a private folder (no pandas frame of 18 M rows at scale), the numbers are
    DuckDB's, and closing removes the folder. A product's dataset sends only its leads' rows."""
    ds = load_dataset(ROOT / "data" / "sample")
    assert ds.in_store("activities")
    specs = {n: k.spec for n, k in CORE.items()}
    plain = mx.compute_metrics(ds, ["2026-09", "2026-10"], specs=specs)
    eng = engines.SparkEngine(ds, session=spark)
    try:
        files = eng.session.table("activities_input").inputFiles()
        assert len(files) == 1 and files[0].endswith("activities_input.parquet")
        folder = Path(files[0].removeprefix("file://")).parent
        assert folder.is_dir() and folder.stat().st_mode & 0o077 == 0
        on_spark = mx.compute_metrics(ds, ["2026-09", "2026-10"], specs=specs, engine=eng)
        assert_same_metrics(plain, on_spark, specs)
    finally:
        eng.close()
    assert not folder.exists()
    assert "activities" not in ds.tables  # never loaded into pandas

    product = ds.products[0]
    part = ds.for_product(product)
    assert part.sliced and part.in_store("activities")
    eng = engines.SparkEngine(part, session=spark)
    try:
        (n,) = eng.run("SELECT COUNT(*) AS n FROM activities_input")["n"]
        (outside,) = eng.run(
            "SELECT COUNT(*) AS n FROM activities_input WHERE lead_id NOT IN "
            "(SELECT lead_id FROM leads)"
        )["n"]
    finally:
        eng.close()
    assert n == len(part["activities"]) > 0 and outside == 0


# ----------------------------------------------------------------------------- maops run

# The tables `maops run` publishes whose numbers come from the engine; their key columns.
RUN_TABLES = {
    "metrics.csv": ["month", "product", "metric"],
    "trend.csv": ["month", "product", "metric"],
    "channels.csv": ["month", "channel"],
    "campaigns.csv": ["month", "campaign_id"],
    "cohorts.csv": ["cohort", "product", "stage", "window_days"],
    "velocity.csv": ["product", "transition"],
    # the inventory is the one new query the KPI report runs on the engine
    "pipeline.csv": ["stage", "group_by", "group", "bucket"],
    "pipeline_flows.csv": ["stage", "group_by", "group"],
    "product_channel.csv": ["month", "product", "channel"],  # notebook 03
    "product_comparison.csv": ["month", "product", "metric", "compared_with"],
}


def assert_same_table(duck: pd.DataFrame, spark: pd.DataFrame, name: str) -> None:
    """Same columns, rows and order; text, flags and whole numbers (counts, sums) exactly
    equal; other numbers (rates, intervals, attainment, mean days) to 1e-12."""
    assert list(duck.columns) == list(spark.columns), name
    assert len(duck) == len(spark) > 0, name
    for col in duck.columns:
        d, s = duck[col], spark[col]
        if pd.api.types.is_float_dtype(d) or pd.api.types.is_float_dtype(s):
            d, s = d.to_numpy(dtype="float64"), s.to_numpy(dtype="float64")
            whole = np.isfinite(d) & (d == np.round(d))
            assert np.array_equal(d[whole], s[whole]), f"{name}: {col}: counts differ"
            np.testing.assert_allclose(
                s, d, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=f"{name}: {col}"
            )
        else:
            pd.testing.assert_series_equal(d, s, check_exact=True, obj=f"{name}: {col}")


def test_maops_run_on_spark_publishes_what_duckdb_publishes(tmp_path):
    """`maops run --engine spark` on the sample data: metrics.csv (computed by the batch)
    and the tables of the KPI and product-comparison notebooks (computed in their kernels)
    equal those of a DuckDB run."""
    notebooks = ["01_kpi_evaluation", "03_product_comparison"]
    common = ["--month", "2026-10", "--as-of", "2026-11-15 09:00",
              "--notebooks", ",".join(notebooks), "--data", ROOT / "data" / "sample"]  # fmt: skip
    runs = {
        "spark": ["--engine", "spark", "--spark-master", "local[2]"],
        "duckdb": ["--engine", "duckdb"],
    }
    month_dirs, stderr = {}, {}
    for engine, flags in runs.items():
        proc = maops("run", *common, *flags, "--out", tmp_path / engine, timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        stderr[engine] = proc.stderr
        month_dirs[engine] = folder = tmp_path / engine / "2026-10"
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        assert manifest["settings"]["engine"] == engine
        assert [nb["name"] for nb in manifest["notebooks"]] == notebooks
        for notebook in manifest["notebooks"]:
            assert notebook["parameters"]["engine"] == engine
            executed = nbformat.read(folder / f"{notebook['name']}.ipynb", as_version=4)
            (injected,) = [
                c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
            ]
            assert f'engine = "{engine}"' in injected.source
    assert "engine: spark local[2]" in stderr["spark"]  # what the batch says it runs on
    assert "spark_master: local[2]" in (month_dirs["spark"] / "run.log").read_text("utf-8")
    for name, keys in RUN_TABLES.items():
        duck, spark = (
            pd.read_csv(month_dirs[e] / name, dtype={k: str for k in keys if k != "window_days"})
            for e in ("duckdb", "spark")
        )
        assert_same_table(duck, spark, name)


# ----------------------------------------------------------------------------- Spark Connect

CONNECT_SCRIPT = """
import sys, warnings
import pandas as pd
from pyspark.sql import SparkSession
from maops_utils.backends import engines
from maops_utils.metrics import compute as mx
from maops_utils.contract.load import load_dataset

folder, port = sys.argv[1], sys.argv[2]
# a classic local Spark that serves Spark Connect on `port` (what start-connect-server.sh runs)
server = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
          .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
          .config("spark.connect.grpc.binding.port", port).getOrCreate())
try:
    ds = load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))
    months = ["2025-12", "2026-01", "2026-02"]
    with engines.SparkEngine(ds, master=f"sc://localhost:{port}") as eng:
        assert type(eng.session).__module__.startswith("pyspark.sql.connect")
        got = mx.compute_metrics(ds, months, engine=eng)
        ts = eng.run("SELECT DATE_TRUNC('MONTH', created_at) AS m FROM leads WHERE lead_id = 'L2'")
    pd.testing.assert_frame_equal(got, mx.compute_metrics(ds, months))
    assert ts["m"].iloc[0] == pd.Timestamp("2026-01-01")
    print("CONNECT-OK")
finally:
    server.stop()
"""


def test_spark_connect_url_gives_the_same_metrics(tmp_path):
    """A Spark Connect endpoint (sc://) through a local Connect server in another process:
    the classic Spark of this module cannot share a process with it."""
    pytest.importorskip("grpc", reason="Spark Connect needs pip install 'pyspark[connect]'")
    import socket
    import subprocess
    import sys

    folder = handmade.write(tmp_path / "data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run(
        [sys.executable, "-c", CONNECT_SCRIPT, str(folder), str(port)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
    )  # fmt: skip
    assert "CONNECT-OK" in done.stdout, done.stderr[-3000:]
