"""How maops scales: one month's core metrics on a large synthetic dataset, against plain
DuckDB SQL and plain pandas on the same Parquet files.

    .venv/bin/python benchmarks/bench_scale.py                  # 1,000,000 leads (make bench)
    .venv/bin/python benchmarks/bench_scale.py --leads 100000   # the quick run
    .venv/bin/python benchmarks/bench_scale.py --spark          # also maops on Spark local

The dataset (`maops_utils.sample.generate_sample`, 24 months to 2026-10) is written once as
Parquet under benchmarks/data/ and reused. Every measurement is a fresh process
(benchmarks/tasks.py): wall time of the work after imports, and peak resident memory of the
process from the OS (`os.wait4`). Each task's numbers are checked against maops's. The table
is printed and saved as CSV under benchmarks/results/. See docs/scale.md for the reading.

Measured:
  (a) maops          load_dataset (pandas read + contract validation) + compute_metrics
  (b) the batch      not measured yet: notebooks and HTML rendering on top of (a)
  (c) duckdb_sql     one hand-written DuckDB query straight on the Parquet files (the base)
  (d) pandas         plain pandas on the Parquet files
  (+) maops_scan     maops's compiled SQL on DuckDB views over the Parquet files (no pandas,
                     no validation): the cost of the planned DuckDB-scan reading step
  (+) maops_spark    (a) with the query on Spark local[*], start-up included (--spark)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
TASKS = HERE / "tasks.py"
DATA = HERE / "data"
RESULTS = HERE / "results"
BASE = "duckdb_sql"
LABELS = {
    "maops": "(a) maops: load + validate + compute",
    "duckdb_sql": "(c) plain DuckDB SQL on Parquet",
    "pandas": "(d) plain pandas on Parquet",
    "maops_scan": "(+) maops SQL on DuckDB Parquet scans",
    "maops_spark": "(+) maops on Spark local[*]",
}


def run_process(args: list[str]) -> dict:
    """Run one task in a fresh Python process: its JSON report, wall time and peak RSS."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(TASKS), *args], stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read()[-3000:]
            raise SystemExit(f"task {args[0]} failed (exit {proc.returncode}):\n{tail}")
        report = json.loads(out.read().strip().splitlines()[-1])
    report["process_s"] = wall
    # kilobytes on Linux; plus a JVM's own peak (Spark), which the OS does not count here
    report["peak_rss_mb"] = usage.ru_maxrss / 1024 + report.get("phases", {}).get("jvm_peak_mb", 0)
    return report


def dataset(leads: int, months: int, seed: int, end_month: str, regenerate: bool) -> Path:
    folder = DATA / f"leads-{leads}-m{months}-s{seed}-{end_month}"
    marker = folder / "_complete.json"
    if marker.is_file() and not regenerate:
        print(f"reusing {folder.relative_to(HERE.parent)}", flush=True)
        return folder
    print(f"generating {leads:,} leads over {months} months (seed {seed}) ...", flush=True)
    marker.unlink(missing_ok=True)
    r = run_process(["generate", str(folder), str(leads), str(months), str(seed), end_month])
    p = r["phases"]
    print(
        f"  generated in {p['generate']:.1f} s, written in {p['write']:.1f} s, "
        f"peak {r['peak_rss_mb']:,.0f} MB: {p['rows']}",
        flush=True,
    )
    return folder


def same_numbers(reference: pd.DataFrame, other: pd.DataFrame) -> bool:
    """Every (product, metric) of the reference, with the same value (1e-9 relative)."""
    a = reference.set_index(["product", "metric"])["value"]
    b = other.set_index(["product", "metric"])["value"]
    if not set(a.index) <= set(b.index) or len(a) == 0:
        return False
    b = b.reindex(a.index)
    if not (a.isna() == b.isna()).all():
        return False
    both = a.notna()
    return bool(((a[both] - b[both]).abs() <= 1e-9 * a[both].abs().clip(lower=1)).all())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--leads", type=int, default=1_000_000, help="leads to generate (1,000,000)")
    ap.add_argument("--months", type=int, default=24, help="months of data (24)")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    ap.add_argument("--end-month", default="2026-10", help="last month of data (2026-10)")
    ap.add_argument("--month", default=None, help="month measured (default: --end-month)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each task; median time (3)")
    ap.add_argument("--tasks", default="maops,duckdb_sql,pandas,maops_scan", help="tasks to run")
    ap.add_argument("--spark", action="store_true", help="also run maops on Spark local[*]")
    ap.add_argument("--spark-repeat", type=int, default=1, help="runs of the Spark task (1)")
    ap.add_argument("--regenerate", action="store_true", help="write the dataset again")
    args = ap.parse_args()

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.spark and "maops_spark" not in tasks:
        tasks.append("maops_spark")
    unknown = [t for t in tasks if t not in LABELS]
    if unknown:
        ap.error(f"unknown task(s) {unknown}; choose from {', '.join(LABELS)}")
    month = args.month or args.end_month
    folder = dataset(args.leads, args.months, args.seed, args.end_month, args.regenerate)
    info = json.loads((folder / "_complete.json").read_text(encoding="utf-8"))

    rows, outputs = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for task in tasks:
            runs = []
            repeat = args.spark_repeat if task == "maops_spark" else args.repeat
            for i in range(repeat):
                out = Path(tmp) / f"{task}-{i}.parquet"
                r = run_process([task, str(folder), month, str(out)])
                runs.append(r)
                print(
                    f"  {task:<12} run {i + 1}/{repeat}: {r['work_s']:7.2f} s, "
                    f"peak {r['peak_rss_mb']:7,.0f} MB  "
                    + " ".join(f"{k}={v:.2f}" for k, v in r["phases"].items() if k != "rows"),
                    flush=True,
                )
            outputs[task] = pd.read_parquet(out)
            phases = {
                k: statistics.median(r["phases"][k] for r in runs) for k in runs[0]["phases"]
            }
            rows.append(
                {
                    "task": task,
                    "what": LABELS[task],
                    "work_s": statistics.median(r["work_s"] for r in runs),
                    "work_s_min": min(r["work_s"] for r in runs),
                    "work_s_max": max(r["work_s"] for r in runs),
                    "process_s": statistics.median(r["process_s"] for r in runs),
                    "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                    "import_rss_mb": statistics.median(r["import_rss_mb"] for r in runs),
                    "runs": repeat,
                    "phases": "; ".join(
                        f"{k} {v:.0f} MB" if k.endswith("_mb") else f"{k} {v:.2f} s"
                        for k, v in phases.items()
                    ),
                }
            )

    table = pd.DataFrame(rows)
    reference = "maops" if "maops" in outputs else tasks[0]
    table["same_numbers_as_maops"] = [same_numbers(outputs[reference], outputs[t]) for t in tasks]
    if BASE in outputs:
        base = table.set_index("task").loc[BASE]
        table["time_x_c"] = table["work_s"] / base["work_s"]
        table["memory_x_c"] = table["peak_rss_mb"] / base["peak_rss_mb"]
    import duckdb
    import pyarrow

    for key, value in {
        "leads": args.leads,
        "activities": info["rows"]["activities"],
        "month": month,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }.items():
        table[key] = value

    print()
    print(
        f"{args.leads:,} leads, {info['rows']['activities']:,} activities, month {month}, "
        f"{os.cpu_count()} CPUs, median of {args.repeat} run(s); (b) the whole batch: not measured"
    )
    shown = table[["what", "work_s", "peak_rss_mb", "same_numbers_as_maops"]].copy()
    if "time_x_c" in table:
        shown.insert(2, "time ×(c)", table["time_x_c"].map("{:.1f}".format))
        shown["memory ×(c)"] = table["memory_x_c"].map("{:.1f}".format)
    shown["work_s"] = shown["work_s"].map("{:.2f}".format)
    shown["peak_rss_mb"] = shown["peak_rss_mb"].map("{:,.0f}".format)
    print(shown.rename(columns={"work_s": "seconds", "peak_rss_mb": "peak MB"}).to_string(index=False))
    for _, r in table.iterrows():
        print(f"  {r['task']}: {r['phases']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"scale-{args.leads}-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    table.to_csv(path, index=False)
    print(f"saved {path.relative_to(HERE.parent)}")
    if not table["same_numbers_as_maops"].all():
        raise SystemExit("some task gave other numbers than maops: see same_numbers_as_maops")


if __name__ == "__main__":
    main()
