"""Layout C: a CRM lead list with the vendor's lead score and a converted flag, and no dates
(`params/mappings/example_lead_scores.yaml`, fixture `tests/fixtures/exports/lead_scores/`).

Every expectation is counted from the raw CSV in the test itself (the `csv` module, no maops
code), so the import and the scoring calibration are checked against what the file says."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.batch.importing import add_parser, run
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.importers import load_mapping

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "tests" / "fixtures" / "exports" / "lead_scores"
MAPPING = ROOT / "params" / "mappings" / "example_lead_scores.yaml"
SCORE, INDEX = "Asymmetrique Activity Score", "Asymmetrique Activity Index"


def raw_rows() -> list[dict[str, str]]:
    """The export as the file holds it; `Select` and empty cells are missing."""
    with (EXPORT / "Leads.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: (None if v in ("", "Select") else v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Path:
    """The fixture imported with `maops import`, as a user runs it."""
    out = tmp_path_factory.mktemp("lead_scores") / "dataset"
    parser = argparse.ArgumentParser(prog="maops")
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["import", "leadscores", "--src", str(EXPORT), "--out", str(out), "--mapping", str(MAPPING)]
    )
    assert run(args) == 0
    return out


def test_the_fixture_is_the_layout_it_stands_for():
    data = (EXPORT / "Leads.csv").read_bytes()
    assert data.count(b"\r\n") == 201 and data.count(b"\n") == 201  # CRLF only
    rows = raw_rows()
    assert len(rows) == 200
    scores = {int(r[SCORE]) for r in rows if r[SCORE]}
    assert min(scores) == 7 and max(scores) == 18
    assert {r[INDEX] for r in rows if r[INDEX]} == {"01.High", "02.Medium", "03.Low"}
    assert {r["Converted"] for r in rows} == {"0", "1"}


def test_the_lead_list_imports_with_its_scores_and_conversions_and_no_invented_dates(imported):
    rows = raw_rows()
    ds = load_dataset(imported)
    leads = ds["leads"].set_index("lead_id")
    assert len(leads) == 200 and leads["created_at"].isna().all()
    sources = {r["Prospect ID"]: r["Lead Source"] for r in rows}
    want = {
        "Organic Search": "organic", "Direct Traffic": "organic", "Referral Sites": "referral",
        "Reference": "referral", "google": "Google", None: "unknown",
    }  # fmt: skip
    for lead, source in sources.items():
        assert leads.at[lead, "lead_source"] == want.get(source, source), lead

    # one score row per scored lead, as the file has it, with no time: a snapshot
    scored = {r["Prospect ID"]: (float(r[SCORE]), r[INDEX]) for r in rows if r[SCORE]}
    scores = ds["scores"]
    assert scores["scored_at"].isna().all()
    assert dict(zip(scores["lead_id"], zip(scores["score"], scores["rating"], strict=True),
                    strict=True)) == scored  # fmt: skip

    # one undated won opportunity per converted lead
    opps = ds["opportunities"]
    assert sorted(opps["lead_id"]) == sorted(
        r["Prospect ID"] for r in rows if r["Converted"] == "1"
    )
    assert set(opps["status"]) == {"won"}
    assert opps["created_at"].isna().all() and opps["closed_at"].isna().all()
    assert ds["stage_changes"].empty and ds["activities"].empty

    findings = " ".join(f.message for f in ds.findings)
    assert "are read as a snapshot" in findings and "count in no month" in findings


def test_no_junk_code_or_form_default_is_written(imported):
    for path in sorted(imported.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for column in frame.columns:
            junk = frame[column].isin(["nan", "NaN", "None", "NaT", "__maops_skip__", "Select"])
            assert not junk.any(), (path.name, column, frame.loc[junk, column].head().tolist())


def test_only_a_date_may_be_declared_missing_from_an_export(tmp_path):
    text = MAPPING.read_text(encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    assert load_mapping("x", MAPPING)  # the shipped file declares only dates missing
    mapping.write_text(
        text.replace("      score: Asymmetrique Activity Score", "      score: ~"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"tables\.scores\.columns\.score: `~`.*for dates only"):
        load_mapping("x", mapping)
    mapping.write_text(
        text.replace("      score: Asymmetrique Activity Score\n", ""), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"tables\.scores\.columns: score not mapped"):
        load_mapping("x", mapping)
