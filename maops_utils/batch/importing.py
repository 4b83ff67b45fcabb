"""`maops import SOURCE --src DIR --out DIR [--mapping FILE]`: the command-line entry."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..core.errors import ConfigError
from ..importers.mapping import PACKAGE_PARAMS, available_sources


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Define the `import` sub-command on the `maops` parser's subparsers."""
    shipped = ", ".join(available_sources()) or "none"
    p = subparsers.add_parser(
        "import",
        help="turn vendor exports (Eloqua, Marketo, HubSpot, Salesforce, a mapping file) into a dataset",
        description=(
            "Read the export files in --src as SOURCE lays them out and write a dataset in "
            "data contract v1 to --out. SOURCE is one of "
            f"{shipped}, or any name with --mapping FILE (see docs/importers.md)."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help=f"{shipped}, or custom with --mapping")
    p.add_argument("--src", required=True, type=Path, help="folder holding the export files")
    p.add_argument("--out", required=True, type=Path, help="dataset folder to write")
    p.add_argument(
        "--mapping",
        type=Path,
        help="a mapping file (YAML); it may extend a vendor's (extends: hubspot)",
    )
    p.add_argument("--timezone", help="time zone of the dataset (default: params/run.yaml)")
    p.add_argument(
        "--encoding", help="force the CSV encoding: auto, utf-8 or cp932 (default: the mapping's)"
    )
    p.add_argument(
        "--dedupe",
        action="store_true",
        help="fill contact_id by 名寄せ (same person across and within sources)",
    )
    p.add_argument("--params", dest="params_dir", type=Path, help="folder of the YAML settings")
    return p


def mappings_dir(params_dir: Path) -> Path:
    """The settings folder's own `mappings/`, else the shipped ones: a workspace made by
    `maops init` has none, and imports with the vendors' mappings as maops ships them."""
    own = params_dir / "mappings"
    return own if own.is_dir() else PACKAGE_PARAMS


def run(args: argparse.Namespace) -> int:
    """Handle `maops import`; errors are `MaopsError`s for the CLI to print (exit code 2)."""
    from dataclasses import replace

    from ..importers import import_exports, load_mapping, write_import
    from .config import load_settings, project_root

    params_dir = (args.params_dir or project_root() / "params").resolve()
    settings = load_settings(params_dir, {"timezone": args.timezone})
    mapping = load_mapping(args.source, args.mapping, mappings_dir=mappings_dir(params_dir))
    if args.encoding:
        from ..contract.files import ENCODINGS

        if args.encoding not in ENCODINGS:
            raise ConfigError(f"--encoding: '{args.encoding}' is not one of {', '.join(ENCODINGS)}")
        mapping = replace(mapping, encoding=args.encoding)
    result = import_exports(args.src, mapping, timezone=settings.timezone)
    dataset = write_import(result, args.out, timezone=settings.timezone, dedupe=args.dedupe)
    print(f"{'table':<14} {'rows':>9}  files")
    for row in result.summary().itertuples():
        print(f"{row.table:<14} {row.rows:>9}  {row.files}")
    for f in result.findings + dataset.findings:
        print(f"{f.severity}: {f.describe()}")
    print(
        f"wrote {Path(args.out)} (data contract v1); check it with: maops validate --data {args.out}"
    )
    return 0
