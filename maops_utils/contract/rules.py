"""The rules of data contract v1: fatal problems raise `DataContractError`, everything else is a
`Finding` and the offending rows are left out, so one bad row never stops a monthly report."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from ..core.errors import DataContractError, Finding
from ..core.schema import ACTIVITY_TYPES, ALL, OPPORTUNITY_STATUSES, STAGES, TABLES, UNKNOWN_SOURCE
from .dataset import BULK_CODE, BULK_TABLES, BULK_TIME, MAX_EXAMPLES, Dataset, isin
from .files import RawTable, ScanTable
from .store import BulkTable, Problem, Store
from .values import (
    _DUPLICATE_ACTION,
    _FUTURE_ACTION,
    _ORPHAN_ACTION,
    _TIME_ACTION,
    _absent,
    _blank,
    _blank_text,
    _columns,
    _duplicate_text,
    _examples,
    _future_text,
    _may_repeat,
    _orphan_text,
    _parse_numbers,
    _strings,
    _unknown_action,
    _unknown_text,
    _unknown_values,
    parse_timestamps,
)


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

    # -- helpers
    def error(self, raw: RawTable, message: str, *, column: str = "", mask=None, action: str = ""):
        count = int(mask.sum()) if mask is not None else 0
        examples = _examples(raw, mask, column or None) if mask is not None else []
        self.errors.append(
            Finding("error", raw.name, message, str(raw.path), column, count, examples, action)
        )

    def warn(self, raw: RawTable, message: str, *, column: str = "", mask=None, action: str = ""):
        count = int(mask.sum()) if mask is not None else 0
        examples = _examples(raw, mask, column or None) if mask is not None else []
        self.findings.append(
            Finding("warning", raw.name, message, str(raw.path), column, count, examples, action)
        )

    def note(
        self,
        level: str,
        raw: RawTable | ScanTable,
        message: str,
        *,
        column: str = "",
        problem: Problem,
        action: str = "",
    ) -> None:
        """A finding from a problem found in SQL (store.py), worded as `error`/`warn` do."""
        show = bool(column) and column in _columns(raw)
        examples = [
            f"{raw.where(i)}: {str(v)[:60]!r}" if show else raw.where(i)
            for i, v in problem.examples[:MAX_EXAMPLES]
        ]
        (self.errors if level == "error" else self.findings).append(
            Finding(
                level, raw.name, message, str(raw.path), column, problem.count, examples, action
            )
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

    # -- per table typing
    def typed(self, name: str) -> pd.DataFrame:
        raw = self.raw[name]
        table = TABLES[name]
        src = raw.frame
        out = pd.DataFrame(index=src.index)
        for col in src.columns:
            spec = table.column(col)
            values = src[col]
            if spec is None:
                out[col] = values  # unknown extra columns are kept and ignored
                continue
            blank = _blank(values)
            if spec.kind in ("timestamp", "date"):
                parsed = parse_timestamps(values, self.timezone)
                bad = parsed.isna() & ~blank
                if bad.any():
                    if spec.required or spec.kind == "timestamp":
                        self.error(
                            raw,
                            f"{int(bad.sum())} value(s) are not readable timestamps",
                            column=col,
                            mask=bad,
                            action=_TIME_ACTION,
                        )
                    else:
                        self.warn(
                            raw,
                            f"{int(bad.sum())} unreadable date(s) ignored",
                            column=col,
                            mask=bad,
                        )
                out[col] = parsed
            elif spec.kind in ("number", "integer"):
                parsed = _parse_numbers(values)
                bad = parsed.isna() & ~blank
                if spec.required and bad.any():
                    self.error(
                        raw,
                        f"{int(bad.sum())} value(s) are not numbers",
                        column=col,
                        mask=bad,
                        action="use plain numbers such as 1200000 (no currency signs)",
                    )
                elif bad.any():
                    self.warn(
                        raw,
                        f"{int(bad.sum())} value(s) are not numbers and were ignored",
                        column=col,
                        mask=bad,
                    )
                out[col] = parsed
            else:
                out[col] = _strings(values)
                continue
            if spec.required and blank.any():
                self.warn(
                    raw,
                    _blank_text(int(blank.sum()), col, spec.kind),
                    column=col,
                    mask=blank,
                    action="fill in the value",
                )
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
        if TABLES[name].column(key).required and (~present).any():
            self.error(
                raw,
                f"{int((~present).sum())} row(s) have an empty '{key}'",
                column=key,
                mask=~present,
                action=f"every row needs a unique {key}",
            )
        if not _may_repeat(frame[key]):
            return
        dup = present & frame[key].duplicated(keep=False)
        if dup.any():
            n = frame.loc[dup, key].nunique()
            self.error(
                raw,
                _duplicate_text(n, int(dup.sum()), key),
                column=key,
                mask=dup,
                action=_DUPLICATE_ACTION,
            )

    def require_values(self, name: str, frame: pd.DataFrame, cols: tuple[str, ...]) -> None:
        raw = self.raw[name]
        for col in cols:
            if col in frame.columns:
                blank = frame[col].isna()
                if blank.any():
                    self.error(
                        raw,
                        f"{int(blank.sum())} row(s) have no value in required column '{col}'",
                        column=col,
                        mask=blank,
                        action="fill in the value or remove those rows",
                    )

    def reserved_product(self, name: str, frame: pd.DataFrame) -> None:
        if "product" in frame.columns:
            bad = frame["product"] == ALL
            if bad.any():
                self.error(
                    self.raw[name],
                    f"product code '{ALL}' is reserved for the whole business",
                    column="product",
                    mask=bad,
                    action="rename that product code",
                )

    def drop(
        self,
        name: str,
        frame: pd.DataFrame,
        mask: pd.Series,
        what: str,
        *,
        column: str,
        action: str = "",
    ) -> pd.DataFrame:
        """Leave out the rows in `mask`, recording a finding "<n> <what>"."""
        if not mask.any():
            return frame
        self.warn(
            self.raw[name], f"{int(mask.sum())} {what}", column=column, mask=mask, action=action
        )
        return frame[~mask]

    def drop_future(self, name: str, frame: pd.DataFrame, col: str) -> pd.DataFrame:
        if self.as_of is None or col not in frame.columns:
            return frame
        future = frame[col] > self.as_of
        self.cut |= bool(future.any())
        return self.drop(
            name,
            frame,
            future,
            _future_text(self.as_of),
            column=col,
            action=_FUTURE_ACTION,
        )

    def drop_orphans(
        self, name: str, frame: pd.DataFrame, known: pd.Index, noun: str
    ) -> pd.DataFrame:
        return self.drop(
            name,
            frame,
            ~isin(frame["lead_id"], known),
            _orphan_text(noun),
            column="lead_id",
            action=_ORPHAN_ACTION,
        )

    def drop_unknown(
        self, name: str, frame: pd.DataFrame, column: str, allowed: tuple[str, ...], noun: str
    ) -> pd.DataFrame:
        mask = ~frame[column].isin(allowed)
        return self.drop(
            name,
            frame,
            mask,
            _unknown_text(noun, column, _unknown_values(frame, column, mask)),
            column=column,
            action=_unknown_action(allowed),
        )

    # -- the bulk table, in SQL (store.py): the same checks, in the same order, as above
    def typed_bulk(self, name: str, store: Store) -> BulkTable:
        raw = self.raw[name]
        bulk = BulkTable(store, raw, self.timezone)
        unreadable = bulk.create_typed(lambda values: parse_timestamps(values, self.timezone))
        before = len(self.findings)
        if bulk.cached:
            self.findings.extend(self.cached_findings.get(name, []))
        for col, condition in unreadable.items():
            spec = TABLES[name].column(col)
            bad = bulk.problem(condition, col)
            if bad.count and (spec.required or spec.kind == "timestamp"):
                self.note(
                    "error",
                    raw,
                    f"{bad.count} value(s) are not readable timestamps",
                    column=col,
                    problem=bad,
                    action=_TIME_ACTION,
                )
            elif bad.count:
                self.note(
                    "warning",
                    raw,
                    f"{bad.count} unreadable date(s) ignored",
                    column=col,
                    problem=bad,
                )
            blank = bulk.blank(col) if spec.required else Problem(0, [])
            if blank.count:
                self.note(
                    "warning",
                    raw,
                    _blank_text(blank.count, col, spec.kind),
                    column=col,
                    problem=blank,
                    action="fill in the value",
                )
        bulk.typing_findings = self.findings[before:]
        return bulk

    def check_bulk_key(self, bulk: BulkTable) -> None:
        key, raw = TABLES[bulk.name].key, self.raw[bulk.name]
        if key is None:
            return
        if TABLES[bulk.name].column(key).required:
            empty = bulk.problem(f"{key} IS NULL", key)
            if empty.count:
                self.note(
                    "error",
                    raw,
                    f"{empty.count} row(s) have an empty '{key}'",
                    column=key,
                    problem=empty,
                    action=f"every row needs a unique {key}",
                )
        n_keys, dup = bulk.duplicates(key)
        if n_keys:
            self.note(
                "error",
                raw,
                _duplicate_text(n_keys, dup.count, key),
                column=key,
                problem=dup,
                action=_DUPLICATE_ACTION,
            )
        if "product" in bulk.columns:
            reserved = bulk.problem(f"CAST(product AS VARCHAR) = '{ALL}'", "product")
            if reserved.count:
                self.note(
                    "error",
                    raw,
                    f"product code '{ALL}' is reserved for the whole business",
                    column="product",
                    problem=reserved,
                    action="rename that product code",
                )

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
        if "future" in found and found["future"].count:
            self.cut = True
            p = found["future"]
            self.note(
                "warning",
                raw,
                f"{p.count} {_future_text(self.as_of)}",
                column=time_col,
                problem=p,
                action=_FUTURE_ACTION,
            )
        if found["orphans"].count:
            p = found["orphans"]
            self.note(
                "warning",
                raw,
                f"{p.count} {_orphan_text(noun)}",
                column="lead_id",
                problem=p,
                action=_ORPHAN_ACTION,
            )
        if found[code].count:
            p = found[code]
            values = sorted(str(v) for v in p.values)[:MAX_EXAMPLES]
            self.note(
                "warning",
                raw,
                f"{p.count} {_unknown_text(noun, code, ', '.join(values) or 'empty')}",
                column=code,
                problem=p,
                action=_unknown_action(allowed),
            )


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
            chk.reserved_product(name, typed[name])
    if kept is None:
        chk.require_values("leads", typed["leads"], ("product",))
        chk.require_values("opportunities", typed["opportunities"], ("product",))
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
        chk.warn(
            raw["opportunities"],
            f"{int(future_close.sum())} closed_at value(s) after the run time were ignored",
            column="closed_at",
            mask=future_close,
        )
        opps.loc[future_close, "closed_at"] = pd.NaT
    bad_status = ~opps["status"].isin(OPPORTUNITY_STATUSES)
    if bad_status.any():
        chk.warn(
            raw["opportunities"],
            f"{int(bad_status.sum())} opportunities have an unknown status "
            f"({_unknown_values(opps, 'status', bad_status)}); they count as opportunities but "
            "neither won nor lost",
            column="status",
            mask=bad_status,
            action=f"use one of {', '.join(OPPORTUNITY_STATUSES)}",
        )
    no_close = opps["status"].isin(("won", "lost")) & opps["closed_at"].isna()
    if no_close.any():
        chk.warn(
            raw["opportunities"],
            f"{int(no_close.sum())} won/lost opportunities have no closed_at and "
            "count in no month's won deals or win rate",
            column="closed_at",
            mask=no_close,
        )
    orphan = (
        opps["lead_id"].notna() & ~isin(opps["lead_id"], known)
        if "opportunities" not in no_orphans
        else pd.Series(False, index=opps.index)
    )
    if orphan.any():
        chk.warn(
            raw["opportunities"],
            f"{int(orphan.sum())} opportunities reference a lead_id not in leads; "
            "they are kept (their product is their own)",
            column="lead_id",
            mask=orphan,
        )

    tables = {"leads": leads, "stage_changes": stages, "opportunities": opps}
    if "campaigns" in typed:
        tables["campaigns"] = typed["campaigns"]
    if "scores" in typed:
        scores = chk.drop_future("scores", typed["scores"], "scored_at")
        if "scores" not in no_orphans:
            scores = chk.drop_orphans("scores", scores, known, "scores")
        tables["scores"] = scores
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
