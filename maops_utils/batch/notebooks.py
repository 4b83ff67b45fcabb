"""What the batch reads from a notebook before it runs it: the names and types of its
`parameters` cell, its imports, and what the reports it uses need (`core/needs.py`).

Notebooks are read as JSON: planning a run (and refusing a bad one) need not import nbformat
and nbconvert, which only the rendering of executed notebooks needs.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from ..core.errors import ConfigError, suggest
from ..core.needs import Needs

_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}
REPORTS = "maops_utils.reports"


def _cells(path: Path) -> list[dict[str, Any]]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        return [c for c in nb["cells"] if c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: not a readable notebook ({exc})") from None


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_parameters(path: Path) -> dict[str, str]:
    """Names and annotated types (`str`, `int`, ...) of the notebook's `parameters` cell."""
    cells = [c for c in _cells(path) if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ConfigError(
            f"{path}: no cell is tagged 'parameters'; tag the cell holding the parameters"
        )
    out: dict[str, str] = {}
    for node in ast.parse(_source(cells[0])).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = ast.unparse(node.annotation)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = "Any"
    return out


def check_parameters(path: Path, parameters: dict[str, Any]) -> None:
    """Refuse names the notebook does not declare and values of the wrong type.

    papermill only warns on an unknown name and injects values as Python source, so both are
    checked here before anything runs.
    """
    declared = notebook_parameters(path)
    for name, value in parameters.items():
        if name not in declared:
            raise ConfigError(
                f"parameter '{name}' is not declared in the parameters cell of {path.name}"
                f"{suggest(name, list(declared))} "
                f"(declared: {', '.join(declared)})"
            )
        expected = _TYPES.get(declared[name])
        if expected is not None and (
            not isinstance(value, expected) or (expected is not bool and isinstance(value, bool))
        ):
            raise ConfigError(
                f"parameter '{name}' of {path.name} must be {declared[name]}, got {type(value).__name__} {value!r}"
            )


def notebook_imports(path: Path) -> list[str]:
    """The import statements of the notebook's code cells (those at the top of a cell's
    code), as written; `%matplotlib inline` as the import it makes."""
    statements: list[str] = []
    for cell in _cells(path):
        lines = _source(cell).splitlines()
        if any(line.strip() == "%matplotlib inline" for line in lines):
            statements.append("import matplotlib_inline.backend_inline")
        code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)
        try:
            body = ast.parse(code).body
        except SyntaxError:
            continue  # papermill reports it when the cell runs
        statements += [ast.unparse(n) for n in body if isinstance(n, ast.Import | ast.ImportFrom)]
    return list(dict.fromkeys(statements))


def _reports_imported(statements: list[str]) -> list[str]:
    """The report packages (`maops_utils.reports.<name>`) the statements import."""
    found = []
    for node in (ast.parse(s).body[0] for s in statements):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [f"{node.module}.{a.name}" for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            else []
        )
        for name in names:
            parts = name.split(".")
            if parts[:2] == REPORTS.split(".") and len(parts) > 2:
                package = ".".join(parts[:3])
                spec = importlib.util.find_spec(package)
                if spec is not None and spec.submodule_search_locations is not None:
                    found.append(package)
    return list(dict.fromkeys(found))


def notebook_needs(path: Path) -> Needs:
    """What the reports the notebook imports need (their `NEEDS`)."""
    needs = Needs()
    for package in _reports_imported(notebook_imports(path)):
        needs = needs | getattr(importlib.import_module(package), "NEEDS", Needs())
    return needs


def preload_code(path: Path) -> str:
    """The statement a kernel runs ahead for the notebook at `path`: its imports and those
    its reports need, run in a namespace of their own, so that no name is bound in the
    kernel's."""
    code = "\n".join(
        [*notebook_imports(path), *(f"import {m}" for m in notebook_needs(path).preload)]
    )
    return f"exec({code!r}, {{}})"
