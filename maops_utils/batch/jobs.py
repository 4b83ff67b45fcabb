"""A run's notebook executions: the plan (one job per notebook, and per product), papermill in
the kernels started ahead, the HTML rendered while the next notebook runs, and the work done
ahead that some notebooks wait for."""

from __future__ import annotations

import hashlib
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..contract.load import snapshot_of
from ..core import io
from ..core.errors import ConfigError, NotEnoughData, suggest
from ..core.i18n import t
from ..core.needs import Needs
from ..core.settings import RunSettings
from ..reports.kpi import review
from ..speed.ahead import Ahead, prepared_before, worth_it
from ..speed.kernels import Kernel, KernelPool, kernel_manager_class
from .html_frame import MonthNav, NavLink
from .notebooks import check_parameters, notebook_needs, notebook_parameters, preload_code
from .workspace import find_notebook, kernel_dir

if TYPE_CHECKING:
    from ..contract.dataset import Dataset
    from .notebook_format import nbformat


@dataclass
class NotebookResult:
    name: str
    status: str
    seconds: float
    output: Path
    product: str | None = None
    error: str = ""
    title: str = ""


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
    cwd: Path | None = None,
) -> None:
    """Execute `src` with papermill into `dest`; the kernel's own stderr goes to `kernel_log`.

    The kernel process prints start-up and shut-down chatter (a transport warning, an ERROR
    line for the interrupt it receives when it is stopped) that would alarm anyone reading
    a batch log; it is kept in a file instead, for the failure record. `kernel`: one started
    ahead (kernels.py) to run it in, stopped afterwards; else papermill starts one.
    """
    import papermill  # imported here: its import is slow, and planning a run needs none of it

    options: dict[str, Any] = {
        "parameters": parameters,
        "kernel_name": "python3",
        "cwd": str(cwd or src.parent),
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


_SLUG_UNSAFE = re.compile(r"[^\w-]+")


def product_slug(product: str) -> str:
    """The folder name of a product's reports: its code with every character but letters,
    digits (any script), `_` and `-` replaced by `_`, at most 60 characters, and a digest of
    the code when anything was replaced. A product code comes from the data: `../../x`, `/etc`
    or `..` must name a folder inside the month's, and two codes never the same one."""
    text = unicodedata.normalize("NFKC", product)
    slug = _SLUG_UNSAFE.sub("_", text).strip("_-")[:60]
    if slug != product or not slug:
        slug = f"{slug or 'product'}-{hashlib.sha256(product.encode()).hexdigest()[:8]}"
    return slug


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
        """Where its files go, relative to the month's folder: a product's under
        `products/<its slug>` (`product_slug`), never under a name the data wrote."""
        return Path("products") / product_slug(self.product) if self.product else Path()

    @property
    def label(self) -> str:
        return f"{self.name} [{self.product}]" if self.product else self.name

    @property
    def page(self) -> str:
        """Its HTML page, relative to the month's folder."""
        return (self.folder / f"{self.name}.html").as_posix()


def month_nav(plan: list[Job], month: str, locale: str) -> MonthNav:
    """The links between the pages the plan writes, each named by its notebook's title (a
    product's report by the title and the product), the whole business's first."""
    from . import html
    from .notebook_format import nbformat

    reports = []
    for job in sorted(plan, key=lambda j: j.product is not None):  # stable
        nb = html.localize(nbformat.read(job.path, as_version=4), locale)
        title = _title(nb, job.name)
        if job.product:
            title = t("page_product_report", locale, title=title, product=job.product)
        reports.append(NavLink(title, job.page))
    return MonthNav(month, tuple(reports))


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
    known_products = inputs.dataset.products
    for product in products or []:
        if product not in known_products:
            raise ConfigError(
                f"--products: no product '{product}' in the data{suggest(product, known_products)} "
                f"(products: {', '.join(known_products)})"
            )
    slugs: dict[str, str] = {}
    for product in products or []:
        other = slugs.setdefault(product_slug(product).casefold(), product)
        if other != product:  # case-insensitive: two folders on macOS and Windows are one
            raise ConfigError(
                f"--products: the products {other!r} and {product!r} would share the folder "
                f"products/{product_slug(product)}; rename one of them in the data"
            )
    jobs = []
    snapshot = snapshot_of(inputs.dataset)
    for name in settings.notebooks:
        path = find_notebook(name, settings.params_dir)
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
        for setting in ("engine", "spark_master", "currency"):  # for notebooks that declare them
            if setting in declared:
                base[setting] = getattr(settings, setting)
        if "cache_dir" in declared:
            base["cache_dir"] = str(settings.cache_dir) if settings.cache_dir else "off"
        if "history_dir" in declared:
            base["history_dir"] = str(settings.history_dir) if settings.history_dir else "off"
        if "snapshot" in declared:  # the input as the run read it, whatever it holds later
            base["snapshot"] = snapshot
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
    generated_at: datetime,
    position: int,
    kernels: KernelPool | None = None,
    nav: MonthNav | None = None,
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
            kernel_dir(settings.params_dir),  # where the kernels started ahead run too
        )
    except Exception as exc:
        if getattr(exc, "ename", "") == NotEnoughData.__name__:
            reason = str(getattr(exc, "evalue", exc))
            return _skipped(job, executed, reason, settings, generated_at, t0, nav)
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


def _render_job(
    done: _Executed, settings: RunSettings, generated_at: datetime, nav: MonthNav | None = None
) -> NotebookResult:
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
        nav=nav.on(job.page) if nav is not None else None,
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


def start_ahead(
    settings: RunSettings, dataset: Dataset, month: str, plan: list[Job], now: pd.Timestamp
) -> tuple[Ahead | None, dict[str, dict[str, Any]] | None]:
    """Start preparing what the plan's notebooks read (their reports' `Needs.prepare`) in a process of its
    own: as `prepare_ahead` says (auto: for large inputs), only with a validated-data cache
    (where the results are kept) and when some notebook needs nothing, to run meanwhile.

    Returns the process, or None and, when an earlier run on this input prepared every item
    already (`ahead.prepared_before`), what to report of them instead: nothing is started then."""
    targets = dict(pair for j in plan for pair in _needs(j).prepare)
    items = list(targets)
    if settings.cache_dir is None or not items or all(_needs(j).items for j in plan):
        return None, None
    rows = {name: int(src.get("rows") or 0) for name, src in dataset.sources.items()}
    if not worth_it(settings.prepare_ahead, rows.get("leads", 0), rows.get("activities", 0)):
        return None, None
    if prepared_before(dataset, settings.params_dir.resolve(), items):
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
        snapshot=snapshot_of(dataset),
    )
    return process, None


def _needs(job: Job) -> Needs:
    """What `job` reads that `Ahead` prepares (notebooks for one product read their own)."""
    return job.needs if job.product is None else Needs()


def run_jobs(
    plan: list[Job],
    stage: Path,
    settings: RunSettings,
    generated_at: datetime,
    jobs: int,
    kernels: KernelPool | None,
    prepared: Ahead | None,
    log: Callable[[str], None],
    nav: MonthNav | None = None,
) -> list[NotebookResult]:
    """Run the plan in `jobs` kernels; its results in plan order, each page with `nav`. While `prepared` works,
    the notebooks that need nothing of it run first, and the others start when their item is
    ready. With two jobs or more, `prepared` takes one of the places until it is done (it
    uses a core and as much memory as a notebook does); with one, it runs beside
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
            done = _execute_job(job, stage, settings, generated_at, i, kernels, nav)
        if isinstance(done, NotebookResult):
            return done
        return renderer.submit(_render_job, done, settings, generated_at, nav)

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
    job: Job,
    executed: Path,
    reason: str,
    settings: RunSettings,
    generated_at: datetime,
    t0: float,
    nav: MonthNav | None = None,
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
        page,
        title=title,
        show_code=False,
        lang=settings.locale,
        generated_at=generated_at,
        nav=nav.on(job.page) if nav is not None else None,
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


def keep_failed(
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
