"""Check raw tables against data contract v1 and turn them into typed frames.

Fatal problems (a missing table or column, a timestamp that cannot be read, a duplicate key)
raise `DataContractError` listing every one of them at once. Everything else becomes a
`Finding` and the offending rows are left out, so one bad row never stops a monthly report.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import DataContractError, Finding
from .io import RawTable, read_raw_dataset
from .schema import ACTIVITY_TYPES, ALL, OPPORTUNITY_STATUSES, STAGES, TABLES, UNKNOWN_SOURCE

MAX_EXAMPLES = 5

_OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$", re.I)
_SLASH_DATE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})")


@dataclass
class Dataset:
    """Validated tables: timestamps are naive local time in `timezone`, codes are checked."""

    tables: dict[str, pd.DataFrame]
    findings: list[Finding] = field(default_factory=list)
    timezone: str = "Asia/Tokyo"
    sources: dict[str, dict[str, object]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def has(self, name: str) -> bool:
        return name in self.tables

    def for_product(self, product: str) -> Dataset:
        """The part of the dataset that belongs to one product: its leads with their
        activities and stage changes, its opportunities, and its campaigns and the
        cross-product ones (empty product)."""
        leads = self.tables["leads"]
        mine = leads[leads["product"] == product]
        ids = set(mine["lead_id"])
        tables = {
            "leads": mine,
            "activities": self.tables["activities"][self.tables["activities"]["lead_id"].isin(ids)],
            "stage_changes": self.tables["stage_changes"][
                self.tables["stage_changes"]["lead_id"].isin(ids)
            ],
            "opportunities": self.tables["opportunities"][
                self.tables["opportunities"]["product"] == product
            ],
        }
        if "campaigns" in self.tables:
            c = self.tables["campaigns"]
            tables["campaigns"] = c[c["product"].isna() | (c["product"] == product)]
        if "scores" in self.tables:
            tables["scores"] = self.tables["scores"][self.tables["scores"]["lead_id"].isin(ids)]
        tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
        return Dataset(tables, list(self.findings), self.timezone, dict(self.sources))

    @property
    def products(self) -> list[str]:
        """Every product code in leads and opportunities, sorted."""
        values = set(self.tables["leads"]["product"]) | set(self.tables["opportunities"]["product"])
        return sorted(str(v) for v in values)


def _blank(values: pd.Series) -> pd.Series:
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        return values.isna() | (values.astype("string").str.strip() == "")
    return values.isna()


def _examples(raw: RawTable, mask: pd.Series, column: str | None = None) -> list[str]:
    # Frames keep the raw table's RangeIndex through every filter, so an index label is the
    # row's position in the file even after earlier rows were left out.
    labels = mask.index[mask.to_numpy(dtype=bool)][:MAX_EXAMPLES]
    out = []
    for i in labels:
        if column is None or column not in raw.frame.columns:
            out.append(raw.where(int(i)))
        else:
            value = raw.frame[column].iloc[int(i)]
            out.append(f"{raw.where(int(i))}: {str(value)[:60]!r}")
    return out


def _unknown_values(frame: pd.DataFrame, column: str, mask: pd.Series) -> str:
    values = sorted(map(str, frame.loc[mask, column].dropna().unique()))[:MAX_EXAMPLES]
    return ", ".join(values) or "empty"


def parse_timestamps(values: pd.Series, timezone: str) -> pd.Series:
    """Parse timestamps to naive local time in `timezone` (the contract's time rule).

    A value without an offset is already local time; one with an offset (or `Z`) is converted.
    Blank values become NaT; unreadable ones too (the caller tells them apart with `_blank`).
    """
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[us]")
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]")
    text = values.astype("string").str.strip()
    text = text.where(text != "", None)
    text = text.str.replace(
        _SLASH_DATE, lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}", regex=True
    )
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    has_offset = text.str.contains(_OFFSET).fillna(False).astype(bool)
    present = text.notna()
    naive = present & ~has_offset
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(text[naive][retry], format="mixed", errors="coerce")
        result[naive] = parsed.astype("datetime64[us]")
    if has_offset.any():
        parsed = pd.to_datetime(text[has_offset], format="ISO8601", utc=True, errors="coerce")
        retry = parsed.isna()
        if retry.any():
            parsed[retry] = pd.to_datetime(
                text[has_offset][retry], format="mixed", utc=True, errors="coerce"
            )
        result[has_offset] = (
            parsed.dt.tz_convert(timezone).dt.tz_localize(None).astype("datetime64[us]")
        )
    return result


def _parse_numbers(values: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    text = text.where(text != "", None)
    return pd.to_numeric(text, errors="coerce").astype("float64")


def _strings(values: pd.Series) -> pd.Series:
    out = values.astype("string").str.strip()
    return out.where(out != "", None).astype(object)


class _Checker:
    def __init__(self, raw: dict[str, RawTable], timezone: str, as_of: pd.Timestamp | None):
        self.raw = raw
        self.timezone = timezone
        self.as_of = as_of
        self.errors: list[Finding] = []
        self.findings: list[Finding] = []

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
            cols = list(raw.frame.columns)
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
                            action="use YYYY-MM-DD HH:MM:SS (local time) or ISO 8601 with an offset",
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
                # Rows are kept: a lead without created_at still owns its activities, a deal
                # without an amount is still a deal. Such a value counts in no month or sum.
                effect = "count in no month" if spec.kind == "timestamp" else "add nothing to sums"
                self.warn(
                    raw,
                    f"{int(blank.sum())} row(s) have no value in required column '{col}' and {effect}",
                    column=col,
                    mask=blank,
                    action="fill in the value",
                )
        # Optional columns the file lacks are empty columns, so no later step has to ask.
        for spec in table.columns:
            if spec.name not in out.columns:
                empty = {"timestamp": "datetime64[us]", "date": "datetime64[us]"}.get(spec.kind)
                out[spec.name] = pd.Series(
                    pd.NaT if empty else (np.nan if spec.kind in ("number", "integer") else None),
                    index=out.index,
                    dtype=empty or ("float64" if spec.kind in ("number", "integer") else object),
                )
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
        dup = present & frame[key].duplicated(keep=False)
        if dup.any():
            n = frame.loc[dup, key].nunique()
            self.error(
                raw,
                f"{n} '{key}' value(s) occur more than once ({int(dup.sum())} rows); '{key}' must be unique",
                column=key,
                mask=dup,
                action="remove the duplicate rows or give them distinct keys",
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
        return self.drop(
            name,
            frame,
            frame[col] > self.as_of,
            f"row(s) dated after the run time {self.as_of:%Y-%m-%d %H:%M} were left out",
            column=col,
            action="check the source system's clock or time zone",
        )

    def drop_orphans(
        self, name: str, frame: pd.DataFrame, known: pd.Index, noun: str
    ) -> pd.DataFrame:
        return self.drop(
            name,
            frame,
            ~frame["lead_id"].isin(known),
            f"{noun} reference a lead_id not in leads (orphans) and were left out",
            column="lead_id",
            action="check that the exports cover the same leads",
        )

    def drop_unknown(
        self, name: str, frame: pd.DataFrame, column: str, allowed: tuple[str, ...], noun: str
    ) -> pd.DataFrame:
        mask = ~frame[column].isin(allowed)
        return self.drop(
            name,
            frame,
            mask,
            f"{noun} have an unknown {column} ({_unknown_values(frame, column, mask)}) and were left out",
            column=column,
            action=f"use one of {', '.join(allowed)} (map vendor codes with an importer)",
        )


def validate(
    raw: dict[str, RawTable],
    *,
    timezone: str = "Asia/Tokyo",
    as_of: pd.Timestamp | None = None,
) -> Dataset:
    """Validate raw tables against the contract.

    Args:
        raw: tables as read by `io.read_raw_dataset`.
        timezone: the run's time zone; every timestamp is converted to naive local time in it.
        as_of: rows dated after this local time are "future" findings and left out.

    Returns:
        A `Dataset` of typed tables and the non-fatal findings.

    Raises:
        DataContractError: listing every fatal problem.
    """
    chk = _Checker(raw, timezone, as_of)
    chk.check_structure()
    if chk.errors:
        raise DataContractError(chk.errors)

    typed = {name: chk.typed(name) for name in raw if name in TABLES}
    for name, frame in typed.items():
        chk.check_key(name, frame)
        chk.reserved_product(name, frame)
    chk.require_values("leads", typed["leads"], ("product",))
    chk.require_values("opportunities", typed["opportunities"], ("product",))
    if chk.errors:
        raise DataContractError(chk.errors)

    leads = typed["leads"]
    leads["lead_source"] = leads["lead_source"].fillna(UNKNOWN_SOURCE)
    leads = chk.drop_future("leads", leads, "created_at")
    known = pd.Index(leads["lead_id"])

    acts = chk.drop_future("activities", typed["activities"], "occurred_at")
    acts = chk.drop_orphans("activities", acts, known, "activities")
    acts = chk.drop_unknown("activities", acts, "activity_type", ACTIVITY_TYPES, "activities")

    stages = chk.drop_future("stage_changes", typed["stage_changes"], "changed_at")
    stages = chk.drop_orphans("stage_changes", stages, known, "stage changes")
    stages = chk.drop_unknown("stage_changes", stages, "stage", STAGES, "stage changes")

    opps = typed["opportunities"]
    opps = chk.drop_future("opportunities", opps, "created_at")
    future_close = (
        opps["closed_at"] > as_of if as_of is not None else pd.Series(False, index=opps.index)
    )
    if future_close.any():
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
    orphan = opps["lead_id"].notna() & ~opps["lead_id"].isin(known)
    if orphan.any():
        chk.warn(
            raw["opportunities"],
            f"{int(orphan.sum())} opportunities reference a lead_id not in leads; "
            "they are kept (their product is their own)",
            column="lead_id",
            mask=orphan,
        )

    tables = {"leads": leads, "activities": acts, "stage_changes": stages, "opportunities": opps}
    if "campaigns" in typed:
        tables["campaigns"] = typed["campaigns"]
    if "scores" in typed:
        scores = chk.drop_future("scores", typed["scores"], "scored_at")
        tables["scores"] = chk.drop_orphans("scores", scores, known, "scores")
    tables = {k: v.reset_index(drop=True) for k, v in tables.items()}
    sources = {
        name: {
            "path": str(r.path),
            "encoding": r.encoding,
            "bytes": r.size,
            "sha256": r.sha256,
            "rows": len(r.frame),
        }
        for name, r in raw.items()
    }
    return Dataset(tables, chk.findings, timezone, sources)


def load_dataset(
    data_dir: Path,
    *,
    timezone: str = "Asia/Tokyo",
    encoding: str = "auto",
    as_of: pd.Timestamp | None = None,
) -> Dataset:
    """Read every table of the dataset folder and validate it (see `validate`)."""
    return validate(
        read_raw_dataset(Path(data_dir), encoding=encoding), timezone=timezone, as_of=as_of
    )
