"""Fixtures shared by the test files, made once per session: the hand-computed dataset
(tests/handmade.py) written and validated, and the bundled sample validated.

The tiers (`make test-fast`, `make test`) are chosen by marker: `slow` (a notebook kernel,
a whole batch, or seconds of its own), `browser` (headless Chromium) and `spark`. A test
that starts a kernel, Chromium or Spark without its marker would slow the fast tier; the
check below refuses it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import handmade

ROOT = Path(__file__).resolve().parents[1]
HANDMADE_AS_OF = pd.Timestamp("2026-03-01")


@pytest.fixture(scope="session")
def handmade_dir(tmp_path_factory) -> Path:
    """The hand-computed dataset as CSV files; read it, never write into it."""
    return handmade.write(tmp_path_factory.mktemp("handmade-shared"))


@pytest.fixture(scope="session")
def handmade_ds(handmade_dir):
    """The hand-computed dataset validated as of 2026-03-01 (its month under test: 2026-01)."""
    from maops_utils.contract.load import load_dataset

    return load_dataset(handmade_dir, as_of=HANDMADE_AS_OF)


@pytest.fixture(scope="session")
def sample_ds():
    """The bundled sample (data/sample) validated as of now."""
    from maops_utils.contract.load import load_dataset

    return load_dataset(ROOT / "data" / "sample")


_HEAVY = {"slow", "browser", "spark"}


@pytest.fixture(autouse=True)
def _fast_tier_starts_no_kernel(request, monkeypatch):
    """A test outside the slow tiers may not start a notebook kernel: the fast tier stays
    fast only if every kernel start is marked."""
    if _HEAVY & {m.name for m in request.node.iter_markers()}:
        return

    def refuse(*args, **kwargs):
        raise AssertionError(
            f"{request.node.nodeid} starts a notebook kernel: mark it @pytest.mark.slow"
        )

    from jupyter_client.manager import AsyncKernelManager, KernelManager

    monkeypatch.setattr(AsyncKernelManager, "start_kernel", refuse)
    monkeypatch.setattr(KernelManager, "start_kernel", refuse)
