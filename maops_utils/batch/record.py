"""What a run records and shows of itself: `run.json`, `run.log` and what the month's page
reads from the reports' tables."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

from .. import __version__
from ..core.i18n import format_ratio, format_value, t
from ..core.schema import ALL
from ..reports import meeting
from ..reports.kpi import review
from ..speed.facts import MonthFacts

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
    "scikit-learn",
)


def git_commit(root: Path) -> str | None:
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


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "maops": __version__}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


# The notebook whose tables include `metrics.csv` (its last cell writes them).
METRICS_NOTEBOOK = "01_kpi_evaluation"


# columns of the reports' tables that hold codes or words: a product "001" stays "001"
_TEXT = {
    **dict.fromkeys(["status", "product", "group", "kpi", "stage", "bucket"], str),
    **dict.fromkeys(["shift_month", "auc_month", "month"], str),
}


def _table(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=_TEXT) if path.is_file() else None


def month_page(folder: Path, inputs: review.Inputs, findings) -> meeting.MonthPage:
    """The month's one page from the tables the reports wrote in `folder` (`metrics.csv`
    from the KPI report, `trend.csv` beside it, `scoring_products.csv` from the scoring
    report when it ran)."""
    settings = inputs.settings
    return meeting.month_page(
        inputs.month,
        metrics=_table(folder / "metrics.csv"),
        trend=_table(folder / "trend.csv"),
        catalogue=inputs.catalogue,
        locale=settings.locale,
        currency=settings.currency,
        names=inputs.labels.named("products", settings.locale),
        verdicts=_table(folder / "scoring_products.csv"),
        warnings=sum(f.severity == "warning" for f in findings),
        ahead=meeting.outlook(
            inputs.month,
            catalogue=inputs.catalogue,
            locale=settings.locale,
            currency=settings.currency,
            names=inputs.labels.named("products", settings.locale),
            pacing=_table(folder / "pacing.csv"),
            waiting=_table(folder / "pipeline.csv"),
            flows=_table(folder / "pipeline_flows.csv"),
            funnel_def=inputs.funnel_def,
            drift=_table(folder / "score_drift.csv"),
        ),
    )


def month_kgis(metrics_csv: Path, month: str, inputs: review.Inputs) -> list[dict[str, str]]:
    """A month's KGIs for the whole business, as its `metrics.csv` gives them, formatted for
    the index of all months: label, value, target, attainment and status. A metric the
    catalogue no longer has is left out."""
    settings, catalogue = inputs.settings, inputs.catalogue
    table = pd.read_csv(metrics_csv, encoding="utf-8-sig", dtype={"status": str})
    rows = []
    for r in table[(table["product"] == ALL) & (table["month"] == month)].itertuples():
        if r.metric not in catalogue or catalogue[r.metric].tier != "KGI":
            continue
        kpi = catalogue[r.metric]
        value, target = (None if pd.isna(x) else x for x in (r.value, r.target))
        rows.append(
            {
                "label": kpi.label(settings.locale),
                "value": format_value(value, kpi.unit, settings.locale, settings.currency),
                "target": format_value(target, kpi.unit, settings.locale, settings.currency),
                "attainment": format_ratio(None if pd.isna(r.attainment) else r.attainment),
                "status": t(r.status, settings.locale)
                if isinstance(r.status, str) and r.status
                else "",
            }
        )
    return rows


def facts_note(facts: MonthFacts | None) -> dict[str, Any] | None:
    """What this process did with the month facts (the notebooks keep their own count)."""
    if facts is None:
        return None
    return {
        "folder": str(facts.folder.parent),
        "months_read": facts.read,
        "months_queried": facts.written,
    }


def log_text(manifest: dict[str, Any]) -> str:
    lines = [
        f"maops {manifest['maops_version']} monthly run for {manifest['month']}",
        f"started {manifest['started_at']}, as of {manifest['as_of']}",
        _zone_line(manifest.get("timezone") or {}),
        "",
        "inputs:",
    ]
    for name, src in manifest["inputs"].items():
        lines.append(
            f"  {name}: {src['path']} ({src['bytes']} bytes, {src['rows']} rows, "
            f"{src['encoding']}, sha256 {src['sha256']})"
            + (f"; validated-data cache {src['cache']}" if src.get("cache") else "")
        )
    facts = manifest.get("metric_facts")
    if facts:
        lines.append(
            f"  metric facts by month: {facts['months_read']} read from the cache, "
            f"{facts['months_queried']} queried and kept ({facts['folder']})"
        )
    for dropped in manifest.get("cache_dropped") or []:
        lines.append(f"  cache: dropped {dropped['path']}: {dropped['reason']}; computed again")
    ahead = manifest.get("prepared_ahead")
    if ahead and all(done.get("kept") for done in ahead.values()):
        lines.append(
            "  prepared ahead: nothing to do, an earlier run on this input prepared "
            + ", ".join(ahead)
        )
    elif ahead:
        lines.append(
            "  prepared ahead, while other notebooks ran: "
            + "; ".join(f"{item}: {done['problem'] or 'ready'}" for item, done in ahead.items())
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


def _zone_line(zone: dict[str, Any]) -> str:
    line = f"time zone: {zone.get('run')}"
    if zone.get("dataset"):
        line += f"; the dataset's, as {zone['recorded_in']} records"
        if zone.get("exports"):
            line += f" (its exports were in {zone['exports']})"
    else:
        line += "; the dataset records none (no import.json): read in the run's"
    return line
