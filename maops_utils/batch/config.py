"""Run settings and the KPI catalogue from `params/`, checked when they are loaded."""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

from ..contract.files import ENCODINGS
from ..core.errors import ConfigError, suggest
from ..core.i18n import CURRENCIES
from ..core.io import load_yaml
from ..core.months import MONTH_RE, check_month
from ..core.settings import ENGINES, LOCALES, PREPARE_AHEAD, SPARK_MASTER_RE, RunSettings

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def project_root(start: Path | None = None) -> Path:
    """The workspace: the nearest folder, from `start` (default: the working folder) up,
    holding `params/run.yaml`, a company's own (`maops init`) or the source checkout. From
    elsewhere, a source checkout's own; an installed package has none to fall back on."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "run.yaml").is_file():
            return folder
    fallback = PACKAGE_DIR.parent
    if (fallback / "params" / "run.yaml").is_file():
        return fallback
    raise ConfigError(
        f"cannot find a maops workspace (a folder holding params/run.yaml) in {here} or above; "
        "create one with `maops init DIR`, then run from inside DIR or pass --params DIR/params"
    )


# what people write for a currency instead of its code
_CURRENCY_NAMES = {
    "YEN": "JPY",
    "円": "JPY",
    "¥": "JPY",
    "$": "USD",
    "DOLLAR": "USD",
    "€": "EUR",
    "EURO": "EUR",
    "REAL": "BRL",
    "R$": "BRL",
    "£": "GBP",
}


def _currency_hint(value: str) -> str:
    named = _CURRENCY_NAMES.get(value.strip().upper())
    return f"; did you mean '{named}'?" if named else suggest(value.upper(), list(CURRENCIES))


_SETTING_NAMES = [f.name for f in fields(RunSettings) if f.name != "params_dir"]


def check_settings(s: RunSettings, origin: dict[str, str], default: str) -> RunSettings:
    """Each value checked, an error naming where that value came from (`origin`: a file,
    the command line, a notebook parameter; `default` for those set nowhere)."""

    def source(key: str) -> str:
        return origin.get(key, default)

    if s.month is not None:
        check_month(s.month, f"{source('month')}: month")
    if s.locale not in LOCALES:
        raise ConfigError(
            f"{source('locale')}: locale '{s.locale}' is not supported; use one of {', '.join(LOCALES)}"
        )
    if not isinstance(s.currency, str) or not re.fullmatch(r"[A-Z]{3}", s.currency):
        # every amount in the reports is written in it: a typo would print a wrong sign
        raise ConfigError(
            f"{source('currency')}: currency '{s.currency}' is not an ISO 4217 code; write the "
            f"three capital letters of your amounts' currency, e.g. {', '.join(CURRENCIES)}"
            f"{_currency_hint(str(s.currency))}"
        )
    if s.encoding not in ENCODINGS:
        raise ConfigError(
            f"{source('encoding')}: encoding '{s.encoding}' is not supported; use one of {', '.join(ENCODINGS)}"
        )
    try:
        pd.Timestamp("2020-01-01").tz_localize(s.timezone)
    except Exception:
        raise ConfigError(
            f"{source('timezone')}: timezone '{s.timezone}' is not a known time zone (e.g. Asia/Tokyo)"
        ) from None
    if not isinstance(s.trend_months, int) or not 1 <= s.trend_months <= 120:
        raise ConfigError(
            f"{source('trend_months')}: trend_months must be a whole number from 1 to 120"
        )
    if s.engine not in ENGINES:
        raise ConfigError(
            f"{source('engine')}: engine '{s.engine}' is not supported; use one of {', '.join(ENGINES)}"
            f"{suggest(str(s.engine), list(ENGINES))}"
        )
    if s.prepare_ahead not in PREPARE_AHEAD:
        raise ConfigError(
            f"{source('prepare_ahead')}: prepare_ahead '{s.prepare_ahead}' is not supported; use one of "
            f"{', '.join(PREPARE_AHEAD)}{suggest(str(s.prepare_ahead), list(PREPARE_AHEAD))}"
        )
    if not isinstance(s.spark_master, str) or not SPARK_MASTER_RE.match(s.spark_master):
        raise ConfigError(
            f"{source('spark_master')}: spark_master '{s.spark_master}' is not a Spark master; use local[*], "
            "local[4], spark://host:7077, yarn, k8s://https://host:443 or a Spark Connect URL "
            "sc://host:15002"
        )
    return s


def load_settings(
    params_dir: Path,
    overrides: dict[str, Any] | None = None,
    *,
    run_file: Path | None = None,
    root: Path | None = None,
    overrides_from: str = "command-line flag",
) -> RunSettings:
    """Settings from `params/run.yaml`, then a run file, then `overrides` (CLI flags or
    notebook parameters, as `overrides_from` says; None = unset).

    `params/run.yaml` must exist: without it a run would silently report without targets or
    with another project's data. Relative paths are resolved against the project folder
    `root`, whichever file or flag gave them.
    """
    root = root or params_dir.resolve().parent
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    run_yaml = params_dir / "run.yaml"
    if not run_yaml.is_file():
        raise ConfigError(
            f"{run_yaml} does not exist: {params_dir} is not a maops settings folder; point "
            "params_dir (--params on the command line, -p params_dir for papermill) at the "
            "project's params/ folder, or copy params/ from the project"
        )
    for path in [run_yaml, *([run_file] if run_file else [])]:
        if not path.is_file():
            raise ConfigError(f"run file '{path}' does not exist")
        data = load_yaml(path)
        for key, value in data.items():
            if key not in _SETTING_NAMES:
                raise ConfigError(
                    f"{path}: unknown setting '{key}'{suggest(str(key), _SETTING_NAMES)}"
                )
            if value is None and key != "month":
                continue  # `key:` left empty means "use the default"
            values[key] = value
            origin[key] = str(path)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            origin[key] = overrides_from
    for key in ("data_dir", "out_dir"):
        if key in values:
            p = Path(str(values[key]))
            # `../../data/sample` from a workspace: named without its detour in every message
            values[key] = p if p.is_absolute() else Path(os.path.normpath(root / p))
    values.setdefault("data_dir", root / "data" / "sample")
    values.setdefault("out_dir", root / "reports")
    values["cache_dir"] = _cache_dir(values.get("cache_dir", ""), values["out_dir"], root)
    values["history_dir"] = _cache_dir(
        values.get("history_dir", ""), values["out_dir"], root, default=".history"
    )
    if "notebooks" in values:
        nbs = values["notebooks"]
        if isinstance(nbs, str):
            nbs = [n.strip() for n in nbs.split(",") if n.strip()]
        values["notebooks"] = tuple(str(n).removesuffix(".ipynb") for n in nbs)
    if "month" in values and values["month"] is not None:
        values["month"] = str(values["month"])
    try:
        settings = RunSettings(params_dir=params_dir, **values)
    except TypeError as exc:
        raise ConfigError(f"{run_file or run_yaml}: {exc}") from None
    _check_cache_dir(settings, origin, str(run_file or run_yaml))
    _check_history_dir(settings, origin, str(run_file or run_yaml))
    return check_settings(settings, origin, str(run_file or run_yaml))


def _on_data(folder: Path, data: Path) -> str | None:
    """What is wrong with writing in `folder` for a run that reads `data` (both resolved):
    that it is the data folder, lies inside it or holds it; None when it is apart."""
    if folder == data or data in folder.parents:
        return "is the data folder or lies inside it"
    if folder in data.parents:
        return "holds the data folder"
    return None


def _check_cache_dir(s: RunSettings, origin: dict[str, str], default: str) -> None:
    """Refuse a cache folder on the data: the cache writes its entries there and removes its
    old ones, so it must never share a folder with the inputs."""
    if s.cache_dir is None:
        return
    cache, data = Path(s.cache_dir).resolve(), Path(s.data_dir).resolve()
    problem = _on_data(cache, data)
    if problem is None:
        return
    where = origin.get("cache_dir", origin.get("data_dir", default))
    raise ConfigError(
        f"{where}: cache_dir {cache} {problem} ({data}): the cache writes and removes its "
        "entries there, and a run never writes among its inputs; choose another cache_dir "
        "(--cache-dir), or leave it empty for <out_dir>/.cache"
    )


def _check_history_dir(s: RunSettings, origin: dict[str, str], default: str) -> None:
    """Refuse a history folder on the data (a run never writes among its inputs) or inside a
    month's published folder (publishing replaces that folder whole)."""
    if s.history_dir is None:
        return
    history, data = Path(s.history_dir).resolve(), Path(s.data_dir).resolve()
    out = Path(s.out_dir).resolve()
    problem = _on_data(history, data)
    if problem is not None:
        problem = f"{problem} ({data}): a run never writes among its inputs"
    elif any(
        p.parent == out and MONTH_RE.fullmatch(p.name.removesuffix(".failed"))
        for p in [history, *history.parents]
    ):
        problem = (
            f"lies inside a month's report folder of {out}, which each run of that month "
            "replaces whole"
        )
    else:
        return
    where = origin.get("history_dir", origin.get("data_dir", default))
    raise ConfigError(
        f"{where}: history_dir {history} {problem}; choose another history_dir "
        "(--history-dir), or leave it empty for <out_dir>/.history"
    )


CACHE_OFF = ("off", "false", "no", "none")


def _cache_dir(value: Any, out_dir: Path, root: Path, *, default: str = ".cache") -> Path | None:
    """`cache_dir` (or `history_dir`, whose `default` folder is `.history`) as given: empty or
    true for `<out_dir>/<default>`, false or "off" for none."""
    if value is False or str(value).strip().lower() in CACHE_OFF:
        return None
    if value in ("", None, True):
        return Path(out_dir) / default
    p = Path(str(value))
    return p if p.is_absolute() else root / p


# What a notebook made from an older template says for "the project's params/"; it was
# resolved against the working folder, which is the project root under papermill.
_OLD_PARAMS_DEFAULT = "../params"


def notebook_settings(params_dir: str | Path = "", **given: Any) -> RunSettings:
    """Settings for a notebook: its parameters where set ("" means "take params/run.yaml").

    The project is found from the working folder (`project_root`): papermill run from the
    project root or from `notebooks/`, and JupyterLab, read the same settings. A relative
    path parameter (`params_dir`, `data_dir`, `cache_dir`, `history_dir`) is read from the project folder,
    as the paths in `params/run.yaml` are; an error names the parameter it came from.
    """
    where = "notebook parameter (papermill -p or the parameters cell)"
    if params_dir in ("", _OLD_PARAMS_DEFAULT):
        root = project_root()
        params = root / "params"
    else:
        params = Path(params_dir)
        if not params.is_absolute():
            params = project_root() / params
        params = params.resolve()
        root = params.parent
    overrides = {k: (None if v == "" else v) for k, v in given.items()}
    settings = load_settings(params, overrides, root=root, overrides_from=where)
    if not Path(settings.data_dir).is_dir():
        came_from = where if overrides.get("data_dir") else f"{params / 'run.yaml'}"
        raise ConfigError(
            f"{came_from}: data_dir: folder '{settings.data_dir}' does not exist or is not a folder; "
            f"a relative data_dir is read from the project folder {root}"
        )
    return settings
