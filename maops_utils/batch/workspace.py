"""A company's own workspace: the folder holding its `params/` (and, if it wants, notebooks of
its own), where a run finds its notebooks, and `maops init`, which creates one."""

from __future__ import annotations

import re
from pathlib import Path

from ..core.errors import ConfigError
from ..core.settings import shipped

_NOTEBOOK_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")  # a file name, never a path


def notebook_dirs(params_dir: Path) -> list[Path]:
    """Where a run looks for its notebooks, first match wins: the workspace's own
    `notebooks/` (a notebook there replaces the shipped one of the same name), then the
    notebooks maops ships. In a source checkout the two are one folder."""
    own = params_dir.resolve().parent / "notebooks"
    ours = shipped("notebooks").resolve()
    return [own] if own == ours else [own, ours]


def find_notebook(name: str, params_dir: Path) -> Path:
    """The notebook `name` (a file name without .ipynb) a run executes, or an error listing
    the notebooks there are and the folders looked in."""
    folders = notebook_dirs(params_dir)
    if _NOTEBOOK_NAME.fullmatch(name):
        for folder in folders:
            if (folder / f"{name}.ipynb").is_file():
                return folder / f"{name}.ipynb"
    known = sorted({p.stem for folder in folders for p in folder.glob("[0-9]*.ipynb")})
    raise ConfigError(
        f"notebook '{name}' not found in {' or '.join(str(f) for f in folders)} "
        f"(available: {', '.join(known)}); list notebooks by file name without .ipynb"
    )


def kernel_dir(params_dir: Path) -> Path:
    """The working folder of a run's kernels: the workspace's own `notebooks/`, where a
    notebook of its own reads files beside it, else the workspace. The shipped notebooks
    depend on none: the run passes them the settings folder."""
    root = params_dir.resolve().parent
    own = root / "notebooks"
    return own if own.is_dir() else root
