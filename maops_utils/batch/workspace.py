"""A company's own workspace: the folder holding its `params/` (and, if it wants, notebooks of
its own), where a run finds its notebooks, and `maops init`, which creates one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from ..core import io
from ..core.errors import ConfigError
from ..core.settings import RunSettings, shipped
from .config import check_settings

_NOTEBOOK_NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.-]*")  # a file name, never a path


def notebook_dirs(params_dir: Path) -> list[Path]:
    """Where a run looks for its notebooks, first match wins: the workspace's own
    `notebooks/` (a notebook there replaces the shipped one of the same name), then the
    notebooks maops ships. In a source checkout the two are one folder."""
    own = params_dir.resolve().parent / "notebooks"
    ours = shipped("notebooks").resolve()
    return [own] if own == ours else [own, ours]


def find_notebook(name: str, params_dir: Path) -> Path:
    """The notebook `name` (a file name without .ipynb) a run executes, or an error listing
    the notebooks there are and the folders looked in."""
    folders = notebook_dirs(params_dir)
    if _NOTEBOOK_NAME.fullmatch(name):
        for folder in folders:
            if (folder / f"{name}.ipynb").is_file():
                return folder / f"{name}.ipynb"
    known = sorted({p.stem for folder in folders for p in folder.glob("[0-9]*.ipynb")})
    raise ConfigError(
        f"notebook '{name}' not found in {' or '.join(str(f) for f in folders)} "
        f"(available: {', '.join(known)}); list notebooks by file name without .ipynb"
    )


def kernel_dir(params_dir: Path) -> Path:
    """The working folder of a run's kernels: the workspace's own `notebooks/`, where a
    notebook of its own reads files beside it, else the workspace. The shipped notebooks
    depend on none: the run passes them the settings folder."""
    root = params_dir.resolve().parent
    own = root / "notebooks"
    return own if own.is_dir() else root


# ---------------------------------------------------------------- maops init

# the sections of labels.yaml, the tables and column each lists the codes of, and what a
# count of them is in the comment beside each code
_CODE_COLUMNS = {
    "products": (("leads", "product", "leads"), ("opportunities", "product", "opportunities")),
    "lead_sources": (("leads", "lead_source", "leads"),),
}
# sections init leaves empty: maops names the contract's activity types itself, and the
# categories are in the activities, a table too large to read for a list of names
_EMPTY_SECTIONS = ("activity_types", "activity_categories")


def scored_attributes() -> list[str]:
    """The lead attributes the shipped scoring model gives points to by their values: not
    the numbers it bands, nor the product and channel, which have sections of their own."""
    from ..reports.scoring.model import load_config

    config = load_config(shipped("params"))
    numeric = {r.attribute for r in config.current.profile if r.numeric}
    numeric |= {a for a, _ in config.proposal.bands}
    named = [r.attribute for r in config.current.profile] + list(config.proposal.profile)
    own = ("product", "lead_source")
    return [a for a in dict.fromkeys(named) if a not in numeric and a not in own]


def found_codes(
    data: Path,
    *,
    source: str | None = None,
    mapping: Path | None = None,
    timezone: str = "Asia/Tokyo",
) -> dict[str, dict[str, dict[str, int]]]:
    """The product and channel codes of a dataset (or, with `source`, of a vendor's export as
    its import would write them), and the values of the leads' `scored_attributes`:
    section -> code -> {table: rows}, codes sorted; an attribute's section is
    `attributes.<attribute>`."""
    tables = _export_tables(data, source, mapping, timezone) if source or mapping else None
    if tables is None:
        tables = _dataset_tables(data)
    columns_of = dict(_CODE_COLUMNS)
    for attribute in scored_attributes():
        columns_of[f"attributes.{attribute}"] = (("leads", attribute, "leads"),)
    found: dict[str, dict[str, dict[str, int]]] = {}
    for section, columns in columns_of.items():
        codes: dict[str, dict[str, int]] = {}
        for table, column, noun in columns:
            frame = tables.get(table)
            if frame is None or column not in frame.columns:
                continue
            values = frame[column].astype("string").str.strip()
            for code, rows in values[values.notna() & (values != "")].value_counts().items():
                codes.setdefault(str(code), {})[noun] = int(rows)
        found[section] = dict(sorted(codes.items()))
    return found


def _dataset_tables(data: Path) -> dict[str, pd.DataFrame]:
    """The leads and opportunities of a dataset in data contract v1, as written (no check:
    `maops validate` does that)."""
    from ..contract.files import locate_tables, read_raw_table

    located = locate_tables(data)
    if "leads" not in located:
        raise ConfigError(
            f"--data: {data} holds no leads table of data contract v1 (leads.csv, leads.parquet "
            "or leads/); if it is a vendor's export, name the vendor: --source eloqua, "
            "marketo, hubspot or salesforce (or --mapping FILE for another layout)"
        )
    return {
        name: read_raw_table(name, located[name]).frame
        for name in ("leads", "opportunities")
        if name in located
    }


def _export_tables(
    data: Path, source: str | None, mapping: Path | None, timezone: str
) -> dict[str, pd.DataFrame]:
    """The contract tables a vendor's export imports as, read in memory (nothing written)."""
    from ..importers import import_exports, load_mapping
    from ..importers.mapping import PACKAGE_PARAMS

    name = source or (mapping.stem if mapping else "")
    result = import_exports(
        data, load_mapping(name, mapping, mappings_dir=PACKAGE_PARAMS), timezone=timezone
    )
    return result.tables


def _yaml_text(value: str) -> str:
    """A string as a YAML scalar that reads back as that string (a code 1, no or 2026-01
    would read as a number, false or a date unquoted)."""
    return json.dumps(value, ensure_ascii=False)


def _set_value(text: str, key: str, value: str) -> str:
    """`text` (run.yaml) with `key:`'s value replaced, its comment kept in its column."""
    pattern = re.compile(rf"(?m)^{key}:( *)(\S*)( *)(#.*)?$")
    match = pattern.search(text)
    if match is None:  # the shipped run.yaml names every setting init writes
        raise ValueError(f"run.yaml has no '{key}:' line")
    width = len(match.group(1) + match.group(2) + match.group(3))
    shown = f" {value}"
    line = f"{key}:{shown}"
    if match.group(4):
        line += " " * max(width - len(shown), 1) + match.group(4)
    return text[: match.start()] + line + text[match.end() :]


def _run_yaml(data_dir: str, currency: str, locale: str, timezone: str) -> str:
    shipped_text = (shipped("params") / "run.yaml").read_text(encoding="utf-8")
    body = shipped_text[re.search(r"(?m)^[a-z_]+:", shipped_text).start() :]
    for key, value in (
        ("data_dir", _yaml_text(data_dir)),
        ("out_dir", "reports"),
        ("timezone", timezone),
        ("locale", locale),
        ("currency", currency),
    ):
        body = _set_value(body, key, value)
    return (
        "# Run settings of this workspace (`maops run` here, or `maops run --params "
        "<this folder>/params`).\n"
        "# Precedence (lowest first): notebook defaults < this file < a run file (--config) < "
        "command-line flags.\n"
        "# Relative paths are relative to this workspace.\n\n" + body
    )


def _labels_yaml(codes: dict[str, dict[str, dict[str, int]]] | None, data: str) -> str:
    shipped_text = (shipped("params") / "labels.yaml").read_text(encoding="utf-8")
    header = shipped_text[: re.search(r"(?m)^[a-z_]+:", shipped_text).start()]
    empty = [*_CODE_COLUMNS, *_EMPTY_SECTIONS, "attributes"]
    if codes is None:
        return header + "".join(f"{section}: {{}}\n" for section in empty)
    lines = [
        header.rstrip("\n"),
        "#",
        f"# The codes found in {data}, with the rows holding each.",
        "",
    ]
    for section in _CODE_COLUMNS:
        lines += _code_lines(section, codes[section], "")
    lines += [f"{section}: {{}}" for section in _EMPTY_SECTIONS]
    attributes = {k.partition(".")[2]: v for k, v in codes.items() if k.startswith("attributes.")}
    if not any(attributes.values()):
        return "\n".join([*lines, "attributes: {}"]) + "\n"
    lines.append("attributes:")
    for attribute, values in attributes.items():
        lines += _code_lines(_yaml_text(attribute), values, "  ") if values else []
    return "\n".join(lines) + "\n"


def _code_lines(key: str, codes: dict[str, dict[str, int]], indent: str) -> list[str]:
    """`key:` and its codes to name, each with the rows holding it in a comment."""
    if not codes:
        return [f"{indent}{key}: {{}}"]
    lines = [f"{indent}{key}:"]
    for code, rows in codes.items():
        seen = ", ".join(f"{n:,} {noun}" for noun, n in rows.items())
        lines.append(f'{indent}  {_yaml_text(code)}: {{ja: "", en: ""}}  # {seen}')
    return lines


def _readme(target: Path, *, importing: str, codes: dict | None, s: dict) -> str:
    name = target.name
    products = ", ".join(codes["products"]) if codes and codes["products"] else ""
    steps = []
    if importing:
        steps.append(
            "Import the export into this workspace's `data/` (run here):\n\n"
            f"   ```bash\n   {importing}\n   ```"
        )
    elif not codes:
        steps.append(
            "Put your dataset in `data/` (one file per table, data contract v1), or import "
            "a vendor's export there:\n\n"
            "   ```bash\n   maops import hubspot --src path/to/export --out data   "
            "# or eloqua, marketo, salesforce; --mapping FILE for another layout\n   ```\n\n"
            "   Then, in `params/labels.yaml`, list your product and channel codes."
        )
    steps.append(
        "Check the data against the contract (from this folder):\n\n"
        "   ```bash\n   maops validate\n   ```"
    )
    steps.append(
        "Set your monthly targets in `params/kpis.yaml` (none are set: the reports show "
        "values without a status), for the whole business (`ALL`)"
        + (f" and per product ({products})" if products else " and per product code")
        + ", and name your codes in `params/labels.yaml` (the glossary lists them)."
    )
    steps.append(
        "Run the monthly reports:\n\n"
        "   ```bash\n   maops run                       # from this folder\n"
        f"   maops run --params {target / 'params'}   # from anywhere\n   ```\n\n"
        "   and open `reports/YYYY-MM/index.html`."
    )
    numbered = "\n\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1))
    return f"""# {name}: maops workspace

The settings of {name}'s monthly marketing reports, made by `maops init`:

| file | what it holds |
|---|---|
| `params/run.yaml` | where the data is (`data_dir`: {s["data_dir"]}), the reports (`reports/`), currency {s["currency"]}, report language {s["locale"]}, time zone {s["timezone"]} |
| `params/kpis.yaml` | the KPI catalogue and your targets: none yet |
| `params/labels.yaml` | what your codes mean: products, channels, activity categories, the values of the lead attributes the scoring reads{" (the codes found in the data, names to fill in)" if codes else ""} |
| `params/funnel.yaml`, `params/scoring.yaml` | the funnel's definitions and your MA tool's scoring model: maops's defaults, to adjust |

## Next steps

{numbered}

## Notebooks

The reports are the notebooks maops ships. To change one, copy it into a `notebooks/` folder
here: a notebook in `notebooks/` replaces the shipped one of the same name. A report of your
own goes there too, its name added to `notebooks:` in `params/run.yaml`.
"""


def init_workspace(
    target: Path,
    *,
    data: Path | None = None,
    source: str | None = None,
    mapping: Path | None = None,
    currency: str = "JPY",
    locale: str = "ja",
    timezone: str = "Asia/Tokyo",
) -> list[Path]:
    """Create a workspace in `target` (a new or empty folder): its settings with no targets,
    the currency, language and time zone chosen, the product and channel codes of `data` (a
    dataset, or with `source`/`mapping` a vendor's export) listed to be named, and a README
    of the next steps. Everything is checked and read before the first file is written.
    Returns the files written."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file: maops init creates a workspace folder")
    if target.is_dir() and any(target.iterdir()):
        held = sorted(p.name for p in target.iterdir())
        raise ConfigError(
            f"{target} is not empty (it holds {', '.join(held[:5])}{', ...' if len(held) > 5 else ''}): "
            "maops init writes a new workspace into a new or empty folder and never over "
            "files; choose another folder"
        )
    if (source or mapping) and data is None:
        raise ConfigError("--source and --mapping read the export in --data: give --data DIR")
    exported = bool(source or mapping)
    data_dir = "data" if data is None or exported else str(Path(data).resolve())
    flags = {"currency": "--currency", "locale": "--locale", "timezone": "--timezone"}
    check_settings(
        RunSettings(
            data_dir=Path(data_dir),
            out_dir=target / "reports",
            params_dir=target / "params",
            currency=currency,
            locale=locale,
            timezone=timezone,
        ),
        {key: f"{flag} flag" for key, flag in flags.items()},
        "maops init",
    )
    codes = None
    if data is not None:
        data = Path(data).resolve()  # the README's commands run in the workspace
        codes = found_codes(data, source=source, mapping=mapping, timezone=timezone)
    importing = ""  # the command that imports the export into the workspace
    if exported:
        importing = f"maops import {source or mapping.stem} --src {data} --out data"
        importing += f" --mapping {mapping}" if mapping else ""
    chosen = {"data_dir": data_dir, "currency": currency, "locale": locale, "timezone": timezone}
    files = {
        "params/run.yaml": _run_yaml(data_dir, currency, locale, timezone),
        "params/labels.yaml": _labels_yaml(codes, str(data)),
        "README.md": _readme(target.resolve(), importing=importing, codes=codes, s=chosen),
    }
    for name in ("kpis.yaml", "funnel.yaml", "scoring.yaml"):
        files[f"params/{name}"] = (shipped("params") / name).read_text(encoding="utf-8")
    return [io.write_text(text, target / name) for name, text in files.items()]
