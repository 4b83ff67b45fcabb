"""The measured tasks of bench_scale.py, one per process: `python tasks.py TASK DATA MONTH OUT`.

DATA is a dataset folder with every table as Parquet, in one of two layouts: one file per
table (`activities.parquet`), or the activities as a Hive-partitioned folder
(`activities/month=YYYY-MM/part-0.parquet`, as `maops sample --partition-months activities`
writes it). Every task reads either layout.

Each task computes the core metrics of one month, per product and `ALL`, and writes them as a
long frame `product, metric, value` to OUT (Parquet) so the harness can check that every way
gives the same numbers. It prints one JSON line: the seconds of each phase (after imports) and
the resident memory once imports were done; the harness reads the peak from the OS.

Tasks:
  maops         maops as a monthly run does it: read every table with pandas, validate every row
                against the data contract, copy into DuckDB, compute (load_dataset +
                compute_metrics)
  maops_scan    maops's compiled metric SQL on DuckDB views over the Parquet files: no pandas,
                no validation (what reading through DuckDB scans would cost)
  maops_spark   as `maops`, with the query on Spark in local mode (engine="spark"), start-up
                included
  duckdb_sql    one hand-written DuckDB query straight on the Parquet files
  pandas        plain pandas on the Parquet files (only the columns needed)
  generate      write the synthetic dataset in both layouts:
                `tasks.py generate SINGLE HIVE LEADS MONTHS SEED END`
  partition     the Hive layout of a dataset already written as single files, with the same
                writer as `maops sample --partition-months` (no new generation):
                `tasks.py partition SINGLE HIVE`
  tocsv         the same dataset with the activities as one UTF-8 CSV file, as an MA tool
                exports them (timestamps `YYYY-MM-DD HH:MM:SS`, empty cells for none):
                `tasks.py tocsv SINGLE CSV`; `maops_csv` is `maops` on it
  earlier       the export of a month before, for the batch on a new export (bench_scale.py
                (b4)): the tables of DATA without the activities of MONTH and after, as the
                same files (hard links, copies where a link cannot be made):
                `tasks.py earlier DATA EARLIER MONTH`
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

from maops_utils.backends import relations

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TABLES = ("leads", "activities", "stage_changes", "opportunities")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bounds(month: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(f"{month}-01")
    return start, start + pd.offsets.MonthBegin(1)


def _table_path(data: Path, name: str) -> Path:
    """`<name>.parquet`, or the folder `<name>/` of a Hive-partitioned table."""
    folder = data / name
    return folder if folder.is_dir() else data / f"{name}.parquet"


def _scan(data: Path, name: str) -> str:
    """The DuckDB table function reading one table in either layout."""
    path = _table_path(data, name)
    if path.is_dir():
        pattern = (path / "**" / "*.parquet").as_posix()
        return f"read_parquet('{pattern}', hive_partitioning = true)"
    return f"read_parquet('{path.as_posix()}')"


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    """product-indexed wide frame -> product, metric, value."""
    out = wide.rename_axis("product").reset_index().melt("product", var_name="metric")
    return out[["product", "metric", "value"]].astype({"value": "float64"})


# ---------------------------------------------------------------- maops


def task_maops(data: Path, month: str, phases: dict) -> pd.DataFrame:
    from maops_utils.contract.files import read_raw_dataset
    from maops_utils.contract.rules import validate
    from maops_utils.metrics import compute as mx

    t = time.perf_counter()
    raw = read_raw_dataset(data)
    phases["read"] = time.perf_counter() - t
    t = time.perf_counter()
    dataset = validate(raw)
    del raw
    phases["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    out = mx.compute_metrics(dataset, [month])
    phases["compute"] = time.perf_counter() - t
    return out[["product", "metric", "value"]]


CACHE_DIR: Path | None = None  # set by main: beside the task's output


def task_maops_warm(data: Path, month: str, phases: dict) -> pd.DataFrame:
    """(a) with the validated-data cache of an earlier run (`load_dataset(cache_dir=...)`),
    the month's metric facts removed first, so that the metric query runs."""
    assert CACHE_DIR is not None
    for kept in CACHE_DIR.glob("facts-*"):
        shutil.rmtree(kept)
    return _maops_cached(data, month, phases)


def task_maops_facts(data: Path, month: str, phases: dict) -> pd.DataFrame:
    """(a2) with the month's metric facts kept too: the metric query is not run again."""
    return _maops_cached(data, month, phases)


def _maops_cached(data: Path, month: str, phases: dict) -> pd.DataFrame:
    from maops_utils.contract.load import load_dataset
    from maops_utils.metrics import compute as mx

    t = time.perf_counter()
    dataset = load_dataset(data, cache_dir=CACHE_DIR)
    phases["read+validate"] = time.perf_counter() - t
    t = time.perf_counter()
    out = mx.compute_metrics(dataset, [month])
    phases["compute"] = time.perf_counter() - t
    return out[["product", "metric", "value"]]


def task_maops_spark(data: Path, month: str, phases: dict) -> pd.DataFrame:
    from maops_utils.backends import engines
    from maops_utils.contract.load import load_dataset
    from maops_utils.metrics import compute as mx

    t = time.perf_counter()
    dataset = load_dataset(data)
    phases["read+validate"] = time.perf_counter() - t
    t = time.perf_counter()
    engines.spark_session(conf={"spark.driver.memory": "6g"})
    phases["spark start"] = time.perf_counter() - t
    t = time.perf_counter()
    with engines.SparkEngine(dataset) as eng:
        phases["load into spark"] = time.perf_counter() - t
        t = time.perf_counter()
        out = mx.compute_metrics(dataset, [month], engine=eng)
    phases["compute"] = time.perf_counter() - t
    # The JVM is a child process pyspark never waits for, so the OS does not add its memory
    # to this process's peak: read its high-water mark before it goes.
    jvm = eng_jvm_pid()
    if jvm:
        phases["jvm_peak_mb"] = _vm_hwm_mb(jvm)
    return out[["product", "metric", "value"]]


def eng_jvm_pid() -> int | None:
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    proc = getattr(gateway, "proc", None)
    return proc.pid if proc is not None else None


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def task_maops_scan(data: Path, month: str, phases: dict) -> pd.DataFrame:
    import duckdb

    from maops_utils.metrics import compute as mx

    t = time.perf_counter()
    con = duckdb.connect(":memory:")
    p = {name: _scan(data, name) for name in TABLES}
    con.execute(
        "CREATE VIEW leads AS SELECT lead_id, created_at, product, "
        f"COALESCE(lead_source, 'unknown') AS lead_source FROM {p['leads']}"
    )
    con.execute(
        "CREATE VIEW activities_input AS SELECT lead_id, activity_type, occurred_at, campaign_id, "
        f"category FROM {p['activities']}"
    )
    con.execute(
        f"CREATE VIEW stage_changes AS SELECT lead_id, stage, changed_at FROM {p['stage_changes']}"
    )
    con.execute(
        "CREATE VIEW opportunities_input AS SELECT opportunity_id, lead_id, product, created_at, "
        f"status, closed_at, CAST(amount AS DOUBLE) AS amount FROM {p['opportunities']}"
    )
    for name, sql in relations.VIEWS_SQL.items():
        con.execute(f"CREATE VIEW {name} AS {sql}")
    products = sorted(
        r[0]
        for r in con.execute(
            "SELECT DISTINCT product FROM leads UNION SELECT DISTINCT product FROM opportunities_input"
        ).fetchall()
    )
    phases["open"] = time.perf_counter() - t
    t = time.perf_counter()
    out = mx.compute_metrics(None, [month], con=con, groups={"product": products})  # type: ignore[arg-type]
    phases["compute"] = time.perf_counter() - t
    con.close()
    return out[["product", "metric", "value"]]


# ---------------------------------------------------------------- plain DuckDB SQL

PLAIN_SQL = """
WITH
leads AS (SELECT lead_id, product, created_at FROM {leads}),
acts AS (
  SELECT l.product,
    COUNT(*) FILTER (WHERE a.activity_type = 'email_send') AS email_sends,
    COUNT(*) FILTER (WHERE a.activity_type = 'email_bounce') AS email_bounces,
    COUNT(*) FILTER (WHERE a.activity_type = 'unsubscribe') AS unsubscribes,
    COUNT(DISTINCT (a.lead_id, a.campaign_id)) FILTER (WHERE a.activity_type = 'email_open')
      AS email_open_pairs,
    COUNT(DISTINCT (a.lead_id, a.campaign_id)) FILTER (WHERE a.activity_type = 'email_click')
      AS email_click_pairs,
    COUNT(*) FILTER (WHERE a.activity_type = 'page_view' AND a.category = 'product_detail')
      AS product_page_views,
    COUNT(*) FILTER (WHERE a.activity_type = 'form_submit' AND a.category = 'inquiry')
      AS inquiries
  FROM {activities} AS a JOIN leads AS l USING (lead_id)
  WHERE a.occurred_at >= TIMESTAMP '{start}' AND a.occurred_at < TIMESTAMP '{end}'
  GROUP BY l.product
),
firsts AS (
  SELECT s.lead_id, s.stage, MIN(s.changed_at) AS entered_at
  FROM {stage_changes} AS s GROUP BY s.lead_id, s.stage
),
stages AS (
  SELECT l.product,
    COUNT(*) FILTER (WHERE f.stage = 'mql') AS mqls,
    COUNT(*) FILTER (WHERE f.stage = 'sql') AS sqls
  FROM firsts AS f JOIN leads AS l USING (lead_id)
  WHERE f.entered_at >= TIMESTAMP '{start}' AND f.entered_at < TIMESTAMP '{end}'
  GROUP BY l.product
),
opps AS (
  SELECT product,
    COUNT(*) FILTER (WHERE created_at >= TIMESTAMP '{start}' AND created_at < TIMESTAMP '{end}')
      AS opportunities,
    COUNT(*) FILTER (WHERE status = 'won' AND closed_at >= TIMESTAMP '{start}'
      AND closed_at < TIMESTAMP '{end}') AS won_deals,
    COALESCE(SUM(amount) FILTER (WHERE status = 'won' AND closed_at >= TIMESTAMP '{start}'
      AND closed_at < TIMESTAMP '{end}'), 0) AS revenue,
    COUNT(*) FILTER (WHERE status IN ('won', 'lost') AND closed_at >= TIMESTAMP '{start}'
      AND closed_at < TIMESTAMP '{end}') AS closed_deals
  FROM {opportunities} GROUP BY product
),
new_leads AS (
  SELECT product, COUNT(*) AS new_leads FROM leads
  WHERE created_at >= TIMESTAMP '{start}' AND created_at < TIMESTAMP '{end}' GROUP BY product
),
products AS (SELECT product FROM leads UNION SELECT product FROM opps),
per_product AS (
  SELECT p.product,
    COALESCE(n.new_leads, 0) AS new_leads, COALESCE(s.mqls, 0) AS mqls,
    COALESCE(s.sqls, 0) AS sqls, COALESCE(o.opportunities, 0) AS opportunities,
    COALESCE(o.won_deals, 0) AS won_deals, COALESCE(o.revenue, 0) AS revenue,
    COALESCE(o.closed_deals, 0) AS closed_deals,
    COALESCE(a.email_sends, 0) AS email_sends, COALESCE(a.email_bounces, 0) AS email_bounces,
    COALESCE(a.email_open_pairs, 0) AS email_open_pairs,
    COALESCE(a.email_click_pairs, 0) AS email_click_pairs,
    COALESCE(a.unsubscribes, 0) AS unsubscribes,
    COALESCE(a.product_page_views, 0) AS product_page_views,
    COALESCE(a.inquiries, 0) AS inquiries
  FROM products AS p
  LEFT JOIN new_leads AS n USING (product) LEFT JOIN stages AS s USING (product)
  LEFT JOIN opps AS o USING (product) LEFT JOIN acts AS a USING (product)
),
with_all AS (
  SELECT * FROM per_product
  UNION ALL
  SELECT 'ALL', SUM(new_leads), SUM(mqls), SUM(sqls), SUM(opportunities), SUM(won_deals),
    SUM(revenue), SUM(closed_deals), SUM(email_sends), SUM(email_bounces),
    SUM(email_open_pairs), SUM(email_click_pairs), SUM(unsubscribes),
    SUM(product_page_views), SUM(inquiries)
  FROM per_product
)
SELECT product, new_leads, mqls, sqls, opportunities, won_deals, revenue,
  mqls / NULLIF(new_leads, 0) AS mql_rate,
  sqls / NULLIF(mqls, 0) AS sql_rate,
  won_deals / NULLIF(closed_deals, 0) AS win_rate,
  email_sends, email_sends - email_bounces AS email_delivered,
  email_open_pairs / NULLIF(email_sends - email_bounces, 0) AS email_open_rate,
  email_click_pairs / NULLIF(email_sends - email_bounces, 0) AS email_ctr,
  email_click_pairs / NULLIF(email_open_pairs, 0) AS email_ctor,
  unsubscribes / NULLIF(email_sends - email_bounces, 0) AS unsubscribe_rate,
  product_page_views, inquiries
FROM with_all
"""


def task_duckdb_sql(data: Path, month: str, phases: dict) -> pd.DataFrame:
    import duckdb

    start, end = _bounds(month)
    files = {name: _scan(data, name) for name in TABLES}
    t = time.perf_counter()
    con = duckdb.connect(":memory:")
    wide = con.execute(PLAIN_SQL.format(start=start, end=end, **files)).df()
    con.close()
    phases["query"] = time.perf_counter() - t
    return _long(wide.set_index("product"))


# ---------------------------------------------------------------- plain pandas


def task_pandas(data: Path, month: str, phases: dict) -> pd.DataFrame:
    import numpy as np

    start, end = _bounds(month)
    t = time.perf_counter()

    def read(name: str, columns: list[str]) -> pd.DataFrame:
        # a Hive folder is read as a pyarrow dataset; `month` comes from the path, unused here
        return pd.read_parquet(_table_path(data, name), columns=columns)

    leads = read("leads", ["lead_id", "product", "created_at"])
    acts = read(
        "activities", ["lead_id", "activity_type", "occurred_at", "campaign_id", "category"]
    )
    stages = read("stage_changes", ["lead_id", "stage", "changed_at"])
    opps = read("opportunities", ["product", "status", "created_at", "closed_at", "amount"])
    phases["read"] = time.perf_counter() - t
    t = time.perf_counter()
    product_of = leads.set_index("lead_id")["product"]

    def in_month(s: pd.Series) -> pd.Series:
        return (s >= start) & (s < end)

    acts = acts[in_month(acts["occurred_at"])]
    acts = acts.assign(product=acts["lead_id"].map(product_of)).dropna(subset=["product"])
    typ, cat = acts["activity_type"], acts["category"]
    counts = {
        "email_sends": acts[typ == "email_send"],
        "email_bounces": acts[typ == "email_bounce"],
        "unsubscribes": acts[typ == "unsubscribe"],
        "product_page_views": acts[(typ == "page_view") & (cat == "product_detail")],
        "inquiries": acts[(typ == "form_submit") & (cat == "inquiry")],
        "email_open_pairs": acts[typ == "email_open"].drop_duplicates(["lead_id", "campaign_id"]),
        "email_click_pairs": acts[typ == "email_click"].drop_duplicates(["lead_id", "campaign_id"]),
    }
    firsts = stages.groupby(["lead_id", "stage"], as_index=False)["changed_at"].min()
    firsts = firsts[in_month(firsts["changed_at"])]
    firsts = firsts.assign(product=firsts["lead_id"].map(product_of)).dropna(subset=["product"])
    counts["mqls"] = firsts[firsts["stage"] == "mql"]
    counts["sqls"] = firsts[firsts["stage"] == "sql"]
    counts["new_leads"] = leads[in_month(leads["created_at"])]
    counts["opportunities"] = opps[in_month(opps["created_at"])]
    closed = opps[in_month(opps["closed_at"])]
    won = closed[closed["status"] == "won"]
    counts["won_deals"] = won
    counts["closed_deals"] = closed[closed["status"].isin(["won", "lost"])]
    products = sorted(set(leads["product"]) | set(opps["product"]))
    wide = pd.DataFrame(
        {name: frame.groupby("product").size() for name, frame in counts.items()}, index=products
    ).fillna(0)
    wide["revenue"] = won.groupby("product")["amount"].sum()
    wide = wide.fillna(0.0).astype("float64")
    wide.loc["ALL"] = wide.sum()
    wide["email_delivered"] = wide["email_sends"] - wide["email_bounces"]

    def ratio(num: str, den: str) -> pd.Series:
        d = wide[den]
        return (wide[num] / d.where(d != 0, np.nan)).astype("float64")

    wide["mql_rate"] = ratio("mqls", "new_leads")
    wide["sql_rate"] = ratio("sqls", "mqls")
    wide["win_rate"] = ratio("won_deals", "closed_deals")
    wide["email_open_rate"] = ratio("email_open_pairs", "email_delivered")
    wide["email_ctr"] = ratio("email_click_pairs", "email_delivered")
    wide["email_ctor"] = ratio("email_click_pairs", "email_open_pairs")
    wide["unsubscribe_rate"] = ratio("unsubscribes", "email_delivered")
    phases["compute"] = time.perf_counter() - t
    internal = [
        "email_bounces",
        "unsubscribes",
        "closed_deals",
        "email_open_pairs",
        "email_click_pairs",
    ]
    return _long(wide.drop(columns=internal))


# ---------------------------------------------------------------- data


MARKER = "_complete.json"


def generate(single: Path, hive: Path, leads: int, months: int, seed: int, end_month: str) -> dict:
    """Generate once; write every table as Parquet, in both layouts (`maops sample`'s writer,
    with `--partition-months activities` for HIVE). The marker file is written last."""
    from maops_utils.tools.sample import generate_sample, write_sample

    t = time.perf_counter()
    tables = generate_sample(leads=leads, months=months, seed=seed, end_month=end_month)
    gen = time.perf_counter() - t
    rows = {name: len(frame) for name, frame in tables.items()}
    info = {"leads": leads, "months": months, "seed": seed, "end_month": end_month, "rows": rows}
    phases: dict = {"generate": gen}
    for layout, folder in (("single", single), ("hive", hive)):
        (folder / MARKER).unlink(missing_ok=True)
        t = time.perf_counter()
        partition = ("activities",) if layout == "hive" else ()
        write_sample(tables, folder, parquet=tuple(tables), partition_months=partition)
        phases[f"write {layout}"] = time.perf_counter() - t
        text = json.dumps({**info, "layout": layout}, indent=2) + "\n"
        (folder / MARKER).write_text(text, encoding="utf-8")
    return {**phases, "rows": rows}


def partition(single: Path, hive: Path) -> dict:
    """HIVE from the files of SINGLE: the same rows, activities partitioned by month."""
    from maops_utils.tools.sample import MONTH_COLUMNS, write_month_partitions

    (hive / MARKER).unlink(missing_ok=True)
    hive.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    for name in (*TABLES, "campaigns"):
        src = single / f"{name}.parquet"
        if not src.is_file():
            continue
        if name == "activities":
            (hive / "activities.parquet").unlink(missing_ok=True)
            write_month_partitions(pd.read_parquet(src), hive / name, MONTH_COLUMNS[name])
        else:
            (hive / src.name).write_bytes(src.read_bytes())
    info = json.loads((single / MARKER).read_text(encoding="utf-8"))
    text = json.dumps({**info, "layout": "hive"}, indent=2) + "\n"
    (hive / MARKER).write_text(text, encoding="utf-8")
    return {"write hive": time.perf_counter() - t, "rows": info["rows"]}


def tocsv(single: Path, target: Path) -> dict:
    """CSV from the files of SINGLE: the small tables copied, the activities written as CSV
    by DuckDB (fast; the cells are what `maops sample` writes to CSV)."""
    import duckdb

    (target / MARKER).unlink(missing_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    for name in (*TABLES, "campaigns"):
        src = single / f"{name}.parquet"
        if src.is_file() and name != "activities":
            shutil.copyfile(src, target / src.name)
    src, out = single / "activities.parquet", target / "activities.csv"
    con = duckdb.connect()
    names = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{src}')").fetchall()]
    select = ", ".join(
        f"strftime({c}, '%Y-%m-%d %H:%M:%S') AS {c}" if c == "occurred_at" else c for c in names
    )
    con.execute(
        f"COPY (SELECT {select} FROM read_parquet('{src}')) TO '{out}.part' (HEADER, DELIMITER ',')"
    )
    Path(f"{out}.part").replace(out)
    info = json.loads((single / MARKER).read_text(encoding="utf-8"))
    text = json.dumps({**info, "layout": "csv", "csv_bytes": out.stat().st_size}, indent=2) + "\n"
    (target / MARKER).write_text(text, encoding="utf-8")
    return {"write csv": time.perf_counter() - t, "rows": info["rows"]}


def _link(src: Path, dst: Path) -> bool:
    """`dst` as a hard link to `src` (True), or a copy of it where no link can be made."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
        return True
    except OSError:
        shutil.copy2(src, dst)
        return False


def earlier(full: Path, target: Path, month: str) -> dict:
    """TARGET: the export FULL was a month before MONTH, the activities of MONTH and later
    left out. Every other table, and in the Hive layout every other `month=...` partition,
    is the same file (hard-linked, or copied), byte for byte; a single activities file is
    written again without those rows (in batches; nulls kept, as their partition is)."""
    from maops_utils.tools.sample import MONTH_COLUMNS, NULL_PARTITION

    t = time.perf_counter()
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    counts = {"files linked": 0, "files copied": 0}
    for src in sorted(full.iterdir()):
        if src.is_file() and src.suffix.lower() == ".parquet" and src.stem != "activities":
            counts["files linked" if _link(src, target / src.name) else "files copied"] += 1
    single, folder = full / "activities.parquet", full / "activities"
    if folder.is_dir():
        counts.update({"months kept": 0, "months left out": 0})
        for part in sorted(p for p in folder.iterdir() if p.is_dir()):
            value = part.name.removeprefix("month=")
            if part.name.startswith("month=") and value != NULL_PARTITION and value >= month:
                counts["months left out"] += 1
                continue
            counts["months kept"] += 1
            for src in sorted(f for f in part.rglob("*") if f.is_file()):
                dst = target / "activities" / src.relative_to(folder)
                counts["files linked" if _link(src, dst) else "files copied"] += 1
    elif single.is_file():
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        column, cut = MONTH_COLUMNS["activities"], pd.Timestamp(f"{month}-01")
        reader = pq.ParquetFile(single)
        counts.update({"files written": 1, "rows kept": 0, "rows left out": 0})
        with pq.ParquetWriter(target / single.name, reader.schema_arrow, compression="zstd") as w:
            for batch in reader.iter_batches(batch_size=1 << 20):
                table = pa.Table.from_batches([batch])
                at = table[column]
                if getattr(at.type, "tz", None) is not None:  # wall-clock time, as partitioned
                    at = pc.local_timestamp(at)
                bound = pa.scalar(cut.to_datetime64(), pa.timestamp(at.type.unit))
                kept = table.filter(pc.or_kleene(pc.less(at, bound), pc.is_null(at)))
                w.write_table(kept)
                counts["rows kept"] += kept.num_rows
                counts["rows left out"] += table.num_rows - kept.num_rows
    else:
        raise SystemExit(f"{full}: no activities.parquet or activities/ folder")
    if not counts.get("months left out", counts.get("rows left out")):
        raise SystemExit(f"{full}: no activities of {month} or later to leave out")
    return {"write earlier export": time.perf_counter() - t, **counts}


TASKS = {
    "maops": task_maops,
    "maops_csv": task_maops,
    "maops_warm": task_maops_warm,
    "maops_facts": task_maops_facts,
    "maops_scan": task_maops_scan,
    "maops_spark": task_maops_spark,
    "duckdb_sql": task_duckdb_sql,
    "pandas": task_pandas,
}


def main(argv: list[str]) -> None:
    if argv[0] == "generate":
        single, hive, leads, months, seed, end = argv[1:7]
        phases = generate(Path(single), Path(hive), int(leads), int(months), int(seed), end)
        print(json.dumps({"task": "generate", "phases": phases, "import_rss_mb": 0.0}))
        return
    if argv[0] in ("partition", "tocsv"):
        derive = partition if argv[0] == "partition" else tocsv
        phases = derive(Path(argv[1]), Path(argv[2]))
        print(json.dumps({"task": argv[0], "phases": phases, "import_rss_mb": 0.0}))
        return
    if argv[0] == "earlier":
        phases = earlier(Path(argv[1]), Path(argv[2]), argv[3])
        print(json.dumps({"task": "earlier", "phases": phases, "import_rss_mb": 0.0}))
        return
    task, data, month, out = argv[0], Path(argv[1]), argv[2], Path(argv[3])
    fn = TASKS[task]
    global CACHE_DIR
    CACHE_DIR = out.parent / "validated-data-cache"
    # import what the task needs before the clock starts: start-up is not the work
    import duckdb  # noqa: F401
    import pyarrow  # noqa: F401

    import maops_utils.contract.load  # noqa: F401
    import maops_utils.metrics.compute  # noqa: F401

    import_rss = _rss_mb()
    phases: dict[str, float] = {}
    t = time.perf_counter()
    result = fn(data, month, phases)
    work = time.perf_counter() - t
    result.reset_index(drop=True).to_parquet(out, index=False)
    print(json.dumps({"task": task, "work_s": work, "phases": phases, "import_rss_mb": import_rss}))


if __name__ == "__main__":
    main(sys.argv[1:])
