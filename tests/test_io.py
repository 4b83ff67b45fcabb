"""Tests of maops_utils.core.io: decoding, reading tables, YAML, and atomic writing/publishing."""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import maops_utils.contract.files as files_module
from maops_utils.contract.files import decode_text, locate_tables, read_raw_table, stream_csv
from maops_utils.core.errors import EXIT_INPUT, ConfigError, DataContractError
from maops_utils.core.io import (
    list_report_months,
    load_yaml,
    publish_dir,
    staging_dir,
    write_csv,
    write_text_atomic,
)

# Japanese text exercises the CP932 path: a lead from an exhibition in Tokyo.
CSV_TEXT = "lead_id,company,region\nL1,株式会社テスト,東京都\nL2,Acme,大阪府\n"
EXPECTED = pd.DataFrame(
    {"lead_id": ["L1", "L2"], "company": ["株式会社テスト", "Acme"], "region": ["東京都", "大阪府"]}
)


def _frame_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Normalise string dtypes so that frames compare on values only."""
    return frame.astype(object).reset_index(drop=True)


# ----------------------------------------------------------------------------- decode_text


@pytest.mark.parametrize(
    ("data", "expected_encoding"),
    [
        (CSV_TEXT.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"), "utf-8-sig"),
        (CSV_TEXT.encode("cp932"), "cp932"),
    ],
    ids=["utf-8", "utf-8-bom", "cp932"],
)
def test_decode_text_auto_detects_encoding(data, expected_encoding):
    text, used = decode_text(data, file="leads.csv", table="leads")
    assert used == expected_encoding
    assert text == CSV_TEXT  # the BOM is not part of the text


def test_decode_text_forced_encoding_is_used():
    data = CSV_TEXT.encode("cp932")
    text, used = decode_text(data, file="leads.csv", table="leads", encoding="cp932")
    assert (text, used) == (CSV_TEXT, "cp932")
    # Forcing UTF-8 on a CP932 file is an error, not a silent fallback.
    with pytest.raises(DataContractError) as info:
        decode_text(data, file="leads.csv", table="leads", encoding="utf-8")
    assert "leads.csv" in str(info.value)


def test_decode_text_unknown_encoding_is_config_error():
    with pytest.raises(ConfigError, match="latin-1"):
        decode_text(b"a\n", file="x.csv", table="leads", encoding="latin-1")


def test_decode_text_invalid_bytes_name_file_and_line():
    # 0x81 0x20 is neither valid UTF-8 nor a valid CP932 double-byte sequence.
    data = b"lead_id,company\nL1,ok\nL2,\x81\x20bad\n"
    with pytest.raises(DataContractError) as info:
        decode_text(data, file="data/leads.csv", table="leads")
    err = info.value
    assert err.exit_code == EXIT_INPUT == 2
    assert len(err.problems) == 1
    assert err.problems[0].file == "data/leads.csv"
    assert err.problems[0].table == "leads"
    assert "line 3" in str(err)
    assert "data/leads.csv" in str(err)


def test_decode_text_invalid_bytes_line_number_with_bom():
    data = b"\xef\xbb\xbfa,b\n\x81\x20,x\n"
    with pytest.raises(DataContractError) as info:
        decode_text(data, file="leads.csv", table="leads")
    assert "line 2" in str(info.value)


# ----------------------------------------------------------------------------- read_raw_table


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [("utf-8", b"", "utf-8"), ("utf-8", b"\xef\xbb\xbf", "utf-8-sig"), ("cp932", b"", "cp932")],
    ids=["utf-8", "utf-8-bom", "cp932"],
)
def test_read_raw_table_csv_encodings_give_same_frame(tmp_path, encoding, bom, expected):
    path = tmp_path / "leads.csv"
    path.write_bytes(bom + CSV_TEXT.encode(encoding))
    raw = read_raw_table("leads", path)
    assert raw.encoding == expected
    assert raw.name == "leads" and raw.path == path and raw.is_csv
    assert raw.size == path.stat().st_size
    assert len(raw.sha256) == 64
    assert list(raw.frame.columns) == ["lead_id", "company", "region"]
    pd.testing.assert_frame_equal(_frame_as_str(raw.frame), _frame_as_str(EXPECTED))


def test_read_raw_table_keeps_cells_as_strings_and_trims_column_names(tmp_path):
    path = tmp_path / "opportunities.csv"
    path.write_text(" opportunity_id , amount ,closed_at\nO1,007,\n", encoding="utf-8")
    raw = read_raw_table("opportunities", path)
    assert list(raw.frame.columns) == ["opportunity_id", "amount", "closed_at"]
    # Cells stay text (leading zeros kept), an empty cell is "" not NaN.
    assert raw.frame.loc[0, "amount"] == "007"
    assert raw.frame.loc[0, "closed_at"] == ""
    assert raw.where(0) == "line 2"  # CSV line numbers count the header


def test_read_raw_table_empty_file_gives_empty_frame(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("  \n", encoding="utf-8")
    raw = read_raw_table("leads", path)
    assert raw.frame.empty and list(raw.frame.columns) == []


@pytest.mark.parametrize(
    "body",
    [
        'lead_id,company\nL1,"unterminated\nL2,x\n',
        "lead_id,company\nL1,x\nL2,x,extra\n",
    ],
    ids=["unterminated-quote", "too-many-fields"],
)
def test_read_raw_table_malformed_csv_names_file(tmp_path, body):
    path = tmp_path / "leads.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataContractError) as info:
        read_raw_table("leads", path)
    assert info.value.exit_code == 2
    assert info.value.problems[0].file == str(path)
    assert str(path) in str(info.value)
    assert "well-formed CSV" in str(info.value)


def test_read_raw_table_invalid_bytes_names_file(tmp_path):
    path = tmp_path / "activities.csv"
    path.write_bytes(b"lead_id,activity_type\nL1,\x81\x20\n")
    with pytest.raises(DataContractError) as info:
        read_raw_table("activities", path)
    assert str(path) in str(info.value)
    assert "line 2" in str(info.value)


def test_read_raw_table_parquet_keeps_types_and_tz(tmp_path):
    path = tmp_path / "leads.parquet"
    frame = pd.DataFrame(
        {
            " lead_id": ["L1", "L2"],
            "employees": [10, 250],
            "created_at": pd.to_datetime(
                ["2026-03-31T15:30:00Z", "2026-04-01T00:00:00Z"], utc=True
            ),
        }
    )
    frame.to_parquet(path, index=False)
    raw = read_raw_table("leads", path)
    assert raw.encoding == "parquet"
    assert not raw.is_csv
    assert raw.where(0) == "row 1"
    assert list(raw.frame.columns) == ["lead_id", "employees", "created_at"]
    assert pd.api.types.is_integer_dtype(raw.frame["employees"])
    assert isinstance(raw.frame["created_at"].dtype, pd.DatetimeTZDtype)
    assert raw.frame["created_at"].iloc[0] == pd.Timestamp("2026-03-31 15:30", tz="UTC")


def test_read_raw_table_damaged_parquet_names_file(tmp_path):
    path = tmp_path / "leads.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataContractError) as info:
        read_raw_table("leads", path)
    assert str(path) in str(info.value)
    assert "Parquet" in str(info.value)


# ----------------------------------------------------------------------------- stream_csv
# The bulk CSV (activities) is parsed a few rows at a time into a staged Parquet file: it must
# give exactly the cells, names, encodings and errors `read_raw_table` gives reading it whole.

STREAM_CASES = {
    "utf-8": ("utf-8", CSV_TEXT),
    "utf-8-bom": ("utf-8-sig", CSV_TEXT),
    "cp932": ("cp932", CSV_TEXT * 3),
    "quoted-newlines-and-short-rows": (
        "utf-8",
        'a, b ,c\n1,"x\ny",3\n4\n"5","",\n6,"q""uote",7\n8,9,10\n11,12,13\n',
    ),
    "crlf-and-blank-lines": ("cp932", "a,b\r\n\r\n東,京\r\n大,阪\r\n\r\n名,古\r\n"),
    "header-only": ("utf-8", "a,b,c\n"),
    "blank": ("utf-8", " \n\n"),
}


@pytest.fixture
def small_pieces(monkeypatch):
    """Two rows per chunk and five bytes per piece: every boundary falls somewhere odd."""
    monkeypatch.setattr(files_module, "CSV_CHUNK_ROWS", 2)
    monkeypatch.setattr(files_module, "CSV_PIECE_BYTES", 5)


def _staged(scan) -> pd.DataFrame:
    if not scan.files:
        return pd.DataFrame(columns=scan.columns)
    frame = pq.read_table(scan.files[0][0]).to_pandas()
    frame.columns = scan.columns
    return frame


@pytest.mark.parametrize("case", list(STREAM_CASES))
def test_stream_csv_gives_the_cells_read_raw_table_gives(tmp_path, small_pieces, case):
    enc, text = STREAM_CASES[case]
    path = tmp_path / "activities.csv"
    path.write_bytes(text.encode(enc))
    whole, scan = read_raw_table("activities", path), stream_csv("activities", path)
    assert scan.is_csv and scan.path == path
    assert (scan.encoding, scan.sha256, scan.size) == (whole.encoding, whole.sha256, whole.size)
    assert scan.columns == list(whole.frame.columns)
    assert scan.rows == len(whole.frame)
    pd.testing.assert_frame_equal(
        _frame_as_str(_staged(scan)), _frame_as_str(whole.frame), check_index_type=False
    )
    assert [scan.where(i) for i in range(scan.rows)] == [
        whole.where(i) for i in range(len(whole.frame))
    ]


def test_stream_csv_keeps_a_repeated_header_as_written(tmp_path, small_pieces):
    path = tmp_path / "activities.csv"
    path.write_text("a,b, a\n1,2,3\n4,5,6\n7,8,9\n", encoding="utf-8")
    assert stream_csv("activities", path).columns == ["a", "b", "a"]
    assert list(read_raw_table("activities", path).frame.columns) == ["a", "b", "a"]


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("a,b\n1,2\n3,4\n5,6\n7,8\n9,10,11\n", "in line 6"),
        ('a,b\n1,2\n3,4\n5,6\n7,"unterminated\n8,9\n', "starting at row 4"),
    ],
    ids=["too-many-fields-in-a-later-chunk", "unterminated-quote-in-a-later-chunk"],
)
def test_stream_csv_malformed_rows_give_read_raw_tables_error(tmp_path, small_pieces, body, where):
    path = tmp_path / "activities.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(DataContractError) as whole:
        read_raw_table("activities", path)
    with pytest.raises(DataContractError) as streamed:
        stream_csv("activities", path)
    assert streamed.value.problems == whole.value.problems
    assert where in str(streamed.value)


@pytest.mark.parametrize("encoding", ["auto", "utf-8", "cp932"])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_stream_csv_undecodable_bytes_name_the_same_line(tmp_path, small_pieces, encoding, bom):
    path = tmp_path / "activities.csv"
    good = "a,b\nテスト,1\n".encode("utf-8" if encoding != "cp932" else "cp932")
    path.write_bytes(bom + good * 3 + b"x,\x81\x20\n" + good)
    with pytest.raises(DataContractError) as whole:
        read_raw_table("activities", path, encoding=encoding)
    with pytest.raises(DataContractError) as streamed:
        stream_csv("activities", path, encoding=encoding)
    assert streamed.value.problems == whole.value.problems
    assert str(path) in str(streamed.value)


def test_stream_csv_detects_cp932_after_a_clean_utf8_start(tmp_path, small_pieces):
    path = tmp_path / "activities.csv"
    path.write_bytes(("a,b\n" + "x,1\n" * 20 + "東京,2\n").encode("cp932"))
    scan, whole = stream_csv("activities", path), read_raw_table("activities", path)
    assert scan.encoding == "cp932" and scan.sha256 == whole.sha256
    assert _staged(scan)["a"].iloc[-1] == "東京"


def test_stream_csv_staging_lives_with_the_dataset_and_goes_on_error(tmp_path, monkeypatch):
    from maops_utils.contract.load import load_dataset
    from maops_utils.contract.store import spill_folder

    import handmade

    spill_folder()  # the process's DuckDB spill folder (one, made once) is not this test's
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    data = handmade.write(tmp_path / "data")
    ds = load_dataset(data, as_of=pd.Timestamp("2026-02-15"))
    (staged,) = (tmp_path / "tmp").glob("maops-csv-*")
    product = ds.for_product("A")
    del ds
    gc.collect()
    assert staged.exists()  # the product's slice still reads it
    assert len(product["activities"]) > 0
    del product
    gc.collect()
    assert not staged.exists()
    with (data / "activities.csv").open("a", encoding="utf-8") as fh:
        fh.write('A99,L1,email_open,2026-01-02 10:00:00,"unterminated\n')
    with pytest.raises(DataContractError):
        load_dataset(data)
    assert list((tmp_path / "tmp").iterdir()) == []


# ----------------------------------------------------------------------------- locate_tables


def test_locate_tables_finds_csv_and_parquet(tmp_path):
    (tmp_path / "leads.csv").write_text("lead_id\n", encoding="utf-8")
    pd.DataFrame({"lead_id": ["L1"]}).to_parquet(tmp_path / "activities.parquet")
    (tmp_path / "notes.csv").write_text("x\n", encoding="utf-8")  # not a contract table
    found = locate_tables(tmp_path)
    assert found == {"leads": tmp_path / "leads.csv", "activities": tmp_path / "activities.parquet"}


def test_locate_tables_both_csv_and_parquet_is_error(tmp_path):
    (tmp_path / "leads.csv").write_text("lead_id\n", encoding="utf-8")
    pd.DataFrame({"lead_id": ["L1"]}).to_parquet(tmp_path / "leads.parquet")
    with pytest.raises(DataContractError) as info:
        locate_tables(tmp_path)
    assert info.value.exit_code == 2
    assert "leads.csv" in str(info.value) and "leads.parquet" in str(info.value)


def test_locate_tables_missing_folder_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        locate_tables(tmp_path / "nope")


# ----------------------------------------------------------------------------- load_yaml


def test_load_yaml_reads_mapping(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("locale: en\ntrend_months: 6\nnotebooks: [a, b]\n", encoding="utf-8")
    assert load_yaml(path) == {"locale": "en", "trend_months": 6, "notebooks": ["a", "b"]}


def test_load_yaml_empty_file_is_empty_mapping(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("# only a comment\n", encoding="utf-8")
    assert load_yaml(path) == {}


def test_load_yaml_malformed_names_file_and_line(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("locale: ja\nmonth: [2026-10\ntimezone: Asia/Tokyo\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    msg = str(info.value)
    assert str(path) in msg
    assert "line " in msg
    assert info.value.exit_code == 2


def test_load_yaml_malformed_reports_right_line(tmp_path):
    path = tmp_path / "kpis.yaml"
    path.write_text("a: 1\nb: 2\nc: : :\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"at line 3"):
        load_yaml(path)


def test_load_yaml_refuses_python_objects(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "run.yaml"
    path.write_text(
        f"x: !!python/object/apply:os.mkdir ['{marker}']\n"
        "y: !!python/object:pathlib.PurePosixPath {}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_yaml(path)
    assert str(path) in str(info.value)
    assert not marker.exists()  # the tag was not executed


def test_load_yaml_top_level_list_is_error(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_yaml(path)


def test_load_yaml_missing_file_is_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_yaml(tmp_path / "missing.yaml")


# ----------------------------------------------------------------------------- write_csv


def test_write_csv_utf8_bom_round_trip(tmp_path):
    path = tmp_path / "sub" / "metrics.csv"
    frame = pd.DataFrame({"product": ["A", "ALL"], "label": ["新規リード", "x"], "value": [1, 2]})
    assert write_csv(frame, path) == path
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in data
    assert data.decode("utf-8-sig").splitlines()[0] == "product,label,value"
    back = read_raw_table("metrics", path)
    assert back.encoding == "utf-8-sig"
    assert back.frame["label"].tolist() == ["新規リード", "x"]


# ----------------------------------------------------------------------------- staging / publishing


def test_staging_dir_kept_on_success_beside_target(tmp_path):
    final = tmp_path / "reports" / "2026-10"
    with staging_dir(final) as tmp:
        assert tmp.is_dir()
        assert tmp.parent == final.parent
        (tmp / "index.html").write_text("ok", encoding="utf-8")
    assert (tmp / "index.html").read_text(encoding="utf-8") == "ok"
    assert not final.exists()  # staging never touches the target


def test_staging_dir_removed_when_block_raises(tmp_path):
    final = tmp_path / "reports" / "2026-10"
    with pytest.raises(RuntimeError, match="boom"):
        with staging_dir(final) as tmp:
            (tmp / "half.html").write_text("half", encoding="utf-8")
            raise RuntimeError("boom")
    assert not tmp.exists()
    assert list(final.parent.iterdir()) == []


def test_publish_dir_replaces_existing_folder(tmp_path):
    final = tmp_path / "reports" / "2026-10"
    final.mkdir(parents=True)
    (final / "old.html").write_text("old", encoding="utf-8")
    (final / "index.html").write_text("old index", encoding="utf-8")
    with staging_dir(final) as tmp:
        (tmp / "index.html").write_text("new index", encoding="utf-8")
    publish_dir(tmp, final)
    assert sorted(p.name for p in final.iterdir()) == ["index.html"]
    assert (final / "index.html").read_text(encoding="utf-8") == "new index"
    assert not tmp.exists()
    # no staging or backup folder is left beside the report
    assert [p.name for p in final.parent.iterdir()] == ["2026-10"]


def test_publish_dir_when_target_did_not_exist(tmp_path):
    final = tmp_path / "reports" / "2026-11"
    with staging_dir(final) as tmp:
        (tmp / "index.html").write_text("first", encoding="utf-8")
    publish_dir(tmp, final)
    assert (final / "index.html").read_text(encoding="utf-8") == "first"
    assert [p.name for p in final.parent.iterdir()] == ["2026-11"]


def test_publish_dir_restores_old_folder_when_staged_missing(tmp_path):
    final = tmp_path / "reports" / "2026-10"
    final.mkdir(parents=True)
    (final / "index.html").write_text("old", encoding="utf-8")
    with pytest.raises(OSError):
        publish_dir(tmp_path / "reports" / "does-not-exist", final)
    assert (final / "index.html").read_text(encoding="utf-8") == "old"
    assert [p.name for p in final.parent.iterdir()] == ["2026-10"]


# ----------------------------------------------------------------------------- write_text_atomic


def test_write_text_atomic_writes_and_leaves_no_temp(tmp_path):
    path = tmp_path / "out" / "run.log"
    assert write_text_atomic("first\n", path) == path
    write_text_atomic("日本語\n", path)
    assert path.read_text(encoding="utf-8") == "日本語\n"
    assert os.listdir(path.parent) == ["run.log"]


def test_write_text_atomic_failure_keeps_old_file_and_no_temp(tmp_path):
    path = tmp_path / "run.log"
    path.write_text("old", encoding="utf-8")
    with pytest.raises(TypeError):
        write_text_atomic(12345, path)  # type: ignore[arg-type]  # not text: write fails
    assert path.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["run.log"]


# ----------------------------------------------------------------------------- list_report_months


def _report(reports: Path, name: str, index: bool = True) -> None:
    folder = reports / name
    folder.mkdir(parents=True)
    if index:
        (folder / "index.html").write_text("<html></html>", encoding="utf-8")


def test_list_report_months_newest_first_and_filtered(tmp_path):
    reports = tmp_path / "reports"
    for name in ("2025-12", "2026-10", "2026-02"):
        _report(reports, name)
    _report(reports, "2026-09", index=False)  # never published
    _report(reports, "2026-10.failed")
    _report(reports, ".2026-11.tmp-abc")
    (reports / "2026-08").write_text("a file, not a folder", encoding="utf-8")
    assert list_report_months(reports) == ["2026-10", "2026-02", "2025-12"]


def test_list_report_months_missing_folder_is_empty(tmp_path):
    assert list_report_months(tmp_path / "reports") == []


def test_list_report_months_ignores_non_month_names_of_month_length(tmp_path):
    reports = tmp_path / "reports"
    _report(reports, "2026-10")
    _report(reports, "test-01")
    assert list_report_months(reports) == ["2026-10"]


def test_write_csv_writes_whole_numbers_without_a_decimal_point(tmp_path):
    frame = pd.DataFrame(
        {
            "metric": ["new_leads", "mql_rate", "zero", "none", "big"],
            "value": [13.0, 0.37142857142857144, -0.0, float("nan"), 2.0**60],
            "low": [0.0, 1 / 3, 0.0, float("nan"), 1e300],
        }
    )
    path = write_csv(frame, tmp_path / "t.csv")
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines[1:] == [
        "new_leads,13,0",
        "mql_rate,0.37142857142857144,0.3333333333333333",
        "zero,0,0",
        "none,,",
        "big,1.152921504606847e+18,1e+300",
    ]
    back = pd.read_csv(path, encoding="utf-8-sig")
    pd.testing.assert_series_equal(back["value"], frame["value"].abs(), check_names=False)


def test_input_stamps_see_a_file_rewritten_added_or_removed(tmp_path):
    import os

    from maops_utils.contract.files import changed_inputs, input_stamps

    import handmade

    data = handmade.write(tmp_path / "data")
    before = input_stamps(data)
    assert str(data / "leads.csv") in before and changed_inputs(before, data) == []
    leads = data / "leads.csv"
    info = leads.stat()
    leads.write_bytes(leads.read_bytes().replace(b"L1,", b"L0,", 1))  # same size
    os.utime(leads, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000))
    assert changed_inputs(before, data) == [str(leads)]
    (data / "campaigns.csv").unlink()
    assert str(data / "campaigns.csv") in changed_inputs(before, data)
