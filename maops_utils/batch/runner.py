"""The monthly batch: validate, execute the report notebooks, render HTML, publish atomically."""

from __future__ import annotations

import gc
import importlib.metadata
import platform
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..core import io
from ..core.errors import ConfigError, InputChanged, MaopsError, NotEnoughData, suggest
from ..core.i18n import format_ratio, format_value, t
from ..core.needs import Needs
from ..core.schema import ALL
from ..core.settings import RunSettings
from ..reports.kpi import review
from ..speed import cache
from ..speed.ahead import Ahead, done_mark, worth_it
from ..speed.facts import MonthFacts
from ..speed.kernels import Kernel, KernelPool, kernel_manager_class
from .notebooks import check_parameters, notebook_needs, notebook_parameters, preload_code

if TYPE_CHECKING:
    from ..contract.dataset import Dataset
    from .notebook_format import nbformat

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
_NOTEBOOK_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")  # a file in notebooks/, never a path


class NotebookFailed(MaopsError):
    """A report notebook raised; the previous report of the month is left as it was."""

    def __init__(self, message: str, results: list[NotebookResult] | None = None):
        super().__init__(message)
        self.results = results or []


class PersonalDataFound(MaopsError):
    """The report would have shown personal data; it was not published."""


@dataclass
class NotebookResult:
    name: str
    status: str
    seconds: float
    output: Path
    product: str | None = None
    error: str = ""
    title: str = ""


@dataclass
class RunResult:
    month: str
    out_dir: Path
    index_html: Path
    notebooks: list[NotebookResult] = field(default_factory=list)
    findings: int = 0
    seconds: float = 0.0


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


# The notebook whose tables include `metrics.csv` (its last cell writes them).
METRICS_NOTEBOOK = "01_kpi_evaluation"


def _headline(metrics_csv: Path, inputs: review.Inputs) -> list[dict[str, str]]:
    """The month's KGIs and trend KPIs for the whole business, as `metrics.csv` gives them
    (written by the KPI report), formatted for the index page."""
    settings, catalogue = inputs.settings, inputs.catalogue
    table = pd.read_csv(metrics_csv, encoding="utf-8-sig", dtype={"status": str})
    rows = []
    for kgi in (True, False):
        for r in table[(table["product"] == ALL) & (table["month"] == inputs.month)].itertuples():
            kpi = catalogue[r.metric]
            if (kpi.tier == "KGI") != kgi or not (kpi.tier == "KGI" or kpi.trend):
                continue
            value, target = (None if pd.isna(x) else x for x in (r.value, r.target))
            attainment = format_ratio(None if pd.isna(r.attainment) else r.attainment)
            if isinstance(r.status, str) and r.status:
                attainment += f" ({t(r.status, settings.locale)})"
            rows.append(
                {
                    "label": kpi.label(settings.locale),
                    "value": format_value(value, kpi.unit, settings.locale, settings.currency),
                    "target": format_value(target, kpi.unit, settings.locale, settings.currency),
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


def _execute(
    src: Path,
    dest: Path,
    parameters: dict[str, Any],
    kernel_log: Path,
    progress: dict[str, Any],
    kernel: Kernel | None = None,
) -> None:
    """Execute `src` with papermill into `dest`; the kernel's own stderr goes to `kernel_log`.

    The kernel process prints start-up and shut-down chatter (a transport warning, an ERROR
    line for the interrupt it receives when it is stopped) that would alarm anyone reading
    a batch log; it is kept in a file instead, for the failure record. `kernel`: one started
    ahead (kernels.py) to run it in, stopped afterwards; else papermill starts one.
    """
    import papermill  # imported here: papermill's import costs about a second

    options: dict[str, Any] = {
        "parameters": parameters,
        "kernel_name": "python3",
        "cwd": str(src.parent),
        "progress_bar": progress,
        "log_output": False,
    }
    if kernel is not None:
        try:
            papermill.execute_notebook(str(src), str(dest), km=kernel.km, **options)
        finally:
            kernel.shut_down(keep_log=kernel_log)
        return
    with kernel_log.open("wb") as sink:
        papermill.execute_notebook(
            str(src), str(dest), kernel_manager_class=kernel_manager_class(sink), **options
        )


@dataclass
class Job:
    """One notebook execution: a notebook for the whole business or for one product."""

    name: str
    path: Path
    product: str | None
    parameters: dict[str, Any]
    needs: Needs = Needs()  # what the reports it imports need (`notebooks.notebook_needs`)
    preload: str = ""  # what its kernel imports ahead (`notebooks.preload_code`)

    @property
    def folder(self) -> Path:
        """Where its files go, relative to the month's folder."""
        return Path("products") / self.product if self.product else Path()

    @property
    def label(self) -> str:
        return f"{self.name} [{self.product}]" if self.product else self.name


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    return f"{local[:1]}***@{domain}"


# `_EMAIL` matching a whole value in Arrow's RE2, as `fullmatch` does in Python (RE2's `$`
# without multi-line mode is the end of the text only: no newline may follow either).
_EMAIL_WHOLE = f"^(?:{_EMAIL.pattern})$"


def unusual_addresses(values: pd.Series) -> set[str]:
    """The addresses among `values` that the generic pattern does not match whole: the only
    ones `find_personal_data` looks for one by one (the pattern finds the others), so a run
    keeps these rather than every lead's address (100 MB at 1 M leads) while notebooks run.
    The distinct values are matched in Arrow (3 s in Python for 1 M leads)."""
    text = pa.array(values.dropna().astype("str").array, type=pa.large_string()).unique()
    whole = pc.match_substring_regex(text, _EMAIL_WHOLE)
    # a value without "@" ("なし", "-") is no address: searching for it would flag any report
    # that shows that text
    odd = pc.filter(text, pc.and_(pc.invert(whole), pc.match_substring(text, "@")))
    return set(odd.to_pylist())


def find_personal_data(folder: Path, known_emails: set[str]) -> list[str]:
    """E-mail addresses in any text file under `folder` (the generic pattern, and the exact
    addresses of the dataset), as `file: masked address` lines."""
    hits = []
    # An address the generic pattern matches whole is found by it wherever it appears, so
    # only the others are searched for one by one (that search is slow with many leads).
    odd = unusual_addresses(pd.Series(sorted(known_emails), dtype="str"))
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (
            ".html",
            ".csv",
            ".json",
            ".ipynb",
            ".log",
            ".yaml",
            ".txt",
        ):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if "@" not in text:  # every address has one (a 13 MB table is read in no time)
            continue
        found = set(_EMAIL.findall(text)) | {e for e in odd if e in text}
        if found:
            sample = ", ".join(sorted(mask_email(e) for e in found)[:3])
            hits.append(f"{path.relative_to(folder)}: {len(found)} address(es), e.g. {sample}")
    return hits


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


def plan_jobs(
    settings: RunSettings,
    inputs: review.Inputs,
    now: pd.Timestamp,
    *,
    products: list[str] | None = None,
    include_pii: bool = False,
) -> list[Job]:
    """The notebook executions of a run, each checked against its `parameters` cell.

    Every notebook runs for the whole business; with `products`, notebooks that declare a
    `product` parameter run once more per product.
    """
    notebooks_dir = settings.params_dir.resolve().parent / "notebooks"
    known_products = inputs.dataset.products
    for product in products or []:
        if product not in known_products:
            raise ConfigError(
                f"--products: no product '{product}' in the data{suggest(product, known_products)} "
                f"(products: {', '.join(known_products)})"
            )
    jobs = []
    for name in settings.notebooks:
        path = notebooks_dir / f"{name}.ipynb"
        if not _NOTEBOOK_NAME.fullmatch(name) or not path.is_file():
            known = sorted(p.stem for p in notebooks_dir.glob("[0-9]*.ipynb"))
            raise ConfigError(
                f"notebook '{name}' not found in {notebooks_dir} (available: {', '.join(known)}); "
                "list notebooks by file name without .ipynb"
            )
        declared = notebook_parameters(path)
        base = {
            "month": inputs.month,
            "data_dir": str(Path(settings.data_dir).resolve()),
            "params_dir": str(settings.params_dir.resolve()),
            "locale": settings.locale,
            "timezone": settings.timezone,
            "encoding": settings.encoding,
            "as_of": now.isoformat(),
        }
        if "include_pii" in declared:
            base["include_pii"] = include_pii
        for setting in ("engine", "spark_master"):  # for notebooks that declare them
            if setting in declared:
                base[setting] = getattr(settings, setting)
        if "cache_dir" in declared:
            base["cache_dir"] = str(settings.cache_dir) if settings.cache_dir else "off"
        check_parameters(path, {**base, "output_dir": ""})
        needs, preload = notebook_needs(path), preload_code(path)
        jobs.append(Job(name, path, None, base, needs, preload))
        if products and "product" in declared:
            for product in products:
                check_parameters(path, {**base, "product": product, "output_dir": ""})
                jobs.append(Job(name, path, product, {**base, "product": product}, needs, preload))
    return jobs


@dataclass
class _Executed:
    """A notebook executed without error, its HTML still to render."""

    job: Job
    executed: Path
    t0: float


def _execute_job(
    job: Job,
    stage: Path,
    settings: RunSettings,
    generated_at: str,
    position: int,
    kernels: KernelPool | None = None,
) -> NotebookResult | _Executed:
    """Execute one job into `stage/<job.folder>`; never raises for a notebook error: a
    failed or skipped notebook's result says what happened, an executed one is to be
    rendered (`_render_job`)."""
    t0 = time.perf_counter()
    folder = stage / job.folder
    folder.mkdir(parents=True, exist_ok=True)
    executed = folder / f"{job.name}.ipynb"
    kernel_log = folder / f"{job.name}.kernel.log"
    progress = {
        "desc": job.label,
        "position": position,
        "leave": True,
        "disable": None,
        "file": sys.stderr,
    }
    try:
        _execute(
            job.path,
            executed,
            {**job.parameters, "output_dir": str(folder)},
            kernel_log,
            progress,
            kernels.take() if kernels is not None else None,
        )
    except Exception as exc:
        if getattr(exc, "ename", "") == NotEnoughData.__name__:
            return _skipped(
                job, executed, str(getattr(exc, "evalue", exc)), settings, generated_at, t0
            )
        last_line = (str(exc).strip().splitlines() or [""])[-1]
        return NotebookResult(
            job.name,
            "failed",
            time.perf_counter() - t0,
            job.folder / executed.name,
            product=job.product,
            error=f"{type(exc).__name__}: {last_line}",
        )
    io.remove_file(kernel_log)
    return _Executed(job, executed, t0)


def _render_job(done: _Executed, settings: RunSettings, generated_at: str) -> NotebookResult:
    """Render an executed notebook's HTML beside it."""
    from . import html
    from .notebook_format import nbformat

    job = done.job
    nb = html.localize(nbformat.read(done.executed, as_version=4), settings.locale)
    title = f"{_title(nb, job.name)} {job.parameters['month']}"
    if job.product:
        title += f" ({t('product', settings.locale)} {job.product})"
    page = html.notebook_to_html(
        nb,
        title=title,
        show_code=settings.show_code,
        lang=settings.locale,
        generated_at=generated_at,
        base_dir=job.path.parent,
    )
    io.write_text(page, done.executed.with_suffix(".html"))
    return NotebookResult(
        job.name,
        "ok",
        time.perf_counter() - done.t0,
        job.folder / f"{job.name}.html",
        product=job.product,
        title=title,
    )


def _start_ahead(
    settings: RunSettings, dataset: Dataset, month: str, plan: list[Job], now: pd.Timestamp
) -> tuple[Ahead | None, dict[str, dict[str, Any]] | None]:
    """Start preparing what the plan's notebooks read (their reports' `Needs.prepare`) in a process of its
    own: as `prepare_ahead` says (auto: for large inputs), only with a validated-data cache
    (where the results are kept) and when some notebook needs nothing, to run meanwhile.

    Returns the process, or None and, when an earlier run on this input prepared every item
    already (`ahead.done_mark`), what to report of them instead: nothing is started then."""
    targets = dict(pair for j in plan for pair in _needs(j).prepare)
    items = list(targets)
    if settings.cache_dir is None or not items or all(_needs(j).items for j in plan):
        return None, None
    rows = {name: int(src.get("rows") or 0) for name, src in dataset.sources.items()}
    if not worth_it(settings.prepare_ahead, rows.get("leads", 0), rows.get("activities", 0)):
        return None, None
    mark = done_mark(dataset, settings.params_dir.resolve(), items)
    if mark is not None and mark.is_file():
        return None, {item: {"problem": None, "ready_at": None, "kept": True} for item in items}
    process = Ahead(
        targets,
        data_dir=Path(settings.data_dir).resolve(),
        params_dir=settings.params_dir.resolve(),
        cache_dir=Path(settings.cache_dir).resolve(),
        timezone=settings.timezone,
        encoding=settings.encoding,
        as_of=now,
        month=month,
    )
    return process, None


def _needs(job: Job) -> Needs:
    """What `job` reads that `Ahead` prepares (notebooks for one product read their own)."""
    return job.needs if job.product is None else Needs()


def _run_jobs(
    plan: list[Job],
    stage: Path,
    settings: RunSettings,
    generated_at: str,
    jobs: int,
    kernels: KernelPool | None,
    prepared: Ahead | None,
    log: Callable[[str], None],
) -> list[NotebookResult]:
    """Run the plan in `jobs` kernels; its results in plan order. While `prepared` works,
    the notebooks that need nothing of it run first, and the others start when their item is
    ready. With two jobs or more, `prepared` takes one of the places until it is done (it
    uses a core and up to 1.4 GB at 1 M leads, as a notebook does); with one, it runs beside
    the kernel, on the core a notebook leaves idle."""
    places = threading.Semaphore(jobs)
    if prepared is not None and jobs > 1:
        places.acquire()

        def free_when_done() -> None:
            try:
                for item in prepared.items:
                    prepared.wait(item)
            finally:
                places.release()

        threading.Thread(target=free_when_done, daemon=True).start()

    def run(i: int) -> NotebookResult | Future[NotebookResult]:
        job = plan[i]
        for item in _needs(job).items if prepared is not None else ():
            problem = prepared.wait(item)
            if problem:
                log(f"{job.label}: {item} not prepared ahead ({problem}); the notebook computes it")
        with places:
            done = _execute_job(job, stage, settings, generated_at, i, kernels)
        if isinstance(done, NotebookResult):
            return done
        return renderer.submit(_render_job, done, settings, generated_at)

    order = list(range(len(plan)))
    if prepared is not None:
        order.sort(key=lambda i: bool(_needs(plan[i]).items))  # stable
    if kernels is not None:  # the notebooks take kernels in this order
        kernels.expect([plan[i].preload for i in order])
    # the HTML is rendered in this process while the next notebook already runs in its kernel
    with (
        ThreadPoolExecutor(max_workers=1) as renderer,
        ThreadPoolExecutor(max_workers=jobs) as pool,
    ):
        futures = {i: pool.submit(run, i) for i in order}
        results = []
        for i, job in enumerate(plan):
            result = futures[i].result()
            if isinstance(result, Future):
                result = result.result()
            results.append(result)
            log(
                f"{job.label}: {result.status} ({result.seconds:.1f} s)"
                + (f": {result.error}" if result.error else "")
            )
    return results


def _skipped(
    job: Job, executed: Path, reason: str, settings: RunSettings, generated_at: str, t0: float
) -> NotebookResult:
    """A notebook that found too little data to report on: a short page says why."""
    from . import html
    from .notebook_format import nbformat

    nb = html.localize(nbformat.read(executed, as_version=4), settings.locale)
    title = f"{_title(nb, job.name)} {job.parameters['month']}"
    if job.product:
        title += f" ({t('product', settings.locale)} {job.product})"
    page = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell(f"# {title}\n\n{t('skipped_note', settings.locale)}")]
    )
    # the reason quotes numbers and file names only; shown as text in a code-free page
    page.cells.append(
        nbformat.v4.new_code_cell(
            "", outputs=[nbformat.v4.new_output("stream", name="stdout", text=reason)]
        )
    )
    page = html.notebook_to_html(
        page, title=title, show_code=False, lang=settings.locale, generated_at=generated_at
    )
    io.write_text(page, executed.with_suffix(".html"))
    io.remove_file(executed.with_suffix(".kernel.log"))
    return NotebookResult(
        job.name,
        "skipped",
        time.perf_counter() - t0,
        job.folder / f"{job.name}.html",
        product=job.product,
        error=reason,
        title=title,
    )


def _keep_failed(
    stage: Path, failed_dir: Path, results: list[NotebookResult]
) -> list[NotebookResult]:
    """Copy what a failed run produced to `failed_dir` (replacing an older one) and point
    the results there."""
    io.remove_tree(failed_dir)
    kept = []
    for r in results:
        names = [r.output.name]
        if r.status == "failed":
            names.append(r.output.with_suffix(".kernel.log").name)
        else:
            names.append(r.output.with_suffix(".ipynb").name)
        for name in names:
            src = stage / r.output.parent / name
            if src.exists():
                io.copy_file(src, failed_dir / r.output.parent / name)
        kept.append(replace(r, output=failed_dir / r.output))
    return kept


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
    cache_before = cache.cache_snapshot(settings.cache_dir)
    out_existed = Path(settings.out_dir).exists()
    try:
        stamps = io.input_stamps(Path(settings.data_dir))
        inputs = review.load_inputs(settings, as_of=now)
        if products is not None and not products:  # --products without codes: every product
            products = list(inputs.dataset.products)
        plan = plan_jobs(settings, inputs, now, products=products, include_pii=include_pii)
        with cache.run_journal():  # the drops of the kernels started here reach run.json
            if kernels is None:
                # only now that the settings, the input and the plan are valid: bad input
                # does not wait on the kernels' imports
                kernels = KernelPool.for_run(root, [j.preload for j in plan], jobs)
            return _run(
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
    findings = inputs.dataset.findings
    engine = settings.engine + (f" {settings.spark_master}" if settings.engine == "spark" else "")
    log(
        f"data: {settings.data_dir} ({len(findings)} data-quality finding(s)); "
        f"month: {inputs.month}; engine: {engine}"
    )
    for finding in findings:
        log(f"  {finding.severity}: {finding.describe()}")

    out_dir = Path(settings.out_dir)
    final = out_dir / inputs.month
    generated_at = started_at.strftime("%Y-%m-%d %H:%M %Z")
    with io.run_lock(out_dir, inputs.month):
        for note in io.recover_dir(final):
            log(note)
        return _build_and_publish(
            settings,
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
        )


def _build_and_publish(
    settings: RunSettings,
    inputs: review.Inputs,
    plan: list[Job],
    now: pd.Timestamp,
    started: float,
    started_at: pd.Timestamp,
    generated_at: str,
    out_dir: Path,
    final: Path,
    *,
    products: list[str] | None,
    jobs: int,
    include_pii: bool,
    log: Callable[[str], None],
    kernels: KernelPool,
    stamps: dict[str, tuple[int, int]],
) -> RunResult:
    from . import html

    root = settings.params_dir.resolve().parent
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
        emails = unusual_addresses(leads["email"]) if "email" in leads else set()
        # each notebook loads the data itself: free this process's copy while they run, and
        # hand what the allocators keep back to the system (0.4 GB at 1 M leads)
        del leads
        dataset.release()
        gc.collect()
        pa.default_memory_pool().release_unused()
        log(f"running {len(plan)} notebook(s) with {min(jobs, len(plan))} kernel(s)")
        prepared, ahead_note = _start_ahead(settings, dataset, month, plan, now)
        try:
            results = _run_jobs(plan, stage, settings, generated_at, jobs, kernels, prepared, log)
        finally:
            if prepared is not None:
                ahead_note = prepared.close()
        failed = [r for r in results if r.status == "failed"]
        if failed:
            kept = _keep_failed(stage, out_dir / f"{month}.failed", results)
            raise NotebookFailed(
                f"{len(failed)} of {len(results)} notebook(s) failed: "
                + "; ".join(
                    f"{r.name}{f' [{r.product}]' if r.product else ''}: {r.error}" for r in failed
                )
                + f". What the run produced is in {out_dir / (month + '.failed')}; "
                f"the previous report of {month} was left as it was.",
                results=kept,
            )
        changed = io.changed_inputs(stamps, Path(settings.data_dir))
        if changed:
            # the run's own tables and each notebook's may come from different exports
            raise InputChanged(
                f"the input changed while the run was reading it ({', '.join(changed[:3])}"
                f"{', ...' if len(changed) > 3 else ''}), so the report could mix two exports "
                f"and was not published; the previous report of {month} was left as it "
                "was. Run again once the export is complete."
            )
        if not include_pii:
            hits = find_personal_data(stage, emails)
            if hits:
                raise PersonalDataFound(
                    "personal data (e-mail addresses) in the report, which was therefore not "
                    "published:\n  " + "\n  ".join(hits) + "\nRemove what shows it, or pass "
                    "--include-pii to share it knowingly."
                )
        manifest = {
            "maops_version": __version__,
            "month": month,
            "started_at": started_at.isoformat(),
            "as_of": now.isoformat(),
            "seconds": round(time.perf_counter() - started, 3),
            "settings": settings.as_dict(),
            "options": {"products": products or [], "jobs": jobs, "include_pii": include_pii},
            "inputs": dataset.sources,
            "metric_facts": _facts_note(dataset.facts),
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
                    "parameters": job.parameters,
                }
                for r, job in zip(results, plan, strict=True)
            ],
            "versions": _versions(),
            "git_commit": _git_commit(root),
            "findings": [f.as_dict() for f in dataset.findings],
        }
        io.write_json(manifest, stage / "run.json")
        io.write_text(_log_text(manifest), stage / "run.log")
        links = [{"title": r.title or r.name, "href": r.output.as_posix()} for r in results]
        io.write_text(
            html.render_month_index(
                month,
                headline=_headline(stage / "metrics.csv", inputs),
                reports=links,
                findings=[f.as_dict() for f in dataset.findings],
                lang=settings.locale,
                generated_at=generated_at,
            ),
            stage / "index.html",
        )
        io.publish_dir(stage, final)
    io.remove_tree(out_dir / f"{month}.failed")  # an older failure of this month is history now
    months = io.list_report_months(out_dir)
    io.write_text_atomic(
        html.render_reports_index(months, lang=settings.locale), out_dir / "index.html"
    )
    elapsed = time.perf_counter() - started
    log(f"report: {final / 'index.html'} ({elapsed:.1f} s)")
    published = [replace(r, output=final / r.output) for r in results]
    return RunResult(month, final, final / "index.html", published, len(dataset.findings), elapsed)


def _facts_note(facts: MonthFacts | None) -> dict[str, Any] | None:
    """What this process did with the month facts (the notebooks keep their own count)."""
    if facts is None:
        return None
    return {
        "folder": str(facts.folder.parent),
        "months_read": facts.read,
        "months_queried": facts.written,
    }


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
