import threading
import time
from pathlib import Path

import nbformat
import pytest

from maops_utils.batch.notebooks import check_parameters, notebook_parameters
from maops_utils.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import os"),
        nbformat.v4.new_code_cell(
            'month: str = ""  # month\nlimit: int = 3  # how many\nratio: float = 0.5\nflag: bool = False',
            metadata={"tags": ["parameters"]},
        ),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_parameters_are_read_from_the_tagged_cell(notebook):
    assert notebook_parameters(notebook) == {
        "month": "str",
        "limit": "int",
        "ratio": "float",
        "flag": "bool",
    }


def test_valid_parameters_pass(notebook):
    check_parameters(notebook, {"month": "2026-10", "limit": 5, "ratio": 1, "flag": True})


def test_unknown_parameter_is_refused_with_a_suggestion(notebook):
    with pytest.raises(ConfigError, match=r"'mnth' is not declared.*did you mean 'month'"):
        check_parameters(notebook, {"mnth": "2026-10"})


@pytest.mark.parametrize(
    "name, value",
    [("limit", "3"), ("limit", True), ("month", 202610), ("flag", "yes"), ("ratio", "0.5")],
)
def test_wrongly_typed_parameter_is_refused(notebook, name, value):
    with pytest.raises(ConfigError, match=f"parameter '{name}'.*must be"):
        check_parameters(notebook, {name: value})


def test_code_in_a_string_parameter_stays_a_string(notebook):
    # papermill writes values as Python literals; a str is only ever a str literal
    check_parameters(notebook, {"month": '"); import os; os.system("echo hacked'})


def test_notebook_without_parameters_cell_is_an_error(tmp_path):
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), path)
    with pytest.raises(ConfigError, match="tagged 'parameters'"):
        notebook_parameters(path)


def test_the_batch_process_imports_nbformat_without_the_iri_grammars_and_still_validates():
    """`maops run` imports nbformat through maops_utils.batch.notebook_format: jsonschema comes
    without its IRI checker (seconds of grammar compiling), notebooks are still validated,
    and the checker's library can still be imported by anything that wants it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = """
import importlib.util, sys
import maops_utils.batch.runner
from maops_utils.batch.notebook_format import nbformat  # what the batch renders with
assert "rfc3987_syntax" not in sys.modules, "the IRI grammars were compiled"
import jsonschema.exceptions
nb = nbformat.read("notebooks/01_kpi_evaluation.ipynb", as_version=4)
nbformat.validate(nb)
nb.cells[0]["cell_type"] = "not-a-cell-type"
try:
    nbformat.validate(nb)
except jsonschema.exceptions.ValidationError:
    pass
else:
    raise AssertionError("an invalid notebook passed validation")
if importlib.util.find_spec("rfc3987_syntax") is not None:
    import rfc3987_syntax  # noqa: F401
print("ok")
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_run_keeps_only_the_addresses_the_pattern_misses_and_still_finds_all(tmp_path):
    """While the notebooks run, `maops run` keeps only the addresses the generic pattern does
    not match whole; the scan of the report must still find every address of the dataset."""
    import pandas as pd

    from maops_utils.batch.privacy import People, find_personal_data, unusual_addresses

    emails = pd.Series(
        [
            "taro@example.co.jp",
            "ｈａｎａ@example.jp",
            "o'neil@example.com",
            None,
            "x@y",
            "",
            "なし",
        ],
        dtype="str",
    )
    kept = unusual_addresses(emails)
    assert kept == {"ｈａｎａ@example.jp", "o'neil@example.com", "x@y"}  # "なし" is no address
    (tmp_path / "a.html").write_text("<td>taro@example.co.jp</td>", encoding="utf-8")
    (tmp_path / "b.csv").write_text("id,email\n1,ｈａｎａ@example.jp\n", encoding="utf-8")
    (tmp_path / "c.log").write_text("sent to x@y", encoding="utf-8")
    (tmp_path / "d.txt").write_text("nothing here: なし", encoding="utf-8")
    (tmp_path / "e.json").write_text('{"to": "o\'neil@example.com"}', encoding="utf-8")
    every = set(emails.dropna()) - {"", "なし"}
    # a value that is no address flags no report that happens to show that text
    assert not any(
        h.startswith("d.txt") for h in find_personal_data(tmp_path, People(emails={"なし"}))
    )
    found = find_personal_data(tmp_path, People(emails=kept))
    assert found == find_personal_data(tmp_path, People(emails=every))
    assert [h.split(":")[0] for h in found] == [
        "a.html",
        "b.csv",
        "c.log",
        "e.json",
    ]


def test_the_unusual_addresses_are_those_the_python_pattern_misses():
    """`unusual_addresses` matches in Arrow (RE2): the same values as Python's `fullmatch`."""
    import random

    import pandas as pd

    from maops_utils.batch.privacy import unusual_addresses
    from maops_utils.core.personal import EMAIL as _EMAIL

    rng = random.Random(8)
    alphabet = "ab.Z9-_%+@'@..@ ｈ\u3000\n\t日é"
    values = ["a@b.co\n", "a@b.co", "\na@b.co", "a@b.c", "a@b.co.", "a.b@c-d.co.jp", ""]
    values += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(20000)
    ]
    values += [f"{v}@ex.{t}" for v in ("x", "x y", "ｘ") for t in ("jp", "j", "j1", "JP\n")]

    def part(chars: str) -> str:
        return "".join(rng.choice(chars) for _ in range(rng.randint(0, 5)))

    # address-shaped values, now and then with a character the pattern refuses
    values += [
        f"{part('ab1._%+-')}{part(chr(39) + ' ab')}@{part('cd-9')}.{part('ef.-')}.{part('jpJ1')}"
        for _ in range(5000)
    ]
    series = pd.Series([*values, None], dtype="str")
    expected = {v for v in values if "@" in v and not _EMAIL.fullmatch(v)}
    assert unusual_addresses(series) == expected
    assert len(expected) > 1000 and len(set(values) - expected) > 100  # both kinds met
    assert unusual_addresses(pd.Series(values, dtype=object)) == expected


class _Preparing:
    """Stands in for `ahead.Ahead`: its items are ready when the test says so."""

    def __init__(self, items):
        self.items = tuple(items)
        self.ready = threading.Event()

    def wait(self, item):
        self.ready.wait(timeout=30)
        return None


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_work_prepared_ahead_takes_a_place_only_with_two_jobs_or_more(jobs, monkeypatch):
    from maops_utils.batch import jobs as batch_jobs

    # two notebooks that need nothing prepared (the KPI report and one of one's own, from the
    # starter), two that wait for it, and the comparison, which reads the scoring study
    names = [
        "00_data_quality",
        "01_kpi_evaluation",
        "02_scoring_calibration",
        "03_product_comparison",
        "10_custom",
    ]
    from maops_utils.batch.notebooks import notebook_needs

    paths = [ROOT / "notebooks" / f"{n}.ipynb" for n in names[:4]]
    paths.append(ROOT / "notebooks" / "templates" / "starter.ipynb")
    plan = [
        batch_jobs.Job(n, p, None, {}, notebook_needs(p)) for n, p in zip(names, paths, strict=True)
    ]
    prepared = _Preparing(["pairs", "scoring_points"])
    lock, running, most, started = threading.Lock(), [0], [0, 0], []

    def notebook(job, *args, **kwargs):
        with lock:
            running[0] += 1
            phase = 1 if prepared.ready.is_set() else 0
            most[phase] = max(most[phase], running[0])
            started.append(job.name)
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return batch_jobs.NotebookResult(job.name, "ok", 0.3, Path(job.name))

    monkeypatch.setattr(batch_jobs, "_execute_job", notebook)
    threading.Timer(1.5, prepared.ready.set).start()
    settings = batch_jobs.RunSettings(data_dir=Path("."), out_dir=Path("."), params_dir=Path("."))
    results = batch_jobs.run_jobs(
        plan, Path("."), settings, "", jobs, None, prepared, lambda m: None
    )
    assert [r.name for r in results] == names  # in plan order
    assert started[:2] == ["01_kpi_evaluation", "10_custom"]  # needing nothing
    # while the work is prepared: one kernel beside it, or jobs - 1 kernels
    assert most[0] == max(1, min(jobs - 1, 2))
    assert most[1] <= jobs
