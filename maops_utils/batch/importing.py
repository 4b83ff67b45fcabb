"""`maops import SOURCE --src DIR --out DIR [--mapping FILE]`: the command-line entry."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.errors import ConfigError, Terminated
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
    with _stopping_raises():
        return _run(args)


@contextmanager
def _stopping_raises() -> Iterator[None]:
    """SIGTERM (and SIGHUP, a closed terminal) raise `Terminated` for the block, as Ctrl-C
    raises KeyboardInterrupt: the import's staging folder, which holds personal data, is
    then removed on the way out instead of left behind by the default action, an immediate
    exit. A SIGHUP ignored on purpose (nohup) stays ignored."""

    def stop(signum: int, frame: object) -> None:
        for sig in previous:  # a second signal must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        raise Terminated(signum, signal.Signals(signum).name)

    previous = {}
    if threading.current_thread() is threading.main_thread():  # the only one signals reach
        for sig in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                previous[sig] = signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..importers import import_exports, load_mapping, remove_leftovers, write_import
    from .config import load_settings, project_root

    params_dir = (args.params_dir or project_root() / "params").resolve()
    settings = load_settings(params_dir, {"timezone": args.timezone})
    configured = load_settings(params_dir).timezone  # what a run reads in without --timezone
    # first: an import that fails on its exports still removes what killed ones left
    remove_leftovers(args.out, log=print)
    mapping = load_mapping(args.source, args.mapping, mappings_dir=mappings_dir(params_dir))
    if args.encoding:
        from ..contract.files import ENCODINGS

        if args.encoding not in ENCODINGS:
            raise ConfigError(f"--encoding: '{args.encoding}' is not one of {', '.join(ENCODINGS)}")
        mapping = replace(mapping, encoding=args.encoding)
    result = import_exports(args.src, mapping, timezone=settings.timezone)
    dataset = write_import(result, args.out, dedupe=args.dedupe, log=print)
    print(f"{'table':<14} {'rows':>9}  files")
    for row in result.summary().itertuples():
        print(f"{row.table:<14} {row.rows:>9}  {row.files}")
    for f in result.findings + dataset.findings:
        print(f"{f.severity}: {f.describe()}")
    print(
        f"wrote {Path(args.out)} (data contract v1, timestamps in {settings.timezone}); check "
        f"it with: maops validate --data {args.out}"
        + ("" if settings.timezone == configured else f" --timezone {settings.timezone}")
    )
    return 0
