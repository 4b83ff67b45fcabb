"""The product comparison in words: what each product is ready for, what to do, and the
definitions behind the numbers (ja/en)."""

from __future__ import annotations

import pandas as pd

from ...core.i18n import t
from .comparison import MAX_CAMPAIGNS, ProductComparison, _lang, metric_label
from .statistics import REST


def _pct(x: float) -> str:
    return "" if pd.isna(x) else f"{x * 100:.1f}%"


def _points(x: float) -> str:
    return f"{x * 100:+.1f}".replace("-", "−")


def _p(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}"


def _group_name(cmp: ProductComparison, product: str, lang: str) -> str:
    """Who `product` is compared with: `B・C 合計` / `B and C combined`, or `商材 A`."""
    if cmp.baseline != REST:
        return t("cmp_product_named", lang, product=cmp.name(cmp.baseline, lang))
    others = [cmp.name(p, lang) for p in cmp.products if p != product]
    if len(others) == 1:
        return t("cmp_product_named", lang, product=others[0])
    if lang == "ja":
        return t("cmp_combined", lang, products="・".join(others))
    return t("cmp_combined", lang, products=", ".join(others[:-1]) + " and " + others[-1])


def _counts_phrase(metric: str, k: float, n: float, lang: str) -> str:
    return t(f"cmp_of_{metric}", lang, k=f"{k:,.0f}", n=f"{n:,.0f}")


def _opposite(cmp: ProductComparison, row: pd.Series) -> str:
    """With baseline `rest`: another product differing the other way by more on the same
    metric (the pool `row` was compared with holds it), or ""."""
    if cmp.baseline != REST or row["verdict"] not in ("higher", "lower"):
        return ""
    other = "lower" if row["verdict"] == "higher" else "higher"
    same = cmp.tests[
        (cmp.tests["metric"] == row["metric"])
        & (cmp.tests["verdict"] == other)
        & (cmp.tests["product"] != row["product"])
        & (cmp.tests["difference"].abs() > abs(row["difference"]))
    ]
    return "" if same.empty else str(same.sort_values("difference", key=abs).iloc[-1]["product"])


def _finding(cmp: ProductComparison, row: pd.Series, lang: str) -> str:
    days = cmp.window.days
    text = t(
        f"cmp_finding_{row['verdict']}",
        lang,
        product=cmp.name(row["product"], lang),
        metric=metric_label(row["metric"], lang, days, in_sentence=True),
        value=_pct(row["value"]),
        of=_counts_phrase(row["metric"], row["successes"], row["n"], lang),
        group=_group_name(cmp, row["product"], lang),
        other=_pct(row["compared_value"]),
        other_of=_counts_phrase(row["metric"], row["compared_successes"], row["compared_n"], lang),
        diff=_points(row["difference"]),
        low=_points(row["difference_ci_low"]),
        high=_points(row["difference_ci_high"]),
        p=_p(row["p_adjusted"], lang),
    )
    other = _opposite(cmp, row)
    if other:
        text += t("cmp_note_opposite", lang, other=cmp.name(other, lang))
    return text


def _action(product: str, found: dict[str, str], lang: str) -> str:
    """The advice of a product's verdict pattern (only from verdicts the tests supported)."""
    lead, mql, win = found.get("lead_to_mql"), found.get("mql_to_sql"), found.get("win_rate")
    keys: list[str] = []
    if mql == "lower":
        keys.append("cmp_do_mql_lower_after_more_mql" if lead == "higher" else "cmp_do_mql_lower")
    elif mql == "higher":
        keys.append("cmp_do_mql_higher_after_less_mql" if lead == "lower" else "cmp_do_mql_higher")
    elif lead == "higher":
        keys.append("cmp_do_lead_higher")
    elif lead == "lower":
        keys.append("cmp_do_lead_lower")
    if win:
        keys.append(f"cmp_do_win_{win}")
    return ("" if lang == "ja" else " ").join(t(k, lang, product=product) for k in keys)


def readiness(cmp: ProductComparison) -> pd.DataFrame:
    """Whether each product needs its own treatment and has the data to run on its own.

    A product *differs* when a test gave it `higher` or `lower` on a compared conversion,
    leaving out findings that only mirror another product of the pooled rest differing the
    other way by more (those products are listed in `mirrors`). It is *ready* for its own
    scenarios when the window holds at least `min_ready` MQLs and `min_ready` SQLs of it
    (core counts): enough events to tune its own threshold and rules and to read their effect.

    Returns:
        Rows `product, differs` (metric:verdict, comma-separated), `mirrors`, `mqls, sqls,
        ready` and `status`: `own_scenarios` (differs and ready), `own_threshold_first`
        (differs, too little data), `shared_ok` (no difference of its own, ready),
        `shared_too_few` (no difference of its own, too little data) or `baseline`.
    """
    c = cmp.counts.pivot_table(index="product", columns="metric", values="value", aggfunc="sum")
    rows = []
    for p in cmp.products:
        mine = cmp.tests[cmp.tests["product"] == p]
        found, mirrors = {}, []
        for _, r in mine.iterrows():
            if r["verdict"] not in ("higher", "lower"):
                continue
            other = _opposite(cmp, r)
            if other:
                mirrors.append(other)
            else:
                found[r["metric"]] = r["verdict"]
        mqls = float(c["mqls"].get(p, 0.0)) if "mqls" in c else 0.0
        sqls = float(c["sqls"].get(p, 0.0)) if "sqls" in c else 0.0
        ready = mqls >= cmp.min_ready and sqls >= cmp.min_ready
        if p == cmp.baseline:
            status = "baseline"
        elif found:
            status = "own_scenarios" if ready else "own_threshold_first"
        else:
            status = "shared_ok" if ready else "shared_too_few"
        rows.append(
            {
                "product": p,
                "differs": ", ".join(f"{m}:{v}" for m, v in found.items()),
                "mirrors": ", ".join(dict.fromkeys(mirrors)),
                "mqls": mqls,
                "sqls": sqls,
                "ready": ready,
                "status": status,
            }
        )
    columns = ["product", "differs", "mirrors", "mqls", "sqls", "ready", "status"]
    return pd.DataFrame(rows, columns=columns)


def what_to_do(cmp: ProductComparison, locale: str | None = None) -> list[str]:
    """Per product: its tested findings with their numbers, what to do, and whether it is
    ready to run on its own scenarios; "no evidence of a difference" said as plainly.

    Only verdicts `higher` / `lower` of `compare_rates` are told as differences, and advice
    follows from them alone (not from a finding that only mirrors another product differing
    the other way by more). Products with findings come first.

    Args:
        cmp: the comparison.
        locale: "ja" or "en" (default the comparison's).

    Returns:
        Plain sentences (escape them for HTML, e.g. with `views.bullet_list`).
    """
    lang = _lang(locale or cmp.locale)
    if len(cmp.products) < 2:
        return [t("cmp_need_two", lang, products=", ".join(cmp.products) or "-")]
    days = cmp.window.days
    sep = "、" if lang == "ja" else "; "
    ready = readiness(cmp).set_index("product")
    blocks: list[tuple[int, int, list[str]]] = []
    for i, p in enumerate(cmp.products):
        mine = cmp.tests[cmp.tests["product"] == p]
        r = ready.loc[p]
        counts = {
            "product": cmp.name(p, lang),
            "mqls": f"{r['mqls']:,.0f}",
            "sqls": f"{r['sqls']:,.0f}",
            "months": len(cmp.window.months),
            "min": cmp.min_ready,
        }
        if p == cmp.baseline:
            values = sep.join(
                f"{metric_label(m['metric'], lang, days, in_sentence=True)} {_pct(m['value'])}"
                for _, m in mine.iterrows()
                if pd.notna(m["value"])
            )
            blocks.append((1, i, [t("cmp_ready_baseline", lang, values=values, **counts)]))
            continue
        out: list[str] = []
        found: dict[str, str] = {}
        basis: list[str] = []
        for _, row in mine.iterrows():
            if row["verdict"] in ("higher", "lower"):
                out.append(_finding(cmp, row, lang))
                if not _opposite(cmp, row):
                    found[row["metric"]] = row["verdict"]
                    basis.append(_pair(row, lang, days))
        same = mine[mine["verdict"] == "no_difference"]
        if not same.empty:
            claimed = mine["verdict"].isin(["higher", "lower"]).any()
            key = "cmp_no_difference" if claimed else "cmp_no_difference_all"
            parts = sep.join(_pair(m, lang, days) for _, m in same.iterrows())
            out.append(
                t(
                    key,
                    lang,
                    product=cmp.name(p, lang),
                    group=_group_name(cmp, p, lang),
                    parts=parts,
                )
            )
        few = mine[mine["verdict"] == "too_few"]
        if not few.empty:
            parts = sep.join(
                t(
                    "cmp_few_item",
                    lang,
                    metric=metric_label(m["metric"], lang, days, in_sentence=True),
                    n=f"{m['n']:,.0f}",
                    other=f"{m['compared_n']:,.0f}",
                )
                for _, m in few.iterrows()
            )
            out.append(
                t("cmp_too_few", lang, product=cmp.name(p, lang), parts=parts, min_n=cmp.min_n)
            )
        action = _action(cmp.name(p, lang), found, lang)
        if action:
            out.append(t("cmp_do", lang, product=cmp.name(p, lang), basis=sep.join(basis)) + action)
        if r["mirrors"]:
            mirrors = ", ".join(cmp.name(m.strip(), lang) for m in r["mirrors"].split(","))
            nodiff = t("cmp_nodiff_mirror", lang, others=mirrors)
        else:
            nodiff = t("cmp_nodiff", lang)
        out.append(t(f"cmp_ready_{r['status']}", lang, nodiff=nodiff, **counts))
        blocks.append((0 if found else 1, i, out))
    blocks.sort(key=lambda b: b[:2])
    return [s for *_, out in blocks for s in out]


def _pair(row: pd.Series, lang: str, days: int) -> str:
    return t(
        "cmp_pair",
        lang,
        metric=metric_label(row["metric"], lang, days, in_sentence=True),
        value=_pct(row["value"]),
        other=_pct(row["compared_value"]),
    )


# ---------------------------------------------------------------- definitions


def definitions(cmp: ProductComparison, locale: str | None = None) -> pd.DataFrame:
    """The report's definitions (term, definition), with this run's N, window and alpha."""
    lang = _lang(locale or cmp.locale)
    w = cmp.window
    fmt = {
        "days": w.days,
        "months": len(w.months),
        "first": w.months[0],
        "last": w.month,
        "mature_last": w.mature_months[-1] if w.mature_months else "-",
        "alpha": f"{cmp.alpha:g}",
        "min_n": cmp.min_n,
        "min_ready": cmp.min_ready,
        "campaigns": MAX_CAMPAIGNS,
        "baseline": t("cmp_baseline_rest", lang)
        if cmp.baseline == REST
        else t("cmp_product_named", lang, product=cmp.name(cmp.baseline, lang)),
    }
    keys = (
        "window",
        "lead_to_mql",
        "mql_to_sql",
        "win_rate",
        "counts",
        "shares",
        "test",
        "verdicts",
        "ready",
        "channels",
        "campaigns",
    )
    rows = [
        {
            t("cmp_term", lang): t(f"cmp_def_{k}_term", lang, **fmt),
            t("cmp_definition", lang): t(f"cmp_def_{k}", lang, **fmt),
        }
        for k in keys
    ]
    return pd.DataFrame(rows).set_index(t("cmp_term", lang)).rename_axis(None)
