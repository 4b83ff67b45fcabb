"""The monthly batch: validate, execute the report notebooks, render HTML, publish atomically."""

from __future__ import annotations

import ast
import importlib.metadata
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from . import __version__, io, kpi, report
from .config import RunSettings, suggest
from .errors import ConfigError, MaopsError
from .i18n import format_ratio, format_value, t

PACKAGES = (
    "pandas",
    "numpy",
    "duckdb",
    "sqlglot",
    "pyarrow",
    "papermill",
    "nbconvert",
    "matplotlib",
    "seaborn",
)
_NOTEBOOK_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")  # a file in notebooks/, never a path
_TYPES = {"str": str, "int": int, "float": (int, float), "bool": bool}


class NotebookFailed(MaopsError):
    """A report notebook raised; the previous report of the month is left as it was."""


@dataclass
class NotebookResult:
    name: str
    status: str
    seconds: float
    output: Path | None = None


@dataclass
class RunResult:
    month: str
    out_dir: Path
    index_html: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    findings: int = 0
    seconds: float = 0.0


def notebook_parameters(path: Path) -> dict[str, str]:
    """Names and annotated types (`str`, `int`, ...) of the notebook's `parameters` cell."""
    nb = nbformat.read(path, as_version=4)
    cells = [
        c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
    ]
    if not cells:
        raise ConfigError(
            f"{path}: no cell is tagged 'parameters'; tag the cell holding the parameters"
        )
    out: dict[str, str] = {}
    for node in ast.parse(cells[0].source).body:
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


def _git_commit(root: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "maops": __version__}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def _headline(rv: kpi.KpiReview) -> list[dict[str, str]]:
    """The month's KGIs and trend KPIs for the whole business, formatted for the index page."""
    card = kpi.scorecard(rv)
    keep = card["metric"].map(lambda m: rv.catalogue[m].tier == "KGI" or rv.catalogue[m].trend)
    rows = []
    for r in card[keep].itertuples():
        attainment = format_ratio(r.attainment)
        if r.status:
            attainment += f" ({t(r.status, rv.locale)})"
        rows.append(
            {
                "label": r.label,
                "value": format_value(r.value, r.unit, rv.locale, rv.currency),
                "target": format_value(r.target, r.unit, rv.locale, rv.currency),
                "attainment": attainment,
            }
        )
    return rows


def _title(nb: nbformat.NotebookNode, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _execute(src: Path, dest: Path, parameters: dict[str, Any], kernel_log: Path) -> None:
    """Execute `src` with papermill into `dest`; the kernel's own stderr goes to `kernel_log`.

    The kernel process prints start-up and shut-down chatter (a transport warning, an ERROR
    line for the interrupt it receives when it is stopped) that would alarm anyone reading
    a batch log; it is kept in a file instead, for the failure record.
    """
    import papermill  # imported here: papermill's import costs about a second
    from jupyter_client.manager import AsyncKernelManager

    with kernel_log.open("wb") as sink:

        class _KernelManager(AsyncKernelManager):
            async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
                kw["stderr"] = sink
                await super()._async_launch_kernel(kernel_cmd, **kw)

        papermill.execute_notebook(
            str(src),
            str(dest),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(src.parent),
            progress_bar=False,
            log_output=False,
            kernel_manager_class=_KernelManager,
        )


def run(
    settings: RunSettings,
    *,
    as_of: pd.Timestamp | None = None,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> RunResult:
    """Run the monthly batch for `settings.month` and publish `<out_dir>/<month>/`.

    Nothing is written until the data and the parameters have been checked; the report folder
    is built beside the target and swapped in only when every part of it is there, so a failed
    run leaves the month's previous report as it was.
    """
    started = time.perf_counter()
    started_at = pd.Timestamp.now(tz=settings.timezone)
    now = as_of if as_of is not None else started_at.tz_localize(None)
    root = settings.params_dir.resolve().parent
    notebooks_dir = root / "notebooks"

    rv = kpi.load_review(settings, as_of=now)
    log(
        f"data: {settings.data_dir} ({len(rv.findings)} data-quality finding(s)); month: {rv.month}"
    )
    for finding in rv.findings:
        log(f"  {finding.severity}: {finding.describe()}")

    plans = []
    for name in settings.notebooks:
        path = notebooks_dir / f"{name}.ipynb"
        if not _NOTEBOOK_NAME.fullmatch(name) or not path.is_file():
            known = sorted(p.stem for p in notebooks_dir.glob("[0-9]*.ipynb"))
            raise ConfigError(
                f"notebook '{name}' not found in {notebooks_dir} (available: {', '.join(known)})"
            )
        parameters = {
            "month": rv.month,
            "data_dir": str(Path(settings.data_dir).resolve()),
            "params_dir": str(settings.params_dir.resolve()),
            "locale": settings.locale,
            "timezone": settings.timezone,
            "encoding": settings.encoding,
            "as_of": now.isoformat(),
        }
        check_parameters(path, {**parameters, "output_dir": ""})
        plans.append((name, path, parameters))

    final = Path(settings.out_dir) / rv.month
    results: list[NotebookResult] = []
    generated_at = started_at.strftime("%Y-%m-%d %H:%M %Z")
    with io.staging_dir(final) as stage:
        io.write_csv(kpi.metrics_table(rv), stage / "metrics.csv")
        links = []
        for i, (name, path, parameters) in enumerate(plans, 1):
            log(f"[{i}/{len(plans)}] {name} ...")
            t0 = time.perf_counter()
            executed = stage / f"{name}.ipynb"
            kernel_log = stage / f"{name}.kernel.log"
            try:
                _execute(path, executed, {**parameters, "output_dir": str(stage)}, kernel_log)
            except Exception as exc:
                failed_dir = Path(settings.out_dir) / f"{rv.month}.failed"
                kept = None
                if executed.exists():
                    kept = io.copy_file(executed, failed_dir / executed.name)
                if kernel_log.exists():
                    io.copy_file(kernel_log, failed_dir / kernel_log.name)
                where = f"; the executed copy with the error is {kept}" if kept else ""
                last_line = (str(exc).strip().splitlines() or [""])[-1]
                raise NotebookFailed(
                    f"notebook {name} failed: {type(exc).__name__}: {last_line}"
                    f"{where}. The previous report of {rv.month} was left as it was."
                ) from None
            io.remove_file(kernel_log)
            nb = nbformat.read(executed, as_version=4)
            title = _title(nb, name)
            html = report.notebook_to_html(
                nb,
                title=f"{title} {rv.month}",
                show_code=settings.show_code,
                lang=settings.locale,
                generated_at=generated_at,
                base_dir=path.parent,
            )
            io.write_text(html, stage / f"{name}.html")
            seconds = time.perf_counter() - t0
            results.append(NotebookResult(name, "ok", seconds, final / f"{name}.html"))
            links.append({"title": title, "href": f"{name}.html"})
            log(f"[{i}/{len(plans)}] {name} ok ({seconds:.1f} s)")

        manifest = {
            "maops_version": __version__,
            "month": rv.month,
            "started_at": started_at.isoformat(),
            "as_of": now.isoformat(),
            "seconds": round(time.perf_counter() - started, 3),
            "settings": settings.as_dict(),
            "inputs": rv.dataset.sources,
            "notebooks": [
                {
                    "name": r.name,
                    "status": r.status,
                    "seconds": round(r.seconds, 3),
                    "output": f"{r.name}.html",
                    "parameters": p[2],
                }
                for r, p in zip(results, plans, strict=True)
            ],
            "versions": _versions(),
            "git_commit": _git_commit(root),
            "findings": [f.as_dict() for f in rv.findings],
        }
        io.write_json(manifest, stage / "run.json")
        io.write_text(_log_text(manifest), stage / "run.log")
        io.write_text(
            report.render_month_index(
                rv.month,
                headline=_headline(rv),
                reports=links,
                findings=[f.as_dict() for f in rv.findings],
                lang=settings.locale,
                generated_at=generated_at,
            ),
            stage / "index.html",
        )
        io.publish_dir(stage, final)
    months = io.list_report_months(Path(settings.out_dir))
    io.write_text_atomic(
        report.render_reports_index(months, lang=settings.locale),
        Path(settings.out_dir) / "index.html",
    )
    elapsed = time.perf_counter() - started
    log(f"report: {final / 'index.html'} ({elapsed:.1f} s)")
    return RunResult(rv.month, final, final / "index.html", results, len(rv.findings), elapsed)


def _log_text(manifest: dict[str, Any]) -> str:
    lines = [
        f"maops {manifest['maops_version']} monthly run for {manifest['month']}",
        f"started {manifest['started_at']}, as of {manifest['as_of']}",
        "",
        "inputs:",
    ]
    for name, src in manifest["inputs"].items():
        lines.append(
            f"  {name}: {src['path']} ({src['bytes']} bytes, {src['rows']} rows, "
            f"{src['encoding']}, sha256 {src['sha256']})"
        )
    lines += ["", "settings:"] + [f"  {k}: {v}" for k, v in manifest["settings"].items()]
    lines += ["", "versions: " + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items())]
    lines.append(f"git commit: {manifest['git_commit'] or 'unknown'}")
    lines += ["", "notebooks:"] + [
        f"  {n['name']}: {n['status']} in {n['seconds']} s" for n in manifest["notebooks"]
    ]
    lines += ["", f"data-quality findings: {len(manifest['findings'])}"]
    for f in manifest["findings"]:
        where = f["file"] + (f", column '{f['column']}'" if f["column"] else "")
        lines.append(f"  {f['severity']}: {where}: {f['message']}")
        if f["examples"]:
            lines.append("    e.g. " + "; ".join(f["examples"]))
    return "\n".join(lines) + "\n"
