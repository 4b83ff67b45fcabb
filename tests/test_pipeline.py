"""Pipeline inventory and SLA on a planted dataset, on the sample, and on stage reports.

Report month 2026-03: its start is 2026-03-01 00:00, its end 2026-04-01 00:00. SLA: mql 14
days, sql 30; default buckets. Ages are whole days to the month's end.

    P1  A webinar     mql 03-20 10:00                          -> open MQL 11 d (8–14)
    P2  A web_ad      mql 03-17 00:00                          -> open MQL 15 d, past SLA
    P3  A (no source) mql 03-18 00:00                          -> open MQL 14 d, within SLA
    P4  B exhibition  mql 2025-10-01                           -> open MQL 182 d (91+), past
    P5  B webinar     mql 2025-12-01, again 03-25 (still open) -> re-entered, recycled, 6 d
    P6  A organic     mql 02-10, sql 03-05                     -> MQL out late (23 d), SQL 27 d
    P7  B organic     mql 01-01, sql 01-15, opportunity 03-10  -> SQL out late (54 d)
    P8  A webinar     mql 03-28, sql 04-03 (after the end)     -> open MQL 4 d
    P9  B event       mql 04-05 (after the end)                -> nothing
    P10 A web_ad      sql 2026-01-01                           -> open SQL 90 d, past SLA
    P11 B referral    sql 02-01, mql 03-15 (back to MQL)       -> SQL returned; open MQL 17 d
    P12 A webinar     mql 02-20, opp 02-25, mql 03-12          -> reopened: inflow, recycled
    P13 A webinar     mql and sql at 03-08 00:00               -> MQL in and out, open SQL 24 d
    P14 B webinar     mql 03-02 (recorded twice), opp 03-03    -> MQL in and out in time
    P15 A webinar     mql 03-03, mql 03-10                     -> first entry and re-entry, 22 d
    P16 A webinar     opportunity only                         -> nothing
    P17 A organic     mql 02-20, sql 03-06: exactly 14 d in MQL -> MQL out in time, SQL 26 d
    P18 B organic     mql 02-10, sql 03-01 00:00 (the start), opp 03-20
                                                               -> open MQL at the start; MQL out
                                                                  late (19 d), SQL out in time
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.core.io import load_yaml
from maops_utils.core.schema import ALL
from maops_utils.importers import import_exports, load_mapping, write_import
from maops_utils.metrics.compute import metric_values
from maops_utils.metrics.stages import DEFAULT_AGE_BUCKETS, _funnel, default_funnel, load_funnel
from maops_utils.reports.kpi import pipeline

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-03"
START, END = pd.Timestamp("2026-03-01"), pd.Timestamp("2026-04-01")
SHIPPED = load_yaml(ROOT / "params" / "funnel.yaml")  # the stages' labels: MQL, SQL
FUNNEL = _funnel({**SHIPPED, "sla": {"mql": 14, "sql": 30}}, Path("funnel.yaml"))

LEADS = """lead_id,created_at,product,lead_source
P1,2025-09-01,A,webinar
P2,2025-09-01,A,web_ad
P3,2025-09-01,A,
P4,2025-09-01,B,exhibition
P5,2025-09-01,B,webinar
P6,2025-09-01,A,organic
P7,2025-09-01,B,organic
P8,2025-09-01,A,webinar
P9,2025-09-01,B,event
P10,2025-09-01,A,web_ad
P11,2025-09-01,B,referral
P12,2025-09-01,A,webinar
P13,2025-09-01,A,webinar
P14,2025-09-01,B,webinar
P15,2025-09-01,A,webinar
P16,2025-09-01,A,webinar
P17,2025-09-01,A,organic
P18,2025-09-01,B,organic
"""

STAGE_CHANGES = """lead_id,stage,changed_at
P1,mql,2026-03-20 10:00:00
P2,mql,2026-03-17 00:00:00
P3,mql,2026-03-18 00:00:00
P4,mql,2025-10-01 00:00:00
P5,mql,2025-12-01 00:00:00
P5,mql,2026-03-25 09:00:00
P6,mql,2026-02-10 00:00:00
P6,sql,2026-03-05 00:00:00
P7,mql,2026-01-01 00:00:00
P7,sql,2026-01-15 00:00:00
P8,mql,2026-03-28 00:00:00
P8,sql,2026-04-03 00:00:00
P9,mql,2026-04-05 00:00:00
P10,sql,2026-01-01 00:00:00
P11,sql,2026-02-01 00:00:00
P11,mql,2026-03-15 00:00:00
P12,mql,2026-02-20 00:00:00
P12,mql,2026-03-12 00:00:00
P13,sql,2026-03-08 00:00:00
P13,mql,2026-03-08 00:00:00
P14,mql,2026-03-02 00:00:00
P14,mql,2026-03-02 00:00:00
P15,mql,2026-03-03 00:00:00
P15,mql,2026-03-10 00:00:00
P17,mql,2026-02-20 00:00:00
P17,sql,2026-03-06 00:00:00
P18,mql,2026-02-10 00:00:00
P18,sql,2026-03-01 00:00:00
"""

OPPORTUNITIES = """opportunity_id,lead_id,product,created_at,status,closed_at,amount
O1,P7,B,2026-03-10 00:00:00,open,,1000
O2,P12,A,2026-02-25 00:00:00,lost,2026-03-01 00:00:00,1000
O3,P14,B,2026-03-03 00:00:00,open,,1000
O4,,A,2026-03-05 00:00:00,open,,1000
O5,P16,A,2026-03-06 00:00:00,open,,1000
O6,P18,B,2026-03-20 00:00:00,open,,1000
"""

# the ages planted above, to the month's end
PLANTED_MQL_AGES = {
    "P1": 11,
    "P2": 15,
    "P3": 14,
    "P4": 182,
    "P5": 6,
    "P8": 4,
    "P11": 17,
    "P12": 20,
    "P15": 22,
}
PLANTED_SQL_AGES = {"P6": 27, "P10": 90, "P13": 24, "P17": 26}


def _write(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(LEADS, encoding="utf-8")
    (folder / "stage_changes.csv").write_text(STAGE_CHANGES, encoding="utf-8")
    (folder / "opportunities.csv").write_text(OPPORTUNITIES, encoding="utf-8")
    (folder / "activities.csv").write_text(
        "lead_id,activity_type,occurred_at\nP1,email_send,2026-03-01\n", encoding="utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return load_dataset(
        _write(tmp_path_factory.mktemp("pipeline")), as_of=pd.Timestamp("2026-06-01")
    )


# ---------------------------------------------------------------- the definitions, by hand


def _events(stage_rows, opp_rows, end):
    """lead -> its events before `end`, ordered: (time, rank, kind); duplicates once."""
    rank = {"mql": 1, "sql": 2, "opportunity": 3}
    out = defaultdict(set)
    for lead, stage, at in stage_rows:
        if stage in ("mql", "sql") and at is not None and at < end:
            out[lead].add((at, rank[stage], stage))
    for lead, at in opp_rows:
        if lead is not None and at is not None and at < end:
            out[lead].add((at, 3, "opportunity"))
    return {lead: sorted(ev) for lead, ev in out.items()}


def _whole_days(a, b):
    return math.floor((b - a).total_seconds() / 86400)


def by_hand(stage_rows, opp_rows, group_of, month_start, month_end, sla):
    """Per (stage, group): the open leads' ages at the end and the month's flows, walking each
    lead's events one by one (plain Python, the module docstring's words)."""
    ages = defaultdict(list)
    flows = defaultdict(lambda: defaultdict(int))
    per_lead = defaultdict(set)  # (stage, group, measure) -> leads
    for lead, events in _events(stage_rows, opp_rows, month_end).items():
        groups = (group_of[lead], ALL)
        state, since, seen = None, None, defaultdict(int)
        open_at_start, started = None, False
        for at, _, kind in events:
            if at >= month_start and not started:
                open_at_start, started = state, True
            in_month = at >= month_start
            if in_month:
                for g in groups:
                    if kind in ("mql", "sql"):
                        if state == kind:
                            flows[kind, g]["reentered"] += 1
                        else:
                            flows[kind, g]["inflow"] += 1
                        name = "first_entries" if seen[kind] == 0 else "recycled"
                        per_lead[kind, g, name].add(lead)
                    if state in ("mql", "sql") and kind != state:
                        flows[state, g]["outflow"] += 1
                        if state == "sql" and kind == "mql":
                            flows[state, g]["returned"] += 1
                        if sla.get(state) is not None and _whole_days(since, at) > sla[state]:
                            flows[state, g]["decided_late"] += 1
            seen[kind] += 1
            state, since = kind, at
        if not started:  # no event in the month
            open_at_start = state
        for g in groups:
            if open_at_start in ("mql", "sql"):
                flows[open_at_start, g]["open_at_start"] += 1
            if state in ("mql", "sql"):
                ages[state, g].append(_whole_days(since, month_end))
    for (stage, g, name), leads in per_lead.items():
        flows[stage, g][name] = len(leads)
    return ages, flows


def _rows(ds):
    sc = ds["stage_changes"]
    stage_rows = [
        (r.lead_id, r.stage, None if pd.isna(r.changed_at) else r.changed_at)
        for r in sc.itertuples()
    ]
    op = ds["opportunities"]
    opp_rows = [
        (None if pd.isna(r.lead_id) else r.lead_id, None if pd.isna(r.created_at) else r.created_at)
        for r in op.itertuples()
    ]
    return stage_rows, opp_rows


def _group_of(ds, by):
    leads = ds["leads"]
    values = leads[by].astype("string").str.strip().replace("", pd.NA).fillna("unknown")
    return dict(zip(leads["lead_id"], values, strict=True))


def _bucket(age, edges=DEFAULT_AGE_BUCKETS):
    return pipeline.bucket_labels(edges)[sum(age > e for e in edges)]


def _assert_matches(inv, ages, flows, sla):
    groups = set(inv.flows["group"])
    for row in inv.open.itertuples():
        mine = [a for a in ages[row.stage, row.group] if _bucket(a) == row.bucket]
        assert row.open == len(mine), (row.stage, row.group, row.bucket)
        late = sum(a > sla[row.stage] for a in mine) if row.stage in sla else 0
        assert row.past_sla == late, (row.stage, row.group, row.bucket)
    measures = [
        "open_at_start",
        "inflow",
        "outflow",
        "first_entries",
        "recycled",
        "reentered",
        "returned",
        "decided_late",
    ]
    for row in inv.flows.itertuples():
        key = (row.stage, row.group)
        mine = ages[key]
        assert row.open_at_end == len(mine), key
        for m in measures:
            assert getattr(row, m) == flows[key][m], (key, m)
        late = sum(a > sla[row.stage] for a in mine) if row.stage in sla else 0
        assert row.past_sla == late, key
        if mine:
            assert row.oldest_days == max(mine), key
        else:
            assert math.isnan(row.oldest_days), key
    # every group with a lead in it is listed
    assert {g for _, g in ages} <= groups


# ---------------------------------------------------------------- planted truth


@pytest.mark.parametrize("by", ["product", "lead_source"])
def test_planted_counts_equal_the_walk_by_hand(planted, by):
    inv = pipeline.inventory(planted, FUNNEL, MONTH, by=by)
    ages, flows = by_hand(*_rows(planted), _group_of(planted, by), START, END, dict(FUNNEL.sla))
    _assert_matches(inv, ages, flows, dict(FUNNEL.sla))


def test_planted_ages_are_the_planted_ones(planted):
    ages, _ = by_hand(*_rows(planted), _group_of(planted, "product"), START, END, {})
    assert sorted(ages["mql", ALL]) == sorted(PLANTED_MQL_AGES.values())
    assert sorted(ages["sql", ALL]) == sorted(PLANTED_SQL_AGES.values())
    inv = pipeline.inventory(planted, FUNNEL, MONTH)
    total = inv.open[inv.open["group"] == ALL].groupby("stage")[["open", "past_sla"]].sum()
    assert total.loc["mql", "open"] == len(PLANTED_MQL_AGES)
    # past the 14-day SLA: 15, 182, 17, 20, 22 (14 days exactly is within it)
    assert total.loc["mql", "past_sla"] == sum(a > 14 for a in PLANTED_MQL_AGES.values()) == 5
    assert total.loc["sql", "past_sla"] == 1  # P10, 90 days
    mql = inv.flows[(inv.flows["stage"] == "mql") & (inv.flows["group"] == ALL)].iloc[0]
    # P6 (23 days) and P18 (19) left late; P13 (0 days), P14 (1) and P17 (14) in time
    assert (mql["outflow"], mql["decided_late"]) == (5, 2)
    # P4, P5, P6, P17 and P18, whose SQL entry at the start's very instant is not before it
    assert mql["open_at_start"] == 5
    sql = inv.flows[(inv.flows["stage"] == "sql") & (inv.flows["group"] == ALL)].iloc[0]
    # P7 to its opportunity after 54 days, P11 back to MQL after 42: both after the 30 days;
    # P18 to its opportunity after 19
    assert (sql["outflow"], sql["returned"], sql["decided_late"]) == (3, 1, 2)
    assert mql["oldest_days"] == 182
    channel = pipeline.inventory(planted, FUNNEL, MONTH, by="lead_source")
    unknown = channel.flows[
        (channel.flows["group"] == "unknown") & (channel.flows["stage"] == "mql")
    ]
    assert unknown["open_at_end"].tolist() == [1]  # P3, no lead_source


@pytest.mark.parametrize("month", ["2026-01", "2026-02", "2026-03", "2026-04"])
def test_open_at_end_is_open_at_start_plus_inflow_minus_outflow(planted, month):
    flows = pipeline.inventory(planted, FUNNEL, month).flows
    assert (
        flows["open_at_end"] == flows["open_at_start"] + flows["inflow"] - flows["outflow"]
    ).all()
    nxt = pipeline.inventory(planted, FUNNEL, str(pd.Period(month, "M") + 1)).flows
    assert nxt["open_at_start"].tolist() == flows["open_at_end"].tolist()


def test_every_bucket_has_a_row_and_the_open_rows_add_up(planted):
    edges = (3, 10)
    funnel = _funnel({**SHIPPED, "age_buckets": list(edges)}, Path("funnel.yaml"))
    inv = pipeline.inventory(planted, funnel, MONTH)
    assert pipeline.bucket_labels(edges) == ["0–3", "4–10", "11+"]
    assert len(inv.open) == 2 * 3 * 3  # stages × (A, B, ALL) × buckets
    summed = inv.open.groupby(["stage", "group"])["open"].sum()
    ends = inv.flows.set_index(["stage", "group"])["open_at_end"]
    assert summed.sort_index().tolist() == ends.sort_index().tolist()
    # no SLA: nothing is past it, and the SLA is empty
    assert (inv.flows["past_sla"] == 0).all() and inv.flows["sla_days"].isna().all()
    assert pipeline.t("pl_no_sla", "en") in pipeline.report_sentences(inv, locale="en")
    assert pipeline.month_page_line(inv) is None


def test_report_words_and_the_month_page_line(planted):
    inv = pipeline.inventory(planted, FUNNEL, MONTH)
    line = pipeline.month_page_line(inv, locale="ja", names={"A": "ミライガード"})
    # five MQLs past 14 days, three of them of product A (P2, P12, P15); the oldest 182 days
    assert line.startswith(
        "SLA超過: MQL 5件が14日を超えて未対応（うち91+日 1件、最長 182日、ミライガード 3件）"
    )
    assert "SQL 1件が30日を超えて未対応" in line
    en = pipeline.report_sentences(inv, locale="en")
    assert any("rejection stage recorded in the MA tool" in s for s in en)
    assert any("oldest bucket (91+ days)" in s and "the 1 in" in s for s in en)
    table = pipeline.summary_table(inv, locale="en")
    assert table.iloc[0]["Product"] == "All" and table.iloc[0]["Open at end"] == 9
    assert not {"lead_id", "email"} & set(table.columns)
    fig = pipeline.pipeline_chart(inv, locale="ja", names={"A": "ミライガード"})
    labels = [tick.get_text() for ax in fig.axes for tick in ax.get_yticklabels()]
    assert "ミライガード" in labels
    texts = {x.get_text() for ax in fig.axes for x in ax.texts}
    assert {"9", "4"} <= texts  # open MQLs and SQLs of the whole business


# ---------------------------------------------------------------- the sample


@pytest.mark.parametrize("month", ["2026-06", "2026-10"])
def test_the_sample_equals_an_independent_pandas_computation(sample_ds, month):
    funnel = load_funnel(ROOT / "workspaces" / "sample" / "params")
    inv = pipeline.inventory(sample_ds, funnel, month)
    start, end = (
        pd.Timestamp(f"{month}-01"),
        pd.Timestamp(f"{month}-01") + pd.offsets.MonthBegin(1),
    )
    sc = sample_ds["stage_changes"]
    sc = sc[sc["changed_at"] < end][["lead_id", "stage", "changed_at"]].drop_duplicates()
    op = sample_ds["opportunities"]
    op = op[op["lead_id"].notna() & (op["created_at"] < end)][["lead_id", "created_at"]]
    ev = pd.concat(
        [
            sc.rename(columns={"stage": "kind", "changed_at": "at"}),
            op.drop_duplicates().rename(columns={"created_at": "at"}).assign(kind="opportunity"),
        ]
    )
    ev["rank"] = ev["kind"].map({"mql": 1, "sql": 2, "opportunity": 3})
    ev = ev.sort_values(["lead_id", "at", "rank"]).reset_index(drop=True)
    ev["prev"] = ev.groupby("lead_id")["kind"].shift()
    ev["prev_at"] = ev.groupby("lead_id")["at"].shift()
    ev["nth"] = ev.groupby(["lead_id", "kind"]).cumcount()
    product = sample_ds["leads"].set_index("lead_id")["product"]
    ev["group"] = ev["lead_id"].map(product)
    last = ev.groupby("lead_id").tail(1)
    before = ev[ev["at"] < start].groupby("lead_id").tail(1)
    days = lambda a, b: ((b - a).dt.total_seconds() // 86400).astype("int64")  # noqa: E731
    last = last.assign(age=days(last["at"], pd.Series(end, index=last.index)))
    inm = ev[ev["at"] >= start]
    sla = dict(funnel.sla)
    for row in inv.flows.itertuples():
        pick = (lambda f: f) if row.group == ALL else (lambda f, g=row.group: f[f["group"] == g])
        s = row.stage
        open_end = pick(last[last["kind"] == s])
        moves_out = pick(inm[(inm["prev"] == s) & (inm["kind"] != s)])
        entries = pick(inm[inm["kind"] == s])
        expected = {
            "open_at_start": len(pick(before[before["kind"] == s])),
            "open_at_end": len(open_end),
            "inflow": int((entries["prev"] != s).sum()),
            "reentered": int((entries["prev"] == s).sum()),
            "outflow": len(moves_out),
            "returned": int((moves_out["kind"] == "mql").sum()) if s == "sql" else 0,
            "first_entries": entries.loc[entries["nth"] == 0, "lead_id"].nunique(),
            "recycled": entries.loc[entries["nth"] > 0, "lead_id"].nunique(),
            "past_sla": int((open_end["age"] > sla[s]).sum()),
            "decided_late": int((days(moves_out["prev_at"], moves_out["at"]) > sla[s]).sum()),
        }
        got = {k: getattr(row, k) for k in expected}
        assert got == expected, (s, row.group)
        assert row.oldest_days == open_end["age"].max() or open_end.empty
    # the first entries are the core metrics mqls and sqls
    core = metric_values(sample_ds, month, ["mqls", "sqls"]).set_index("product")
    for s, metric in (("mql", "mqls"), ("sql", "sqls")):
        mine = inv.flows[inv.flows["stage"] == s].set_index("group")["first_entries"]
        assert mine.to_dict() == core[metric].astype(int).to_dict()
    buckets = inv.open.groupby(["stage", "group"])["open"].sum()
    assert buckets.to_dict() == inv.flows.set_index(["stage", "group"])["open_at_end"].to_dict()


# ---------------------------------------------------------------- stage reports


def test_stage_reports_say_inventory_needs_lead_level_data(tmp_path):
    exports = ROOT / "tests" / "fixtures" / "exports" / "stage_reports"
    mapping = ROOT / "params" / "mappings" / "example_stage_reports.yaml"
    result = import_exports(exports, load_mapping("stage-reports", mapping), timezone="UTC")
    write_import(result, tmp_path / "data", timezone="UTC")
    dataset = load_dataset(tmp_path / "data", timezone="UTC")
    inv = pipeline.inventory(dataset, FUNNEL, "2023-01")
    assert not inv.available and inv.reason == pipeline.NEEDS_LEAD_LEVEL
    assert "lead-level data (stage_changes with lead ids)" in inv.reason
    assert inv.open.empty and inv.flows.empty
    for locale in ("ja", "en"):
        assert pipeline.report_sentences(inv, locale=locale) == [
            pipeline.t("pl_needs_lead_level", locale)
        ]
    assert pipeline.month_page_line(inv) is None and pipeline.summary_table(inv).empty
    assert pipeline.pipeline_chart(inv) is None  # the sentence says why; no blank picture


# ---------------------------------------------------------------- settings


def test_settings_default_and_shipped():
    assert default_funnel().sla == () and default_funnel().age_buckets == DEFAULT_AGE_BUCKETS
    assert load_funnel(ROOT / "params").sla == ()
    sample = load_funnel(ROOT / "workspaces" / "sample" / "params")
    raw = load_yaml(ROOT / "workspaces" / "sample" / "params" / "funnel.yaml")
    assert dict(sample.sla) == raw["sla"] and list(sample.age_buckets) == raw["age_buckets"]
    assert sample.sla_days("mql") == raw["sla"]["mql"] and sample.sla_days("lead") is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"sla": {"mq": 14}}, ["sla.mq", "unknown", "did you mean", "mql"]),
        ({"sla": {"won": 14}}, ["sla.won", "no lead waits in"]),
        ({"sla": {"mql": 0}}, ["sla.mql", "'0'", "whole number of days"]),
        ({"sla": {"mql": 1.5}}, ["sla.mql", "'1.5'"]),
        ({"sla": {"mql": True}}, ["sla.mql", "'True'"]),
        ({"sla": {"mql": "14"}}, ["sla.mql", "'14'"]),
        ({"sla": [14, 30]}, ["sla", "[14, 30]", "sla: {mql: 14, sql: 30}"]),
        ({"age_buckets": [14, 7]}, ["age_buckets", "[14, 7]", "increasing"]),
        ({"age_buckets": []}, ["age_buckets", "[]"]),
        ({"age_buckets": [0, 7]}, ["age_buckets", "[0, 7]"]),
        ({"age_bucket": [7]}, ["unknown key 'age_bucket'", "age_buckets"]),
    ],
)
def test_bad_settings_name_the_file_the_key_and_the_value(tmp_path, data, words):
    import yaml

    (tmp_path / "funnel.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_funnel(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "funnel.yaml") in message
    for word in words:
        assert word in message, message


def test_bad_arguments():
    with pytest.raises(ValueError, match="by must be one of"):
        pipeline.compile_inventory_query(MONTH, by="campaign_id")
    with pytest.raises(ConfigError):
        pipeline.compile_inventory_query("2026-3")


# ---------------------------------------------------------------- scale


BENCH = sorted((ROOT / "benchmarks" / "data").glob("leads-1000000-*[0-9]"))


@pytest.mark.slow
@pytest.mark.skipif(not BENCH, reason="no 1M-lead bench data (make bench generates it)")
def test_a_million_leads_in_a_few_seconds():
    dataset = load_dataset(BENCH[0])
    began = time.perf_counter()
    inv = pipeline.inventory(dataset, FUNNEL, "2026-10")
    spent = time.perf_counter() - began
    assert spent < 10, spent
    assert np.isfinite(inv.flows["open_at_end"]).all()
