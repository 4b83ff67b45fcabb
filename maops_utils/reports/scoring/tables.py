"""The scoring study's tables (bands, metrics, products, lead scores), its curves and the
proposed model as YAML: what the notebook shows and the batch writes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import yaml

from ...contract.dataset import Dataset
from ...core.months import month_bounds
from ...core.schema import ALL
from ...core.stats import wilson_interval
from . import evaluate, points, propose
from .choices import RECOMMENDATION_COLUMNS
from .study import LEAD_SCORE_COLUMNS, METRICS_COLUMNS, MODELS, PRODUCT_COLUMNS, ScoringStudy


def band_table(study: ScoringStudy) -> pd.DataFrame:
    """`scoring_bands.csv`: success rate of the current score by band and, where there are
    ratings, by rating cell, per product and `ALL`, over every closed judged row.

    Columns: `model, kind (band | rating), product, band, n, events, rate, ci_low, ci_high,
    expected` (expected: the mean of the uniform model's probability in the band).
    """
    rows = study.closed.copy()
    ev = study.config.evaluation
    rows["band"] = evaluate.band_of(rows["score_current"], study.bands)
    order = evaluate.band_labels(study.bands)
    present = set(rows["band"].unique())  # not the rows: iterating Arrow text is slow
    order = [b for b in order if b in present] or order
    parts = []
    bands = evaluate.rate_table(
        rows, "band", order, products=study.products, min_events=ev.min_events, expected="p_current"
    )
    bands.insert(0, "kind", "band")
    parts.append(bands)
    if "rating" in rows.columns and rows["rating"].notna().any():
        grid = study.rating_grid
        cells = grid.cells if grid is not None and study.source == "rules" else []
        cells += sorted(set(rows["rating"].dropna().unique()) - set(cells))
        ratings = evaluate.rate_table(
            rows, "rating", cells, products=study.products, min_events=ev.min_events,
            expected="p_current",
        )  # fmt: skip
        ratings.insert(0, "kind", "rating")
        parts.append(ratings)
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "model", "current")
    return out.drop(columns="reliable")


def metrics_table(study: ScoringStudy) -> pd.DataFrame:
    """`scoring_metrics.csv`: per model and product (and `ALL`), on the backtest's test months
    (probabilities fitted on the earlier months): AUC, Brier score, calibration intercept and
    slope, n, events, rate, lift of the top decile and whether the events suffice."""
    bt = study.backtest
    ev = study.config.evaluation
    out = []
    for model in MODELS:
        for product in [*study.products, ALL]:
            part = bt if product == ALL else bt[bt["product"] == product]
            if part.empty or f"p_{model}" not in part.columns:
                m = dict.fromkeys(evaluate.METRIC_COLUMNS, np.nan)
                m.update(
                    n=len(part), events=int(part["y"].sum()) if len(part) else 0, reliable=False
                )
            else:
                m = evaluate.metrics(
                    part["y"], part[f"p_{model}"], part[f"score_{model}"], min_events=ev.min_events
                )
            out.append({"model": model, "product": product, **m})
    frame = pd.DataFrame(out, columns=METRICS_COLUMNS)
    frame["n"] = frame["n"].astype("int64")
    frame["events"] = frame["events"].astype("int64")
    return frame


def product_table(study: ScoringStudy) -> pd.DataFrame:
    """Per product: how its closed judged rows converted against what the uniform current
    model expects (its score mapped to probabilities over all products).

    `ratio` = observed / expected successes with a 95% interval (the Wilson interval of the
    observed rate over the expected rate). `flag`: `over` (the uniform model over-qualifies
    the product: the interval lies below 1), `under` (it lies above 1) or `ok`.
    """
    rows = study.closed
    min_events = study.config.evaluation.min_events
    out = []
    for product in [*study.products, ALL]:
        part = rows if product == ALL else rows[rows["product"] == product]
        n, events = len(part), float(part["y"].sum())
        expected = float(part["p_current"].mean()) if n else np.nan
        observed = events / n if n else np.nan
        low, high = wilson_interval(events, n)
        ratio = observed / expected if n and expected > 0 else np.nan
        r_low = float(low) / expected if n and expected > 0 else np.nan
        r_high = float(high) / expected if n and expected > 0 else np.nan
        flag = "ok"
        if product != ALL and pd.notna(r_high) and r_high < 1:
            flag = "over"
        elif product != ALL and pd.notna(r_low) and r_low > 1:
            flag = "under"
        out.append(
            {
                "product": product,
                "n": n,
                "events": int(events),
                "observed": observed,
                "expected": expected,
                "ratio": ratio,
                "ratio_ci_low": r_low,
                "ratio_ci_high": r_high,
                "flag": flag if product != ALL else "",
                "reliable": bool(events >= min_events and n - events >= min_events),
            }
        )
    return pd.DataFrame(out, columns=PRODUCT_COLUMNS)


# `scoring_products.csv`: the product table beside the current model's threshold per
# product, and the windows of both
VERDICT_COLUMNS = [
    *[c for c in PRODUCT_COLUMNS if c != "reliable"],
    *RECOMMENDATION_COLUMNS[3:11],
    "first_month",
    "last_month",
    "threshold_first_month",
    "threshold_last_month",
]


def verdict_table(study: ScoringStudy) -> pd.DataFrame:
    """`scoring_products.csv`: each product's verdict (`product_table`) beside the threshold
    the current model's objective recommends for it, and the windows of both: what the
    product comparison and the month's page read (`reports/actions.py`)."""
    rec = study.recommendations
    rec = rec[rec["model"] == "current"].set_index("product")
    closed, chosen = study.closed_months, study.threshold_months
    out = (
        product_table(study)
        .drop(columns="reliable")
        .join(rec[RECOMMENDATION_COLUMNS[3:11]], on="product")
    )
    out["first_month"], out["last_month"] = (closed[0], closed[-1]) if closed else ("", "")
    out["threshold_first_month"], out["threshold_last_month"] = (
        (chosen[0], chosen[-1]) if chosen else ("", "")
    )
    return out[VERDICT_COLUMNS]


def lead_scores(study: ScoringStudy) -> pd.DataFrame:
    """`lead_scores.csv`: every judged moment (windows closed or not): lead_id, product,
    scored_at, the current score and the proposed model's probability. No personal data."""
    r = study.rows
    out = pd.DataFrame(
        {
            "lead_id": r["lead_id"],
            "product": r["product"],
            "scored_at": r["at"].dt.strftime("%Y-%m-%d %H:%M:%S"),
            "score_current": r["score_current"],
            "p_proposed": r["p_proposed"],
        }
    )
    return out[LEAD_SCORE_COLUMNS].reset_index(drop=True)


def tables(study: ScoringStudy) -> dict[str, pd.DataFrame]:
    """The CSV files of the scoring notebook, by name (without `.csv`)."""
    return {
        "scoring_bands": band_table(study),
        "scoring_thresholds": study.threshold_table,
        "scoring_metrics": metrics_table(study),
        "lead_scores": lead_scores(study),
        "scoring_products": verdict_table(study),
    }


def proposed_yaml(study: ScoringStudy, notes: Sequence[str] = ()) -> str:
    """`scoring_proposed.yaml`: the proposed model in the form of `current:` in
    `params/scoring.yaml`, with comments on how it was fitted and the per-product thresholds,
    then `notes` (what the report says of the points: `views.proposed_notes`), one comment
    line each."""
    recs = study.recommendations
    mine = recs[recs["model"] == "proposed"].set_index("product")["recommended"]
    closed = study.closed
    if study.snapshot:
        fitted_on = (
            f"# report month {study.month}; fitted on a snapshot of {len(closed)} scored leads "
            f"({int(closed['y'].sum())} reached {study.outcome} at any time), on lead "
            "attributes only (a snapshot has no moment to count activities before)"
        )
    else:
        fitted_on = (
            f"# report month {study.month}; fitted on {len(closed)} judged leads "
            f"({int(closed['y'].sum())} reached {study.outcome} within "
            f"{study.config.evaluation.window_days} days), judged at {study.judged_at}, "
            f"months {study.closed_months[0] if study.closed_months else ''}"
            f"..{study.closed_months[-1] if study.closed_months else ''}"
        )
    lines = [
        "# Proposed lead scoring model (maops, notebooks/02_scoring_calibration.ipynb)",
        fitted_on,
        f"# mql_threshold: recommended for the objective '{study.config.thresholds.objective}'",
        "# per-product thresholds for the same objective: "
        + ", ".join(
            f"{p}: {'none' if pd.isna(v) else f'{v:g}'}" for p, v in mine.items() if p != ALL
        ),
    ]
    if pd.isna(mine.get(ALL, np.nan)):
        lines.append(
            "# no threshold serves the objective on these data: mql_threshold is the highest one"
            " in the threshold table"
        )
    if study.judged_at == "mql" and study.threshold is not None:
        lines += [
            "# Fitted on leads at the moment they became MQLs, it ranks MQLs by how likely sales",
            "# accepts them. Use it beside the current score: hand a lead to sales when the current",
            f"# score reaches {study.threshold:g} and this score reaches mql_threshold.",
        ]
    else:
        lines += [
            "# A stand-alone lead score: configure these rules in the MA tool, then paste them",
            "# under `current:` in params/scoring.yaml.",
        ]
    # a comment ends at the line's end: a note never carries a line break into the YAML
    lines += ["# - " + " ".join(str(note).split()) for note in notes]
    body = yaml.safe_dump(study.proposed.as_dict(), allow_unicode=True, sort_keys=False)
    return "\n".join(lines) + "\n" + body


EXAMPLE_COLUMNS = ["kind", "rule", "value", "current", "proposed"]


def typical_mql(study: ScoringStudy) -> pd.Series | None:
    """The MQL the worked example follows, chosen by a fixed rule (docs/scoring.md): among the
    closed judged rows of the threshold table's months (leads at their MQL entry; with
    `month_end`, the rows whose current score reached the threshold), the one whose current
    and proposed scores both sit nearest the middle: the least sum of the distances of their
    percentile ranks from 50%, ties to the earliest moment, then the first row. None for a
    snapshot (no moment to count activities before) or without a closed row."""
    if study.snapshot:
        return None
    rows = study.closed
    recent = rows[rows["month"].isin(study.threshold_months)]
    rows = recent if len(recent) else rows
    if study.judged_at != "mql" and study.threshold is not None:
        reached = rows[rows["score_current"] >= study.threshold]
        rows = reached if len(reached) else rows
    if rows.empty:
        return None
    middle = (rows["score_current"].rank(pct=True) - 0.5).abs() + (
        rows["score_proposed"].rank(pct=True) - 0.5
    ).abs()
    order = rows.assign(_d=middle.round(12)).sort_values(["_d", "at", "row_id"], kind="stable")
    return order.drop(columns="_d").iloc[0]


# The last worked example and what it was made from: the report shows it three times (its
# sentence, its table, the YAML's notes), and each would otherwise scan the activities again.
_LAST_EXAMPLE: list[tuple[ScoringStudy, Dataset, pd.DataFrame]] = []


def worked_example(study: ScoringStudy, dataset: Dataset) -> pd.DataFrame:
    """`lead_example`, made once for a study and its dataset (the same objects)."""
    for made_for, made_from, table in _LAST_EXAMPLE:
        if made_for is study and made_from is dataset:
            return table.copy()
    table = lead_example(study, dataset)
    _LAST_EXAMPLE[:] = [(study, dataset, table)]
    return table.copy()


def lead_example(study: ScoringStudy, dataset: Dataset) -> pd.DataFrame:
    """The typical MQL's points (`typical_mql`) rule by rule under the current rules and the
    proposed ones, at the moment it was judged: `kind, rule, value, current, proposed`, where
    `value` is the lead's value of a profile attribute, or the number of its activities of the
    rule's kind at or before the moment. Rules for which it has no activity and that give it
    no points under either model are left out (they add 0), so each model's column sums to
    its score. No identifier, name, e-mail or company of the lead: only what its points rest
    on. Empty when there is no such lead."""
    row = typical_mql(study)
    if row is None:
        return pd.DataFrame(columns=EXAMPLE_COLUMNS)
    moment = pd.DataFrame({"row_id": [0], "lead_id": [row["lead_id"]], "at": [row["at"]]})
    con = points.connect(dataset, month_bounds(study.month)[1])
    try:
        current = propose.lead_points(con, dataset, study.current, moment)
        proposed = propose.lead_points(con, dataset, study.proposed, moment)
        acts = propose.lead_activities(con, moment)
    finally:
        con.close()
    keys = ["kind", "rule"]
    both = pd.concat([current[keys], proposed[keys]]).drop_duplicates()
    both = both.sort_values("kind", ascending=False, kind="stable")  # profile first
    both = both.merge(current, on=keys, how="left").merge(
        proposed, on=keys, how="left", suffixes=("_c", "_p")
    )
    both = both.fillna({"points_c": 0.0, "points_p": 0.0})
    leads = dataset["leads"]
    lead = leads[leads["lead_id"] == row["lead_id"]].iloc[0]
    values = []
    for kind, rule in zip(both["kind"], both["rule"], strict=True):
        if kind == "profile":
            v = lead.get(rule)
            values.append("" if v is None or pd.isna(v) else v)
        else:
            typ, _, category = rule.partition(":")
            hit = acts["activity_type"] == typ
            if category:
                hit &= acts["category"] == category
            values.append(int(acts.loc[hit, "n"].sum()))
    out = pd.DataFrame(
        {
            "kind": both["kind"].to_numpy(),
            "rule": both["rule"].to_numpy(),
            "value": values,
            "current": both["points_c"].to_numpy(),
            "proposed": both["points_p"].to_numpy(),
        },
        columns=EXAMPLE_COLUMNS,
    )
    idle = (out["kind"] == "engagement") & (out["value"] == 0)
    idle &= (out["current"] == 0) & (out["proposed"] == 0)
    return out[~idle].reset_index(drop=True)


def floor_cost(study: ScoringStudy) -> dict[str, float]:
    """What `proposed.floor_at_zero` costs on the backtest: the AUC of the proposal fitted on
    the backtest's fitting months with the floor and without it, on the same judged leads
    (`auc_floored`, `auc_unfloored`, `n`, `events`). Empty without a backtest."""
    bt = study.backtest
    if bt.empty or "score_floored" not in bt.columns:
        return {}
    return {
        "auc_floored": evaluate.auc(bt["y"], bt["score_floored"]),
        "auc_unfloored": evaluate.auc(bt["y"], bt["score_unfloored"]),
        "n": float(len(bt)),
        "events": float(bt["y"].sum()),
    }


def reliability_curves(study: ScoringStudy, *, bins: int = 10) -> dict[str, pd.DataFrame]:
    """Reliability diagram data of each model on the backtest's test months (model -> rows of
    `evaluate.reliability`)."""
    bt = study.backtest
    return {
        m: evaluate.reliability(bt["y"], bt[f"p_{m}"], bins=bins)
        for m in MODELS
        if f"p_{m}" in bt.columns and not bt.empty
    }


def gain_curves(study: ScoringStudy) -> dict[str, pd.DataFrame]:
    """Cumulative gain of each model's score on the backtest's test months."""
    bt = study.backtest
    return {
        m: evaluate.gain_curve(bt["y"], bt[f"score_{m}"])
        for m in MODELS
        if f"score_{m}" in bt.columns and not bt.empty
    }
