"""Apply a mapping to a folder of vendor exports and build the tables of data contract v1.

Reading is strict where a number would become meaningless (an unreadable required timestamp or
amount stops the import with file, line and column) and lenient elsewhere (an unknown code is
kept for the contract check to report; an unreadable optional value is dropped with a finding).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..contract.files import RawTable
from ..core.errors import ConfigError, DataContractError, Finding
from ..core.schema import TABLES
from .fields import (
    _FILE,
    _LINE,
    _POS,
    _SKIP,
    MAX_EXAMPLES,
    _apply_values,
    _Builder,
    _cells,
    _source_column,
)
from .mapping import Mapping
from .parsing import clean_text
from .stage_reports import build_spend, build_stage_events


@dataclass
class ImportResult:
    """Contract tables built from one source's exports, with what was noticed on the way."""

    source: str
    tables: dict[str, pd.DataFrame]
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    # the zone every timestamp was converted to (naive local time in it), and the zone the
    # mapping declared for the exports' timestamps without an offset ("": none, the same)
    timezone: str = "Asia/Tokyo"
    source_timezone: str = ""
    currency: str = ""  # the currency of the amounts, as the mapping declares ("": unsaid)
    codes: dict[str, list[str]] = field(default_factory=dict)  # Mapping.codes

    def summary(self) -> pd.DataFrame:
        """Rows per table and the files they came from."""
        return pd.DataFrame(
            [
                {"table": name, "rows": len(frame), "files": ", ".join(self.files.get(name, []))}
                for name, frame in self.tables.items()
            ]
        )


def _explode_products(
    mapping: Mapping, b: _Builder, raw: RawTable, base: pd.DataFrame
) -> pd.DataFrame:
    """One row per (record, product): a person interested in two products is two leads."""
    ps = mapping.product
    base = base.copy()
    product = pd.Series(None, index=base.index, dtype=object)
    if ps.column is not None:
        col = _source_column(raw, ps.column.columns)
        if col is None:
            b._missing_column("leads", raw, "product", ps.column, ps.default is None)
        else:
            product = clean_text(_cells(raw, col, base[_POS]), mapping.nulls)
    if ps.split:
        product = product.map(
            lambda v: (
                [p.strip() for p in v.split(ps.split) if p.strip()] or [None]
                if isinstance(v, str)
                else [None]
            )
        )
        base["_product_raw"] = product
        base = base.explode("_product_raw", ignore_index=True)
    else:
        base["_product_raw"] = product
    codes = clean_text(base["_product_raw"], mapping.nulls)
    if ps.column is not None and ps.column.values:
        codes, unknown = _apply_values(codes, ps.column)
        if unknown.any():
            b.p.add(
                "warning",
                "leads",
                f"{int(unknown.sum())} product value(s) are not in product.values "
                f"({', '.join(sorted(map(str, codes[unknown].dropna().unique()))[:MAX_EXAMPLES])}); kept as they are",
                file=str(raw.path),
                column=ps.column.columns[0],
                rows=base[unknown],
                values=base["_product_raw"],
                action="add them to product.values in the mapping",
            )
    if ps.default is not None:
        codes = codes.where(codes.notna(), ps.default)
    base["_product"] = codes.where(codes != _SKIP, None)
    return base


def _norm_email(values: pd.Series) -> pd.Series:
    from ..contract.dedupe import normalize_email

    return values.map(normalize_email)


def _attach(
    rows: pd.DataFrame, leads: pd.DataFrame, *, record: str, time: str, product: str | None
) -> pd.Series:
    """The lead each row belongs to, given its vendor record (person) id.

    A record with one lead: that lead. A record with several (one per product): the lead of the
    row's own product when it has one (its campaign's product, the deal's product), else the
    latest lead created at or before the row's time, else the record's first lead.
    """
    out = pd.Series(None, index=rows.index, dtype=object)
    if rows.empty or leads.empty:
        return out
    per = leads.groupby("_record")["lead_id"].agg(list)
    n = rows[record].map(per.map(len)).fillna(0).astype(int)
    single = n == 1
    out[single] = rows.loc[single, record].map(per.map(lambda v: v[0]))
    multi = rows.index[n > 1]
    if len(multi) == 0:
        return out
    cand = pd.DataFrame(
        {
            "_row": multi,
            "_record": rows.loc[multi, record].to_numpy(),
            "_t": rows.loc[multi, time].to_numpy() if time in rows else pd.NaT,
            "_p": rows.loc[multi, product].to_numpy() if product else None,
        }
    ).merge(leads[["_record", "lead_id", "product", "created_at"]], on="_record")
    if product:
        same = cand[cand["_p"].notna() & (cand["_p"] == cand["product"])]
        chosen = same.drop_duplicates("_row").set_index("_row")["lead_id"]
        out[chosen.index] = chosen
    left = cand[~cand["_row"].isin(out.dropna().index)]
    before = left[
        left["created_at"].notna() & left["_t"].notna() & (left["created_at"] <= left["_t"])
    ]
    latest = (
        before.sort_values("created_at")
        .drop_duplicates("_row", keep="last")
        .set_index("_row")["lead_id"]
    )
    out[latest.index] = latest
    rest = left[~left["_row"].isin(out.dropna().index)]
    first = (
        rest.sort_values(["created_at", "lead_id"])
        .drop_duplicates("_row")
        .set_index("_row")["lead_id"]
    )
    out[first.index] = first
    return out


def _categorise(acts: pd.DataFrame, rules: dict[str, tuple[tuple[str, str], ...]]) -> pd.Series:
    category = (
        acts["category"] if "category" in acts else pd.Series(None, index=acts.index, dtype=object)
    )
    category = category.astype(object)
    for activity, items in rules.items():
        todo = (acts["activity_type"] == activity) & category.isna() & acts["asset_name"].notna()
        for pattern, name in items:
            if not todo.any():
                break
            rx = re.compile(pattern, re.I)
            hit = todo & acts["asset_name"].map(lambda v, rx=rx: bool(rx.search(str(v))))
            category[hit] = name
            todo &= ~hit
    return category


def _contract_frame(
    table: str, frame: pd.DataFrame, extra: tuple[str, ...] = (), kept: tuple[str, ...] = ()
) -> pd.DataFrame:
    """The contract's columns of `table`, the `extra` fields that hold a value and the
    attributes the mapping declared (`kept`, even when empty: a KPI may name them)."""
    cols = [c.name for c in TABLES[table].columns]
    out = pd.DataFrame(index=frame.index)
    for c in cols:
        out[c] = frame[c] if c in frame else None
    for c in extra:
        if c in frame and frame[c].notna().any():
            out[c] = frame[c]
    for c in kept:
        out[c] = frame[c] if c in frame else None
    return out.reset_index(drop=True)


def _attributes(m: Mapping, table: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for spec in m.tables.get(table, ()) for a in spec.attributes))


# ---------------------------------------------------------------- the import


def import_exports(
    src: str | Path, mapping: Mapping, *, timezone: str = "Asia/Tokyo"
) -> ImportResult:
    """Read the exports in `src` as `mapping` describes and build contract tables.

    Args:
        src: folder holding the vendor's export files (matched by the mapping's `files` globs).
        mapping: from `load_mapping`.
        timezone: the run's time zone; every timestamp is converted to naive local time in it.

    Returns:
        `ImportResult` with `leads`, `activities`, `stage_changes`, `opportunities` (empty
        tables where the source has none), `campaigns` and `scores` when mapped, plus findings.

    Raises:
        ConfigError: the folder does not exist or holds no leads export.
        DataContractError: values that cannot be read, naming file, line and column.
    """
    src = Path(src)
    if not src.is_dir():
        raise ConfigError(
            f"export folder '{src}' does not exist or is not a folder; pass --src DIR"
        )
    b = _Builder(mapping, src, timezone)
    m = mapping

    # ---- leads (and the stage dates they carry)
    raws = b.read_table("leads")
    if not raws:
        patterns = [f for spec in m.tables["leads"] for f in spec.files]
        raise ConfigError(
            f"no leads export found in {src}: none of {', '.join(patterns)} matched "
            f"(files there: {', '.join(sorted(p.name for p in src.iterdir())[:12]) or 'none'}); "
            "rename the file or set tables.leads.files in the mapping"
        )
    lead_parts, stage_parts = [], []
    for lspec, raw in raws:
        base = _explode_products(m, b, raw, b.base(raw))
        part = b.build(lspec, raw, base, product=base["_product"])
        record = part["lead_id"] if "lead_id" in part else pd.Series(None, index=part.index)
        part["_record"] = record
        if "product" in lspec.columns:
            part["product"] = part["product"].where(part["product"].notna(), base["_product"])
        else:
            part["product"] = base["_product"]
        if m.product.split:
            part["lead_id"] = record.astype("string") + "-" + part["product"].astype("string")
            part["lead_id"] = part["lead_id"].astype(object).where(part["lead_id"].notna(), None)
            if "contact_id" not in lspec.columns:
                part["contact_id"] = record
        for stage, sspec in lspec.stages.items():
            when = b.field(
                "stage_changes",
                raw,
                "changed_at",
                sspec,
                base,
                product=base["_product"],
                required=False,
            )
            got = when.notna()
            stage_parts.append(
                pd.DataFrame(
                    {
                        "_record": part.loc[got, "_record"],
                        "lead_id": part.loc[got, "lead_id"],
                        "stage": stage,
                        "changed_at": when[got],
                        _FILE: part.loc[got, _FILE],
                        _LINE: part.loc[got, _LINE],
                    }
                )
            )
        lead_parts.append(part)
    leads = pd.concat(lead_parts, ignore_index=True)
    no_id = leads["_record"].isna()
    if no_id.any():
        b.p.add(
            "error",
            "leads",
            f"{int(no_id.sum())} row(s) of the leads export have no id",
            file=", ".join(b.files["leads"]),
            column=", ".join(spec.columns["lead_id"].columns[0] for spec, _ in raws[:1]),
            rows=leads[no_id],
            action="check that tables.leads.files matches only the leads export, and that "
            "every row has its id",
        )
    skipped = leads["product"].isna() & ~no_id
    if skipped.any():
        b.p.add(
            "error",
            "leads",
            f"{int(skipped.sum())} lead(s) have no product",
            file=", ".join(b.files["leads"]),
            column=", ".join(m.product.column.columns) if m.product.column else "product",
            rows=leads[skipped],
            action="fill in the product, or set product.default in the mapping",
        )
    if "email" in leads:
        leads["_email"] = _norm_email(leads["email"])
    else:
        leads["_email"] = None

    # ---- campaigns (their products attribute activities of people with several leads)
    campaigns = None
    craws = b.read_table("campaigns")
    if craws:
        campaigns = pd.concat([b.build(spec, r, b.base(r)) for spec, r in craws], ignore_index=True)
    camp_product = dict(m.campaign_products)
    if campaigns is not None and "product" in campaigns:
        known = campaigns.dropna(subset=["campaign_id", "product"])
        camp_product = {
            **dict(zip(known["campaign_id"], known["product"], strict=True)),
            **camp_product,
        }

    by_email = (
        leads.dropna(subset=["_email"])
        .sort_values(["created_at", "_record"], na_position="last")
        .drop_duplicates("_email")
        .set_index("_email")["_record"]
        if leads["_email"].notna().any()
        else pd.Series(dtype=object)
    )

    def link(frame: pd.DataFrame, table: str, time: str, product: str | None) -> pd.DataFrame:
        rec = (
            frame["lead_id"]
            if "lead_id" in frame
            else pd.Series(None, index=frame.index, dtype=object)
        )
        if "lead_email" in frame:
            rec = rec.where(rec.notna(), _norm_email(frame["lead_email"]).map(by_email))
        frame["_record"] = rec
        lead = _attach(frame, leads, record="_record", time=time, product=product)
        unlinked = frame["_record"].notna() & lead.isna()
        if unlinked.any():
            b.p.add(
                "warning",
                table,
                f"{int(unlinked.sum())} row(s) name a person not in the leads export; their "
                "lead_id is kept as written (the contract check reports them as orphans)",
                file=", ".join(b.files.get(table, [])),
                column="lead_id",
                rows=frame[unlinked],
                values=frame["_record"],
                action="export the leads and the other tables for the same people and period",
            )
        no_ref = frame["_record"].isna()
        if no_ref.any() and table != "opportunities":
            b.p.add(
                "warning",
                table,
                f"{int(no_ref.sum())} row(s) name no person (no id, or an e-mail address not in "
                "the leads export)",
                file=", ".join(b.files.get(table, [])),
                column="lead_id",
                rows=frame[no_ref],
                action="export the person's id or e-mail address with each row",
            )
        frame["lead_id"] = lead.where(lead.notna(), frame["_record"])
        return frame

    # ---- activities
    acts = pd.DataFrame(columns=[c.name for c in TABLES["activities"].columns])
    araws = b.read_table("activities")
    if araws:
        acts = pd.concat([b.build(spec, r, b.base(r)) for spec, r in araws], ignore_index=True)
        acts = acts[acts["activity_type"] != _SKIP].copy()
        for col in ("campaign_id", "asset_name", "category"):
            if col not in acts:
                acts[col] = None
        acts["_cproduct"] = acts["campaign_id"].map(camp_product)
        acts = link(acts, "activities", "occurred_at", "_cproduct")
        acts["category"] = _categorise(acts, m.category_rules)
    if "activities" not in b.files or not b.files["activities"]:
        b.p.add(
            "warning",
            "activities",
            "no activity export was found; the activities table is empty",
            action="export the activities (see docs/importers.md) and put them in the folder",
        )

    # ---- stage changes: dates on the leads export, and/or a stage history export
    stages = [s for s in stage_parts if len(s)]
    for sspec, r in b.read_table("stage_changes"):
        part = b.build(sspec, r, b.base(r))
        part = part[part["stage"].notna() & (part["stage"] != _SKIP)].copy()
        stages.append(
            link(part, "stage_changes", "changed_at", "product" if "product" in part else None)
        )
    stage_changes = (
        pd.concat(stages, ignore_index=True)
        if stages
        else pd.DataFrame(columns=["lead_id", "stage", "changed_at"])
    )

    # ---- opportunities
    opps = pd.DataFrame(columns=[c.name for c in TABLES["opportunities"].columns])
    oraws = b.read_table("opportunities")
    if oraws:
        opps = pd.concat([b.build(spec, r, b.base(r)) for spec, r in oraws], ignore_index=True)
        opps = opps[opps.get("status", pd.Series(dtype=object)) != _SKIP].copy()
        if "lead_id" not in opps:
            opps["lead_id"] = None
        if "converted_opportunity_id" in leads and leads["converted_opportunity_id"].notna().any():
            # Salesforce: a converted lead names its opportunity; sales-sourced deals have none.
            conv = leads.dropna(subset=["converted_opportunity_id"]).drop_duplicates(
                "converted_opportunity_id"
            )
            via = opps["opportunity_id"].map(conv.set_index("converted_opportunity_id")["_record"])
            opps["lead_id"] = opps["lead_id"].where(opps["lead_id"].notna(), via)
        if "product" not in opps:
            opps["product"] = None
        opps = link(opps, "opportunities", "created_at", "product")
        lead_product = leads.set_index("lead_id")["product"]
        fill = opps["product"].isna() & opps["lead_id"].notna()
        opps.loc[fill, "product"] = opps.loc[fill, "lead_id"].map(lead_product)
        if m.product.default is not None:
            opps["product"] = opps["product"].where(opps["product"].notna(), m.product.default)
        if "status" in opps and "closed_at" in opps:
            # a CRM's close date of an open deal is the expected one, not a close
            opps.loc[opps["status"] == "open", "closed_at"] = pd.NaT
        missing = opps["product"].isna()
        if missing.any():
            b.p.add(
                "error",
                "opportunities",
                f"{int(missing.sum())} opportunities have no product and no lead to take it from",
                file=", ".join(b.files["opportunities"]),
                column="product",
                rows=opps[missing],
                action="export the deal's product, or set product.default in the mapping",
            )
    events = build_stage_events(b, m)
    spend = build_spend(b, m)
    if events is None and not b.files.get("opportunities"):
        b.p.add(
            "warning",
            "opportunities",
            "no opportunity export was found; the opportunities table is empty",
            action="add the CRM's opportunity report (see docs/importers.md)",
        )

    # ---- scores: the tool's own lead scores, often columns of the leads export itself; an
    # export without scored_at is a snapshot (docs/data-contract.md)
    scores = None
    sraws = b.read_table("scores")
    if sraws:
        scores = pd.concat([b.build(spec, r, b.base(r)) for spec, r in sraws], ignore_index=True)
        unscored = scores["score"].isna()
        if unscored.any():
            # a lead the tool has not scored has no score, which is not a score of 0
            b.p.add(
                "warning",
                "scores",
                f"{int(unscored.sum())} row(s) have no score; no score row was written for them",
                file=", ".join(b.files["scores"]),
                column=", ".join(sraws[0][0].columns["score"].columns),
                rows=scores[unscored],
                action="nothing to do if the tool scores only some leads",
            )
        scores = link(scores[~unscored].copy(), "scores", "scored_at", None)

    if b.p.errors:
        raise DataContractError(b.p.errors)

    tables = {
        "leads": _contract_frame("leads", leads, ("name", "phone"), _attributes(m, "leads")),
        "activities": _contract_frame("activities", acts),
        "stage_changes": _contract_frame("stage_changes", stage_changes),
        "opportunities": _contract_frame(
            "opportunities", opps, kept=_attributes(m, "opportunities")
        ),
    }
    if campaigns is not None:
        tables["campaigns"] = _contract_frame("campaigns", campaigns)
    if scores is not None:
        tables["scores"] = _contract_frame("scores", scores)
    if events is not None:
        tables["stage_events"] = _contract_frame(
            "stage_events", events, kept=_attributes(m, "stage_events")
        )
    if spend is not None:
        tables["spend"] = _contract_frame("spend", spend)
    return ImportResult(
        m.name,
        tables,
        b.p.findings,
        {k: v for k, v in b.files.items() if v},
        timezone=timezone,
        source_timezone=m.timezone,
        currency=m.currency,
        codes=m.codes(),
    )
