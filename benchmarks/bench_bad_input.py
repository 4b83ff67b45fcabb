"""How long `maops run` takes to report bad input, against `maops validate` on the same data.

A run on bad input must say so about as fast as the check alone: it reads its settings,
validates, and stops before any kernel starts (the target: within 1.5 times `maops validate`).
Each case is a copy of data/sample with one fatal problem; the two commands alternate,
`--repeat` times each, and the median of each is compared.

    .venv/bin/python benchmarks/bench_bad_input.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def _missing_column(folder: Path) -> None:
    leads = pd.read_csv(folder / "leads.csv", dtype=str, keep_default_na=False)
    leads.drop(columns=["created_at"]).to_csv(folder / "leads.csv", index=False)


def _late_bad_timestamp(folder: Path) -> None:
    """An unreadable timestamp in the last activity: found only after every row is read."""
    path = folder / "activities.parquet"
    frame = pd.read_parquet(path)
    frame["occurred_at"] = frame["occurred_at"].astype("str")
    frame.loc[frame.index[-1], "occurred_at"] = "2026-13-45 25:61"
    frame.to_parquet(path, index=False)


CASES = {"missing_column": _missing_column, "late_bad_timestamp": _late_bad_timestamp}


def _seconds(args: list[str]) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "maops_utils", *args], cwd=ROOT, capture_output=True, text=True
    )
    return time.perf_counter() - t0, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="runs of each command (5)")
    args = ap.parse_args()
    print(f"bad input on data/sample: median of {args.repeat} run(s) each, alternating")
    print(f"{'case':<20} {'validate s':>10} {'run s':>8} {'run/validate':>12}  target <= 1.5")
    failed = False
    with tempfile.TemporaryDirectory(prefix="maops-bench-bad-") as tmp:
        for name, spoil in CASES.items():
            data = Path(tmp) / name
            shutil.copytree(SAMPLE, data)
            spoil(data)
            out = Path(tmp) / f"reports-{name}"
            times: dict[str, list[float]] = {"validate": [], "run": []}
            for _ in range(args.repeat):
                for command in ("validate", "run"):
                    extra = ["--out", str(out), "--no-cache"] if command == "run" else []
                    seconds, code = _seconds([command, "--data", str(data), *extra])
                    if code == 0:
                        raise SystemExit(f"{name}: maops {command} accepted bad input")
                    times[command].append(seconds)
            v, r = (statistics.median(times[c]) for c in ("validate", "run"))
            ok = r <= 1.5 * v
            failed |= not ok
            print(f"{name:<20} {v:>10.2f} {r:>8.2f} {r / v:>12.2f}  {'pass' if ok else 'MISS'}")
    if failed:
        raise SystemExit("a run on bad input took more than 1.5 times maops validate")


if __name__ == "__main__":
    main()
