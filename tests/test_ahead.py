"""What a monthly run prepares ahead, in a process of its own, is what the notebooks then read."""

from __future__ import annotations

import importlib
import json
import time
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.batch import config
from maops_utils.batch.notebooks import notebook_imports, notebook_needs
from maops_utils.contract import dedupe
from maops_utils.contract.load import load_dataset
from maops_utils.reports import quality as quality_package
from maops_utils.reports import scoring
from maops_utils.reports.quality import checks as quality
from maops_utils.reports.scoring import points
from maops_utils.speed import ahead

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
AS_OF = pd.Timestamp("2026-11-15 09:00")
MONTH = "2026-10"


# what the reports declare (`NEEDS` of their packages): item -> the function computing it
TARGETS = dict(quality_package.NEEDS.prepare + scoring.NEEDS.prepare)


def _start(items: list[str], cache: Path, data_dir: Path = SAMPLE) -> ahead.Ahead:
    return ahead.Ahead(
        # an item no report declares: a function that does not exist
        {item: TARGETS.get(item, f"maops_utils.reports.quality.checks:{item}") for item in items},
        data_dir=data_dir,
        params_dir=ROOT / "workspaces" / "sample" / "params",
        cache_dir=cache,
        timezone="Asia/Tokyo",
        encoding="auto",
        as_of=AS_OF,
        month=MONTH,
    )


def _nothing_computed(monkeypatch) -> None:
    """From here on, computing the pairs or counting the scoring points fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("computed again instead of read from the cache")

    monkeypatch.setattr(dedupe, "candidate_pairs", refuse)
    monkeypatch.setattr(points, "_write_counted", refuse)


def test_the_pairs_and_scoring_points_prepared_ahead_are_read_by_the_notebooks(
    tmp_path, monkeypatch
):
    cache = tmp_path / ".cache"
    # the run checks the data first, which writes the cache entry the process loads
    load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    prepared = _start(["pairs", "scoring_points"], cache)
    try:
        assert prepared.wait("scoring_points") is None
        assert prepared.wait("pairs") is None
    finally:
        outcome = prepared.close()
    assert {item: done["problem"] for item, done in outcome.items()} == {
        "pairs": None,
        "scoring_points": None,
    }
    ready = {item: pd.Timestamp(done["ready_at"]) for item, done in outcome.items()}
    assert ready["pairs"] <= ready["scoring_points"] <= pd.Timestamp.now(tz="UTC")  # in turn
    assert len(list(cache.glob("facts-*/*/counted-*.parquet"))) == 2  # current and proposed
    # every item prepared: a later run on this input starts no process (for any month)
    loaded = load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    assert ahead.prepared_before(
        loaded, ROOT / "workspaces" / "sample" / "params", ["pairs", "scoring_points"]
    )
    assert not ahead.prepared_before(
        loaded, ROOT / "workspaces" / "sample" / "params", ["pairs"]
    )  # other items

    expected_pairs = quality.load_quality(
        config.notebook_settings(
            ROOT / "workspaces" / "sample" / "params", data_dir=str(SAMPLE), cache_dir="off"
        ),
        as_of=AS_OF,
    ).pairs
    plain = load_dataset(SAMPLE, as_of=AS_OF)
    expected = scoring.run(
        plain, scoring.load_config(ROOT / "workspaces" / "sample" / "params"), MONTH
    )

    _nothing_computed(monkeypatch)
    settings = config.notebook_settings(
        ROOT / "workspaces" / "sample" / "params", data_dir=str(SAMPLE), cache_dir=str(cache)
    )
    pd.testing.assert_frame_equal(quality.load_quality(settings, as_of=AS_OF).pairs, expected_pairs)
    cached = load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    study = scoring.run(
        cached, scoring.load_config(ROOT / "workspaces" / "sample" / "params"), MONTH
    )
    pd.testing.assert_frame_equal(study.rows, expected.rows)
    assert study.proposed == expected.proposed and study.mql_check == expected.mql_check


def test_an_item_that_cannot_be_prepared_is_named_and_the_others_are_done(tmp_path):
    cache = tmp_path / ".cache"
    load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    prepared = _start(["nonsense", "pairs"], cache)
    try:
        assert "has no attribute 'nonsense'" in (prepared.wait("nonsense") or "")
        assert prepared.wait("pairs") is None
    finally:
        prepared.close()
    # not everything was prepared: the next run starts the process again
    loaded = load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    assert not ahead.prepared_before(
        loaded, ROOT / "workspaces" / "sample" / "params", ["nonsense", "pairs"]
    )
    assert (
        ahead.done_mark(
            load_dataset(SAMPLE, as_of=AS_OF), ROOT / "workspaces" / "sample" / "params", []
        )
        is None
    )


def test_a_process_that_stops_is_reported_and_not_waited_for(tmp_path):
    prepared = _start(["pairs"], tmp_path / ".cache", data_dir=tmp_path / "no-such-folder")
    try:
        assert prepared.wait("pairs") == "the process preparing it stopped with exit code 1"
    finally:
        assert prepared.close() == {
            "pairs": {
                "problem": "the process preparing it stopped with exit code 1",
                "ready_at": None,
            }
        }


def test_closing_stops_a_process_still_at_work(tmp_path):
    cache = tmp_path / ".cache"
    load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    prepared = _start(["pairs", "scoring_points"], cache)
    outcome = prepared.close()  # at once: the process is still loading the data
    ended = {"problem": "the run ended before it was ready", "ready_at": None}
    assert outcome == {"pairs": ended, "scoring_points": ended}
    assert prepared._proc.returncode is not None


def test_a_process_stopped_at_work_leaves_no_spill_folder(tmp_path, monkeypatch):
    cache, tmp = tmp_path / ".cache", tmp_path / "tmp"
    tmp.mkdir()
    load_dataset(SAMPLE, as_of=AS_OF, cache_dir=cache)
    monkeypatch.setenv("TMPDIR", str(tmp))  # where the process's DuckDB spills
    prepared = _start(["scoring_points"], cache)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp.glob("maops-duckdb-*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(tmp.glob("maops-duckdb-*"))  # at work: its databases are open
    finally:
        outcome = prepared.close()
    assert outcome == {
        "scoring_points": {"problem": "the run ended before it was ready", "ready_at": None}
    }
    # it exited through Python (SystemExit, or what a library made of it), not by the signal
    assert prepared._proc.returncode > 0
    assert not list(tmp.iterdir())


@pytest.mark.parametrize(
    "notebook, items",
    [
        ("00_data_quality", ("pairs",)),
        ("02_scoring_calibration", ("scoring_points", "score_health")),
        # its conclusion reads the scoring study: it waits for the points like the scoring
        # report, so the study is computed once, with the points prepared ahead
        ("03_product_comparison", ("scoring_points", "score_health")),
    ],
)
def test_a_notebook_waits_for_what_the_reports_it_imports_declare(notebook, items, tmp_path):
    path = ROOT / "notebooks" / f"{notebook}.ipynb"
    assert notebook_needs(path).items == items
    # a notebook of one's own gets the same from the same import, with no list to edit
    own = tmp_path / "10_mine.ipynb"
    imports = [s for s in notebook_imports(path) if "maops_utils.reports" in s]
    own.write_text(
        json.dumps(
            {"cells": [{"cell_type": "code", "metadata": {}, "source": "\n".join(imports)}]}
        ),
        encoding="utf-8",
    )
    assert notebook_needs(own) == notebook_needs(path)
    assert notebook_needs(ROOT / "notebooks" / "01_kpi_evaluation.ipynb").items == ()
    # and what is declared can be called as the process calls it
    for item in items:
        module, _, function = dict(notebook_needs(path).prepare)[item].partition(":")
        assert callable(getattr(importlib.import_module(module), function))
