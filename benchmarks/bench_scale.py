"""How maops scales: one month's core metrics and the whole monthly batch on a large synthetic
dataset, against plain DuckDB SQL and plain pandas on the same Parquet files.

    .venv/bin/python benchmarks/bench_scale.py                  # 1,000,000 leads (make bench)
    .venv/bin/python benchmarks/bench_scale.py --leads 100000   # the quick run
    .venv/bin/python benchmarks/bench_scale.py --layout single  # activities as one file
    .venv/bin/python benchmarks/bench_scale.py --spark          # also maops on Spark local
    make bench BENCH_ARGS="--leads 100000"                      # the same through make

The dataset (`maops_utils.tools.sample.generate_sample`, 24 months to 2026-10, every table as
Parquet) is generated once, written under benchmarks/data/ in two layouts and reused:
`--layout hive` (the default) has the activities as a Hive-partitioned folder
`activities/month=YYYY-MM/part-0.parquet` (`maops sample --partition-months activities`),
`--layout single` as one file `activities.parquet`.

Every measurement is a fresh process (benchmarks/tasks.py, or `python -m maops_utils run`),
started in a session of its own and ended with all its descendants after `--timeout` seconds.
A task that fails or times out is recorded (status, exit code, the end of its stderr) and the
benchmark goes on. Time: for (a), (c), (d) and (+) the work after imports (median of
`--repeat` runs); for (b) the wall time of the whole `maops run` process, start-up included
(one run). Peak memory, in MB of 2**20 bytes, is the larger of:
  - the OS's peak resident set of the largest single process among the task and the
    descendants it waited for (`ru_maxrss` from `os.wait4`), plus a Spark JVM's own peak;
  - the peak of the summed resident memory of the whole process tree (the task and every
    descendant, e.g. the notebook kernels of the batch), sampled every 0.2 s with psutil
    when it is installed. Shared pages count once per process, so this errs high.
`peak_process_mb` and `peak_tree_mb` give both; `peak_kind` says which one the peak is.
A task whose tree passes `--memory-cap` MB (sampled; default 75% of the machine's memory) is
ended before the OS runs out of memory, and recorded so.

Measured:
  (a) maops          load_dataset (pandas read + contract validation) + compute_metrics
  (a2) maops_warm    the same with the validated-data cache of an earlier run, the month
                     facts removed first (the metric query runs)
  (a3) maops_facts   the same with the month facts kept too (read, not queried)
  (a4) maops_csv     (a) with the activities as one UTF-8 CSV file (about 1.2 GB at 1 M
                     leads; the other tables as Parquet), cold, one run: the CSV is parsed a
                     chunk at a time, so the peak does not grow with the file
  (b) batch          `maops run --data DATA --out TMP --month M --jobs 1`: every default
                     notebook, HTML, index; cold (a fresh output folder)
  (b2) batch_warm    the same output folder again, for the month before M: what a second
                     month costs once the first has run (caches warm, if maops keeps any)
  (b3) batch_jobs2   (b) with `--jobs 2`, into a fresh folder of its own: the notebooks in
                     two kernels at once, the machine's two cores both used
  (b4) batch_next_export
                     the monthly run as it happens: month M on the export that added M's
                     activities, in a folder holding the validated-data cache the run of the
                     month before left on the export before. Set up first, not counted: the
                     export of a month before, DATA without the `month=` partitions of M and
                     later (the other files hard links, byte for byte; with --layout single
                     the activities file written again without those rows), and
                     `maops run` of the month before M on it into a fresh folder (its time and
                     peak are given as `previous_run_s`, `previous_run_peak_mb`). Measured:
                     `maops run --data DATA` of M into that folder, with --jobs 1
  (f) batch_sample   (b) on data/sample (5,000 leads), into a fresh folder of its own: what
                     the batch costs whatever the data (kernels, imports, charts, HTML), the
                     floor under (b2) and (b4)
  (c) duckdb_sql     one hand-written DuckDB query straight on the Parquet files (the base)
  (d) pandas         plain pandas on the Parquet files
  (+) maops_scan     maops's compiled SQL on DuckDB views over the Parquet files (no pandas,
                     no validation): the cost of the planned DuckDB-scan reading step
  (+) maops_spark    (a) with the query on Spark local[*], start-up included (--spark)

Targets (from the issue "Scale: a million leads on one machine"):
  (a) time within 1.5x of (c), and peak < 1 GB (1,024 MB)
  (b) and (b3) wall < 60 s, and peak < 3 GB (3,072 MB)
  (b2) and (b4) wall < 1/3 of (b)
and one of maops's own, for "CSV larger than memory":
  (a4) peak within 10% of (a)'s: a CSV file costs no more memory than Parquet (the CSV is
       parsed a chunk at a time, never held whole; reading it whole took 11 GB at 1 M leads)
Every task's numbers are checked against maops's (the batch's through its metrics.csv). The
table is printed and saved as CSV under benchmarks/results/. See docs/scale.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd

try:
    import psutil
except ImportError:  # the tree's peak is then not sampled; ru_maxrss still is
    psutil = None

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TASKS = HERE / "tasks.py"
DATA = HERE / "data"
RESULTS = HERE / "results"
MARKER = "_complete.json"
BASE = "duckdb_sql"
BATCH = ("batch", "batch_warm", "batch_jobs2", "batch_next_export", "batch_sample")
JOBS = {"batch_jobs2": 2}  # kernels of a batch task (--jobs); 1 when not named
AFTER_BATCH = ("batch_warm", "batch_next_export", "batch_sample")  # × (b)'s time, with (b)
OUT_FOLDERS = {
    "batch_jobs2": "reports-jobs2",
    "batch_next_export": "reports-next-export",
    "batch_sample": "reports-sample",
}
SAMPLE = ROOT / "data" / "sample"
LABELS = {
    "maops": "(a) maops: load + validate + compute",
    "maops_warm": "(a2) maops, validated-data cache warm",
    "maops_facts": "(a3) maops, month facts kept too",
    "maops_csv": "(a4) maops, activities as a CSV file, cold",
    "batch": "(b) whole batch, cold: maops run, HTML",
    "batch_warm": "(b2) whole batch, warm: next month",
    "batch_jobs2": "(b3) whole batch, cold, 2 kernels",
    "batch_next_export": "(b4) whole batch, next month, new export",
    "batch_sample": "(f) whole batch on the sample data",
    "duckdb_sql": "(c) plain DuckDB SQL on Parquet",
    "pandas": "(d) plain pandas on Parquet",
    "maops_scan": "(+) maops SQL on DuckDB Parquet scans",
    "maops_spark": "(+) maops on Spark local[*]",
}
GB = 1024  # MB
TARGETS = {  # task: (text, max seconds (or None), max × (c) seconds, max MB, max × batch)
    "maops": ("≤1.5×(c) time, <1 GB", None, 1.5, 1 * GB, None),
    "maops_warm": ("≤1.5×(c) time, <1 GB", None, 1.5, 1 * GB, None),
    "maops_facts": ("≤1.5×(c) time, <1 GB", None, 1.5, 1 * GB, None),
    "batch": ("<60 s, <3 GB", 60.0, None, 3 * GB, None),
    "batch_warm": ("<1/3 of (b) time", None, None, None, 1 / 3),
    "batch_jobs2": ("<60 s, <3 GB", 60.0, None, 3 * GB, None),
    "batch_next_export": ("<1/3 of (b) time", None, None, None, 1 / 3),
    "maops_csv": ("peak ≤ 1.1×(a)'s", None, None, None, None),
}
SAMPLE_EVERY = 0.2  # seconds between samples of the process tree's memory
GRACE = 10.0  # seconds between SIGTERM and SIGKILL on a timeout


# ---------------------------------------------------------------- one measured process


class _TreeSampler(threading.Thread):
    """The peak of the summed RSS of a process and all its descendants, every 0.2 s; with a
    cap (bytes), the process group is killed when the sum passes it."""

    def __init__(self, pid: int, cap: int = 0) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.cap = cap
        self.over_cap = False
        self.peak = 0
        self.most_processes = 0
        self._done = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while True:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.most_processes = max(self.most_processes, len(procs))
            if self.cap and total > self.cap and not self.over_cap:
                self.over_cap = True
                _signal_group(self.pid, signal.SIGKILL)
            if self._done.wait(SAMPLE_EVERY):
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


def _signal_group(pgid: int, sig: int) -> bool:
    """Signal the process group we started (its id is our child's pid)."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def run_measured(
    cmd: list[str], timeout: float, cwd: Path | None = None, memory_cap_mb: float = 0
) -> dict:
    """Run `cmd` in a new session: exit status, wall time, stdout, the end of stderr and the
    peaks (`ru_maxrss` of the largest waited process; the tree's summed RSS, with psutil).
    After `timeout` seconds the whole session gets SIGTERM, then SIGKILL; so does a tree whose
    sampled memory passes `memory_cap_mb` (with psutil; 0: no cap). Whatever of the session
    is left when the command ends is killed too."""
    timed_out = threading.Event()

    def expire(pgid: int) -> None:
        timed_out.set()
        if _signal_group(pgid, signal.SIGTERM):
            time.sleep(GRACE)
            _signal_group(pgid, signal.SIGKILL)

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, start_new_session=True)
        cap = int(memory_cap_mb * 2**20)
        sampler = _TreeSampler(proc.pid, cap) if psutil is not None else None
        if sampler is not None:
            sampler.start()
        timer = threading.Timer(timeout, expire, (proc.pid,))
        timer.daemon = True
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        if sampler is not None:
            sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        _signal_group(proc.pid, signal.SIGKILL)  # orphans of a killed or careless task
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    code = proc.returncode
    if timed_out.is_set():
        state = f"timeout after {timeout:.0f} s"
    elif sampler is not None and sampler.over_cap:
        state = f"killed: over the memory cap of {memory_cap_mb:,.0f} MB"
    elif code == 0:
        state = "ok"
    elif code < 0:
        state = f"killed by {signal.Signals(-code).name}"
    else:
        state = f"exit {code}"
    return {
        "status": state,
        "exit_code": code,
        "process_s": wall,
        "stdout": stdout,
        "stderr_tail": stderr[-2000:].strip(),
        # kilobytes on Linux
        "peak_process_mb": usage.ru_maxrss / 1024,
        "peak_tree_mb": sampler.peak / 2**20 if sampler is not None else float("nan"),
        "processes": sampler.most_processes if sampler is not None else 0,
    }


def _peak(r: dict, extra_mb: float = 0.0) -> dict:
    process = r["peak_process_mb"] + extra_mb
    tree = r["peak_tree_mb"]
    kind = "tree" if tree == tree and tree > process else "process"
    return {"peak_mb": max(process, tree) if tree == tree else process, "peak_kind": kind}


def run_task(args: list[str], timeout: float, memory_cap_mb: float = 0) -> dict:
    """One task of tasks.py in a fresh Python process; its JSON report merged in when it
    succeeded."""
    r = run_measured([sys.executable, str(TASKS), *args], timeout, memory_cap_mb=memory_cap_mb)
    report: dict = {"phases": {}, "work_s": float("nan"), "import_rss_mb": float("nan")}
    if r["status"] == "ok":
        try:
            report = json.loads(r["stdout"].strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            r["status"] = "no report"
    r.update(report)
    # a JVM's own peak (Spark): pyspark never waits for it, so ru_maxrss leaves it out
    r.update(_peak(r, r["phases"].get("jvm_peak_mb", 0.0)))
    return r


# ---------------------------------------------------------------- the dataset


def dataset(
    leads: int,
    months: int,
    seed: int,
    end_month: str,
    layout: str,
    regenerate: bool,
    timeout: float,
) -> Path:
    """The dataset folder in `layout`, generated (both layouts at once) if missing."""
    single = DATA / f"leads-{leads}-m{months}-s{seed}-{end_month}"
    hive = single.with_name(single.name + "-hive")
    folder = hive if layout == "hive" else single
    if (folder / MARKER).is_file() and not regenerate:
        print(f"reusing {folder.relative_to(ROOT)}", flush=True)
        return folder
    if layout == "hive" and (single / MARKER).is_file() and not regenerate:
        print(f"partitioning the activities of {single.relative_to(ROOT)} by month ...", flush=True)
        r = run_task(["partition", str(single), str(hive)], timeout)
    else:
        print(f"generating {leads:,} leads over {months} months (seed {seed}) ...", flush=True)
        r = run_task(
            ["generate", str(single), str(hive), str(leads), str(months), str(seed), end_month],
            timeout,
        )
    if r["status"] != "ok":
        raise SystemExit(f"writing the dataset failed ({r['status']}):\n{r['stderr_tail']}")
    p = r["phases"]
    print(
        "  "
        + ", ".join(f"{k} {v:.1f} s" for k, v in p.items() if k != "rows")
        + f"; peak {r['peak_mb']:,.0f} MB: {p['rows']}",
        flush=True,
    )
    return folder


def csv_dataset(folder: Path, args: argparse.Namespace) -> Path:
    """The dataset with the activities as one CSV file, written once from the single-file
    layout (`tasks.py tocsv`)."""
    single = dataset(
        args.leads, args.months, args.seed, args.end_month, "single", False, args.timeout
    )
    csv = single.with_name(single.name + "-csv")
    if (csv / MARKER).is_file():
        print(f"reusing {csv.relative_to(ROOT)}", flush=True)
        return csv
    print(f"writing the activities of {single.relative_to(ROOT)} as CSV ...", flush=True)
    r = run_task(["tocsv", str(single), str(csv)], args.timeout)
    if r["status"] != "ok":
        raise SystemExit(f"writing the CSV dataset failed ({r['status']}):\n{r['stderr_tail']}")
    return csv


# ---------------------------------------------------------------- checks and the table


def same_numbers(
    reference: pd.DataFrame | None, other: pd.DataFrame | None, *, subset: bool = False
) -> bool | None:
    """Every (product, metric) of the reference, with the same value (1e-9 relative); with
    `subset`, those of the reference that `other` has (at least one). None if either is
    missing."""
    if reference is None or other is None:
        return None
    a = reference.set_index(["product", "metric"])["value"].astype("float64")
    b = other.set_index(["product", "metric"])["value"].astype("float64")
    if subset:
        a = a[a.index.isin(b.index)]
    if not set(a.index) <= set(b.index) or len(a) == 0:
        return False
    b = b.reindex(a.index)
    if not (a.isna() == b.isna()).all():
        return False
    both = a.notna()
    return bool(((a[both] - b[both]).abs() <= 1e-9 * a[both].abs().clip(lower=1)).all())


def judge(row: dict, base: dict | None, cold: dict | None, parquet: dict | None) -> str:
    """PASS or MISS against the task's target; '' without a target; '?' when not measurable."""
    if row["task"] not in TARGETS:
        return ""
    if row["status"] != "ok":
        return "MISS"
    _, max_s, max_x_c, max_mb, max_x_batch = TARGETS[row["task"]]
    ok = True
    if row["task"] == "maops_csv":
        if parquet is None or parquet["status"] != "ok":
            return "?"
        ok &= row["peak_mb"] <= 1.1 * parquet["peak_mb"]
    if max_s is not None:
        ok &= row["seconds"] < max_s
    if max_mb is not None:
        ok &= row["peak_mb"] < max_mb
    if max_x_c is not None:
        if base is None or base["status"] != "ok":
            return "?"
        ok &= row["seconds"] <= max_x_c * base["seconds"]
    if max_x_batch is not None:
        if cold is None or cold["status"] != "ok":
            return "?"
        ok &= row["seconds"] < max_x_batch * cold["seconds"]
    return "PASS" if ok else "MISS"


def previous_month(month: str) -> str:
    return str(pd.Period(month, "M") - 1)


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--leads", type=int, default=1_000_000, help="leads to generate (1,000,000)")
    ap.add_argument("--months", type=int, default=24, help="months of data (24)")
    ap.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    ap.add_argument("--end-month", default="2026-10", help="last month of data (2026-10)")
    ap.add_argument("--month", default=None, help="month measured (default: --end-month)")
    ap.add_argument(
        "--layout",
        choices=("hive", "single"),
        default="hive",
        help="activities as a Hive-partitioned folder by month, or as one file (hive)",
    )
    ap.add_argument(
        "--repeat", type=int, default=3, help="runs of each metric task; median time (3)"
    )
    ap.add_argument(
        "--tasks",
        default="maops,maops_warm,maops_facts,maops_csv,batch,batch_warm,batch_jobs2,"
        "batch_next_export,batch_sample,duckdb_sql,pandas,maops_scan",
        help="tasks to run, comma-separated (maops,maops_warm,maops_facts,maops_csv,batch,"
        "batch_warm,batch_jobs2,batch_next_export,batch_sample,duckdb_sql,pandas,maops_scan)",
    )
    ap.add_argument("--spark", action="store_true", help="also run maops on Spark local[*]")
    ap.add_argument("--spark-repeat", type=int, default=1, help="runs of the Spark task (1)")
    ap.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds each task's process may take before it is ended, its whole process "
        "tree with it (900)",
    )
    ap.add_argument(
        "--memory-cap",
        type=float,
        default=None,
        metavar="MB",
        help="end a task whose process tree holds more than MB resident (sampled every 0.2 s, "
        "needs psutil) before the OS runs out; recorded as its status (default: 75%% of the "
        "machine's memory; 0: no cap)",
    )
    ap.add_argument("--regenerate", action="store_true", help="write the dataset again")
    args = ap.parse_args()

    if args.memory_cap is None:
        total = psutil.virtual_memory().total / 2**20 if psutil is not None else 0
        args.memory_cap = round(0.75 * total)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    if args.spark and "maops_spark" not in tasks:
        tasks.append("maops_spark")
    unknown = [t for t in tasks if t not in LABELS]
    if unknown:
        ap.error(f"unknown task(s) {unknown}; choose from {', '.join(LABELS)}")
    if "batch_warm" in tasks and "batch" not in tasks:
        ap.error("batch_warm runs after batch, in its output folder: add batch to --tasks")
    if "batch_next_export" in tasks and "batch" not in tasks:
        ap.error("batch_next_export is timed against batch: add batch to --tasks")
    tasks.sort(key=list(LABELS).index)
    month = args.month or args.end_month
    folder = dataset(
        args.leads, args.months, args.seed, args.end_month, args.layout, args.regenerate,
        args.timeout,
    )  # fmt: skip
    info = json.loads((folder / MARKER).read_text(encoding="utf-8"))

    rows: list[dict] = []
    outputs: dict[str, pd.DataFrame | None] = {}
    with tempfile.TemporaryDirectory(prefix="maops-bench-") as tmp:
        reports = Path(tmp) / "reports"
        for task in tasks:
            if task in BATCH:  # (b3) cold, (b4) with its own cache: output folders of their own
                out = Path(tmp) / OUT_FOLDERS[task] if task in OUT_FOLDERS else reports
                row, outputs[task] = measure_batch(task, folder, month, out, rows, args)
            elif task == "maops_csv":
                csv = csv_dataset(folder, args)
                row, outputs[task] = measure_task(task, csv, month, Path(tmp), args)
                row["input_mb"] = (csv / "activities.csv").stat().st_size / 2**20
            else:
                row, outputs[task] = measure_task(task, folder, month, Path(tmp), args)
            rows.append(row)

    # numbers: against maops's, or the first task that gave any
    candidates = ["maops", *(t for t in tasks if t not in BATCH)]
    ref_task = next((t for t in candidates if outputs.get(t) is not None), None)
    reference = outputs.get(ref_task) if ref_task else None
    for row in rows:
        other = outputs.get(row["task"])
        row["same_numbers_as"] = ref_task if other is not None else ""
        row["same_numbers"] = same_numbers(reference, other, subset=row["task"] in BATCH)
    by_task = {r["task"]: r for r in rows}
    base, cold = by_task.get(BASE), by_task.get("batch")
    for row in rows:
        ok_base = base is not None and base["status"] == "ok" and row["status"] == "ok"
        row["time_x_c"] = row["seconds"] / base["seconds"] if ok_base else float("nan")
        row["memory_x_c"] = row["peak_mb"] / base["peak_mb"] if ok_base else float("nan")
        row["target"] = TARGETS.get(row["task"], ("",))[0]
        row["result"] = judge(row, base, cold, by_task.get("maops"))
    for name in AFTER_BATCH:
        if name in by_task:
            warm = by_task[name]
            ok = cold is not None and cold["status"] == "ok" and warm["status"] == "ok"
            warm["warm_x_cold"] = warm["seconds"] / cold["seconds"] if ok else float("nan")

    table = pd.DataFrame(rows)
    first = [
        "task", "what", "status", "seconds", "time_x_c", "peak_mb", "memory_x_c", "target",
        "result", "warm_x_cold", "same_numbers", "same_numbers_as", "month_run", "timing",
    ]  # fmt: skip
    table = table[[c for c in first if c in table] + [c for c in table if c not in first]]
    import duckdb
    import pyarrow

    for key, value in {
        "leads": args.leads,
        "activities": info["rows"]["activities"],
        "layout": args.layout,
        "month": month,
        "memory_cap_mb": args.memory_cap,
        "cpus": os.cpu_count(),
        "psutil": psutil.__version__ if psutil is not None else "",
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }.items():
        table[key] = value

    print()
    print(
        f"{args.leads:,} leads, {info['rows']['activities']:,} activities "
        f"(layout {args.layout}), month {month}, {os.cpu_count()} CPUs; "
        f"metric tasks: median of {args.repeat} run(s) after imports; batch: 1 run, whole process"
        + (f"; memory cap {args.memory_cap:,.0f} MB per task" if args.memory_cap else "")
    )
    print(render(table))
    for _, r in table.iterrows():
        if r["phases"]:
            print(f"  {r['task']}: {r['phases']}")
    for _, r in table[table["status"] != "ok"].iterrows():
        text = r["stderr_tail"] if isinstance(r["stderr_tail"], str) else ""
        tail = "\n      ".join(text.splitlines()[-6:]) or "(nothing on stderr)"
        print(f"  {r['task']} did not finish ({r['status']}):\n      {tail}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"scale-{args.leads}-{args.layout}-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    table.to_csv(path, index=False)
    print(f"saved {path.relative_to(ROOT)}")
    if any(v is False for v in table["same_numbers"]):  # None: not compared
        raise SystemExit("some task gave other numbers than maops: see the same_numbers column")


def measure_task(
    task: str, folder: Path, month: str, tmp: Path, args: argparse.Namespace
) -> tuple[dict, pd.DataFrame | None]:
    repeat = args.spark_repeat if task == "maops_spark" else args.repeat
    repeat = 1 if task == "maops_csv" else repeat  # minutes each; the peak is the point
    runs, output = [], None
    if task in ("maops_warm", "maops_facts"):  # an unmeasured run fills the cache they read
        run_task([task, str(folder), month, str(tmp / "prime.parquet")], args.timeout, 0)
    for i in range(repeat):
        out = tmp / f"{task}-{i}.parquet"
        r = run_task([task, str(folder), month, str(out)], args.timeout, args.memory_cap)
        runs.append(r)
        if r["status"] != "ok":
            print(f"  {task:<12} run {i + 1}/{repeat}: {r['status']}", flush=True)
            break
        output = pd.read_parquet(out)
        print(
            f"  {task:<12} run {i + 1}/{repeat}: {r['work_s']:7.2f} s, "
            f"peak {r['peak_mb']:7,.0f} MB  "
            + " ".join(f"{k}={v:.2f}" for k, v in r["phases"].items() if k != "rows"),
            flush=True,
        )
    good = [r for r in runs if r["status"] == "ok"]
    failed = runs[-1] if runs[-1]["status"] != "ok" else None
    phases = (
        {k: statistics.median(r["phases"][k] for r in good) for k in good[0]["phases"]}
        if good
        else {}
    )
    nan = float("nan")
    row = {
        "task": task,
        "what": LABELS[task],
        "status": failed["status"] if failed else "ok",
        "exit_code": failed["exit_code"] if failed else 0,
        "seconds": statistics.median(r["work_s"] for r in good) if good and not failed else nan,
        "seconds_min": min(r["work_s"] for r in good) if good else nan,
        "seconds_max": max(r["work_s"] for r in good) if good else nan,
        "process_s": statistics.median(r["process_s"] for r in runs),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "peak_process_mb": max(r["peak_process_mb"] for r in runs),
        "peak_tree_mb": max(r["peak_tree_mb"] for r in runs),
        "peak_kind": max(runs, key=lambda r: r["peak_mb"])["peak_kind"],
        "import_rss_mb": statistics.median(r["import_rss_mb"] for r in good) if good else nan,
        "runs": len(runs),
        "timing": "work after imports, median",
        "phases": "; ".join(
            f"{k} {v:.0f} MB" if k.endswith("_mb") else f"{k} {v:.2f} s" for k, v in phases.items()
        ),
        "stderr_tail": failed["stderr_tail"] if failed else "",
    }
    return row, (output if not failed else None)


def measure_batch(
    task: str, folder: Path, month: str, reports: Path, rows: list[dict], args: argparse.Namespace
) -> tuple[dict, pd.DataFrame | None]:
    nan = float("nan")
    run_month = previous_month(month) if task == "batch_warm" else month
    jobs = JOBS.get(task, 1)
    row = {
        "task": task,
        "what": LABELS[task],
        "month_run": run_month,
        "runs": 1,
        "timing": "whole process, 1 run",
        "phases": "",
    }
    cold = next((r for r in rows if r["task"] == "batch"), None)
    if task == "batch_warm" and (cold is None or cold["status"] != "ok"):
        row.update(
            status="skipped: (b) did not finish", exit_code=None, seconds=nan, peak_mb=nan,
            stderr_tail="",
        )  # fmt: skip
        print(f"  {task:<12} skipped: the cold batch did not finish", flush=True)
        return row, None
    if task == "batch_next_export":  # the month before, on the export before: not counted
        row.update(_previous_export_run(task, folder, month, reports, args))
        if row.get("status"):
            row.update(seconds=nan, peak_mb=nan)
            return row, None
    # the sample in its own month: the one a plain `maops run` reports
    data, month_args = (SAMPLE, []) if task == "batch_sample" else (folder, ["--month", run_month])
    cmd = [
        sys.executable, "-m", "maops_utils", "run", "--data", str(data), "--out", str(reports),
        *month_args, "--jobs", str(jobs),
    ]  # fmt: skip
    r = run_measured(cmd, args.timeout, cwd=ROOT, memory_cap_mb=args.memory_cap)
    if task == "batch_sample":
        done = sorted(p.name for p in reports.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9]"))
        run_month = row["month_run"] = done[-1] if done else ""
    r.update(_peak(r))
    row.update(
        status=r["status"],
        exit_code=r["exit_code"],
        seconds=r["process_s"],
        process_s=r["process_s"],
        peak_mb=r["peak_mb"],
        peak_process_mb=r["peak_process_mb"],
        peak_tree_mb=r["peak_tree_mb"],
        peak_kind=r["peak_kind"],
        processes=r["processes"],
        stderr_tail=r["stderr_tail"] if r["status"] != "ok" else "",
    )
    output = None
    metrics = reports / run_month / "metrics.csv"
    if r["status"] == "ok":
        row["phases"] = _notebook_seconds(reports / run_month, jobs)
        if task == "batch_next_export":
            row["cache"] = _cache_states(reports / run_month)
            row["phases"] = "; ".join(
                p
                for p in (
                    f"{row['previous_run_month']} on the export before "
                    f"{row['previous_run_s']:.2f} s, peak {row['previous_run_peak_mb']:,.0f} MB "
                    "(not counted)",
                    f"validated-data cache {row['cache']}" if row["cache"] else "",
                    row["phases"],
                )
                if p
            )
        if run_month == month and metrics.is_file() and task != "batch_sample":
            output = pd.read_csv(metrics, encoding="utf-8-sig")[["product", "metric", "value"]]
    print(
        f"  {task:<12} {run_month}: {r['status']}, {r['process_s']:7.2f} s, "
        f"peak {r['peak_mb']:7,.0f} MB ({r['peak_kind']}; largest process "
        f"{r['peak_process_mb']:,.0f} MB, up to {r['processes']} processes)  {row['phases']}",
        flush=True,
    )
    return row, output


def _previous_export_run(
    task: str, folder: Path, month: str, reports: Path, args: argparse.Namespace
) -> dict:
    """(b4)'s set-up, not counted: the export of the month before M beside `reports`
    (`tasks.py earlier`: DATA without the activities of M and later, the other files the
    same) and `maops run` of the month before on it into `reports`, which fills the
    validated-data cache there (`<out>/.cache`, params/run.yaml's `cache_dir`). Its time and
    peak; with `status` when either step failed (the measured run is then not made)."""
    earlier = reports.parent / "export-before"
    r = run_task(["earlier", str(folder), str(earlier), month], args.timeout)
    if r["status"] != "ok":
        print(f"  {task:<12} the export before: {r['status']}", flush=True)
        return {
            "status": f"set-up, the export before: {r['status']}",
            "exit_code": r["exit_code"],
            "stderr_tail": r["stderr_tail"],
        }
    print(
        f"  {task:<12} the export before, without {month} and later: "
        + ", ".join(
            f"{k} {v:.2f} s" if isinstance(v, float) else f"{k} {v:,}"
            for k, v in r["phases"].items()
        ),
        flush=True,
    )
    prev = previous_month(month)
    cmd = [
        sys.executable, "-m", "maops_utils", "run", "--data", str(earlier), "--out", str(reports),
        "--month", prev, "--jobs", "1",
    ]  # fmt: skip
    r = run_measured(cmd, args.timeout, cwd=ROOT, memory_cap_mb=args.memory_cap)
    r.update(_peak(r))
    print(
        f"  {task:<12} {prev} on the export before (not counted): {r['status']}, "
        f"{r['process_s']:7.2f} s, peak {r['peak_mb']:7,.0f} MB",
        flush=True,
    )
    info = {
        "previous_run_month": prev,
        "previous_run_s": r["process_s"],
        "previous_run_peak_mb": r["peak_mb"],
    }
    if r["status"] != "ok":
        info.update(
            status=f"set-up, {prev} on the export before: {r['status']}",
            exit_code=r["exit_code"],
            stderr_tail=r["stderr_tail"],
        )
    return info


def _cache_states(month_dir: Path) -> str:
    """What the run did with the validated-data cache, by table (its run.json's inputs,
    "<state> (<entry>)[; <detail>]"), e.g. "read: leads, stage_changes; written (1 of 24
    file(s) typed anew): activities"."""
    try:
        inputs = json.loads((month_dir / "run.json").read_text(encoding="utf-8"))["inputs"]
        states: dict[str, list[str]] = {}
        for name, src in inputs.items():
            if src.get("cache"):
                found = re.match(r"(.*?) \((.*?)\)(?:; (.*))?$", str(src["cache"]))
                state = str(src["cache"]) if found is None else found[1]
                if found is not None and found[3]:
                    state += f" ({found[3]})"
                states.setdefault(state, []).append(name)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return ""
    return "; ".join(f"{state}: {', '.join(names)}" for state, names in states.items())


def _notebook_seconds(month_dir: Path, jobs: int = 1) -> str:
    """Where the batch's time went, from its run log (run.json): the run as maops times it
    (reading, validating and the review included, interpreter start and imports not), and
    each notebook's execution and rendering (with `jobs` > 1 they overlap, so the time
    outside them is not their difference)."""
    try:
        log = json.loads((month_dir / "run.json").read_text(encoding="utf-8"))
        total = float(log["seconds"])
        notebooks = {nb["name"]: float(nb["seconds"]) for nb in log.get("notebooks", [])}
        parts = [f"maops run {total:.2f} s"]
        if jobs == 1:
            parts.append(f"before and after the notebooks {total - sum(notebooks.values()):.2f} s")
        else:
            parts.append(f"notebooks in {jobs} kernels")
        parts += [f"{name} {sec:.2f} s" for name, sec in notebooks.items()]
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    return "; ".join(parts)


def render(table: pd.DataFrame) -> str:
    def num(v: float, fmt: str) -> str:
        return "—" if pd.isna(v) else fmt.format(v)

    shown = pd.DataFrame(
        {
            "": table["what"].str.ljust(table["what"].str.len().max()),
            "seconds": [num(v, "{:.2f}") for v in table["seconds"]],
            "time ×(c)": [num(v, "{:.1f}") for v in table["time_x_c"]],
            "peak MB": [num(v, "{:,.0f}") for v in table["peak_mb"]],
            "memory ×(c)": [num(v, "{:.1f}") for v in table["memory_x_c"]],
            "target": table["target"],
            "result": table["result"],
            "numbers": [{True: "same", False: "DIFFER"}.get(v, "—") for v in table["same_numbers"]],
            "status": table["status"],
        }
    )
    if "warm_x_cold" in table:
        for i, v in table["warm_x_cold"].items():
            if pd.notna(v):
                shown.loc[i, "target"] = f"{shown.loc[i, 'target']} (×(b) {v:.2f})".strip()
    if "input_mb" in table:
        for i, v in table["input_mb"].items():
            if pd.notna(v):
                shown.loc[i, "target"] = f"{shown.loc[i, 'target']} (file {v:,.0f} MB)"
    return shown.to_string(index=False)


if __name__ == "__main__":
    main()
