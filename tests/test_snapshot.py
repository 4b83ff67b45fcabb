"""One read of the input per run: a run's notebooks read the input as the run read it (its
snapshot, `load.snapshot_of`), whatever the files hold by the time they run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maops_utils.contract.load import load_dataset, snapshot_of
from maops_utils.core.errors import ConfigError, InputChanged

import handmade

AS_OF = pd.Timestamp("2026-03-01")
LATE_LEAD = b"L99,2026-01-20 10:00:00,A,webinar,,\n"


def _data(tmp_path: Path, layout: str) -> Path:
    csv = handmade.write(tmp_path / "csv")
    return csv if layout == "csv" else handmade.as_parquet(csv, tmp_path / layout, layout)


def _rewrite_activities(data: Path) -> Path:
    """Drop the last activity, as a later export would; returns the file rewritten."""
    if (data / "activities.csv").is_file():
        path = data / "activities.csv"
        path.write_bytes(b"".join(path.read_bytes().splitlines(True)[:-1]))
        return path
    path = (
        data / "activities.parquet"
        if (data / "activities.parquet").is_file()
        else max((data / "activities").rglob("*.parquet"))
    )
    table = pq.read_table(path)
    pq.write_table(table.slice(0, table.num_rows - 1), path)
    return path


def _frames(dataset) -> dict[str, pd.DataFrame]:
    return {name: dataset[name].reset_index(drop=True) for name in sorted(dataset.sources)}


@pytest.mark.parametrize("layout", ["csv", "file", "hive"])
def test_a_snapshot_reads_the_input_as_the_run_read_it(tmp_path, layout):
    data, cache = _data(tmp_path, layout), tmp_path / "cache"
    first = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    snapshot = snapshot_of(first)
    before = _frames(first)
    (data / "leads.csv").write_bytes((data / "leads.csv").read_bytes() + LATE_LEAD)
    _rewrite_activities(data)
    again = load_dataset(data, as_of=AS_OF, cache_dir=cache, snapshot=snapshot)
    for name, frame in _frames(again).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)
    assert [s["sha256"] for s in again.sources.values()] == [
        s["sha256"] for s in first.sources.values()
    ]
    # without the snapshot, the same call reads the files as they are now
    now = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert len(now["leads"]) == len(before["leads"]) + 1
    assert len(now["activities"]) == len(before["activities"]) - 1


@pytest.mark.parametrize("layout", ["csv", "hive"])
def test_a_snapshot_no_longer_in_the_cache_is_read_from_unchanged_files(tmp_path, layout):
    data, cache = _data(tmp_path, layout), tmp_path / "cache"
    first = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    snapshot, before = snapshot_of(first), _frames(first)
    shutil.rmtree(cache)
    again = load_dataset(data, as_of=AS_OF, cache_dir=cache, snapshot=snapshot)
    for name, frame in _frames(again).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)
    # and with the cache off, each load reads the folder and checks it against the snapshot
    plain = load_dataset(data, as_of=AS_OF, snapshot=snapshot)
    pd.testing.assert_frame_equal(_frames(plain)["leads"], before["leads"])


@pytest.mark.parametrize("cached", [True, False])
def test_a_changed_input_whose_snapshot_is_not_kept_is_an_error_naming_the_file(tmp_path, cached):
    data = _data(tmp_path, "hive")
    cache = tmp_path / "cache" if cached else None
    snapshot = snapshot_of(load_dataset(data, as_of=AS_OF, cache_dir=cache))
    if cache is not None:
        for entry in cache.glob("activities-*"):  # the run's entry went (a cache cleaned)
            shutil.rmtree(entry)
    changed = _rewrite_activities(data)
    with pytest.raises(InputChanged) as err:
        load_dataset(data, as_of=AS_OF, cache_dir=cache, snapshot=snapshot)
    assert str(data / "activities") in str(err.value) and "Run again" in str(err.value)
    assert changed.parent.parent == data / "activities"


def test_a_table_that_came_or_went_since_the_snapshot_is_an_error(tmp_path):
    data, cache = _data(tmp_path, "csv"), tmp_path / "cache"
    snapshot = snapshot_of(load_dataset(data, as_of=AS_OF, cache_dir=cache))
    (data / "campaigns.csv").unlink()
    with pytest.raises(InputChanged, match=r"campaigns \(gone\)"):
        load_dataset(data, as_of=AS_OF, cache_dir=cache, snapshot=snapshot)
    scores = pa.table({"lead_id": ["L1"], "scored_at": ["2026-01-05"], "score": [10]})
    pq.write_table(scores, data / "scores.parquet")
    with pytest.raises(InputChanged, match="scores.parquet"):
        load_dataset(data, as_of=AS_OF, cache_dir=cache, snapshot=snapshot)


@pytest.mark.parametrize("value", ["leads", "leads:abc", "nope:" + "0" * 64, "leads:" + "G" * 64])
def test_a_snapshot_that_is_not_one_names_the_parameter(tmp_path, value):
    data = _data(tmp_path, "csv")
    with pytest.raises(ConfigError, match="^snapshot: .*leave it empty"):
        load_dataset(data, as_of=AS_OF, snapshot=value)
