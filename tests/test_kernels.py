"""Kernels started ahead of their notebooks (maops_utils/kernels.py): real ipykernel processes."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import nbformat
import papermill
import pytest

from maops_utils.batch.notebooks import preload_code
from maops_utils.speed.kernels import Kernel, KernelPool, start_kernel

ROOT = Path(__file__).resolve().parents[1]


def _preload(notebook: str) -> str:
    """What the batch has a kernel run ahead for a shipped notebook."""
    return preload_code(ROOT / "notebooks" / f"{notebook}.ipynb")


pytestmark = pytest.mark.slow  # real kernel processes


def _run(kernel: Kernel, code: str) -> str:
    """What `code` prints in the kernel, and the kernel's execution count after it."""

    async def go() -> str:
        kc = kernel.km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            out: list[str] = []
            reply = await kc.execute_interactive(
                code,
                timeout=60,
                output_hook=lambda m: (
                    out.append(m["content"].get("text", "")) if m["msg_type"] == "stream" else None
                ),
            )
            return "".join(out) + f"|{reply['content']['execution_count']}"
        finally:
            kc.stop_channels()

    return asyncio.run(go())


def _loaded(kernel: Kernel) -> str:
    return _run(
        kernel,
        "import os, sys; print('maops_utils.reports.plots' in sys.modules, 'sklearn' in sys.modules, "
        "[n for n in ('seaborn', 'plots', 'maops_utils', 'sklearn') if n in dir()], "
        "os.getcwd())",
    )


def test_kernels_start_ahead_with_the_imports_done_and_no_history(tmp_path):
    pool = KernelPool(tmp_path, first=1, expected=1, preloads=[_preload("00_data_quality")])
    try:
        assert pool.started == 1
        pool.expect([_preload("00_data_quality"), _preload("02_scoring_calibration")])
        first = pool.take()
        assert first is not None and pool.started == 2  # taking one starts the next
        # imported ahead, in the notebook's folder, no name bound and no history left: the
        # first cell a notebook runs is the kernel's execution 1; scikit-learn only for the
        # scoring notebook
        assert _loaded(first) == f"True False [] {tmp_path}\n|1"
        second = pool.take()
        assert second is not None and second.km is not first.km
        assert _loaded(second) == f"True True [] {tmp_path}\n|1"
        assert pool.take() is None  # two expected: papermill starts any further kernel
        log = tmp_path / "kept.log"
        first.shut_down(keep_log=log)
        assert log.is_file() and not asyncio.run(first.km.is_alive())
        second.shut_down()
    finally:
        pool.close()


def test_a_kernel_that_died_while_waiting_is_not_used(tmp_path):
    pool = KernelPool(tmp_path, first=1, expected=1)
    try:
        waiting = pool._queue[0].result()
        os.kill(waiting.km.provisioner.process.pid, signal.SIGKILL)
        waiting.km.provisioner.process.wait()
        assert pool.take() is None
    finally:
        pool.close()


def test_a_kernel_that_dies_while_importing_ahead_fails_at_once(tmp_path, monkeypatch):
    import time

    # the kernel ends itself in the middle of its imports, as one killed or out of memory
    t0 = time.monotonic()
    pool = KernelPool(tmp_path, first=1, expected=1, preloads=["import os; os._exit(9)"])
    try:
        assert pool.take() is None  # the notebook gets a kernel of its own from papermill
    finally:
        pool.close()
    assert time.monotonic() - t0 < 30  # not the start-up timeout (120 s)


def test_close_stops_the_kernels_never_taken(tmp_path):
    pool = KernelPool(tmp_path, first=2, expected=2)
    kernels = [f.result() for f in pool._queue]
    pids = [k.km.provisioner.process.pid for k in kernels]
    pool.close()
    for kernel, pid in zip(kernels, pids, strict=True):
        assert not asyncio.run(kernel.km.is_alive())
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert pool.take() is None


def test_a_notebook_runs_the_same_in_a_kernel_started_ahead(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("value = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import sys\nprint(value * 2, 'seaborn' in sys.modules)"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "P"}
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    pool = KernelPool(tmp_path, first=1, expected=1, preloads=["exec('import seaborn', {})"])
    kernel = pool.take()
    assert kernel is not None
    try:
        papermill.execute_notebook(
            str(src),
            str(tmp_path / "out.ipynb"),
            parameters={"value": 21},
            km=kernel.km,
            progress_bar=False,
            kernel_name="python3",
        )
    finally:
        kernel.shut_down()
        pool.close()
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    code = [c for c in out.cells if c.cell_type == "code"]
    assert code[-1].outputs[0]["text"] == "42 True\n"
    assert [c.execution_count for c in code] == [1, 2, 3]  # parameters, injected, print


def test_after_the_first_kernels_one_waits_at_a_time(tmp_path):
    pool = KernelPool(tmp_path, first=2, expected=2)
    pool.expect(["", "", "", ""])
    taken = []
    try:
        assert pool.started == 2  # the two notebooks that start together
        taken.append(pool.take())
        assert pool.started == 2  # the second one still waits: none more yet
        taken.append(pool.take())
        assert pool.started == 3 and len(pool._queue) == 1
        assert all(k is not None for k in taken)
    finally:
        for kernel in taken:
            if kernel is not None:
                kernel.shut_down()
        pool.close()
    assert pool.started == 3  # closing starts none of the fourth


def test_shutting_a_kernel_down_closes_its_clients_channels(tmp_path):
    """The channels of a client made on a pool kernel (papermill's, through nbclient, which
    stops them only for a kernel it started) are stopped with the kernel."""
    kernel = start_kernel(tmp_path, tmp_path / "kernel.log")
    kc = kernel.km.client()
    kc.start_channels()
    assert kc.channels_running
    kernel.shut_down()
    assert not kc.channels_running


def test_a_batch_of_one_job_starts_the_second_kernel_at_once(tmp_path):
    """With one job, the kernel of the notebook after the first is ready when the first ends,
    however short; with two, two kernels start. The kernels run in the folder given (the
    workspace's notebooks, `workspace.kernel_dir`)."""
    (tmp_path / "notebooks").mkdir()
    names = [_preload("00_data_quality"), _preload("01_kpi_evaluation"), ""]
    pool = KernelPool.for_run(tmp_path / "notebooks", names, jobs=1)
    alone = KernelPool.for_run(tmp_path / "notebooks", names[:1], jobs=1)
    two = KernelPool.for_run(tmp_path / "notebooks", names, jobs=2)
    try:
        assert pool.started == 2 and alone.started == 1 and two.started == 2
        kernel = pool.take()
        assert kernel is not None
        assert _loaded(kernel) == f"True False [] {tmp_path / 'notebooks'}\n|1"
        kernel.shut_down()
    finally:
        pool.close()
        alone.close()
        two.close()
