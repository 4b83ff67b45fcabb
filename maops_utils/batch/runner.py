"""The monthly batch: validate, execute the report notebooks, render HTML, publish atomically."""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from .. import __version__
from ..contract import files, imported
from ..core import io
from ..core.errors import ConfigError, Finding, InputChanged, MaopsError
from ..core.i18n import finding_words
from ..core.months import month_range
from ..core.settings import RunSettings
from ..reports.kpi import review
from ..reports.quality.findings import kept_month_findings
from ..speed import cache
from ..speed.kernels import KernelPool
from .jobs import (
    Job,
    NotebookResult,
    keep_failed,
    month_nav,
    plan_jobs,
    run_jobs,
    start_ahead,
)
from .month_page import render_month_page
from .privacy import People, PersonalDataFound, find_personal_data
from .record import (
    METRICS_NOTEBOOK,
    facts_note,
    git_commit,
    log_text,
    month_kgis,
    month_page,
    versions,
)
from .workspace import kernel_dir


class NotebookFailed(MaopsError):
    """A report notebook raised; the previous report of the month is left as it was."""

    def __init__(self, message: str, results: list[NotebookResult] | None = None):
        super().__init__(message)
        self.results = results or []


@dataclass
class RunResult:
    month: str
    out_dir: Path
    index_html: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    findings: int = 0
    seconds: float = 0.0


def check_out_dir(out_dir: Path, data_dir: Path, root: Path) -> None:
    """Refuse output folders a run must never write into: its inputs, a folder holding them,
    the project's own folders, the file system's or the user's top folder."""
    out = out_dir.resolve()
    data = data_dir.resolve()
    problem = None
    if out == Path(out.anchor) or out == Path.home().resolve():
        problem = "is the top of the file system or your home folder"
    elif out == data or data in out.parents:
        problem = f"is the data folder {data} or inside it: a run never writes among its inputs"
    elif out in data.parents:
        problem = f"holds the data folder {data}: a run never writes among its inputs"
    elif out == root or any(
        out == root / name or (root / name) in out.parents
        for name in ("params", "notebooks", "maops_utils", "tests", "docs", ".git")
    ):
        problem = f"is the project folder {root} or one of its source folders"
    if problem:
        raise ConfigError(
            f"output folder {out_dir} {problem}; choose another --out (default: reports)"
        )


def run(
    settings: RunSettings,
    *,
    as_of: pd.Timestamp | None = None,
    products: list[str] | None = None,  # [] = every product
    jobs: int = 1,
    include_pii: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    kernels: KernelPool | None = None,
) -> RunResult:
    """Run the monthly batch for `settings.month` and publish `<out_dir>/<month>/`.

    Nothing is written until the data and the parameters have been checked. Every notebook
    runs (in `jobs` parallel kernels) even when one fails; the report folder is built beside
    the target and swapped in only when every notebook succeeded and no personal data is in
    it (unless `include_pii`), so a failed run leaves the month's previous report as it was
    and keeps what it produced in `<out_dir>/<month>.failed/`.

    `kernels`: the batch's kernels, when the caller started them already; else they start
    once the settings, the input and the plan are valid (a run on bad input starts none).
    They are closed when the run ends.
    """
    started = time.perf_counter()
    started_at = pd.Timestamp.now(tz=settings.timezone)
    now = as_of if as_of is not None else started_at.tz_localize(None)
    root = settings.params_dir.resolve().parent
    if jobs < 1:
        raise ConfigError(f"--jobs must be 1 or more, got {jobs}")

    check_out_dir(Path(settings.out_dir), Path(settings.data_dir), root)
    cache_before = cache.cache_state(settings.cache_dir)
    out_existed = Path(settings.out_dir).exists()
    try:
        with cache.run_cache(settings.cache_dir) as cache_dir:
            # with the cache off, one of the run's own: what it records is the user's settings
            work = replace(settings, cache_dir=cache_dir)
            stamps = files.input_stamps(Path(settings.data_dir))
            inputs = review.load_inputs(work, as_of=now)
            if products is not None and not products:  # --products without codes: all
                products = list(inputs.dataset.products)
            plan = plan_jobs(work, inputs, now, products=products, include_pii=include_pii)
            with cache.run_journal():  # the drops of the kernels started here reach run.json
                if kernels is None:
                    # only now that the settings, the input and the plan are valid: bad input
                    # does not wait on the kernels' imports
                    kernels = KernelPool.for_run(
                        kernel_dir(settings.params_dir), [j.preload for j in plan], jobs
                    )
                result = _run(
                    work,
                    settings,
                    inputs,
                    plan,
                    stamps,
                    now=now,
                    started=started,
                    started_at=started_at,
                    products=products,
                    jobs=jobs,
                    include_pii=include_pii,
                    log=log,
                    kernels=kernels,
                )
                keep_history(work, inputs, now, log)
                return result
    except BaseException:
        cache.drop_new_cache(settings.cache_dir, cache_before)  # a failed run leaves nothing
        if not out_existed:
            io.remove_empty_dir(Path(settings.out_dir))
        raise
    finally:
        if kernels is not None:
            kernels.close()


def _run(
    settings: RunSettings,
    given: RunSettings,
    inputs: review.Inputs,
    plan: list[Job],
    stamps: dict[str, tuple[int, int]],
    *,
    now: pd.Timestamp,
    started: float,
    started_at: pd.Timestamp,
    products: list[str] | None,
    jobs: int,
    include_pii: bool,
    log: Callable[[str], None],
    kernels: KernelPool,
) -> RunResult:
    # The month's one list (the reports' and the index's), made while the dataset is loaded;
    # the 名寄せ pairs it counts are kept for the notebooks that list them.
    months = month_range(inputs.month, max(settings.trend_months, 1))
    findings = kept_month_findings(inputs.dataset, inputs.month, months)
    engine = settings.engine + (f" {settings.spark_master}" if settings.engine == "spark" else "")
    # the load refused a dataset recorded in another zone: this one is in the run's, or unknown
    recorded = imported.import_zone(Path(settings.data_dir))
    zone = settings.timezone + (f" (as {recorded.path.name} records)" if recorded else "")
    log(
        f"data: {settings.data_dir} ({len(findings)} data-quality finding(s)); "
        f"month: {inputs.month}; engine: {engine}; time zone: {zone}"
    )
    for finding in findings:
        log(f"  {finding.severity}: {finding.describe()}")

    out_dir = Path(settings.out_dir)
    final = out_dir / inputs.month
    # every page of the run says the same moment, in the run's time zone
    generated_at = started_at.to_pydatetime()
    with io.run_lock(out_dir, inputs.month):
        for note in io.recover_dir(final):
            log(note)
        return _build_and_publish(
            settings,
            given,
            inputs,
            plan,
            now,
            started,
            started_at,
            generated_at,
            out_dir,
            final,
            products=products,
            jobs=jobs,
            include_pii=include_pii,
            log=log,
            kernels=kernels,
            stamps=stamps,
            recorded=recorded,
            findings=findings,
        )


def _build_and_publish(
    settings: RunSettings,
    given: RunSettings,
    inputs: review.Inputs,
    plan: list[Job],
    now: pd.Timestamp,
    started: float,
    started_at: pd.Timestamp,
    generated_at: datetime,
    out_dir: Path,
    final: Path,
    *,
    products: list[str] | None,
    jobs: int,
    include_pii: bool,
    log: Callable[[str], None],
    kernels: KernelPool,
    stamps: dict[str, tuple[int, int]],
    recorded: imported.ImportZone | None,
    findings: list[Finding],
) -> RunResult:
    from . import html

    root = settings.params_dir.resolve().parent
    own_cache = given.cache_dir is not None  # else the run's own, gone when it ends
    with io.staging_dir(final) as stage:
        dataset, month = inputs.dataset, inputs.month
        writes_metrics = any(j.name == METRICS_NOTEBOOK and j.product is None for j in plan)
        if not writes_metrics or dataset.facts is not None:
            # Work done ahead, while the kernels start: the month facts the KPI notebook reads
            # (its cold queries would otherwise overlap the other notebooks and the work
            # prepared ahead, at the batch's peak of memory). The contract asks every run for metrics.csv, which the KPI notebook
            # writes: a run without it has the table from here.
            with review.review_inputs(inputs) as rv:
                if not writes_metrics:
                    io.write_csv(review.metrics_table(rv), stage / "metrics.csv")
        leads = dataset["leads"]
        people = People.of(leads)
        # each notebook loads the data itself: free this process's copy while they run, and
        # hand what the allocators keep back to the system
        del leads
        dataset.release()
        gc.collect()
        pa.default_memory_pool().release_unused()
        log(f"running {len(plan)} notebook(s) with {min(jobs, len(plan))} kernel(s)")
        nav = month_nav(plan, month, settings.locale)
        prepared, ahead_note = start_ahead(settings, dataset, month, plan, now)
        try:
            results = run_jobs(
                plan, stage, settings, generated_at, jobs, kernels, prepared, log, nav
            )
        finally:
            if prepared is not None:
                ahead_note = prepared.close()
        failed = [r for r in results if r.status == "failed"]
        if failed:
            kept = keep_failed(stage, out_dir / f"{month}.failed", results)
            withheld = (
                [] if include_pii else _withhold_personal(out_dir / f"{month}.failed", people)
            )
            raise NotebookFailed(
                f"{len(failed)} of {len(results)} notebook(s) failed: "
                + "; ".join(
                    f"{r.name}{f' [{r.product}]' if r.product else ''}: {r.error}" for r in failed
                )
                + f". What the run produced is in {out_dir / (month + '.failed')}"
                + (
                    f" (without {len(withheld)} file(s) that showed personal data)"
                    if withheld
                    else ""
                )
                + f"; the previous report of {month} was left as it was.",
                results=kept,
            )
        changed = files.changed_inputs(stamps, Path(settings.data_dir))
        if changed:
            # the run's own tables and each notebook's may come from different exports
            raise InputChanged(
                f"the input changed while the run was reading it ({', '.join(changed[:3])}"
                f"{', ...' if len(changed) > 3 else ''}), so the report could mix two exports "
                f"and was not published; the previous report of {month} was left as it "
                "was. Run again once the export is complete."
            )
        manifest = {
            "maops_version": __version__,
            "month": month,
            "started_at": started_at.isoformat(),
            "as_of": now.isoformat(),
            "seconds": round(time.perf_counter() - started, 3),
            "settings": given.as_dict(),
            "timezone": {
                "run": settings.timezone,
                # what the dataset's import.json records (None: no record, read in the run's)
                "dataset": recorded.timezone if recorded else None,
                "exports": recorded.source_timezone if recorded else None,
                "recorded_in": str(recorded.path) if recorded else None,
            },
            "options": {"products": products or [], "jobs": jobs, "include_pii": include_pii},
            "inputs": dataset.sources if own_cache else _uncached(dataset.sources),
            "metric_facts": facts_note(dataset.facts) if own_cache else None,
            # kept results found damaged or edited: dropped and computed again, never shown
            "cache_dropped": cache.dropped(),
            "prepared_ahead": ahead_note,
            "notebooks": [
                {
                    "name": r.name,
                    "product": r.product,
                    "status": r.status,
                    "seconds": round(r.seconds, 3),
                    "output": r.output.as_posix(),
                    "parameters": job.parameters if own_cache else _uncached_job(job.parameters),
                }
                for r, job in zip(results, plan, strict=True)
            ],
            "versions": versions(),
            "git_commit": git_commit(root),
            "findings": [f.as_dict() for f in findings],
        }
        io.write_json(manifest, stage / "run.json")
        io.write_text(log_text(manifest), stage / "run.log")
        links = [{"title": r.title or r.name, "href": r.output.as_posix()} for r in results]
        io.write_text(
            render_month_page(
                month_page(stage, inputs, findings),
                reports=links,
                findings=[
                    {
                        **f.as_dict(),
                        "message": finding_words(f, settings.locale)[0],
                        "count": f.count or None,  # none for a finding on a whole table
                    }
                    for f in findings
                ],
                lang=settings.locale,
                generated_at=generated_at,
                nav=nav,
            ),
            stage / "index.html",
        )
        if not include_pii:  # every file the month publishes, its record and log included
            hits = find_personal_data(stage, people)
            if hits:
                raise PersonalDataFound(
                    "personal data (e-mail addresses, telephone numbers or people's names) in "
                    "the report, which was therefore not published:\n  "
                    + "\n  ".join(hits)
                    + "\nRemove what shows it, or pass --include-pii to share it knowingly."
                )
        io.publish_dir(stage, final)
    io.remove_tree(out_dir / f"{month}.failed")  # an older failure of this month is history now
    months = io.list_report_months(out_dir)
    kgis = _months_kgis(out_dir, months, inputs)
    io.write_text_atomic(
        html.render_reports_index(
            months, kgis=kgis, lang=settings.locale, generated_at=generated_at
        ),
        out_dir / "index.html",
    )
    elapsed = time.perf_counter() - started
    log(f"report: {final / 'index.html'} ({elapsed:.1f} s)")
    published = [replace(r, output=final / r.output) for r in results]
    return RunResult(month, final, final / "index.html", published, len(findings), elapsed)


def keep_history(
    settings: RunSettings,
    inputs: review.Inputs,
    now: pd.Timestamp,
    log: Callable[[str], None],
) -> Path | None:
    """Keep the report month's scored leads in the history (`history_dir`), once the month
    has been published: `history.month_population`, as the scoring notebook kept it with the
    input, else computed here from the input read again (its own dataset was freed while the
    notebooks ran). The entry is written atomically; a month that cannot be scored (no
    scoring settings, a dataset that does not follow leads through their stages) keeps no
    entry, and nothing here undoes the published report.

    Returns:
        The entry's path, or None when none was written."""
    if settings.history_dir is None:
        return None
    from ..reports.scoring import history, load_config

    month = inputs.month
    try:
        config = load_config(settings.params_dir)
        keeper = inputs.dataset.facts
        population = keeper.table(history.kept_population_name(config, month)) if keeper else None
        if population is None:
            dataset = review.load_inputs(settings, as_of=now).dataset
            try:
                if not dataset.follows_leads:
                    return None
                population = history.month_population(dataset, config, month)
            finally:
                dataset.release()
        if population is None:
            return None
        path = io.write_parquet_atomic(
            population, history.history_path(Path(settings.history_dir), month)
        )
    except (MaopsError, OSError) as exc:
        log(f"the scores of {month} were not kept in the history: {exc}")
        return None
    log(f"history: {len(population):,} scored leads of {month} kept in {path}")
    return path


def _months_kgis(
    out_dir: Path, months: list[str], inputs: review.Inputs
) -> dict[str, list[dict[str, str]]]:
    """Each published month's KGIs, for the index of all months; a month whose metrics.csv
    is missing, or from a maops that wrote it otherwise, is listed without them rather than
    failing a run that has published already."""
    kgis = {}
    for month in months:
        try:
            kgis[month] = month_kgis(out_dir / month / "metrics.csv", month, inputs)
        except (OSError, ValueError, KeyError, AttributeError):
            continue
    return kgis


def _uncached(sources: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    """The inputs as a run with the cache off records them: no cache entry of its own folder,
    which is gone once the run ends."""
    return {name: {k: v for k, v in src.items() if k != "cache"} for name, src in sources.items()}


def _uncached_job(parameters: dict[str, object]) -> dict[str, object]:
    return {**parameters, "cache_dir": "off"} if "cache_dir" in parameters else parameters


def _withhold_personal(folder: Path, people: People) -> list[str]:
    """Remove from a failed run's folder every file that shows personal data: it is kept for
    the team to see what failed, and may be uploaded with the run's logs. The names of the
    files removed."""
    hits = find_personal_data(folder, people)
    removed = []
    for hit in hits:
        name = hit.split(": ", 1)[0]
        (folder / name).unlink(missing_ok=True)
        removed.append(name)
    return removed
