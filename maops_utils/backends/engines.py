"""Where the compiled metric SQL runs: DuckDB in this process (the default) or Apache Spark.

The metric definitions do not change with the engine: `metrics.compile_base_query` and the
funnel queries are written in DuckDB's dialect and transpiled by SQLGlot (docs/decisions.md).
An engine holds one validated dataset as the tables every query reads (`leads`,
`activities_input`, `stage_changes`, `opportunities_input`) plus the views of
`metrics.VIEWS_SQL`, and runs SQL in its own dialect, returning a pandas frame of the few
aggregated rows.

    with engines.open_engine("spark", dataset, master="local[4]") as spark:
        rv = kpi.review(dataset, catalogue, "2026-10", engine=spark)  # every query on Spark

or, opening an engine for the one call: `metrics.compute_metrics(dataset, months, engine="spark")`.

Spark and time. Timestamps are naive local time (the run's zone) before any engine sees them.
A Spark session of maops reads them as `TIMESTAMP_NTZ` and runs with the session time zone
UTC: Spark's `DATE_TRUNC` returns a zoned `TIMESTAMP` even for an NTZ input, and results are
turned back into naive wall-clock time in the session's zone, so no value shifts (a lead
created at 23:59:59 on the last day of a month stays in that month).

Nothing here imports pyspark until a Spark engine is opened: DuckDB-only installs need no Java.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from ..contract.dataset import Dataset
from ..core.errors import EXIT_INPUT, ConfigError, MaopsError
from ..core.settings import SPARK_MASTER_RE
from . import relations

DEFAULT_SPARK_MASTER = "local[*]"
SESSION_TIME_ZONE = "UTC"
MIN_JAVA = 17
# Settings of every Spark session maops opens (the runtime SQL ones are set per session too,
# since a session given by the caller or a Spark Connect server may have other defaults).
SPARK_SQL_CONF = {
    "spark.sql.session.timeZone": SESSION_TIME_ZONE,
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
}
_LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.catalogImplementation": "in-memory",  # no Hive metastore_db/ in the cwd
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


class EngineError(MaopsError, RuntimeError):
    """An engine cannot be opened (missing package or Java, another master already running).

    The command line prints the message and exits with code 2, as for a wrong setting.
    """

    exit_code = EXIT_INPUT


# ---------------------------------------------------------------- engines


class Engine:
    """One dataset loaded into a SQL engine, ready for the compiled metric queries."""

    name = ""
    dialect = ""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def run(self, sql: str) -> pd.DataFrame:
        """Run one query written in `self.dialect`; the rows as a pandas frame."""
        raise NotImplementedError

    def query(self, build: Callable[[str], str]) -> pd.DataFrame:
        """Run the query `build(dialect)` compiles for this engine."""
        return self.run(build(self.dialect))

    def close(self) -> None:
        pass

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBEngine(Engine):
    """An in-process DuckDB (`relations.connect`): the tables are copied in once."""

    name = dialect = "duckdb"

    def __init__(self, dataset: Dataset):
        super().__init__(dataset)
        self.con = relations.connect(dataset)

    def run(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def close(self) -> None:
        self.con.close()


class SparkEngine(Engine):
    """The dataset as temporary views of a Spark session of its own.

    Args:
        dataset: a validated dataset; its tables reach Spark as Arrow or, for a local
            Spark, the activities as a Parquet file (`_table`).
        master: `local[N]`, `spark://...`, `yarn`, `k8s://...`, or a Spark Connect URL
            `sc://host:port`; default: the Spark already running in this process, else
            `local[*]`. Ignored when `session` is given.
        session: a Spark session to use instead; the engine works in `session.newSession()`
            (classic Spark) so its views and settings do not touch the caller's.
    """

    name = dialect = "spark"

    def __init__(
        self,
        dataset: Dataset,
        *,
        master: str | None = None,
        session: Any = None,
        stop_started_spark: bool = False,
    ):
        super().__init__(dataset)
        self.master = master
        self._stop_on_close = False
        spark_before = spark_running()
        if session is None:
            session, self._stop_on_close = _engine_session(master)
        else:
            session = _isolated(session)
        self.session = session
        # a classic Spark this engine started, stopped with it when asked (one Spark per
        # KPI review rather than one per query, and none left running after it)
        self._stop_spark = stop_started_spark and not spark_before and spark_running()
        self.views: list[str] = []
        self._files: str | None = None  # the folder of tables written for Spark to read
        self._remove_files: weakref.finalize | None = None
        try:
            for key, value in SPARK_SQL_CONF.items():
                session.conf.set(key, value)
            layout = relations.layout_of(dataset)
            tables = relations.engine_tables(dataset, layout)
            with _quiet():
                for name, cols in layout.columns().items():
                    self._table(name, cols, tables.get(name)).createOrReplaceTempView(name)
                    self.views.append(name)
                for name, sql in layout.views().items():
                    spark_sql = relations.to_dialect(sql, "spark")
                    session.sql(f"CREATE OR REPLACE TEMP VIEW {name} AS {spark_sql}")
                    self.views.append(name)
        except BaseException:
            self.close()
            raise

    def _table(self, name: str, columns: list[str], frame: pd.DataFrame | None) -> Any:
        """The Spark DataFrame of engine table `name`. A table the dataset keeps in DuckDB
        (the activities) never goes through pandas: a Spark reading this machine's files
        (local mode) reads it from a Parquet file DuckDB writes into a private temporary
        folder, removed on close; another Spark (a cluster, Spark Connect) receives it as
        Arrow. A table in pandas is sent as Arrow."""
        source = relations.SOURCE_TABLES.get(name, name)
        if not self.dataset.in_store(source):
            if frame is None:
                frame = self.dataset[source][columns]
            return self.session.createDataFrame(arrow_table(frame))
        if not _reads_local_files(self.session):
            return self.session.createDataFrame(self.dataset.store_arrow(source, columns))
        if self._files is None:  # mode 0700: it holds lead ids; gone on close or at exit
            self._files = tempfile.mkdtemp(prefix="maops-spark-tables-")
            self._remove_files = weakref.finalize(self, shutil.rmtree, self._files, True)
        path = os.path.join(self._files, f"{name}.parquet")
        self.dataset.store_to_parquet(source, columns, Path(path))
        return self.session.read.parquet(path)

    def run(self, sql: str) -> pd.DataFrame:
        if self.session is None:
            raise EngineError("this Spark engine is closed")
        with _quiet():
            table = self.session.sql(sql).toArrow()
        return arrow_to_pandas(table, self.session.conf.get("spark.sql.session.timeZone"))

    def close(self) -> None:
        if self.session is None:
            return
        try:
            if self._stop_on_close:  # a Spark Connect session of its own
                self.session.stop()
            else:
                for name in reversed(self.views):
                    self.session.catalog.dropTempView(name)
        finally:
            self.session = None
            if self._remove_files is not None:
                self._remove_files()
            if self._stop_spark:
                stop_spark()


# The backends, by the name the settings use (`core/settings.py`'s ENGINES): the one place
# a new backend is registered.
ENGINE_CLASSES: dict[str, type[Engine]] = {"duckdb": DuckDBEngine, "spark": SparkEngine}


def open_engine(
    name: str, dataset: Dataset, *, master: str | None = None, stop_started_spark: bool = False
) -> Engine:
    """An engine `name` ("duckdb" or "spark") holding `dataset`. For Spark: `master`, and
    whether closing the engine stops a classic Spark that opening it started."""
    _check_name(name)
    if name == "spark":
        return SparkEngine(dataset, master=master, stop_started_spark=stop_started_spark)
    return ENGINE_CLASSES[name](dataset)


def engine_name(engine: str | Engine | None = None) -> str:
    """The name of the engine `engine_for` runs a query on."""
    if isinstance(engine, Engine):
        return engine.name
    if engine is None:
        return "duckdb"
    _check_name(engine)
    return engine


@contextlib.contextmanager
def engine_for(dataset: Dataset, engine: str | Engine | None = None) -> Iterator[Engine]:
    """The engine queries on `dataset` run on, the one way a query chooses it: `engine`
    itself when it is an `Engine` opened for this very dataset (left open: it is the
    caller's), else a new engine of that name (default DuckDB), closed when the block ends."""
    if isinstance(engine, Engine):
        if engine.dataset is not dataset:
            raise ValueError(
                "this engine holds another dataset (a product's slice is a dataset of its own); "
                "open an engine for this dataset or pass the engine's name"
            )
        yield engine
        return
    eng = open_engine(engine_name(engine), dataset)
    try:
        yield eng
    finally:
        eng.close()


def run_query(
    dataset: Dataset, build: Callable[[str], str], engine: str | Engine | None = None
) -> pd.DataFrame:
    """Rows of the query `build(dialect)` on `dataset`, on `engine` (see `engine_for`).

    `build` takes an SQLGlot dialect name, e.g.
    `lambda d: funnel.compile_cohort_query(month, dialect=d)`.
    """
    with engine_for(dataset, engine) as eng:
        return eng.query(build)


def _check_name(name: object) -> None:
    if name not in ENGINE_CLASSES:
        raise ConfigError(
            f"engine '{name}' is not supported; use one of {', '.join(ENGINE_CLASSES)}"
        )


# ---------------------------------------------------------------- Arrow in and out


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A frame of the dataset as Arrow with explicit types: text as string (even when every
    value is missing), datetimes as naive microsecond timestamps, numbers as they are."""
    arrays, names = [], []
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_datetime64_any_dtype(values):
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_localize(None)
            arr = pa.array(values.astype("datetime64[us]"), type=pa.timestamp("us"))
        elif pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            arr = pa.array(values, from_pandas=True)
        else:
            try:
                arr = pa.array(values, type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # a value that is not text
                text = values.astype(object).where(values.notna(), None)
                text = text.map(lambda v: v if v is None or isinstance(v, str) else str(v))
                arr = pa.array(text, type=pa.string(), from_pandas=True)
        arrays.append(arr)
        names.append(str(col))
    return pa.Table.from_arrays(arrays, names=names)


def arrow_to_pandas(table: pa.Table, time_zone: str = SESSION_TIME_ZONE) -> pd.DataFrame:
    """Query rows as pandas; zoned timestamps become naive wall-clock time in `time_zone`
    (the session's), which is what the query computed them in."""
    frame = table.to_pandas()
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            frame[col] = frame[col].dt.tz_convert(time_zone).dt.tz_localize(None)
    return frame


# ---------------------------------------------------------------- Spark sessions

_lock = threading.Lock()
_warehouse: str | None = None


def spark_unavailable() -> str | None:
    """Why a local Spark cannot start here (pyspark or Java missing or too old), or None."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install 'pyspark==4.3.0')"
    version = java_version()
    if version is None:
        return (
            f"no Java runtime found (JAVA_HOME or java on PATH); Spark 4 needs Java {MIN_JAVA}+, "
            "e.g. Debian's openjdk-17-jre-headless"
        )
    if version < MIN_JAVA:
        return f"Java {version} found; Spark 4 needs Java {MIN_JAVA} or newer"
    return None


def java_version() -> int | None:
    """The major version of the Java that Spark would start (JAVA_HOME first), or None."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.path.exists(java):
        return None
    return _java_major(os.path.realpath(java))


@functools.lru_cache(maxsize=8)
def _java_major(java: str) -> int | None:
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not found:
        return None
    major = int(found[1])
    return int(found[2]) if major == 1 and found[2] else major  # "1.8" -> 8


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The process's classic Spark session for `master` (created on first use), set up as
    maops needs it: no UI, a throw-away warehouse folder, UTC session time zone, naive
    timestamps. `conf` adds settings (e.g. `spark.driver.memory`) for the first start."""
    if master is not None and master.startswith("sc://"):
        raise ValueError("a Spark Connect URL has no classic session; use SparkEngine(master=...)")
    reason = spark_unavailable()
    if reason:
        raise EngineError(f"cannot start Spark: {reason}")
    global _warehouse
    with _lock, _quiet():
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        running = SparkContext._active_spark_context
        if running is not None:
            if master is not None and master != running.master:
                raise EngineError(
                    f"Spark is already running here with master {running.master!r}; one process "
                    f"holds one Spark context, so spark_master {master!r} cannot be used as well"
                )
            return SparkSession.builder.getOrCreate()
        if _warehouse is None:
            _warehouse = tempfile.mkdtemp(prefix="maops-spark-")
            atexit.register(shutil.rmtree, _warehouse, True)
        master = master or DEFAULT_SPARK_MASTER
        builder = SparkSession.builder.master(master).appName("maops")
        settings = {"spark.sql.warehouse.dir": _warehouse, **SPARK_SQL_CONF}
        if master.startswith("local"):
            settings.update(_LOCAL_CONF)
            # one shuffle partition per core instead of 200: the aggregates are small
            settings["spark.sql.shuffle.partitions"] = str(_local_cores(master))
        else:
            settings["spark.ui.showConsoleProgress"] = "false"
        settings.update(conf or {})
        for key, value in settings.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
        session.sparkContext.setLogLevel("ERROR")
        return session


def spark_running() -> bool:
    """Whether this process runs a classic Spark context already (never starts one)."""
    if "pyspark" not in sys.modules:
        return False
    from pyspark import SparkContext

    return SparkContext._active_spark_context is not None


def stop_spark() -> None:
    """Stop this process's classic Spark, if one runs: the Spark context, then the Java
    process pyspark started for it (it would otherwise stay until this process ends). The next
    `spark_session` starts both anew. Spark Connect sessions stop with their engine."""
    if not spark_running():
        return
    with _lock, _quiet():
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        if SparkContext._active_spark_context is not None:
            SparkSession.builder.getOrCreate().stop()
        gateway = SparkContext._gateway
        proc = getattr(gateway, "proc", None)  # None: a JVM pyspark did not start itself
        if proc is None:
            return
        try:
            gateway.shutdown()
            proc.stdin.close()  # pyspark's gateway JVM exits when its stdin closes
            proc.wait(timeout=30)
        except Exception:  # a JVM that does not go ends with this process
            return
        SparkContext._gateway = None
        SparkContext._jvm = None


def _local_cores(master: str) -> int:
    if master == "local":
        return 1
    found = re.match(r"local\[(\d+)", master)
    return int(found[1]) if found else os.cpu_count() or 1


def _engine_session(master: str | None) -> tuple[Any, bool]:
    """A session for one engine, and whether the engine stops it when closed."""
    if master is not None and not SPARK_MASTER_RE.match(master):
        raise ValueError(f"{master!r} is not a Spark master (e.g. local[4] or sc://host:15002)")
    if master is not None and master.startswith("sc://"):
        try:
            from pyspark.sql import SparkSession

            with _quiet():
                return SparkSession.builder.remote(master).create(), True
        except ImportError as exc:  # grpcio and friends: pip install 'pyspark[connect]'
            raise EngineError(
                f"Spark Connect needs pyspark's connect extras ({exc}); "
                "pip install 'pyspark[connect]==4.3.0'"
            ) from None
    return _isolated(spark_session(master)), False


def _reads_local_files(session: Any) -> bool:
    """Whether `session` runs its work in this process's machine (a classic local[...]
    Spark), so that it can read a file written here."""
    try:
        return str(session.sparkContext.master).startswith("local")
    except Exception:  # Spark Connect has no SparkContext: the server may be elsewhere
        return False


def _isolated(session: Any) -> Any:
    """A session sharing `session`'s Spark but with views and settings of its own."""
    try:
        return session.newSession()
    except Exception:  # Spark Connect: sessions are separate already
        return session


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # pyspark 4.x warns on every conversion that pandas 3 is "not yet fully supported"; maops
    # hands Spark Arrow tables and reads Arrow back, so pandas never goes through pyspark.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas")
        yield
