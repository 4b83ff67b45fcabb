"""Charts a meeting can read: sharp on high-density screens, text at least 10 pt at the size
the page shows them, amounts in the page's units, small funnel stages visible, no grid that
is mostly empty, and every chart named by its title for those who cannot see it."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib as mpl
import nbformat
import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from matplotlib.figure import Figure
from matplotlib.text import Text
from nbformat.v4 import new_code_cell, new_notebook, new_output
from PIL import Image

from maops_utils.batch.html import notebook_to_html
from maops_utils.core.i18n import format_amount_short
from maops_utils.reports import compare, plots
from maops_utils.reports.compare import charts as cmp_charts
from maops_utils.reports.scoring import charts as sc_charts

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample_rv():
    from maops_utils.batch import config
    from maops_utils.reports.kpi import review

    settings = config.load_settings(
        ROOT / "workspaces" / "sample" / "params", {"data_dir": ROOT / "data" / "sample"}
    )
    return review.load_review(settings, as_of=pd.Timestamp("2026-11-15 09:00"))


@pytest.fixture(scope="module")
def sample_cmp(sample_rv):
    return compare.from_review(sample_rv)


def _shown(x: Text) -> bool:
    return bool(
        x.get_visible() and x.get_text().strip() and (x.axes is None or x.axes.get_visible())
    )


def _rating_bands() -> pd.DataFrame:
    """A letter × digit grid as `scoring.band_table` gives it: digits 3 and 4 and letter E
    without any lead, C2 and D2 empty inside the grid."""
    rows = []
    n = {"A1": 44, "A2": 159, "B1": 241, "B2": 314, "C1": 229, "D1": 8}
    rate = {"A1": 0.568, "A2": 0.377, "B1": 0.303, "B2": 0.232, "C1": 0.17, "D1": 0.0}
    for letter in "ABCDE":
        for digit in "1234":
            band = letter + digit
            k = n.get(band, 0)
            rows.append(
                {"kind": "rating", "product": "ALL", "band": band, "n": k,
                 "rate": rate.get(band, np.nan) if k else np.nan,
                 "ci_low": np.nan, "ci_high": np.nan}
            )  # fmt: skip
    return pd.DataFrame(rows)


# long names, as a company's labels.yaml gives them: legends and ticks must still fit
SCORING_NAMES = {"A": "Mirai Accounting Cloud", "B": "ミライ人事クラウド"}


def _scoring_figures(locale: str) -> list[Figure]:
    bands = pd.DataFrame(
        {"kind": "band", "product": ["A", "A", "ALL", "ALL"], "band": ["0-49", "50+"] * 2,
         "n": [40, 30, 90, 60], "rate": [0.1, 0.3, 0.12, 0.28], "ci_low": [0.05, 0.2, 0.08, 0.2],
         "ci_high": [0.2, 0.4, 0.18, 0.36], "expected": [0.1, 0.3, 0.11, 0.3]}
    )  # fmt: skip
    curve = pd.DataFrame({"mean_p": [0.1, 0.3], "rate": [0.12, 0.25], "ci_low": [0.08, 0.2],
                          "ci_high": [0.16, 0.3]})  # fmt: skip
    gain = pd.DataFrame({"depth": [0, 0.5, 1], "gain": [0, 0.7, 1]})
    table = pd.DataFrame(
        {"product": "ALL", "model": "current", "threshold": [40, 50, 60], "mqls": [90, 60, 30],
         "mqls_per_month": [9.0, 6.0, 3.0], "precision": [0.2, 0.3, 0.4],
         "precision_ci_low": [0.15, 0.22, 0.3], "precision_ci_high": [0.25, 0.38, 0.5],
         "current": [False, True, False], "recommended": [False, False, True]}
    )  # fmt: skip
    products = pd.DataFrame(
        {"product": ["A", "B", "ALL"], "ratio": [0.8, 1.2, 1.0], "ratio_ci_low": [0.6, 1.0, 0.9],
         "ratio_ci_high": [1.0, 1.4, 1.1]}
    )  # fmt: skip
    return [
        sc_charts.score_band_chart(
            bands, outcome="SQL", days=90, locale=locale, names=SCORING_NAMES
        ),
        sc_charts.rating_heatmap(_rating_bands(), outcome="SQL", locale=locale),
        sc_charts.reliability_diagram({"current": curve, "proposed": curve}, locale=locale),
        sc_charts.gain_chart({"current": gain}, locale=locale),
        sc_charts.threshold_chart(
            table,
            first="2026-01",
            last="2026-06",
            capacity=5,
            target_precision=0.3,
            locale=locale,
        ),  # fmt: skip
        sc_charts.product_ratio_chart(products, locale=locale, names=SCORING_NAMES),
    ]


def _report_figures(rv, cmp, locale: str) -> list[Figure]:
    from maops_utils.reports.kpi import review

    tables = review.report_tables(rv)
    labels = {m: rv.label(m) for m in rv.catalogue.public}
    shown = review.trend_metrics(rv)
    # the sample's products and channels by the names its labels.yaml gives them
    names = rv.labels.named("products", locale)
    channels = rv.labels.named("lead_sources", locale)
    return [
        plots.funnel_chart(review.funnel(rv), month=rv.month, locale=locale, names=names),
        plots.trend_chart(
            tables["trend"],
            {m: labels[m] for m in shown},
            units={m: rv.catalogue[m].unit for m in shown},
            locale=locale,
            currency=rv.currency,
            names=names,
        ),  # fmt: skip
        plots.channel_chart(tables["channels"], labels, locale=locale, names=channels),
        plots.cohort_heatmap(
            tables["cohorts"],
            stage="sql",
            window=90,
            stage_label="SQL",
            locale=locale,
            names=names,
        ),  # fmt: skip
        cmp_charts.product_funnel_chart(
            cmp.counts,
            cmp.stage_labels(),
            products=cmp.products,
            first="a",
            last="b",
            locale=locale,
            names=names,
        ),  # fmt: skip
        cmp_charts.rate_comparison_chart(
            cmp.tests, cmp.rate_labels(), products=cmp.products, locale=locale, names=names
        ),
        cmp_charts.cohort_comparison_chart(
            cmp.cohorts,
            {"mql": "MQL", "sql": "SQL"},
            products=cmp.products,
            window=90,
            locale=locale,
            names=names,
        ),  # fmt: skip
        cmp_charts.share_chart(
            compare.mql_quality(cmp), cmp.share_labels(), locale=locale, names=names
        ),
        *(
            cmp_charts.product_heatmaps(
                table,
                cmp.heatmap_panels(),
                row=row,
                label=label,
                products=cmp.products,
                first="a",
                last="b",
                locale=locale,
                currency=cmp.currency,
                names=names,
                row_names=channels,
            )  # fmt: skip
            for table, row, label in (
                (compare.product_channels(cmp), "channel", None),
                (compare.product_campaigns(cmp), "campaign_id", "name"),
            )
        ),
    ]


# ------------------------------------------------------------------ amounts


def test_amounts_read_in_the_units_of_the_page_language():
    assert format_amount_short(10_520_000, "JPY", "ja") == "1,052万円"
    assert format_amount_short(47_391.3, "JPY", "ja") == "4.7万円"
    assert format_amount_short(8_000, "JPY", "ja") == "8,000円"
    assert format_amount_short(-2_500_000, "JPY", "ja") == "-250万円"
    assert format_amount_short(10_520_000, "JPY", "en") == "¥10.5M"
    assert format_amount_short(12_300, "USD", "en") == "$12.3k"
    assert format_amount_short(950, "USD", "en") == "$950"
    assert format_amount_short(12_345, "USD", "ja") == "$12,345"
    assert format_amount_short(1_500, "CHF", "en") == "1.5k CHF"


def _trend(unit_values: list[float]) -> pd.DataFrame:
    months = [f"2026-0{i}" for i in range(1, len(unit_values) + 1)]
    return pd.DataFrame(
        {"month": months, "product": "A", "metric": "revenue", "value": unit_values,
         "target": np.nan}
    )  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "currency", "check"),
    [
        ("ja", "JPY", lambda s: s.endswith("円")),
        ("en", "JPY", lambda s: s.startswith("¥") and s[-1] in "0kM"),
        ("en", "USD", lambda s: s.startswith("$")),
    ],
)
def test_an_amount_axis_reads_in_the_page_units(locale, currency, check):
    fig = plots.trend_chart(
        _trend([1_200_000, 8_400_000, 10_520_000]), {"revenue": "Revenue"},
        units={"revenue": "currency"}, locale=locale, currency=currency,
    )  # fmt: skip
    fig.canvas.draw()
    ticks = [x.get_text() for x in fig.axes[0].get_yticklabels() if x.get_text()]
    assert ticks and all(check(x) for x in ticks), ticks


# ------------------------------------------------------------------ 2x and alt


def test_a_chart_is_drawn_at_twice_the_size_it_is_shown_at():
    fig = plots.bar_chart(pd.Series({"A": 3.0, "B": 5.0}), title="MQL $x$")
    png, meta = plots.sharp_png(fig)
    width, height = Image.open(io.BytesIO(png)).size
    assert abs(width - 2 * meta["width"]) <= 1 and abs(height - 2 * meta["height"]) <= 1
    # the shown size is the figure's own at figure.dpi: its 10 pt text stays 10 pt
    assert abs(meta["width"] - fig.get_figwidth() * fig.dpi) <= 0.05 * fig.get_figwidth() * fig.dpi
    assert meta["alt"] == "MQL $x$"


def test_alt_text_is_the_title_and_absent_when_there_is_none():
    fig = Figure()
    axes = fig.subplots(1, 2)
    axes[0].plot([1, 2])
    assert "alt" not in plots.sharp_png(fig)[1]
    axes[1].set_title("右")
    assert plots.chart_title(fig) == "右"
    fig.suptitle("全体の\n題")
    assert plots.chart_title(fig) == "全体の 題"
    assert plots.sharp_png(Figure()) is None


def _chart_notebook(meta: dict[str, object], png: str) -> nbformat.NotebookNode:
    return new_notebook(
        cells=[
            new_code_cell(
                "chart()",
                outputs=[
                    new_output(
                        "display_data",
                        data={"image/png": png, "text/plain": "<Figure>"},
                        metadata={"image/png": meta},
                    ),
                    new_output("display_data", data={"image/png": png[:-4] + "AAAA"}),
                ],
            )
        ]
    )


def test_the_page_shows_the_chart_at_half_its_pixels_named_by_its_title():
    png, meta = plots.sharp_png(plots.bar_chart(pd.Series({"A": 1.0}), title="<b>MQL</b> 推移"))
    data = base64.b64encode(png).decode("ascii")
    page = BeautifulSoup(notebook_to_html(_chart_notebook(meta, data), title="t"), "html.parser")
    chart, other = page.find_all("img")
    assert int(chart["width"]) == meta["width"] and int(chart["height"]) == meta["height"]
    assert Image.open(io.BytesIO(png)).size[0] >= 2 * int(chart["width"])
    assert chart["alt"] == "<b>MQL</b> 推移" and not page.find("b")  # text, never markup
    assert other["alt"] == "図"  # an image without a title of its own


# ------------------------------------------------------------------ sizes


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_chart_is_titled_readable_and_no_wider_than_the_page(sample_rv, sample_cmp, locale):
    figures = _report_figures(sample_rv, sample_cmp, locale) + _scoring_figures(locale)
    for fig in figures:
        assert plots.chart_title(fig), fig
        # a chart of several panels is named by its own title, not by its first panel's
        panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
        assert len(panels) < 2 or fig.get_suptitle(), [ax.get_title() for ax in panels]
        assert fig.get_figwidth() <= plots.PAGE_WIDTH, plots.chart_title(fig)
        fig.canvas.draw()
        small = [
            (x.get_text(), x.get_fontsize())
            for x in fig.findobj(Text)
            if _shown(x) and x.get_fontsize() < plots.MIN_FONT_PT
        ]
        assert not small, (plots.chart_title(fig), small[:5])


# ------------------------------------------------------------------ funnels


def _funnel(values: list[float]) -> pd.DataFrame:
    stages = ["リード", "MQL", "SQL", "商談", "受注"]
    return pd.DataFrame(
        {"product": "ALL", "stage": stages, "value": values, "order": range(len(stages))}
    )


def test_small_funnel_stages_stay_visible_with_count_and_conversion():
    fig = plots.funnel_chart(_funnel([2000, 300, 40, 12, 3]), month="2026-10")
    fig.canvas.draw()
    ax = fig.axes[0]
    widths = [bar.get_window_extent().width for bar in ax.patches]
    # on a linear axis 3 wins of 2,000 leads would be 0.15% of the bar: a sliver
    assert min(widths) >= 0.1 * max(widths), widths
    notes = [x.get_text() for x in ax.texts]
    assert notes == ["2,000", "300 (15%)", "40 (13%)", "12 (30%)", "3 (25%)"]


def test_a_comparison_funnel_labels_each_product_stage():
    counts = pd.DataFrame(
        {"product": ["A"] * 3 + ["B"] * 3, "metric": ["new_leads", "mqls", "sqls"] * 2,
         "value": [500.0, 50.0, 5.0, 100.0, 0.0, 0.0]}
    )  # fmt: skip
    labels = {"new_leads": "Leads", "mqls": "MQLs", "sqls": "SQLs"}
    fig = cmp_charts.product_funnel_chart(
        counts, labels, products=["A", "B"], first="a", last="b", locale="en"
    )
    fig.canvas.draw()
    assert [x.get_text() for x in fig.axes[0].texts] == ["500", "50 (10%)", "5 (10%)"]
    assert [x.get_text() for x in fig.axes[1].texts] == ["100", "0 (0%)", "0"]
    assert fig.axes[0].get_xscale() == "log"


# ------------------------------------------------------------------ grids


def test_a_mostly_empty_campaign_grid_becomes_bars_with_the_same_numbers(sample_cmp):
    cmp = sample_cmp
    table = compare.product_campaigns(cmp)
    fig = cmp_charts.product_heatmaps(
        table, cmp.heatmap_panels(), row="campaign_id", label="name", products=cmp.products,
        first="a", last="b", locale="ja", currency="JPY",
    )  # fmt: skip
    fig.canvas.draw()
    assert not fig.findobj(mpl.collections.QuadMesh)  # no heatmap left
    leads_ax, rate_ax, cost_ax = fig.axes
    shown = table[table["new_leads"] > 0].sort_values("new_leads", ascending=False, kind="stable")
    assert [bar.get_width() for bar in leads_ax.patches] == list(shown["new_leads"])
    names = [x.get_text() for x in leads_ax.get_yticklabels()]
    assert names == [n.replace("$", r"\$")[:28] for n in shown["name"]]
    expected_rates = ["–" if pd.isna(v) else f"{v * 100:.1f}%" for v in shown["lead_to_mql"]]
    assert [x.get_text() for x in rate_ax.texts] == expected_rates
    expected_costs = [
        "–" if pd.isna(v) else format_amount_short(v, "JPY", "ja") for v in shown["cost_per_mql"]
    ]
    assert [x.get_text() for x in cost_ax.texts] == expected_costs
    assert "1,052万円" not in expected_costs  # (units are the page's: no ¥ thousands)
    assert any(x.endswith("万円") for x in expected_costs)


def test_a_full_channel_grid_stays_a_heatmap_with_dashes_where_nothing_is(sample_cmp):
    cmp = sample_cmp
    table = compare.product_channels(cmp)
    fig = cmp_charts.product_heatmaps(
        table, cmp.heatmap_panels(), row="channel", products=cmp.products, first="a",
        last="b", locale="en", currency="JPY",
    )  # fmt: skip
    fig.canvas.draw()
    assert len(fig.findobj(mpl.collections.QuadMesh)) == 3
    cost_ax = fig.axes[2]
    notes = [x.get_text() for x in cost_ax.texts]
    grid = table.set_index(["channel", "product"])["cost_per_mql"]
    assert notes.count("–") == int(grid.isna().sum())
    assert format_amount_short(float(grid.dropna().iloc[0]), "JPY", "en") in notes


def test_the_rating_grid_leaves_out_what_has_no_lead_and_says_no_data():
    fig = sc_charts.rating_heatmap(_rating_bands(), outcome="SQL", locale="ja")
    fig.canvas.draw()
    ax = fig.axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    assert [x.get_text() for x in ax.get_xticklabels()] == ["1", "2"]
    notes = [x.get_text() for x in ax.texts]
    assert "56.8%\n(44)" in notes and "0.0%\n(8)" in notes and "23.2%\n(314)" in notes
    assert notes.count("データなし") == 2  # C2, D2
    footer = " ".join(x.get_text() for x in fig.texts)
    assert "属性は省いています: E" in footer and "行動は省いています: 3, 4" in footer


# ------------------------------------------------------------------ names, not codes


def _texts(fig: Figure) -> set[str]:
    """Every text a reader sees on `fig`: titles, tick labels, legend entries, notes."""
    fig.canvas.draw()
    return {x.get_text() for x in fig.findobj(Text) if _shown(x)}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_chart_shows_products_and_channels_by_name_not_code(sample_rv, sample_cmp, locale):
    rv = sample_rv
    products = rv.labels.named("products", locale)
    channels = rv.labels.named("lead_sources", locale)
    assert set(rv.products) == set(products) and len(channels) >= 6  # the sample names all
    figures = _report_figures(rv, sample_cmp, locale)
    funnel, trend, channel_chart, cohorts, *by_product = figures
    campaigns = by_product.pop()  # campaigns are named by their own names
    for fig in (funnel, trend, cohorts, *by_product, campaigns):
        texts = _texts(fig)
        assert set(products.values()) <= texts, plots.chart_title(fig)
        assert not texts & set(products), plots.chart_title(fig)
    for fig in (channel_chart, by_product[-1]):  # the channel chart and the channel heatmap
        texts = _texts(fig)
        shown = {
            channels[c]
            for c in channels
            if c in set(compare.product_channels(sample_cmp)["channel"])
        }
        assert shown and shown <= texts, plots.chart_title(fig)
        assert not texts & set(channels), plots.chart_title(fig)
    legend = trend.legends[0]
    assert [x.get_text() for x in legend.get_texts()] == [products[p] for p in sorted(products)]


def test_the_scoring_charts_show_products_by_name():
    band, *_, ratio = _scoring_figures("en")
    (ax,) = band.axes
    assert [x.get_text() for x in ax.get_legend().get_texts()] == ["Mirai Accounting Cloud", "All"]
    (ax,) = ratio.axes
    assert [x.get_text() for x in ax.get_yticklabels()] == [
        "ミライ人事クラウド",
        "Mirai Accounting Cloud",
    ]


def test_a_chart_without_names_shows_codes_and_a_name_stays_plain_text():
    trend = pd.DataFrame(
        {"month": ["2026-09", "2026-10"] * 2, "product": ["A", "A", "B", "B"],
         "metric": "new_leads", "value": [10, 12, 5, 6], "target": float("nan")}
    )  # fmt: skip
    plain = plots.trend_chart(trend, {"new_leads": "Leads"}, locale="en")
    assert [x.get_text() for x in plain.legends[0].get_texts()] == ["A", "B"]
    named = plots.trend_chart(trend, {"new_leads": "Leads"}, locale="en", names={"A": "$ave"})
    # `$` would open matplotlib's math mode: the name is drawn as it is written
    assert [x.get_text() for x in named.legends[0].get_texts()] == [r"\$ave", "B"]
