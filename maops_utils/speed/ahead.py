"""Work a monthly run does ahead of the notebooks that read it.

Some reports begin with a long computation whose result is kept in the validated-data
cache: the data-quality report the 名寄せ candidate pairs of every lead, the scoring report
the scoring points of every activity. Each declares it in its package (`Needs.prepare`,
`core/needs.py`: an item and the function that computes it). With a cache, `maops run`
computes the items its notebooks' reports declare in a process of its own, started once the
data has been checked, while the other notebooks run; the notebooks that read an item start
after it and read the result instead of computing it (docs/scale.md). They compute anything
this process could not, so what it does never changes a number, only when it is done.

The process is `python -m maops_utils.speed.ahead SPEC` (SPEC: JSON, see `Ahead`). It prints one
JSON line per item when it is done: `{"item": ..., "error": null or what went wrong, "at":
epoch seconds}`.
"""

from __future__ import annotations

import gc
import importlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

# The memory each DuckDB database of the process may take before it spills.
MEMORY_LIMIT = "600MB"
# With `prepare_ahead: auto`, inputs from which on the process is started: below, what it
# prepares takes about as long as its own start (about 2.5 s of imports and loading), and
# with two jobs it would hold a place a notebook could use (the sample's batch: 14.5 s
# without, 17.6 s with).
MIN_LEADS = 200_000
MIN_ACTIVITIES = 5_000_000


def worth_it(setting: str, leads: int, activities: int) -> bool:
    """Whether a run with `prepare_ahead: setting` starts the process, for inputs of `leads`
    and `activities` rows."""
    if setting == "auto":
        return leads >= MIN_LEADS or activities >= MIN_ACTIVITIES
    return setting == "always"


def done_mark(dataset: Any, params_dir: Path, items: Sequence[str]) -> str | None:
    """The name of the mark a process keeps with the input (`Dataset.facts`) once it
    prepared every one of `items` for it, these settings and this code
    (`scoring.study.code_key`). What it prepares does not depend on the report month, so a
    later run on the same input, for any month, finds the mark and starts no process: its
    notebooks read what is kept (and compute what is not, as always). None without a cache,
    or when the settings cannot be read (the process then starts, and each item says what is
    wrong)."""
    if getattr(dataset, "facts", None) is None:
        return None
    from ..reports.scoring import load_config
    from ..reports.scoring.study import kept_name

    try:
        config = load_config(params_dir)
    except Exception:
        return None
    return kept_name(config, "prepared", *items, suffix=".kept")


def prepared_before(dataset: Any, params_dir: Path, items: Sequence[str]) -> bool:
    """Whether a process prepared every one of `items` for this input already (`done_mark`)."""
    mark = done_mark(dataset, params_dir, items)
    return mark is not None and dataset.facts.value(mark) is not None


def _leave_mark(dataset: Any, params_dir: Path, items: Sequence[str]) -> None:
    """Leave `done_mark` (not kept: the next run prepares again, and finds everything kept)."""
    mark = done_mark(dataset, params_dir, items)
    if mark is not None:
        dataset.facts.keep_value(mark, {"items": list(items), "at": time.time()})


def prepare(target: str, dataset: Any, params_dir: Path, month: str) -> None:
    """Compute and keep the item whose function is `target` ("module:function", as a report
    declares it in `Needs.prepare`) for the report `month`."""
    module, _, function = target.partition(":")
    if not module.startswith("maops_utils.reports.") or not function.isidentifier():
        raise ValueError(f"not a report's function: {target!r}")
    getattr(importlib.import_module(module), function)(dataset, params_dir, month)


def main(argv: Sequence[str] | None = None) -> int:
    """The process: load the checked data from the cache, then prepare each item in turn."""
    from ..contract import store
    from ..contract.load import load_dataset
    from ..core.settings import parse_as_of

    # it runs beside a notebook's kernel: its DuckDB queries (the scoring points' sums per
    # period, 1.5 GB at 1 M leads) spill rather than take what the kernel needs
    store.MEMORY_LIMIT = MEMORY_LIMIT
    # stopped by the run (`Ahead.close`): exit through Python, so that the folder its DuckDB
    # databases spill into is removed (atexit) rather than left in the temporary folder
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    spec = json.loads((list(argv) if argv is not None else sys.argv[1:])[0])
    dataset = load_dataset(
        spec["data_dir"],
        timezone=spec["timezone"],
        encoding=spec["encoding"],
        as_of=parse_as_of(spec["as_of"], spec["timezone"]),
        cache_dir=spec["cache_dir"],
        snapshot=spec["snapshot"],
    )
    targets, failed = spec["items"], False
    items = list(targets)
    for i, item in enumerate(items):
        try:
            prepare(targets[item], dataset, Path(spec["params_dir"]), spec["month"])
            error = None
        except Exception as exc:  # the notebook computes it itself, and says what is wrong
            error = f"{type(exc).__name__}: {exc}"
            failed = True
        gc.collect()  # what the item held, before the next one
        if i == len(items) - 1 and not failed:  # before the run hears of the last item
            _leave_mark(dataset, Path(spec["params_dir"]), items)
        print(json.dumps({"item": item, "error": error, "at": time.time()}), flush=True)
    return 0


class Ahead:
    """The process preparing `items` (item -> "module:function") for a run's notebooks.

    `wait(item)` blocks until that item is done (or the process stopped) and says what went
    wrong, if anything; `close()` stops the process if it still runs. Threads may wait at once.
    """

    def __init__(
        self,
        items: Mapping[str, str],
        *,
        data_dir: Path,
        params_dir: Path,
        cache_dir: Path,
        timezone: str,
        encoding: str,
        as_of: pd.Timestamp,
        month: str,
        snapshot: str = "",
    ):
        spec = {
            "items": dict(items),  # item -> the function computing it ("module:function")
            "data_dir": str(data_dir),
            "params_dir": str(params_dir),
            "cache_dir": str(cache_dir),
            "timezone": timezone,
            "encoding": encoding,
            "as_of": as_of.isoformat(),
            "month": month,
            "snapshot": snapshot,  # the input as the run read it
        }
        self.items = tuple(items)
        self._done: dict[str, str | None] = {}
        self._at: dict[str, float] = {}  # when the process said it was done (epoch seconds)
        self._lock = threading.Lock()
        self._stopped = False
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "maops_utils.speed.ahead", json.dumps(spec)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # a failure is the notebook's to report
            text=True,
        )

    def wait(self, item: str) -> str | None:
        """None when `item` is ready; else why it is not (the notebook then computes it)."""
        with self._lock:
            while item not in self._done:
                assert self._proc.stdout is not None
                line = self._proc.stdout.readline()
                if not line:  # the process ended without it
                    code = self._proc.wait()
                    why = (
                        "the run ended before it was ready"
                        if self._stopped
                        else f"the process preparing it stopped with exit code {code}"
                    )
                    for name in self.items:
                        self._done.setdefault(name, why)
                    break
                try:
                    done = json.loads(line)
                    self._done[str(done["item"])] = done["error"]
                    self._at[str(done["item"])] = float(done["at"])
                except (ValueError, KeyError, TypeError):
                    continue  # not one of its lines
            return self._done.get(item, f"{item} was not asked for")

    def close(self) -> dict[str, dict[str, str | None]]:
        """Stop the process if it still runs. What became of each item: `problem` (None: it
        is ready) and `ready_at` (when, ISO 8601 in UTC; None when it is not)."""
        if self._proc.poll() is None:
            self._stopped = True
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        problems = {item: self.wait(item) for item in self.items}  # what it printed, to its end
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        return {
            item: {
                "problem": problem,
                "ready_at": None
                if problem or item not in self._at
                else pd.Timestamp(self._at[item], unit="s", tz="UTC").isoformat(),
            }
            for item, problem in problems.items()
        }


if __name__ == "__main__":
    raise SystemExit(main())
