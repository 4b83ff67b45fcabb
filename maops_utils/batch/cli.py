"""The `maops` command line (also `python -m maops_utils`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import __version__
from ..core.errors import EXIT_INPUT, MaopsError, Terminated


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--params",
        dest="params_dir",
        type=Path,
        help="folder of the YAML settings (default: ./params)",
    )
    p.add_argument(
        "--config", dest="run_file", type=Path, help="a run file (YAML) overriding params/run.yaml"
    )
    p.add_argument(
        "--data", dest="data_dir", help="dataset folder in data contract v1 (default: data/sample)"
    )
    p.add_argument("--timezone", help="time zone the timestamps are read in (default: Asia/Tokyo)")
    p.add_argument("--encoding", help="CSV encoding: auto, utf-8 or cp932 (default: auto)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="maops",
        description="Monthly marketing-automation reports from a dataset in data contract v1.",
    )
    parser.add_argument("--version", action="version", version=f"maops {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "run",
        help="run the monthly batch and write reports/YYYY-MM/",
        description="Validate the data, execute the report notebooks with papermill, render "
        "self-contained HTML and publish reports/YYYY-MM/ (only when every notebook succeeded). "
        "Settings come from params/run.yaml, then --config, then these flags.",
        epilog="exit codes: 0 published; 1 a notebook failed or personal data was found "
        "(nothing published, the previous report kept); 2 bad input or settings.",
    )
    _common(p)
    p.add_argument(
        "--month", help="month to report, YYYY-MM (default: the last complete month in the data)"
    )
    p.add_argument("--out", dest="out_dir", help="reports folder (default: reports)")
    p.add_argument(
        "--notebooks",
        help="comma-separated notebook names in notebooks/, without .ipynb "
        "(default: the list in params/run.yaml)",
    )
    p.add_argument(
        "--products",
        nargs="?",
        const="all",
        help="also one report per product, for notebooks with a `product` parameter: "
        "comma-separated codes, or no value for every product (default: whole business only)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="notebooks executed at once, each in its own kernel (default: 1)",
    )
    p.add_argument("--locale", choices=("ja", "en"), help="report language (default: ja)")
    p.add_argument(
        "--currency",
        help="ISO 4217 code of the amounts (opportunity amounts, campaign costs): JPY, USD, "
        "EUR, BRL, ... (default: JPY)",
    )
    p.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        help="where the metric and funnel SQL runs: duckdb in this process or Apache Spark "
        "(default: duckdb; docs/scale.md)",
    )
    p.add_argument(
        "--spark-master",
        metavar="URL",
        help="the Spark to use with --engine spark: local[N], local[*], spark://host:7077, yarn, "
        "k8s://https://host:443 or sc://host:15002 (default: local[*])",
    )
    p.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="where validated activities are kept between runs, reused while the input is "
        "unchanged (default: OUT/.cache; docs/scale.md)",
    )
    p.add_argument(
        "--no-cache",
        dest="cache_dir",
        action="store_const",
        const="off",
        help="validate every input from scratch and keep nothing between runs",
    )
    p.add_argument(
        "--history-dir",
        metavar="DIR",
        help="where each month's lead scores are kept for later runs' score health, never "
        "inside a month's report folder (default: OUT/.history; docs/scoring.md)",
    )
    p.add_argument(
        "--no-history",
        dest="history_dir",
        action="store_const",
        const="off",
        help="keep no history of the scores (earlier months are computed from the data)",
    )
    p.add_argument(
        "--prepare-ahead",
        choices=("auto", "always", "never"),
        help="compute the 名寄せ pairs and the scoring points in a process of their own while "
        "the notebooks that need neither run, when a cache is kept: auto does it for large "
        "inputs (200,000 leads or 5,000,000 activities; default: auto; docs/scale.md)",
    )
    p.add_argument(
        "--show-code",
        action="store_true",
        default=None,
        help="keep code cells in the HTML (default: hidden)",
    )
    p.add_argument(
        "--include-pii",
        action="store_true",
        help="allow personal data (e-mail addresses) in the shared files; without it a run "
        "that would show any is not published (default: off)",
    )
    p.add_argument("--as-of", help="run time in local time, for reproducible runs (default: now)")

    p = sub.add_parser("validate", help="check a dataset against the data contract")
    _common(p)

    p = sub.add_parser("sample", help="generate the synthetic sample dataset")
    p.add_argument("--out", required=True, type=Path, help="folder to write the CSV tables to")
    p.add_argument("--leads", type=int, default=None, help="number of leads")
    p.add_argument("--months", type=int, default=24, help="number of months (default: 24)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    p.add_argument(
        "--end-month", help="last month of data, YYYY-MM (default: the last complete month)"
    )
    p.add_argument(
        "--parquet",
        default="activities",
        help="comma-separated tables to write as Parquet instead of CSV; 'all' or 'none' "
        "(default: activities, the bulk table)",
    )
    p.add_argument(
        "--partition-months",
        default="",
        metavar="TABLES",
        help="comma-separated tables to write as Hive-partitioned Parquet folders instead, "
        "<out>/<table>/month=YYYY-MM/part-0.parquet, by the month of the table's time column "
        "as generated (e.g. activities; default: none, one file per table)",
    )
    p = sub.add_parser(
        "init",
        help="create a company's workspace: its settings, no targets, the codes of its data",
        description="Create a workspace in DIR (a new or empty folder): params/ with maops's "
        "defaults and no targets, the currency, language and time zone chosen, the product and "
        "channel codes of --data listed in params/labels.yaml to be named, and a README of the "
        "next steps (import, validate, run). `maops run` inside DIR, or with --params "
        "DIR/params from anywhere, then reports with these settings.",
    )
    p.add_argument("dir", type=Path, metavar="DIR", help="the workspace folder to create")
    p.add_argument(
        "--data",
        type=Path,
        help="a dataset in data contract v1 (the workspace reads it where it is), or with "
        "--source a vendor's export (to import into DIR/data): its codes are listed "
        "(default: none; the README says how to add the data)",
    )
    p.add_argument(
        "--source",
        help="the vendor whose export --data is: eloqua, marketo, hubspot, salesforce "
        "(default: --data is a dataset)",
    )
    p.add_argument("--mapping", type=Path, help="a mapping file for an export of another layout")
    p.add_argument(
        "--currency", default="JPY", help="ISO 4217 code of the data's amounts (default: JPY)"
    )
    p.add_argument(
        "--locale",
        "--lang",
        choices=("ja", "en"),
        default="ja",
        help="report language (default: ja)",
    )
    p.add_argument(
        "--timezone", default="Asia/Tokyo", help="time zone of the data (default: Asia/Tokyo)"
    )
    from .importing import add_parser as add_import_parser

    add_import_parser(sub)
    return parser


def _settings(args: argparse.Namespace):
    from .config import load_settings, project_root

    params_dir = (args.params_dir or project_root() / "params").resolve()
    overrides = {
        key: getattr(args, key, None)
        for key in (
            "data_dir",
            "out_dir",
            "month",
            "timezone",
            "encoding",
            "locale",
            "currency",
            "notebooks",
            "show_code",
            "engine",
            "spark_master",
            "cache_dir",
            "history_dir",
            "prepare_ahead",
        )
    }
    cwd = Path.cwd()
    for key in ("data_dir", "out_dir", "cache_dir", "history_dir"):
        # a path typed on the command line is relative to where it was typed
        if overrides.get(key) and overrides[key] != "off":
            overrides[key] = (cwd / overrides[key]).resolve()
    return load_settings(params_dir, overrides, run_file=args.run_file)


def _summary(results) -> str:
    rows = [("notebook", "product", "status", "seconds", "output")]
    rows += [
        (r.name, r.product or "-", r.status, f"{r.seconds:.1f}", str(r.output)) for r in results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row))
        for row in rows
    )


def _cmd_run(args: argparse.Namespace) -> int:
    from ..core.settings import parse_as_of

    settings = _settings(args)
    from .runner import NotebookFailed, run

    products = None
    if args.products:
        products = (
            []
            if args.products == "all"
            else [p.strip() for p in args.products.split(",") if p.strip()]
        )
    try:
        result = run(
            settings,
            as_of=parse_as_of(args.as_of or "", settings.timezone),
            products=products,
            jobs=args.jobs,
            include_pii=args.include_pii,
        )
    except NotebookFailed as exc:
        if exc.results:
            print(_summary(exc.results))
        raise
    print(_summary(result.notebooks))
    print(result.index_html)
    return 0


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])), row[-1]])
        for row in rows
    )


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..contract.imported import import_zone
    from ..contract.load import load_dataset
    from ..core.settings import parse_as_of

    settings = _settings(args)
    now = parse_as_of("", settings.timezone)
    dataset = load_dataset(
        settings.data_dir, timezone=settings.timezone, encoding=settings.encoding, as_of=now
    )
    rows = [("table", "rows", "encoding", "file")]
    rows += [
        (name, str(src["rows"]), str(src["encoding"]), str(src["path"]))
        for name, src in dataset.sources.items()
    ]
    print(_table(rows))
    recorded = import_zone(Path(settings.data_dir))
    print(
        f"timestamps read in {settings.timezone}"
        + (f", the zone {recorded.path} records" if recorded else "")
    )
    print()
    if not dataset.findings:
        print("OK: the dataset satisfies data contract v1 (no findings).")
        return 0
    rows = [("severity", "table", "column", "rows", "finding")]
    rows += [
        (f.severity, f.table, f.column or "-", str(f.count), f.message) for f in dataset.findings
    ]
    print(_table(rows))
    print()
    for f in dataset.findings:
        if f.examples or f.action:
            print(
                f"{f.table}.{f.column or '*'}: "
                + "; ".join(f.examples)
                + (f"  -> {f.action}" if f.action else "")
            )
    print(
        f"\n{len(dataset.findings)} finding(s): the rows named are left out of the reports; "
        "nothing is fatal."
    )
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from ..core.errors import ConfigError
    from ..tools.sample import generate_sample, write_sample

    kwargs = {"months": args.months, "seed": args.seed, "end_month": args.end_month}
    if args.leads is not None:
        kwargs["leads"] = args.leads
    tables = generate_sample(**kwargs)
    choice = [t.strip() for t in args.parquet.split(",") if t.strip()]
    parquet = tuple(tables) if choice == ["all"] else () if choice == ["none"] else tuple(choice)
    unknown = [t for t in parquet if t not in tables]
    if unknown:
        raise ConfigError(
            f"--parquet: unknown table(s) {', '.join(unknown)}; use {', '.join(tables)}, all or none"
        )
    months = [t.strip() for t in args.partition_months.split(",") if t.strip()]
    for path in write_sample(tables, args.out, parquet=parquet, partition_months=months):
        print(path)
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from .workspace import init_workspace

    written = init_workspace(
        args.dir,
        data=args.data,
        source=args.source,
        mapping=args.mapping,
        currency=args.currency,
        locale=args.locale,
        timezone=args.timezone,
    )
    for path in written:
        print(path)
    print(f"created the workspace {args.dir}; next steps: {args.dir / 'README.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from .importing import run as _cmd_import

    handler = {
        "run": _cmd_run,
        "validate": _cmd_validate,
        "sample": _cmd_sample,
        "import": _cmd_import,
        "init": _cmd_init,
    }[args.command]
    try:
        return handler(args)
    except MaopsError as exc:
        print(f"maops {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"maops {args.command}: interrupted; nothing was published", file=sys.stderr)
        return 130
    except Terminated as exc:
        print(
            f"maops {args.command}: stopped by {exc}; nothing half-built was left behind",
            file=sys.stderr,
        )
        return exc.exit_code
    except OSError as exc:
        print(
            f"maops {args.command}: error: {exc.strerror or exc}: {exc.filename or ''}",
            file=sys.stderr,
        )
        return EXIT_INPUT


if __name__ == "__main__":
    sys.exit(main())
