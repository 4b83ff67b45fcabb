"""The bulk table in DuckDB (maops_utils/store.py): the same values and findings as the pandas
rules, whatever the source (CSV, one Parquet file, a Hive-partitioned folder), and never loaded
into pandas by the metric engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from maops_utils.contract.dataset import Dataset
from maops_utils.contract.files import ScanTable, locate_tables, read_raw_dataset
from maops_utils.contract.load import load_dataset
from maops_utils.contract.values import parse_timestamps
from maops_utils.core.errors import DataContractError
from maops_utils.metrics import compute as mx
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.reports.kpi import review as kpi

import handmade

ROOT = Path(__file__).resolve().parents[1]
AS_OF = pd.Timestamp("2026-02-15")


def _csv_frame(folder: Path) -> pd.DataFrame:
    return pd.read_csv(
        folder / "activities.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("store")
    csv = handmade.write(base / "csv")
    return {
        "csv": csv,
        "file": handmade.as_parquet(csv, base / "file", "file"),
        "hive": handmade.as_parquet(csv, base / "hive", "hive"),
    }


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype(object).where(frame.notna(), None)
    return out.sort_values(list(out.columns), key=lambda c: c.astype(str)).reset_index(drop=True)


def test_a_folder_of_parquet_files_is_one_table_left_on_disk(folders):
    found = locate_tables(folders["hive"])
    assert found["activities"] == folders["hive"] / "activities"
    raw = read_raw_dataset(folders["hive"])
    scan = raw["activities"]
    assert isinstance(scan, ScanTable)
    assert scan.rows == len(_csv_frame(folders["csv"]))
    assert len(scan.files) == len(list((folders["hive"] / "activities").glob("month=*")))
    first, n = scan.files[0]
    assert scan.where(0) == f"{first.relative_to(scan.path).as_posix()} row 1"
    assert scan.where(n).endswith(" row 1") and scan.where(n) != scan.where(0)


@pytest.mark.parametrize("layout", ["file", "hive"])
def test_parquet_and_csv_give_the_same_dataset_and_findings(folders, layout):
    want = load_dataset(folders["csv"], as_of=AS_OF)
    got = load_dataset(folders[layout], as_of=AS_OF)
    pd.testing.assert_frame_equal(_rows(got["activities"]), _rows(want["activities"]))
    assert [(f.table, f.message, f.count) for f in got.findings] == [
        (f.table, f.message, f.count) for f in want.findings
    ]
    assert mx.compute_metrics(got, ["2026-01"]).equals(mx.compute_metrics(want, ["2026-01"]))


def test_findings_in_a_folder_name_the_file_and_row(folders, tmp_path):
    data = shutil.copytree(folders["hive"], tmp_path / "data")
    part = sorted((data / "activities").glob("month=*"))[0] / "part-0.parquet"
    rows = pq.read_table(part).to_pandas()
    rows.loc[1, "activity_type"] = "fax_sent"
    pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), part)
    before = load_dataset(folders["hive"], as_of=AS_OF)
    (was,) = [f for f in before.findings if f.column == "activity_type"]
    ds = load_dataset(data, as_of=AS_OF)
    (finding,) = [f for f in ds.findings if f.column == "activity_type"]
    assert "fax_sent" in finding.message and finding.count == was.count + 1
    rel = part.relative_to(data / "activities").as_posix()
    assert f"{rel} row 2: 'fax_sent'" in finding.examples


def test_text_is_trimmed_exactly_as_python_strips_it(tmp_path):
    data = handmade.write(tmp_path / "data")
    text = (data / "activities.csv").read_bytes().decode("utf-8-sig")
    lines = text.splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    pos = header.index("activity_type")
    cells[pos] = "\u3000\t" + cells[pos] + " \u00a0"  # full-width, tab, no-break spaces
    lines[1] = ",".join(cells)
    (data / "activities.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    clean = load_dataset(handmade.write(tmp_path / "clean"), as_of=AS_OF)
    ds = load_dataset(data, as_of=AS_OF)
    raw = _csv_frame(data)
    assert raw["activity_type"].iloc[0] != raw["activity_type"].str.strip().iloc[0]
    assert ds["activities"]["activity_type"].iloc[0] == raw["activity_type"].str.strip().iloc[0]
    assert [f.message for f in ds.findings] == [f.message for f in clean.findings]


def test_timestamps_duckdb_cannot_read_strictly_follow_the_pandas_rule(tmp_path):
    values = [
        "2026-01-05 09:00:00",  # strict, read by DuckDB
        "2026-01-31T15:00:00Z",  # strict with an offset
        "2026-01-31 15:00:00z",  # lower-case z: the pandas rule
        "2026/1/7 8:05",  # slash date: the pandas rule
        "2026-01-08T10:00:00+0900",
        "Jan 9 2026 10:00",  # only the mixed-format reader knows it
    ]
    data = handmade.write(tmp_path / "data")
    acts = _csv_frame(data).iloc[: len(values)].copy()
    acts["occurred_at"] = values
    acts.to_csv(data / "activities.csv", index=False)
    ds = load_dataset(data)
    got = ds["activities"]["occurred_at"].reset_index(drop=True)
    want = parse_timestamps(pd.Series(values), "Asia/Tokyo")
    kept = ds["activities"].index.size
    assert kept == len(values)
    pd.testing.assert_series_equal(got, want, check_names=False)


def test_unreadable_and_24_oclock_timestamps_are_fatal_with_their_lines(tmp_path):
    data = handmade.write(tmp_path / "data")
    acts = _csv_frame(data)
    acts.loc[2, "occurred_at"] = "2026-01-05 24:00:00"
    acts.loc[4, "occurred_at"] = "yesterday"
    acts.to_csv(data / "activities.csv", index=False)
    with pytest.raises(DataContractError) as info:
        load_dataset(data)
    (problem,) = [p for p in info.value.problems if p.column == "occurred_at"]
    assert problem.count == 2
    assert problem.examples == ["line 4: '2026-01-05 24:00:00'", "line 6: 'yesterday'"]


def test_duplicate_activity_ids_are_fatal(tmp_path):
    data = handmade.write(tmp_path / "data")
    acts = _csv_frame(data)
    acts["activity_id"] = [f"A{i}" for i in range(len(acts))]
    acts.loc[3, "activity_id"] = " A1 "  # the same key once trimmed
    acts.to_csv(data / "activities.csv", index=False)
    with pytest.raises(DataContractError) as info:
        load_dataset(data)
    (problem,) = info.value.problems
    assert "1 'activity_id' value(s) occur more than once (2 rows)" in problem.message
    assert problem.examples == ["line 3: 'A1'", "line 5: ' A1 '"]


def test_the_metric_engine_never_loads_activities_into_pandas(folders):
    ds = load_dataset(folders["hive"], as_of=AS_OF)
    catalogue = load_catalogue(ROOT / "workspaces" / "sample" / "params")
    rv = kpi.review(ds, catalogue, "2026-01")
    kpi.report_tables(rv)
    for product in ds.products:
        part = ds.for_product(product)
        mx.compute_metrics(part, ["2026-01"])
        assert "activities" not in part.tables
    assert "activities" not in ds.tables


def test_a_product_slice_in_duckdb_equals_the_pandas_slice(folders):
    ds = load_dataset(folders["file"], as_of=AS_OF)
    for product in ds.products:
        lazy = ds.for_product(product)
        ids = set(ds["leads"].loc[ds["leads"]["product"] == product, "lead_id"])
        want = ds["activities"][ds["activities"]["lead_id"].isin(ids)]
        pd.testing.assert_frame_equal(
            lazy["activities"].reset_index(drop=True), want.reset_index(drop=True)
        )
        eager = ds.for_product(product)  # ds's activities are loaded now: a pandas slice
        assert "activities" in eager.tables
        assert mx.compute_metrics(lazy, ["2026-01"]).equals(mx.compute_metrics(eager, ["2026-01"]))


def test_a_streamed_csv_gives_the_dataset_and_findings_of_one_read_whole(tmp_path, monkeypatch):
    """The activities CSV is parsed a few rows at a time into a staged Parquet file
    (`files.stream_csv`); validating it must give what validating the file read whole gives,
    line numbers in the findings included."""
    import maops_utils.contract.files as files
    from maops_utils.contract.rules import validate

    data = _messy(tmp_path)
    whole = read_raw_dataset(data)
    whole["activities"] = files.read_raw_table("activities", data / "activities.csv")
    want = validate(whole, as_of=AS_OF)
    monkeypatch.setattr(files, "CSV_CHUNK_ROWS", 3)
    got = load_dataset(data, as_of=AS_OF)
    assert isinstance(got.bulk["activities"].raw, ScanTable)
    assert got.findings == want.findings
    assert any(e.startswith("line ") for f in got.findings for e in f.examples)
    pd.testing.assert_frame_equal(got["activities"], want["activities"])
    assert got.sources == want.sources


def test_a_csv_with_a_header_and_no_activities_is_an_empty_table(tmp_path):
    data = handmade.write(tmp_path / "data")
    header = (data / "activities.csv").read_text(encoding="utf-8-sig").split("\n", 1)[0]
    (data / "activities.csv").write_text(header + "\n", encoding="utf-8")
    ds = load_dataset(data, as_of=AS_OF)
    assert len(ds["activities"]) == 0 and ds.sources["activities"]["rows"] == 0
    assert list(ds["activities"].columns)


# ----------------------------------------------------------------------------- the cache


def _messy(tmp_path: Path) -> Path:
    """The handmade dataset with values a cache must quote as they were in the file."""
    data = handmade.write(tmp_path / "data")
    acts = _csv_frame(data)
    acts.loc[0, "activity_type"] = " email_send\u3000"  # trimmed when typed
    acts.loc[1, "occurred_at"] = "2026-01-31T15:30:00Z"  # converted when typed
    acts.loc[2, "activity_type"] = "fax_sent"  # unknown: quoted in a finding
    acts.loc[3, "occurred_at"] = "2026/3/1 9:00"  # future at AS_OF: quoted in a finding
    acts.loc[4, "occurred_at"] = ""  # blank: a typing finding, stored with the cache
    acts.to_csv(data / "activities.csv", index=False)
    return data


def test_the_cache_gives_the_same_dataset_and_findings(tmp_path):
    data, cache = _messy(tmp_path), tmp_path / "cache"
    plain = load_dataset(data, as_of=AS_OF)
    first = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert first.sources["activities"]["cache"].startswith("written")
    # the write lets DuckDB reorder rows; the store's other queries keep the setting
    order = "SELECT current_setting('preserve_insertion_order')"
    assert first.store.db.execute(order).fetchall() == [(True,)]
    second = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert second.sources["activities"]["cache"].startswith("read")
    assert second.bulk["activities"].cached and not plain.bulk["activities"].cached
    assert second.findings == plain.findings  # messages, counts, lines and quoted values
    assert any("'fax_sent'" in e for f in plain.findings for e in f.examples)
    pd.testing.assert_frame_equal(second["activities"], plain["activities"])
    later = pd.Timestamp("2026-04-01")  # rules that depend on the run are applied afresh
    assert (
        load_dataset(data, as_of=later, cache_dir=cache).findings
        == load_dataset(data, as_of=later).findings
    )


def test_the_cache_keeps_a_raw_column_only_where_a_value_differs_from_its_typed_form(tmp_path):
    """A Parquet file whose text needs no trimming: only a column holding an empty value (one
    lead_id '', an orphan quoted in a finding) keeps its raw text in the cache; the others
    would be columns of nothing but NULLs. Findings and rows are those of an uncached load."""
    data = handmade.as_parquet(handmade.write(tmp_path / "csv"), tmp_path / "file", "file")
    acts = pq.read_table(data / "activities.parquet").to_pandas()
    acts.loc[3, "lead_id"] = ""
    pq.write_table(pa.Table.from_pandas(acts, preserve_index=False), data / "activities.parquet")
    cache = tmp_path / "cache"
    plain = load_dataset(data, as_of=AS_OF)
    load_dataset(data, as_of=AS_OF, cache_dir=cache)
    cached = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert cached.bulk["activities"].cached
    (entry,) = cache.glob("activities-*")
    columns = pq.read_schema(next((entry / "data").rglob("*.parquet"))).names
    # occurred_at is text here: a timestamp written as text keeps its raw form
    assert [c for c in columns if c.startswith("_raw_")] == ["_raw_lead_id", "_raw_occurred_at"]
    assert any(e.endswith("''") for f in plain.findings for e in f.examples)  # the orphan
    assert cached.findings == plain.findings
    pd.testing.assert_frame_equal(cached["activities"], plain["activities"])


def test_the_cache_reads_no_input_row_again(tmp_path, monkeypatch):
    data, cache = _messy(tmp_path), tmp_path / "cache"
    load_dataset(data, as_of=AS_OF, cache_dir=cache)
    import maops_utils.contract.files as files

    real = files.read_raw_table

    def refuse_activities(name, path, **kw):
        assert name != "activities", "activities parsed again despite the cache"
        return real(name, path, **kw)

    monkeypatch.setattr(files, "read_raw_table", refuse_activities)
    ds = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert ds.sources["activities"]["cache"].startswith("read")


def test_a_changed_input_is_validated_again(tmp_path):
    data, cache = _messy(tmp_path), tmp_path / "cache"
    load_dataset(data, as_of=AS_OF, cache_dir=cache)
    acts = _csv_frame(data)
    acts.loc[5, "lead_id"] = "NOBODY"
    acts.to_csv(data / "activities.csv", index=False)
    ds = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert ds.sources["activities"]["cache"].startswith("written")
    assert any("NOBODY" in e for f in ds.findings for e in f.examples)
    assert len(list(cache.glob("activities-*"))) == 2
    # a file with a duplicate key is never cached
    acts["activity_id"] = "A1"
    acts.to_csv(data / "activities.csv", index=False)
    with pytest.raises(DataContractError):
        load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert len(list(cache.glob("activities-*"))) == 2


def test_a_damaged_or_unfinished_cache_entry_is_ignored(tmp_path):
    data, cache = _messy(tmp_path), tmp_path / "cache"
    load_dataset(data, as_of=AS_OF, cache_dir=cache)
    (entry,) = cache.glob("activities-*")
    (entry / "meta.json").write_text("{not json", encoding="utf-8")
    ds = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert not ds.bulk["activities"].cached
    assert ds.findings == load_dataset(data, as_of=AS_OF).findings
    assert ds.sources["activities"]["cache"].startswith("written")  # rebuilt
    assert load_dataset(data, as_of=AS_OF, cache_dir=cache).bulk["activities"].cached


def test_a_cached_load_skips_the_rule_scan_only_when_no_row_can_be_left_out(tmp_path, monkeypatch):
    import maops_utils.contract.store as store

    data, cache = handmade.write(tmp_path / "data"), tmp_path / "cache"
    acts = _csv_frame(data)
    leads = pd.read_csv(data / "leads.csv", encoding="cp932", dtype=str)
    clean = acts["lead_id"].isin(leads["lead_id"]) & (acts["activity_type"] != "sms_sent")
    acts[clean].to_csv(data / "activities.csv", index=False)
    late = pd.Timestamp("2026-12-31")  # no row in the future
    load_dataset(data, as_of=late, cache_dir=cache)  # written
    scans: list[str] = []  # the rule scan over every row
    rows_read: list[str] = []  # any query of the rows (the latest time, the codes met)
    real = store.BulkTable._query

    def counting(self, sql):
        if "COUNT(*) FILTER" in sql:
            scans.append(sql)
        if "activities_typed" in sql and not sql.startswith("DESCRIBE"):
            rows_read.append(sql)
        return real(self, sql)

    monkeypatch.setattr(store.BulkTable, "_query", counting)

    def same_as_without_cache(as_of: pd.Timestamp) -> Dataset:
        plain = load_dataset(data, as_of=as_of)
        scans.clear()  # count the cached load's scans only
        rows_read.clear()
        cached = load_dataset(data, as_of=as_of, cache_dir=cache)
        assert cached.sources["activities"]["cache"].startswith("read")
        assert cached.findings == plain.findings
        pd.testing.assert_frame_equal(cached["activities"], plain["activities"])
        return cached

    same_as_without_cache(late)
    assert scans == []  # nothing in the entry can be an orphan, unknown or in the future
    assert rows_read == []  # the entry's summaries say so: no row is read to know it
    # rows in the future of an earlier run: scanned, and left out as without the cache
    early = same_as_without_cache(pd.Timestamp("2026-01-15"))
    assert len(scans) == 1 and any(f.column == "occurred_at" for f in early.findings)
    # a lead gone from the leads file: its activities are orphans, the entry is still read
    leads[leads["lead_id"] != "L4"].to_csv(data / "leads.csv", index=False, encoding="cp932")
    gone = same_as_without_cache(late)
    assert len(scans) == 1 and any("orphans" in f.message for f in gone.findings)


# ------------------------------------------------------------ the cache of the small tables


def _messy_tables(tmp_path: Path) -> Path:
    """The handmade dataset with findings in every small table, some quoting a raw value."""
    data = handmade.write(tmp_path / "data")
    leads = pd.read_csv(data / "leads.csv", encoding="cp932", dtype=str, keep_default_na=False)
    leads.loc[len(leads)] = ["L8", "2026-03-01 09:00:00", "A", " seminar ", "", ""]  # future
    leads.to_csv(data / "leads.csv", index=False, encoding="cp932")
    opps = pd.read_csv(data / "opportunities.csv", dtype=str, keep_default_na=False)
    opps.loc[len(opps)] = ["O90", "L1", "A", "2026-01-22 10:00:00", "pending", "", "100"]
    opps.loc[len(opps)] = ["O91", "L2", "A", "2026-01-23 10:00:00", "won", "", "200"]
    opps.loc[len(opps)] = ["O92", "L99", "A", "2026-01-24", "lost", "2026-03-05 10:00", ""]
    opps.to_csv(data / "opportunities.csv", index=False)
    with (data / "stage_changes.csv").open("a", encoding="utf-8") as f:
        f.write("L8,mql,2026-03-02 09:00:00\n")
    return data


def _same(cached: Dataset, plain: Dataset) -> None:
    assert cached.findings == plain.findings  # messages, counts, lines and quoted values
    assert set(cached.tables) == set(plain.tables)
    for name in plain.tables:
        pd.testing.assert_frame_equal(cached[name], plain[name])
    pd.testing.assert_frame_equal(cached["activities"], plain["activities"])
    sources = {n: {k: v for k, v in s.items() if k != "cache"} for n, s in cached.sources.items()}
    assert sources == plain.sources
    assert cached.cut_at == plain.cut_at


def test_the_small_tables_cached_give_the_same_dataset_and_findings(tmp_path):
    data, cache = _messy_tables(tmp_path), tmp_path / "cache"
    first = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    (entry,) = cache.glob("tables-*")
    assert {first.sources[n]["cache"] for n in first.tables} == {f"written ({entry})"}
    assert entry.stat().st_mode & 0o777 == 0o700  # the leads' personal data: owner only
    # run times that leave leads, stage changes and a closing date out, or nothing at all
    for as_of in (AS_OF, pd.Timestamp("2026-01-15"), pd.Timestamp("2026-12-31"), None):
        plain = load_dataset(data, as_of=as_of)
        cached = load_dataset(data, as_of=as_of, cache_dir=cache)
        assert cached.sources["leads"]["cache"] == f"read ({entry})"
        _same(cached, plain)
    at = load_dataset(data, as_of=AS_OF)
    quoted = [e for f in at.findings if f.table == "opportunities" for e in f.examples]
    assert any("'pending'" in e for e in quoted) and any("'L99'" in e for e in quoted)
    assert any(f.table == "leads" and "after the run time" in f.message for f in at.findings)


def test_the_small_tables_cached_are_not_read_again(tmp_path, monkeypatch):
    """A clean input: the second load reads no table file, only the cache."""
    data, cache = handmade.write(tmp_path / "data"), tmp_path / "cache"
    stages = pd.read_csv(data / "stage_changes.csv", dtype=str)
    stages = stages[stages["lead_id"].str.startswith("L") & (stages["stage"] != "nurture")]
    stages.to_csv(data / "stage_changes.csv", index=False)
    late = pd.Timestamp("2026-12-31")
    plain = load_dataset(data, as_of=late)
    assert not any(f.table in ("leads", "stage_changes") for f in plain.findings)
    load_dataset(data, as_of=late, cache_dir=cache)
    import maops_utils.contract.files as files

    read: list[str] = []
    real = files.read_raw_table

    def counting(name, path, **kw):
        read.append(name)
        return real(name, path, **kw)

    monkeypatch.setattr(files, "read_raw_table", counting)
    _same(load_dataset(data, as_of=late, cache_dir=cache), plain)
    assert read == []
    # a finding that quotes a row reads its file then, and only its file
    opps = pd.read_csv(data / "opportunities.csv", dtype=str, keep_default_na=False)
    opps.loc[len(opps)] = ["O90", "L1", "A", "2026-01-22 10:00:00", "pending", "", "100"]
    opps.to_csv(data / "opportunities.csv", index=False)
    load_dataset(data, as_of=late, cache_dir=cache)
    plain = load_dataset(data, as_of=late)
    read.clear()
    _same(load_dataset(data, as_of=late, cache_dir=cache), plain)
    assert read == ["opportunities"]


def test_the_orphan_rule_is_skipped_only_for_inputs_known_to_have_no_orphan(tmp_path):
    data, cache = handmade.write(tmp_path / "data"), tmp_path / "cache"
    acts = _csv_frame(data)
    acts[acts["lead_id"].str.startswith("L")].to_csv(data / "activities.csv", index=False)
    stages = pd.read_csv(data / "stage_changes.csv", dtype=str)
    stages[stages["lead_id"] != "X9"].to_csv(data / "stage_changes.csv", index=False)
    late = pd.Timestamp("2026-12-31")

    def known_table(ds: Dataset) -> bool:
        sql = "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'known_activities'"
        return bool(ds.store.db.execute(sql).fetchall()[0][0])

    first = load_dataset(data, as_of=late, cache_dir=cache)
    (entry,) = cache.glob("tables-*")
    (acts_entry,) = cache.glob("activities-*")
    assert known_table(first)
    assert [p.name for p in entry.glob("covers-*")] == [f"covers-{acts_entry.name}"]
    second = load_dataset(data, as_of=late, cache_dir=cache)
    assert not known_table(second)  # the orphan rule skipped
    _same(second, load_dataset(data, as_of=late))
    # a run time that leaves leads out: their activities are orphans again
    early = pd.Timestamp("2026-01-15")
    cut = load_dataset(data, as_of=early, cache_dir=cache)
    orphans = {f.table for f in cut.findings if "orphans" in f.message}
    assert known_table(cut) and orphans == {"activities", "stage_changes"}
    _same(cut, load_dataset(data, as_of=early))
    # activities with an orphan: never marked, whatever the run time
    acts.to_csv(data / "activities.csv", index=False)
    load_dataset(data, as_of=late, cache_dir=cache)
    with_orphan = load_dataset(data, as_of=late, cache_dir=cache)
    assert known_table(with_orphan) and len(list(entry.glob("covers-*"))) == 1
    _same(with_orphan, load_dataset(data, as_of=late))


def test_a_changed_or_damaged_small_table_entry_is_rebuilt(tmp_path):
    data, cache = _messy_tables(tmp_path), tmp_path / "cache"
    load_dataset(data, as_of=AS_OF, cache_dir=cache)
    (entry,) = cache.glob("tables-*")
    (entry / "leads.arrow").write_bytes(b"not arrow")
    ds = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert ds.sources["leads"]["cache"] == f"written ({entry})"
    _same(ds, load_dataset(data, as_of=AS_OF))
    assert (
        load_dataset(data, as_of=AS_OF, cache_dir=cache)
        .sources["leads"]["cache"]
        .startswith("read")
    )
    # one table changed: a new entry, validated again
    with (data / "stage_changes.csv").open("a", encoding="utf-8") as f:
        f.write("L1,sql,2026-01-21 09:00:00\n")
    changed = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert changed.sources["stage_changes"]["cache"].startswith("written")
    assert len(list(cache.glob("tables-*"))) == 2
    _same(changed, load_dataset(data, as_of=AS_OF))


def test_checksums_are_remembered_until_a_file_changes(tmp_path, monkeypatch):
    import json
    import os
    import time

    import maops_utils.core.io as io

    f, memo_file = tmp_path / "leads.csv", tmp_path / "checksums.json"
    f.write_text("lead_id\nL1\n", encoding="utf-8")
    real = io.sha256_file
    memo = io.Checksums(memo_file)
    assert memo.of(f) == real(f)
    memo.save()
    assert not memo_file.exists()  # written just now: a second write could share its times
    monkeypatch.setattr(io.Checksums, "RECENT_S", 0.0)
    memo.of(f)
    memo.save()
    assert list(json.loads(memo_file.read_text())["files"]) == [str(f.resolve())]
    hashed: list[Path] = []
    monkeypatch.setattr(io, "sha256_file", lambda p: hashed.append(p) or real(p))
    assert io.Checksums(memo_file).of(f) == real(f) and hashed == []
    # other bytes of the same size, the modification time set back: the change time tells
    time.sleep(0.05)
    st = f.stat()
    f.write_text("lead_id\nL2\n", encoding="utf-8")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert io.Checksums(memo_file).of(f) == real(f) and len(hashed) == 1


def test_a_warm_load_reads_no_input_file(tmp_path, monkeypatch):
    import maops_utils.core.io as io

    monkeypatch.setattr(io.Checksums, "RECENT_S", 0.0)
    data = handmade.as_parquet(handmade.write(tmp_path / "csv"), tmp_path / "hive", "hive")
    stages = pd.read_csv(data / "stage_changes.csv", dtype=str)  # no finding to quote a row
    stages = stages[stages["lead_id"].str.startswith("L") & (stages["stage"] != "nurture")]
    stages.to_csv(data / "stage_changes.csv", index=False)
    cache = tmp_path / "cache"
    plain = load_dataset(data, as_of=AS_OF)
    load_dataset(data, as_of=AS_OF, cache_dir=cache)
    opened: list[str] = []
    real_open = Path.open

    def spy(self, *args, **kw):
        if self.is_relative_to(data):
            opened.append(self.name)
        return real_open(self, *args, **kw)

    real_read_bytes = Path.read_bytes

    def spy_bytes(self):
        if self.is_relative_to(data):
            opened.append(self.name)
            return b""
        return real_read_bytes(self)  # the cache's own files, checked as they are read

    monkeypatch.setattr(Path, "open", spy)
    monkeypatch.setattr(Path, "read_bytes", spy_bytes)
    warm = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert warm.sources["leads"]["cache"].startswith("read")
    assert opened == []  # neither hashed nor parsed: the checksums and the entries answer
    monkeypatch.undo()
    _same(warm, plain)


def test_a_failed_run_puts_the_checksums_back(tmp_path):
    import maops_utils.core.io as io
    from maops_utils.speed.cache import cache_state, drop_new_cache

    cache = tmp_path / "cache"
    cache.mkdir()
    memo = cache / io.CHECKSUMS_FILE
    memo.write_text('{"files": {}}', encoding="utf-8")
    before = cache_state(cache)
    memo.write_text('{"files": {"x": [1, 2, 3, 4, 5, "abc"]}}', encoding="utf-8")
    drop_new_cache(cache, before)
    assert memo.read_text(encoding="utf-8") == '{"files": {}}'
    # a run that found no checksums file leaves none
    memo.unlink()
    before = cache_state(cache)
    memo.write_text('{"files": {}}', encoding="utf-8")
    drop_new_cache(cache, before)
    assert not memo.exists()


def test_a_csv_read_in_another_encoding_gets_an_entry_of_its_own(tmp_path):
    data, cache = _messy(tmp_path), tmp_path / "cache"
    leads = (data / "leads.csv").read_bytes().decode("cp932")
    (data / "leads.csv").write_text(leads, encoding="utf-8")  # every file readable as UTF-8
    load_dataset(data, as_of=AS_OF, cache_dir=cache, encoding="utf-8")
    assert len(list(cache.glob("activities-*"))) == 1
    # the same bytes read as another encoding may be other values: not the same entry
    other = load_dataset(data, as_of=AS_OF, cache_dir=cache, encoding="utf-8-sig")
    assert other.sources["activities"]["cache"].startswith("written")
    assert len(list(cache.glob("activities-*"))) == 2


SPILL = """
import os, sys
from maops_utils.contract.store import Store, spill_folder
store = Store()
con = store.cursor()
con.execute("SET memory_limit = '64MB'")
con.execute("SET threads = 1")
con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(3000000)")
paths = [r[0] for r in con.execute("SELECT path FROM duckdb_temporary_files()").fetchall()]
assert paths, "nothing spilled: the test needs a table larger than the memory limit"
folder = spill_folder()
assert all(os.path.dirname(p) == folder for p in paths), (paths, folder)
assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
assert not os.path.exists(".tmp"), "spilled into the current folder"
print(folder)
"""


def test_duckdb_spills_into_a_private_folder_under_tmpdir_removed_at_exit(tmp_path):
    """What does not fit in memory goes to a 0700 folder under TMPDIR, never to `.tmp` of the
    current folder (DuckDB's default for an in-memory database), and is gone at exit."""
    import os
    import subprocess
    import sys

    tmp, work = tmp_path / "tmp", tmp_path / "work"
    tmp.mkdir()
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    done = subprocess.run(
        [sys.executable, "-c", SPILL], cwd=work, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp and folder.name.startswith("maops-duckdb-")
    assert not folder.exists() and list(work.iterdir()) == []


def test_a_cold_load_looks_up_distinct_lead_ids_not_rows(tmp_path, monkeypatch):
    """Without a cache entry, the orphan rule first looks up the distinct lead ids: when
    none is an orphan (a missing id is one), the rows are not looked up and the findings are
    those of the row rule; the ids written for later loads are the distinct ids of the rows."""
    from maops_utils.contract import store

    data, cache = handmade.write(tmp_path / "data"), tmp_path / "cache"
    acts = _csv_frame(data)
    clean = acts[acts["lead_id"].str.startswith("L")]
    clean.to_csv(data / "activities.csv", index=False)
    late = pd.Timestamp("2026-12-31")
    queries: list[str] = []
    real = store.BulkTable._query
    monkeypatch.setattr(
        store.BulkTable, "_query", lambda self, sql: queries.append(sql) or real(self, sql)
    )
    ds = load_dataset(data, as_of=late, cache_dir=cache)
    assert ds.bulk["activities"].found["orphans"].count == 0
    counts = [q for q in queries if "FILTER" in q]
    assert counts and not any("known_activities" in q for q in counts)  # rows not looked up
    (entry,) = cache.glob("activities-*")
    ids = pq.read_table(entry / store.LEAD_IDS).column("lead_id").to_pylist()
    assert sorted(ids) == sorted(clean["lead_id"].unique())
    assert not ds.store.db.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'lead_ids_%'"
    ).fetchall()[0][0]  # the distinct ids are dropped once written

    # an orphan id, or a missing one: the row rule counts the rows, as without the look-up
    for lead in ("GHOST", ""):
        acts.loc[len(acts)] = [lead if c == "lead_id" else acts.iloc[0][c] for c in acts.columns]
        acts.to_csv(data / "activities.csv", index=False)
        queries.clear()
        found = load_dataset(data, as_of=late).bulk["activities"].found["orphans"]
        assert any("known_activities" in q for q in queries if "FILTER" in q)
        assert (
            found.count
            == (acts["lead_id"].isna() | ~acts["lead_id"].str.startswith("L", na=False)).sum()
        )


def _messy_folder(tmp_path: Path, files: int = 3) -> Path:
    """`_messy`'s dataset with its activities as a folder of Parquet files, text as written."""
    data = _messy(tmp_path)
    acts = _csv_frame(data)
    (data / "activities.csv").unlink()
    for i, rows in enumerate(np.array_split(np.arange(len(acts)), files)):
        _write_part(data, f"2026-0{i + 1}", acts.iloc[rows])
    return data


def _write_part(data: Path, month: str, rows: pd.DataFrame) -> Path:
    part = data / "activities" / f"month={month}" / "part-0.parquet"
    part.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(rows.astype(str), preserve_index=False), part)
    return part


def test_a_folder_is_typed_file_by_file_and_a_new_file_alone(tmp_path):
    """Each file of a Parquet folder is typed into a cache entry of its own; the checks of
    the whole run on the typed rows, so the dataset and its findings (quoting files, rows and
    raw values) are those of an uncached load. A new month's file is typed alone; a changed
    or lost file entry is typed again; a key repeated across two files is still fatal."""
    data, cache = _messy_folder(tmp_path), tmp_path / "cache"
    plain = load_dataset(data, as_of=AS_OF)
    assert any(
        "'fax_sent'" in e and "month=2026-01" in e for f in plain.findings for e in f.examples
    )
    first = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert first.sources["activities"]["cache"].endswith("; 3 of 3 file(s) typed anew")
    assert len(list(cache.glob("activities_part-*"))) == 3
    assert first.bulk["activities"].pretyped and not first.bulk["activities"].cached
    _same(first, plain)
    second = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert second.sources["activities"]["cache"].startswith("read")
    assert second.bulk["activities"].cached
    _same(second, load_dataset(data, as_of=AS_OF))
    later = pd.Timestamp("2026-04-01")  # the rules of the run, applied afresh
    _same(load_dataset(data, as_of=later, cache_dir=cache), load_dataset(data, as_of=later))

    # the next month: one more file, typed alone
    acts = _csv_frame(handmade.write(tmp_path / "again"))
    new = acts.iloc[:2].assign(activity_id=["N1", "N2"], occurred_at="2026-02-20 10:00:00")
    _write_part(data, "2026-04", new)
    third = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert third.sources["activities"]["cache"].endswith("; 1 of 4 file(s) typed anew")
    _same(third, load_dataset(data, as_of=AS_OF))

    # a file entry lost: the whole entry naming it is not used, that file is typed again
    parts = sorted(cache.glob("activities_part-*"), key=lambda p: p.stat().st_mtime)
    shutil.rmtree(parts[0])
    again = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert again.sources["activities"]["cache"].endswith("; 1 of 4 file(s) typed anew")
    _same(again, load_dataset(data, as_of=AS_OF))

    # a key repeated in another file: fatal, with the error of an uncached load
    _write_part(data, "2026-05", new.assign(occurred_at="2026-02-21 10:00:00"))
    with pytest.raises(DataContractError) as plain_error:
        load_dataset(data, as_of=AS_OF)
    with pytest.raises(DataContractError) as cached_error:
        load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert cached_error.value.problems == plain_error.value.problems
    assert "activity_id" in {p.column for p in plain_error.value.problems}


def test_a_folder_with_an_empty_file_and_files_of_other_columns_is_cached_alike(tmp_path):
    """A file without rows has an entry without data; a file without an optional column
    (`category`, `campaign_id`) is typed with it empty: the folder cached gives the dataset
    and findings of an uncached load."""
    data, cache = _messy_folder(tmp_path), tmp_path / "cache"
    first = sorted((data / "activities").rglob("*.parquet"))[0]
    rows = pq.read_table(first).to_pandas()
    pq.write_table(
        pa.Table.from_pandas(rows.drop(columns=["category", "campaign_id"]), preserve_index=False),
        first,
    )
    _write_part(data, "2026-09", rows.iloc[:0])
    for _ in range(2):  # typed file by file, then read
        cached = load_dataset(data, as_of=AS_OF, cache_dir=cache)
        assert cached.bulk["activities"].pretyped
        _same(cached, load_dataset(data, as_of=AS_OF))
    assert cached.sources["activities"]["cache"].startswith("read")
    assert len(list(cache.glob("activities_part-*"))) == 4


def test_files_of_one_month_with_typed_times_are_cached_without_partitioning_alike(
    tmp_path, monkeypatch
):
    """A file whose times are all of one month is written straight into that month's folder
    (no partitioning); a file of several months, or with a missing time, is partitioned. Both
    give what an uncached load gives, in the same layout."""
    data = handmade.write(tmp_path / "data")
    acts = _csv_frame(data).replace("", None)
    (data / "activities.csv").unlink()
    acts["occurred_at"] = pd.to_datetime(acts["occurred_at"], format="mixed")
    month = acts["occurred_at"].dt.strftime("%Y-%m")
    months = sorted(month.dropna().unique())
    assert len(months) >= 3 and acts["occurred_at"].notna().all()
    mixed = month.isin(months[-2:]).to_numpy()
    acts.loc[np.flatnonzero(mixed)[0], "occurred_at"] = pd.NaT  # a missing time: a finding
    for name, rows in [*((m, acts[(month == m).to_numpy() & ~mixed]) for m in months[:-2]),
                       ("mixed", acts[mixed])]:  # fmt: skip
        part = data / "activities" / f"month={name}" / "part-0.parquet"
        part.parent.mkdir(parents=True)
        pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), part)
    from maops_utils.contract import entries

    found: list[str | None] = []
    real = entries._only_month
    monkeypatch.setattr(entries, "_only_month", lambda *a: found.append(real(*a)) or found[-1])
    cache = tmp_path / "cache"
    plain = load_dataset(data, as_of=AS_OF)
    cached = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert cached.bulk["activities"].pretyped
    assert sorted(found, key=str) == sorted([*months[:-2], None], key=str)  # one file each
    _same(cached, plain)
    read_back = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    _same(read_back, load_dataset(data, as_of=AS_OF))
    layouts = sorted(
        sorted(p.relative_to(e / "data").as_posix() for p in (e / "data").rglob("*.parquet"))
        for e in cache.glob("activities_part-*")
    )
    assert layouts == sorted(
        [[f"_month={m}/data_0.parquet"] for m in months[:-2]]
        + [[f"_month={m}/data_0.parquet" for m in [*months[-2:], "none"]]]
    )


def _keyed_folder(tmp_path: Path) -> Path:
    """`_messy_folder` with an `activity_id` on every row, given in file order (A00001, ...):
    each file's ids lie apart from the others'."""
    data = _messy_folder(tmp_path)
    first = 1
    for part in sorted((data / "activities").glob("month=*/part-0.parquet")):
        rows = pq.read_table(part).to_pandas()
        rows.insert(0, "activity_id", [f"A{i:05d}" for i in range(first, first + len(rows))])
        first += len(rows)
        _write_part(data, part.parent.name.removeprefix("month="), rows)
    return data


def _part(data: Path, month: str) -> pd.DataFrame:
    return pq.read_table(data / "activities" / f"month={month}" / "part-0.parquet").to_pandas()


def test_files_whose_keys_lie_apart_are_not_scanned_for_repeats_as_a_whole(tmp_path, monkeypatch):
    """Each file's entry keeps whether a key repeats in it and its lowest and highest key:
    when none repeats and the ranges do not meet, no key can repeat across files, and the
    scan of every key is skipped. Otherwise the scan decides, as without a cache."""
    from maops_utils.contract import store

    scans: list[str] = []
    real = store.BulkTable._query
    monkeypatch.setattr(
        store.BulkTable,
        "_query",
        lambda self, sql: (scans.append(sql) if "hash(" in sql else None) or real(self, sql),
    )
    data, cache = _keyed_folder(tmp_path), tmp_path / "cache"
    cached = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert not scans
    _same(cached, load_dataset(data, as_of=AS_OF))
    assert scans  # the uncached load scans

    # two files trade an id: still no repeat, but their ranges meet
    jan, mar = _part(data, "2026-01"), _part(data, "2026-03")
    jan.loc[0, "activity_id"], mar.loc[0, "activity_id"] = (
        mar.loc[0, "activity_id"],
        jan.loc[0, "activity_id"],
    )
    _write_part(data, "2026-01", jan)
    _write_part(data, "2026-03", mar)
    scans.clear()
    cached = load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert len(scans) == 1
    assert not any("activity_id" in (f.column or "") for f in cached.findings)
    _same(cached, load_dataset(data, as_of=AS_OF))

    # a repeat within one file, whose range lies apart from the others': the scan finds it,
    # fatal as without a cache
    jan.loc[0, "activity_id"], mar.loc[0, "activity_id"] = (
        mar.loc[0, "activity_id"],
        jan.loc[0, "activity_id"],
    )
    _write_part(data, "2026-01", jan)
    _write_part(data, "2026-03", mar)
    feb = _part(data, "2026-02")
    feb.loc[1, "activity_id"] = feb.loc[0, "activity_id"]
    _write_part(data, "2026-02", feb)
    scans.clear()
    with pytest.raises(DataContractError) as cached_error:
        load_dataset(data, as_of=AS_OF, cache_dir=cache)
    assert scans
    with pytest.raises(DataContractError) as plain_error:
        load_dataset(data, as_of=AS_OF)
    assert cached_error.value.problems == plain_error.value.problems
    assert "activity_id" in {p.column for p in plain_error.value.problems}
