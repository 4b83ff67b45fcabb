"""What is kept between runs can be trusted: checked on read, never code, never on the data,
and the cache's clean-up removes only what the cache made (maops_utils/cache.py, io.py)."""

from __future__ import annotations

import dataclasses
import math
import pickle

import numpy as np
import pandas as pd
import pytest

from maops_utils.batch.config import load_settings
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.metrics.catalogue import CORE_METRICS
from maops_utils.metrics.compute import compute_metrics
from maops_utils.speed import cache

import handmade

AS_OF = pd.Timestamp("2026-03-01")
MONTHS = ["2025-12", "2026-01", "2026-02"]


@dataclasses.dataclass(frozen=True)
class Inner:
    name: str
    weights: tuple[tuple[str, float], ...]


@dataclasses.dataclass
class Outer:
    frame: pd.DataFrame
    series: pd.Series
    inner: Inner
    optional: Inner | None
    notes: list[tuple[str, dict]]
    values: dict[str, float]


class Planted:
    """Unpickling it would write a file: the proof that a pickle ran."""

    def __init__(self, target: str):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_kept_value_reads_back_equal_types_index_and_all(tmp_path):
    frame = pd.DataFrame(
        {
            "lead": pd.Series(["L1", None, "L3"], dtype="str"),
            "at": pd.to_datetime(["2026-01-01 09:00", None, "2026-02-03 00:00"]).astype(
                "datetime64[us]"
            ),
            "y": [1.0, float("nan"), 0.0],
            "n": np.array([1, 2, 3], dtype="int64"),
            "closed": [True, False, True],
        },
        index=pd.Index([10, 20, 30], name="row"),
    )
    series = pd.Series([0.5, -1.25], index=pd.Index(["a", "b"], name="feature"), name="w")
    value = Outer(
        frame,
        series,
        Inner("x", (("A", 1.5), ("B", -0.0))),
        None,
        [("note", {"month": "2026-01", "at": pd.Timestamp("2026-01-31 23:59:59")})],
        {"auc": np.float64(0.7312), "inf": math.inf},
    )
    path = tmp_path / "kept.kept"
    cache.keep(path, value)
    back = cache.load(path, [Outer, Inner])
    pd.testing.assert_frame_equal(back.frame, frame, check_exact=True)
    pd.testing.assert_series_equal(back.series, series, check_exact=True)
    assert back.inner == value.inner and back.optional is None
    assert back.notes == value.notes and back.values == {"auc": 0.7312, "inf": math.inf}


def test_an_edited_file_is_dropped_and_noted_not_read(tmp_path):
    path = tmp_path / "facts.kept"
    cache.keep(path, {"new_leads": 166.0})
    text = path.read_bytes().replace(b"166.0", b"999.0", 1)
    assert text != path.read_bytes()
    path.write_bytes(text)
    assert cache.load(path) is None
    assert not path.exists()
    assert cache.dropped()[-1] == {
        "path": str(path),
        "reason": "its checksum does not match its content (damaged or edited)",
    }


def test_a_planted_pickle_never_runs(tmp_path):
    proof = tmp_path / "PWNED"
    path = tmp_path / "study.kept"
    path.write_bytes(pickle.dumps(Planted(str(proof))))
    assert cache.load(path, [Outer, Inner]) is None
    assert not proof.exists() and not path.exists()


def test_a_checksummed_file_naming_another_class_is_dropped(tmp_path):
    import hashlib
    import json

    body = json.dumps({"$class": "Popen", "fields": {"args": ["touch", "x"]}}).encode()
    path = tmp_path / "study.kept"
    path.write_bytes(f"{cache.FORMAT} {hashlib.sha256(body).hexdigest()}\n".encode() + body)
    assert cache.load(path, [Outer, Inner]) is None
    assert "not one of the kept classes" in cache.dropped()[-1]["reason"]


def test_month_facts_edited_in_the_cache_are_queried_again(tmp_path):
    data = handmade.write(tmp_path / "data")
    folder = tmp_path / "cache"
    plain = compute_metrics(load_dataset(data, as_of=AS_OF), MONTHS, names=CORE_METRICS)
    compute_metrics(load_dataset(data, as_of=AS_OF, cache_dir=folder), MONTHS, names=CORE_METRICS)
    (kept,) = folder.glob("facts-*/all/2026-01-*.kept")
    # the new-leads row of January, made 99999 as someone editing the file by hand would
    head, body = kept.read_bytes().split(b"\n", 1)
    value = cache.load(kept)
    kept.write_bytes(head + b"\n" + body)  # load removed nothing: the file was intact
    assert value is not None and not value.empty
    edited = value.copy()
    edited.loc[edited["metric"] == "new_leads", "value"] = 99999.0
    cache.keep(kept, edited)
    forged = kept.read_bytes()
    kept.write_bytes(head + b"\n" + forged.split(b"\n", 1)[1])  # the new body, the old sum
    dataset = load_dataset(data, as_of=AS_OF, cache_dir=folder)
    got = compute_metrics(dataset, MONTHS, names=CORE_METRICS)
    pd.testing.assert_frame_equal(got, plain)
    assert (dataset.facts.read, dataset.facts.written) == (2, 1)
    assert cache.dropped()[-1]["path"] == str(kept)


@pytest.mark.parametrize("where", ["data", "data/cache", "."])
def test_a_cache_folder_on_the_data_is_refused(tmp_path, where):
    params = tmp_path / "params"
    params.mkdir()
    (params / "run.yaml").write_text("data_dir: data\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(params, {"cache_dir": str(tmp_path / where)})
    message = str(info.value)
    assert message.startswith("command-line flag: cache_dir")
    assert "a run never writes among its inputs" in message


def test_the_clean_up_removes_only_entries_the_cache_made(tmp_path):
    folder = tmp_path / "exports"
    mine = folder / "activities-2026-07"  # a user's folder that looks like an entry
    mine.mkdir(parents=True)
    (mine / "activities.csv").write_text("lead_id\n", encoding="utf-8")
    before = cache.cache_state(folder)
    entries = []
    for key in ("k1", "k2", "k3", "k4"):
        entry = cache.cache_entry(folder, "activities", key)
        tmp = cache.new_cache_entry(entry)
        assert cache.publish_cache_entry(tmp, entry, {"format": "test"}, keep=2)
        entries.append(entry)
    assert [e.exists() for e in entries] == [False, False, True, True]  # the newest two
    assert (mine / "activities.csv").is_file()
    cache.drop_new_cache(folder, before)  # a failed run: what it published goes
    assert not entries[-1].exists() and (mine / "activities.csv").is_file()


def test_an_edited_typed_table_in_the_cache_is_typed_again_from_the_input(tmp_path):
    import pyarrow as pa
    import pyarrow.feather as feather

    data = handmade.write(tmp_path / "data")
    folder = tmp_path / "cache"
    plain = load_dataset(data, as_of=AS_OF)
    load_dataset(data, as_of=AS_OF, cache_dir=folder)
    (leads,) = folder.glob("tables-*/leads.arrow")
    table = feather.read_table(leads)
    products = table.column("product").to_pylist()
    edited = table.set_column(
        table.schema.get_field_index("product"), "product", pa.array(["Z"] * len(products))
    )
    feather.write_feather(edited, leads, compression="uncompressed")  # a valid file, other values
    again = load_dataset(data, as_of=AS_OF, cache_dir=folder)
    pd.testing.assert_frame_equal(again["leads"], plain["leads"])
    assert again.sources["leads"]["cache"].startswith("written")  # typed anew and kept
    assert cache.dropped()[-1]["path"] == str(leads)


@pytest.mark.slow
def test_a_run_never_publishes_an_edited_fact_and_says_what_it_dropped(tmp_path):
    import json

    from helpers import maops

    data = handmade.write(tmp_path / "data")
    out = tmp_path / "reports"
    args = ["run", "--data", data, "--out", out, "--month", handmade.MONTH,
            "--as-of", "2026-03-01 09:00", "--notebooks", "01_kpi_evaluation"]  # fmt: skip
    first = maops(*args)
    assert first.returncode == 0, first.stderr
    metrics = (out / handmade.MONTH / "metrics.csv").read_bytes()
    tables = {p.name: p.read_bytes() for p in (out / handmade.MONTH).glob("*.csv")}
    forged = []
    for kept in (out / ".cache").glob(f"facts-*/all/{handmade.MONTH}-*.kept"):
        value = cache.load(kept)
        value.loc[value["metric"] == "new_leads", "value"] = 99999.0
        head = kept.read_bytes().split(b"\n", 1)[0]
        cache.keep(kept, value)
        kept.write_bytes(head + b"\n" + kept.read_bytes().split(b"\n", 1)[1])
        forged.append(str(kept))
    assert forged
    second = maops(*args)
    assert second.returncode == 0, second.stderr
    assert (out / handmade.MONTH / "metrics.csv").read_bytes() == metrics
    # and the notebook's own tables (trend, channels, ...): its kernel checks what it reads too
    assert {p.name: p.read_bytes() for p in (out / handmade.MONTH).glob("*.csv")} == tables
    manifest = json.loads((out / handmade.MONTH / "run.json").read_text(encoding="utf-8"))
    # the facts are read in the notebook's kernel (metrics.csv is its): the drop is in run.json
    dropped = {d["path"] for d in manifest["cache_dropped"]}
    assert dropped and dropped <= set(forged)
    log = (out / handmade.MONTH / "run.log").read_text(encoding="utf-8")
    assert "cache: dropped" in log and "99999" not in metrics.decode()


def test_a_truncated_cached_partition_is_typed_again_not_blamed_on_the_input(tmp_path):
    data = handmade.write(tmp_path / "data")
    folder = tmp_path / "cache"
    plain = compute_metrics(load_dataset(data, as_of=AS_OF), MONTHS, names=CORE_METRICS)
    load_dataset(data, as_of=AS_OF, cache_dir=folder)
    parts = sorted(folder.glob("activities-*/data/*/*.parquet"))
    assert parts
    whole = parts[0].read_bytes()
    parts[0].write_bytes(whole[: len(whole) // 2])
    dataset = load_dataset(data, as_of=AS_OF, cache_dir=folder)  # no DataContractError
    assert dataset.sources["activities"]["cache"].startswith("written")
    pd.testing.assert_frame_equal(
        compute_metrics(dataset, MONTHS, names=CORE_METRICS), plain, check_exact=True
    )
    assert cache.dropped()[-1]["path"] == str(parts[0])
    assert parts[0].read_bytes() == whole  # typed again: the same rows, the same file


@pytest.mark.slow
def test_a_drop_in_a_notebooks_kernel_is_in_run_json(tmp_path):
    """The scoring study is kept and read in the notebook's kernel only: what the kernel
    drops reaches the run's run.json and run.log all the same (`cache.run_journal`)."""
    import json

    from helpers import ROOT, maops

    out = tmp_path / "reports"
    args = ["run", "--data", ROOT / "data" / "sample", "--month", "2026-10",
            "--as-of", "2026-11-15 09:00", "--notebooks", "02_scoring_calibration"]  # fmt: skip
    first = maops(*args, "--out", out)
    assert first.returncode == 0, first.stderr
    (kept,) = out.glob(".cache/facts-*/all/study-2026-10-*.kept")
    body = kept.read_bytes()
    kept.write_bytes(body[:-2] + bytes([body[-2] ^ 1]) + body[-1:])
    second = maops(*args, "--out", out)
    assert second.returncode == 0, second.stderr
    manifest = json.loads((out / "2026-10" / "run.json").read_text(encoding="utf-8"))
    assert str(kept) in {d["path"] for d in manifest["cache_dropped"]}
    assert f"cache: dropped {kept}" in (out / "2026-10" / "run.log").read_text(encoding="utf-8")
    tables = ("scoring_metrics.csv", "scoring_thresholds.csv", "scoring_bands.csv")
    again = maops(*args, "--out", tmp_path / "fresh", "--no-cache")  # computed, never kept
    assert again.returncode == 0, again.stderr
    for name in tables:
        assert (out / "2026-10" / name).read_bytes() == (
            tmp_path / "fresh" / "2026-10" / name
        ).read_bytes()
