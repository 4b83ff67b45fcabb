"""An import stopped half-way leaves no folder of personal data behind: SIGTERM and SIGHUP
remove its staging folder on the way out, and after a SIGKILL, which no process can catch,
the next import removes it. A folder a live import is still building is left alone.

Each import here is a real process, held still at one point (its tables written to the
staging folder, the contract check not begun) until the test signals it or lets it go on:
no test waits for a moment to come."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, snapshot

from maops_utils.batch.cli import main

CUSTOM = ROOT / "tests" / "fixtures" / "exports" / "custom"
PERSON = "taro@example.co.jp"  # an address in the custom export's leads

# `maops import` with its staging folder's tables written, then stopped until a line comes
HELD = """
import sys
from maops_utils.batch.cli import main
from maops_utils.core import io

write_dataset = io.write_dataset


def write_and_hold(tables, out_dir, **kwargs):
    written = write_dataset(tables, out_dir, **kwargs)
    print("staged", out_dir, flush=True)
    sys.stdin.readline()
    return written


io.write_dataset = write_and_hold
sys.exit(main(sys.argv[1:]))
"""


def _import_args(out: Path) -> list[str]:
    return ["import", "custom", "--src", str(CUSTOM), "--mapping", str(CUSTOM / "mapping.yaml"),
            "--out", str(out)]  # fmt: skip


def _held_import(out: Path) -> tuple[subprocess.Popen, Path]:
    """An import to `out` in a process of its own, held with its tables in the staging
    folder; returns the process and that folder."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HELD, *_import_args(out)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    for line in proc.stdout:
        if line.startswith("staged "):
            stage = Path(line.removeprefix("staged ").strip())
            assert stage.parent == out.parent and stage.name.startswith(f".{out.name}.import-")
            assert PERSON in (stage / "leads.csv").read_text(encoding="utf-8")
            return proc, stage
    proc.wait()
    raise AssertionError(f"the import ended before staging: {proc.stderr.read()}")


def _finish(proc: subprocess.Popen) -> tuple[int, str]:
    """The process's exit code and standard error, once it ended."""
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_stopped_import_removes_its_staging_folder_and_keeps_the_dataset(tmp_path, sig):
    out = tmp_path / "ds"
    assert main(_import_args(out)) == 0
    before = snapshot(out)
    proc, stage = _held_import(out)
    proc.send_signal(sig)
    code, err = _finish(proc)
    assert code == 128 + sig, err
    assert f"stopped by {sig.name}; nothing half-built was left behind" in err
    assert "Traceback" not in err
    assert not stage.exists() and _hidden(tmp_path) == []
    assert snapshot(out) == before  # the previous dataset, whole


def test_the_next_import_removes_what_killed_imports_left(tmp_path, capsys):
    out = tmp_path / "ds"
    proc, stage = _held_import(out)
    proc.kill()  # SIGKILL: nothing runs in the process any more
    assert _finish(proc)[0] == -signal.SIGKILL
    assert stage.is_dir()  # left with its personal data, as nothing can prevent
    # an import of the same dataset removes it
    assert main(_import_args(out)) == 0
    assert f"removed {stage.name} left by an interrupted import" in capsys.readouterr().out
    assert not stage.exists() and _hidden(tmp_path) == []

    # and so does an import of another dataset of the same folder
    proc, stage = _held_import(tmp_path / "acme")
    proc.kill()
    assert _finish(proc)[0] == -signal.SIGKILL
    assert main(_import_args(out)) == 0
    assert f"removed {stage.name} left by an interrupted import" in capsys.readouterr().out
    assert not stage.exists() and _hidden(tmp_path) == []
    assert not (tmp_path / "acme").exists()


def test_the_folder_a_live_import_builds_is_left_alone(tmp_path, capsys):
    proc, stage = _held_import(tmp_path / "acme")
    try:
        # not an import's staging folder: it holds something else
        foreign = tmp_path / ".notes.import-2026"
        foreign.mkdir()
        (foreign / "diary.txt").write_text("mine", encoding="utf-8")
        assert main(_import_args(tmp_path / "ds")) == 0
        assert "removed" not in capsys.readouterr().out
        assert stage.is_dir() and (foreign / "diary.txt").is_file()
        proc.stdin.write("\n")  # let it go on: it publishes as if nothing happened
        proc.stdin.flush()
        code, err = _finish(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 0, err
    assert PERSON in (tmp_path / "acme" / "leads.csv").read_text(encoding="utf-8")
    assert not stage.exists() and _hidden(tmp_path) == [".notes.import-2026"]
