"""Words for the report: the highlights at its top and the glossary at its end.

`highlights` turns the month's tables into a few sentences in the report's language, each
resting on numbers it quotes; `glossary` lists the funnel stages and every public KPI with
its definition. Both return plain text: names from the data (channels, campaigns) are quoted
as they are, and the caller escapes them for HTML.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from ...core.i18n import currency_word, format_ratio, format_value, t
from ...core.schema import ALL
from ...metrics.catalogue import SOURCES, Catalogue, Kpi
from ...metrics.labels import Labels
from ...metrics.specs import Count, Difference, Ratio, Sum
from ...metrics.stages import Funnel

if TYPE_CHECKING:
    from .review import KpiReview

MIN_PREVIOUS = 10  # a month-on-month move is told only from a previous value at least this big
MIN_CHANGE = 0.10  # ... and only when it is at least this large (either direction)
MAX_MOVES = 3  # KPIs named in the sentence on month-on-month moves
MAX_OFF_TRACK = 3  # off-track KPIs told one sentence each; the rest share one sentence
MAX_AT_RISK = 4  # KPIs named in the at-risk sentence before "and N more"

_STATUS = {
    "ja": {"on_track": "順調", "at_risk": "注意", "off_track": "未達"},
    "en": {"on_track": "on track", "at_risk": "at risk", "off_track": "off track"},
}


def _lang(locale: str | None) -> str:
    return "ja" if locale == "ja" else "en"


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _flag(value: object) -> bool:
    return not _missing(value) and bool(value)


def _ja_no(label: str) -> str:
    """「の」 before a label, with a space when the label starts with a Latin letter."""
    return f"の {label}" if label[:1].isascii() else f"の{label}"


def _signed_pct(change: float) -> str:
    return f"{change * 100:+.0f}%"


def _mid(label: str, lang: str) -> str:
    """An English label inside a sentence: 'New leads' -> 'new leads', 'MQLs' stays."""
    if lang != "en" or not label or not label[0].isupper():
        return label
    if len(label) > 1 and (label[1].isupper() or label[1].isdigit()):
        return label
    return label[0].lower() + label[1:]


class _Writer:
    """Formatting shared by the sentences of one report."""

    def __init__(
        self, catalogue: Catalogue, lang: str, currency: str, labels: Labels | None = None
    ):
        self.cat = catalogue
        self.lang = lang
        self.currency = currency
        self.labels = labels or Labels()

    def kpi(self, metric: str) -> Kpi | None:
        return self.cat[metric] if metric in self.cat else None

    def label(self, metric: str) -> str:
        k = self.kpi(metric)
        return k.label(self.lang) if k is not None else metric

    def unit(self, metric: str) -> str:
        k = self.kpi(metric)
        return k.unit if k is not None else "count"

    def lower_is_better(self, metric: str) -> bool:
        k = self.kpi(metric)
        return k is not None and not k.higher_is_better

    def value(self, value: float, metric: str) -> str:
        return format_value(float(value), self.unit(metric), self.lang, self.currency)

    def rate(self, value: float) -> str:
        return format_value(float(value), "rate", self.lang, self.currency)

    def interval(self, low: float, high: float) -> str:
        sep = "〜" if self.lang == "ja" else "–"
        return f"{self.rate(low)}{sep}{self.rate(high)}"

    def status(self, status: str) -> str:
        return _STATUS[self.lang].get(status, status)

    def score(self, row: pd.Series) -> float:
        """How far the KPI is from its target, 1 = on target, the lower the worse."""
        if self.lower_is_better(row["metric"]):
            if row["value"] == 0:
                return math.inf
            return float(row["target"] / row["value"])
        return float(row["attainment"])

    def order(self, metric: str) -> int:
        """Rank for ties: KGI before KPI, then catalogue order."""
        names = list(self.cat.kpis)
        k = self.kpi(metric)
        if k is None:
            return 2 * 10**6
        return (0 if k.tier == "KGI" else 10**6) + names.index(metric)


def _rows(frame: pd.DataFrame | None) -> pd.DataFrame:
    return frame if frame is not None else pd.DataFrame()


# ---------------------------------------------------------------- sentences


def _off_track(w: _Writer, row: pd.Series) -> str:
    label, value = w.label(row["metric"]), w.value(row["value"], row["metric"])
    target, att = w.value(row["target"], row["metric"]), format_ratio(row["attainment"])
    few = _flag(row.get("small_sample"))
    if w.lang == "ja":
        note = "未達、件数が少ない" if few else "未達"
        if w.lower_is_better(row["metric"]):
            return (
                f"{label}は {value} で、目標（{target} 以下）を上回った（目標比 {att}、{note}）。"
            )
        return f"{label}は {value}、目標 {target} の {att}（{note}）。"
    note = "off track; few events" if few else "off track"
    if w.lower_is_better(row["metric"]):
        return (
            f"{label} reached {value}, above the target of at most {target} "
            f"({att} of target; {note})."
        )
    return f"{label} reached {value}, {att} of the target of {target} ({note})."


def _more_off_track(w: _Writer, rows: pd.DataFrame) -> str:
    items = [_target_item(w, r) for _, r in rows.iterrows()]
    if w.lang == "ja":
        return f"ほかに未達：{'、'.join(items)}。"
    return f"Also off track: {'; '.join(items)}."


def _target_item(w: _Writer, row: pd.Series) -> str:
    label, value = w.label(row["metric"]), w.value(row["value"], row["metric"])
    target, att = w.value(row["target"], row["metric"]), format_ratio(row["attainment"])
    lower = w.lower_is_better(row["metric"])
    few = _flag(row.get("small_sample"))
    if w.lang == "ja":
        note = "、件数が少ない" if few else ""
        if lower:
            return f"{label} {value}（目標 {target} 以下、目標比 {att}{note}）"
        return f"{label} {value}（目標 {target} の {att}{note}）"
    note = "; few events" if few else ""
    if lower:
        return f"{label} {value} (target at most {target}, {att} of target{note})"
    return f"{label} {value} ({att} of the target of {target}{note})"


def _at_risk(w: _Writer, rows: pd.DataFrame) -> str:
    items = [_target_item(w, r) for _, r in rows.head(MAX_AT_RISK).iterrows()]
    rest = len(rows) - len(items)
    floor = format_ratio(w.cat.at_risk)
    if w.lang == "ja":
        more = f"、ほか {rest} 件" if rest > 0 else ""
        return (
            f"目標に近いが届かなかった指標（注意、目標の {floor} 以上）：{'、'.join(items)}{more}。"
        )
    more = f", and {rest} more" if rest > 0 else ""
    return f"At risk (at least {floor} of target): {'; '.join(items)}{more}."


def _product_miss(w: _Writer, row: pd.Series) -> str:
    product, label = w.labels.name("products", row["product"], w.lang), w.label(row["metric"])
    value, target = w.value(row["value"], row["metric"]), w.value(row["target"], row["metric"])
    att, status = format_ratio(row["attainment"]), w.status(row["status"])
    if w.lang == "ja":
        if w.lower_is_better(row["metric"]):
            return (
                f"商材 {product} {_ja_no(label)} {value} は目標 {target} 以下を上回った"
                f"（目標比 {att}、{status}）。"
            )
        return f"商材 {product} {_ja_no(label)} {value} は目標 {target} の {att}（{status}）。"
    if w.lower_is_better(row["metric"]):
        return (
            f"Largest miss by product: {label} for product {product}, {value} against a target "
            f"of at most {target} ({att} of target; {status})."
        )
    return (
        f"Largest miss by product: {label} for product {product}, {value} against a target "
        f"of {target} ({att}; {status})."
    )


def _moves(w: _Writer, rows: pd.DataFrame) -> str:
    def item(r: pd.Series) -> str:
        prev, cur = w.value(r["previous"], r["metric"]), w.value(r["value"], r["metric"])
        change = _signed_pct(r["change"])
        if w.lang == "ja":
            return f"{w.label(r['metric'])} {change}（{prev} → {cur}）"
        return f"{w.label(r['metric'])} {change} ({prev} → {cur})"

    if len(rows) == 1:
        r = rows.iloc[0]
        label = w.label(r["metric"])
        prev, cur = w.value(r["previous"], r["metric"]), w.value(r["value"], r["metric"])
        if w.lang == "ja":
            return f"{label}は前月比 {_signed_pct(r['change'])}（{prev} → {cur}）。"
        verb = "rose" if r["change"] > 0 else "fell"
        return (
            f"{label} {verb} {abs(r['change']) * 100:.0f}% on the previous month ({prev} → {cur})."
        )
    parts = [item(r) for _, r in rows.iterrows()]
    if w.lang == "ja":
        return f"前月比の大きな動き：{'、'.join(parts)}。"
    return f"Largest moves on the previous month: {'; '.join(parts)}."


def _channel_name(name: object, w: _Writer) -> str:
    text = str(name)
    if text in ("sales_sourced", "unknown"):
        return t(text, w.lang)
    return w.labels.name("lead_sources", text, w.lang)


def _channel(w: _Writer, row: pd.Series, overall: float) -> str:
    name, label = _channel_name(row["channel"], w), w.label("mql_rate")
    rate, ci = w.rate(row["mql_rate"]), w.interval(row["mql_rate_ci_low"], row["mql_rate_ci_high"])
    leads, mqls = w.value(row["new_leads"], "new_leads"), w.value(row["mqls"], "mqls")
    if w.lang == "ja":
        return (
            f"チャネル {name} {_ja_no(label)} {rate}（新規リード {leads} 件中 MQL {mqls} 件、"
            f"95%区間 {ci}）は全体の {w.rate(overall)} を明確に下回る。"
        )
    return (
        f"Channel {name}: {label} {rate} ({mqls} of {leads} new leads; 95% interval {ci}), "
        f"clearly below the overall {w.rate(overall)}."
    )


def _campaign_name(row: pd.Series) -> str:
    name = row.get("name")
    if _missing(name) or not str(name).strip():
        return str(row["campaign_id"])
    return str(name)


def _campaigns(w: _Writer, best: pd.Series | None, worst: pd.Series | None, n: int) -> str:
    label = w.label("email_ctr")
    floor = w.value(w.cat.small_sample, "email_delivered")

    def part(r: pd.Series) -> tuple[str, str, str]:
        return (
            _campaign_name(r),
            w.rate(r["email_ctr"]),
            w.interval(r["email_ctr_ci_low"], r["email_ctr_ci_high"]),
        )

    if best is not None and worst is not None:
        (bn, br, bci), (wn, wr, wci) = part(best), part(worst)
        apart = best["email_ctr_ci_low"] > worst["email_ctr_ci_high"]
        if w.lang == "ja":
            verdict = (
                "両者の区間は重ならない"
                if apart
                else "区間が重なっており、差は偶然の範囲かもしれない"
            )
            return (
                f"到達 {floor} 件以上のメール {n} 本のうち、{label}が最も高いのは「{bn}」の {br}"
                f"（95%区間 {bci}）、最も低いのは「{wn}」の {wr}（{wci}）で、{verdict}。"
            )
        verdict = (
            "the intervals do not overlap"
            if apart
            else "the intervals overlap, so the gap may be chance"
        )
        return (
            f"Of {n} e-mail campaigns with at least {floor} delivered, “{bn}” had the highest "
            f"{_mid(label, 'en')}, {br} (95% interval {bci}), and “{wn}” the lowest, {wr} "
            f"({wci}); {verdict}."
        )
    r = best if best is not None else worst
    assert r is not None
    name, rate, ci = part(r)
    if w.lang == "ja":
        return f"到達 {floor} 件以上のメールは「{name}」のみ：{label} {rate}（95%区間 {ci}）。"
    return (
        f"Only one e-mail campaign had at least {floor} delivered: “{name}”, "
        f"{_mid(label, 'en')} {rate} (95% interval {ci})."
    )


def _nothing_off(w: _Writer, judged: pd.DataFrame) -> str:
    n = len(judged)
    on = int((judged["status"] == "on_track").sum())
    risk = int((judged["status"] == "at_risk").sum())
    if w.lang == "ja":
        risk_part = f"、注意 {risk}" if risk else ""
        return f"全体で未達の指標はありません（目標のある {n} 指標のうち順調 {on}{risk_part}）。"
    risk_part = f", {risk} at risk" if risk else ""
    return (
        f"No KPI is off track for the whole business: {on} of {n} KPIs with a target "
        f"are on track{risk_part}."
    )


# ---------------------------------------------------------------- highlights


def highlights(
    rv: KpiReview,
    table: pd.DataFrame,
    channels: pd.DataFrame | None,
    campaigns: pd.DataFrame | None,
    *,
    locale: str | None = None,
    max_items: int = 6,
) -> list[str]:
    """A few sentences for the top of the report, each quoting the numbers behind it.

    In priority order, skipping what does not apply: the KPIs off track for the whole
    business, worst first (or, when none is, how many are on track); the KPIs at risk; the
    product with the largest miss on a per-product target; the largest month-on-month moves
    of counts and KGIs (previous value at least `MIN_PREVIOUS`, change at least 10%); a
    channel whose MQL rate is clearly below the overall rate (the top of its 95% interval
    under it, at least `small_sample` new leads); the best and worst e-mail campaign by CTR.
    Rates resting on fewer than `small_sample` events are left out of the product claim and
    marked in the off-track ones.

    Args:
        rv: the `review.KpiReview` (catalogue, locale, currency).
        table: `review.metrics_table(rv)`.
        channels: `review.channels(rv)` (or None).
        campaigns: `review.email_campaigns(rv)` (or None).
        locale: "ja" or "en"; default the review's.
        max_items: at most this many sentences.

    Returns:
        Plain sentences (names from the data verbatim; escape them for HTML).
    """
    if max_items <= 0:
        return []
    w = _Writer(rv.catalogue, _lang(locale or rv.locale), rv.currency, rv.labels)
    out: list[str] = []
    table = _rows(table)
    if table.empty:
        return out
    known = table[table["metric"].isin(list(rv.catalogue.kpis)) & table["value"].notna()]
    judged = known[
        known["status"].isin(["on_track", "at_risk", "off_track"])
        & known["target"].notna()
        & known["attainment"].notna()
    ].copy()
    judged["score"] = judged.apply(w.score, axis=1) if not judged.empty else []
    judged["order"] = judged["metric"].map(w.order) if not judged.empty else []
    whole = judged[judged["product"] == ALL].sort_values(["score", "order"], kind="stable")

    # 1. off track for the whole business, or how many are on track
    off = whole[whole["status"] == "off_track"]
    if not off.empty:
        out.extend(_off_track(w, r) for _, r in off.head(MAX_OFF_TRACK).iterrows())
        if len(off) > MAX_OFF_TRACK:
            out.append(_more_off_track(w, off.iloc[MAX_OFF_TRACK:]))
    elif not whole.empty:
        out.append(_nothing_off(w, whole))

    # 2. at risk
    risk = whole[whole["status"] == "at_risk"]
    if not risk.empty:
        out.append(_at_risk(w, risk))

    # 3. the largest miss of a product
    by_product = judged[
        (judged["product"] != ALL)
        & judged["status"].isin(["off_track", "at_risk"])
        & ~(
            judged["metric"].map(lambda m: w.unit(m) == "rate").astype(bool)
            & judged["small_sample"].fillna(False).astype(bool)
        )
    ]
    if not by_product.empty:
        worst = by_product.sort_values(["score", "order"], kind="stable").iloc[0]
        out.append(_product_miss(w, worst))

    # 4. month-on-month moves of counts and KGIs
    def movable(metric: str) -> bool:
        k = w.kpi(metric)
        return k is not None and k.unit != "rate" and (k.unit == "count" or k.tier == "KGI")

    moves = known[
        (known["product"] == ALL)
        & known["metric"].map(movable).astype(bool)
        & (known["previous"] >= MIN_PREVIOUS)
        & (known["change"].abs() >= MIN_CHANGE)
    ]
    if not moves.empty:
        moves = moves.assign(size=moves["change"].abs()).sort_values("size", ascending=False)
        out.append(_moves(w, moves.head(MAX_MOVES)))

    # 5. a channel clearly below the overall MQL rate
    sentence = _channel_sentence(w, rv, _rows(channels), known)
    if sentence:
        out.append(sentence)

    # 6. best and worst e-mail campaign by CTR
    sentence = _campaign_sentence(w, rv, _rows(campaigns))
    if sentence:
        out.append(sentence)
    return out[:max_items]


def _channel_sentence(w: _Writer, rv: KpiReview, ch: pd.DataFrame, known: pd.DataFrame) -> str:
    need = {"channel", "new_leads", "mqls", "mql_rate", "mql_rate_ci_high", "mql_rate_ci_low"}
    if ch.empty or not need <= set(ch.columns):
        return ""
    total = ch[ch["channel"] == ALL]["mql_rate"]
    if not total.empty and total.notna().iloc[0]:
        overall = float(total.iloc[0])
    else:
        row = known[(known["product"] == ALL) & (known["metric"] == "mql_rate")]["value"]
        if row.empty:
            return ""
        overall = float(row.iloc[0])
    parts = ch[
        (ch["channel"] != ALL)
        & (ch["new_leads"] >= rv.catalogue.small_sample)
        & ch["mql_rate"].notna()
        & (ch["mql_rate_ci_high"] < overall)
    ]
    if parts.empty:
        return ""
    low = parts.sort_values(["mql_rate", "new_leads"], ascending=[True, False]).iloc[0]
    return _channel(w, low, overall)


def _campaign_sentence(w: _Writer, rv: KpiReview, ca: pd.DataFrame) -> str:
    need = {"campaign_id", "email_ctr", "email_ctr_ci_low", "email_ctr_ci_high", "flag"}
    if ca.empty or not need <= set(ca.columns):
        return ""
    ca = ca[
        ca["email_ctr"].notna() & ca["email_ctr_ci_low"].notna() & ca["email_ctr_ci_high"].notna()
    ]

    def pick(flag: str) -> pd.Series | None:
        rows = ca[ca["flag"] == flag]
        return rows.iloc[0] if not rows.empty else None

    best, worst = pick("best"), pick("worst")
    if best is None and worst is None:
        return ""
    if "email_delivered" in ca.columns:
        n = int((ca["email_delivered"] >= rv.catalogue.small_sample).sum())
    else:
        n = int(best is not None) + int(worst is not None)
    return _campaigns(w, best, worst, n)


# ---------------------------------------------------------------- glossary

_UNIT_WORDS = {
    "ja": {"count": "件", "rate": "率", "days": "日"},
    "en": {"count": "count", "rate": "rate", "days": "days"},
}
_HEADERS = {
    "ja": ("用語", "区分", "定義", "単位"),
    "en": ("Term", "Kind", "Definition", "Unit"),
}


def unit_word(unit: str, locale: str = "ja", currency: str = "JPY") -> str:
    """A KPI's unit in words: 件 / count, 率 / rate, 円 / JPY, 日 / days."""
    lang = _lang(locale)
    if unit == "currency":
        return currency_word(currency, lang)
    return _UNIT_WORDS[lang].get(unit, unit)


def _conditions(filters, lang: str) -> list[str]:
    out = []
    for column, values in filters:
        if len(values) == 1:
            out.append(f"{column} = {values[0]}")
        elif lang == "ja":
            out.append(f"{column} が {', '.join(values)} のいずれか")
        else:
            out.append(f"{column} in ({', '.join(values)})")
    return out


def _rows_phrase(spec: Count | Sum, lang: str) -> str:
    default_time = SOURCES.get(spec.table, {}).get("time")
    conds = _conditions(spec.where, lang)
    distinct = spec.distinct if isinstance(spec, Count) else ()
    if lang == "ja":
        parts = [*conds, "当月" if spec.time == default_time else f"{spec.time} が当月"]
        if distinct:
            keys = distinct[0] if len(distinct) == 1 else f"({', '.join(distinct)}) の組"
            parts.append(f"{keys} で重複除外")
        if parts == ["当月"]:
            return f"当月の {spec.table}"
        return f"{spec.table} のうち {'、'.join(parts)}"
    text = f"{spec.table} rows"
    if conds:
        text += f" where {', '.join(conds)}"
    text += " in the month" if spec.time == default_time else f" with {spec.time} in the month"
    if distinct:
        text += f", distinct ({', '.join(distinct)})"
    return text


def describe_spec(kpi: Kpi, catalogue: Catalogue, locale: str = "ja") -> str:
    """How a KPI is computed, in words generated from its definition.

    Count: "activities rows where activity_type = webinar_attend in the month, distinct
    (lead_id)"; Sum: "sum of amount over ..."; Ratio: "<numerator label> ÷ <denominator
    label>"; Difference: "<a> − <b>". Japanese with `locale="ja"`.
    """
    lang = _lang(locale)

    def label(name: str) -> str:
        return catalogue[name].label(lang) if name in catalogue else name

    spec = kpi.spec
    if isinstance(spec, Count):
        return _rows_phrase(spec, lang)
    if isinstance(spec, Sum):
        rows = _rows_phrase(spec, lang)
        return (
            f"{rows}の {spec.column} の合計"
            if lang == "ja"
            else f"sum of {spec.column} over {rows}"
        )
    if isinstance(spec, Ratio):
        return f"{label(spec.numerator)} ÷ {label(spec.denominator)}"
    if isinstance(spec, Difference):
        return f"{label(spec.minuend)} − {label(spec.subtrahend)}"
    return str(spec)


# What the spend bought (the channel and spend-and-return tables, metrics/spend.py): term,
# kind and unit; each defined by `define_<term>` in core/text.yaml.
_SPEND_TERMS = (
    ("cost", "spend_kind", "currency"),
    ("cost_per_lead", "spend_kind", "currency"),
    ("cost_per_mql", "spend_kind", "currency"),
    ("cost_per_sql", "spend_kind", "currency"),
    ("cost_per_opportunity", "spend_kind", "currency"),
    ("cost_per_won", "spend_kind", "currency"),
    ("pipeline", "spend_kind", "currency"),
    ("pipeline_to_spend", "spend_kind", ""),
    ("roi", "spend_kind", "rate"),
)


def glossary(
    catalogue: Catalogue,
    funnel: Funnel,
    *,
    locale: str = "ja",
    currency: str = "JPY",
    labels: Labels | None = None,
) -> pd.DataFrame:
    """The report's glossary: funnel stages in order, then every public KPI in catalogue order,
    then what spend bought (cost per stage, pipeline-to-spend, ROI), then the product and
    channel codes `labels` names (params/labels.yaml).

    Columns 用語, 区分, 定義, 単位 (en: Term, Kind, Definition, Unit). A KPI without a
    description is described from its definition (`describe_spec`).
    """
    lang = _lang(locale)
    term, kind, definition, unit = _HEADERS[lang]
    rows = [
        {
            term: s.label(lang),
            kind: "ステージ" if lang == "ja" else "Stage",
            definition: s.definition(lang),
            unit: "",
        }
        for s in funnel.stages
    ]
    for k in catalogue:
        if k.internal:
            continue
        text = k.description(lang).strip() or describe_spec(k, catalogue, lang)
        rows.append(
            {
                term: k.label(lang),
                kind: k.tier,
                definition: text,
                unit: unit_word(k.unit, lang, currency),
            }
        )
    for key, kind_key, unit_of in _SPEND_TERMS:
        rows.append(
            {
                term: t(key, lang),
                kind: t(kind_key, lang),
                definition: t(f"define_{key}", lang),
                unit: unit_word(unit_of, lang, currency) if unit_of else "",
            }
        )
    for section, word in (("products", "product"), ("lead_sources", "channel")):
        for code, name in (labels or Labels()).named(section, lang).items():
            rows.append({term: code, kind: t(word, lang), definition: name, unit: ""})
    return pd.DataFrame(rows, columns=[term, kind, definition, unit])


__all__: list[str] = ["describe_spec", "glossary", "highlights", "unit_word"]
