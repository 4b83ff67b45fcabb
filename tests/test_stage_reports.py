"""Layout A of docs/importers.md: a funnel exported as one report per stage, without a shared
id, plus spend per channel. Imported with the shipped example mapping, every count, amount
and cost the reports show must equal a computation from the raw files written here with the
standard library alone."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError, DataContractError
from maops_utils.importers import import_exports, load_mapping, write_import
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.metrics.compute import metric_values
from maops_utils.metrics.specs import Count
from maops_utils.reports.kpi import review

ROOT = Path(__file__).resolve().parents[1]
EXPORTS = ROOT / "tests" / "fixtures" / "exports" / "stage_reports"
MAPPING = ROOT / "params" / "mappings" / "example_stage_reports.yaml"
MONTHS = ["2022-11", "2022-12", "2023-01"]
SPEND_CODES = {
    "Content Syndication": "paid-content-syndication",
    "Paid Search": "paid-search",
    "Paid Social": "paid-social",
    "Display Ads": "paid-display-ads",
    "Remarketing": "paid-remarketing",
}


# ---------------------------------------------------------------- the raw files, read by hand


def _rows(name: str) -> list[dict[str, str]]:
    text = (EXPORTS / name).read_bytes().decode("utf-8")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _month(text: str) -> str:
    day = text.split(" ")[0]
    return datetime.strptime(day, "%m/%d/%Y").strftime("%Y-%m")


def _brl(text: str) -> float:
    return float(text.replace("R$", "").strip().replace(".", "").replace(",", "."))


STAGE_FILES = {  # stage -> (file, date column, amount column)
    "new_leads": ("Leads.csv", "Created Date", None),
    "mqls": ("MQLs.csv", "Marketing Qualified Date", None),
    "opportunities": (
        "Pipeline_Opportunities.csv",
        "Reached Pipeline Opportunity Date",
        "Pipeline Amount",
    ),
    "won_deals": ("Closed_Won_Bookings.csv", "Close Date", "Closed Won Bookings Amount"),
}


def _by_hand(key: str, **other: str) -> dict[str, Counter]:
    """stage -> Counter of (month, value of column `key`, or of the column `other` names for
    that stage)."""
    out = {}
    for stage, (name, date_col, _) in STAGE_FILES.items():
        col = other.get(stage, key)
        out[stage] = Counter((_month(r[date_col]), r[col] or "unknown") for r in _rows(name))
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("stage") / "data"
    result = import_exports(EXPORTS, load_mapping("stage-reports", MAPPING), timezone="UTC")
    write_import(result, out, timezone="UTC")
    return load_dataset(out, timezone="UTC")


# ---------------------------------------------------------------- the import


def test_the_export_imports_as_leads_and_stage_events(dataset):
    assert len(dataset["leads"]) == len(_rows("Leads.csv"))
    events = dataset["stage_events"]
    assert Counter(events["stage"]) == {
        "mql": len(_rows("MQLs.csv")),
        "opportunity": len(_rows("Pipeline_Opportunities.csv")),
        "won": len(_rows("Closed_Won_Bookings.csv")),
    }
    assert dataset["stage_changes"].empty and dataset["opportunities"].empty
    assert not dataset.follows_leads
    assert dataset.products == ["PAID"]
    for frame in (dataset["leads"], events, dataset["spend"]):
        text = frame.astype("string").stack()
        assert not text.isin(["nan", "__maops_skip__", "None"]).any()


def test_generated_ids_are_stable_distinct_and_independent_of_the_file_name(dataset, tmp_path):
    leads = dataset["leads"]["lead_id"]
    assert leads.is_unique and leads.str.fullmatch(r"L[0-9a-f]{16}").all()
    events = dataset["stage_events"]["event_id"]
    assert events.is_unique  # MQLs.csv holds two identical rows: two MQLs, two ids
    src = tmp_path / "src"
    shutil.copytree(EXPORTS, src)
    (src / "Leads.csv").rename(src / "Leads_2023.csv")
    again = import_exports(src, load_mapping("stage-reports", MAPPING), timezone="UTC")
    assert sorted(again.tables["leads"]["lead_id"]) == sorted(leads)
    assert sorted(again.tables["stage_events"]["event_id"]) == sorted(events)


def test_decimal_commas_and_brl_spend_are_read_as_written(dataset):
    events = dataset["stage_events"]
    pipeline = events.loc[events["stage"] == "opportunity", "amount"].sum()
    by_hand = sum(_brl(r["Pipeline Amount"]) for r in _rows("Pipeline_Opportunities.csv"))
    assert pipeline == pytest.approx(by_hand, abs=1e-6)
    spend = dataset["spend"]
    assert set(spend["month"]) == set(MONTHS) and set(spend["spread_over"]) == {3}
    assert set(spend["currency"]) == {"BRL"}
    total = spend.groupby("channel")["amount"].sum()
    for row in _rows("Spend.csv"):
        assert total[SPEND_CODES[row["Channel"]]] == pytest.approx(_brl(row["Spend"]))


# ---------------------------------------------------------------- the numbers


def test_every_stage_per_month_and_channel_equals_the_raw_files(dataset):
    names = list(STAGE_FILES)
    got = metric_values(dataset, MONTHS, names, by="lead_source")
    hand = _by_hand("UTM_Medium")
    checked = 0
    for row in got.itertuples():
        for stage in names:
            value = getattr(row, stage)
            if row.lead_source == "ALL":
                want = sum(n for (m, _), n in hand[stage].items() if m == row.month)
            else:
                want = hand[stage][(row.month, row.lead_source)]
            assert value == want, (row.month, row.lead_source, stage)
            checked += 1
    assert checked == len(MONTHS) * 6 * len(names)


def test_revenue_per_channel_equals_the_bookings(dataset):
    got = metric_values(dataset, MONTHS, ["revenue", "win_rate"], by="lead_source")
    hand: dict[tuple[str, str], float] = defaultdict(float)
    for r in _rows("Closed_Won_Bookings.csv"):
        hand[_month(r["Close Date"]), r["UTM_Medium"]] += _brl(r["Closed Won Bookings Amount"])
    for row in got[got["lead_source"] != "ALL"].itertuples():
        assert row.revenue == pytest.approx(hand[row.month, row.lead_source], abs=1e-6)
    # bookings alone say nothing of deals lost: no win rate is made up
    assert got["win_rate"].isna().all()


def test_territories_and_campaigns_are_dimensions(dataset):
    # the bookings name the territory in a column of their own
    for key, hand in (
        ("territory", _by_hand("Account Owner Territory", won_deals="User Territory")),
        ("campaign_id", _by_hand("UTM_Campaign")),
    ):
        got = metric_values(dataset, MONTHS, list(STAGE_FILES), by=key)
        for row in got[got[key] != "ALL"].itertuples():
            for stage in STAGE_FILES:
                assert getattr(row, stage) == hand[stage][(row.month, getattr(row, key))]


def test_hand_raisers_per_channel_through_a_kpi_on_an_attribute(dataset):
    specs = {"hand_raisers": Count("leads", "created_at", (("hand_raiser", ("1",)),))}
    got = metric_values(dataset, MONTHS, ["hand_raisers"], by="lead_source", specs=specs)
    hand = Counter(
        (_month(r["Created Date"]), r["UTM_Medium"])
        for r in _rows("Leads.csv")
        if r["Hand Raiser"] == "1"
    )
    rows = got[got["lead_source"] != "ALL"]
    assert {(r.month, r.lead_source): r.hand_raisers for r in rows.itertuples()} == {
        (m, c): hand[(m, c)] for m, c in zip(rows["month"], rows["lead_source"], strict=True)
    }
    assert rows["hand_raisers"].sum() == sum(hand.values()) > 0


def test_a_kpi_naming_a_column_the_dataset_lacks_is_an_error_naming_it(dataset):
    specs = {"oops": Count("leads", "created_at", (("hand_rasier", ("1",)),))}
    with pytest.raises(ConfigError, match=r"KPI 'oops'.*hand_rasier.*did you mean 'hand_raiser'"):
        metric_values(dataset, MONTHS, ["oops"], specs=specs)


@pytest.fixture(scope="module")
def rv(dataset):
    return review.review(
        dataset, load_catalogue(ROOT / "params"), "2023-01", trend_months=3, locale="en"
    )


def test_cost_per_stage_pipeline_to_spend_and_roi_per_channel(rv):
    table = review.channels(rv, months=MONTHS).set_index("channel")
    spend = {SPEND_CODES[r["Channel"]]: _brl(r["Spend"]) for r in _rows("Spend.csv")}
    hand = _by_hand("UTM_Medium")
    pipeline: dict[str, float] = defaultdict(float)
    revenue: dict[str, float] = defaultdict(float)
    for r in _rows("Pipeline_Opportunities.csv"):
        pipeline[r["UTM_Medium"]] += _brl(r["Pipeline Amount"])
    for r in _rows("Closed_Won_Bookings.csv"):
        revenue[r["UTM_Medium"]] += _brl(r["Closed Won Bookings Amount"])
    for channel, cost in spend.items():
        row = table.loc[channel]
        assert row["cost"] == pytest.approx(cost)
        for stage, name in (
            ("new_leads", "cost_per_lead"),
            ("mqls", "cost_per_mql"),
            ("opportunities", "cost_per_opportunity"),
            ("won_deals", "cost_per_won"),
        ):
            n = sum(v for (_, c), v in hand[stage].items() if c == channel)
            if n:
                assert row[name] == pytest.approx(cost / n)
            else:
                assert pd.isna(row[name])
        assert row["pipeline_to_spend"] == pytest.approx(pipeline[channel] / cost)
        assert row["roi"] == pytest.approx((revenue[channel] - cost) / cost)
    assert table.loc["ALL", "cost"] == pytest.approx(sum(spend.values()))
    assert table.loc["ALL", "roi"] == pytest.approx(
        (sum(revenue.values()) - sum(spend.values())) / sum(spend.values())
    )
    assert pd.isna(table.loc["ALL", "cost_per_sql"])  # no SQL report: no SQL, no cost of one


def test_the_report_covers_the_spend_period_and_top_campaigns_per_stage(rv):
    assert review.spend_months(rv) == MONTHS
    tables = review.report_tables(rv)
    assert tables["returns"]["month"].iloc[0] == "2022-11..2023-01"
    assert tables["cohorts"] is None and tables["velocity"] is None
    camps = tables["stage_campaigns"].set_index("campaign_id")
    hand = _by_hand("UTM_Campaign")
    for stage in STAGE_FILES:
        for campaign in camps.index.drop("ALL"):
            assert camps.loc[campaign, stage] == sum(
                n for (_, c), n in hand[stage].items() if c == campaign
            )
    order = camps.drop("ALL")["mqls"].tolist()
    assert order == sorted(order, reverse=True)
    assert set(review.tables_for_output(pd.DataFrame(), tables)) >= {"returns", "stage_campaigns"}
    assert "cohorts" not in review.tables_for_output(pd.DataFrame(), tables)


def test_lead_level_analyses_are_refused_with_the_reason(dataset):
    from maops_utils.core.errors import NotEnoughData
    from maops_utils.metrics import funnel

    with pytest.raises(NotEnoughData, match="no lead can be followed"):
        funnel.require_followed(dataset, "the scoring calibration")


# ---------------------------------------------------------------- what the contract refuses


def test_stage_events_beside_stage_changes_are_refused(dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(Path(dataset.sources["leads"]["path"]).parent, data)
    lead = dataset["leads"]["lead_id"].iloc[0]
    (data / "stage_changes.csv").write_text(
        f"lead_id,stage,changed_at\n{lead},mql,2022-12-01\n", encoding="utf-8"
    )
    with pytest.raises(DataContractError, match="counted twice"):
        load_dataset(data, timezone="UTC")


def test_a_spend_month_that_is_not_a_month_is_fatal(dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(Path(dataset.sources["leads"]["path"]).parent, data)
    (data / "spend.csv").write_text("month,amount,channel\n2022/11,100,paid-search\n")
    with pytest.raises(DataContractError, match=r"not months[\s\S]*2022/11"):
        load_dataset(data, timezone="UTC")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"generate": True, "column": "X"}, "either generated or read"),
        ({"generate": "always"}, "generate: write true"),
        ({"generate": 1}, "generate: write true"),
    ],
)
def test_a_generated_id_is_declared_plainly(tmp_path, change, message):
    text = MAPPING.read_text(encoding="utf-8").replace(
        "lead_id: {generate: true}", f"lead_id: {change}".replace("'", "")
    )
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_mapping("x", path)


def test_spend_needs_a_month_or_a_spread(tmp_path):
    text = MAPPING.read_text(encoding="utf-8").replace(
        "    spread: {from: 2022-11, to: 2023-01}", ""
    )
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="spend needs its month"):
        load_mapping("x", path)


# ---------------------------------------------------------------- what an import records


def _settings(data, **given):
    from maops_utils.batch.config import load_settings

    return load_settings(ROOT / "params", {"data_dir": str(data), "timezone": "UTC", **given})


def test_a_run_in_another_currency_than_the_imports_is_refused(dataset):
    data = Path(dataset.sources["leads"]["path"]).parent
    record = json.loads((data / "import.json").read_text(encoding="utf-8"))
    assert record["currency"] == "BRL"
    with pytest.raises(
        ConfigError, match=r"amounts are in BRL.*writes amounts in JPY.*--currency BRL"
    ):
        review.load_inputs(_settings(data, currency="JPY"), as_of=pd.Timestamp("2023-02-15"))
    inputs = review.load_inputs(_settings(data, currency="BRL"), as_of=pd.Timestamp("2023-02-15"))
    assert inputs.month == "2023-01"


def test_spend_in_another_currency_is_refused_even_without_an_import_record(dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(Path(dataset.sources["leads"]["path"]).parent, data)
    (data / "import.json").unlink()
    with pytest.raises(ConfigError, match=r"spend says the dataset's amounts are in BRL"):
        review.load_inputs(_settings(data, currency="USD"), as_of=pd.Timestamp("2023-02-15"))


def test_validate_flags_codes_the_mapping_does_not_give(dataset, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(Path(dataset.sources["leads"]["path"]).parent, data)
    record = json.loads((data / "import.json").read_text(encoding="utf-8"))
    assert "paid-search" in record["codes"]["spend.channel"]
    assert not [f for f in load_dataset(data, timezone="UTC").findings if "codes the" in f.message]
    spend = (data / "spend.csv").read_text(encoding="utf-8")
    (data / "spend.csv").write_text(spend.replace(",paid-search,", ",Paid TV,"), encoding="utf-8")
    found = [f for f in load_dataset(data, timezone="UTC").findings if "codes the" in f.message]
    assert len(found) == 1 and found[0].table == "spend" and found[0].column == "channel"
    assert "'Paid TV' (3)" in found[0].message and found[0].count == 3


def test_a_stage_the_data_never_records_is_said_to_be_unrecorded_not_zero(dataset, rv):
    from maops_utils.metrics import funnel
    from maops_utils.reports import views

    assert funnel.unrecorded_stages(dataset) == ["sqls"]  # no SQL report in the export
    text = views.summary(rv).data
    assert "no record of SQLs at all" in text and "not recorded" in text
