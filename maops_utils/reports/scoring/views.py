"""The scoring report's tables and sentences for reading (notebooks/02_scoring_calibration.ipynb):
labels in the report's language, numbers formatted for the locale; products, activity types
and attribute values by the names `params/labels.yaml` gives them (`labels`), codes without."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML, Markdown

from ...contract.dataset import Dataset
from ...core.i18n import markdown_literal, t
from ...core.schema import ALL
from ...metrics.labels import Labels
from ..views import bullet_list
from .study import MODELS, ScoringStudy
from .tables import floor_cost, typical_mql, worked_example


def _product(product: str, labels: Labels | None, loc: str) -> str:
    return t("all", loc) if product == ALL else (labels or Labels()).name("products", product, loc)


def _sc_outcome(study: ScoringStudy) -> str:
    return t(f"sc_outcome_{study.outcome}", study.locale)


def _sc_note(key: str, fmt: dict, locale: str) -> str:
    """A study's note in the report's language; outcome codes get their display names."""
    named = {
        f"{k}_label": t(f"sc_outcome_{v}", locale)
        for k, v in fmt.items()
        if k in ("configured", "used")
    }
    return t(f"sc_{key}", locale, **fmt, **named)


def _sc_rate(rate: float, low: float, high: float, events: int, n: int) -> str:
    if not n:
        return ""
    return f"{rate * 100:.1f}% [{low * 100:.1f}–{high * 100:.1f}] ({events:,}/{n:,})"


def _sc_threshold(value: float | None, locale: str) -> str:
    return t("sc_none", locale) if value is None or pd.isna(value) else f"{value:g}"


def _sc_recommended(study: ScoringStudy, value: float | None) -> str:
    """A recommended threshold; a snapshot recommends none for capacity (it spans no time),
    which is not the advice to hand nobody over."""
    if study.snapshot and study.config.thresholds.objective == "capacity":
        return t("sc_not_applicable", study.locale)
    return _sc_threshold(value, study.locale)


def _snapshot_summary(study: ScoringStudy) -> list[str]:
    loc, closed = study.locale, study.closed
    events = int(closed["y"].sum())
    return [
        t("sc_source_snapshot", loc),
        t("sc_judged_snapshot", loc, n=len(study.rows)),
        t("sc_outcome_snapshot", loc, outcome=_sc_outcome(study), month=study.month),
        t(
            "sc_counts_snapshot",
            loc,
            n=len(closed),
            events=events,
            non=len(closed) - events,
            rate=events / len(closed) if len(closed) else 0.0,
        ),  # fmt: skip
        t("sc_snapshot_limits", loc),
    ]


def scoring_summary(study: ScoringStudy) -> HTML:
    """What was judged, when, against which outcome, and on how many leads."""
    loc, ev = study.locale, study.config.evaluation
    rows = study.rows
    closed = study.closed
    if study.snapshot:
        notes = [_sc_note(key, fmt, loc) for key, fmt in study.notes]
        return bullet_list(_snapshot_summary(study) + [n for n in notes if n])
    first = study.closed_months[0] if study.closed_months else study.month
    last = study.closed_months[-1] if study.closed_months else study.month
    items = [t("sc_source_scores" if study.source == "scores" else "sc_source_rules", loc)]
    items.append(
        t(
            f"sc_judged_{study.judged_at}",
            loc,
            first=rows["month"].min() if len(rows) else first,
            last=rows["month"].max() if len(rows) else last,
            n=len(rows),
        )
    )
    items.append(
        t(
            "sc_outcome_rule",
            loc,
            days=ev.window_days,
            outcome=_sc_outcome(study),
            censored=int((~rows["closed"]).sum()),
        )
    )
    events = int(closed["y"].sum())
    items.append(
        t(
            "sc_counts",
            loc,
            first=first,
            last=last,
            n=len(closed),
            events=events,
            non=len(closed) - events,
            rate=events / len(closed) if len(closed) else 0.0,
        )
    )
    check = study.mql_check
    if check.get("mqls"):
        key = "sc_mql_check" if check["explained"] >= 0.9 else "sc_mql_check_low"
        items.append(
            t(
                key,
                loc,
                n=int(check["mqls"]),
                share=check["explained"],
                threshold=study.current.mql_threshold,
            )
        )
    items += [n for n in (_sc_note(key, fmt, loc) for key, fmt in study.notes) if n]
    return bullet_list(items)


def scoring_sample_note(
    study: ScoringStudy, scope: str = "all", *, labels: Labels | None = None
) -> Markdown:
    """The sample-size statement for a figure: `all` (every evaluated lead), `backtest` (the
    backtest's judged months) or `products` (one line per product)."""
    loc, min_events = study.locale, study.config.evaluation.min_events
    if scope == "backtest":
        what = t("sc_scope_folds" if study.snapshot else "sc_scope_backtest", loc)
        parts = [(what, study.backtest)]
    elif scope == "products":
        closed = study.closed
        parts = [
            (
                t("sc_scope_product", loc, product=markdown_literal(_product(p, labels, loc))),
                closed[closed["product"] == p],
            )
            for p in study.products
        ]
    else:
        parts = [(t("sc_scope_all", loc), study.closed)]
    lines, small = [], []
    for what, part in parts:
        events = int(part["y"].sum()) if len(part) else 0
        non = len(part) - events
        if events < min_events or non < min_events:
            small.append(t("sc_sample_counts", loc, what=what, events=events, non=non))
        else:
            lines.append(t("sc_sample_ok", loc, what=what, events=events, non=non, min=min_events))
    if small:  # one caution for every part too small, not the same sentence per product
        sep = "、" if loc == "ja" else "; "
        lines.append(t("sc_sample_small", loc, what=sep.join(small), min=min_events))
    return Markdown("\n\n".join(lines))


def scoring_bands(
    study: ScoringStudy, bands: pd.DataFrame, kind: str = "band", *, labels: Labels | None = None
) -> pd.DataFrame:
    """Bands (or rating cells) as rows, products and `ALL` as columns: rate [95%] (successes/n),
    then the uniform model's expected rate for the whole business."""
    loc = study.locale
    part = bands[bands["kind"] == kind]
    order = list(dict.fromkeys(part["band"]))
    out = pd.DataFrame(index=order)
    for product in dict.fromkeys(part["product"]):
        g = part[part["product"] == product].set_index("band")
        out[_product(product, labels, loc)] = [
            _sc_rate(r.rate, r.ci_low, r.ci_high, int(r.events), int(r.n))
            for r in g.reindex(order).itertuples()
        ]
    total = part[part["product"] == ALL].set_index("band").reindex(order)
    out[t("sc_expected", loc)] = [
        "" if pd.isna(v) else f"{v * 100:.1f}%" for v in total["expected"]
    ]
    if kind == "rating":
        out = out[total["n"].to_numpy() > 0]
    label = t("sc_rating" if kind == "rating" else "sc_band", loc)
    return out.rename_axis(label)


def scoring_metrics(study: ScoringStudy, table: pd.DataFrame) -> pd.DataFrame:
    """The backtest's metrics for the whole business: metrics as rows, models as columns."""
    loc = study.locale
    part = table[table["product"] == ALL].set_index("model")
    names = {
        "auc": ("sc_auc", "{:.3f}"),
        "brier": ("sc_brier", "{:.4f}"),
        "calibration_intercept": ("sc_cal_intercept", "{:+.2f}"),
        "calibration_slope": ("sc_cal_slope", "{:.2f}"),
        "lift_top_decile": ("sc_lift", "{:.2f}"),
        "n": ("sc_n", "{:,.0f}"),
        "events": ("sc_events", "{:,.0f}"),
    }
    out = pd.DataFrame(index=[t(key, loc) for key, _ in names.values()])
    for model in part.index:
        cells = [
            "" if pd.isna(part.at[model, col]) else fmt.format(part.at[model, col])
            for col, (_, fmt) in names.items()
        ]
        low, high = part.at[model, "auc_ci_low"], part.at[model, "auc_ci_high"]
        if cells[0] and pd.notna(low):
            cells[0] += f" [{low:.3f}–{high:.3f}]"  # the AUC's 95% interval
        out[t(f"sc_{model}", loc)] = cells
    return out.rename_axis(t("sc_metric", loc))


def scoring_thresholds(study: ScoringStudy, *, labels: Labels | None = None) -> pd.DataFrame:
    """Per model and product: current and recommended threshold with the MQLs per month,
    precision and successes per month each would give."""
    loc = study.locale
    rows = []
    for r in study.recommendations.itertuples():
        group = _product(r.product, labels, loc)

        def pair(now: float, new: float, fmt: str) -> str:
            a = "" if pd.isna(now) else fmt.format(now)
            b = "" if pd.isna(new) else fmt.format(new)
            return f"{a} → {b}" if a and b else a or b

        if study.snapshot:  # no time span: counts over the snapshot, not per month
            volume = {
                t("sc_mqls_total", loc): pair(r.current_mqls, r.mqls, "{:,.0f}"),
                t("sc_precision", loc): pair(r.current_precision, r.precision, "{:.0%}"),
                t("sc_successes_total", loc): pair(r.current_successes, r.successes, "{:,.0f}"),
            }
        else:
            volume = {
                t("sc_mqls_per_month", loc): pair(
                    r.current_mqls_per_month, r.mqls_per_month, "{:.1f}"
                ),
                t("sc_precision", loc): pair(r.current_precision, r.precision, "{:.0%}"),
                t("sc_sqls_per_month", loc): pair(
                    r.current_sqls_per_month, r.sqls_per_month, "{:.1f}"
                ),
            }
        rows.append(
            {
                t("sc_model", loc): t(f"sc_{r.model}", loc),
                t("product", loc): group,
                t("sc_threshold_now", loc): ""
                if pd.isna(r.current_threshold)
                else f"{r.current_threshold:g}",
                t("sc_recommended", loc): _sc_recommended(study, r.recommended),
                **volume,
            }
        )
    return pd.DataFrame(rows).set_index([t("sc_model", loc), t("product", loc)])


def scoring_threshold_sentence(study: ScoringStudy) -> Markdown:
    """The current threshold against the recommendation, for the whole business, in words."""
    loc, th = study.locale, study.config.thresholds
    rec = study.recommendations
    r = rec[(rec["model"] == "current") & (rec["product"] == ALL)].iloc[0]
    objective = t(
        f"sc_objective_{th.objective}", loc, capacity=th.capacity,
        precision=th.target_precision, value=th.sql_value, cost=th.mql_cost,
    )  # fmt: skip
    snap = "_snapshot" if study.snapshot else ""
    after = ""
    if pd.notna(r.recommended):
        after = t(
            f"sc_threshold_after{snap}", loc, mqls=r.mqls_per_month, p=r.precision,
            s=r.sqls_per_month, n=r.mqls, k=r.successes,
        )  # fmt: skip
    rec = _sc_threshold(r.recommended, loc) if pd.notna(r.recommended) else t("sc_no_fit", loc)
    if pd.isna(r.current_threshold):  # the configured one is not on the scores' scale
        text = t("sc_threshold_unused", loc, objective=objective, rec=rec, after=after)
    else:
        text = t(
            f"sc_threshold_now_rec{snap}", loc, now=r.current_threshold,
            mqls_now=r.current_mqls_per_month, p_now=r.current_precision,
            s_now=r.current_sqls_per_month, n_now=r.current_mqls, k_now=r.current_successes,
            objective=objective, rec=rec, after=after,
        )  # fmt: skip
    if study.judged_at == "mql" and study.threshold is not None:
        text += "\n\n" + t("sc_threshold_floor", loc)
    return Markdown(text)


def proposed_rules(study: ScoringStudy, *, labels: Labels | None = None) -> pd.DataFrame:
    """The proposed points as an MA admin types them: kind, attribute, value, points, cap;
    activity types, categories and attribute values by name."""
    from .propose import rules_table

    loc, names = study.locale, labels or Labels()
    table = rules_table(study.proposed)
    table["value"] = [
        _rule_value(names, k, a, v, loc)
        for k, a, v in zip(table["kind"], table["attribute"], table["value"], strict=True)
    ]
    table["attribute"] = [
        names.activity(a, loc) if k == "engagement" else names.attribute(a, loc)
        for k, a in zip(table["kind"], table["attribute"], strict=True)
    ]
    table["kind"] = table["kind"].map(lambda k: t(f"sc_{k}", loc))
    table["cap"] = ["" if pd.isna(c) else f"{c:.0f}" for c in table["cap"]]
    cols = {
        "kind": t("sc_kind", loc),
        "attribute": t("sc_attribute", loc),
        "value": t("sc_value", loc),
        "points": t("sc_points", loc),
        "cap": t("sc_cap", loc),
    }
    return table.rename(columns=cols).set_index([cols["kind"], cols["attribute"]])


def auc_sentence(study: ScoringStudy, metrics: pd.DataFrame) -> str:
    """The proposed model against the current one on the backtest (AUC, Brier), or ""."""
    part = metrics[metrics["product"] == ALL].set_index("model")
    if not {"current", "proposed"} <= set(part.index) or pd.isna(part.at["proposed", "auc"]):
        return ""
    return t(
        "sc_proposed_auc_snapshot" if study.snapshot else "sc_proposed_auc",
        study.locale,
        cur=part.at["current", "auc"],
        prop=part.at["proposed", "auc"],
        cur_b=part.at["current", "brier"],
        prop_b=part.at["proposed", "brier"],
        n=int(part.at["proposed", "n"]),
        events=int(part.at["proposed", "events"]),
    )


def _rule_value(names: Labels, kind: str, attribute: str, value: str, loc: str) -> str:
    if kind == "engagement":
        return names.name("activity_categories", value, loc) if value else t("sc_any", loc)
    if value == "":
        return t("sc_empty_value", loc)
    return names.value(attribute, value, loc)


def proposed_summary(study: ScoringStudy, metrics: pd.DataFrame) -> HTML:
    """How the proposed model compares on the backtest and how it is meant to be used."""
    loc = study.locale
    auc = auc_sentence(study, metrics)
    items = [auc] if auc else []
    rec = study.recommendations
    r = rec[(rec["model"] == "proposed") & (rec["product"] == ALL)].iloc[0]
    if study.snapshot:
        key = "sc_proposed_use_snapshot"
    elif study.judged_at == "mql" and study.threshold is not None:
        key = "sc_proposed_use_mql"
    else:
        key = "sc_proposed_use_month_end"
    if pd.notna(r.recommended):
        items.append(
            t(
                key,
                loc,
                current=study.threshold,
                threshold=study.proposed.mql_threshold,
                mqls=r.mqls_per_month,
                precision=r.precision,
                sqls=r.sqls_per_month,
                n=r.mqls,
                k=r.successes,
            )  # fmt: skip
        )
    else:
        items.append(t("sc_proposed_no_threshold", loc))
    items.append(t("sc_proposed_in_sample", loc))
    return bullet_list(items)


def scoring_products(
    study: ScoringStudy,
    products: pd.DataFrame,
    metrics: pd.DataFrame,
    *,
    labels: Labels | None = None,
) -> pd.DataFrame:
    """Per product: observed and expected success rate, their ratio and verdict, the backtest
    AUC of both models and the recommended thresholds."""
    from ...core.stats import wilson_interval

    loc = study.locale
    rec = study.recommendations.set_index(["model", "product"])["recommended"]
    auc = metrics.set_index(["model", "product"])["auc"]
    rows = []
    for r in products.itertuples():
        low, high = (r.observed, r.observed) if not r.n else wilson_interval(r.events, r.n)
        rows.append(
            {
                t("product", loc): _product(r.product, labels, loc),
                t("sc_observed", loc): _sc_rate(r.observed, float(low), float(high), r.events, r.n),
                t("sc_expected", loc): "" if pd.isna(r.expected) else f"{r.expected * 100:.1f}%",
                t("sc_ratio", loc): ""
                if pd.isna(r.ratio)
                else f"{r.ratio:.2f} [{r.ratio_ci_low:.2f}–{r.ratio_ci_high:.2f}]",
                t("sc_flag", loc): t(f"sc_flag_{r.flag}", loc) if r.flag else "",
                t("sc_auc_current", loc): _sc_num(auc.get(("current", r.product))),
                t("sc_auc_proposed", loc): _sc_num(auc.get(("proposed", r.product))),
                t("sc_rec_current", loc): _sc_recommended(study, rec.get(("current", r.product))),
                t("sc_rec_proposed", loc): _sc_recommended(study, rec.get(("proposed", r.product))),
            }
        )
    return pd.DataFrame(rows).set_index(t("product", loc)).rename_axis(None)


def _sc_num(value: float | None) -> str:
    return "" if value is None or pd.isna(value) else f"{value:.2f}"


def scoring_product_sentences(
    study: ScoringStudy, products: pd.DataFrame, *, labels: Labels | None = None
) -> HTML:
    """One sentence per product the uniform model over- or under-qualifies."""
    loc = study.locale
    items = [
        t(
            "sc_product_flag",
            loc,
            product=_product(r.product, labels, loc),
            observed=r.observed,
            expected=r.expected,
            ratio=r.ratio,
            low=r.ratio_ci_low,
            high=r.ratio_ci_high,
            flag=t(f"sc_flag_{r.flag}", loc),
        )  # fmt: skip
        for r in products.itertuples()
        if r.product != ALL and r.flag in ("over", "under")
    ]
    return bullet_list(items)


def scoring_outcome(study: ScoringStudy) -> str:
    """The outcome's display name (SQL, opportunity, won) in the report's language."""
    return _sc_outcome(study)


def scoring_backtest_scope(study: ScoringStudy) -> HTML | Markdown:
    """Which months the backtest fitted on and which it judged on."""
    loc = study.locale
    if study.snapshot and study.folds:
        return bullet_list([t("sc_backtest_snapshot", loc, folds=study.folds)])
    if not (study.train_months and study.test_months):
        return Markdown(t("sc_note_no_backtest", loc))
    return bullet_list(
        [
            t(
                "sc_backtest",
                loc,
                train_first=study.train_months[0],
                train_last=study.train_months[-1],
                test_first=study.test_months[0],
                test_last=study.test_months[-1],
            )
        ]
    )


def negative_sentences(study: ScoringStudy, labels: Labels | None = None) -> list[str]:
    """One sentence per activity rule the proposal fits with negative points: what the
    subtraction means beside the lead's other activities, from how often the rule comes with
    rules that add and the success rates, and whether its 95% interval includes 0."""
    from .propose import negative_points

    loc, names = study.locale, labels or Labels()
    out = []
    for r in negative_points(study.fit, study.config.proposal).itertuples():
        numbers = dict(n=r.n_with, rate_with=r.rate_with, rate_without=r.rate_without)
        numbers.update(outcome=_sc_outcome(study), share=r.with_positive)
        others = t("sc_and", loc).join(names.rule(o, loc) for o in r.others)
        middle = (
            t("sc_negative_with", loc, others=others, **numbers)
            if others and r.with_positive > 0
            else t("sc_negative_alone", loc, **numbers)
        )
        zero = "sc_negative_zero" if r.includes_zero else "sc_negative_clear"
        head = t("sc_negative_head", loc, rule=names.rule(r.rule, loc), points=r.points)
        interval = t(zero, loc, low=r.low, high=r.high)
        out.append(t("sc_negative_sentence", loc, head=head, middle=middle, interval=interval))
    return out


def proposed_negative_points(
    study: ScoringStudy, *, labels: Labels | None = None
) -> HTML | Markdown:
    """`negative_sentences` as a list, or a sentence saying no rule subtracts."""
    items = negative_sentences(study, labels)
    return bullet_list(items) if items else Markdown(t("sc_negative_none", study.locale))


def floor_sentences(study: ScoringStudy, labels: Labels | None = None) -> list[str]:
    """Whether the proposal floors points at 0 (`proposed.floor_at_zero`), which rules the
    floor sets to 0, and the backtest's AUC with and without it."""
    loc, fit = study.locale, study.fit
    if not fit.floored:
        return [t("sc_floor_nothing", loc)]
    rules = t("sc_list_sep", loc).join((labels or Labels()).rule(k, loc) for k in fit.floored)
    out = [t("sc_floor_applied" if fit.floor_applied else "sc_floor_off", loc, rules=rules)]
    cost = floor_cost(study)
    if not cost:
        return [*out, t("sc_floor_no_backtest", loc)]
    floored, unfloored = cost["auc_floored"], cost["auc_unfloored"]
    return [
        *out,
        t(
            "sc_floor_cost",
            loc,
            n=int(cost["n"]),
            events=int(cost["events"]),
            floored=floored,
            unfloored=unfloored,
            diff=floored - unfloored,
        ),  # fmt: skip
    ]


def proposed_floor(study: ScoringStudy, *, labels: Labels | None = None) -> HTML:
    """`floor_sentences` as a list."""
    return bullet_list(floor_sentences(study, labels))


def _example_value(names: Labels, kind: str, rule: str, value: object, loc: str) -> str:
    """The lead's value of a profile attribute by name, or its number of activities."""
    if value == "":
        return t("sc_empty_value", loc)
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return names.value(rule, str(value), loc) if kind == "profile" else str(value)


def _example_rows(
    study: ScoringStudy, table: pd.DataFrame, labels: Labels | None = None
) -> list[tuple[str, str, str, str, str]]:
    """The worked example's rows for reading: kind, rule, value, current, proposed points,
    then the totals and the thresholds."""
    loc, names = study.locale, labels or Labels()
    rows = [
        (
            t(f"sc_{r.kind}", loc),
            names.attribute(r.rule, loc) if r.kind == "profile" else names.rule(r.rule, loc),
            _example_value(names, r.kind, r.rule, r.value, loc),
            f"{r.current:g}",
            f"{r.proposed:g}",
        )
        for r in table.itertuples()
    ]
    rows.append((t("sc_example_total", loc), "", "", *(f"{table[m].sum():g}" for m in MODELS)))
    limits = (study.current.mql_threshold, study.proposed.mql_threshold)
    return [*rows, (t("sc_example_threshold", loc), "", "", *(f"{x:g}" for x in limits))]


def proposed_example(
    study: ScoringStudy, dataset: Dataset, *, labels: Labels | None = None
) -> pd.DataFrame | Markdown:
    """The typical MQL's points rule by rule, current against proposed, summed, against each
    model's threshold (`tables.worked_example`): what a lead's score is made of."""
    loc = study.locale
    table = worked_example(study, dataset)
    if table.empty:
        return Markdown(t("sc_example_none", loc))
    keys = ("sc_kind", "sc_example_rule", "sc_example_value", "sc_current", "sc_proposed")
    out = pd.DataFrame(_example_rows(study, table, labels), columns=[t(k, loc) for k in keys])
    return out.set_index([t("sc_kind", loc), t("sc_example_rule", loc)])


def example_sentence(study: ScoringStudy, dataset: Dataset) -> str:
    """The typical MQL in one sentence: when it was judged, its score on each model against
    that model's threshold, and whether it reached the outcome."""
    loc = study.locale
    row, table = typical_mql(study), worked_example(study, dataset)
    if row is None or table.empty:
        return t("sc_example_none", loc)
    current, proposed = float(table["current"].sum()), float(table["proposed"].sum())
    cur_t, prop_t = study.current.mql_threshold, study.proposed.mql_threshold
    months = study.threshold_months or study.closed_months or [study.month]

    def reached(score: float, threshold: float) -> str:
        return t("sc_example_reached" if score >= threshold else "sc_example_not_reached", loc)

    text = t(
        "sc_example_sentence", loc, first=months[0], last=months[-1], month=row["month"],
        current=current, cur_t=cur_t, cur_reached=reached(current, cur_t),
        proposed=proposed, prop_t=prop_t, prop_reached=reached(proposed, prop_t),
        reached=t("sc_example_outcome_yes" if row["y"] == 1 else "sc_example_outcome_no", loc),
        outcome=_sc_outcome(study), days=study.config.evaluation.window_days,
    )  # fmt: skip
    if study.source == "scores":
        tool = t("sc_example_tool_scores", loc, tool=float(row["score_current"]))
        text = t("sc_two_sentences", loc, first=text, second=tool)
    return text


def proposed_example_sentence(study: ScoringStudy, dataset: Dataset) -> Markdown:
    """`example_sentence` for reading."""
    return Markdown(markdown_literal(example_sentence(study, dataset)))


def proposed_notes(
    study: ScoringStudy, dataset: Dataset, *, labels: Labels | None = None
) -> list[str]:
    """What the report says of the proposed points, as lines for `scoring_proposed.yaml`:
    the negative points explained, the floor, and the worked example with its rows."""
    lines = [
        *negative_sentences(study, labels),
        *floor_sentences(study, labels),
        example_sentence(study, dataset),
    ]
    table = worked_example(study, dataset)
    if not table.empty:
        rows = _example_rows(study, table, labels)
        lines += [" ".join(filter(None, r[:3])) + f": {r[3]} -> {r[4]}" for r in rows]
    return lines
