"""A company's workspace: where a run finds its notebooks (the workspace's own first, then
the shipped ones, wherever the workspace lies), and `maops init`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from maops_utils.batch.workspace import find_notebook, kernel_dir, notebook_dirs
from maops_utils.core.errors import ConfigError
from maops_utils.core.settings import shipped

ROOT = Path(__file__).resolve().parents[1]


def _workspace(base: Path) -> Path:
    (base / "params").mkdir(parents=True)
    (base / "params" / "run.yaml").write_text("", encoding="utf-8")
    return base


def test_a_workspace_outside_the_project_runs_the_shipped_notebooks(tmp_path):
    params = _workspace(tmp_path / "acme") / "params"
    assert shipped("notebooks") == ROOT / "notebooks"  # a source checkout: beside the package
    assert (
        find_notebook("01_kpi_evaluation", params) == ROOT / "notebooks" / "01_kpi_evaluation.ipynb"
    )
    # no notebooks/ of its own: the kernels run in the workspace
    assert kernel_dir(params) == (tmp_path / "acme").resolve()


def test_a_workspace_notebook_replaces_the_shipped_one_of_its_name(tmp_path):
    root = _workspace(tmp_path / "acme")
    (root / "notebooks").mkdir()
    shutil.copy(ROOT / "notebooks" / "01_kpi_evaluation.ipynb", root / "notebooks")
    (root / "notebooks" / "10_own.ipynb").write_text("{}", encoding="utf-8")
    params = root / "params"
    assert (
        find_notebook("01_kpi_evaluation", params)
        == root.resolve() / "notebooks" / "01_kpi_evaluation.ipynb"
    )
    assert find_notebook("10_own", params) == root.resolve() / "notebooks" / "10_own.ipynb"
    assert find_notebook("00_data_quality", params) == ROOT / "notebooks" / "00_data_quality.ipynb"
    assert kernel_dir(params) == root.resolve() / "notebooks"


def test_an_unknown_notebook_names_both_folders_and_every_notebook(tmp_path):
    root = _workspace(tmp_path / "acme")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "10_own.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        find_notebook("01_kpi", root / "params")
    message = str(info.value)
    assert str(root.resolve() / "notebooks") in message and str(ROOT / "notebooks") in message
    assert "10_own" in message and "01_kpi_evaluation" in message
    with pytest.raises(ConfigError, match="not found"):
        find_notebook("../notebooks/01_kpi_evaluation", root / "params")  # a name, not a path


def test_in_the_source_checkout_the_two_folders_are_one():
    assert notebook_dirs(ROOT / "params") == [ROOT / "notebooks"]


def test_a_workspace_without_mappings_imports_with_the_shipped_ones(tmp_path):
    from maops_utils.batch.importing import mappings_dir

    params = _workspace(tmp_path / "acme") / "params"
    assert mappings_dir(params) == ROOT / "params" / "mappings"
    (params / "mappings").mkdir()  # a workspace's own vendor mappings win
    assert mappings_dir(params) == params / "mappings"


# ---------------------------------------------------------------- maops init


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A dataset as `maops sample` writes it: products A, B, C and the generator's channels."""
    from maops_utils.tools.sample import generate_sample, write_sample

    folder = tmp_path_factory.mktemp("generated") / "data"
    write_sample(generate_sample(leads=600, end_month="2026-10", seed=3), folder, parquet=())
    return folder


def _init(*args: object) -> tuple[int, str, str]:
    import contextlib
    import io

    from maops_utils.batch import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["init", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def test_init_on_a_dataset_writes_a_workspace_with_its_codes_and_no_targets(tmp_path, generated):
    import pandas as pd
    import yaml

    from maops_utils.batch.config import load_settings
    from maops_utils.metrics.catalogue import load_catalogue
    from maops_utils.metrics.labels import load_labels

    ws = tmp_path / "acme"
    code, out, err = _init(ws, "--data", generated, "--currency", "USD", "--lang", "en")
    assert (code, err) == (0, "")
    written = {p.relative_to(ws).as_posix() for p in ws.rglob("*") if p.is_file()}
    assert written == {
        "README.md",
        *(f"params/{n}.yaml" for n in ("run", "kpis", "labels", "funnel", "scoring")),
    }
    assert str(ws / "README.md") in out
    settings = load_settings(ws / "params")
    assert (settings.currency, settings.locale, settings.timezone) == ("USD", "en", "Asia/Tokyo")
    assert settings.data_dir == generated.resolve() and settings.out_dir == ws / "reports"
    # the codes of the data, each once, labels left to fill in
    leads = pd.read_csv(generated / "leads.csv", dtype=str, keep_default_na=False)
    labels = yaml.safe_load((ws / "params" / "labels.yaml").read_text(encoding="utf-8"))
    assert list(labels["products"]) == ["A", "B", "C"]
    sources = sorted(set(leads["lead_source"]) - {""})
    assert list(labels["lead_sources"]) == sources and "webinar" in sources
    # and the values of the lead attributes the scoring model gives points to by value
    levels = sorted(set(leads["job_level"]) - {""})
    assert list(labels["attributes"]["job_level"]) == levels and "executive" in levels
    assert list(labels["attributes"]) == ["job_level"]  # employees are banded, not named
    assert labels["activity_types"] == {} and labels["activity_categories"] == {}
    named = [*labels["products"].values(), *labels["attributes"]["job_level"].values()]
    assert all(v == {"ja": "", "en": ""} for v in named)
    text = (ws / "params" / "labels.yaml").read_text(encoding="utf-8")
    assert f'"A": {{ja: "", en: ""}}  # {(leads["product"] == "A").sum():,} leads' in text
    assert load_labels(ws / "params").named("products") == {}  # nothing named yet
    assert load_labels(ws / "params").value("job_level", "executive") == "executive"
    # no targets, no KPI of the sample company's own
    catalogue = load_catalogue(ws / "params")
    assert not any(k.default_targets or k.month_targets for k in catalogue)
    assert "webinar_attendees" not in catalogue
    readme = (ws / "README.md").read_text(encoding="utf-8")
    for step in ("maops validate", "params/kpis.yaml", "(A, B, C)", "maops run --params"):
        assert step in readme


def test_init_without_data_lists_no_codes_and_says_how_to_bring_the_data(tmp_path):
    from maops_utils.batch.config import load_settings

    assert _init(tmp_path / "acme")[0] == 0
    settings = load_settings(tmp_path / "acme" / "params")
    assert settings.data_dir == tmp_path / "acme" / "data" and settings.currency == "JPY"
    labels = (tmp_path / "acme" / "params" / "labels.yaml").read_text(encoding="utf-8")
    sections = ("products", "lead_sources", "activity_types", "activity_categories", "attributes")
    assert labels.endswith("".join(f"{section}: {{}}\n" for section in sections))
    assert "maops import hubspot" in (tmp_path / "acme" / "README.md").read_text(encoding="utf-8")


def test_init_reads_a_vendors_export_through_its_mapping(tmp_path):
    export = ROOT / "tests" / "fixtures" / "exports" / "custom"
    ws = tmp_path / "acme"
    code, _, err = _init(ws, "--data", export, "--mapping", export / "mapping.yaml")
    assert code == 0, err
    import yaml

    labels = yaml.safe_load((ws / "params" / "labels.yaml").read_text(encoding="utf-8"))
    # the mapping's codes, not the spreadsheet's names (会計, 展示会)
    assert set(labels["products"]) <= {"A", "B", "C"} and "A" in labels["products"]
    assert "exhibition" in labels["lead_sources"]
    readme = (ws / "README.md").read_text(encoding="utf-8")
    assert (
        f"maops import mapping --src {export} --out data --mapping {export / 'mapping.yaml'}"
        in readme
    )


def test_init_refuses_a_folder_that_is_not_empty_and_writes_nothing(tmp_path, generated):
    ws = tmp_path / "acme"
    ws.mkdir()
    (ws / "notes.txt").write_text("mine", encoding="utf-8")
    code, out, err = _init(ws, "--data", generated)
    assert code == 2 and out == ""
    assert f"maops init: error: {ws} is not empty (it holds notes.txt)" in err
    assert "choose another folder" in err
    assert [p.name for p in ws.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (["--currency", "yen"], "--currency flag: currency 'yen' is not an ISO 4217 code"),
        (["--timezone", "Tokyo"], "--timezone flag: timezone 'Tokyo'"),
        (["--data", "."], "holds no leads table of data contract v1"),  # tests/: no dataset
    ],
)
def test_init_checks_its_flags_and_data_before_writing(tmp_path, monkeypatch, flags, fragment):
    monkeypatch.chdir(ROOT / "tests")
    code, _, err = _init(tmp_path / "acme", *flags)
    assert code == 2 and fragment in err
    assert not (tmp_path / "acme").exists()


def test_the_default_settings_hold_none_of_the_sample_companys():
    from maops_utils.batch.config import load_settings
    from maops_utils.core.io import load_yaml
    from maops_utils.metrics.catalogue import load_catalogue
    from maops_utils.metrics.labels import load_labels

    default = ROOT / "params"
    assert not any(k.default_targets or k.month_targets for k in load_catalogue(default))
    assert "webinar_attendees" not in load_catalogue(default)
    assert load_labels(default) == load_labels(ROOT / "nowhere")
    assert load_yaml(default / "run.yaml")["currency"] is None  # JPY only as the default
    # the sample's, in a workspace of their own, run on data/sample into the project's reports/
    sample = ROOT / "workspaces" / "sample" / "params"
    assert load_catalogue(sample)["revenue"].target("2026-10", "ALL") == 8_000_000
    settings = load_settings(sample)
    assert settings.currency == "JPY" and settings.data_dir.resolve() == ROOT / "data" / "sample"
    assert settings.out_dir.resolve() == ROOT / "reports"


@pytest.mark.slow
def test_a_new_workspace_reports_in_its_currency_without_the_samples_settings(tmp_path, generated):
    import re

    import nbformat
    import pandas as pd
    from helpers import maops

    ws = tmp_path / "acme"
    assert _init(ws, "--data", generated, "--currency", "USD", "--locale", "en")[0] == 0
    run = ("run", "--notebooks", "01_kpi_evaluation", "--as-of", "2026-11-15 09:00")
    # inside the workspace: its settings, found from the working folder
    proc = maops(*run, cwd=ws)
    assert proc.returncode == 0, proc.stderr[-3000:]
    month = ws / "reports" / "2026-10"
    html = (month / "01_kpi_evaluation.html").read_text(encoding="utf-8")
    metrics = pd.read_csv(month / "metrics.csv")
    assert metrics["target"].isna().all() and metrics["attainment"].isna().all()
    assert "webinar_attendees" not in set(metrics["metric"])  # the sample's own KPI
    for sample in ("¥", "円", "8,000,000", "Webinar attendees", "ウェビナー参加者数", "Downloads"):
        assert sample not in html, sample
    assert re.search(r"\$\d{1,3}(,\d{3})*\.\d\d", html)  # amounts in dollars, with cents
    assert "Revenue" in html and "USD" in html  # English, the glossary's unit

    # from anywhere with --params, a notebook of the workspace's own replacing the shipped one
    own = nbformat.read(ROOT / "notebooks" / "01_kpi_evaluation.ipynb", as_version=4)
    own.cells.insert(1, nbformat.v4.new_markdown_cell("Acme's own KPI review"))
    (ws / "notebooks").mkdir()
    nbformat.write(own, ws / "notebooks" / "01_kpi_evaluation.ipynb")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = maops(*run, "--params", ws / "params", "--out", tmp_path / "out", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = tmp_path / "out" / "2026-10"
    shown = (again / "01_kpi_evaluation.html").read_text(encoding="utf-8")
    assert "Acme" in shown and "own KPI review" in shown
    assert (again / "metrics.csv").read_bytes() == (month / "metrics.csv").read_bytes()
