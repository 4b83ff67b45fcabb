"""`maops run` as a user runs it: a subprocess on a handmade dataset, checked by hand."""

import json
import math
import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from helpers import ROOT, SAMPLE_PARAMS, add_broken_notebook, make_project, maops, snapshot

from maops_utils.metrics.catalogue import CORE_METRICS

import handmade

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    data = handmade.write(base / "data")
    before = snapshot(data)
    out = base / "reports"
    proc = maops(
        "run",
        "--params",  # the sample company's targets and KPIs of its own, on the handmade data
        SAMPLE_PARAMS,
        "--data",
        data,
        "--out",
        out,
        "--month",
        handmade.MONTH,
        "--as-of",
        "2026-03-01 09:00",
    )
    assert proc.returncode == 0, proc.stderr
    return {"base": base, "data": data, "out": out, "proc": proc, "inputs_before": before}


def test_run_writes_the_contract_outputs(published):
    month_dir = published["out"] / handmade.MONTH
    names = {p.name for p in month_dir.iterdir()}
    assert {
        "index.html",
        "metrics.csv",
        "run.json",
        "run.log",
        "01_kpi_evaluation.html",
        "01_kpi_evaluation.ipynb",
        "trend.csv",
        "channels.csv",
        "campaigns.csv",
        "cohorts.csv",
        "velocity.csv",
    } <= names
    assert (published["out"] / "index.html").is_file()
    assert str(month_dir / "index.html") in published["proc"].stdout
    # the kernel's own start-up and shut-down chatter stays out of the batch log
    assert "IPKernelApp" not in published["proc"].stderr
    assert not list(month_dir.glob("*.kernel.log"))
    leftovers = [
        p.name
        for p in published["out"].iterdir()
        if p.name.startswith(".")
        and not p.name.endswith(".lock")
        and p.name not in (".cache", ".history")
    ]
    assert leftovers == []
    # the month's scores per lead are kept beside the month folders, never in the published one
    history = published["out"] / ".history"
    assert [p.name for p in history.iterdir()] == [f"scores-{handmade.MONTH}.parquet"]
    assert not list(month_dir.rglob("*.parquet"))
    # the validated-data cache (docs/scale.md): one complete entry of the activities, one of
    # the small tables, the month facts (and the inputs' checksums), nothing half-written
    cached = sorted(p for p in (published["out"] / ".cache").iterdir() if p.is_dir())
    entry, facts, tables = cached
    assert entry.name.startswith("activities-") and facts.name.startswith("facts-")
    assert (entry / "meta.json").is_file() and list((entry / "data").glob("*/*.parquet"))
    assert tables.name.startswith("tables-") and (tables / "meta.json").is_file()
    typed = {f"{n}.arrow" for n in ("leads", "stage_changes", "opportunities", "campaigns")}
    arrows = {p.name for p in tables.glob("*.arrow")}
    assert typed <= arrows  # and what notebook 00 derived from the leads (its 名寄せ pairs)
    assert [n for n in arrows - typed if not n.startswith("derived-pairs-")] == []
    others = {p.name for p in (published["out"] / ".cache").iterdir() if not p.is_dir()}
    assert others <= {"checksums.json"}
    kept = list(facts.glob("all/*"))
    # month facts and the study (`.kept`), counted points sealed with their checksum, the mark
    # of work prepared ahead, the month's scored population for the history (`.arrow`);
    # nothing half-written (a temporary file starts with a dot)
    assert kept and all(
        p.name.endswith((".kept", ".parquet", ".arrow", ".sha256", ".json"))
        and not p.name.startswith(".")
        for p in kept
    )
    arrows = [p.name for p in kept if p.name.endswith(".arrow")]
    assert len(arrows) == 1 and arrows[0].startswith(f"population-{handmade.MONTH}-")
    assert any(p.name.endswith(".kept") for p in kept)


def test_metrics_csv_equals_the_hand_computation(published):
    frame = pd.read_csv(published["out"] / handmade.MONTH / "metrics.csv", dtype={"month": str})
    # the contract's columns first and unchanged; maops's extra columns after them
    assert list(frame.columns[:6]) == [
        "month",
        "product",
        "metric",
        "value",
        "target",
        "attainment",
    ]
    assert (frame["month"] == handmade.MONTH).all()
    got = {(r.product, r.metric): r.value for r in frame.itertuples()}
    core = {key for key in got if key[1] in CORE_METRICS}
    assert core == set(handmade.EXPECTED)
    for key, expected in handmade.EXPECTED.items():
        if math.isnan(expected):
            assert math.isnan(got[key]), key
        else:
            assert got[key] == pytest.approx(expected, abs=1e-12), key
    with_target = frame.dropna(subset=["target"])
    assert not with_target.empty
    expected_att = (with_target["value"] / with_target["target"]).where(with_target["target"] != 0)
    pd.testing.assert_series_equal(with_target["attainment"], expected_att, check_names=False)
    assert frame.loc[frame["target"].isna(), "attainment"].isna().all()


def test_inputs_are_not_modified(published):
    assert snapshot(published["data"]) == published["inputs_before"]


def test_run_log_records_inputs_findings_and_versions(published):
    manifest = json.loads(
        (published["out"] / handmade.MONTH / "run.json").read_text(encoding="utf-8")
    )
    assert manifest["month"] == handmade.MONTH
    # no import.json: the dataset records no zone and is read in the run's, as it always was
    assert manifest["timezone"] == {
        "run": "Asia/Tokyo", "dataset": None, "exports": None, "recorded_in": None
    }  # fmt: skip
    assert manifest["inputs"]["leads"]["encoding"] == "cp932"
    assert len(manifest["inputs"]["leads"]["sha256"]) == 64
    messages = " | ".join(f["message"] for f in manifest["findings"])
    assert "orphans" in messages and "unknown activity_type (sms_sent)" in messages
    assert "unknown stage (nurture)" in messages
    assert "duckdb" in manifest["versions"] and "pandas" in manifest["versions"]
    assert manifest["notebooks"][0]["parameters"]["month"] == handmade.MONTH


def test_html_escapes_data_and_hides_pii(published):
    html = (published["out"] / handmade.MONTH / "01_kpi_evaluation.html").read_text(
        encoding="utf-8"
    )
    assert "<script>alert(1)</script>" not in html
    assert "@example.com" not in html
    assert 'src="http' not in html and "cdnjs" not in html
    assert "data:image/png;base64" in html  # the charts are embedded
    nb = nbformat.read(published["out"] / handmade.MONTH / "01_kpi_evaluation.ipynb", as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors == []


def test_missing_required_column_fails_cleanly_and_writes_nothing(tmp_path):
    data = handmade.write(tmp_path / "data")
    text = (data / "opportunities.csv").read_text(encoding="utf-8").replace("amount", "amt")
    (data / "opportunities.csv").write_text(text, encoding="utf-8")
    before = snapshot(data)
    out = tmp_path / "reports"
    proc = maops("run", "--data", data, "--out", out, "--month", handmade.MONTH)
    assert proc.returncode == 2
    assert "opportunities.csv" in proc.stderr and "'amount'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()
    assert snapshot(data) == before


def test_validate_command_lists_findings(tmp_path):
    data = handmade.write(tmp_path / "data")
    proc = maops("validate", "--data", data)
    assert proc.returncode == 0, proc.stderr
    assert "orphans" in proc.stdout and "cp932" in proc.stdout


def test_failed_runs_leave_the_previous_report_intact(published, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(published["out"], out)
    previous = snapshot(out / handmade.MONTH)
    cache_before = snapshot(out / ".cache")
    history_before = snapshot(out / ".history")

    # 1. bad data: stops before anything is written
    data = handmade.write(tmp_path / "bad")
    (data / "leads.csv").write_bytes(
        handmade.LEADS.replace("2026-01-05 10:00:00", "yesterday").encode("cp932")
    )
    proc = maops("run", "--data", data, "--out", out, "--month", handmade.MONTH)
    assert proc.returncode == 2
    assert "leads.csv" in proc.stderr and "line 2" in proc.stderr and "yesterday" in proc.stderr

    # 2. a notebook that raises: the batch fails after executing, and nothing is published
    project = make_project(tmp_path / "project")
    add_broken_notebook(project, "boom in the last cell")
    proc = maops(
        "run",
        "--params",
        project / "params",
        "--data",
        published["data"],
        "--out",
        out,
        "--month",
        handmade.MONTH,
        "--as-of",
        "2026-03-01 09:00",
        "--notebooks",
        "01_kpi_evaluation,99_broken",
    )
    assert proc.returncode == 1, proc.stderr
    assert "99_broken" in proc.stderr and "boom in the last cell" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(out / handmade.MONTH) == previous
    assert (out / f"{handmade.MONTH}.failed" / "99_broken.ipynb").is_file()
    assert (out / f"{handmade.MONTH}.failed" / "99_broken.kernel.log").is_file()
    # the other notebook still completed, and its report is kept beside the failure record
    assert (out / f"{handmade.MONTH}.failed" / "01_kpi_evaluation.html").is_file()
    assert "01_kpi_evaluation" in proc.stdout and "failed" in proc.stdout  # the summary table
    assert not [
        p
        for p in out.iterdir()
        if p.name.startswith(".")
        and not p.name.endswith(".lock")
        and p.name not in (".cache", ".history")
    ]
    assert snapshot(out / ".cache") == cache_before
    assert snapshot(out / ".history") == history_before  # a failed run keeps nothing new


def test_unknown_month_is_refused(tmp_path):
    data = handmade.write(tmp_path / "data")
    proc = maops("run", "--data", data, "--out", tmp_path / "r", "--month", "2026-13")
    assert proc.returncode == 2 and "YYYY-MM" in proc.stderr
    proc = maops("run", "--data", data, "--out", tmp_path / "r", "--month", "2019-01")
    assert proc.returncode == 2 and "outside the data" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_notebook_names_are_checked_before_anything_runs(tmp_path):
    data = handmade.write(tmp_path / "data")
    for name in ("02_nonexistent", "../notebooks/01_kpi_evaluation"):
        proc = maops(
            "run",
            "--data",
            data,
            "--out",
            tmp_path / "r",
            "--month",
            handmade.MONTH,
            "--notebooks",
            name,
        )
        assert proc.returncode == 2, proc.stderr
        assert "not found" in proc.stderr and "01_kpi_evaluation" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_sample_command_writes_a_valid_dataset(tmp_path):
    proc = maops(
        "sample", "--out", tmp_path / "s", "--leads", 300, "--months", 6, "--end-month", "2026-10"
    )
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in (tmp_path / "s").iterdir())
    assert names == [
        "activities.parquet",
        "campaigns.csv",
        "leads.csv",
        "opportunities.csv",
        "stage_changes.csv",
    ]
    proc = maops(
        "sample",
        "--out",
        tmp_path / "s",
        "--leads",
        300,
        "--months",
        6,
        "--end-month",
        "2026-10",
        "--parquet",
        "none",
    )
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "s" / "activities.parquet").exists()  # one file per table
    proc = maops("validate", "--data", tmp_path / "s")
    assert proc.returncode == 0 and "no findings" in proc.stdout


def test_a_kpi_declared_only_in_yaml_reaches_metrics_csv_and_the_report(published):
    # the sample's kpis.yaml declares webinar_attendees (count of distinct leads with webinar_attend)
    # with a target of 60 for ALL; the handmade dataset has no webinar attendance.
    month_dir = published["out"] / handmade.MONTH
    frame = pd.read_csv(month_dir / "metrics.csv", dtype={"month": str})
    rows = frame[frame["metric"] == "webinar_attendees"].set_index("product")
    assert set(rows.index) == {"A", "B", "C", "D", "ALL"}
    assert rows.loc["ALL", "value"] == 0 and rows.loc["ALL", "target"] == 60
    assert rows.loc["ALL", "attainment"] == 0 and rows.loc["ALL", "status"] == "off_track"
    html = (month_dir / "01_kpi_evaluation.html").read_text(encoding="utf-8")
    assert "ウェビナー参加者数" in html
    trend = pd.read_csv(month_dir / "trend.csv", dtype={"month": str})
    assert list(trend.columns) == ["month", "product", "metric", "value", "target"]


def test_a_report_without_enough_data_is_skipped_with_its_reason_not_a_failure(published):
    # the handmade dataset has no SQL outcome a scoring model could be judged by
    proc = published["proc"]
    row = next(
        line.split()
        for line in proc.stdout.splitlines()
        if line.startswith("02_scoring_calibration")
    )
    assert row[2] == "skipped"
    html = (published["out"] / handmade.MONTH / "02_scoring_calibration.html").read_text(
        encoding="utf-8"
    )
    assert "successes out of" in html and "Traceback" not in html
    manifest = json.loads(
        (published["out"] / handmade.MONTH / "run.json").read_text(encoding="utf-8")
    )
    statuses = {n["name"]: n["status"] for n in manifest["notebooks"]}
    assert statuses["02_scoring_calibration"] == "skipped"
    assert {n: st for n, st in statuses.items() if n != "02_scoring_calibration"} == {
        "00_data_quality": "ok",
        "01_kpi_evaluation": "ok",
        "03_product_comparison": "ok",
    }


def _run_prepared_ahead(published, out, jobs: int):
    """The run of `published` again into `out`, the 名寄せ pairs and scoring points prepared
    ahead (`auto` leaves the small handmade data alone), with `jobs` kernels."""
    proc = maops(
        "run",
        "--params",  # as `published` ran
        SAMPLE_PARAMS,
        "--data",
        published["data"],
        "--out",
        out,
        "--month",
        handmade.MONTH,
        "--as-of",
        "2026-03-01 09:00",
        "--prepare-ahead",
        "always",
        "--jobs",
        str(jobs),
    )
    assert proc.returncode == 0, proc.stderr
    month_dir = out / handmade.MONTH
    # the same tables as the run that prepared nothing ahead
    tables = sorted(p.name for p in (published["out"] / handmade.MONTH).glob("*.csv"))
    assert "duplicate_candidates.csv" in tables
    for name in tables:
        expected = (published["out"] / handmade.MONTH / name).read_bytes()
        assert (month_dir / name).read_bytes() == expected, name
    return month_dir


def test_small_data_is_not_prepared_ahead_by_default(published):
    month_dir = published["out"] / handmade.MONTH
    assert json.loads((month_dir / "run.json").read_text("utf-8"))["prepared_ahead"] is None
    assert (
        json.loads((month_dir / "run.json").read_text("utf-8"))["settings"]["prepare_ahead"]
        == "auto"
    )
    assert "prepared ahead" not in (month_dir / "run.log").read_text(encoding="utf-8")


def test_the_pairs_and_scoring_points_are_prepared_while_the_other_notebooks_run(
    published, tmp_path
):
    month_dir = _run_prepared_ahead(published, tmp_path / "reports", jobs=1)
    manifest = json.loads((month_dir / "run.json").read_text(encoding="utf-8"))
    ahead = manifest["prepared_ahead"]
    assert {item: done["problem"] for item, done in ahead.items()} == {
        "pairs": None,
        "scoring_points": None,
        "score_health": None,
    }
    log = (month_dir / "run.log").read_text(encoding="utf-8")
    assert (
        "prepared ahead, while other notebooks ran: pairs: ready; scoring_points: ready; "
        "score_health: ready"
    ) in log
    started = {
        p.stem: pd.Timestamp(nbformat.read(p, as_version=4).metadata.papermill.start_time)
        for p in month_dir.glob("0*.ipynb")
    }
    assert set(started) == {
        "00_data_quality",
        "01_kpi_evaluation",
        "02_scoring_calibration",
        "03_product_comparison",
    }
    # one kernel: the notebook that needs nothing prepared runs first, the others after it
    # and after their item was ready (the comparison reads the scoring study: it waits too)
    first = started["01_kpi_evaluation"]
    later = ("00_data_quality", "02_scoring_calibration", "03_product_comparison")
    assert first < min(started[n] for n in later)
    assert started["00_data_quality"] >= pd.Timestamp(ahead["pairs"]["ready_at"])
    for name in ("02_scoring_calibration", "03_product_comparison"):
        assert started[name] >= pd.Timestamp(ahead["scoring_points"]["ready_at"])
    # and the report lists them in their own order
    assert [n["name"] for n in manifest["notebooks"]] == sorted(started)

    # run again on the same input: everything is kept, so no process is started
    month_dir = _run_prepared_ahead(published, tmp_path / "reports", jobs=1)
    manifest = json.loads((month_dir / "run.json").read_text(encoding="utf-8"))
    kept = {"problem": None, "ready_at": None, "kept": True}
    assert manifest["prepared_ahead"] == {
        "pairs": kept,
        "scoring_points": kept,
        "score_health": kept,
    }
    log = (month_dir / "run.log").read_text(encoding="utf-8")
    assert (
        "prepared ahead: nothing to do, an earlier run on this input prepared pairs, "
        "scoring_points, score_health" in log
    )


def test_with_two_kernels_and_work_prepared_ahead_the_tables_are_the_same(published, tmp_path):
    month_dir = _run_prepared_ahead(published, tmp_path / "reports", jobs=2)
    ahead = json.loads((month_dir / "run.json").read_text(encoding="utf-8"))["prepared_ahead"]
    assert len(ahead) == 3 and all(done["problem"] is None for done in ahead.values())


@pytest.mark.parametrize("where", [".", "notebooks"])
def test_papermill_from_the_project_root_or_notebooks_gives_the_batchs_tables(
    published, tmp_path, where
):
    out = tmp_path / "tables"
    out.mkdir()
    notebook = ROOT / "notebooks" / "01_kpi_evaluation.ipynb"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "papermill",
            str(notebook),
            str(tmp_path / "executed.ipynb"),
            "-p",
            "month",
            handmade.MONTH,
            "-p",
            "data_dir",
            str(published["data"]),
            "-p",
            "as_of",
            "2026-03-01 09:00",
            "-p",
            "output_dir",
            str(out),
            "-p",
            "cache_dir",
            "off",
            "-p",  # read from the project found from the working folder, as data_dir is
            "params_dir",
            "workspaces/sample/params",
        ],  # fmt: skip
        cwd=ROOT / where,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    written = sorted(p.name for p in out.glob("*.csv"))
    assert {"trend.csv", "channels.csv", "campaigns.csv", "cohorts.csv"} <= set(written)
    batch = published["out"] / handmade.MONTH
    for name in written:
        assert (out / name).read_bytes() == (batch / name).read_bytes(), name
