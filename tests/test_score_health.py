"""The score's health over time against a planted truth: a small company whose leads view the
pricing page far more often from a known month on, scored by rules and by the tool's own
dated scores, and the history of each month's scores that runs keep.

Every expected figure is computed here independently (plain pandas and numpy loops): the
population, the scores, the bands' counts, the PSI, the AUC."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import make_project, maops

from maops_utils.batch import config as batch_config
from maops_utils.batch import jobs as batch_jobs
from maops_utils.batch import runner
from maops_utils.contract.load import load_dataset
from maops_utils.core.errors import ConfigError
from maops_utils.core.i18n import t
from maops_utils.core.io import write_parquet_atomic
from maops_utils.core.months import month_bounds, month_range
from maops_utils.reports.kpi import review
from maops_utils.reports.scoring import evaluate, health, history, parse_config, resample

SEED = 20261207
N = 900
FIRST = "2025-01"
REPORT = "2026-06"
SHIFT = "2026-01"  # from this month on, pricing-page views become frequent
LOOKBACK = 30
SECOND = pd.Timedelta(seconds=1)

RULES = {
    "mql_threshold": 30,
    "profile": {"job_level": {"executive": 10, "manager": 5, "staff": 0}},
    "engagement": {
        "lookback_days": LOOKBACK,
        "rules": [
            {"activity_type": "email_open", "points": 1},
            {"activity_type": "page_view", "category": "pricing", "points": 8},
        ],
    },
}
PROFILE = {"executive": 10, "manager": 5, "staff": 0}
POINTS = {"email_open": 1, "pricing": 8}


def _config(**health_settings) -> object:
    data = {
        "current": RULES,
        "evaluation": {"judged_at": "month_end", "window_days": 60, "min_events": 20},
        "health": {"months": 12, "reference_months": 3, "bootstrap": 100, **health_settings},
    }
    return parse_config(data, "test/scoring.yaml")


def _generate(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Leads created over 2025-01 to 2026-06, each active every month from its creation:
    e-mail opens Poisson(1.5) a month, pricing-page views Poisson(0.25) a month before SHIFT
    and Poisson(2.5) from it; a third reach SQL 20 to 400 days after creation."""
    rng = np.random.default_rng(seed)
    start, end = month_bounds(FIRST)[0], month_bounds(REPORT)[1]
    span = (end - start).total_seconds()
    created = start + pd.to_timedelta(np.sort(rng.uniform(0, span * 0.97, N)), unit="s").round("s")
    ids = [f"L{i:04d}" for i in range(N)]
    job = rng.choice(["executive", "manager", "staff"], N, p=[0.2, 0.3, 0.5])
    leads = pd.DataFrame(
        {
            "lead_id": ids,
            "created_at": created,
            "product": rng.choice(["A", "B"], N, p=[0.6, 0.4]),
            "lead_source": "organic",
            "job_level": job,
        }
    )
    acts = []
    for lead, born in zip(ids, created, strict=True):
        for month in month_range(REPORT, 18):
            m0, m1 = month_bounds(month)
            if m1 <= born:
                continue
            lo = max(m0, born)
            views = rng.poisson(2.5 if month >= SHIFT else 0.25)
            opens = rng.poisson(1.5)
            for kind, count in (("pricing", views), ("email_open", opens)):
                for _ in range(count):
                    at = lo + pd.Timedelta(
                        seconds=float(rng.uniform(0, (m1 - lo).total_seconds() - 1))
                    )
                    acts.append(
                        {
                            "lead_id": lead,
                            "activity_type": "page_view" if kind == "pricing" else "email_open",
                            "occurred_at": at.round("s"),
                            "category": "pricing" if kind == "pricing" else "",
                        }
                    )
    acts = pd.DataFrame(acts)
    reach = rng.random(N) < 1 / 3
    sql_at = created + pd.to_timedelta(rng.uniform(20, 400, N), unit="D").round("s")
    sql_at = pd.Series(sql_at)[reach & (sql_at < end)]
    stages = pd.DataFrame(
        {"lead_id": np.asarray(ids)[sql_at.index], "stage": "sql", "changed_at": sql_at.to_numpy()}
    )
    opps = pd.DataFrame(
        columns=[
            "opportunity_id",
            "lead_id",
            "product",
            "created_at",
            "status",
            "closed_at",
            "amount",
        ]
    )
    return {"leads": leads, "activities": acts, "stage_changes": stages, "opportunities": opps}


@pytest.fixture(scope="module")
def tables():
    return _generate()


def _write(
    folder: Path, tables: dict[str, pd.DataFrame], scores: pd.DataFrame | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
    if scores is not None:
        scores.to_csv(folder / "scores.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
    return folder


@pytest.fixture(scope="module")
def data_dir(tables, tmp_path_factory):
    return _write(tmp_path_factory.mktemp("health") / "data", tables)


@pytest.fixture(scope="module")
def dataset(data_dir):
    return load_dataset(data_dir, as_of=month_bounds(REPORT)[1])


_GROUPS: dict[int, dict[str, pd.DataFrame]] = {}


def _by_lead(acts: pd.DataFrame) -> dict[str, pd.DataFrame]:
    if id(acts) not in _GROUPS:
        _GROUPS[id(acts)] = dict(tuple(acts.groupby("lead_id")))
    return _GROUPS[id(acts)]


def _expected_population(tables: dict[str, pd.DataFrame], month: str) -> pd.DataFrame:
    """The month's population and its rule scores, computed lead by lead."""
    leads, acts, stages = tables["leads"], tables["activities"], tables["stage_changes"]
    m0, m1 = month_bounds(month)
    at = m1 - SECOND
    sql = stages.groupby("lead_id")["changed_at"].min()
    rows = []
    by_lead = _by_lead(acts)
    empty = acts.iloc[0:0]
    for lead in leads.itertuples():
        if lead.created_at > at:
            continue
        own = by_lead.get(lead.lead_id, empty)
        active = (
            m0 <= lead.created_at or ((own["occurred_at"] >= m0) & (own["occurred_at"] < m1)).any()
        )
        reached = sql.get(lead.lead_id)
        if not active or (reached is not None and reached <= at):
            continue
        recent = own[
            (own["occurred_at"] <= at) & (own["occurred_at"] > at - pd.Timedelta(days=LOOKBACK))
        ]
        score = PROFILE[lead.job_level]
        for act in recent.itertuples():
            score += POINTS["pricing" if act.activity_type == "page_view" else "email_open"]
        rows.append({"lead_id": lead.lead_id, "product": lead.product, "score": float(score)})
    return pd.DataFrame(rows)


def _psi(month_scores, ref_scores, edges) -> float:
    """PSI over the bands of `edges`, an empty band counted as half a lead of its period."""
    bins = [-np.inf, *edges, np.inf]
    a = np.histogram(month_scores, bins=bins)[0].astype(float)
    e = np.histogram(ref_scores, bins=bins)[0].astype(float)
    total = 0.0
    for ai, ei in zip(a, e, strict=True):
        pa = (ai if ai > 0 else 0.5) / a.sum()
        pe = (ei if ei > 0 else 0.5) / e.sum()
        total += (pa - pe) * np.log(pa / pe)
    return total


@pytest.fixture(scope="module")
def rules_health(dataset):
    return health.score_health(dataset, _config(), REPORT)


def _overall(h):
    return h.table[h.table["product"] == "ALL"].set_index("month")


def test_the_population_and_its_scores_are_those_of_the_definition(dataset, tables):
    for month in ("2025-09", SHIFT):
        got = history.month_population(dataset, _config(), month, report_month=REPORT)
        want = _expected_population(tables, month)
        assert len(want) > 200
        pd.testing.assert_frame_equal(
            got[["lead_id", "product", "score"]].reset_index(drop=True),
            want.sort_values("lead_id").reset_index(drop=True),
            check_dtype=False,
        )
        assert (
            set(got["source"]) == {"rules"}
            and got["scored_at"].eq(month_bounds(month)[1] - SECOND).all()
        )


def test_rules_health_names_the_shift_month(rules_health):
    h = rules_health
    table = _overall(h)
    alert = h.config.health.psi_alert
    assert h.verdict.shift_month == SHIFT
    assert table.loc[SHIFT, "psi"] >= alert
    before = [m for m in h.months if m < SHIFT and m not in h.reference]
    assert before and (table.loc[before, "psi"] < h.config.health.psi_warn).all()
    assert h.reference == h.months[:3]
    assert set(table["source"]) == {history.RECOMPUTED}
    assert health.page_line(h, "ja").startswith(f"スコアの分布が{SHIFT}から変化（PSI ")
    assert SHIFT in health.verdict_sentence(h, "en")


def test_psi_and_band_counts_equal_an_independent_computation(rules_health, tables):
    h = rules_health
    ref = pd.concat([_expected_population(tables, m) for m in h.reference])
    table = _overall(h)
    for month in ("2025-11", SHIFT, REPORT):
        scores = _expected_population(tables, month)["score"].to_numpy()
        assert table.loc[month, "psi"] == pytest.approx(
            _psi(scores, ref["score"], h.edges), rel=1e-9
        )
        counts = h.bands[(h.bands["month"] == month) & (h.bands["product"] == "ALL")][
            "n"
        ].to_numpy()
        want = np.histogram(scores, bins=[-np.inf, *h.edges, np.inf])[0]
        assert counts.tolist() == want.tolist()
    # the bands are derived on the reference's scores (configured ones would be taken as given)
    assert h.edges == evaluate.score_bands(ref["score"])


def test_auc_is_the_share_of_pairs_ranked_right_and_open_months_have_none(rules_health, dataset):
    h = rules_health
    table = _overall(h)
    closed = table[table["closed"]]
    open_ = table[~table["closed"]]
    # a 60-day window closes by 2026-06's end for months up to 2026-04
    assert list(open_.index) == ["2026-05", "2026-06"] and open_["auc"].isna().all()
    month = closed.index[-1]
    pop = history.month_population(dataset, _config(), month, report_month=REPORT)
    sql = dataset["stage_changes"].groupby("lead_id")["changed_at"].min()
    at = month_bounds(month)[1] - SECOND
    y = np.array(
        [
            (sql.get(i) is not None and at < sql[i] <= at + pd.Timedelta(days=60))
            for i in pop["lead_id"]
        ]
    )
    s = pop["score"].to_numpy()
    pairs = [(1.0 if a > b else 0.5 if a == b else 0.0) for a in s[y] for b in s[~y]]
    assert table.loc[month, "events"] == y.sum()
    assert y.sum() >= health.MIN_CLASS and (~y).sum() >= health.MIN_CLASS
    assert table.loc[month, "auc"] == pytest.approx(np.mean(pairs), abs=1e-12)
    assert table.loc[month, "auc_low"] <= table.loc[month, "auc"] <= table.loc[month, "auc_high"]
    # fewer than min_events (20) successes or failures: flagged as a small sample
    small = (closed["events"] < 20) | (closed["n"] - closed["events"] < 20)
    assert small.any() and (closed["reliable"] == ~small).all()


def test_bootstrap_slope_of_grouped_leads_equals_the_logistic_fit(rules_health):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 30, 2000).astype(float)
    y = (rng.random(2000) < 1 / (1 + np.exp(-(x - 15) / 5))).astype(float)
    p = 1 / (1 + np.exp(-(x - 15) / 10))
    _, slope = evaluate.calibration(y, p)
    lp = np.log(p / (1 - p))
    uniq = np.unique(lp)
    pos = np.array([y[lp == u].sum() for u in uniq])
    neg = np.array([(1 - y[lp == u]).sum() for u in uniq])
    assert resample._grouped_slope(uniq, pos, neg) == pytest.approx(slope, rel=1e-6)
    (a_lo, a_hi), (s_lo, s_hi) = resample.bootstrap_intervals(
        y, x, p, 200, np.random.default_rng(0)
    )
    assert a_lo < evaluate.auc(y, x) < a_hi and s_lo < slope < s_hi


def test_a_dated_scores_table_whose_scores_jump_names_the_month(tables, tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for lead, born in zip(tables["leads"]["lead_id"], tables["leads"]["created_at"], strict=True):
        for month in month_range(REPORT, 18):
            at = month_bounds(month)[1] - pd.Timedelta(days=3)
            if at > born:
                base = 40 if month >= SHIFT else 20
                rows.append(
                    {
                        "lead_id": lead,
                        "scored_at": at,
                        "score": float(rng.integers(base, base + 20)),
                    }
                )
    folder = _write(tmp_path / "scored", tables, pd.DataFrame(rows))
    ds = load_dataset(folder, as_of=month_bounds(REPORT)[1])
    h = health.score_health(ds, _config(), REPORT)
    assert h.score_source == "scores"
    assert h.verdict.shift_month == SHIFT
    table = _overall(h)
    assert (table.loc[[m for m in h.months if h.reference[-1] < m < SHIFT], "psi"] < 0.1).all()


def _run_settings(
    project: Path, data: Path, out: Path, month: str, history_dir: Path | None = None
):
    overrides = {
        "data_dir": data,
        "out_dir": out,
        "month": month,
        "notebooks": "02_scoring_calibration",
    }
    if history_dir is not None:
        overrides["history_dir"] = history_dir
    return batch_config.load_settings(project / "params", overrides, root=project)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    base = make_project(tmp_path_factory.mktemp("hproject") / "project")
    import yaml

    text = yaml.safe_dump(
        {
            "current": RULES,
            "evaluation": {"judged_at": "month_end", "window_days": 60},
            "health": {"months": 12, "bootstrap": 50},
        }
    )
    (base / "params" / "scoring.yaml").write_text(text, encoding="utf-8")
    return base


def _keep(project, data, out, month, history_dir=None) -> Path | None:
    settings = _run_settings(project, data, out, month, history_dir)
    now = month_bounds(month)[1] + pd.Timedelta(days=1)
    inputs = review.load_inputs(settings, as_of=now)
    return runner.keep_history(settings, inputs, now, lambda line: None)


def test_runs_keep_each_month_and_later_runs_read_the_entries(project, data_dir, tmp_path):
    out = tmp_path / "reports"
    kept = [_keep(project, data_dir, out, m) for m in ("2026-04", "2026-05")]
    hist = out / ".history"
    assert kept == [history.history_path(hist, "2026-04"), history.history_path(hist, "2026-05")]
    entry = pd.read_parquet(kept[0])
    assert list(entry.columns) == history.POPULATION_COLUMNS
    ds = load_dataset(data_dir, as_of=month_bounds(REPORT)[1])
    cfg = _config()
    entries = history.read_history(hist, month_range(REPORT, 12))
    assert sorted(entries) == ["2026-04", "2026-05"]
    h = health.score_health(ds, cfg, REPORT, history=entries)
    source = _overall(h)["source"]
    assert source["2026-04"] == source["2026-05"] == history.RECORDED
    assert source[REPORT] == history.RECOMPUTED
    # the recorded month holds what the data gives for it
    fresh = health.score_health(ds, cfg, REPORT)
    pd.testing.assert_series_equal(_overall(h)["psi"], _overall(fresh)["psi"])
    # an entry made by other rules is not used
    other = entries["2026-04"].assign(model_key="another")
    h2 = health.score_health(ds, cfg, REPORT, history={"2026-04": other})
    assert _overall(h2).loc["2026-04", "source"] == history.RECOMPUTED
    # no lead id in a table a report shows
    ids = set(ds["leads"]["lead_id"])
    for frame in health.health_tables(h).values():
        assert not ids & set(frame.astype(str).to_numpy().ravel())


def test_a_snapshot_scores_table_reads_its_earlier_months_from_the_history(
    tables, project, tmp_path
):
    """Each month's export holds the tool's scores without dates: the runs of 2026-04 and
    2026-05 keep them, and the run of 2026-06 shows those two months and its own."""
    out = tmp_path / "reports"
    for month, base in (("2026-04", 20), ("2026-05", 20), ("2026-06", 50)):
        scores = pd.DataFrame(
            {"lead_id": tables["leads"]["lead_id"], "scored_at": pd.NaT, "score": float(base)}
        )
        scores["score"] += np.arange(len(scores)) % 15
        folder = _write(tmp_path / f"export-{month}", tables, scores)
        _keep(project, folder, out, month)
    entries = history.read_history(out / ".history", month_range(REPORT, 12))
    assert sorted(entries) == ["2026-04", "2026-05", "2026-06"]
    assert set(entries["2026-04"]["source"]) == {"scores"}
    ds = load_dataset(folder, as_of=month_bounds(REPORT)[1])
    cfg = _config(reference_months=2)
    h = health.score_health(ds, cfg, REPORT, history=entries)
    table = _overall(h)
    scored = table[table["n"] > 0]
    assert list(scored.index) == ["2026-04", "2026-05", "2026-06"]
    assert h.empty_months == month_range("2026-03", 9)
    assert ("hl_note_history_starts", {"first": "2026-04"}) in h.notes
    assert h.verdict.shift_month == REPORT
    # without the history, only the report month (the export's own) has scores
    alone = health.score_health(ds, cfg, REPORT)
    assert list(_overall(alone).query("n > 0").index) == [REPORT]


class _Kernels:
    def expect(self, preloads):
        pass

    def close(self):
        pass


def _fake_notebooks(status: str):
    def execute(job, stage, settings, generated_at, i, kernels, nav):
        name = f"{job.name}.html"
        (stage / name).write_text("<html><body>report</body></html>", encoding="utf-8")
        return batch_jobs.NotebookResult(
            job.name, status, 0.0, Path(name), error="boom" if status == "failed" else ""
        )

    return execute


def test_a_failed_run_leaves_the_history_unchanged_and_a_published_one_keeps_it_outside(
    project, data_dir, tmp_path, monkeypatch
):
    out, hist = tmp_path / "reports", tmp_path / "history"
    month = "2026-05"
    first = history.history_path(hist, "2026-04")
    write_parquet_atomic(pd.DataFrame({"lead_id": ["x"]}), first)
    before = {p.name: p.read_bytes() for p in hist.iterdir()}
    settings = _run_settings(project, data_dir, out, month, hist)
    now = month_bounds(month)[1] + pd.Timedelta(days=1)
    monkeypatch.setattr(batch_jobs, "_execute_job", _fake_notebooks("failed"))
    with pytest.raises(runner.NotebookFailed):
        runner.run(settings, as_of=now, kernels=_Kernels(), log=lambda line: None)
    assert {p.name: p.read_bytes() for p in hist.iterdir()} == before
    monkeypatch.setattr(batch_jobs, "_execute_job", _fake_notebooks("ok"))
    runner.run(settings, as_of=now, kernels=_Kernels(), log=lambda line: None)
    assert sorted(p.name for p in hist.iterdir()) == [
        "scores-2026-04.parquet",
        "scores-2026-05.parquet",
    ]
    published = [p.name for p in (out / month).rglob("*")]
    assert published and not [n for n in published if n.endswith(".parquet") or "history" in n]


def test_history_dir_settings(project, data_dir, tmp_path):
    out = tmp_path / "reports"
    assert _run_settings(project, data_dir, out, REPORT).history_dir == out / ".history"
    assert _run_settings(project, data_dir, out, REPORT, "off").history_dir is None
    for bad in (data_dir / "h", out / "2026-05" / "h"):
        with pytest.raises(ConfigError, match="history_dir"):
            _run_settings(project, data_dir, out, REPORT, bad)


@pytest.mark.parametrize(
    ("health_settings", "words"),
    [
        ({"psi_warn": 0.3, "psi_alert": 0.2}, "psi_warn: 0.3 must be above 0 and below psi_alert"),
        ({"reference": ["2026-03", "2026-01"]}, "health.reference"),
        ({"reference": "2026-01"}, 'e.g. \\["2026-01", "2026-03"\\]'),
        ({"months": 3, "reference_months": 3}, "reference_months: 3 leaves no month"),
        ({"max_leads": 10}, "max_leads: 10 must be at least 100"),
        ({"bootstrap": 2.5}, "bootstrap: '2.5' must be a whole number"),
        ({"auc_drop": 0.7}, "auc_drop: 0.7"),
        ({"psi_limit": 0.3}, "unknown key 'psi_limit'"),
        ({"months": 61}, "months: 61 is more than the 60 months"),
    ],
)
def test_health_settings_errors_name_the_file_key_and_value(health_settings, words):
    with pytest.raises(ConfigError, match=words) as err:
        _config(**health_settings)
    assert "test/scoring.yaml: health" in str(err.value)


def test_a_reference_outside_the_months_shown_is_refused(dataset):
    with pytest.raises(
        ConfigError, match="health.reference: \\['2024-01', '2024-03'\\] lies outside"
    ):
        health.score_health(dataset, _config(reference=["2024-01", "2024-03"]), REPORT)


def test_charts_draw_every_month(rules_health):
    from maops_utils.reports.scoring import health_charts

    for draw in (health_charts.psi_chart, health_charts.band_share_chart, health_charts.auc_chart):
        fig = draw(rules_health, locale="en")
        assert len(fig.axes[0].get_xticklabels()) == 12


def test_sampling_is_seeded_and_stated(dataset):
    cfg = _config(max_leads=100)
    a = health.score_health(dataset, cfg, REPORT)
    b = health.score_health(dataset, cfg, REPORT)
    pd.testing.assert_frame_equal(a.table, b.table)
    table = _overall(a)
    assert (table["n"] <= 100).all() and (table["population"] > 100).all()
    assert a.notes[-1][0] == "hl_note_sampled"


def test_warnings_are_the_months_between_the_two_thresholds(dataset, rules_health):
    psi = _overall(rules_health)["psi"]
    after = psi[[m for m in rules_health.months if m > rules_health.reference[-1]]]
    warn = float(after[after.index < SHIFT].median())
    h = health.score_health(dataset, _config(psi_warn=warn), REPORT)
    want = tuple(m for m, v in after.items() if warn <= v < 0.25)
    assert want and h.verdict.warning_months == want
    assert h.verdict.shift_month == SHIFT


def test_an_auc_drop_is_a_closed_month_whose_upper_bound_is_below_the_reference_less_the_drop():
    cfg = _config()
    months = ["2026-01", "2026-02", "2026-03", "2026-04"]
    table = pd.DataFrame(
        {
            "month": months,
            "product": "ALL",
            "psi": [np.nan, 0.01, 0.02, 0.03],
            "psi_status": ["reference", "ok", "ok", "ok"],
            "auc": [0.80, 0.70, 0.68, 0.60],
            "auc_high": [0.85, 0.76, 0.74, 0.70],
            "closed": [True, True, True, False],
        }
    )
    # reference 0.80 - 0.05 = 0.75: 2026-03's interval lies below it, 2026-02's does not, and
    # 2026-04 is not judged while its window is open
    v = health._verdict(table, ["2026-01"], 0.80, cfg)
    assert v.auc_months == ("2026-03",) and v.auc == 0.68 and v.auc_high == 0.74
    assert v.shift_month is None
    line = health.page_line(
        health.ScoreHealth(
            cfg, "2026-04", months, ["2026-01"], (0.0,), "rules", "sql", table, table.iloc[0:0], v
        ),
        "ja",
    )
    assert line.startswith("スコアの識別力が2026-03に低下")


def test_the_runner_reads_the_population_the_notebook_kept(
    project, data_dir, tmp_path, monkeypatch
):
    from maops_utils.reports.scoring import load_config

    month = "2026-05"
    settings = _run_settings(project, data_dir, tmp_path / "reports", month)
    now = month_bounds(month)[1] + pd.Timedelta(days=1)
    inputs = review.load_inputs(settings, as_of=now)  # through the run's cache, as notebooks do
    kept = history.month_population(inputs.dataset, load_config(project / "params"), month)

    def computed_again(*args, **kwargs):
        raise AssertionError("the population was computed twice")

    monkeypatch.setattr(history, "populations", computed_again)
    monkeypatch.setattr(review, "load_inputs", computed_again)  # nor the input read again
    path = runner.keep_history(settings, inputs, now, lambda line: None)
    pd.testing.assert_frame_equal(pd.read_parquet(path), kept)


@pytest.mark.slow
def test_the_scoring_report_and_the_months_page_name_the_planted_shift(project, data_dir, tmp_path):
    out = tmp_path / "reports"
    proc = maops(
        "run", "--params", project / "params", "--data", data_dir, "--out", out,
        "--month", REPORT, "--notebooks", "02_scoring_calibration", "--as-of", "2026-07-02",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    folder = out / REPORT
    drift = pd.read_csv(folder / "score_drift.csv", dtype=str)
    assert drift.at[0, "shift_month"] == SHIFT
    table = pd.read_csv(folder / "score_health.csv", dtype={"month": str})
    whole = table[table["product"] == "ALL"].set_index("month")
    before = [m for m in whole.index if m < SHIFT and whole.at[m, "psi_status"] != "reference"]
    assert before and (whole.loc[before, "psi"] < 0.25).all()
    assert whole.at[SHIFT, "psi"] >= 0.25
    page = (folder / "02_scoring_calibration.html").read_text(encoding="utf-8")
    psi, alert = float(drift.at[0, "shift_psi"]), float(drift.at[0, "psi_alert"])
    assert t("hl_shift", "ja", month=SHIFT, psi=psi, alert=alert) in page
    index = (folder / "index.html").read_text(encoding="utf-8")
    line = health.page_line_of({"shift_month": SHIFT, "shift_psi": psi, "psi_alert": alert})
    assert line and line in index
    # the run kept the report month's scores outside the published folder
    assert (out / ".history" / f"scores-{REPORT}.parquet").is_file()
    assert not list(folder.rglob("*.parquet"))


def test_the_window_prepared_ahead_gives_the_same_health(data_dir, tmp_path, monkeypatch):
    cfg = _config()
    params = tmp_path / "params"
    params.mkdir()
    import yaml

    (params / "scoring.yaml").write_text(
        yaml.safe_dump(
            {
                "current": RULES,
                "evaluation": {"judged_at": "month_end", "window_days": 60, "min_events": 20},
                "health": {"months": 12, "reference_months": 3, "bootstrap": 100},
            }
        ),
        encoding="utf-8",
    )
    cache = tmp_path / "cache"
    ahead = load_dataset(data_dir, as_of=month_bounds(REPORT)[1], cache_dir=cache)
    history.prepare_health(ahead, params, REPORT)
    # a later load of the same input finds the window kept, and reads it instead of scoring
    later = load_dataset(data_dir, as_of=month_bounds(REPORT)[1], cache_dir=cache)
    name = history.kept_window_name(cfg, REPORT)
    assert later.facts.table(name) is not None
    fresh = health.score_health(load_dataset(data_dir, as_of=month_bounds(REPORT)[1]), cfg, REPORT)

    def scored_again(*args, **kwargs):
        raise AssertionError("the populations were scored again")

    monkeypatch.setattr(history, "populations", scored_again)
    kept = health.score_health(later, cfg, REPORT)
    pd.testing.assert_frame_equal(kept.table, fresh.table)
    pd.testing.assert_frame_equal(kept.bands, fresh.bands)
    assert later.facts.table(history.kept_population_name(cfg, REPORT)) is not None
