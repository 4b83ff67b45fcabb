"""Notebook kernels started ahead of their notebooks, their imports already done.

A kernel takes about a second to start, and a report notebook's first cell about three more
to import pandas, matplotlib, seaborn (SciPy) and maops_utils. A batch runs its notebooks
one after another (or `--jobs` at a time), so `KernelPool` starts the next kernel, and
imports those modules in it, while the run computes the month's review or the current
notebook runs. The batch starts them only once its settings, its input and its plan were
found valid: a run on bad input says so without waiting on kernels. The notebook then runs
in that kernel exactly as in a new one: its own cells, its own imports (already loaded, so
instant), no other state. What a kernel runs ahead is given by the batch for the notebook
that will take it (`batch/notebooks.py`'s `preload_code`: the notebook's imports and what its
reports declare, run silently, outside the kernel's history, binding no name); this module
knows no notebook.

A kernel that failed to start, or died while waiting, is not used: the notebook gets a new
kernel from papermill as before.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

START_TIMEOUT_S = 120


def kernel_manager_class(sink: IO[bytes]) -> type:
    """A kernel manager whose kernel writes its own stderr (start-up and shut-down chatter)
    to `sink` instead of the batch log."""
    from jupyter_client.manager import AsyncKernelManager

    class _KernelManager(AsyncKernelManager):
        clients: list[Any]

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            kw["stderr"] = sink
            await super()._async_launch_kernel(kernel_cmd, **kw)

        def client(self, **kw: Any) -> Any:
            # remembered, so that shutting the kernel down closes their sockets: nbclient
            # stops the channels of its client only for a kernel it started itself
            kc = super().client(**kw)
            self.__dict__.setdefault("clients", []).append(kc)
            return kc

    return _KernelManager


@dataclass
class Kernel:
    """A started kernel: its manager (for papermill's `km`) and the file its stderr goes to."""

    km: Any
    log: Path
    sink: IO[bytes]

    def shut_down(self, keep_log: Path | None = None) -> None:
        """Stop the kernel and its clients' channels; its stderr goes to `keep_log` when
        given, else is dropped."""
        try:
            asyncio.run(self.km.shutdown_kernel(now=True))
        except Exception:  # already dead, or gone: nothing left to stop
            pass
        for kc in self.km.__dict__.get("clients", []):
            try:
                if kc.channels_running:
                    kc.stop_channels()
            except Exception:  # a client already closed: nothing left to stop
                pass
        self.sink.close()
        if keep_log is not None:
            shutil.move(self.log, keep_log)
        else:
            self.log.unlink(missing_ok=True)


async def _reply_while_alive(km: Any, kc: Any, msg_id: str) -> dict[str, Any]:
    """The shell reply to `msg_id`; a kernel that dies meanwhile (killed, out of memory)
    fails at once instead of after the start-up timeout."""
    import queue
    import time

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            msg = await kc.get_shell_msg(timeout=0.2)
        except queue.Empty:
            if not await km.is_alive():
                raise RuntimeError("the kernel died while importing ahead") from None
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg
    raise RuntimeError(f"the kernel did not import ahead within {START_TIMEOUT_S} s")


def start_kernel(cwd: Path, log: Path, preload: str = "") -> Kernel:
    """Start a python3 kernel in `cwd` and run `preload` in it ahead (imports that bind no
    name in the kernel's namespace: `batch/notebooks.py`'s `preload_code`)."""
    sink = log.open("wb")
    km = kernel_manager_class(sink)(kernel_name="python3")

    async def start() -> None:
        await km.start_kernel(cwd=str(cwd))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=START_TIMEOUT_S)
            if preload:
                msg_id = kc.execute(preload, silent=True, store_history=False)
                reply = await _reply_while_alive(km, kc, msg_id)
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"imports failed in the kernel: {reply['content']}")
        finally:
            kc.stop_channels()

    kernel = Kernel(km, log, sink)
    try:
        asyncio.run(start())
    except BaseException:
        kernel.shut_down()
        raise
    return kernel


class KernelPool:
    """Kernels started ahead of the notebooks that will take them: `first` at once (the
    notebooks that start together), then `ahead` waiting at a time (each holds about
    0.25 GB while it waits).

    `take()` hands out the oldest and starts the next one, until `expect(preloads)` kernels
    have been started in all; `close()` stops the ones never taken. `preloads`, what each
    kernel runs ahead in the order the notebooks will take them (`start_kernel`); a kernel
    taken by another notebook than the one it was started for runs it all the same, the
    notebook importing what was not imported ahead."""

    def __init__(
        self,
        cwd: Path,
        *,
        first: int,
        expected: int,
        ahead: int = 1,
        preloads: Sequence[str] = (),
    ):
        self.cwd = cwd
        self.ahead = max(ahead, 0)
        self.expected = expected
        self.preloads = list(preloads)
        self.started = 0
        self._lock = threading.Lock()
        self._queue: deque[Future[Kernel]] = deque()
        self._logs = Path(tempfile.mkdtemp(prefix="maops-kernels-"))
        self._executor = ThreadPoolExecutor(max_workers=max(first, self.ahead, 1))
        with self._lock:
            self._fill(max(first, 0))

    @classmethod
    def for_run(cls, cwd: Path, preloads: Sequence[str], jobs: int) -> KernelPool:
        """The kernels of a batch of notebooks (what each runs ahead: `preloads`, in the order
        they run) run `jobs` at a time in the folder `cwd`: the
        first `jobs` start at once (and import while the review is computed); with one job,
        the second too, so that it is ready when the first notebook ends, however short.
        (With two jobs or more, a third one would only add its imports to the data's check.)"""
        first = min(max(jobs, 2), len(preloads))
        return cls(cwd, first=first, expected=first, preloads=preloads[:first])

    def _fill(self, target: int | None = None) -> None:
        target = self.ahead if target is None else target
        while len(self._queue) < target and self.started < self.expected:
            log = self._logs / f"kernel-{self.started}.log"
            code = self.preloads[self.started] if self.started < len(self.preloads) else ""
            self._queue.append(self._executor.submit(start_kernel, self.cwd, log, code))
            self.started += 1

    def expect(self, preloads: Sequence[str]) -> None:
        """The run will execute one notebook per item of `preloads`, taking kernels in that
        order: start no more kernels than that, each running ahead what its item says."""
        with self._lock:
            self.expected = len(preloads)
            self.preloads[self.started :] = list(preloads)[self.started :]

    def take(self) -> Kernel | None:
        """A kernel ready to run a notebook, or None (papermill then starts one)."""
        with self._lock:
            future = self._queue.popleft() if self._queue else None
            self._fill()
        if future is None:
            return None
        try:
            kernel = future.result()
        except Exception:
            return None
        if not kernel.km.has_kernel or not asyncio.run(kernel.km.is_alive()):
            kernel.shut_down()
            return None
        return kernel

    def close(self) -> None:
        """Stop every kernel not taken and remove their logs."""
        with self._lock:
            left, self._queue = list(self._queue), deque()
            self.expected = self.started
        for future in left:
            if future.cancel():  # not started yet (an interrupted run): nothing to stop
                continue
            try:
                future.result().shut_down()
            except Exception:
                pass
        self._executor.shutdown(wait=True)
        shutil.rmtree(self._logs, ignore_errors=True)
