"""An import records the zone its timestamps are in (`import.json`), and a run, a check or a
notebook that would read them in another zone is refused, saying how to read them right."""

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import ROOT, maops

from maops_utils.batch.cli import main
from maops_utils.batch.config import notebook_settings
from maops_utils.contract.imported import import_zone
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError, TimezoneMismatch
from maops_utils.importers import ImportResult, write_import
from maops_utils.reports.kpi import review

import handmade

CUSTOM = ROOT / "tests" / "fixtures" / "exports" / "custom"


def _import(out: Path, *flags: str, mapping: Path = CUSTOM / "mapping.yaml") -> int:
    return main(["import", "custom", "--src", str(CUSTOM), "--mapping", str(mapping),
                 "--out", str(out), *flags])  # fmt: skip


def test_import_json_records_the_zone_of_the_timestamps_and_the_mappings(tmp_path, capsys):
    assert _import(tmp_path / "plain", "--timezone", "UTC") == 0
    record = json.loads((tmp_path / "plain" / "import.json").read_text(encoding="utf-8"))
    assert (record["timezone"], record["source_timezone"]) == ("UTC", None)
    # the hint to check it names the zone a check without --timezone would not read it in
    assert capsys.readouterr().out.splitlines()[-1].endswith("--timezone UTC")

    mapping = tmp_path / "new_york.yaml"
    mapping.write_text(
        (CUSTOM / "mapping.yaml").read_text(encoding="utf-8") + "timezone: America/New_York\n",
        encoding="utf-8",
    )
    assert _import(tmp_path / "ny", "--timezone", "UTC", mapping=mapping) == 0
    record = json.loads((tmp_path / "ny" / "import.json").read_text(encoding="utf-8"))
    assert (record["timezone"], record["source_timezone"]) == ("UTC", "America/New_York")
    # what is written is in the recorded zone: 13:04 in New York (EDT) is 17:04 UTC
    leads = pd.read_csv(tmp_path / "ny" / "leads.csv", dtype=str)
    assert leads.loc[leads["lead_id"] == "K-1", "created_at"].item() == "2026-10-05 17:04:00"


def test_a_check_a_run_and_a_notebook_in_another_zone_are_refused(tmp_path, capsys):
    data = tmp_path / "ds"
    assert _import(data, "--timezone", "UTC") == 0
    capsys.readouterr()

    # params/run.yaml says Asia/Tokyo: a check without --timezone would read other months
    assert main(["validate", "--data", str(data)]) == 2
    err = capsys.readouterr().err
    for part in (str(data / "import.json"), "in UTC", "in Asia/Tokyo", "--timezone UTC",
                 "timezone: UTC` in params/run.yaml", "again with --timezone Asia/Tokyo"):  # fmt: skip
        assert part in err, part
    assert "Traceback" not in err

    reports = tmp_path / "reports"
    assert main(["run", "--data", str(data), "--out", str(reports)]) == 2
    assert "records that the dataset's timestamps are local time in UTC" in capsys.readouterr().err
    assert not reports.exists()  # refused before anything was written, no cache either

    # a notebook loads the dataset with the run's settings: the same refusal
    settings = notebook_settings(data_dir=str(data))
    with pytest.raises(TimezoneMismatch, match=r"parameter timezone='UTC'"):
        review.load_inputs(settings)

    # in the recorded zone every way reads it
    assert main(["validate", "--data", str(data), "--timezone", "UTC"]) == 0
    assert f"timestamps read in UTC, the zone {data / 'import.json'}" in capsys.readouterr().out
    inputs = review.load_inputs(notebook_settings(data_dir=str(data), timezone="UTC"))
    assert len(inputs.dataset["leads"]) == 3


def test_a_dataset_without_a_recorded_zone_is_read_in_any_zone_as_before(tmp_path):
    data = handmade.write(tmp_path / "data")
    assert import_zone(data) is None
    for zone in ("Asia/Tokyo", "UTC"):
        assert load_dataset(data, timezone=zone).timezone == zone  # read, in either
    assert main(["validate", "--data", str(ROOT / "data" / "sample")]) == 0

    # an import.json from before imports recorded their zone says nothing about it
    (data / "import.json").write_text('{"source": "hubspot", "rows": {}}', encoding="utf-8")
    assert import_zone(data) is None
    load_dataset(data, timezone="UTC")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "cannot be read"),
        ("[]", "does not hold the record of an import"),
        ('{"timezone": "Mars/Olympus"}', "timezone 'Mars/Olympus' is not a known time zone"),
        ('{"timezone": "UTC", "source_timezone": 9}', "source_timezone 9 is not a known"),
    ],
)
def test_a_damaged_import_record_is_an_error_naming_it_and_what_to_do(tmp_path, text, says):
    data = handmade.write(tmp_path / "data")
    (data / "import.json").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=says) as caught:
        load_dataset(data)
    assert str(data / "import.json") in str(caught.value)
    assert "import the exports again, or remove the file" in str(caught.value)


def test_write_import_refuses_a_zone_other_than_the_one_the_import_converted_to(tmp_path):
    frames = _handmade_tables(tmp_path)
    result = ImportResult("handmade", frames, timezone="UTC")
    with pytest.raises(ConfigError, match="'Asia/Tokyo' is not the zone .* \\('UTC'"):
        write_import(result, tmp_path / "ds", timezone="Asia/Tokyo")
    assert not (tmp_path / "ds").exists()


def _handmade_tables(tmp_path: Path) -> dict[str, pd.DataFrame]:
    """The handmade dataset's tables as an import builds them (text, empty cells missing)."""
    folder = handmade.write(tmp_path / "handmade", leads_encoding="utf-8")
    frames = {p.stem: pd.read_csv(p, dtype=str, encoding="utf-8-sig") for p in folder.glob("*.csv")}
    shutil.rmtree(folder)
    return frames


@pytest.mark.slow
def test_run_json_records_the_runs_zone_and_the_one_the_dataset_records(tmp_path):
    data = tmp_path / "ds"
    write_import(ImportResult("handmade", _handmade_tables(tmp_path), timezone="UTC"), data)
    out = tmp_path / "reports"
    args = ["run", "--data", data, "--out", out, "--month", handmade.MONTH,
            "--as-of", "2026-03-01 09:00", "--notebooks", "01_kpi_evaluation"]  # fmt: skip
    refused = maops(*args)
    assert refused.returncode == 2 and "--timezone UTC" in refused.stderr
    proc = maops(*args, "--timezone", "UTC")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((out / handmade.MONTH / "run.json").read_text(encoding="utf-8"))
    assert manifest["timezone"] == {
        "run": "UTC",
        "dataset": "UTC",
        "exports": None,
        "recorded_in": str(data / "import.json"),
    }
    log = (out / handmade.MONTH / "run.log").read_text(encoding="utf-8")
    assert f"time zone: UTC; the dataset's, as {data / 'import.json'} records" in log
    assert "time zone: UTC (as import.json records)" in proc.stderr
