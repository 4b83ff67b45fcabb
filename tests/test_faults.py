"""Faults a scheduled batch meets: killed mid-way, started twice, hostile values."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from helpers import ROOT, snapshot

from maops_utils.batch.jobs import _execute
from maops_utils.core import io
from maops_utils.core.errors import RunInProgress

import handmade


def start(data: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maops_utils",
            "run",
            "--data",
            str(data),
            "--out",
            str(out),
            "--month",
            handmade.MONTH,
            "--as-of",
            "2026-03-01 09:00",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: the kernel dies with it
    )


def wait_for(condition, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def staging(out: Path) -> list[Path]:
    return list(out.glob(f".{handmade.MONTH}.tmp-*"))


@pytest.fixture
def published(tmp_path):
    data = handmade.write(tmp_path / "data")
    out = tmp_path / "reports"
    proc = start(data, out)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return data, out


@pytest.mark.slow
def test_a_run_killed_mid_way_leaves_the_previous_report_and_the_next_run_succeeds(published):
    data, out = published
    before = snapshot(out / handmade.MONTH)
    proc = start(data, out)
    # kill it while it executes the notebook: the staging folder holds metrics.csv by then
    wait_for(lambda: any((s / "metrics.csv").exists() for s in staging(out)))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert snapshot(out / handmade.MONTH) == before
    assert staging(out)  # the half-built folder is left behind ...
    proc = start(data, out)
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert "left by an interrupted run" in proc.stderr.read()
    assert not staging(out)  # ... and cleaned up by the next run
    assert (out / handmade.MONTH / "01_kpi_evaluation.html").is_file()


@pytest.mark.slow
def test_a_second_run_of_the_same_month_is_refused_while_the_first_writes(published):
    data, out = published
    first = start(data, out)
    wait_for(lambda: staging(out))
    second = start(data, out)
    assert second.wait(timeout=120) == 1
    err = second.stderr.read()
    assert "another run of 2026-01 is writing" in err and "Traceback" not in err
    assert first.wait(timeout=300) == 0, first.stderr.read()
    frame = pd.read_csv(out / handmade.MONTH / "metrics.csv")
    assert (
        frame.loc[(frame["product"] == "ALL") & (frame["metric"] == "new_leads"), "value"].item()
        == 5
    )


def test_the_run_lock_refuses_a_second_holder_and_frees_itself(tmp_path):
    with io.run_lock(tmp_path, "2026-01"):
        with pytest.raises(RunInProgress, match=f"pid {os.getpid()}"):
            with io.run_lock(tmp_path, "2026-01"):
                pass
        with io.run_lock(tmp_path, "2026-02"):  # another month is another lock
            pass
    with io.run_lock(tmp_path, "2026-01"):  # released
        pass


# no process has this pid: it is above the largest the kernel gives (pid_max, 2**22 at most)
DEAD_PID = 99_999_999


def test_recovery_puts_back_a_report_left_aside_by_a_killed_publish(tmp_path):
    old = tmp_path / f".2026-01.old-{DEAD_PID}"
    old.mkdir()
    (old / "index.html").write_text("previous", encoding="utf-8")
    (tmp_path / ".2026-01.tmp-abc").mkdir()
    notes = io.recover_dir(tmp_path / "2026-01")
    assert (tmp_path / "2026-01" / "index.html").read_text(encoding="utf-8") == "previous"
    assert not old.exists() and not (tmp_path / ".2026-01.tmp-abc").exists()
    assert len(notes) == 2
    assert io.recover_dir(tmp_path / "2026-01") == []  # nothing left to do


def test_recovery_leaves_what_a_live_process_is_doing(tmp_path):
    """A folder left aside by a process still running (between its two renames) is its to
    put back; a staging folder still locked by its builder is being built."""
    live = tmp_path / f".2026-01.old-{os.getppid()}"
    live.mkdir()
    with io.staging_dir(tmp_path / "2026-01") as stage:
        assert io.recover_dir(tmp_path / "2026-01") == []
        assert live.is_dir() and stage.is_dir() and not (tmp_path / "2026-01").exists()
    # this process's own pid on a folder is a dead namesake's: it recovers before publishing
    live.rename(tmp_path / f".2026-01.old-{os.getpid()}")
    notes = io.recover_dir(tmp_path / "2026-01")
    assert (tmp_path / "2026-01").is_dir()
    assert notes[0].startswith("restored the previous folder") and stage.name in notes[1]


def test_a_staging_folder_taken_for_a_leftover_before_it_was_locked_is_made_again(
    tmp_path, monkeypatch
):
    """A clean-up may list a staging folder in the instant between its creation and its lock:
    the builder then finds its folder gone and makes another, never building in a removed
    one."""
    made, flock = [], io.fcntl.flock

    def removed_first(handle, how):
        if not made:
            made.append(os.readlink(f"/proc/self/fd/{handle}"))
            io.remove_leftovers(tmp_path, ".ds.import-*")  # finds it unlocked
        flock(handle, how)

    monkeypatch.setattr(io.fcntl, "flock", removed_first)
    with io.staging_dir(tmp_path / "ds", kind="import") as stage:
        (stage / "leads.csv").write_text("lead_id\n", encoding="utf-8")
    assert made and str(stage) != made[0] and not Path(made[0]).exists()
    assert (stage / "leads.csv").is_file()


@pytest.mark.slow
def test_a_parameter_crafted_as_code_is_injected_as_a_string(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell('value: str = ""  # anything', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("print(repr(value))"),
    ]
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    pwned = tmp_path / "PWNED"
    hostile = f'x"); open({str(pwned)!r}, "w").write("1"); print("'
    _execute(
        src, tmp_path / "out.ipynb", {"value": hostile}, tmp_path / "kernel.log", {"disable": True}
    )
    assert not pwned.exists()
    out = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    printed = out.cells[-1].outputs[0]["text"].strip()
    assert printed == repr(hostile)


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    frame = pd.DataFrame(
        {
            "name": [
                '=HYPERLINK("http://x","y")',
                "+cmd|' /C calc'!A0",
                "-2+3",
                "@SUM(1)",
                "普通の名前",
                None,
            ],
            "value": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    path = io.write_csv(frame, tmp_path / "t.csv")
    back = pd.read_csv(path, encoding="utf-8-sig")
    assert list(back["name"][:4]) == [
        '\'=HYPERLINK("http://x","y")',
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(1)",
    ]
    assert back["name"][4] == "普通の名前" and pd.isna(back["name"][5])
    assert list(back["value"]) == [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0]  # numbers untouched
    assert frame["name"][0].startswith("=")  # the caller's frame is not changed


def _run_with_own_notebook(tmp_path: Path, name: str, code: str, *options: str, **env: str):
    """`maops run` on the handmade data of a project copy holding notebook `name` (the starter
    with `code` as its last cell), run before the KPI notebook, with `options` and the
    environment variables `env`. Returns the process, the data and the output folder."""
    from helpers import make_project, maops

    project = make_project(tmp_path / "project")
    nb = nbformat.read(project / "notebooks" / "templates" / "starter.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(nb, project / "notebooks" / f"{name}.ipynb")
    data = handmade.write(tmp_path / "data")
    out = tmp_path / "reports"
    proc = maops(
        "run", "--params", project / "params", "--data", data, "--out", out,
        "--month", handmade.MONTH, "--as-of", "2026-03-01 09:00",
        "--notebooks", f"{name},01_kpi_evaluation", *options, timeout=300, env=env,
    )  # fmt: skip
    return proc, data, out


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--no-cache",)], ids=["cache", "no-cache"])
def test_an_input_rewritten_while_the_run_reads_it_is_never_read_nor_published(tmp_path, options):
    # a notebook that rewrites the export as a late copy job would, before the KPI notebook;
    # what it loads next is still the run's snapshot (a failed assert would make exit code 1),
    # with the cache off too: the run then reads through a folder of its own, removed after
    temp = tmp_path / "temp"
    temp.mkdir()
    proc, data, out = _run_with_own_notebook(
        tmp_path,
        "05_rewrite",
        "from pathlib import Path\n"
        "leads = Path(settings.data_dir) / 'leads.csv'\n"
        "leads.write_bytes(leads.read_bytes() + b'L99,2026-01-20 10:00:00,A,webinar,,\\n')\n"
        "again = mu.load_review(settings, as_of=mu.parse_as_of(as_of, settings.timezone),\n"
        "                       snapshot=snapshot)\n"
        "assert snapshot and len(again.dataset['leads']) == len(rv.dataset['leads'])",
        *options,
        TMPDIR=str(temp),
    )
    assert not list(temp.glob("maops-run-*"))  # the run's own cache is gone
    assert proc.returncode == 2, proc.stderr
    assert "the input changed while the run was reading it" in proc.stderr
    assert str(data / "leads.csv") in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / handmade.MONTH).exists()  # nothing published
    assert staging(out) == []  # and no half-built folder left


@pytest.mark.slow
def test_a_kernel_that_dies_fails_its_notebook_and_the_next_one_runs(tmp_path):
    # the kernel ends in the middle of the notebook, as one killed or out of memory
    proc, _, out = _run_with_own_notebook(tmp_path, "30_dies", "import os\nos._exit(9)")
    assert proc.returncode == 1, proc.stderr
    assert "30_dies: DeadKernelError" in proc.stderr and "Traceback" not in proc.stderr
    assert (out / f"{handmade.MONTH}.failed" / "01_kpi_evaluation.html").is_file()
    assert not (out / handmade.MONTH).exists()
