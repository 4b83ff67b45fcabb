"""Tests of maops_utils.batch.html: self-contained, escaped, navigable HTML pages."""

from __future__ import annotations

import base64
import dataclasses
import re
import zlib
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from maops_utils import __version__
from maops_utils.batch.html import (
    MonthNav,
    notebook_to_html,
    render_reports_index,
    report_css,
)
from maops_utils.batch.html_frame import NavLink, footer_text
from maops_utils.batch.html_tables import is_number
from maops_utils.batch.month_page import render_month_page
from maops_utils.core.i18n import format_status
from maops_utils.reports.actions import Action, Gap
from maops_utils.reports.meeting import Card, MonthPage, ProductRow

ROOT = Path(__file__).resolve().parents[1]
XSS = "<script>alert(1)</script>"
GENERATED_AT = datetime(2026, 11, 2, 9, 5, tzinfo=ZoneInfo("Asia/Tokyo"))
FOOTER_JA = f"maops {__version__} で 2026年11月2日 09:05（JST）に作成"


# ----------------------------------------------------------------------------- helpers


def _tiny_png() -> str:
    """A valid 1x1 PNG, base64 (what matplotlib's inline backend puts in outputs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    ihdr = (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes([8, 6, 0, 0, 0])
    raw = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\xff"))
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + raw + chunk(b"IEND", b"")).decode()


PNG = _tiny_png()


class Page(HTMLParser):
    """Collects what the assertions need from a page, parsed like a browser would."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: list[str] = []
        self.styles: list[str] = []
        self.link_texts: list[str] = []
        self.text: list[str] = []
        self.html_lang: str | None = None
        self.title = ""
        self._stack: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "a":
            self.link_texts.append("")
        if tag not in {"meta", "img", "br", "link", "input", "hr"}:
            self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        current = self._stack[-1] if self._stack else ""
        if current == "style":
            self.styles.append(data)
        elif current == "title":
            self.title += data
        else:
            self.text.append(data)
        if "a" in self._stack:
            self.link_texts[-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(attrs[k] in a.get(k, "").split() for k in attrs)
        ]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def assert_offline(html: str) -> Page:
    """No attribute that makes the browser fetch anything from the network."""
    page = Page(html)
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            external = re.match(r"\s*(https?:)?//", value, re.IGNORECASE)
            if name in {"src", "srcset", "data", "poster", "background", "xlink:href"}:
                assert not external, f"<{tag} {name}={value!r}>"
            if name == "href" and tag not in {"a", "area"}:
                assert not external, f"<{tag} href={value!r}>"
        if tag == "script":
            assert "src" not in attrs, f"<script {attrs}>"
        if tag == "link":
            assert not re.match(r"\s*(https?:)?//", attrs.get("href", "")), attrs
    for css in page.styles:
        assert not re.search(r"@import", css, re.IGNORECASE), css[:200]
        assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", css, re.IGNORECASE)
    lowered = html.lower()
    for cdn in ("cdnjs", "mathjax", "require.js", "require.min.js", "unpkg.com", "mermaid"):
        assert cdn not in lowered, cdn
    return page


def make_notebook() -> nbformat.NotebookNode:
    df = pd.DataFrame({"キャンペーン": [XSS, "秋のセミナー"], "リード数": [12, 1234]})
    return new_notebook(
        cells=[
            new_code_cell(
                "month = '2026-10'",
                metadata={"tags": ["injected-parameters"]},
                execution_count=1,
            ),
            new_markdown_cell("# 月次KPIレポート\n\n今月の概況です。"),
            new_markdown_cell("## 1. スコアカード"),
            new_code_cell(
                "scorecard_df",
                execution_count=2,
                outputs=[
                    new_output(
                        "execute_result",
                        execution_count=2,
                        data={"text/html": df.to_html(), "text/plain": df.to_string()},
                    )
                ],
            ),
            new_code_cell(
                "fig = plot_funnel()",
                execution_count=3,
                outputs=[
                    new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})
                ],
            ),
            new_markdown_cell("## 2. ファネル\n\n### 2.1 詳細 (A/B)\n\n#### 補足"),
            # same heading text twice: ids must still be unique
            new_markdown_cell("## 2. ファネル"),
            new_code_cell(
                "internal_debug()",
                metadata={"tags": ["remove-cell"]},
                execution_count=4,
                outputs=[new_output("stream", name="stdout", text="DEBUG-ONLY-OUTPUT")],
            ),
            new_code_cell(
                "hidden_source_code()",
                metadata={"tags": ["remove-input"]},
                execution_count=5,
                outputs=[new_output("stream", name="stdout", text="visible result")],
            ),
            new_markdown_cell("Remote: ![logo](https://example.com/logo.png)"),
            new_code_cell(
                "plotly_chart()",
                execution_count=6,
                outputs=[
                    new_output(
                        "display_data",
                        data={
                            "text/html": '<script src="https://cdn.plot.ly/plotly.min.js">'
                            '</script><style>@import url("https://fonts.example/x.css");'
                            '.c > b { color: red }</style><div class="c"><b>chart</b></div>',
                            "application/javascript": "console.log(1)",
                        },
                    )
                ],
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


@pytest.fixture(scope="module")
def nb() -> nbformat.NotebookNode:
    return make_notebook()


@pytest.fixture(scope="module")
def hidden(nb: nbformat.NotebookNode) -> str:
    return notebook_to_html(nb, title="10月 KPI レポート", generated_at=GENERATED_AT)


@pytest.fixture(scope="module")
def shown(nb: nbformat.NotebookNode) -> str:
    return notebook_to_html(nb, title="10月", show_code=True, generated_at=GENERATED_AT)


# ------------------------------------------------------------------ notebook_to_html


def test_notebook_html_makes_no_external_requests(hidden: str, shown: str) -> None:
    for html in (hidden, shown):
        page = assert_offline(html)
        # the remote markdown image became a plain link (no fetch), the plotly script is gone
        assert not page.find("img", src="https://example.com/logo.png")
        links = [a for a in page.find("a", **{"class": "maops-external"})]
        assert [a["href"] for a in links] == ["https://example.com/logo.png"]
        assert "plotly.min.js" not in html
        assert "chart" in page.all_text


def test_images_are_embedded(hidden: str) -> None:
    page = Page(hidden)
    imgs = page.find("img")
    assert len(imgs) == 1
    assert imgs[0]["src"] == f"data:image/png;base64,{PNG}"
    assert imgs[0]["alt"] == "図"  # not nbconvert's English placeholder
    assert "img { max-width: 100%" in report_css()


def test_code_hidden_by_default_and_shown_on_request(hidden: str, shown: str) -> None:
    assert "scorecard_df" not in hidden and "plot_funnel" not in hidden
    assert "month" not in Page(hidden).all_text  # papermill parameters: input hidden
    assert "scorecard_df" in shown and "plot_funnel" in shown
    assert "&#x27;2026-10&#x27;" in shown or "'2026-10'" in shown  # injected-parameters kept
    for html in (hidden, shown):
        text = Page(html).all_text
        assert "In\xa0[" not in text and "Out[" not in text  # no prompts either way
        assert "visible result" in text  # outputs stay
        assert "hidden_source_code" not in html  # remove-input
        assert "DEBUG-ONLY-OUTPUT" not in html and "internal_debug" not in html  # remove-cell
    # with code hidden, the parameters cell (no outputs) leaves no empty cell behind
    assert len(Page(hidden).find("div", **{"class": "jp-CodeCell"})) == 4
    assert len(Page(shown).find("div", **{"class": "jp-CodeCell"})) == 5
    assert ".highlight .k" in shown and ".highlight .k" not in hidden  # syntax colours


def test_toc_links_resolve_to_heading_ids(hidden: str) -> None:
    page = Page(hidden)
    navs = page.find("nav", **{"class": "toc"})
    assert len(navs) == 1
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    # the TOC anchors, in document order
    html_toc = re.search(r'<nav[^>]*class="toc"[^>]*>(.*?)</nav>', hidden, re.S)
    assert html_toc
    toc = Page(html_toc.group(1))
    hrefs = [a["href"] for a in toc.find("a")]
    assert hrefs and all(h.startswith("#") for h in hrefs)
    assert all(h[1:] in page.ids for h in hrefs)
    assert toc.link_texts == [
        "月次KPIレポート",
        "1. スコアカード",
        "2. ファネル",
        "2.1 詳細 (A/B)",
        "2. ファネル",
    ]  # h1-h3 only: no h4 "補足"
    # Japanese headings get readable ids (not nbconvert's percent-encoded ones)
    assert "#月次kpiレポート" in hrefs and "#1-スコアカード" in hrefs
    assert "#2-ファネル" in hrefs and "#2-ファネル-2" in hrefs
    assert not any("%" in h for h in hrefs)
    # each id is on the heading it names
    for level, ident in (
        ("h1", "月次kpiレポート"),
        ("h2", "1-スコアカード"),
        ("h3", "2-1-詳細-a-b"),
    ):
        assert page.find(level, id=ident), (level, ident)
    # TOC comes before the notebook content
    assert hidden.index('class="toc"') < hidden.index("<main")


def test_page_frame_lang_title_css_footer(hidden: str) -> None:
    page = Page(hidden)
    assert page.html_lang == "ja"
    assert page.title == "10月 KPI レポート"
    assert page.find("header", **{"class": "maops-header"})
    assert FOOTER_JA in page.all_text
    css = "".join(page.styles)
    assert report_css().strip() in css  # inlined verbatim (not entity-escaped)
    assert '"Hiragino Sans", "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo"' in css
    assert '"IPAexGothic", "Noto Sans CJK JP", sans-serif' in css
    # the output's own <style> keeps its CSS (the child combinator is not escaped)
    assert ".c > b { color: red }" in css


def test_dataframe_html_stays_escaped(hidden: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hidden
    assert XSS not in hidden
    page = Page(hidden)
    assert page.find("table", **{"class": "dataframe"})
    assert XSS in page.all_text  # shown as text


def test_title_is_escaped_and_lang_en(nb: nbformat.NotebookNode) -> None:
    html = notebook_to_html(nb, title=f"KPI {XSS}", lang="en", generated_at="t")
    assert XSS not in html
    page = Page(html)
    assert page.html_lang == "en"
    assert page.title == f"KPI {XSS}"
    assert "Contents" in page.all_text


def test_output_is_reproducible_and_input_untouched(nb: nbformat.NotebookNode) -> None:
    before = nbformat.writes(nb)
    a = notebook_to_html(nb, title="t", generated_at=GENERATED_AT)
    b = notebook_to_html(nb, title="t", generated_at=GENERATED_AT)
    assert a == b
    assert nbformat.writes(nb) == before


def test_local_markdown_image_is_embedded(tmp_path) -> None:
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "logo.png").write_bytes(base64.b64decode(PNG))
    nb = new_notebook(cells=[new_markdown_cell("# ロゴ\n\n![社ロゴ](figs/logo.png)")])
    html = notebook_to_html(nb, title="t", generated_at="t", base_dir=tmp_path)
    page = assert_offline(html)
    (img,) = page.find("img")
    assert img["src"].startswith("data:image/png;base64,")
    assert img["alt"] == "社ロゴ"


def test_no_headings_no_toc_and_bad_lang() -> None:
    nb = new_notebook(cells=[new_markdown_cell("本文のみ")])
    html = notebook_to_html(nb, title="t", generated_at="t")
    assert 'class="toc"' not in html
    with pytest.raises(ValueError):
        notebook_to_html(nb, title="t", lang="fr")


# ------------------------------------------------------------------ tables


@pytest.mark.parametrize(
    "text",
    [
        "6",
        "1,234",
        "¥10,520,000",
        "$1,234.56",
        "R$ 1,234.56",
        "1,234.56 CHF",
        "150%",
        "+4%",
        "−3.2pt",
        "-0%",
        "15.6–24.7%",
        "23.1% (8.2–50.3%)",
        "0.526 [0.461–0.591]",
        "3 (150% 順調)",
        "57.4 → 37.6",
        "106 / 764",
        "37.5% ※",
    ],
)
def test_numbers_as_the_reports_write_them(text: str) -> None:
    assert is_number(text)


@pytest.mark.parametrize(
    "text",
    ["順調", "KGI", "ステージ", "2026-10", "2026-10-31 15:50", ">= 1000", "A1", "web_ad", ""],
)
def test_text_and_dates_are_not_numbers(text: str) -> None:
    assert not is_number(text)


def _table_notebook(*frames: pd.DataFrame) -> nbformat.NotebookNode:
    outputs = [
        new_output("display_data", data={"text/html": f.to_html(), "text/plain": f.to_string()})
        for f in frames
    ]
    return new_notebook(cells=[new_code_cell("show()", execution_count=1, outputs=outputs)])


def _tables(html: str) -> list:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").select("main table")


def _classes(cell) -> list[str]:
    return cell.get("class") or []


GLOSSARY = pd.DataFrame(
    {
        "用語": ["リード", "MQL"],
        "区分": ["ステージ", "ステージ"],
        "件数": ["1,234", "58"],
        "率": ["15.6–24.7%", "−3.2pt"],
    }
)


def test_a_status_cell_takes_its_statuss_colour() -> None:
    frame = pd.DataFrame(
        {"指標": ["a", "b", "c", "d"], "状態": [format_status(s) for s in STATUSES] + ["✓ は印"]}
    )
    (table,) = _tables(notebook_to_html(_table_notebook(frame), title="t"))
    cells = [tr.find_all("td")[1] for tr in table.select("tbody tr")]
    marked = [[c for c in _classes(cell) if c.startswith("st-")] for cell in cells]
    # a text that only starts with a mark is a status too: the mark is reserved for statuses
    assert marked == [["st-on_track"], ["st-at_risk"], ["st-off_track"], ["st-on_track"]]
    assert [cell.get_text() for cell in cells[:3]] == ["✓ 順調", "▲ 注意", "✕ 未達"]


STATUSES = ("on_track", "at_risk", "off_track")


def test_text_cells_left_numbers_right_and_headers_like_their_column() -> None:
    (table,) = _tables(notebook_to_html(_table_notebook(GLOSSARY), title="t"))
    rows = [[_classes(td) for td in tr.find_all("td")] for tr in table.select("tbody tr")]
    for row in rows:
        assert ["num" in c for c in row] == [False, False, True, True]
    assert "short" in rows[0][1]  # ステージ stays on one line
    heads = {th.get_text(): "num" in _classes(th) for th in table.select("thead th")}
    assert heads == {"用語": False, "区分": False, "件数": True, "率": True}
    # pandas' own `text-align: right` on the header row is gone: the cells say it
    assert "text-align" not in str(table.select_one("thead tr"))
    assert table.parent.get("class") == ["maops-table-box"]  # scrolls in its own box
    css = report_css()
    assert ".maops-page .maops-table-box .num { text-align: right;" in css
    assert (
        ".maops-page .maops-table-box th, .maops-page .maops-table-box td { text-align: left; }"
        in css
    )
    assert "th { word-break: keep-all; }" in css


def test_a_default_index_is_left_out_and_a_meaningful_one_kept() -> None:
    named = GLOSSARY.rename_axis("番号")
    labelled = GLOSSARY.set_index("用語")
    numbered_from_one = GLOSSARY.set_axis([1, 2])
    html = notebook_to_html(
        _table_notebook(GLOSSARY, named, labelled, numbered_from_one), title="t"
    )
    default, named_t, labelled_t, from_one = _tables(html)
    assert default.select("tbody th") == [] and default.select("thead th")[0].get_text() == "用語"
    assert [len(tr.find_all(["th", "td"])) for tr in default.select("tr")] == [4, 4, 4]
    assert [th.get_text() for th in named_t.select("tbody th")] == ["0", "1"]
    assert [th.get_text() for th in labelled_t.select("tbody th")] == ["リード", "MQL"]
    assert [th.get_text() for th in from_one.select("tbody th")] == ["1", "2"]


def test_a_default_index_under_column_levels_is_left_out_and_spans_are_followed() -> None:
    frame = pd.DataFrame(
        [["A", "12", "順調"], ["B", "7", "未達"]],
        columns=pd.MultiIndex.from_tuples([("商材", "名前"), ("実績", "件数"), ("実績", "状態")]),
    )
    (table,) = _tables(notebook_to_html(_table_notebook(frame), title="t"))
    assert table.select("tbody th") == []
    top = {
        th.get_text(): "num" in _classes(th) for th in table.select("thead tr")[0].find_all("th")
    }
    assert top == {"商材": False, "実績": False}  # spans a number and a text column
    low = {
        th.get_text(): "num" in _classes(th) for th in table.select("thead tr")[1].find_all("th")
    }
    assert low == {"名前": False, "件数": True, "状態": False}


def test_markdown_tables_are_laid_out_too() -> None:
    nb = new_notebook(cells=[new_markdown_cell("| 指標 | 実績 |\n|---|---|\n| MQL数 | 58 |\n")])
    (table,) = _tables(notebook_to_html(nb, title="t"))
    assert [("num" in _classes(c)) for c in table.select("td")] == [False, True]
    assert table.parent.get("class") == ["maops-table-box"]


def test_print_stylesheet_a4_without_navigation() -> None:
    css = report_css()
    assert "@page { size: A4;" in css
    media = css[css.index("@media print") :]
    assert ".maops-nav, nav.toc { display: none; }" in media
    assert "tr, img, figure, .jp-RenderedImage { break-inside: avoid; }" in media
    assert "details::details-content" in media


# ------------------------------------------------------------------ header links, footer


NAV = MonthNav(
    "2026-10",
    (
        NavLink("データ品質レポート", "00_data_quality.html"),
        NavLink("KPI評価レポート", "01_kpi_evaluation.html"),
        NavLink(f"KPI評価レポート（商材 {XSS}）", "products/X-1a2b3c4d/01_kpi_evaluation.html"),
    ),
)


def _nav_links(html: str) -> list[tuple[str, str, str]]:
    bar = re.search(r'<nav[^>]*class="maops-nav"[^>]*>(.*?)</nav>', html, re.S)
    assert bar, "no bar of links"
    page = Page(bar.group(1))
    links = page.find("a")
    return [
        (a["href"], text, a.get("aria-current", ""))
        for a, text in zip(links, page.link_texts, strict=True)
    ]


def test_a_reports_header_links_the_months_pages_and_marks_itself(nb) -> None:
    html = notebook_to_html(nb, title="t", nav=NAV.on("01_kpi_evaluation.html"))
    assert _nav_links(html) == [
        ("index.html", "月次サマリー", ""),
        ("00_data_quality.html", "データ品質レポート", ""),
        ("01_kpi_evaluation.html", "KPI評価レポート", "page"),
        ("../index.html", "月次レポート一覧", ""),
    ]  # a product's pages are listed on that product's pages only
    assert html.index('class="maops-nav"') < html.index('class="toc"')


def test_a_product_page_links_up_to_its_month_and_its_own_reports(nb) -> None:
    html = notebook_to_html(
        nb, title="t", lang="en", nav=NAV.on("products/X-1a2b3c4d/01_kpi_evaluation.html")
    )
    assert XSS not in html
    assert _nav_links(html) == [
        ("../../index.html", "Monthly summary", ""),
        ("../../00_data_quality.html", "データ品質レポート", ""),
        ("../../01_kpi_evaluation.html", "KPI評価レポート", ""),
        ("01_kpi_evaluation.html", f"KPI評価レポート（商材 {XSS}）", "page"),
        ("../../../index.html", "All monthly reports", ""),
    ]


def test_the_month_index_has_the_bar_and_marks_itself() -> None:
    html = render_month_page(_month(), reports=[], nav=NAV)
    links = _nav_links(html)
    assert links[0] == ("index.html", "月次サマリー", "page")
    assert [h for h, _, _ in links] == [
        "index.html",
        "00_data_quality.html",
        "01_kpi_evaluation.html",
        "../index.html",
    ]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x.html",
        "javascript:alert(1)//.html",
        "/etc/x.html",
        "../x.html",
        "a\\b.html",
        "x.csv",
    ],
)
def test_a_header_link_is_only_a_page_inside_the_month(target: str) -> None:
    with pytest.raises(ValueError):
        NavLink("x", target)


def test_footer_in_the_pages_language_and_the_runs_time_zone() -> None:
    utc = datetime(2026, 12, 7, 17, 11, tzinfo=ZoneInfo("UTC"))
    tokyo = utc.astimezone(ZoneInfo("Asia/Tokyo"))
    assert footer_text(tokyo, "ja") == f"maops {__version__} で 2026年12月8日 02:11（JST）に作成"
    assert footer_text(tokyo, "en") == f"Generated by maops {__version__} on 2026-12-08 02:11 JST"
    dubai = utc.astimezone(ZoneInfo("Asia/Dubai"))  # a zone without an abbreviation
    assert footer_text(dubai, "en").endswith("on 2026-12-07 21:11 UTC+04")
    kolkata = utc.astimezone(ZoneInfo("Asia/Kolkata"))
    assert footer_text(kolkata, "en").endswith("on 2026-12-07 22:41 IST")
    page = Page(render_reports_index(["2026-10"], lang="en", generated_at=tokyo))
    assert f"Generated by maops {__version__} on 2026-12-08 02:11 JST" in page.all_text


# ------------------------------------------------------------------ index pages


def _month(month: str = "2026-10") -> MonthPage:
    """A month's page whose every string from the data is hostile."""
    card = Card(
        metric="won_deals",
        label=XSS,
        tier="KGI",
        value="<b>1</b>",
        target="2",
        attainment=0.5,
        status="off_track",
        change="−50%",
        previous="2",
        higher_is_better=True,
        spark=[2.0, 1.0],
        spark_months=["2026-09", "2026-10"],
    )
    row = ProductRow("A", XSS, [("1", "2", "50%", "off_track")])
    gap = Gap("won_deals", XSS, "1", "2", 0.5, "off_track", f"cause {XSS}", "A")
    action = Action(f"do {XSS}", "kpi.html#cell-id=scorecard-md")
    return MonthPage(month, [f"lead {XSS}"], [card], [XSS], [row], [gap], [action], 1)


REPORTS = [
    {"title": "KPIレポート", "href": "kpi.html"},
    {"title": XSS, "href": "lead scoring.html"},
]
FINDINGS = [
    {"severity": "warning", "table": "leads", "message": "メール重複 <dup>", "count": 1234},
    {"severity": XSS, "table": XSS, "message": XSS, "count": XSS},
]


def test_month_page_content_and_escaping() -> None:
    html = render_month_page(
        _month(), reports=REPORTS, findings=FINDINGS, generated_at=GENERATED_AT
    )
    page = assert_offline(html)
    assert "<script" not in html and "<b>1</b>" not in html and "<dup>" not in html
    assert page.html_lang == "ja"
    assert page.title == "月次サマリー 2026-10"
    text = page.all_text
    for heading in ("結論", "主要指標", "商材別のKGI", "来月の打ち手", "データ品質の指摘"):
        assert heading in text
    # lead, card, product table (column, row), gap (label, cause), action, report, 3 of findings
    assert text.count(XSS) == 11
    assert "<b>1</b>" in text and "メール重複 <dup>" in text and "1,234" in text
    main = Page(re.search(r"<main>(.*)</main>", html, re.S).group(1))
    hrefs = [a["href"] for a in main.find("a")]
    assert "kpi.html#cell-id=scorecard-md" in hrefs  # the action's evidence, a report of the run
    assert "kpi.html" in hrefs and "lead%20scoring.html" in hrefs
    assert "metrics.csv" in hrefs and "run.json" in hrefs
    assert FOOTER_JA in text
    assert report_css().strip() in "".join(page.styles)


def test_a_card_of_a_kpi_where_lower_is_better_shows_its_target_as_a_ceiling() -> None:
    month = _month()
    card = dataclasses.replace(month.cards[0], target="0.4%", higher_is_better=False)
    html = render_month_page(dataclasses.replace(month, cards=[card]), reports=[])
    assert "目標 ≤ 0.4%" in html
    assert "目標 2" in render_month_page(month, reports=[])


def test_month_page_in_english_and_evidence_only_in_reports_that_ran() -> None:
    html = render_month_page(_month(), reports=[], lang="en")
    page = assert_offline(html)
    assert page.html_lang == "en"
    assert "Monthly summary 2026-10" in page.all_text and "Next month" in page.all_text
    assert "No findings." in page.all_text
    assert "kpi.html#" not in html  # the report of the evidence did not run: no dead link


@pytest.mark.parametrize("href", ["https://evil.example/x.html", "javascript:alert(1)", "//x/y"])
def test_month_page_refuses_non_relative_links(href: str) -> None:
    with pytest.raises(ValueError):
        render_month_page(_month(), reports=[{"title": "x", "href": href}])


@pytest.mark.parametrize("month", ["2026-13", "2026/10", "<b>2026-10</b>", "26-10"])
def test_bad_month_is_refused(month: str) -> None:
    with pytest.raises(ValueError):
        render_month_page(_month(month), reports=[])
    with pytest.raises(ValueError):
        render_reports_index([month])


def test_reports_index_newest_first() -> None:
    html = render_reports_index(["2025-12", "2026-10", "2026-02", "2026-10"])
    page = assert_offline(html)
    assert page.html_lang == "ja"
    hrefs = [a["href"] for a in page.find("a")]
    assert hrefs == ["2026-10/index.html", "2026-02/index.html", "2025-12/index.html"]
    assert "2026年10月" in page.all_text and "2026年2月" in page.all_text
    en = Page(render_reports_index(["2026-01"], lang="en"))
    assert en.html_lang == "en" and "2026-01" in en.all_text


def _kgi(label: str, value: str, status: str = "順調") -> dict[str, str]:
    return {
        "label": label,
        "value": value,
        "target": "¥8,000,000",
        "attainment": "132%",
        "status": status,
    }


def test_reports_index_shows_each_months_kgis_newest_first() -> None:
    kgis = {
        "2026-10": [_kgi("受注件数", "6"), _kgi("受注金額", "¥10,520,000")],
        "2026-09": [_kgi(XSS, "<b>5</b>", status="未達")],
    }
    html = render_reports_index(["2026-09", "2026-10", "2026-08"], kgis=kgis)
    page = assert_offline(html)
    assert XSS not in html and "<b>5</b>" not in html
    table = _tables(html)[0]
    months = [(th.get_text(), th.get("rowspan")) for th in table.select("tbody th")]
    assert months == [("2026年10月", "2"), ("2026年9月", None), ("2026年8月", None)]
    assert [a["href"] for a in page.find("a")] == [
        "2026-10/index.html",
        "2026-09/index.html",
        "2026-08/index.html",
    ]
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in table.select("tbody tr")]
    assert rows[0] == ["受注件数", "6", "¥8,000,000", "132%", "順調"]
    assert rows[2] == [XSS, "<b>5</b>", "¥8,000,000", "132%", "未達"]
    assert rows[3] == ["この月の指標データ（metrics.csv）はありません。"]  # still listed
    value = table.select("tbody tr")[0].find_all("td")[1]
    assert "num" in _classes(value)


def test_kgis_of_a_month_come_from_its_metrics_csv(tmp_path) -> None:
    from maops_utils.batch.record import month_kgis
    from maops_utils.metrics.catalogue import load_catalogue

    catalogue = load_catalogue(ROOT / "workspaces" / "sample" / "params")
    kgi = [k.name for k in catalogue if k.tier == "KGI"]
    kpi = next(k.name for k in catalogue if k.tier != "KGI")
    rows = [
        ("2026-09", "ALL", kgi[0], 6.0, 4.0, 1.5, "on_track"),
        ("2026-09", "A", kgi[0], 2.0, 3.0, 0.667, "off_track"),  # a product's: not the index's
        ("2026-09", "ALL", kpi, 293.0, 230.0, 1.27, "on_track"),  # a KPI: not a KGI
        ("2026-09", "ALL", "gone_from_the_catalogue", 1.0, 1.0, 1.0, "on_track"),
        ("2026-08", "ALL", kgi[0], 9.0, 4.0, 2.25, "on_track"),  # another month
    ]
    metrics = tmp_path / "metrics.csv"
    pd.DataFrame(
        rows, columns=["month", "product", "metric", "value", "target", "attainment", "status"]
    ).to_csv(metrics, index=False, encoding="utf-8-sig")
    settings = SimpleNamespace(locale="ja", currency="JPY")
    inputs = SimpleNamespace(settings=settings, catalogue=catalogue)
    (row,) = month_kgis(metrics, "2026-09", inputs)
    assert row["label"] == catalogue[kgi[0]].label("ja")
    assert (row["attainment"], row["status"]) == ("150%", "順調")
    assert row["value"].replace("¥", "") == "6" and row["target"].replace("¥", "") == "4"


# ------------------------------------------------------------- a really executed notebook


@pytest.mark.slow
def test_executed_notebook_renders_offline() -> None:
    """One end-to-end run through a real kernel (about 2 s): pandas table + matplotlib plot."""
    nbclient = pytest.importorskip("nbclient")
    kernelspec = pytest.importorskip("jupyter_client.kernelspec")
    try:
        kernelspec.get_kernel_spec("python3")
    except kernelspec.NoSuchKernel:
        pytest.skip("no python3 kernel")
    nb = new_notebook(
        cells=[
            new_markdown_cell("# 実行テスト\n## グラフ"),
            new_code_cell(f"import pandas as pd\npd.DataFrame({{'名前': [{XSS!r}], 'n': [1]}})"),
            new_code_cell(
                "import matplotlib\n"
                "matplotlib.use('module://matplotlib_inline.backend_inline')\n"
                "import matplotlib.pyplot as plt\n"
                "plt.plot([1, 2, 3]); plt.show()"
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    html = notebook_to_html(nb, title="実行テスト", generated_at=GENERATED_AT)
    page = assert_offline(html)
    assert XSS not in html and XSS in page.all_text
    (img,) = page.find("img")
    assert img["src"].startswith("data:image/png;base64,")
    assert "matplotlib" not in page.all_text  # code hidden
    toc_ids = [a["href"][1:] for a in page.find("a") if a["href"].startswith("#")]
    assert toc_ids == ["実行テスト", "グラフ"] and set(toc_ids) <= set(page.ids)


def test_the_appendix_folds_into_one_details_after_the_body() -> None:
    appendix = new_markdown_cell("## 付録\n\n手法と長い表です。")
    appendix.metadata["tags"] = ["appendix"]
    nb = new_notebook(
        cells=[
            new_markdown_cell("## 結論\n\n本文です。"),
            appendix,
            new_markdown_cell("## 定義\n\n用語です。"),
            new_code_cell("x", outputs=[new_output("stream", name="stdout", text="long table\n")]),
        ]
    )
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(notebook_to_html(nb, title="t"), "html.parser")
    (details,) = soup.select("details.maops-appendix")
    assert details.summary.get_text() == "付録"
    inside = [h.get_text() for h in details.find_all("h2")]
    assert inside == ["付録", "定義"] and "long table" in details.get_text()
    body = [h.get_text() for h in soup.select("main h2") if not h.find_parent("details")]
    assert body == ["結論"]
    # the table of contents still reaches the folded headings
    ids = {el["id"] for el in soup.find_all(id=True)}
    assert all(a["href"][1:] in ids for a in soup.select("nav.toc a"))


def test_a_report_without_an_appendix_folds_nothing(nb: nbformat.NotebookNode) -> None:
    assert '<details class="maops-appendix"' not in notebook_to_html(nb, title="t")
