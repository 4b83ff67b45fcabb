"""What several test files need: the command line as a user runs it, a byte snapshot of
folders, a copy of the project to add notebooks or change settings in, a notebook that
fails, and two scoring studies compared field by field."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd

from maops_utils.reports.scoring.propose import Fit

ROOT = Path(__file__).resolve().parents[1]
# the bundled sample company's settings (targets, KPIs of its own), for its data
SAMPLE_PARAMS = ROOT / "workspaces" / "sample" / "params"


def maops(
    *args: object, cwd: Path = ROOT, timeout: int = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m maops_utils ARGS` in a subprocess, output captured as text; `env`: variables
    set for it on top of this process's."""
    return subprocess.run(
        [sys.executable, "-m", "maops_utils", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env} if env else None,
    )


def snapshot(*folders: Path) -> dict[str, bytes]:
    """Every file under `folders` and its bytes, to prove nothing changed."""
    return {
        str(p): p.read_bytes()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def make_project(base: Path) -> Path:
    """A workspace under `base` with the sample company's settings (reading data/sample,
    writing `base/reports`) and a copy of the notebooks, to add notebooks to."""
    shutil.copytree(SAMPLE_PARAMS, base / "params")
    run_yaml = base / "params" / "run.yaml"
    text = run_yaml.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^data_dir: \S+", f"data_dir: {(ROOT / 'data' / 'sample').as_posix()}", text)
    run_yaml.write_text(re.sub(r"(?m)^out_dir: \S+", "out_dir: reports", text), encoding="utf-8")
    shutil.copytree(ROOT / "notebooks", base / "notebooks")
    return base


def add_broken_notebook(project: Path, message: str) -> str:
    """Write `notebooks/99_broken.ipynb` into `project`: the KPI notebook with a last cell
    raising RuntimeError(message). Returns the notebook's name for `--notebooks`."""
    broken = nbformat.read(ROOT / "notebooks" / "01_kpi_evaluation.ipynb", as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell(f"raise RuntimeError({message!r})"))
    nbformat.write(broken, project / "notebooks" / "99_broken.ipynb")
    return "99_broken"


def assert_same_study(a, b) -> None:
    """Two studies hold the same results, field by field (frames and series exactly)."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        elif isinstance(x, Fit):
            pd.testing.assert_series_equal(x.coefficients, y.coefficients, check_exact=True)
            pd.testing.assert_series_equal(x.points, y.points, check_exact=True)
            assert (x.intercept, x.model, x.base_points) == (y.intercept, y.model, y.base_points)
        else:
            assert x == y, f.name
