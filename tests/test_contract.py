"""Tests of maops_utils.contract: the data contract's fatal problems, findings and time rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from maops_utils.contract.dataset import Dataset
from maops_utils.contract.files import read_raw_dataset
from maops_utils.contract.load import load_dataset
from maops_utils.contract.rules import validate
from maops_utils.contract.values import parse_timestamps
from maops_utils.core.errors import EXIT_INPUT, DataContractError, Finding
from maops_utils.core.schema import ACTIVITY_TYPES, STAGES

# A complete, minimal, valid dataset (data contract v1). Each test breaks one thing.
VALID = {
    "leads": (
        "lead_id,created_at,product,lead_source,company\n"
        "L1,2026-03-01 10:00:00,A,webinar,Acme\n"
        "L2,2026-03-02 11:00:00,B,exhibition,株式会社テスト\n"
        "L3,2026-03-03 12:00:00,A,,Other\n"
    ),
    "activities": (
        "lead_id,activity_type,occurred_at,campaign_id\n"
        "L1,email_send,2026-03-05 09:00:00,C1\n"
        "L1,email_open,2026-03-05 10:00:00,C1\n"
        "L2,page_view,2026-03-06 09:00:00,\n"
    ),
    "stage_changes": (
        "lead_id,stage,changed_at\nL1,mql,2026-03-10 09:00:00\nL2,sql,2026-03-11 09:00:00\n"
    ),
    "opportunities": (
        "opportunity_id,lead_id,product,created_at,status,closed_at,amount\n"
        'O1,L1,A,2026-03-12 09:00:00,won,2026-03-20 09:00:00,"1,200,000"\n'
        "O2,,C,2026-03-13 09:00:00,open,,500000\n"
    ),
}


def _write(folder: Path, tables: dict[str, str | None]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        if text is not None:
            (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


def _dataset(tmp_path: Path, **changes: str | None) -> Path:
    """Write VALID with some tables replaced (None = table left out); return the folder."""
    return _write(tmp_path / "data", {**VALID, **changes})


def _load(tmp_path: Path, *, as_of=None, timezone="Asia/Tokyo", **changes: str | None) -> Dataset:
    return load_dataset(_dataset(tmp_path, **changes), as_of=as_of, timezone=timezone)


def _fatal(tmp_path: Path, **changes: str | None) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        _load(tmp_path, **changes)
    assert info.value.exit_code == EXIT_INPUT == 2
    assert all(p.severity == "error" for p in info.value.problems)
    return info.value


def _findings(ds: Dataset, table: str, column: str) -> list[Finding]:
    return [f for f in ds.findings if f.table == table and f.column == column]


def _replace_line(table: str, old: str, new: str) -> str:
    text = VALID[table]
    assert old in text
    return text.replace(old, new, 1)


# ----------------------------------------------------------------------------- happy path


def test_valid_dataset_loads_typed_tables(tmp_path):
    ds = _load(tmp_path)
    assert ds.findings == []
    assert ds.timezone == "Asia/Tokyo"
    assert set(ds.names) == {"leads", "activities", "stage_changes", "opportunities"}
    assert ds.has("leads") and not ds.has("campaigns")
    leads = ds["leads"]
    assert leads["lead_id"].tolist() == ["L1", "L2", "L3"]
    assert leads["created_at"].iloc[0] == pd.Timestamp("2026-03-01 10:00:00")
    assert pd.api.types.is_datetime64_dtype(leads["created_at"])
    assert leads["created_at"].dt.tz is None
    assert leads["company"].tolist() == ["Acme", "株式会社テスト", "Other"]
    opps = ds["opportunities"]
    assert opps["amount"].tolist() == [1_200_000.0, 500_000.0]  # thousands separators
    assert pd.isna(opps.loc[1, "closed_at"])
    assert opps.loc[1, "lead_id"] is None or pd.isna(opps.loc[1, "lead_id"])
    assert len(ds["activities"]) == 3 and len(ds["stage_changes"]) == 2
    assert ds.sources["leads"]["encoding"] == "utf-8"
    assert ds.sources["leads"]["rows"] == 3
    assert len(ds.sources["leads"]["sha256"]) == 64


def test_a_released_dataset_keeps_only_its_sources_and_findings(tmp_path):
    ds = _load(tmp_path)
    assert ds.time_span("activities", "occurred_at")[0] is not pd.NaT
    sources, findings, store = dict(ds.sources), list(ds.findings), ds.store
    ds.release()
    assert ds.sources == sources and ds.findings == findings
    assert ds.names == [] and ds.store is None and not ds.spans
    with pytest.raises(Exception, match="closed"):
        store.db.execute("SELECT 1")


def test_empty_lead_source_becomes_unknown_without_finding(tmp_path):
    ds = _load(tmp_path)
    assert ds["leads"].set_index("lead_id").loc["L3", "lead_source"] == "unknown"
    assert _findings(ds, "leads", "lead_source") == []


def test_products_sorted_and_include_opportunity_only_products(tmp_path):
    ds = _load(tmp_path)
    # C exists only in opportunities (a sales-sourced deal).
    assert ds.products == ["A", "B", "C"]


def test_cells_and_column_names_are_trimmed(tmp_path):
    leads = " lead_id , created_at ,product,lead_source\n L1 , 2026-03-01 10:00:00 , A ,  \n"
    ds = _load(
        tmp_path,
        leads=leads,
        activities="lead_id,activity_type,occurred_at\n",
        stage_changes="lead_id,stage,changed_at\n",
    )
    row = ds["leads"].iloc[0]
    assert (row["lead_id"], row["product"], row["lead_source"]) == ("L1", "A", "unknown")
    assert row["created_at"] == pd.Timestamp("2026-03-01 10:00:00")


def test_unknown_extra_columns_are_kept(tmp_path):
    leads = (
        "lead_id,created_at,product,lead_source,crm_owner\n"
        "L1,2026-03-01 10:00:00,A,webinar,tanaka\n"
        "L2,2026-03-02 11:00:00,B,exhibition,\n"
        "L3,2026-03-03 12:00:00,A,organic,sato\n"
    )
    ds = _load(tmp_path, leads=leads)
    assert ds["leads"]["crm_owner"].tolist()[0] == "tanaka"
    assert ds["leads"]["crm_owner"].tolist()[2] == "sato"
    assert ds.findings == []


def test_optional_tables_are_validated_when_present(tmp_path):
    campaigns = 'campaign_id,name,cost,start_date\nC1,<b>Spring</b>,"10,000",2026/3/1\n'
    scores = "lead_id,scored_at,score,rating\nL1,2026-03-15,42,A1\n"
    ds = _load(tmp_path, campaigns=campaigns, scores=scores)
    assert ds["campaigns"]["cost"].tolist() == [10_000.0]
    assert ds["campaigns"]["start_date"].iloc[0] == pd.Timestamp("2026-03-01")
    assert ds["campaigns"]["name"].iloc[0] == "<b>Spring</b>"
    assert ds["scores"]["score"].tolist() == [42.0]
    assert ds["scores"]["scored_at"].iloc[0] == pd.Timestamp("2026-03-15 00:00")


def test_validate_accepts_parquet_with_tz_aware_timestamps(tmp_path):
    folder = _dataset(tmp_path, leads=None)
    pd.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_at": pd.to_datetime(
                ["2026-02-28T15:30:00Z", "2026-03-02T02:00:00Z", "2026-03-03T03:00:00Z"], utc=True
            ),
            "product": ["A", "B", "A"],
            "lead_source": ["webinar", None, "event"],
        }
    ).to_parquet(folder / "leads.parquet", index=False)
    ds = validate(read_raw_dataset(folder))
    assert ds.sources["leads"]["encoding"] == "parquet"
    # 15:30 UTC is 00:30 next day in Tokyo; the result is naive local time.
    assert ds["leads"]["created_at"].iloc[0] == pd.Timestamp("2026-03-01 00:30:00")
    assert ds["leads"]["created_at"].dt.tz is None
    assert ds["leads"]["lead_source"].tolist() == ["webinar", "unknown", "event"]
    assert ds.products == ["A", "B", "C"]


def test_cp932_dataset_loads(tmp_path):
    folder = _dataset(tmp_path)
    (folder / "leads.csv").write_bytes(VALID["leads"].encode("cp932"))
    ds = load_dataset(folder)
    assert ds.sources["leads"]["encoding"] == "cp932"
    assert "株式会社テスト" in ds["leads"]["company"].tolist()


# ----------------------------------------------------------------------------- fatal problems


def test_missing_required_table(tmp_path):
    err = _fatal(tmp_path, stage_changes=None)
    assert len(err.problems) == 1
    assert err.problems[0].table == "stage_changes"
    assert "stage_changes" in str(err)
    assert "missing" in str(err)


def test_missing_optional_table_is_fine(tmp_path):
    ds = _load(tmp_path)
    assert not ds.has("scores") and not ds.has("campaigns")


@pytest.mark.parametrize("wrong", ["Product", "prodcut"])
def test_missing_required_column_suggests_close_name(tmp_path, wrong):
    leads = VALID["leads"].replace(",product,", f",{wrong},", 1)
    err = _fatal(tmp_path, leads=leads)
    (problem,) = err.problems
    assert problem.column == "product"
    assert problem.file.endswith("leads.csv")
    msg = str(err)
    assert "leads.csv" in msg
    assert "'product'" in msg
    assert f"did you mean '{wrong}'" in msg


def test_missing_required_column_without_close_name_has_no_hint(tmp_path):
    stages = VALID["stage_changes"].replace("stage,", "xyz,", 1)
    err = _fatal(tmp_path, stage_changes=stages)
    assert err.problems[0].column == "stage"
    assert "did you mean" not in str(err)


def test_unparseable_timestamp_names_file_column_and_line(tmp_path):
    leads = _replace_line("leads", "L2,2026-03-02 11:00:00", "L2,yesterday at noon")
    err = _fatal(tmp_path, leads=leads)
    (problem,) = err.problems
    assert problem.column == "created_at"
    assert problem.count == 1
    assert problem.file.endswith("leads.csv")
    assert any("line 3" in e and "yesterday at noon" in e for e in problem.examples)
    assert "line 3" in str(err) and "leads.csv" in str(err) and "created_at" in str(err)


def test_unparseable_optional_timestamp_is_fatal_too(tmp_path):
    # closed_at is optional but a timestamp: an unreadable one stops the run.
    opps = _replace_line("opportunities", "open,,", "open,soon,")
    err = _fatal(tmp_path, opportunities=opps)
    assert err.problems[0].column == "closed_at"
    assert "line 3" in str(err)


def test_empty_required_timestamp_is_a_finding_and_the_row_counts_in_no_month(tmp_path):
    acts = _replace_line("activities", "L2,page_view,2026-03-06 09:00:00", "L2,page_view,")
    leads = _replace_line("leads", "L3,2026-03-03 12:00:00", "L3,")
    ds = _load(tmp_path, activities=acts, leads=leads)
    (problem,) = _findings(ds, "activities", "occurred_at")
    assert problem.severity == "warning" and "no value" in problem.message
    assert problem.examples == ["line 4: ''"]
    (lead_problem,) = _findings(ds, "leads", "created_at")
    assert lead_problem.examples == ["line 4: ''"]
    assert "L3" in set(ds["leads"]["lead_id"])  # kept: its activities still belong to it
    assert ds["activities"]["occurred_at"].isna().sum() == 1


def test_duplicate_lead_id_names_value_and_lines(tmp_path):
    leads = _replace_line("leads", "L3,", "L1,")
    err = _fatal(tmp_path, leads=leads)
    (problem,) = err.problems
    assert problem.column == "lead_id"
    assert problem.count == 2
    assert problem.examples == ["line 2: 'L1'", "line 4: 'L1'"]
    assert "'L1'" in str(err) and "line 4" in str(err)


def test_empty_key_is_fatal(tmp_path):
    opps = _replace_line("opportunities", "O2,", ",")
    err = _fatal(tmp_path, opportunities=opps)
    assert err.problems[0].column == "opportunity_id"
    assert "empty" in err.problems[0].message


def test_duplicate_optional_activity_id_is_fatal(tmp_path):
    acts = (
        "lead_id,activity_type,occurred_at,activity_id\n"
        "L1,email_send,2026-03-05 09:00:00,X1\n"
        "L1,email_open,2026-03-05 10:00:00,X1\n"
        "L2,page_view,2026-03-06 09:00:00,\n"
    )
    err = _fatal(tmp_path, activities=acts)
    assert err.problems[0].column == "activity_id"


def test_empty_required_product_is_fatal_and_empty_amount_a_finding(tmp_path):
    opps = _replace_line("opportunities", "O2,,C,", "O2,,,").replace(",500000", ",")
    err = _fatal(tmp_path, opportunities=opps)
    assert [p.column for p in err.problems] == ["product"]
    ds = _load(tmp_path, opportunities=VALID["opportunities"].replace(",500000", ","))
    (problem,) = _findings(ds, "opportunities", "amount")
    assert problem.severity == "warning" and problem.count == 1
    assert ds["opportunities"]["amount"].isna().sum() == 1


def test_product_all_is_reserved(tmp_path):
    leads = _replace_line("leads", "B,exhibition", "ALL,exhibition")
    err = _fatal(tmp_path, leads=leads)
    (problem,) = err.problems
    assert problem.column == "product"
    assert "ALL" in problem.message and "reserved" in problem.message
    assert problem.examples == ["line 3: 'ALL'"]


def test_several_problems_are_all_listed(tmp_path):
    leads = _replace_line("leads", "L3,2026-03-03 12:00:00", "L1,not a date")
    opps = _replace_line("opportunities", "O2,,C,", "O2,,ALL,")
    err = _fatal(tmp_path, leads=leads, opportunities=opps)
    found = {(p.table, p.column) for p in err.problems}
    assert found == {("leads", "created_at"), ("leads", "lead_id"), ("opportunities", "product")}
    assert "3 problem(s)" in str(err)


def test_several_structure_problems_are_all_listed(tmp_path):
    acts = VALID["activities"].replace("activity_type", "type", 1)
    err = _fatal(tmp_path, activities=acts, opportunities=None)
    assert {(p.table, p.column) for p in err.problems} == {
        ("activities", "activity_type"),
        ("opportunities", ""),
    }


# ----------------------------------------------------------------------------- findings


def test_orphan_activities_are_findings_and_left_out(tmp_path):
    acts = VALID["activities"] + "L9,email_click,2026-03-07 09:00:00,C1\n"
    ds = _load(tmp_path, activities=acts)
    (finding,) = _findings(ds, "activities", "lead_id")
    assert finding.severity == "warning"
    assert finding.count == 1
    assert finding.examples == ["line 5: 'L9'"]
    assert "L9" not in ds["activities"]["lead_id"].tolist()
    assert len(ds["activities"]) == 3


def test_unknown_activity_type_is_finding_and_left_out(tmp_path):
    acts = VALID["activities"] + "L1,tweet,2026-03-07 09:00:00,\n"
    ds = _load(tmp_path, activities=acts)
    (finding,) = _findings(ds, "activities", "activity_type")
    assert "tweet" in finding.message
    assert "tweet" not in ds["activities"]["activity_type"].tolist()
    assert len(ds["activities"]) == 3


def test_unknown_stage_and_orphan_stage_change_are_findings(tmp_path):
    stages = VALID["stage_changes"] + "L1,sal,2026-03-12 09:00:00\nL9,mql,2026-03-12 09:00:00\n"
    ds = _load(tmp_path, stage_changes=stages)
    (unknown,) = _findings(ds, "stage_changes", "stage")
    assert "sal" in unknown.message
    (orphan,) = _findings(ds, "stage_changes", "lead_id")
    assert orphan.count == 1
    assert ds["stage_changes"]["stage"].tolist() == ["mql", "sql"]
    assert ds["stage_changes"]["lead_id"].tolist() == ["L1", "L2"]


def test_rows_after_as_of_are_findings_and_left_out(tmp_path):
    leads = VALID["leads"] + "L4,2026-04-02 09:00:00,A,web_ad,\n"
    acts = VALID["activities"] + "L1,email_click,2026-04-01 00:00:01,C1\n"
    opps = VALID["opportunities"] + "O3,L1,A,2026-03-20 09:00:00,won,2026-04-05 09:00:00,100\n"
    as_of = pd.Timestamp("2026-04-01 00:00:00")
    ds = _load(tmp_path, leads=leads, activities=acts, opportunities=opps, as_of=as_of)
    assert "L4" not in ds["leads"]["lead_id"].tolist()
    assert ds["activities"]["occurred_at"].max() <= as_of
    assert len(ds["activities"]) == 3
    (lead_f,) = _findings(ds, "leads", "created_at")
    assert lead_f.count == 1 and "2026-04-01 00:00" in lead_f.message
    assert len(_findings(ds, "activities", "occurred_at")) == 1
    # A future closed_at is ignored, the opportunity itself is kept.
    opps_out = ds["opportunities"].set_index("opportunity_id")
    assert "O3" in opps_out.index
    assert pd.isna(opps_out.loc["O3", "closed_at"])
    closed = [f for f in _findings(ds, "opportunities", "closed_at") if "run time" in f.message]
    assert len(closed) == 1


def test_as_of_none_keeps_everything(tmp_path):
    leads = VALID["leads"] + "L4,2099-01-01 09:00:00,A,web_ad,\n"
    ds = _load(tmp_path, leads=leads)
    assert "L4" in ds["leads"]["lead_id"].tolist()
    assert ds.findings == []


def test_future_scores_are_left_out(tmp_path):
    scores = "lead_id,scored_at,score\nL1,2026-03-15 09:00:00,40\nL1,2026-05-01 09:00:00,90\n"
    ds = _load(tmp_path, scores=scores, as_of=pd.Timestamp("2026-04-01"))
    assert ds["scores"]["score"].tolist() == [40.0]
    assert len(_findings(ds, "scores", "scored_at")) == 1


def test_unknown_opportunity_status_is_finding_and_kept(tmp_path):
    opps = _replace_line("opportunities", ",open,", ",pending,")
    ds = _load(tmp_path, opportunities=opps)
    (finding,) = _findings(ds, "opportunities", "status")
    assert "pending" in finding.message
    assert ds["opportunities"]["status"].tolist() == ["won", "pending"]


def test_won_without_closed_at_is_finding_and_kept(tmp_path):
    opps = _replace_line("opportunities", "won,2026-03-20 09:00:00,", "won,,")
    ds = _load(tmp_path, opportunities=opps)
    (finding,) = _findings(ds, "opportunities", "closed_at")
    assert finding.count == 1
    assert [e.split(":")[0] for e in finding.examples] == ["line 2"]
    assert len(ds["opportunities"]) == 2


def test_opportunity_with_unknown_lead_is_finding_and_kept(tmp_path):
    opps = _replace_line("opportunities", "O1,L1,", "O1,L9,")
    ds = _load(tmp_path, opportunities=opps)
    (finding,) = _findings(ds, "opportunities", "lead_id")
    assert finding.count == 1
    assert "O1" in ds["opportunities"]["opportunity_id"].tolist()


def test_unreadable_optional_number_is_ignored_with_finding(tmp_path):
    leads = (
        "lead_id,created_at,product,lead_source,employees\n"
        "L1,2026-03-01 10:00:00,A,webinar,many\n"
        'L2,2026-03-02 11:00:00,B,exhibition,"1,200"\n'
        "L3,2026-03-03 12:00:00,A,organic,\n"
    )
    ds = _load(tmp_path, leads=leads)
    (finding,) = _findings(ds, "leads", "employees")
    assert finding.severity == "warning" and finding.count == 1
    assert finding.examples == ["line 2: 'many'"]
    employees = ds["leads"]["employees"].tolist()
    assert pd.isna(employees[0]) and employees[1] == 1200.0 and pd.isna(employees[2])


# ----------------------------------------------------------------------------- parse_timestamps


def _parse(values, timezone="Asia/Tokyo") -> list:
    return parse_timestamps(pd.Series(values, dtype=object), timezone).tolist()


def test_parse_timestamps_local_values_stay_local():
    assert _parse(["2026-03-31 23:30:00"]) == [pd.Timestamp("2026-03-31 23:30:00")]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-31T15:30:00Z", "2026-04-01 00:30:00"),
        ("2026-03-31T23:30:00+09:00", "2026-03-31 23:30:00"),
        ("2026-03-31 23:30:00+0900", "2026-03-31 23:30:00"),
        ("2026-03-31T10:30:00-05:00", "2026-04-01 00:30:00"),
        ("2026/3/5", "2026-03-05 00:00:00"),
        ("2026/03/05 9:05", "2026-03-05 09:05:00"),
        ("2026-03-31", "2026-03-31 00:00:00"),
        ("2026-03-31T08:00:00", "2026-03-31 08:00:00"),
        ("2026-03-31 23:30:00.250", "2026-03-31 23:30:00.250"),
        ("2026-03-31T15:30:00.5Z", "2026-04-01 00:30:00.500"),
    ],
)
def test_parse_timestamps_formats_in_tokyo(value, expected):
    assert _parse([value]) == [pd.Timestamp(expected)]


def test_parse_timestamps_mixed_column_and_garbage():
    values = ["2026-03-31 23:30:00", "2026-03-31T15:30:00Z", "2026/3/5", "garbage", "", None, "  "]
    result = parse_timestamps(pd.Series(values, dtype=object), "Asia/Tokyo")
    assert str(result.dtype) == "datetime64[us]"
    assert result.iloc[:3].tolist() == [
        pd.Timestamp("2026-03-31 23:30:00"),
        pd.Timestamp("2026-04-01 00:30:00"),
        pd.Timestamp("2026-03-05 00:00:00"),
    ]
    assert result.iloc[3:].isna().all()


def test_parse_timestamps_other_timezone():
    values = [
        "2026-03-31T15:30:00Z",
        "2026-03-31T23:30:00+09:00",
        "2026-01-15T12:00:00Z",
        "2026-03-31 23:30:00",
    ]
    # Berlin is UTC+2 in summer time (from 2026-03-29) and UTC+1 in winter; naive stays local.
    assert _parse(values, "Europe/Berlin") == [
        pd.Timestamp("2026-03-31 17:30:00"),
        pd.Timestamp("2026-03-31 16:30:00"),
        pd.Timestamp("2026-01-15 13:00:00"),
        pd.Timestamp("2026-03-31 23:30:00"),
    ]


def test_parse_timestamps_tz_aware_and_naive_datetime_input():
    aware = pd.Series(pd.to_datetime(["2026-03-31T15:30:00Z"], utc=True))
    assert parse_timestamps(aware, "Asia/Tokyo").tolist() == [pd.Timestamp("2026-04-01 00:30:00")]
    naive = pd.Series(pd.to_datetime(["2026-03-31 15:30:00"]))
    assert parse_timestamps(naive, "Asia/Tokyo").tolist() == [pd.Timestamp("2026-03-31 15:30:00")]


def test_timezone_option_applies_to_dataset(tmp_path):
    leads = _replace_line("leads", "2026-03-01 10:00:00", "2026-03-01T09:00:00Z")
    ds = _load(tmp_path, leads=leads, timezone="Europe/Berlin")
    assert ds.timezone == "Europe/Berlin"
    assert ds["leads"]["created_at"].iloc[0] == pd.Timestamp("2026-03-01 10:00:00")


def test_examples_name_file_lines_even_after_earlier_rows_were_left_out(tmp_path):
    activities = (
        "lead_id,activity_type,occurred_at,campaign_id\n"
        "L1,email_send,2027-01-01 09:00:00,C1\n"  # line 2: in the future
        "L1,email_open,2026-03-05 10:00:00,C1\n"
        "GHOST,page_view,2026-03-06 09:00:00,\n"  # line 4: orphan
        "L2,fax_sent,2026-03-06 09:00:00,\n"  # line 5: unknown type
    )
    ds = _load(tmp_path, as_of=pd.Timestamp("2026-06-01"), activities=activities)
    (future,) = [f for f in _findings(ds, "activities", "occurred_at")]
    (orphan,) = _findings(ds, "activities", "lead_id")
    (unknown,) = _findings(ds, "activities", "activity_type")
    assert future.examples == ["line 2: '2027-01-01 09:00:00'"]
    assert orphan.examples == ["line 4: 'GHOST'"]
    assert unknown.examples == ["line 5: 'fax_sent'"]
    assert list(ds["activities"]["activity_type"]) == ["email_open"]


def test_missing_optional_columns_become_empty_columns(tmp_path):
    opps = (
        "opportunity_id,product,created_at,status,amount\n"  # no lead_id, no closed_at
        "O1,A,2026-03-12 09:00:00,open,100\n"
    )
    ds = _load(tmp_path, opportunities=opps)
    frame = ds["opportunities"]
    assert frame["lead_id"].isna().all() and frame["closed_at"].isna().all()
    assert str(frame["closed_at"].dtype).startswith("datetime64")
    assert {"contact_id", "email", "employees"} <= set(ds["leads"].columns)


# ----------------------------------------------------------------------------- one rule set


def _said(finding: Finding, *names: str) -> tuple[str, str, str, int]:
    """What a finding says, with the table's own words (its column, its noun) taken out."""
    message, action = finding.message, finding.action
    for name in names:
        message, action = message.replace(name, "<x>"), action.replace(name, "<x>")
    return finding.severity, message, action, finding.count


@pytest.mark.parametrize(
    ("small", "bulk", "break_small", "break_bulk"),
    [
        # a required time left empty
        (("leads", "created_at"), ("activities", "occurred_at"),
         ("L3,2026-03-03 12:00:00,A,,Other", "L3,,A,,Other"),
         ("L2,page_view,2026-03-06 09:00:00,", "L2,page_view,,")),
        # a row dated after the run time
        (("stage_changes", "changed_at"), ("activities", "occurred_at"),
         ("L2,sql,2026-03-11 09:00:00", "L2,sql,2026-04-11 09:00:00"),
         ("L2,page_view,2026-03-06 09:00:00,", "L2,page_view,2026-04-06 09:00:00,")),
        # a row of a lead that is not in leads
        (("stage_changes", "lead_id"), ("activities", "lead_id"),
         ("L2,sql,2026-03-11", "L9,sql,2026-03-11"),
         ("L2,page_view", "L9,page_view")),
        # a code the contract does not know
        (("stage_changes", "stage"), ("activities", "activity_type"),
         ("L2,sql,", "L2,nurture,"),
         ("L2,page_view,", "L2,nurture,")),
    ],
)  # fmt: skip
def test_a_rule_says_the_same_whichever_engine_finds_the_rows(
    tmp_path, small, bulk, break_small, break_bulk
):
    # the small tables are checked in pandas, the bulk table in DuckDB: one rule, one finding
    ds = _load(
        tmp_path,
        as_of=pd.Timestamp("2026-03-31"),
        **{small[0]: _replace_line(small[0], *break_small)},
        **{bulk[0]: _replace_line(bulk[0], *break_bulk)},
    )
    (in_pandas,) = _findings(ds, *small)
    (in_sql,) = _findings(ds, *bulk)
    codes = (", ".join(STAGES), ", ".join(ACTIVITY_TYPES))  # each code's own allowed values
    nouns = (*codes, "stage changes", "activities", small[1], bulk[1])
    assert _said(in_pandas, *nouns) == _said(in_sql, *nouns)
    assert in_pandas.count == 1 and in_pandas.examples[0].startswith("line ")
    assert in_sql.examples[0].startswith("line ") and ": '" in in_sql.examples[0]


def test_an_unreadable_time_is_fatal_in_the_same_words_in_either_engine(tmp_path):
    said = []
    for table, old, new in (
        ("leads", "L3,2026-03-03 12:00:00", "L3,someday"),
        ("activities", "L2,page_view,2026-03-06 09:00:00", "L2,page_view,someday"),
    ):
        err = _fatal(tmp_path / table, **{table: _replace_line(table, old, new)})
        (problem,) = err.problems
        assert problem.examples == ["line 4: 'someday'"]
        said.append(_said(problem, "created_at", "occurred_at"))
    assert said[0] == said[1]


# ----------------------------------------------------------------------------- numbers


def test_amounts_with_a_decimal_comma_are_read_as_written(tmp_path):
    opps = _replace_line("opportunities", '"1,200,000"', '"27245,67"')
    opps = opps.replace(",open,,500000", ',open,,"100,5"')
    ds = _load(tmp_path, opportunities=opps)
    assert ds["opportunities"]["amount"].tolist() == [27245.67, 100.5]


def test_amounts_that_read_two_ways_are_fatal_never_a_guess(tmp_path):
    opps = _replace_line("opportunities", ",open,,500000", ',open,,"12,5"')  # beside 1,200,000
    err = _fatal(tmp_path / "comma", opportunities=opps)
    (problem,) = err.problems
    assert problem.column == "amount" and "read two ways" in problem.message
    assert problem.examples == ["line 2: '1,200,000'", "line 3: '12,5'"]
    assert "decimal" in problem.action
    opps = _replace_line("opportunities", '"1,200,000"', "100.000")
    opps = opps.replace(",open,,500000", ",open,,7")
    (problem,) = _fatal(tmp_path / "dot", opportunities=opps).problems
    assert "'.' may be the decimal sign or group thousands" in problem.message


def test_a_line_with_more_fields_than_the_header_is_fatal_never_shifted(tmp_path):
    # on the first line pandas would take the extra leading fields as the row's index and
    # shift every column; on a later one it stops: both say so, with the separator
    for line, old, new in (
        (2, "L1,2026-03-01 10:00:00,", "L1,x,2026-03-01 10:00:00,"),
        (3, "L2,2026-03-02 11:00:00,", "L2,x,2026-03-02 11:00:00,"),
    ):
        err = _fatal(tmp_path / str(line), leads=_replace_line("leads", old, new))
        (problem,) = err.problems
        assert problem.file.endswith("leads.csv")
        assert "read with ',' between fields" in problem.message
        assert f"line {line}" in problem.message and "6" in problem.message
