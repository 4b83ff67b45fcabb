"""The rules of data contract v1: fatal problems raise `DataContractError`, everything else is a
`Finding` and the offending rows are left out, so one bad row never stops a monthly report."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from ..core.errors import DataContractError, Finding
from ..core.i18n import finding
from ..core.schema import (
    ACTIVITY_TYPES,
    ALL,
    OPPORTUNITY_STATUSES,
    STAGES,
    TABLES,
    UNKNOWN_SOURCE,
    Column,
    attribute_columns,
)
from . import events as stage_reports
from .dataset import BULK_CODE, BULK_TABLES, BULK_TIME, MAX_EXAMPLES, Dataset, isin
from .files import RawTable, ScanTable
from .numbers import NumbersRead
from .store import BulkTable, Problem, Store
from .values import (
    _absent,
    _blank,
    _columns,
    _examples,
    _may_repeat,
    _parse_numbers,
    _strings,
    _unknown_values,
    parse_timestamps,
)

# The rows that break a rule: a pandas mask over a small table, or a `Problem` DuckDB found
# in the bulk table (store.py). Each rule below is written once and takes either.
Rows = pd.Series | Problem


def _count(rows: Rows) -> int:
    return rows.count if isinstance(rows, Problem) else int(rows.sum())


class _Checker:
    def __init__(
        self,
        raw: dict[str, RawTable | ScanTable],
        timezone: str,
        as_of: pd.Timestamp | None,
        cached_findings: dict[str, list[Finding]],
    ):
        self.raw = raw
        self.cached_findings = cached_findings
        self.timezone = timezone
        self.as_of = as_of
        self.errors: list[Finding] = []
        self.findings: list[Finding] = []
        self.cut = False  # whether as_of left rows or values out

    def report(
        self,
        level: str,
        raw: RawTable | ScanTable,
        code: str,
        *,
        column: str = "",
        rows: Rows | None = None,
        **params: str | int,
    ) -> None:
        """A finding on table `raw`, worded by `code` and `params` (`i18n.finding`): an error
        stops the run, a warning is listed. `rows` gives its count and first examples (file
        position and raw value)."""
        count, examples = 0, []
        if isinstance(rows, Problem):
            show = bool(column) and column in _columns(raw)
            count = rows.count
            examples = [
                f"{raw.where(i)}: {str(v)[:60]!r}" if show else raw.where(i)
                for i, v in rows.examples[:MAX_EXAMPLES]
            ]
        elif rows is not None:
            assert isinstance(raw, RawTable)
            count, examples = int(rows.sum()), _examples(raw, rows, column or None)
        (self.errors if level == "error" else self.findings).append(
            finding(
                level,
                raw.name,
                code,
                file=str(raw.path),
                column=column,
                count=count,
                examples=examples,
                **params,
            )
        )

    # -- the rules shared by every table, whichever engine found the rows
    def unreadable_times(self, raw: RawTable | ScanTable, spec: Column, rows: Rows) -> None:
        """Values of a time column that no time format reads: fatal for a required column
        or a timestamp, an optional date is ignored."""
        n = _count(rows)
        if n and (spec.required or spec.kind == "timestamp"):
            self.report("error", raw, "unreadable_times", column=spec.name, rows=rows, n=n)
        elif n:
            self.report("warning", raw, "unreadable_dates", column=spec.name, rows=rows, n=n)

    def blank_required(self, raw: RawTable | ScanTable, spec: Column, rows: Rows) -> None:
        # Rows are kept: a lead without created_at still owns its activities, a deal without
        # an amount is still a deal. Such a value counts in no month or sum.
        n = _count(rows)
        if spec.required and n:
            effect = "time" if spec.kind == "timestamp" else "sum"
            if (raw.name, spec.name) == ("scores", "scored_at"):
                # a snapshot export: the score as it stood, at a time the file does not say
                effect = "snapshot"
            self.report(
                "warning", raw, f"blank_required_{effect}", column=spec.name, rows=rows, n=n
            )

    def empty_keys(self, raw: RawTable | ScanTable, key: str, rows: Rows) -> None:
        n = _count(rows)
        if n and TABLES[raw.name].column(key).required:
            self.report("error", raw, "empty_key", column=key, rows=rows, n=n)

    def duplicate_keys(self, raw: RawTable | ScanTable, key: str, n_keys: int, rows: Rows) -> None:
        if n_keys:
            self.report(
                "error",
                raw,
                "duplicate_key",
                column=key,
                rows=rows,
                n_keys=n_keys,
                n=_count(rows),
            )

    def reserved_product(self, raw: RawTable | ScanTable, rows: Rows) -> None:
        if _count(rows):
            self.report("error", raw, "reserved_product", column="product", rows=rows, all=ALL)

    def future(self, raw: RawTable | ScanTable, column: str, rows: Rows) -> None:
        """Rows dated after the run time: left out (a clock or time zone problem at the
        source, or an export taken after `as_of`)."""
        n = _count(rows)
        if n and self.as_of is not None:
            self.cut = True
            self.report(
                "warning",
                raw,
                "future",
                column=column,
                rows=rows,
                n=n,
                as_of=f"{self.as_of:%Y-%m-%d %H:%M}",
            )

    def orphans(self, raw: RawTable | ScanTable, noun: str, rows: Rows) -> None:
        n = _count(rows)
        if n:
            self.report("warning", raw, "orphans", column="lead_id", rows=rows, n=n, noun=noun)

    def unknown_codes(
        self,
        raw: RawTable | ScanTable,
        column: str,
        allowed: tuple[str, ...],
        noun: str,
        values: list[str],
        rows: Rows,
    ) -> None:
        n = _count(rows)
        if n:
            shown = ", ".join(sorted(values)[:MAX_EXAMPLES]) or "empty"
            self.report(
                "warning",
                raw,
                "unknown_codes",
                column=column,
                rows=rows,
                n=n,
                noun=noun,
                shown=shown,
                allowed=", ".join(allowed),
            )

    def ambiguous_numbers(self, raw: RawTable, column: str, read: NumbersRead) -> None:
        """A number column that reads two ways (`27245,67` beside `1,234`; `100.000` alone):
        fatal, since either reading could be a hundred or a thousand times wrong."""
        text = raw.frame[column].astype("string").str.strip()
        shown = text.isin(list(read.examples)).fillna(False)
        self.report(
            "error",
            raw,
            "ambiguous_numbers",
            column=column,
            rows=shown.astype(bool),
            ambiguous=read.ambiguous,
        )

    # -- structure
    def check_structure(self) -> None:
        for name, table in TABLES.items():
            if name not in self.raw:
                if table.required:
                    self.errors.append(
                        Finding(
                            "error",
                            name,
                            f"required table '{name}' is missing",
                            file=f"{name}.csv",
                            action=f"add {name}.csv or {name}.parquet to the data folder",
                        )
                    )
                continue
            raw = self.raw[name]
            self.errors.extend(getattr(raw, "problems", ()))  # found while reading the file
            cols = _columns(raw)
            dupes = sorted({c for c in cols if cols.count(c) > 1})
            if dupes:
                self.errors.append(
                    Finding(
                        "error", name, f"column(s) {dupes} appear more than once", str(raw.path)
                    )
                )
            for col in table.required_columns:
                if col not in cols:
                    close = difflib.get_close_matches(col, cols, n=1, cutoff=0.6)
                    close += [c for c in cols if c.lower() == col.lower() and c not in close]
                    hint = f"; did you mean '{close[0]}'?" if close else ""
                    self.errors.append(
                        Finding(
                            "error",
                            name,
                            f"required column '{col}' is missing (columns found: {', '.join(cols) or 'none'}){hint}",
                            file=str(raw.path),
                            column=col,
                            action=f"add or rename the column to '{col}'",
                        )
                    )

    # -- the small tables, in pandas
    def typed(self, name: str) -> pd.DataFrame:
        raw = self.raw[name]
        assert isinstance(raw, RawTable)
        table = TABLES[name]
        src = raw.frame
        out = pd.DataFrame(index=src.index)
        attrs = set(attribute_columns(name, src.columns))
        for col in src.columns:
            spec = table.column(col)
            values = src[col]
            if spec is None:
                # an attribute is text, trimmed, empty when blank; other extra columns are
                # kept and ignored
                out[col] = _strings(values) if col in attrs else values
                continue
            blank = _blank(values)
            if spec.kind in ("timestamp", "date"):
                parsed = parse_timestamps(values, self.timezone)
                self.unreadable_times(raw, spec, parsed.isna() & ~blank)
                out[col] = parsed
            elif spec.kind in ("number", "integer"):
                read = _parse_numbers(values)
                if read.ambiguous:
                    self.ambiguous_numbers(raw, col, read)
                parsed = read.values
                bad = read.bad & ~blank
                if spec.required and bad.any():
                    n = int(bad.sum())
                    self.report("error", raw, "not_numbers", column=col, rows=bad, n=n)
                elif bad.any():
                    n = int(bad.sum())
                    self.report("warning", raw, "not_numbers_ignored", column=col, rows=bad, n=n)
                out[col] = parsed
            else:
                out[col] = _strings(values)
                continue
            self.blank_required(raw, spec, blank)
        # Optional columns the file lacks are empty columns, so no later step has to ask.
        for spec in table.columns:
            if spec.name not in out.columns:
                out[spec.name] = _absent(spec, out.index)
        return out

    def check_key(self, name: str, frame: pd.DataFrame) -> None:
        key = TABLES[name].key
        if key is None or key not in frame.columns:
            return
        raw = self.raw[name]
        present = frame[key].notna()
        self.empty_keys(raw, key, ~present)
        if not _may_repeat(frame[key]):
            return
        dup = present & frame[key].duplicated(keep=False)
        if dup.any():
            self.duplicate_keys(raw, key, frame.loc[dup, key].nunique(), dup)

    def require_values(self, name: str, frame: pd.DataFrame, cols: tuple[str, ...]) -> None:
        raw = self.raw[name]
        for col in cols:
            if col in frame.columns:
                blank = frame[col].isna()
                if blank.any():
                    n = int(blank.sum())
                    self.report("error", raw, "required_values", column=col, rows=blank, n=n)

    def check_product(self, name: str, frame: pd.DataFrame) -> None:
        if "product" in frame.columns:
            self.reserved_product(self.raw[name], frame["product"] == ALL)

    def drop_future(self, name: str, frame: pd.DataFrame, col: str) -> pd.DataFrame:
        if self.as_of is None or col not in frame.columns:
            return frame
        future = frame[col] > self.as_of
        self.future(self.raw[name], col, future)
        return frame[~future] if future.any() else frame

    def drop_orphans(
        self, name: str, frame: pd.DataFrame, known: pd.Index, noun: str
    ) -> pd.DataFrame:
        orphan = ~isin(frame["lead_id"], known)
        self.orphans(self.raw[name], noun, orphan)
        return frame[~orphan] if orphan.any() else frame

    def drop_unknown(
        self, name: str, frame: pd.DataFrame, column: str, allowed: tuple[str, ...], noun: str
    ) -> pd.DataFrame:
        mask = ~frame[column].isin(allowed)
        values = list(map(str, frame.loc[mask, column].dropna().unique()))
        self.unknown_codes(self.raw[name], column, allowed, noun, values, mask)
        return frame[~mask] if mask.any() else frame

    # -- the bulk table, in SQL (store.py): the same rules, in the same order, as above
    def typed_bulk(self, name: str, store: Store) -> BulkTable:
        raw = self.raw[name]
        bulk = BulkTable(store, raw, self.timezone)
        unreadable = bulk.create_typed(lambda values: parse_timestamps(values, self.timezone))
        before = len(self.findings)
        if bulk.cached:
            self.findings.extend(self.cached_findings.get(name, []))
        for col, condition in unreadable.items():
            spec = TABLES[name].column(col)
            self.unreadable_times(raw, spec, bulk.problem(condition, col))
            if spec.required:
                self.blank_required(raw, spec, bulk.blank(col))
        bulk.typing_findings = self.findings[before:]
        return bulk

    def check_bulk_key(self, bulk: BulkTable) -> None:
        key, raw = TABLES[bulk.name].key, self.raw[bulk.name]
        if key is None:
            return
        if TABLES[bulk.name].column(key).required:
            self.empty_keys(raw, key, bulk.problem(f"{key} IS NULL", key))
        n_keys, dup = bulk.duplicates(key)
        self.duplicate_keys(raw, key, n_keys, dup)
        if "product" in bulk.columns:
            reserved = bulk.problem(f"CAST(product AS VARCHAR) = '{ALL}'", "product")
            self.reserved_product(raw, reserved)

    def keep_bulk(
        self,
        bulk: BulkTable,
        known: pd.Index | None,
        time_col: str,
        code: str,
        allowed,
        noun: str,
    ) -> None:
        """The bulk table's rules; `known` None: its rows are known to reference only leads."""
        raw = self.raw[bulk.name]
        ids = pd.Series(known) if known is not None else None
        found = bulk.create_valid(ids, self.as_of, time_col, {code: allowed})
        if "future" in found:
            self.future(raw, time_col, found["future"])
        self.orphans(raw, noun, found["orphans"])
        values = [str(v) for v in found[code].values]
        self.unknown_codes(raw, code, allowed, noun, values, found[code])


def validate(
    raw: dict[str, RawTable | ScanTable],
    *,
    timezone: str = "Asia/Tokyo",
    as_of: pd.Timestamp | None = None,
    typing_findings: dict[str, list[Finding]] | None = None,
) -> Dataset:
    """Validate raw tables against the contract.

    Args:
        raw: tables as read by `files.read_raw_dataset`.
        timezone: the run's time zone; every timestamp is converted to naive local time in it.
        as_of: rows dated after this local time are "future" findings and left out.

    Returns:
        A `Dataset` of typed tables and the non-fatal findings.

    Raises:
        DataContractError: listing every fatal problem.
    """
    return _validate(raw, timezone=timezone, as_of=as_of, typing_findings=typing_findings)[0]


@dataclass
class KeptTables:
    """The small tables as typed (before the rules that depend on the run), the findings of
    typing them, and how many rows of each table that refers to leads reference none: what the
    validated-data cache keeps of them (`_tables_from_cache`)."""

    frames: dict[str, pd.DataFrame]
    findings: dict[str, list[Finding]]
    orphans: dict[str, int] = field(default_factory=dict)
    covers: set[str] = field(default_factory=set)  # bulk entries none of whose rows is an orphan
    leads_cut: bool = False  # whether the run time left leads out (then `orphans` do not apply)


def _validate(
    raw: dict[str, RawTable | ScanTable],
    *,
    timezone: str,
    as_of: pd.Timestamp | None,
    typing_findings: dict[str, list[Finding]] | None = None,
    kept: KeptTables | None = None,
    covered: frozenset[str] = frozenset(),
) -> tuple[Dataset, KeptTables]:
    """`validate`, taking the small tables as typed from `kept` (the cache) when given: their
    typing findings are replayed in place, and the checks that can only fail (keys, reserved
    and required codes) are skipped, since only an input that passed them is cached. Returns
    the dataset and the small tables as typed, to be cached. The bulk tables in `covered`
    reference only leads (known from the cache): unless leads are left out, their orphan
    rule is skipped."""
    chk = _Checker(raw, timezone, as_of, typing_findings or {})
    chk.check_structure()
    if chk.errors:
        raise DataContractError(chk.errors)

    store = Store()
    bulk: dict[str, BulkTable] = {}
    typed: dict[str, pd.DataFrame] = {}
    found: dict[str, list[Finding]] = {}
    for name in raw:
        if name in BULK_TABLES:
            bulk[name] = chk.typed_bulk(name, store)
        elif name in TABLES:
            before = len(chk.findings)
            if kept is not None and name in kept.frames:
                typed[name] = kept.frames[name]
                chk.findings.extend(kept.findings.get(name, []))
            else:
                typed[name] = chk.typed(name)
            found[name] = chk.findings[before:]
    for name in raw:
        if name in bulk:
            chk.check_bulk_key(bulk[name])
        elif name in typed and kept is None:
            chk.check_key(name, typed[name])
            chk.check_product(name, typed[name])
    if kept is None:
        chk.require_values("leads", typed["leads"], ("product",))
        chk.require_values("opportunities", typed["opportunities"], ("product",))
        stage_reports.check_fatal(chk, typed)
    if chk.errors:
        raise DataContractError(chk.errors)
    leads = typed["leads"]
    if leads["lead_source"].isna().any():
        leads["lead_source"] = leads["lead_source"].fillna(UNKNOWN_SOURCE)
    # shallow copies (copy on write): the rules below change some frames in place
    typed_now = KeptTables(
        {k: v.copy(deep=False) for k, v in typed.items()},
        found,
        kept.orphans if kept is not None else {},
    )

    n_leads = len(leads)
    leads = chk.drop_future("leads", leads, "created_at")
    known = pd.Index(leads["lead_id"])
    # from the cache: the tables that reference no lead outside the (uncut) leads
    typed_now.leads_cut = len(leads) != n_leads
    no_orphans = {t for t, n in typed_now.orphans.items() if n == 0 and not typed_now.leads_cut}

    chk.keep_bulk(
        bulk["activities"],
        None if "activities" in covered and not typed_now.leads_cut else known,
        BULK_TIME["activities"],
        BULK_CODE["activities"],
        ACTIVITY_TYPES,
        "activities",
    )

    stages = chk.drop_future("stage_changes", typed["stage_changes"], "changed_at")
    if "stage_changes" not in no_orphans:
        stages = chk.drop_orphans("stage_changes", stages, known, "stage changes")
    stages = chk.drop_unknown("stage_changes", stages, "stage", STAGES, "stage changes")

    opps = typed["opportunities"]
    opps = chk.drop_future("opportunities", opps, "created_at")
    future_close = (
        opps["closed_at"] > as_of if as_of is not None else pd.Series(False, index=opps.index)
    )
    if future_close.any():
        chk.cut = True
        chk.report(
            "warning",
            raw["opportunities"],
            "future_close",
            column="closed_at",
            rows=future_close,
            n=int(future_close.sum()),
        )
        opps.loc[future_close, "closed_at"] = pd.NaT
    bad_status = ~opps["status"].isin(OPPORTUNITY_STATUSES)
    if bad_status.any():
        chk.report(
            "warning",
            raw["opportunities"],
            "unknown_status",
            column="status",
            rows=bad_status,
            n=int(bad_status.sum()),
            shown=_unknown_values(opps, "status", bad_status),
            allowed=", ".join(OPPORTUNITY_STATUSES),
        )
    no_close = opps["status"].isin(("won", "lost")) & opps["closed_at"].isna()
    if no_close.any():
        chk.report(
            "warning",
            raw["opportunities"],
            "no_close",
            column="closed_at",
            rows=no_close,
            n=int(no_close.sum()),
        )
    orphan = (
        opps["lead_id"].notna() & ~isin(opps["lead_id"], known)
        if "opportunities" not in no_orphans
        else pd.Series(False, index=opps.index)
    )
    if orphan.any():
        chk.report(
            "warning",
            raw["opportunities"],
            "orphan_opportunities",
            column="lead_id",
            rows=orphan,
            n=int(orphan.sum()),
        )

    tables = {"leads": leads, "stage_changes": stages, "opportunities": opps}
    if "campaigns" in typed:
        tables["campaigns"] = typed["campaigns"]
    if "scores" in typed:
        scores = chk.drop_future("scores", typed["scores"], "scored_at")
        if "scores" not in no_orphans:
            scores = chk.drop_orphans("scores", scores, known, "scores")
        tables["scores"] = scores
    if "stage_events" in typed:
        tables["stage_events"] = stage_reports.checked_events(chk, typed["stage_events"])
    if "spend" in typed:
        tables["spend"] = typed["spend"]
    tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
    sources = {
        name: {
            "path": str(r.path),
            "encoding": r.encoding,
            "bytes": r.size,
            "sha256": r.sha256,
            "rows": r.rows,
        }
        for name, r in raw.items()
    }
    lazy = {name: b.valid_view for name, b in bulk.items()}
    cut_at = as_of if chk.cut else None
    dataset = Dataset(
        tables, chk.findings, timezone, sources, store, lazy, bulk=bulk, cut_at=cut_at
    )
    return dataset, typed_now
