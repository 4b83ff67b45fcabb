"""The KPI catalogue: core entries from the package, the team's own KPIs from YAML."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.core.months import month_bounds
from maops_utils.metrics import compute as mx
from maops_utils.metrics.catalogue import CORE, CORE_METRICS, Kpi, load_catalogue
from maops_utils.reports.kpi import review as kpi

import handmade


def _params(tmp_path: Path, kpis_yaml: str | None = None) -> Path:
    params = tmp_path / "proj" / "params"
    params.mkdir(parents=True, exist_ok=True)
    if kpis_yaml is not None:
        (params / "kpis.yaml").write_text(kpis_yaml, encoding="utf-8")
    return params


KPIS_YAML = """\
kpis:
  revenue:
    label: {ja: 売上, en: Sales}
    tier: KGI
    targets:
      default: {ALL: 45000000, A: 20000000}
      months:
        "2026-12": {ALL: 60000000}
  unsubscribe_rate:
    targets:
      default: {ALL: 0.005}
  new_leads:
    label: {en: Fresh leads}
"""


def test_core_entries_are_relabelled_and_targeted(tmp_path):
    cat = load_catalogue(_params(tmp_path, KPIS_YAML))
    assert list(cat.kpis)[: len(CORE)] == list(CORE)  # core first, in the contract's order
    rev = cat["revenue"]
    assert (rev.label("ja"), rev.label("en"), rev.tier, rev.unit) == (
        "売上",
        "Sales",
        "KGI",
        "currency",
    )
    assert rev.spec == CORE["revenue"].spec  # definition unchanged
    assert rev.target("2026-12", "ALL") == 60_000_000.0
    assert rev.target("2026-12", "A") == 20_000_000.0
    assert rev.target("2026-11", "B") is None
    assert cat["unsubscribe_rate"].higher_is_better is False  # from the core entry
    assert (
        cat["new_leads"].label("en") == "Fresh leads"
        and cat["new_leads"].label("ja") == "新規リード数"
    )


def test_catalogue_without_file_is_the_core():
    cat = load_catalogue(Path("/nonexistent/params"))
    assert cat.public == list(CORE_METRICS)
    assert len(CORE_METRICS) == 17
    assert cat.on_track == 1.0 and cat.at_risk == 0.9 and cat.small_sample == 30


def test_kpi_target_direct():
    k = Kpi(
        "mqls",
        CORE["mqls"].spec,
        "MQL数",
        "MQLs",
        default_targets={"ALL": 60.0},
        month_targets={"2026-10": {"A": 5.0}},
    )
    assert k.target("2026-10", "A") == 5.0
    assert k.target("2026-10", "ALL") == 60.0
    assert k.target("2026-09", "A") is None


CUSTOM = """\
kpis:
  webinar_attendees:
    label: {ja: ウェビナー参加者数, en: Webinar attendees}
    count: {table: activities, where: {activity_type: webinar_attend}, distinct: [lead_id]}
    targets: {default: {ALL: 2, A: 1}}
  page_views_ab:
    count: {table: activities, where: {activity_type: page_view, product: [A, B]}}
  pipeline:
    sum: {table: opportunities, time: created_at, column: amount}
  inquiry_rate:
    ratio: {numerator: inquiries, denominator: new_leads}
  open_minus_click:
    difference: {minuend: email_open_pairs, subtrahend: email_click_pairs}
"""

ATTEND = """L1,webinar_attend,2026-01-12 10:00:00,W1,,
L1,webinar_attend,2026-01-19 10:00:00,W2,,
L4,webinar_attend,2026-01-12 10:00:00,W1,,
L2,webinar_attend,2026-02-02 10:00:00,W1,,
"""


@pytest.fixture
def custom_review(tmp_path):
    folder = handmade.write(tmp_path / "data")
    with (folder / "activities.csv").open("a", encoding="utf-8") as f:
        f.write(ATTEND)
    dataset = load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))
    catalogue = load_catalogue(_params(tmp_path, CUSTOM))
    return kpi.review(dataset, catalogue, handmade.MONTH, trend_months=2)


def test_custom_kpis_are_computed_and_reach_metrics_csv(custom_review):
    table = kpi.metrics_table(custom_review)
    got = {(r.product, r.metric): r for r in table.itertuples()}
    # webinar attendees in January: L1 twice (one lead), L4 -> A 1, B 1, ALL 2
    assert got[("A", "webinar_attendees")].value == 1
    assert got[("B", "webinar_attendees")].value == 1
    assert got[("ALL", "webinar_attendees")].value == 2
    assert (
        got[("ALL", "webinar_attendees")].target == 2
        and got[("ALL", "webinar_attendees")].attainment == 1
    )
    assert got[("A", "webinar_attendees")].status == "on_track"
    # page views of products A and B in January: L1 twice (A), L4 once (B)
    assert got[("ALL", "page_views_ab")].value == 3
    # pipeline created in January: O1 1,000,000 (A), O3 300,000 (B), O4 2,000,000 (D)
    assert got[("ALL", "pipeline")].value == 3_300_000 and got[("D", "pipeline")].value == 2_000_000
    # inquiries / new leads: A 1/2, B 1/2, ALL 2/5, with an interval
    assert got[("ALL", "inquiry_rate")].value == pytest.approx(0.4)
    assert 0 < got[("ALL", "inquiry_rate")].ci_low < 0.4 < got[("ALL", "inquiry_rate")].ci_high
    # open pairs minus click pairs, A: 3 - 1
    assert got[("A", "open_minus_click")].value == 2
    assert ("ALL", "email_bounces") not in got  # internal counts stay out


def test_custom_kpis_reach_the_trend_when_marked(tmp_path):
    params = _params(
        tmp_path,
        CUSTOM.replace(
            "    targets: {default: {ALL: 2, A: 1}}\n",
            "    targets: {default: {ALL: 2, A: 1}}\n    trend: true\n",
        ),
    )
    folder = handmade.write(tmp_path / "data")
    dataset = load_dataset(folder, as_of=pd.Timestamp("2026-03-01"))
    rv = kpi.review(dataset, load_catalogue(params), handmade.MONTH, trend_months=3)
    # a team's own KPI is in the trend unless it says `trend: false`; core ones when marked
    assert kpi.trend_metrics(rv) == [
        "webinar_attendees",
        "page_views_ab",
        "pipeline",
        "inquiry_rate",
        "open_minus_click",
    ]
    trend = kpi.trend(rv, ["webinar_attendees"])
    assert set(kpi.trend(rv)["metric"]) == set(rv.catalogue.public)
    assert set(trend["month"]) == {"2025-11", "2025-12", "2026-01"}
    assert trend.loc[trend["product"] == "ALL", "target"].eq(2).all()


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ("kpis:\n  revnue: {tier: KGI}\n", ["kpis.revnue", "did you mean 'revenue'"]),
        (
            "kpis:\n  revenue: {teir: KGI}\n",
            ["kpis.revenue", "unknown key 'teir'", "did you mean 'tier'"],
        ),
        (
            "kpis:\n  revenue:\n    targets: {default: {ALL: lots}}\n",
            ["kpis.revenue", "'lots' is not a number"],
        ),
        (
            "kpis:\n  revenue:\n    targets: {months: {'2026-13': {ALL: 1}}}\n",
            ["kpis.revenue", "not a month"],
        ),
        ("kpis:\n  revenue:\n    targets: 100\n", ["kpis.revenue.targets"]),
        (
            "kpis:\n  revenue:\n    targets: {defualt: {ALL: 5}}\n",
            ["kpis.revenue.targets", "default"],
        ),
        ("kpis:\n  revenue: {tier: KPX}\n", ["kpis.revenue.tier", "KPX"]),
        ("kpis: [revenue]\n", ["kpis.yaml", "mapping"]),
        (
            "kpis:\n  mqls:\n    count: {table: leads}\n",
            ["kpis.mqls", "core metric", "cannot be redefined"],
        ),
        (
            "kpis:\n  x:\n    count: {table: lead}\n",
            ["kpis.x.count.table", "unknown table 'lead'", "'leads'"],
        ),
        (
            "kpis:\n  x:\n    count: {table: activities, where: {activty_type: a}}\n",
            ["kpis.x.count.where", "no column 'activty_type'", "'activity_type'"],
        ),
        (
            "kpis:\n  x:\n    count: {table: leads, time: closed_at}\n",
            ["kpis.x.count.time", "closed_at"],
        ),
        (
            "kpis:\n  x:\n    count: {table: leads, distinct: [nope]}\n",
            ["kpis.x.count.distinct", "nope"],
        ),
        (
            "kpis:\n  x:\n    sum: {table: opportunities, column: status}\n",
            ["kpis.x.sum.column", "amount"],
        ),
        (
            "kpis:\n  x:\n    ratio: {numerator: mqls, denominator: new_lead}\n",
            ["refers to unknown KPI 'new_lead'", "did you mean 'new_leads'"],
        ),
        (
            "kpis:\n  a:\n    ratio: {numerator: b, denominator: new_leads}\n"
            "  b:\n    difference: {minuend: a, subtrahend: mqls}\n",
            ["cycle", "a -> b -> a"],
        ),
        (
            "kpis:\n  x:\n    count: {table: leads}\n    sum: {table: opportunities, column: amount}\n",
            ["kpis.x", "exactly one"],
        ),
        (
            "kpis:\n  x:\n    ratio: {numerator: mqls}\n",
            ["kpis.x.ratio", "numerator and denominator"],
        ),
        ("kpis:\n  Bad-Name:\n    count: {table: leads}\n", ["lower_case"]),
        ("status: {on_track: 0.8, at_risk: 0.9}\n", ["at_risk <= on_track"]),
        ("small_sample: many\n", ["small_sample"]),
        ("kpi: {}\n", ["unknown key 'kpi'", "did you mean 'kpis'"]),
    ],
)
def test_catalogue_mistakes_are_clear_errors_at_load_time(tmp_path, body, fragments):
    params = _params(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_catalogue(params)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert str(params / "kpis.yaml") in str(info.value)


def test_specs_come_in_dependency_order(tmp_path):
    cat = load_catalogue(_params(tmp_path, CUSTOM))
    order = list(cat.specs)
    assert order.index("inquiries") < order.index("inquiry_rate")
    assert order.index("email_open_pairs") < order.index("open_minus_click")


def test_custom_definitions_transpile_to_spark(tmp_path):
    import sqlglot

    cat = load_catalogue(_params(tmp_path, CUSTOM))
    start, end = month_bounds("2026-01")
    sql = mx.compile_base_query(cat.specs, start, end, dialect="spark")
    assert sqlglot.parse(sql, read="spark")


def test_core_descriptions_are_whole_sentences_in_both_languages():
    for k in CORE.values():
        for text in (k.description_ja, k.description_en, k.label_ja, k.label_en):
            assert text, k.name
            assert text.count("(") == text.count(")") and text.count("（") == text.count("）"), (
                k.name,
                text,
            )
