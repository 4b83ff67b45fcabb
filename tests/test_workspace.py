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
