"""Self-contained HTML for the monthly reports: notebook pages and index pages.

Everything here is pure: the functions return a ``str`` and never write files; the caller
writes them (``reports/YYYY-MM/<report>.html``, ``reports/YYYY-MM/index.html``,
``reports/index.html``).

The pages are forwarded by e-mail and opened offline, so they must not load anything from
the network.  nbconvert's stock ``lab``/``classic`` page templates do: they emit
``<script src="https://cdnjs.cloudflare.com/.../require.min.js">`` and a MathJax
``<script src="https://cdnjs...">`` (the URLs are the ``HTMLExporter.require_js_url`` and
``HTMLExporter.mathjax_url`` traits), and ``lab`` adds a Mermaid ES-module loader and, for
notebooks with widget state, the widget manager from unpkg.  We therefore keep nbconvert's
*cell* markup (``lab/base.html.j2``) but wrap it in our own page template
(``templates/report.html.j2``) that has no ``<script>`` at all, and after rendering we
neutralise any external reference that a cell output may carry itself (a plotly CDN
``<script>``, a remote markdown image, a CSS ``@import``): ``html_safety``. Tables are laid
out by ``html_tables``; the bar of links under the title band and the footer are
``html_frame``'s.
"""

from __future__ import annotations

import copy
import html
import importlib.resources
import logging
import os
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from bs4 import BeautifulSoup, Tag
from pygments.formatters import HtmlFormatter
from traitlets.config import Config

from .. import __version__
from ..core.i18n import t as _text
from ..core.io import printable
from ..core.months import check_month
from .html_frame import MonthNav, footer_text, nav_html
from .html_safety import is_external, strip_external_references, unlink_data
from .html_tables import layout_tables
from .notebook_format import HTMLExporter, nbformat

__all__ = ["MonthNav", "notebook_to_html", "render_reports_index"]

log = logging.getLogger(__name__)

_TEMPLATE_NAME = "maops_report.html.j2"
# Cell tags (Jupyter Book / papermill conventions).
REMOVE_CELL_TAGS = frozenset({"remove-cell"})
REMOVE_INPUT_TAGS = frozenset({"remove-input"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output"})
PAPERMILL_PARAMETERS_TAG = "injected-parameters"

# Output mime types we render, best first.  Leaving out application/javascript, widget
# views and text/vnd.mermaid means those outputs fall back to a static representation
# (text/html, an image or text/plain) instead of a script that needs a CDN to work.
# text/plain comes before text/latex because the pages load no MathJax.
_DISPLAY_PRIORITY = [
    "text/html",
    "text/markdown",
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/latex",
]

_NBCONVERT_DEFAULT_ALT = "No description has been provided for this image"

_LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "toc": "目次",
        "figure": "図",
        "external_image": "外部画像（オフライン表示のため読み込みません）",
        "external_content": "外部コンテンツ（オフライン表示のため読み込みません）",
        "reports": "レポート",
        "data": "データ",
        "findings": "データ品質の指摘",
        "label": "指標",
        "value": "実績",
        "target": "目標",
        "attainment": "達成率",
        "severity": "重要度",
        "severity_warning": "警告",
        "severity_error": "エラー",
        "table": "テーブル",
        "message": "内容",
        "count": "件数",
        "index_title": "月次レポート一覧",
        "no_months": "まだレポートはありません。",
        "month_link": "{year}年{mon}月",
        "month": "月",
    },
    "en": {
        "toc": "Contents",
        "figure": "Figure",
        "external_image": "external image (not loaded: this page works offline)",
        "external_content": "external content (not loaded: this page works offline)",
        "reports": "Reports",
        "data": "Data",
        "findings": "Data-quality findings",
        "label": "Metric",
        "value": "Actual",
        "target": "Target",
        "attainment": "Attainment",
        "severity": "Severity",
        "severity_warning": "warning",
        "severity_error": "error",
        "table": "Table",
        "message": "Message",
        "count": "Count",
        "index_title": "Monthly reports",
        "no_months": "No reports yet.",
        "month_link": "{year}-{mm}",
        "month": "Month",
    },
}


# --------------------------------------------------------------------------- helpers


def _labels(lang: str) -> dict[str, str]:
    try:
        return _LABELS[lang]
    except KeyError:
        raise ValueError(f"unsupported lang {lang!r}; use one of {sorted(_LABELS)}") from None


@cache
def _package_text(name: str) -> str:
    return (importlib.resources.files("maops_utils.batch") / "templates" / name).read_text("utf-8")


def report_css() -> str:
    """The stylesheet inlined into every page (``maops_utils/templates/report.css``)."""
    return _package_text("report.css")


@cache
def _code_css() -> str:
    # Syntax colours for show_code=True.  We generate them here instead of letting the lab
    # template's CSSHTMLHeaderPreprocessor do it: that one uses JupyterLab CSS variables
    # (undefined without the 250 kB lab stylesheet) and also appends the user's
    # ~/.jupyter/custom/custom.css, which would make the pages depend on who renders them.
    return HtmlFormatter(style="default").get_style_defs(".highlight")


def _e(value: Any) -> str:
    """Escape any value for HTML text or a double-quoted attribute, without control
    characters."""
    return html.escape(printable("" if value is None else str(value)), quote=True)


def _safe_href(href: Any) -> str:
    """A relative link from the caller, percent-encoded and escaped for an attribute.

    Links on the index pages are file names next to the page; anything with a scheme
    (``https:``, ``javascript:``) or an absolute/network path is refused.
    """
    if not isinstance(href, str) or not href.strip():
        raise ValueError(f"href must be a non-empty relative path, got {href!r}")
    href = href.strip()
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or href.startswith(("/", "\\")):
        raise ValueError(f"href must be a relative path inside the reports folder, got {href!r}")
    return _e(quote(href, safe="/#?&=%~+,;@!$'()*-._"))


def _page(*, lang: str, title: str, body: str, footer: str, nav: MonthNav | None = None) -> str:
    """Wrap already-escaped body HTML in the common page shell (title/footer are text), its
    tables laid out as the reports' are."""
    soup = BeautifulSoup(body, "html.parser")
    layout_tables(soup)
    body = str(soup)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="generator" content="maops {_e(__version__)}">\n'
        f"<title>{_e(title)}</title>\n<style>\n{report_css()}</style>\n</head>\n"
        '<body class="maops-page">\n'
        f'<header class="maops-header">\n<p class="maops-title">{_e(title)}</p>\n</header>\n'
        + (nav_html(nav, lang) if nav is not None else "")
        + f'<div class="maops-container">\n<main>\n{body}</main>\n'
        f'<footer class="maops-footer">{_e(footer)}</footer>\n</div>\n</body>\n</html>\n'
    )


# ------------------------------------------------------------------ headings / TOC


def _slug(text: str) -> str:
    """A readable id for a heading; Japanese letters are kept (valid in HTML5 ids)."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    text = re.sub(r"[^\w\-]+", "-", text)  # \w is Unicode-aware: kana and kanji stay
    return re.sub(r"-{2,}", "-", text).strip("-_")


def _build_toc(soup: BeautifulSoup, nav: Tag, labels: Mapping[str, str]) -> None:
    """Give every h1-h3 of the markdown cells a unique id and list them in ``nav``.

    nbconvert's own heading ids (with anchor links enabled) are the heading text with spaces
    replaced by "-" and then *percent-encoded*, so ``## 1. スコアカード`` gets
    ``id="1.-%E3%82%B9..."``; duplicates are not disambiguated.  We switch those anchors off
    and assign our own ids, so each TOC ``href="#..."`` equals exactly one element id.
    """
    used = {str(el["id"]) for el in soup.find_all(id=True)}
    headings = [
        h for cell in soup.select(".jp-MarkdownCell") for h in cell.find_all(["h1", "h2", "h3"])
    ]
    if not headings:
        nav.decompose()
        return
    title = soup.new_tag("p", attrs={"class": "toc-title"})
    title.string = labels["toc"]
    ul = soup.new_tag("ul")
    for n, h in enumerate(headings, start=1):
        text = " ".join(h.get_text().split())
        base = _slug(text) or f"section-{n}"
        ident, k = base, 2
        while ident in used:
            ident, k = f"{base}-{k}", k + 1
        used.add(ident)
        h["id"] = ident
        li = soup.new_tag("li", attrs={"class": f"toc-{h.name}"})
        a = soup.new_tag("a", href=f"#{ident}")
        a.string = text or ident
        li.append(a)
        ul.append(li)
    nav.append(title)
    nav.append(ul)


# --------------------------------------------------------------- notebook -> HTML


class _DropAltTextWarning(logging.Filter):
    # HTMLExporter warns for every <img> without alt, i.e. for every plot; we set the alt.
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Alternative text is missing")


_nbconvert_log = log.getChild("nbconvert")
_nbconvert_log.addFilter(_DropAltTextWarning())


def _exporter(*, show_code: bool, lang: str) -> HTMLExporter:
    c = Config()
    c.HTMLExporter.template_name = "lab"  # cell markup of lab/base.html.j2 ...
    c.HTMLExporter.template_file = _TEMPLATE_NAME  # ... inside our own page
    c.HTMLExporter.exclude_input = not show_code
    c.HTMLExporter.exclude_input_prompt = True
    c.HTMLExporter.exclude_output_prompt = True
    c.HTMLExporter.embed_images = True  # markdown <img>/![]() from local files -> data: URIs
    c.HTMLExporter.exclude_anchor_links = True  # we assign heading ids ourselves (TOC)
    c.HTMLExporter.language_code = lang
    # Our template never uses these; blank them anyway so no CDN URL is even in resources.
    # (mermaid_js_url / mermaid_layout_elk_js_url exist in 7.17 but are not config=True, so
    # they cannot be set; lab/index.html.j2 always emits an inline module script that
    # import()s Mermaid from cdnjs -- one more reason to use our own page template.)
    c.HTMLExporter.require_js_url = ""
    c.HTMLExporter.mathjax_url = ""
    c.HTMLExporter.jquery_url = ""
    c.HTMLExporter.jupyter_widgets_base_url = ""
    c.NbConvertBase.display_data_priority = list(_DISPLAY_PRIORITY)
    c.CSSHTMLHeaderPreprocessor.enabled = False  # see _code_css()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    remove_input = set(REMOVE_INPUT_TAGS)
    if not show_code:
        remove_input.add(PAPERMILL_PARAMETERS_TAG)
    c.TagRemovePreprocessor.remove_input_tags = remove_input
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    loader = jinja2.DictLoader({_TEMPLATE_NAME: _package_text("report.html.j2")})
    return HTMLExporter(config=c, extra_loaders=[loader], log=_nbconvert_log)


def localize(nb: nbformat.NotebookNode, lang: str) -> nbformat.NotebookNode:
    """Swap each markdown cell's text for its translation in `metadata.maops.<lang>`.

    Notebooks are written in Japanese; a markdown cell carries its English text in its
    metadata, so an analyst edits one notebook and the report comes out in either language.
    Cells without a translation keep their text. Works in place and returns `nb`.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            translated = cell.get("metadata", {}).get("maops", {}).get(lang)
            if isinstance(translated, str) and translated.strip():
                cell.source = translated
    return nb


def _chart_alts(nb: nbformat.NotebookNode) -> dict[str, str]:
    """A PNG output's data: URI -> the alt text in its metadata (nbconvert's template uses
    only its width and height)."""
    alts = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            alt = output.get("metadata", {}).get("image/png", {}).get("alt")
            if isinstance(png, str) and isinstance(alt, str) and alt.strip():
                alts["data:image/png;base64," + "".join(png.split())] = alt
    return alts


def notebook_to_html(
    nb: nbformat.NotebookNode,
    *,
    title: str,
    show_code: bool = False,
    lang: str = "ja",
    generated_at: datetime | str | None = None,
    base_dir: str | os.PathLike[str] | None = None,
    nav: MonthNav | None = None,
) -> str:
    """Render an executed notebook as one self-contained HTML page.

    - code input (and all prompts) hidden unless ``show_code``; outputs stay;
    - tags: ``remove-cell`` drops the cell, ``remove-input`` hides its code,
      ``remove-output`` its outputs; papermill's ``injected-parameters`` cell shows its code
      only with ``show_code``;
    - images are data: URIs (outputs already are; local markdown images are embedded,
      resolved against ``base_dir``, default the current directory);
    - no external requests: no CDN scripts, remote images/iframes become plain links;
    - markdown cells in ``lang`` where the cell carries a translation (see `localize`);
    - tables: text left, numbers right, a DataFrame's default index (0, 1, ...) left out,
      each in a box that scrolls sideways when wider than the page (`html_tables`);
    - ``<html lang>``, ``<title>``, a header band, with ``nav`` the bar of links to the
      month's other pages under it, a ``<nav class="toc">`` of the markdown h1-h3 headings,
      our inline CSS, and a footer in ``lang`` saying when the run made the page
      (``generated_at``, in the run's time zone; now when None).

    The notebook is not modified.
    """
    labels = _labels(lang)
    nb = localize(copy.deepcopy(nb), lang)
    nb.metadata.pop("widgets", None)  # widget state needs the widget manager from a CDN

    resources: dict[str, Any] = {
        "metadata": {"name": title, "path": os.fspath(base_dir) if base_dir else ""},
        "maops": {
            "lang": lang,
            "title": title,
            "version": __version__,
            "css": report_css(),
            "code_css": _code_css() if show_code else "",
            "toc_label": labels["toc"],
            "footer": footer_text(generated_at, lang),
            "nav": nav_html(nav, lang) if nav is not None else "",
        },
    }
    body, _ = _exporter(show_code=show_code, lang=lang).from_notebook_node(nb, resources=resources)

    soup = BeautifulSoup(body, "html.parser")
    # Code cells left with neither code nor output (hidden input, no output) are noise.
    for cell in soup.select("div.jp-CodeCell"):
        if not cell.select_one(".jp-Cell-inputWrapper, .jp-OutputArea-child"):
            cell.decompose()
    # nbconvert gives every <img> without alt an English placeholder; use ours, or the title
    # a maops chart carries in its output's metadata (reports/plots.py's `sharp_png`).
    alts = _chart_alts(nb)
    for img in soup.find_all("img", alt=_NBCONVERT_DEFAULT_ALT):
        img["alt"] = alts.get("".join(str(img.get("src") or "").split()), labels["figure"])
    for img in soup.find_all("img"):
        src = str(img.get("src") or "")
        if src and not src.startswith("data:") and not is_external(src):
            log.warning("image %r is not embedded; it will be missing when forwarded", src[:80])
    strip_external_references(soup, labels)
    # the notebook's content only: the bar of links around it is the batch's own
    unlink_data(soup.find("main") or soup)
    layout_tables(soup)
    _fold_appendix(soup)
    toc = soup.find("nav", class_="toc")
    if toc is not None:
        _build_toc(soup, toc, labels)
    return printable(str(soup))


def _fold_appendix(soup: BeautifulSoup) -> None:
    """Fold the appendix (the markdown cell tagged `appendix` and every cell after it) into
    one `<details>` whose summary is that cell's heading: the body is what a reader reads, the
    method and the long tables are one click away, and print shows them all."""
    mark = soup.select_one("div.jp-Cell .celltag_appendix")
    cell = mark.find_parent("div", class_="jp-Cell") if mark is not None else None
    if cell is None:
        return
    heading = cell.find(["h1", "h2", "h3"])
    details = soup.new_tag("details", attrs={"class": "maops-appendix"})
    summary = soup.new_tag("summary")
    summary.string = " ".join((heading or cell).get_text().split())[:80]
    details.append(summary)
    rest = [cell, *cell.find_next_siblings()]
    cell.insert_before(details)
    for part in rest:
        details.append(part.extract())


# ------------------------------------------------------------------ index pages


def _section_start(ident: str, heading: str) -> str:
    return f'<section class="maops-section" id="{ident}">\n<h2>{_e(heading)}</h2>\n'


def _month_name(month: str, labels: Mapping[str, str]) -> str:
    year, mm = month.split("-")
    return labels["month_link"].format(year=year, mm=mm, mon=int(mm))


def render_reports_index(
    months: list[str],
    *,
    kgis: Mapping[str, list[dict[str, str]]] | None = None,
    lang: str = "ja",
    generated_at: datetime | str | None = None,
) -> str:
    """The page ``reports/index.html``: each month, newest first, its link to
    ``YYYY-MM/index.html`` and its KGIs.

    ``kgis``: month -> its KGIs (dicts with ``label``, ``value``, ``target``, ``attainment``,
    ``status``, formatted strings); a month missing from it is listed with a note that it has
    no metrics data (with ``kgis`` None, months are listed without figures). Duplicates are
    listed once; a month not shaped ``YYYY-MM`` raises ``ValueError``.
    """
    t = _labels(lang)
    newest_first = sorted({check_month(m) for m in months}, reverse=True)
    if not newest_first:
        body = f'<p class="maops-empty">{_e(t["no_months"])}</p>\n'
        return _page(
            lang=lang, title=t["index_title"], body=body, footer=footer_text(generated_at, lang)
        )
    if kgis is None:
        items = "".join(
            f'<li><a href="{_e(m)}/index.html">{_e(_month_name(m, t))}</a></li>\n'
            for m in newest_first
        )
        body = (
            f'<section class="maops-section">\n<ul class="maops-links">\n{items}</ul>\n</section>\n'
        )
        return _page(
            lang=lang, title=t["index_title"], body=body, footer=footer_text(generated_at, lang)
        )
    columns = ("label", "value", "target", "attainment", "status")
    head = [t["month"], t["label"], t["value"], t["target"], t["attainment"], _text("status", lang)]
    rows = []
    for month in newest_first:
        link = f'<a href="{_e(month)}/index.html">{_e(_month_name(month, t))}</a>'
        figures = kgis.get(month) or []
        span = f' rowspan="{len(figures)}"' if len(figures) > 1 else ""
        cells = f'<th scope="rowgroup"{span}>{link}</th>'
        if month not in kgis:
            note = _e(_text("page_no_metrics", lang))
            rows.append(f'<tr>{cells}<td colspan="5" class="maops-empty">{note}</td></tr>\n')
            continue
        if not figures:
            rows.append(f'<tr>{cells}<td colspan="5"></td></tr>\n')
            continue
        for kgi in figures:
            rows.append(f"<tr>{cells}" + "".join(f"<td>{_e(kgi.get(c))}</td>" for c in columns))
            rows.append("</tr>\n")
            cells = ""
    body = (
        f'<section class="maops-section" id="months">\n<h2>{_e(_text("page_kgis", lang))}</h2>\n'
        '<table class="maops-table maops-months">\n<thead><tr>'
        + "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
        + "</tr></thead>\n<tbody>\n"
        + "".join(rows)
        + "</tbody>\n</table>\n</section>\n"
    )
    return _page(
        lang=lang, title=t["index_title"], body=body, footer=footer_text(generated_at, lang)
    )
