"""Highlights and glossary: sentences that quote their numbers, in the report's language."""

import dataclasses
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from maops_utils.contract.load import load_dataset
from maops_utils.core.i18n import format_value
from maops_utils.core.schema import ALL
from maops_utils.metrics.catalogue import load_catalogue
from maops_utils.metrics.stages import default_funnel, load_funnel
from maops_utils.reports.kpi import narrative
from maops_utils.reports.kpi import review as kpi

import handmade

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff60]")
MONTH = "2026-10"

CUSTOM_KPIS = """
kpis:
  webinar_attendees:
    label: {ja: ウェビナー参加者数, en: Webinar attendees}
    count: {table: activities, where: {activity_type: webinar_attend}, distinct: [lead_id]}
  won_amount_b:
    label: {ja: 商材B受注額, en: Product B revenue}
    sum: {table: opportunities, time: closed_at, column: amount, where: {status: won, product: B}}
  closed_gap:
    label: {ja: 未受注クローズ, en: Closed not won}
    difference: {minuend: closed_deals, subtrahend: won_deals}
  attend_rate:
    label: {ja: 参加率, en: Attendance rate}
    ratio: {numerator: webinar_attendees, denominator: new_leads}
"""


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    params = tmp_path_factory.mktemp("params")
    (params / "kpis.yaml").write_text(CUSTOM_KPIS, encoding="utf-8")
    return load_catalogue(params)


def review(catalogue, locale="ja"):
    """A review holding only what the sentences read: catalogue, locale and currency."""
    return kpi.KpiReview(
        dataset=None,
        catalogue=catalogue,
        funnel_def=default_funnel(),
        month=MONTH,
        months=[MONTH],
        products=["A", "B", "C"],
        values=pd.DataFrame(columns=["month", "product", "metric", "value"]),
        locale=locale,
    )


def row(
    metric,
    value,
    *,
    product=ALL,
    target=None,
    previous=None,
    small_sample=False,
    lower_is_better=False,
):
    target = math.nan if target is None else float(target)
    previous = math.nan if previous is None else float(previous)
    attainment = value / target if target == target and target else math.nan
    score = target / value if lower_is_better else attainment
    status = "" if score != score else "on_track" if score >= 1 else "at_risk"
    if score == score and score < 0.9:
        status = "off_track"
    change = (value - previous) / abs(previous) if previous == previous and previous else math.nan
    return {
        "month": MONTH,
        "product": product,
        "metric": metric,
        "value": float(value),
        "target": target,
        "attainment": attainment,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "previous": previous,
        "change": change,
        "year_ago": math.nan,
        "year_change": math.nan,
        "status": status,
        "small_sample": small_sample,
    }


def frame(*rows):
    return pd.DataFrame(list(rows), columns=kpi.METRICS_CSV_COLUMNS)


def channel_row(channel, leads, mqls, ci_low, ci_high):
    return {
        "month": MONTH,
        "channel": channel,
        "new_leads": float(leads),
        "mqls": float(mqls),
        "mql_rate": mqls / leads if leads else math.nan,
        "mql_rate_ci_low": ci_low,
        "mql_rate_ci_high": ci_high,
    }


def campaign_row(cid, name, delivered, ctr, low, high, flag):
    return {
        "month": MONTH,
        "campaign_id": cid,
        "name": name,
        "email_sends": float(delivered),
        "email_delivered": float(delivered),
        "email_ctr": ctr,
        "email_ctr_ci_low": low,
        "email_ctr_ci_high": high,
        "flag": flag,
    }


MARKUP = "<b>秋の</b> & <i>セミナー</i>"


def rich_inputs():
    table = frame(
        row("revenue", 5_117_000, target=8_000_000, previous=4_000_000),
        row("won_deals", 8, target=4, previous=4),
        row("new_leads", 293, target=230, previous=246),
        row("mqls", 58, target=60, previous=56),
        row("sqls", 8, target=16, previous=12),
        row("sql_rate", 0.14, product="C", target=0.2, small_sample=True),
        row("mqls", 10, product="B", target=18),
        row("new_leads", 100, product="A", target=95),
    )
    channels = pd.DataFrame(
        [
            channel_row("web_ad", 81, 7, 0.042, 0.168),
            channel_row("referral", 7, 0, 0.0, 0.35),
            channel_row("organic", 58, 22, 0.266, 0.508),
            channel_row(ALL, 293, 58, 0.156, 0.247),
        ]
    )
    campaigns = pd.DataFrame(
        [
            campaign_row("EM-1", MARKUP, 448, 0.078, 0.057, 0.107, "best"),
            campaign_row("EM-2", "月次ニュース", 2051, 0.045, 0.037, 0.055, ""),
            campaign_row("EM-3", None, 449, 0.042, 0.027, 0.065, "worst"),
        ]
    )
    return table, channels, campaigns


def all_sentences(catalogue, locale, **kw):
    table, channels, campaigns = rich_inputs()
    return narrative.highlights(
        review(catalogue, locale), table, channels, campaigns, max_items=20, **kw
    )


# ---------------------------------------------------------------- highlights


@pytest.mark.parametrize(
    ("locale", "label"), [("ja", "受注金額"), ("en", "Revenue")], ids=["ja", "en"]
)
def test_off_track_sentence_quotes_value_target_and_attainment(catalogue, locale, label):
    table = frame(row("revenue", 5_117_000, target=8_000_000))
    out = narrative.highlights(review(catalogue, locale), table, None, None)
    assert len(out) == 1
    sentence = out[0]
    assert sentence.startswith(label)
    for text in ("¥5,117,000", "¥8,000,000", "64%"):
        assert text in sentence
    assert ("未達" if locale == "ja" else "off track") in sentence


def test_off_track_worst_attainment_first_and_the_rest_grouped(catalogue):
    table = frame(
        row("revenue", 6_800_000, target=8_000_000),  # 85%
        row("sqls", 8, target=16),  # 50%
        row("mqls", 42, target=60),  # 70%
        row("new_leads", 184, target=230),  # 80%
        row("inquiries", 16, target=32),  # 50%, ties with sqls, later in the catalogue
    )
    out = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert [s.split(" reached")[0] for s in out[:3]] == ["SQLs", "Inquiries", "MQLs"]
    assert out[3].startswith("Also off track:")
    assert len(out) == 4
    assert "New leads 184 (80% of the target of 230)" in out[3]
    assert "Revenue ¥6,800,000 (85% of the target of ¥8,000,000)" in out[3]
    assert out[3].index("New leads") < out[3].index("Revenue")


def test_lower_is_better_kpi_is_said_to_be_above_its_target(catalogue):
    table = frame(row("unsubscribe_rate", 0.006, target=0.004, lower_is_better=True))
    assert table["status"].iloc[0] == "off_track"
    (ja,) = narrative.highlights(review(catalogue, "ja"), table, None, None)
    (en,) = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert "配信停止率" in ja and "0.6%" in ja and "0.4% 以下" in ja and "150%" in ja
    assert "Unsubscribe rate" in en and "at most 0.4%" in en and "150% of target" in en


def test_off_track_rate_on_few_events_is_marked(catalogue):
    table = frame(row("sql_rate", 0.2, target=0.3, small_sample=True))
    (ja,) = narrative.highlights(review(catalogue, "ja"), table, None, None)
    (en,) = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert "件数が少ない" in ja
    assert "few events" in en


def test_month_on_month_moves_quote_both_numbers(catalogue):
    table = frame(
        row("new_leads", 293, previous=246),  # +19%
        row("mqls", 58, previous=56),  # +4%: too small
        row("won_deals", 8, previous=4),  # previous under 10
        row("email_open_rate", 0.4, previous=0.2),  # a rate: not a move
    )
    (ja,) = narrative.highlights(review(catalogue, "ja"), table, None, None)
    (en,) = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert ja == "新規リード数は前月比 +19%（246 → 293）。"
    assert en == "New leads rose 19% on the previous month (246 → 293)."


def test_several_moves_largest_first_in_both_directions(catalogue):
    table = frame(
        row("new_leads", 293, previous=246),  # +19%
        row("revenue", 4_000_000, previous=8_000_000),  # -50%, a KGI in currency
        row("sqls", 18, previous=12),  # +50%, after revenue in catalogue? equal size
    )
    (en,) = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert "Revenue -50% (¥8,000,000 → ¥4,000,000)" in en
    assert "SQLs +50% (12 → 18)" in en
    assert en.index("New leads +19% (246 → 293)") > en.index("SQLs")


def test_product_miss_skips_rates_on_few_events(catalogue):
    table, _, _ = rich_inputs()
    ja = narrative.highlights(review(catalogue, "ja"), table, None, None, max_items=20)
    assert "商材 B の MQL数 10 は目標 18 の 56%（未達）。" in ja
    assert not any("SQL化率" in s for s in ja)  # product C's rate rests on few events


def test_channel_named_only_when_clearly_below_overall(catalogue):
    table, channels, _ = rich_inputs()
    ja = narrative.highlights(review(catalogue, "ja"), table, channels, None, max_items=20)
    en = narrative.highlights(review(catalogue, "en"), table, channels, None, max_items=20)
    (ja_ch,) = [s for s in ja if "チャネル" in s]
    (en_ch,) = [s for s in en if s.startswith("Channel")]
    for s in (ja_ch, en_ch):
        assert "web_ad" in s and "8.6%" in s and "19.8%" in s and "16.8%" in s
        assert "referral" not in s  # 0 of 7: lower, but too few leads
    # a channel whose interval reaches the overall rate is not called out
    close = channels.assign(mql_rate_ci_high=channels["mql_rate_ci_high"].clip(lower=0.2))
    out = narrative.highlights(review(catalogue, "en"), table, close, None, max_items=20)
    assert not any(s.startswith("Channel") for s in out)


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_campaign_names_returned_verbatim_with_ctr_and_interval(catalogue, locale):
    _, _, campaigns = rich_inputs()
    table = frame(row("new_leads", 293, target=230))
    out = narrative.highlights(review(catalogue, locale), table, None, campaigns)
    (sentence,) = [s for s in out if "EM-3" in s]
    assert MARKUP in sentence  # not escaped, not dropped: the caller escapes
    assert "&amp;" not in sentence and "&lt;" not in sentence
    assert "EM-3" in sentence  # no name: falls back to the id
    assert "7.8%" in sentence and "5.7%" in sentence and "10.7%" in sentence
    assert "4.2%" in sentence and "2.7%" in sentence and "6.5%" in sentence
    assert "月次ニュース" not in sentence  # neither best nor worst
    assert ("メール 3 本" if locale == "ja" else "Of 3 e-mail campaigns") in sentence


def test_nothing_off_track_says_how_many_are_on_track(catalogue):
    table = frame(
        row("revenue", 9_000_000, target=8_000_000),
        row("new_leads", 240, target=230),
        row("mqls", 57, target=60),  # at risk
        row("email_sends", 3000),  # no target: not counted
    )
    ja = narrative.highlights(review(catalogue, "ja"), table, None, None)
    en = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert ja[0] == "全体で未達の指標はありません（目標のある 3 指標のうち順調 2、注意 1）。"
    assert en[0].startswith("No KPI is off track") and "2 of 3" in en[0] and "1 at risk" in en[0]
    assert "MQL数 57（目標 60 の 95%）" in ja[1]


def test_every_sentence_rests_on_a_number(catalogue):
    for locale in ("ja", "en"):
        out = all_sentences(catalogue, locale)
        assert len(out) >= 6
        for sentence in out:
            assert re.search(r"\d", sentence), sentence
            assert "nan" not in sentence.lower()


def test_languages_do_not_mix(catalogue):
    data_names = [MARKUP, "月次ニュース"]
    en = all_sentences(catalogue, "en")
    ja = all_sentences(catalogue, "ja")
    for sentence in en:
        for name in data_names:
            sentence = sentence.replace(name, "")
        assert not JAPANESE.search(sentence), sentence
    en_labels = [catalogue[m].label_en for m in ("revenue", "new_leads", "mqls", "sqls")]
    ja_labels = [catalogue[m].label_ja for m in ("revenue", "new_leads", "mqls", "sqls")]
    assert all(any(label in s for s in ja) for label in ja_labels)
    assert not any(label in s for s in ja for label in en_labels)
    assert all(JAPANESE.search(s) for s in ja)


def test_locale_defaults_to_the_review(catalogue):
    table = frame(row("revenue", 5_117_000, target=8_000_000))
    assert narrative.highlights(review(catalogue, "en"), table, None, None)[0].startswith("Revenue")
    assert narrative.highlights(review(catalogue, "en"), table, None, None, locale="ja")[
        0
    ].startswith("受注金額")


def test_max_items_respected_in_priority_order(catalogue):
    table, channels, campaigns = rich_inputs()
    rv = review(catalogue, "ja")
    full = narrative.highlights(rv, table, channels, campaigns, max_items=20)
    assert len(full) > 6
    for n in (0, 1, 2, 6):
        out = narrative.highlights(rv, table, channels, campaigns, max_items=n)
        assert out == full[:n]
    assert len(narrative.highlights(rv, table, channels, campaigns)) == 6
    assert full[0].startswith("SQL数")  # 50%: the worst miss comes first


def test_empty_inputs_give_no_sentences(catalogue):
    empty = frame()
    assert narrative.highlights(review(catalogue), empty, None, None) == []


def test_on_a_real_review_of_the_handmade_dataset(tmp_path, catalogue):
    dataset = load_dataset(handmade.write(tmp_path / "data"), as_of=pd.Timestamp("2026-03-01"))
    cat = dataclasses.replace(catalogue, small_sample=1)
    rv = kpi.review(dataset, cat, handmade.MONTH, trend_months=1, locale="en")
    table = kpi.metrics_table(rv)
    out = narrative.highlights(rv, table, kpi.channels(rv), kpi.email_campaigns(rv), max_items=20)
    assert out and all(re.search(r"\d", s) for s in out)
    (campaign,) = [s for s in out if "e-mail campaign" in s]
    assert "<b>1月号</b> & ニュース" in campaign
    revenue = table[(table["product"] == ALL) & (table["metric"] == "revenue")]["value"].iloc[0]
    assert revenue == 1_700_000


# ---------------------------------------------------------------- glossary


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_glossary_lists_stages_then_every_public_kpi(catalogue, locale):
    funnel = load_funnel(project_params())
    g = narrative.glossary(catalogue, funnel, locale=locale)
    headers = (
        ["用語", "区分", "定義", "単位"]
        if locale == "ja"
        else ["Term", "Kind", "Definition", "Unit"]
    )
    assert list(g.columns) == headers
    term, kind, definition, unit = headers
    stages = [s.label(locale) for s in funnel.stages]
    assert list(g[term][: len(stages)]) == stages
    assert set(g[kind][: len(stages)]) == {"ステージ" if locale == "ja" else "Stage"}
    assert all(g[definition][: len(stages)].str.len() > 0)
    n_kpis = len(catalogue.public)
    kpis = g.iloc[len(stages) : len(stages) + n_kpis]
    assert list(kpis[term]) == [catalogue[m].label(locale) for m in catalogue.public]
    # then what spend bought, each defined, in the report's currency
    spend = g.iloc[len(stages) + n_kpis :]
    assert len(spend) == 9 and all(spend[definition].str.len() > 10)
    roi = spend[spend[term] == "ROI"].iloc[0]
    assert "÷" in roi[definition] and roi[unit] == ("率" if locale == "ja" else "rate")
    per_mql = spend[spend[term] == ("MQL単価" if locale == "ja" else "Cost per MQL")].iloc[0]
    assert per_mql[unit] == ("円" if locale == "ja" else "JPY")
    assert set(kpis[kind]) == {"KGI", "KPI"}
    assert catalogue["closed_deals"].label(locale) not in set(g[term])  # internal
    assert all(kpis[definition].str.len() > 0)
    units = dict(zip(kpis[term], kpis[unit], strict=True))
    rev, rate = catalogue["revenue"].label(locale), catalogue["mql_rate"].label(locale)
    assert units[rev] == ("円" if locale == "ja" else "JPY")
    assert units[rate] == ("率" if locale == "ja" else "rate")
    assert units[catalogue["new_leads"].label(locale)] == ("件" if locale == "ja" else "count")


def project_params():
    return Path(__file__).resolve().parents[1] / "params"


def test_glossary_currency_argument():
    cat = load_catalogue(project_params())
    g = narrative.glossary(cat, default_funnel(), locale="en", currency="USD")
    assert g.loc[g["Term"] == "Revenue", "Unit"].item() == "USD"


@pytest.mark.parametrize(
    ("currency", "written", "ja_unit"),
    [
        ("JPY", "¥1,234,568", "円"),  # no decimals: the yen has none
        ("USD", "$1,234,567.89", "米ドル"),
        ("BRL", "R$ 1,234,567.89", "ブラジルレアル"),
        ("CHF", "1,234,567.89 CHF", "CHF"),  # a code without a symbol of ours: after the amount
    ],
)
def test_amounts_are_written_in_the_runs_currency(catalogue, currency, written, ja_unit):
    assert format_value(1234567.891, "currency", "en", currency) == written
    assert format_value(1234567.891, "currency", "ja", currency) == written
    ja = narrative.glossary(catalogue, default_funnel(), locale="ja", currency=currency)
    assert ja.set_index("用語").loc[catalogue["revenue"].label("ja"), "単位"] == ja_unit


def test_description_generated_from_the_definition(catalogue):
    funnel = default_funnel()
    ja = narrative.glossary(catalogue, funnel, locale="ja").set_index("用語")["定義"]
    en = narrative.glossary(catalogue, funnel, locale="en").set_index("Term")["Definition"]
    assert (
        ja["ウェビナー参加者数"]
        == "activities のうち activity_type = webinar_attend、当月、lead_id で重複除外"
    )
    assert en["Webinar attendees"] == (
        "activities rows where activity_type = webinar_attend in the month, distinct (lead_id)"
    )
    assert "status = won" in en["Product B revenue"] and "product = B" in en["Product B revenue"]
    assert en["Product B revenue"].startswith("sum of amount over opportunities rows")
    assert "closed_at" in en["Product B revenue"] and "closed_at" in ja["商材B受注額"]
    assert en["Attendance rate"] == "Webinar attendees ÷ New leads"
    assert ja["参加率"] == "ウェビナー参加者数 ÷ 新規リード数"
    assert en["Closed not won"] == "Closed deals − Won deals"
    # a written description wins over the generated one
    assert en["New leads"] == catalogue["new_leads"].description_en


def test_describe_spec_of_core_counts(catalogue):
    closed = narrative.describe_spec(catalogue["closed_deals"], catalogue, "en")
    assert closed == (
        "opportunities rows where status in (won, lost), record = deal with closed_at in the month"
    )
    assert "won, lost" in narrative.describe_spec(catalogue["closed_deals"], catalogue, "ja")
    pairs = narrative.describe_spec(catalogue["email_open_pairs"], catalogue, "en")
    assert pairs.endswith("distinct (lead_id, campaign_id)")
    assert narrative.describe_spec(catalogue["new_leads"], catalogue, "en") == (
        "leads rows in the month"
    )


def test_format_value_is_what_the_sentences_use(catalogue):
    table = frame(row("revenue", 1234567.0, target=2_000_000))
    (en,) = narrative.highlights(review(catalogue, "en"), table, None, None)
    assert format_value(1234567.0, "currency", "en") in en


def test_the_glossary_names_the_codes_labels_yaml_names(tmp_path, catalogue):
    from maops_utils.metrics.labels import load_labels

    (tmp_path / "labels.yaml").write_text(
        "products:\n"
        "  A: {ja: 会計クラウド, en: Cloud accounting}\n"
        "  B: {ja: '', en: ''}\n"  # listed by maops init, not named yet: left out
        "  '7': {en: Seven}\n"  # one language: used for both
        "lead_sources:\n"
        "  webinar: ウェビナー\n",
        encoding="utf-8",
    )
    labels = load_labels(tmp_path)
    ja = narrative.glossary(catalogue, default_funnel(), locale="ja", labels=labels)
    named = ja[ja["区分"].isin(["商材", "チャネル"])]
    assert named[["用語", "区分", "定義"]].values.tolist() == [
        ["A", "商材", "会計クラウド"],
        ["7", "商材", "Seven"],
        ["webinar", "チャネル", "ウェビナー"],
    ]
    en = narrative.glossary(catalogue, default_funnel(), locale="en", labels=labels)
    assert en.set_index("Term").loc["A", ["Kind", "Definition"]].tolist() == [
        "Product",
        "Cloud accounting",
    ]
    # without labels.yaml: the glossary of before, codes nowhere
    plain = narrative.glossary(
        catalogue, default_funnel(), locale="ja", labels=load_labels(tmp_path / "none")
    )
    assert len(plain) == len(ja) - 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("product: {A: x}\n", "unknown key 'product'; did you mean 'products'?"),
        ("products: [A, B]\n", "products must be a mapping of code"),
        ("lead_sources:\n  web: {de: Netz}\n", "lead_sources.web: expected {ja: ..., en: ...}"),
    ],
)
def test_a_mistake_in_labels_yaml_names_the_file_and_the_entry(tmp_path, text, fragment):
    from maops_utils.core.errors import ConfigError
    from maops_utils.metrics.labels import load_labels

    (tmp_path / "labels.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_labels(tmp_path)
    assert str(tmp_path / "labels.yaml") in str(info.value) and fragment in str(info.value)
