"""Every case of the bad-input corpus (tests/corpus.py) through the real command line."""

import json
import math
from html import escape
from pathlib import Path

import corpus
import pandas as pd
import pytest
from helpers import ROOT, make_project, snapshot

from maops_utils.batch import cli
from maops_utils.core.errors import Finding
from maops_utils.core.i18n import finding_words
from maops_utils.speed.kernels import KernelPool

import handmade

FATAL = [c for c in corpus.CASES if c.exit != 0 and not c.after_notebooks]
WITHHELD = [c for c in corpus.CASES if c.after_notebooks]
NON_FATAL = [c for c in corpus.CASES if c.exit == 0]


def prepare(tmp_path: Path, case: corpus.Case):
    data = handmade.write(tmp_path / "data")
    project = make_project(tmp_path / "project")
    case.mutate(data, project / "params")
    out = tmp_path / "reports"
    args = [a.replace("{data}", str(data)) for a in case.args]
    argv = [
        "run",
        "--params",
        str(project / "params"),
        "--data",
        str(data),
        "--out",
        str(out),
        "--month",
        handmade.MONTH,
        "--as-of",
        "2026-03-01 09:00",
        "--notebooks",
        "01_kpi_evaluation",
        *args,
    ]
    return data, project, out, argv


def test_the_corpus_is_large_and_named_uniquely():
    names = [c.name for c in corpus.CASES]
    assert len(names) >= 40 and len(set(names)) == len(names)


@pytest.mark.parametrize("case", FATAL, ids=lambda c: c.name)
def test_fatal_input_gives_a_clear_error_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    started = []
    monkeypatch.setattr(KernelPool, "for_run", lambda *a, **k: started.append(a))
    _refused(case, tmp_path, capsys, monkeypatch)
    assert started == []  # bad input or settings are reported before any kernel starts


@pytest.mark.slow
@pytest.mark.parametrize("case", WITHHELD, ids=lambda c: c.name)
def test_personal_data_in_any_published_file_withholds_the_report(
    case, tmp_path, capsys, monkeypatch
):
    err = _refused(case, tmp_path, capsys, monkeypatch)
    assert "example.co.jp" not in err.replace("***@example.co.jp", "")  # masked, never quoted
    assert "090-1234-5678" not in err and "山田太郎" not in err


def _refused(case, tmp_path, capsys, monkeypatch) -> str:
    """Run `case`: it must exit with its code and message, write nothing and change no input."""
    monkeypatch.chdir(tmp_path)
    data, project, out, argv = prepare(tmp_path, case)
    before = snapshot(data, project)
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == case.exit, err
    for fragment in case.says:
        assert fragment in err, f"{fragment!r} not in: {err}"
    assert "Traceback" not in err
    assert "maops run: error:" in err
    written = [p for p in out.rglob("*") if not p.name.endswith(".lock")] if out.exists() else []
    assert written == [], written
    assert snapshot(data, project) == before
    assert not list(tmp_path.rglob("PWNED")) and not (ROOT / "PWNED").exists()
    return err


@pytest.mark.slow
@pytest.mark.parametrize("case", NON_FATAL, ids=lambda c: c.name)
def test_non_fatal_input_is_reported_and_the_numbers_stay_right(
    case, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    data, project, out, argv = prepare(tmp_path, case)
    before = snapshot(data, project)
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Traceback" not in captured.err
    month = case.args[case.args.index("--month") + 1] if "--month" in case.args else handmade.MONTH
    month_dir = out / month
    manifest = json.loads((month_dir / "run.json").read_text(encoding="utf-8"))
    messages = " | ".join(f["message"] for f in manifest["findings"])
    html = (month_dir / "01_kpi_evaluation.html").read_text(encoding="utf-8")
    for fragment in case.says:
        assert fragment in messages, messages  # the record and the log keep the English
    for finding in manifest["findings"]:
        # shown in the report's data-quality section, in the report's language
        words = finding_words(Finding(**finding), "ja")[0]
        assert escape(words, quote=False) in html, words
    frame = pd.read_csv(month_dir / "metrics.csv", dtype={"month": str})
    got = {(r.product, r.metric): r.value for r in frame.itertuples()}
    if month == handmade.MONTH:
        expected = handmade.EXPECTED if case.metrics is None else case.metrics
        for key, value in expected.items():
            if math.isnan(value):
                assert math.isnan(got[key]), key
            else:
                assert got[key] == pytest.approx(value, rel=1e-12), key
    else:  # a month with (almost) nothing: counts are 0, rates are empty, never an error
        assert got[("ALL", "new_leads")] == 0 and got[("ALL", "mqls")] == 0
        assert math.isnan(got[("ALL", "mql_rate")]) and math.isnan(got[("ALL", "email_open_rate")])
    if case.check:
        case.check(month_dir)
    assert snapshot(data, project) == before
