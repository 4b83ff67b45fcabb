"""The proposed points made acceptable: negative points explained, the floor at 0, and a
worked example of a typical MQL (docs/scoring.md, "The proposed model")."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.core.i18n import t
from maops_utils.reports import scoring
from maops_utils.reports.scoring import evaluate, points, propose, views
from maops_utils.reports.scoring.model import ActivityRule, Proposal, parse_config, parse_model
from maops_utils.reports.scoring.tables import proposed_yaml, typical_mql, worked_example

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "workspaces" / "sample" / "params"
AS_OF = pd.Timestamp("2026-11-15 09:00")
MONTH = "2026-10"
CUTOFF = pd.Timestamp("2026-11-01")  # the end of MONTH: nothing later is read


@pytest.fixture(scope="module")
def sample():
    return load_dataset(ROOT / "data" / "sample", as_of=AS_OF)


def _study(sample, *, floor: bool, locale: str = "en"):
    config = scoring.load_config(PARAMS)
    config = dataclasses.replace(
        config, proposal=dataclasses.replace(config.proposal, floor_at_zero=floor)
    )
    return scoring.run(sample, config, MONTH, locale=locale)


@pytest.fixture(scope="module")
def kept(sample):
    return _study(sample, floor=False)


@pytest.fixture(scope="module")
def floored(sample):
    return _study(sample, floor=True)


def _name(key: str, locale: str = "en") -> str:
    typ, _, category = key.partition(":")
    name = t(f"activity_{typ}", locale)
    return t("activity_rule", locale, activity=name, category=category) if category else name


# ---------------------------------------------------------------- negative points


def test_each_negative_point_gets_a_sentence_naming_its_rule_and_whether_it_is_told_from_0(
    kept, features
):
    fit = kept.fit
    negative = [k for k in fit.signals.index if fit.points[k] < 0]
    assert negative  # the sample's proposal subtracts for events and webinars
    assert {"event_attend", "webinar_attend"} <= set(negative)
    sentences = views.negative_sentences(kept)
    assert len(sentences) == len(negative)
    scale = kept.config.proposal.points_to_double_odds / math.log(2)
    for key in negative:
        mine = [s for s in sentences if s.startswith(f"{_name(key)}: ")]
        assert len(mine) == 1, key
        sentence = mine[0]
        assert f"{int(fit.points[key]):+d} points" in sentence
        coef, se = fit.coefficients[key], fit.std_errors[key]
        low, high = (coef - 1.96 * se) * scale, (coef + 1.96 * se) * scale
        assert f"{low:+.1f} to {high:+.1f} points" in sentence
        assert ("cannot tell it from 0" in sentence) == (low <= 0 <= high)
        assert f"of the {int((features[key] > 0).sum()):,} judged leads" in sentence
    html = views.proposed_negative_points(kept).data
    assert html.count("<li>") == len(negative)


@pytest.fixture(scope="module")
def features(sample, kept) -> pd.DataFrame:
    """The fitted rows' features, counted again from the dataset: what the sentences'
    counts and shares must match."""
    con = points.connect(sample, CUTOFF)
    try:
        spec = propose.feature_spec(sample, kept.config.proposal, con)
        X = propose.feature_matrix(con, sample, kept.rows, spec, kept.config.proposal)
    finally:
        con.close()
    return X[(kept.rows["closed"] & kept.rows["y"].notna()).to_numpy()]


def test_the_share_alongside_and_the_rates_are_those_of_the_fitted_leads(kept, features):
    X, y = features, kept.closed["y"].to_numpy()
    table = propose.negative_points(kept.fit, kept.config.proposal)
    positive = [k for k in kept.fit.signals.index if kept.fit.points[k] > 0]
    for r in table.itertuples():
        has = X[r.rule].to_numpy() > 0
        also = (X.loc[has, [p for p in positive if p != r.rule]] > 0).any(axis=1)
        assert r.n_with == has.sum()
        assert r.with_positive == pytest.approx(also.mean())
        assert r.rate_with == pytest.approx(y[has].mean())
        assert r.rate_without == pytest.approx(y[~has].mean())
        shares = {p: (X.loc[has, p] > 0).mean() for p in positive if p != r.rule}
        assert r.others[0] == max(shares, key=shares.get)


def test_standard_errors_match_woolfs_for_one_binary_signal_without_a_penalty():
    rng = np.random.default_rng(3)
    n = 40_000
    x = (rng.random(n) < 0.4).astype(float)
    y = (rng.random(n) < 1 / (1 + np.exp(1.0 - 0.5 * x))).astype(int)
    spec = propose.FeatureSpec((), (ActivityRule("webinar_attend", 1, cap=3),))
    X = pd.DataFrame({"webinar_attend": x})
    fit = propose.fit(X, y, spec, Proposal(profile=(), bands=(), regularisation=1e6))
    a, b = ((x == 1) & (y == 1)).sum(), ((x == 1) & (y == 0)).sum()
    c, d = ((x == 0) & (y == 1)).sum(), ((x == 0) & (y == 0)).sum()
    assert fit.std_errors["webinar_attend"] == pytest.approx(
        math.sqrt(1 / a + 1 / b + 1 / c + 1 / d), rel=0.01
    )
    assert fit.coefficients["webinar_attend"] == pytest.approx(math.log(a * d / (b * c)), abs=1e-3)
    # with few leads the penalty, a prior of variance C, says most: the interval is its own
    few = slice(0, 20)
    weak = propose.fit(X[few], y[few], spec, Proposal(profile=(), bands=(), regularisation=0.01))
    assert 0.9 * math.sqrt(0.01) < weak.std_errors["webinar_attend"] < math.sqrt(0.01)


# ---------------------------------------------------------------- the floor


def test_the_floor_gives_no_rule_negative_points_and_the_report_names_those_it_floored(
    kept, floored
):
    assert any(r.points < 0 for r in kept.proposed.activities)
    assert all(r.points > 0 for r in floored.proposed.activities)
    assert floored.fit.floor_applied and not kept.fit.floor_applied
    gone = set(floored.fit.floored)
    assert {k for k in kept.fit.signals.index if kept.fit.points[k] < 0} <= gone
    assert not gone & {r.key for r in floored.proposed.activities}
    assert floored.proposed != kept.proposed
    # refitted without the floored rules, not clipped: the other points move
    rest = [r.key for r in floored.proposed.activities]
    assert (floored.fit.points[rest] != kept.fit.points[rest]).any()
    said = " ".join(views.floor_sentences(floored))
    assert "floor_at_zero: true" in said
    for key in gone:
        assert _name(key) in said
    assert "floor_at_zero: false" in " ".join(views.floor_sentences(kept))


def test_the_floors_cost_is_the_backtests_auc_with_and_without_it(kept, floored):
    for study in (kept, floored):
        bt = study.backtest
        chosen = "score_floored" if study.fit.floor_applied else "score_unfloored"
        np.testing.assert_array_equal(bt["score_proposed"], bt[chosen])
    for study in (kept, floored):  # said whether the floor is set or not
        bt = study.backtest
        with_floor = evaluate.auc(bt["y"], bt["score_floored"])
        without = evaluate.auc(bt["y"], bt["score_unfloored"])
        assert with_floor != without
        said = " ".join(views.floor_sentences(study))
        assert f"{with_floor:.3f} with the floor and {without:.3f} without it" in said
        assert f"({len(bt):,} judged, {int(bt['y'].sum()):,} successes)" in said


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_a_floor_that_is_not_true_or_false_names_the_file_and_the_key(value):
    data = yaml.safe_load((PARAMS / "scoring.yaml").read_text(encoding="utf-8"))
    data["proposed"]["floor_at_zero"] = value
    with pytest.raises(
        ConfigError, match=r"^scoring\.yaml: proposed\.floor_at_zero: .* must be true"
    ):
        parse_config(data, "scoring.yaml")


def test_the_floor_is_off_unless_set():
    data = yaml.safe_load((PARAMS / "scoring.yaml").read_text(encoding="utf-8"))
    del data["proposed"]["floor_at_zero"]
    assert parse_config(data).proposal.floor_at_zero is False
    data["proposed"]["floor_at_zero"] = True
    assert parse_config(data).proposal.floor_at_zero is True


# ---------------------------------------------------------------- the worked example


@pytest.mark.parametrize("which", ["kept", "floored"])
def test_the_worked_examples_columns_sum_to_the_leads_score_under_each_model(
    which, sample, request
):
    study = request.getfixturevalue(which)
    row = typical_mql(study)
    table = worked_example(study, sample)
    moment = pd.DataFrame({"row_id": [0], "lead_id": [row["lead_id"]], "at": [row["at"]]})
    for model, column in ((study.current, "current"), (study.proposed, "proposed")):
        score = points.scores_at(sample, model, moment, CUTOFF)["score"].iloc[0]
        assert table[column].sum() == pytest.approx(score)
        assert row[f"score_{column}"] == pytest.approx(score)
    shown = views.proposed_example(study, sample)
    totals = shown.loc[(t("sc_example_total", "en"), "")]
    assert float(totals[t("sc_current", "en")]) == table["current"].sum()
    assert float(totals[t("sc_proposed", "en")]) == table["proposed"].sum()


def test_the_typical_mql_is_the_one_nearest_the_middle_of_both_scores(kept):
    rows = kept.closed[kept.closed["month"].isin(kept.threshold_months)]
    middle = (rows["score_current"].rank(pct=True) - 0.5).abs()
    middle += (rows["score_proposed"].rank(pct=True) - 0.5).abs()
    best = rows[np.isclose(middle, middle.min())].sort_values(["at", "row_id"]).iloc[0]
    assert typical_mql(kept)["row_id"] == best["row_id"]


def test_the_worked_example_shows_no_personal_data(kept, sample):
    lead = sample["leads"].set_index("lead_id").loc[typical_mql(kept)["lead_id"]]
    shown = views.proposed_example(kept, sample).to_html()
    shown += views.proposed_example_sentence(kept, sample).data
    shown += "\n".join(views.proposed_notes(kept, sample))
    for private in (typical_mql(kept)["lead_id"], lead["email"], lead["company"]):
        if isinstance(private, str) and private:
            assert private not in shown


# ---------------------------------------------------------------- scoring_proposed.yaml


def test_the_proposed_yaml_carries_the_notes_as_comments_and_still_reads_as_a_model(kept, sample):
    notes = views.proposed_notes(kept, sample)
    text = proposed_yaml(kept, notes)
    assert parse_model(yaml.safe_load(text)) == kept.proposed
    assert proposed_yaml(kept).splitlines()[:4] == text.splitlines()[:4]  # nothing renamed
    comments = [line for line in text.splitlines() if line.startswith("# - ")]
    assert len(comments) == len(notes)
    for rule in ("event_attend", "webinar_attend"):
        assert any(line.startswith(f"# - {_name(rule)}: ") for line in comments)


def test_the_calibration_caution_is_said_once_for_every_product_too_small(kept):
    from maops_utils.reports.scoring import views

    text = views.scoring_sample_note(kept, "products").data
    closed = kept.closed
    small = [
        p
        for p in kept.products
        if min(
            closed.loc[closed["product"] == p, "y"].sum(),
            (closed["product"] == p).sum() - closed.loc[closed["product"] == p, "y"].sum(),
        )
        < kept.config.evaluation.min_events
    ]
    assert small  # the sample's products are each below the rule of thumb
    assert text.count("rule of thumb") == 1  # one caution, naming every small product
    for p in small:
        part = closed[closed["product"] == p]
        assert (
            f"({int(part['y'].sum()):,} successes, {len(part) - int(part['y'].sum()):,} failures)"
            in text
        )


# ---------------------------------------------------------------- names, not codes


@pytest.fixture(scope="module")
def labels():
    from maops_utils.metrics.labels import load_labels

    return load_labels(PARAMS)


def _cells(frame: pd.DataFrame) -> set[str]:
    return set(frame.reset_index().astype(str).to_numpy().ravel())


def test_the_rule_table_names_activities_categories_and_values_as_labels_yaml_does(kept, labels):
    table = views.proposed_rules(kept, labels=labels)
    rules = table.reset_index()
    kind, attribute, value = (t(k, "en") for k in ("sc_kind", "sc_attribute", "sc_value"))
    profile = rules[rules[kind] == t("sc_profile", "en")]
    named = dict(zip(profile[value], profile[attribute], strict=True))
    # attribute values: labels.yaml's attributes, and the channels' and products' sections
    assert named["Executive"] == "Job level" and named["Student"] == "Job level"
    assert named["Web ads"] == "Channel" and named["Mirai Guard"] == "Product"
    assert named["unknown"] == "Channel"  # leads without a source, in the report's words
    engagement = rules[rules[kind] == t("sc_engagement", "en")]
    pairs = set(zip(engagement[attribute], engagement[value], strict=True))
    assert ("page view", "pricing") in pairs and ("event attendance", t("sc_any", "en")) in pairs
    assert ("form submission", "inquiry, quote or demo") in pairs
    codes = {"job_level", "executive", "event_attend", "page_view", "web_ad", "lead_source", "C"}
    assert not _cells(table) & codes
    # points and caps are the model's, whatever the names
    raw = propose.rules_table(kept.proposed)
    assert table[t("sc_points", "en")].tolist() == raw["points"].tolist()


def test_the_negative_points_and_the_worked_example_name_the_rules(kept, sample, labels):
    said = " ".join(views.negative_sentences(kept, labels))
    assert "form submission (sign-up)" in said and "registration" not in said
    example = views.proposed_example(kept, sample, labels=labels)
    cells = _cells(example)
    assert "Job level" in cells and "job_level" not in cells
    lead = sample["leads"].set_index("lead_id").loc[typical_mql(kept)["lead_id"]]
    assert labels.value("job_level", lead["job_level"], "en") in cells
    assert labels.name("products", lead["product"], "en") in cells


def test_the_scoring_tables_and_sentences_name_products_and_its_csv_files_keep_codes(kept, labels):
    names = labels.named("products", "en")
    bands = scoring.band_table(kept)
    shown = views.scoring_bands(kept, bands, labels=labels)
    assert [names[p] for p in kept.products] == list(shown.columns[: len(kept.products)])
    products = scoring.product_table(kept)
    metrics = scoring.metrics_table(kept)
    table = views.scoring_products(kept, products, metrics, labels=labels)
    assert set(names.values()) <= set(table.index)
    sentences = views.scoring_product_sentences(kept, products, labels=labels).data
    assert names["C"] in sentences  # the sample's security product is over-qualified
    thresholds = views.scoring_thresholds(kept, labels=labels)
    assert set(names.values()) <= set(thresholds.index.get_level_values(1))
    note = views.scoring_sample_note(kept, "products", labels=labels).data
    assert all(name in note for name in names.values())
    for name, frame in scoring.tables(kept).items():
        if "product" in frame.columns:
            assert not set(frame["product"]) & set(names.values()), name
            assert set(frame["product"]) & set(kept.products), name


def test_the_worked_example_is_made_once_for_its_three_places(kept, sample, monkeypatch):
    import importlib

    tables = importlib.import_module("maops_utils.reports.scoring.tables")

    first = tables.worked_example(kept, sample)

    def made_again(*args, **kwargs):
        raise AssertionError("the activities were scanned again")

    monkeypatch.setattr(tables, "lead_example", made_again)
    again = tables.worked_example(kept, sample)
    pd.testing.assert_frame_equal(again, first)
    again.loc[0, "current"] = -1.0  # a caller's change leaves the next caller's copy alone
    pd.testing.assert_frame_equal(tables.worked_example(kept, sample), first)
