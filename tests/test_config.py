"""Tests of maops_utils.batch.config: run settings, the run time, the funnel definitions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from maops_utils.batch import config
from maops_utils.batch.config import load_settings, notebook_settings, project_root
from maops_utils.core.errors import ConfigError
from maops_utils.core.months import check_month
from maops_utils.core.settings import parse_as_of


def _params(tmp_path: Path, run_yaml: str | None = None, kpis_yaml: str | None = None) -> Path:
    params = tmp_path / "proj" / "params"
    params.mkdir(parents=True)
    if run_yaml is not None:
        (params / "run.yaml").write_text(run_yaml, encoding="utf-8")
    if kpis_yaml is not None:
        (params / "kpis.yaml").write_text(kpis_yaml, encoding="utf-8")
    return params


RUN_YAML = """\
data_dir: data/client
out_dir: out
month: 2026-10
timezone: Europe/Berlin
locale: en
currency: EUR
encoding: cp932
trend_months: 6
show_code: true
notebooks: [01_kpi_evaluation, 02_scoring.ipynb]
"""


# ----------------------------------------------------------------------------- load_settings


def test_load_settings_reads_run_yaml(tmp_path):
    out = (tmp_path / "published").resolve()
    params = _params(tmp_path, RUN_YAML.replace("out_dir: out", f"out_dir: {out.as_posix()}"))
    s = load_settings(params)
    root = params.resolve().parent
    assert s.data_dir == root / "data" / "client"  # relative: resolved against the root
    assert s.out_dir == out  # absolute: kept
    assert s.params_dir == params
    assert s.month == "2026-10"
    assert (s.timezone, s.locale, s.currency, s.encoding) == ("Europe/Berlin", "en", "EUR", "cp932")
    assert s.trend_months == 6 and s.show_code is True
    assert s.notebooks == ("01_kpi_evaluation", "02_scoring")
    assert s.as_dict()["data_dir"] == str(root / "data" / "client")


def test_load_settings_defaults_with_an_empty_run_yaml(tmp_path):
    params = _params(tmp_path, "")
    s = load_settings(params)
    root = params.resolve().parent
    assert s.data_dir == root / "data" / "sample"
    assert s.out_dir == root / "reports"
    assert (s.month, s.timezone, s.locale, s.encoding) == (None, "Asia/Tokyo", "ja", "auto")


def test_a_missing_run_yaml_is_an_error_not_a_report_without_targets(tmp_path):
    params = _params(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(params)
    message = str(info.value)
    assert str(params / "run.yaml") in message and "does not exist" in message
    assert "-p params_dir" in message and "--params" in message


def test_load_settings_explicit_root(tmp_path):
    params = _params(tmp_path, "data_dir: in\n")
    other = tmp_path / "elsewhere"
    assert load_settings(params, root=other).data_dir == other / "in"


def test_overrides_win_and_none_overrides_do_not(tmp_path):
    params = _params(tmp_path, RUN_YAML)
    s = load_settings(
        params,
        {
            "locale": "ja",
            "month": "2026-09",
            "timezone": None,
            "encoding": None,
            "notebooks": "a.ipynb, b",
        },
    )
    assert s.locale == "ja" and s.month == "2026-09"
    assert s.timezone == "Europe/Berlin" and s.encoding == "cp932"  # YAML kept
    assert s.notebooks == ("a", "b")


def test_run_file_overrides_run_yaml_and_overrides_win(tmp_path):
    params = _params(tmp_path, RUN_YAML)
    run_file = tmp_path / "client.yaml"
    run_file.write_text("locale: ja\ntrend_months: 3\n", encoding="utf-8")
    s = load_settings(params, {"trend_months": 24}, run_file=run_file)
    assert s.locale == "ja" and s.trend_months == 24 and s.currency == "EUR"


def test_missing_run_file_is_error(tmp_path):
    params = _params(tmp_path, RUN_YAML)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(params, run_file=tmp_path / "nope.yaml")


def test_unknown_setting_names_file_and_suggests(tmp_path):
    params = _params(tmp_path, "timezon: Asia/Tokyo\n")
    with pytest.raises(ConfigError) as info:
        load_settings(params)
    msg = str(info.value)
    assert str(params / "run.yaml") in msg
    assert "timezon" in msg and "did you mean 'timezone'" in msg
    assert info.value.exit_code == 2


def test_unknown_override_is_config_error(tmp_path):
    params = _params(tmp_path, "")
    with pytest.raises(ConfigError, match="colour"):
        load_settings(params, {"colour": "red"})


@pytest.mark.parametrize("month", ["2026-13", "2026/10", "26-10", "2026-1", "2026-00"])
def test_bad_month_in_yaml(tmp_path, month):
    params = _params(tmp_path, f"month: '{month}'\n")
    with pytest.raises(ConfigError, match="not a month"):
        load_settings(params)


def test_bad_month_override(tmp_path):
    params = _params(tmp_path, "month: 2026-10\n")
    with pytest.raises(ConfigError, match="2026-13"):
        load_settings(params, {"month": "2026-13"})


@pytest.mark.parametrize(
    ("yaml_text", "fragment"),
    [
        ("locale: fr\n", "locale 'fr'"),
        ("timezone: Mars/Olympus\n", "timezone 'Mars/Olympus'"),
        ("encoding: latin-1\n", "encoding 'latin-1'"),
        ("trend_months: 0\n", "trend_months"),
        ("trend_months: many\n", "trend_months"),
    ],
)
def test_bad_values_are_config_errors(tmp_path, yaml_text, fragment):
    params = _params(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as info:
        load_settings(params)
    assert fragment in str(info.value)
    assert str(params / "run.yaml") in str(info.value)


def test_malformed_run_yaml_is_config_error(tmp_path):
    params = _params(tmp_path, "locale: [ja\n")
    with pytest.raises(ConfigError, match="line"):
        load_settings(params)


def test_null_data_dir_is_default_or_error(tmp_path):
    params = _params(tmp_path, "data_dir: null\n")
    try:
        s = load_settings(params)
    except ConfigError:
        return
    assert s.data_dir == params.resolve().parent / "data" / "sample"


# ----------------------------------------------------------------------------- notebook_settings


def test_notebook_settings_empty_string_is_unset(tmp_path):
    params = _params(tmp_path, RUN_YAML)
    (params.parent / "data" / "client").mkdir(parents=True)
    s = notebook_settings(str(params), month="", locale="ja", data_dir="", timezone="")
    root = params.resolve().parent
    assert s.month == "2026-10"  # "" -> take run.yaml
    assert s.locale == "ja"  # a given value wins
    assert s.data_dir == root / "data" / "client"
    assert s.timezone == "Europe/Berlin"
    assert s.params_dir == params.resolve()


def test_notebook_settings_checks_values(tmp_path):
    params = _params(tmp_path, RUN_YAML)
    with pytest.raises(ConfigError, match="not a month"):
        notebook_settings(params, month="October")


def _project(tmp_path: Path) -> Path:
    """A project folder: params/run.yaml reading data/client, a notebooks/ folder."""
    params = _params(tmp_path, "data_dir: data/client\nmonth: 2026-09\n")
    root = params.parent
    (root / "pyproject.toml").write_text("", encoding="utf-8")
    (root / "notebooks").mkdir()
    (root / "data" / "client").mkdir(parents=True)
    (root / "data" / "other").mkdir(parents=True)
    return root.resolve()


@pytest.mark.parametrize("where", [".", "notebooks"])
def test_a_notebook_finds_its_project_from_the_root_or_its_folder(tmp_path, monkeypatch, where):
    root = _project(tmp_path)
    monkeypatch.chdir(root / where)
    s = notebook_settings("", month="", data_dir="")
    assert s.params_dir == root / "params" and s.data_dir == root / "data" / "client"
    assert s.month == "2026-09" and s.out_dir == root / "reports"
    # a relative path parameter is read from the project folder, wherever papermill runs
    assert notebook_settings("", data_dir="data/other").data_dir == root / "data" / "other"
    assert notebook_settings("params").params_dir == root / "params"
    # what notebooks made from the older template say: the project's params/ too
    assert notebook_settings("../params").params_dir == root / "params"


def test_a_bad_notebook_parameter_is_blamed_on_the_parameter_not_run_yaml(tmp_path, monkeypatch):
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    with pytest.raises(ConfigError) as info:
        notebook_settings("", month="2026-8")
    message = str(info.value)
    assert message.startswith("notebook parameter (papermill -p or the parameters cell): month")
    assert "run.yaml" not in message
    with pytest.raises(ConfigError) as info:
        notebook_settings("", data_dir="data/missing")
    message = str(info.value)
    assert message.startswith("notebook parameter") and str(root / "data" / "missing") in message
    assert f"read from the project folder {root}" in message and "--data" not in message
    # a bad value in run.yaml is blamed on run.yaml
    (root / "params" / "run.yaml").write_text("month: 2026-9\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=f"^{root / 'params' / 'run.yaml'}: month"):
        notebook_settings("")


def test_a_bad_flag_is_blamed_on_the_command_line(tmp_path):
    params = _params(tmp_path, "month: 2026-09\n")
    with pytest.raises(ConfigError, match="^command-line flag: month: '2026-8' is not a month"):
        load_settings(params, {"month": "2026-8"})


def test_a_params_dir_without_run_yaml_is_an_error_naming_it(tmp_path, monkeypatch):
    root = _project(tmp_path)
    monkeypatch.chdir(root)
    (root / "empty").mkdir()
    with pytest.raises(ConfigError, match="run.yaml does not exist"):
        notebook_settings("empty")


@pytest.mark.parametrize(
    ("written", "hint"),
    [("yen", "did you mean 'JPY'"), ("usd", "did you mean 'USD'"), ("R$", "did you mean 'BRL'")],
)
def test_a_currency_that_is_not_a_code_names_the_file_and_the_code_meant(tmp_path, written, hint):
    params = _params(tmp_path, f"currency: '{written}'\n")
    with pytest.raises(ConfigError) as info:
        load_settings(params)
    message = str(info.value)
    assert message.startswith(f"{params / 'run.yaml'}: currency '{written}' is not an ISO 4217")
    assert hint in message


def test_the_currency_flag_wins_and_any_iso_code_is_accepted(tmp_path):
    from maops_utils.batch import cli

    params = _params(tmp_path, "currency: EUR\n")
    assert load_settings(params).currency == "EUR"
    args = cli.build_parser().parse_args(["run", "--params", str(params), "--currency", "CHF"])
    assert cli._settings(args).currency == "CHF"
    with pytest.raises(ConfigError, match="^command-line flag: currency 'dollars'"):
        load_settings(params, {"currency": "dollars"})


# ----------------------------------------------------------------------------- parse_as_of


def test_parse_as_of_without_offset_is_local():
    assert parse_as_of("2026-10-31 23:00", "Asia/Tokyo") == pd.Timestamp("2026-10-31 23:00")


def test_parse_as_of_with_offset_is_converted():
    ts = parse_as_of("2026-10-31T15:00:00Z", "Asia/Tokyo")
    assert ts == pd.Timestamp("2026-11-01 00:00") and ts.tzinfo is None
    assert parse_as_of("2026-10-31T09:00:00+09:00", "Europe/Berlin") == pd.Timestamp(
        "2026-10-31 01:00"
    )


def test_parse_as_of_empty_is_none_and_garbage_is_error():
    assert parse_as_of("", "Asia/Tokyo") is None
    with pytest.raises(ConfigError, match="not a timestamp"):
        parse_as_of("next tuesday", "Asia/Tokyo")


# ------------------------------------------------------------------ check_month / project_root


def test_check_month():
    assert check_month("2026-10") == "2026-10"
    with pytest.raises(ConfigError, match="--month: '2026-13'"):
        check_month("2026-13", "--month")
    with pytest.raises(ConfigError):
        check_month(202610)  # type: ignore[arg-type]


def test_project_root_finds_the_nearest_workspace(tmp_path):
    proj = tmp_path / "proj"
    _params(tmp_path, "")  # tmp_path/proj/params/run.yaml; no pyproject.toml: a workspace
    deep = proj / "notebooks" / "sub"
    deep.mkdir(parents=True)
    assert project_root(deep) == proj.resolve()
    assert project_root(proj) == proj.resolve()
    # a params/ folder without run.yaml is not a settings folder: the search goes on up
    (deep / "params").mkdir()
    assert project_root(deep) == proj.resolve()


def test_project_root_not_found_is_error(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "PACKAGE_DIR", tmp_path / "pkg" / "maops_utils")
    with pytest.raises(ConfigError, match="cannot find a maops workspace") as info:
        project_root(tmp_path)
    assert "maops init DIR" in str(info.value) and "--params DIR/params" in str(info.value)


def test_engine_spark_is_accepted(tmp_path):
    params = _params(tmp_path, "engine: spark\nspark_master: local[2]\n")
    s = load_settings(params, {})
    assert (s.engine, s.spark_master) == ("spark", "local[2]")
    assert load_settings(params, {"engine": "duckdb"}).engine == "duckdb"  # a flag wins


def test_unknown_engine_names_the_file_and_the_engines(tmp_path):
    params = _params(tmp_path, "engine: postgres\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(params, {})
    message = str(exc.value)
    assert str(params / "run.yaml") in message
    assert "engine 'postgres' is not supported" in message and "duckdb, spark" in message
    run_file = tmp_path / "spark.yaml"
    run_file.write_text("engine: Spark\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{run_file.name}: engine 'Spark'.*duckdb, spark"):
        load_settings(params, {}, run_file=run_file)  # the run file names the engine last


def test_prepare_ahead_is_auto_by_default_and_checked(tmp_path):
    params = _params(tmp_path, "")
    assert load_settings(params, {}).prepare_ahead == "auto"
    assert load_settings(params, {"prepare_ahead": "never"}).prepare_ahead == "never"
    params = _params(tmp_path / "yes", "prepare_ahead: on\n")  # YAML reads `on` as true
    with pytest.raises(ConfigError, match=r"prepare_ahead 'True' is not supported.*auto, always"):
        load_settings(params, {})


@pytest.mark.parametrize(
    "setting, leads, activities, started",
    [
        ("auto", 5_000, 90_000, False),  # the sample: its start would cost more than it saves
        ("auto", 200_000, 0, True),
        ("auto", 1_000, 5_000_000, True),
        ("always", 10, 10, True),
        ("never", 10**7, 10**8, False),
    ],
)
def test_prepare_ahead_auto_starts_the_process_for_large_inputs(
    setting, leads, activities, started
):
    from maops_utils.speed.ahead import worth_it

    assert worth_it(setting, leads, activities) is started
