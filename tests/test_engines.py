"""Choosing where the metric SQL runs (maops_utils.backends.engines) without starting Spark: the engine
setting in run.yaml and its flags, the notebooks' engine parameters, the DuckDB engine,
`engine_for`, one engine per KPI review, Arrow conversion."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from helpers import make_project

from maops_utils.backends import engines, relations
from maops_utils.batch import cli
from maops_utils.batch import jobs as jobs_module
from maops_utils.batch.config import load_settings
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.core.settings import ENGINES
from maops_utils.metrics import compute as mx
from maops_utils.metrics import funnel
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.reports.kpi import review as kpi

import handmade

MONTHS = ["2025-12", "2026-01", "2026-02"]


@pytest.fixture(scope="module")
def dataset(handmade_ds):
    return handmade_ds


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    folder = handmade.write(tmp_path_factory.mktemp("handmade2"))
    return load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))


# ----------------------------------------------------------------------------- settings


def _params(tmp_path: Path, run_yaml: str) -> Path:
    params = tmp_path / "proj" / "params"
    params.mkdir(parents=True)
    (params / "run.yaml").write_text(run_yaml, encoding="utf-8")
    return params


def test_engine_defaults_to_duckdb(tmp_path):
    s = load_settings(_params(tmp_path, "locale: en\n"))
    assert (s.engine, s.spark_master) == ("duckdb", "local[*]")


@pytest.mark.parametrize(
    "master",
    ["local", "local[2]", "local[*]", "local[4,2]", "spark://host:7077", "yarn",
     "k8s://https://host:443", "sc://localhost:15002", "sc://host/;token=abc"],
)  # fmt: skip
def test_engine_and_master_are_read_from_run_yaml(tmp_path, master):
    s = load_settings(_params(tmp_path, f"engine: spark\nspark_master: '{master}'\n"))
    assert (s.engine, s.spark_master) == ("spark", master)
    assert s.as_dict()["engine"] == "spark"


def test_flags_override_the_engine(tmp_path):
    s = load_settings(_params(tmp_path, "engine: spark\n"), {"engine": "duckdb"})
    assert s.engine == "duckdb"


def test_unknown_engine_is_refused_with_a_suggestion(tmp_path):
    with pytest.raises(ConfigError, match=r"engine 'sprak' is not supported.*did you mean 'spark'"):
        load_settings(_params(tmp_path, "engine: sprak\n"))


@pytest.mark.parametrize("master", ["localhost", "local[0]", "local[two]", "", "sc://", "http://x"])
def test_bad_spark_master_is_refused(tmp_path, master):
    with pytest.raises(ConfigError, match="is not a Spark master"):
        load_settings(_params(tmp_path, f"spark_master: '{master}'\n"))


def _cli_settings(params: Path, *flags: str):
    return cli._settings(cli.build_parser().parse_args(["run", "--params", str(params), *flags]))


def test_engine_flags_override_run_yaml(tmp_path):
    params = _params(tmp_path, "engine: duckdb\nspark_master: local[*]\n")
    assert _cli_settings(params).engine == "duckdb"
    s = _cli_settings(params, "--engine", "spark", "--spark-master", "local[2]")
    assert (s.engine, s.spark_master) == ("spark", "local[2]")
    assert s.as_dict()["engine"] == "spark"  # what run.json records
    params.joinpath("run.yaml").write_text("engine: spark\n", encoding="utf-8")
    assert _cli_settings(params, "--engine", "duckdb").engine == "duckdb"


def test_engine_flags_are_checked(tmp_path, capsys):
    params = _params(tmp_path, "")
    with pytest.raises(SystemExit) as exc:
        _cli_settings(params, "--engine", "postgres")
    assert exc.value.code == 2
    assert "invalid choice: 'postgres'" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="spark_master 'localhost' is not a Spark master"):
        _cli_settings(params, "--engine", "spark", "--spark-master", "localhost")


def test_notebooks_declaring_the_engine_get_it(tmp_path):
    project = make_project(tmp_path / "proj")
    params = project / "params"
    settings = load_settings(
        params,
        {"engine": "spark", "spark_master": "local[2]", "data_dir": str(tmp_path / "data"),
         "notebooks": "00_data_quality,01_kpi_evaluation"},
    )  # fmt: skip
    inputs = SimpleNamespace(
        month="2026-01", dataset=SimpleNamespace(products=["A", "B"], sources={})
    )
    jobs = jobs_module.plan_jobs(settings, inputs, pd.Timestamp("2026-03-01"))
    by_name = {job.name: job.parameters for job in jobs}
    assert by_name["01_kpi_evaluation"]["engine"] == "spark"
    assert by_name["01_kpi_evaluation"]["spark_master"] == "local[2]"
    assert "engine" not in by_name["00_data_quality"]  # it declares no engine: none is given


def test_every_report_notebook_gets_the_run_currency(tmp_path):
    # `maops run --currency BRL` must reach the notebooks, which write the amounts
    project = make_project(tmp_path / "proj")
    settings = load_settings(
        project / "params", {"currency": "BRL", "data_dir": str(tmp_path / "data")}
    )
    inputs = SimpleNamespace(
        month="2026-01", dataset=SimpleNamespace(products=["A", "B"], sources={})
    )
    jobs = jobs_module.plan_jobs(settings, inputs, pd.Timestamp("2026-03-01"))
    assert jobs and all(job.parameters["currency"] == "BRL" for job in jobs)


# ----------------------------------------------------------------------------- DuckDB engine


@pytest.mark.parametrize("dims", [("product",), ("lead_source",), ("product", "lead_source")])
def test_duckdb_engine_gives_the_plain_path_result(dataset, dims):
    plain = mx.compute_metrics(dataset, MONTHS, dims=dims)
    with engines.DuckDBEngine(dataset) as eng:
        assert eng.name == eng.dialect == "duckdb"
        pd.testing.assert_frame_equal(
            mx.compute_metrics(dataset, MONTHS, dims=dims, engine=eng), plain
        )
    pd.testing.assert_frame_equal(
        mx.compute_metrics(dataset, MONTHS, dims=dims, engine="duckdb"), plain
    )


def test_a_name_opens_an_engine_for_the_call_an_engine_object_is_reused(
    dataset, other, monkeypatch
):
    opened: list[engines.Engine] = []
    real = engines.open_engine

    def counting(name, ds, **options):
        opened.append(real(name, ds, **options))
        return opened[-1]

    monkeypatch.setattr(engines, "open_engine", counting)
    plain = mx.compute_metrics(dataset, MONTHS)
    mx.compute_metrics(other, MONTHS, engine="duckdb")
    assert [e.dataset for e in opened] == [dataset, other]
    for eng in opened:
        with pytest.raises(Exception, match="closed"):  # closed when its call ended
            eng.run("SELECT 1")
    with engines.DuckDBEngine(dataset) as eng:
        for _ in range(3):
            pd.testing.assert_frame_equal(mx.compute_metrics(dataset, MONTHS, engine=eng), plain)
        assert len(opened) == 2  # the caller's engine served every call
        assert eng.run("SELECT 1 AS x")["x"].iloc[0] == 1  # and is left open


def test_an_engine_object_serves_only_its_own_dataset(dataset, other):
    with engines.DuckDBEngine(dataset) as eng:
        with pytest.raises(ValueError, match="another dataset"):
            mx.compute_metrics(other, MONTHS, engine=eng)
        with pytest.raises(ValueError, match="another dataset"):
            engines.run_query(other, lambda dialect: "SELECT 1", eng)
        got = mx.compute_metrics(dataset, MONTHS, engine=eng)
        pd.testing.assert_frame_equal(got, mx.compute_metrics(dataset, MONTHS))
        assert eng.run("SELECT COUNT(*) AS n FROM leads")["n"].iloc[0] == 7  # left open


def test_engine_for_is_the_one_way_a_query_chooses_its_engine(dataset):
    with engines.DuckDBEngine(dataset) as eng:
        with engines.engine_for(dataset, eng) as got:
            assert got is eng
        assert eng.run("SELECT 1 AS x")["x"].iloc[0] == 1  # the caller's: left open
    for name in (None, "duckdb"):
        with engines.engine_for(dataset, name) as got:
            assert got.name == "duckdb" and got.dataset is dataset
        with pytest.raises(Exception, match="closed"):  # its own: closed
            got.run("SELECT 1")
        assert engines.engine_name(name) == "duckdb"
    assert tuple(engines.ENGINE_CLASSES) == ENGINES  # one registry, the settings' names


def test_wrong_engine_arguments(dataset):
    with pytest.raises(ValueError, match="engine 'postgres' is not supported"):
        mx.compute_metrics(dataset, MONTHS, engine="postgres")
    with pytest.raises(ConfigError, match="engine 'sqlite' is not supported; use one of duckdb"):
        engines.open_engine("sqlite", dataset)
    with pytest.raises(ConfigError, match="engine 'sqlite' is not supported"):
        with engines.engine_for(dataset, "sqlite"):
            pass


def test_run_query_compiles_for_the_engine(dataset):
    def build(dialect: str) -> str:
        return funnel.compile_cohort_query("2026-02", cohorts=3, dialect=dialect)

    def ordered(frame: pd.DataFrame) -> pd.DataFrame:  # the query has no ORDER BY
        return frame.sort_values(list(frame.columns)).reset_index(drop=True)

    con = relations.connect(dataset)
    try:
        direct = ordered(con.execute(build("duckdb")).df())
    finally:
        con.close()
    assert len(direct) > 0
    pd.testing.assert_frame_equal(ordered(engines.run_query(dataset, build)), direct)
    with engines.DuckDBEngine(dataset) as eng:
        pd.testing.assert_frame_equal(ordered(engines.run_query(dataset, build, eng)), direct)


# ----------------------------------------------------------------------------- the KPI review


def test_load_review_runs_every_query_on_one_engine(tmp_path, dataset, monkeypatch):
    folder = handmade.write(tmp_path / "data")
    params = _params(tmp_path, f"data_dir: {folder.as_posix()}\nmonth: {handmade.MONTH}\n")
    opened: list[engines.Engine] = []
    real = engines.open_engine

    def counting(name, ds, **options):
        opened.append(real(name, ds, **options))
        return opened[-1]

    monkeypatch.setattr(engines, "open_engine", counting)
    rv = kpi.load_review(load_settings(params), as_of=pd.Timestamp("2026-03-01"))
    tables = kpi.report_tables(rv)  # channels, campaigns, cohorts, velocity
    assert len(opened) == 1 and opened[0].name == "duckdb" and rv.engine is opened[0]
    assert opened[0].dataset is rv.dataset
    # the same numbers as the plain DuckDB path, which opens a connection per query
    plain = kpi.review(dataset, load_catalogue(params), handmade.MONTH)
    assert rv.engine is not None and plain.engine is None
    pd.testing.assert_frame_equal(rv.values, plain.values)
    for name, table in kpi.report_tables(plain).items():
        if table is None:  # a table the data cannot give, on either path
            assert tables[name] is None, name
            continue
        pd.testing.assert_frame_equal(tables[name], table, check_exact=True, obj=name)
    rv.close()
    rv.close()  # twice is fine
    with pytest.raises(Exception, match="closed"):
        opened[0].run("SELECT 1")
    assert len(kpi.metrics_table(rv)) > 0  # the values stay usable


def test_load_review_engine_argument_and_product_slices(tmp_path, monkeypatch):
    folder = handmade.write(tmp_path / "data")
    params = _params(tmp_path, f"data_dir: {folder.as_posix()}\nmonth: {handmade.MONTH}\n")
    settings = load_settings(params)
    with pytest.raises(ConfigError, match="engine 'sqlite' is not supported; use one of duckdb"):
        kpi.load_review(settings, as_of=pd.Timestamp("2026-03-01"), engine="sqlite")
    with kpi.load_review(settings, as_of=pd.Timestamp("2026-03-01"), product="A") as rv:
        assert rv.engine.dataset is rv.dataset and rv.products == ["A"]
        assert set(kpi.report_tables(rv)["velocity"]["product"]) == {"A", "ALL"}
    # the month facts of channels are kept (facts.py); the funnel's queries need the engine
    with pytest.raises(Exception, match="closed"):
        kpi.report_tables(rv)


def test_spark_without_java_stops_the_review_clearly(tmp_path, monkeypatch):
    if engines.spark_running():
        pytest.skip("a Spark runs in this process already")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    folder = handmade.write(tmp_path / "data")
    params = _params(tmp_path, f"data_dir: {folder.as_posix()}\nengine: spark\n")
    with pytest.raises(engines.EngineError, match="cannot start Spark: ") as exc:
        kpi.load_review(load_settings(params), as_of=pd.Timestamp("2026-03-01"))
    assert exc.value.exit_code == 2  # the command line prints the message, no traceback
    assert not engines.spark_running()


# ----------------------------------------------------------------------------- Arrow


def test_arrow_table_types_every_column_explicitly():
    frame = pd.DataFrame(
        {
            "lead_id": pd.Series(["L1", "L2"], dtype="str"),
            "campaign_id": pd.Series([None, None], dtype=object),  # every value missing
            "mixed": pd.Series(["x", 5], dtype=object),
            "at": pd.to_datetime(["2026-01-31 23:59:59", None]).astype("datetime64[ns]"),
            "amount": [1.5, float("nan")],
        }
    )
    t = engines.arrow_table(frame)
    assert t.schema.types == [
        pa.string(),
        pa.string(),
        pa.string(),
        pa.timestamp("us"),
        pa.float64(),
    ]
    assert t.column("campaign_id").null_count == 2
    assert t.column("mixed").to_pylist() == ["x", "5"]
    assert t.column("amount").to_pylist() == [1.5, None]  # NaN is a missing value, as in DuckDB
    assert t.column("at").to_pylist()[0] == pd.Timestamp("2026-01-31 23:59:59").to_pydatetime()
    empty = engines.arrow_table(frame.iloc[:0])
    assert empty.num_rows == 0 and empty.schema == t.schema


def test_zoned_results_become_wall_clock_time_of_the_session():
    instant = pd.Timestamp("2025-12-31 15:00", tz="UTC")  # 2026-01-01 00:00 in Tokyo
    t = pa.table({"m": pa.array([instant], type=pa.timestamp("us", tz="UTC"))})
    assert engines.arrow_to_pandas(t, "UTC")["m"].iloc[0] == pd.Timestamp("2025-12-31 15:00")
    assert engines.arrow_to_pandas(t, "Asia/Tokyo")["m"].iloc[0] == pd.Timestamp("2026-01-01")


def test_missing_java_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "no-jdk"))
    assert engines.java_version() is None
    reason = engines.spark_unavailable()
    assert reason is not None and ("Java" in reason or "pyspark" in reason)
    with pytest.raises(engines.EngineError, match="cannot start Spark"):
        engines.spark_session("local[1]")


def test_activities_leave_the_store_as_typed_arrow_and_parquet(tmp_path):
    """What a Spark engine receives of the activities without pandas (Arrow for a remote
    Spark, a Parquet file for a local one) holds the rows and types of the pandas route,
    and a product's dataset holds only its leads' rows."""
    folder = handmade.write(tmp_path / "data")
    ds = load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))
    loaded = load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))
    cols = relations.ENGINE_COLUMNS["activities_input"]

    def rows(table: pa.Table) -> pd.DataFrame:
        return table.to_pandas().sort_values(cols).reset_index(drop=True)

    for mine, theirs in [(ds, loaded), (ds.for_product("A"), loaded.for_product("A"))]:
        assert mine.in_store("activities")
        expected = engines.arrow_table(theirs["activities"][cols])
        got = mine.store_arrow("activities", cols)
        assert got.schema == expected.schema
        assert expected.num_rows > 0 and got.column("category").null_count > 0
        pd.testing.assert_frame_equal(rows(got), rows(expected))
        path = tmp_path / "activities.parquet"
        mine.store_to_parquet("activities", cols, path)
        pd.testing.assert_frame_equal(rows(pq.read_table(path)), rows(expected))
    assert len(ds.for_product("A")["activities"]) < len(loaded["activities"])
    assert "activities" not in ds.tables
    with pytest.raises(KeyError, match="leads"):
        ds.store_arrow("leads", ["lead_id"])
