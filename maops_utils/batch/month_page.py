"""The month's one page as HTML (`reports/YYYY-MM/index.html`): what `reports/meeting.py`
decided, drawn as KPI cards with a bullet bar and a 13-month sparkline (inline SVG, so the
page stays one file that prints), the KGIs by product, the gaps and the next month's list.

Every string from the data is escaped here; links are only the batch's own file names."""

from __future__ import annotations

from datetime import datetime

from ..core.i18n import t
from ..core.months import check_month
from ..reports.meeting import Card, MonthPage
from .html import _e, _page, _safe_href, _section_start
from .html_frame import MonthNav, footer_text

# the status colours of the cards' bars, the product table and the lead: one palette
STATUS_COLOURS = {"on_track": "#1a7f37", "at_risk": "#b45309", "off_track": "#c81e1e"}
NO_STATUS = "#7b8794"

_CSS = """
.mp-lead { margin: 4px 0 8px; padding-left: 1.2em; }
.mp-cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr));
  gap: 10px; margin: 8px 0; }
.mp-card { border: 1px solid var(--maops-border); border-radius: 6px; padding: 8px 12px;
  border-top: 4px solid var(--mp-colour); break-inside: avoid; }
.mp-card .mp-label { font-size: 0.9em; color: var(--maops-muted); }
.mp-card .mp-value { font-size: 1.5em; font-weight: 700; line-height: 1.2; }
.mp-card .mp-status { font-size: 0.85em; font-weight: 700; color: var(--mp-colour); }
.mp-card .mp-line { font-size: 0.82em; color: var(--maops-muted); line-height: 1.4; }
.mp-card svg { display: block; width: 100%; }
.mp-change { font-weight: 700; color: var(--maops-text); }
.mp-st-on_track { color: #1a7f37; } .mp-st-at_risk { color: #b45309; }
.mp-st-off_track { color: #c81e1e; }
table.mp-products td, table.mp-products th { text-align: right; }
table.mp-products td:first-child, table.mp-products th:first-child { text-align: left; }
.mp-list li { margin: 2px 0; }
.mp-list a { white-space: nowrap; font-size: 0.9em; }
.mp-links { display: flex; flex-wrap: wrap; gap: 4px 18px; list-style: none; padding: 0; }
@media print {
  body.maops-page { font-size: 10px; line-height: 1.4; }
  #reports { display: none; }
  .maops-section { margin: 0; }
  h2 { font-size: 1.15em; }
  .mp-card svg[height="30"] { height: 22px; }
  .maops-header { padding: 6px 12px; }
  .maops-container { padding: 4px 0; max-width: none; }
  h2 { margin: 0.6em 0 0.3em; }
  .mp-cards { grid-template-columns: repeat(4, 1fr); gap: 6px; }
  .mp-card { padding: 4px 8px; }
  .mp-card .mp-value { font-size: 1.3em; }
  .maops-footer { margin-top: 8px; }
  @page { size: A4; margin: 10mm; }
}
"""


def _bar(card: Card) -> str:
    """Actual against target as a bullet bar: the bar is actual ÷ target, the tick the
    target; the scale reaches 150% (or the actual, when more) so 100% sits at the tick."""
    if card.attainment is None:
        return ""
    top = max(1.5, card.attainment * 1.05)
    width = min(card.attainment / top, 1.0) * 200
    tick = 200 / top
    colour = STATUS_COLOURS.get(card.status, NO_STATUS)
    return (
        '<svg viewBox="0 0 200 14" height="14" role="img" '
        f'aria-label="{_e(f"{card.attainment:.0%}")}">'
        '<rect x="0" y="3" width="200" height="8" fill="#e4e7eb"/>'
        f'<rect x="0" y="3" width="{width:.1f}" height="8" fill="{colour}"/>'
        f'<rect x="{tick - 1:.1f}" y="0" width="2" height="14" fill="#102a43"/></svg>'
    )


def _spark(card: Card, lang: str) -> str:
    values = card.spark
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = 200 / (len(values) - 1)
    points = [(i * step, 26 - (v - low) / span * 22) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    label = t("mp_trend", lang, first=card.spark_months[0], last=card.spark_months[-1])
    return (
        f'<svg viewBox="-3 0 206 30" height="30" role="img" aria-label="{_e(label)}">'
        f'<polyline points="{path}" fill="none" stroke="#1c4f82" stroke-width="1.5"/>'
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#1c4f82"/></svg>'
    )


def _card(card: Card, lang: str) -> str:
    colour = STATUS_COLOURS.get(card.status, NO_STATUS)
    status = _e(t(card.status, lang)) if card.status else ""
    ceiling = "" if card.higher_is_better else "≤ "  # lower is better: the target is a ceiling
    target = (
        t("mp_target", lang, value=ceiling + card.target)
        if card.target
        else t("mp_no_target", lang)
    )
    attainment = "" if card.attainment is None else f" · {card.attainment:.0%}"
    change = ""
    if card.change:
        change = (
            f'<span class="mp-change">{_e(card.change)}</span> '
            f"{_e(t('mp_previous', lang, value=card.previous))}"
        )
    return (
        f'<div class="mp-card" style="--mp-colour:{colour}">'
        f'<div class="mp-label">{_e(card.label)}</div>'
        f'<div class="mp-value">{_e(card.value)} <span class="mp-status">{status}</span></div>'
        f'<div class="mp-line">{_e(target)}{_e(attainment)}</div>{_bar(card)}'
        f'<div class="mp-line">{change}</div>{_spark(card, lang)}</div>\n'
    )


def _products(page: MonthPage, lang: str) -> str:
    if not page.products or not page.kgis:
        return ""
    head = [f"<th>{_e(t('product', lang))}</th>"]
    for label in page.kgis:
        head += [f"<th>{_e(label)}</th>", f"<th>{_e(t('target', lang))}</th>"]
    rows = []
    for r in page.products:
        cells = [f"<td>{_e(r.name)}</td>"]
        for value, target, attainment, status in r.cells:
            mark = f' <span class="mp-st-{status}">{_e(t(status, lang))}</span>' if status else ""
            cells.append(f"<td>{_e(value)}</td>")
            cells.append(f"<td>{_e(target)} {_e(attainment)}{mark}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>\n")
    return (
        _section_start("products", t("mp_products", lang))
        + '<table class="maops-table mp-products"><thead><tr>'
        + "".join(head)
        + "</tr></thead>\n<tbody>\n"
        + "".join(rows)
        + "</tbody></table>\n</section>\n"
    )


def _evidence(href: str, lang: str) -> str:
    return f' <a href="{_safe_href(href)}">{_e(t("mp_evidence", lang))}</a>'


def _findings(findings: list[dict], lang: str) -> str:
    """The month's findings, the same list every report shows (severity, table, what)."""
    out = [_section_start("findings", t("mp_findings", lang))]
    if not findings:
        out.append(f'<p class="maops-empty">{_e(t("mp_no_findings", lang))}</p>\n</section>\n')
        return "".join(out)
    out.append('<ul class="mp-list">\n')
    for f in findings:
        severity = str(f.get("severity") or "").lower()
        label = t(f"mp_severity_{severity}", lang) if severity in ("warning", "error") else severity
        count = f.get("count")
        rows = t("mp_rows", lang, count=f"{count:,}") if isinstance(count, int) and count else ""
        out.append(
            f'<li><span class="sev sev-{_e(severity)}">{_e(label)}</span> '
            f"{_e(f.get('table'))}: {_e(f.get('message'))}{_e(rows)}</li>\n"
        )
    out.append("</ul>\n</section>\n")
    return "".join(out)


def render_month_page(
    page: MonthPage,
    *,
    reports: list[dict],
    findings: list[dict] | None = None,
    lang: str = "ja",
    generated_at: datetime | str | None = None,
    nav: MonthNav | None = None,
) -> str:
    """``reports``: dicts with ``title`` and ``href`` (a file the batch wrote beside the page);
    ``findings``: the month's findings (``severity``, ``table``, ``message`` in ``lang``,
    ``count``). A link to evidence in a report that did not run is left out."""
    check_month(page.month)
    present = {str(r.get("href")) for r in reports}

    def linked(href: str) -> str:
        return _evidence(href, lang) if href.split("#")[0] in present else ""

    title = t("mp_title", lang, month=page.month)
    parts = [f"<style>{_CSS}</style>\n"]
    parts.append(_section_start("summary", t("mp_summary", lang)) + '<ul class="mp-lead">\n')
    parts += [f"<li>{_e(s)}</li>\n" for s in page.lead]
    parts.append("</ul>\n</section>\n")

    parts.append(_section_start("cards", t("mp_cards", lang)) + '<div class="mp-cards">\n')
    parts += [_card(c, lang) for c in page.cards]
    parts.append("</div>\n</section>\n")
    parts.append(_products(page, lang))

    if page.outlook:
        parts.append(_section_start("outlook", t("mp_outlook", lang)) + '<ul class="mp-list">\n')
        parts += [f"<li>{_e(o.text)}{linked(o.evidence)}</li>\n" for o in page.outlook]
        parts.append("</ul>\n</section>\n")

    parts.append(_section_start("gaps", t("mp_gaps", lang)))
    if page.gaps:
        parts.append('<ul class="mp-list">\n')
        for g in page.gaps:
            text = t("act_gap_line", lang, label=g.label, value=g.value, target=g.target)
            parts.append(f"<li>{_e(text)} {_e(g.cause)}{linked(g.evidence)}</li>\n")
        parts.append("</ul>\n")
    else:
        parts.append(f'<p class="maops-empty">{_e(t("mp_no_gaps", lang))}</p>\n')
    parts.append("</section>\n")

    parts.append(_section_start("next", t("mp_next", lang)))
    if page.actions:
        parts.append('<ol class="mp-list">\n')
        parts += [f"<li>{_e(a.text)}{linked(a.evidence)}</li>\n" for a in page.actions]
        parts.append("</ol>\n")
    else:
        parts.append(f'<p class="maops-empty">{_e(t("mp_lead_no_actions", lang))}</p>\n')
    parts.append("</section>\n")

    parts.append(_findings(findings or [], lang))
    parts.append(_section_start("reports", t("mp_reports", lang)) + '<ul class="mp-links">\n')
    for r in reports:
        parts.append(f'<li><a href="{_safe_href(r.get("href"))}">{_e(r.get("title"))}</a></li>\n')
    for name, key in (("metrics.csv", "mp_metrics_csv"), ("run.json", "mp_run_json")):
        parts.append(f'<li><a href="{name}">{_e(t(key, lang))}</a></li>\n')
    parts.append("</ul>\n</section>\n")
    return _page(
        lang=lang,
        title=title,
        body="".join(parts),
        footer=footer_text(generated_at, lang),
        nav=(nav or MonthNav(page.month)).on("index.html"),
    )
