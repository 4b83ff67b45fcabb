"""The package's imports point one way: no module imports, however late (inside a
function), a module that imports it back (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "maops_utils"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def import_graph() -> dict[str, set[str]]:
    """Each module of maops_utils and the modules of maops_utils it imports, anywhere in it
    (`from . import x` imports the module x when x is one)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                targets.add(base)
                targets |= {f"{base}.{a.name}" for a in node.names}
        graph[name] = {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _parents(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_the_cycle_finder_finds_a_cycle_through_a_late_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_package_imports_one_that_imports_it_back():
    graph = import_graph()
    assert len(graph) > 30  # the whole package was read
    # a package's __init__ importing its own modules is how a package exports them, and those
    # modules importing siblings through it is not a loop of meaning: leave those edges out
    edges = {m: {t for t in ts if t not in _parents(m)} for m, ts in graph.items()}
    assert cycles(edges) == []


def test_only_the_sample_command_reaches_the_tools():
    graph = import_graph()
    users = {
        m
        for m, targets in graph.items()
        if not m.startswith("maops_utils.tools")
        and any(t.startswith("maops_utils.tools") for t in targets)
    }
    assert users == {"maops_utils.batch.cli"}  # `maops sample`; no run imports the generator
    # and the generator stands on the core and io only
    reached = set().union(*(graph[m] for m in graph if m.startswith("maops_utils.tools")))
    assert {t for t in reached if not t.startswith("maops_utils.tools")} <= {
        "maops_utils",
        "maops_utils.core.io",
        "maops_utils.core",
        "maops_utils.core.errors",
    }


def test_docs_architecture_names_every_module_of_the_package():
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = text.split("## Layers", 1)[1].split("Still to do", 1)[0]
    named = set(re.findall(r"`([a-z0-9_/]+(?:\.py|/))`", table))
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in ("__init__.py", "__main__.py") or path.name == "__init__.py":
            continue
        folders = {"/".join(rel.split("/")[:i]) + "/" for i in range(1, rel.count("/") + 1)}
        if rel not in named and not (folders & named):
            missing.append(rel)
    assert missing == [], f"docs/architecture.md does not place: {missing}"


# The layers, lowest first (docs/architecture.md). A module imports modules of its own layer or
# of a lower one. `importers` (vendor exports into the contract) stands on the contract;
# `speed` (the cache, kernels, work prepared ahead) is the batch's machinery.
LAYERS = {
    "core": 0,
    "contract": 1,
    "importers": 2,
    "backends": 2,
    "metrics": 3,
    "reports": 4,
    "speed": 5,
    "batch": 5,
}
# Imports against the layers still to remove (docs/architecture.md, "Still to do"): the domain
# reaching the cache for its kept results. Listed one by one so that no new one slips in.
NOT_YET = {
    ("maops_utils.contract.load", "maops_utils.speed.cache"),
    ("maops_utils.contract.load", "maops_utils.speed.facts"),
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else None


def upward_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The imports of a module from a higher layer than its own (the tools and the package's
    own entry points stand beside the layers)."""
    found = set()
    for module, targets in graph.items():
        own = _layer(module)
        if own not in LAYERS:
            continue
        for target in targets:
            theirs = _layer(target)
            if theirs in LAYERS and theirs != own and LAYERS[theirs] > LAYERS[own]:
                found.add((module, target))
    return found


def test_the_layer_check_finds_an_upward_import():
    graph = {
        "maops_utils.core.months": {"maops_utils.metrics.compute"},
        "maops_utils.metrics.compute": {"maops_utils.core.months", "maops_utils.backends.x"},
    }
    assert upward_imports(graph) == {("maops_utils.core.months", "maops_utils.metrics.compute")}


def test_every_package_of_the_tree_is_a_layer_or_beside_them():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(LAYERS) | {"tools"}
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py"]


def test_imports_point_down_the_layers():
    found = upward_imports(import_graph())
    assert found - NOT_YET == set(), "imports from a higher layer (docs/architecture.md)"
    assert NOT_YET - found == set(), "gone: take them off NOT_YET"


def test_every_import_of_the_package_names_a_module_that_exists():
    """A relative import one level off (a module moved into a subpackage) fails only when
    the line runs, which for a late import may be one notebook's one branch."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    missing = []
    for name, path in files.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(name, path.name == "__init__.py", node)
                if base.startswith("maops_utils") and base not in files:
                    missing.append(f"{name}: {base}")
            elif isinstance(node, ast.Import):
                missing += [
                    f"{name}: {a.name}"
                    for a in node.names
                    if a.name.startswith("maops_utils") and a.name not in files
                ]
    assert missing == []


def test_the_wheel_lists_every_package_and_ships_the_notebooks_and_settings():
    """pyproject.toml lists the packages (two are the project's `notebooks/` and `params/`,
    which an installed maops reads): a new package left off it would be missing from the
    wheel, and only an installed maops would fail."""
    import tomllib

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    folders = {_module_name(p) for p in PACKAGE.rglob("__init__.py")}
    shipped = {"maops_utils.notebooks": "notebooks", "maops_utils.params": "params"}
    assert set(setuptools["packages"]) == folders | set(shipped)
    assert setuptools["package-dir"] == shipped
    data = setuptools["package-data"]
    for package, folder in shipped.items():
        files = {
            p.relative_to(PACKAGE.parent / folder).as_posix()
            for pattern in data[package]
            for p in (PACKAGE.parent / folder).glob(pattern)
        }
        tracked = {
            p.relative_to(PACKAGE.parent / folder).as_posix()
            for p in (PACKAGE.parent / folder).rglob("*")
            if p.is_file()
            and p.suffix in (".ipynb", ".yaml", ".md")
            # what git ignores there: scratch notebooks, JupyterLab's checkpoints
            and not any(
                part == "scratch" or part.startswith(".")
                for part in p.relative_to(PACKAGE.parent).parts
            )
        }
        assert files == tracked, package
