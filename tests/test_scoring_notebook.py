"""The scoring notebook as committed, and executed for real on the sample."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from maops_utils.batch import notebooks
from maops_utils.contract.load import load_dataset
from maops_utils.reports import scoring
from maops_utils.reports.scoring.model import parse_model

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "02_scoring_calibration.ipynb"
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-11-15 09:00"
PARAMETERS = [
    "month",
    "data_dir",
    "params_dir",
    "output_dir",
    "locale",
    "timezone",
    "encoding",
    "currency",
    "as_of",
    "cache_dir",
    "snapshot",
    "history_dir",
]


def test_the_notebook_is_committed_clean_and_bilingual():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert list(notebooks.notebook_parameters(NOTEBOOK)) == PARAMETERS
    notebooks.check_parameters(NOTEBOOK, {"month": "2026-10", "data_dir": "x", "output_dir": ""})
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            en = cell.metadata.get("maops", {}).get("en", "")
            assert en.strip(), f"markdown cell {cell.id} has no English translation"
            assert en.lstrip().startswith("#") == cell.source.lstrip().startswith("#")
        else:
            assert not cell.get("outputs") and cell.get("execution_count") is None, cell.id
            assert len(cell.source.splitlines()) <= 15, (
                f"cell {cell.id} is long: move it to maops_utils"
            )
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for line in params.source.splitlines():
        comment = line.split("#", 1)[1]
        assert "=" not in comment and '"' not in comment and "'" not in comment, line


@pytest.fixture(scope="module")
def sample():
    return load_dataset(SAMPLE, as_of=pd.Timestamp(AS_OF))


def test_judging_at_month_ends_never_judges_a_lead_after_its_success(sample):
    config = scoring.load_config(ROOT / "workspaces" / "sample" / "params")
    config = dataclasses.replace(
        config, evaluation=dataclasses.replace(config.evaluation, judged_at="month_end")
    )
    study = scoring.run(sample, config, "2026-10")
    rows = study.rows
    assert rows.groupby("lead_id").size().max() > 1  # leads are judged at several month ends
    assert (rows["at"].dt.strftime("%d %H:%M:%S").str.endswith("23:59:59")).all()
    reached = rows["outcome_at"].notna()
    assert (rows.loc[reached, "outcome_at"] > rows.loc[reached, "at"]).all()
    assert set(scoring.product_table(study).set_index("product")["flag"][["C"]]) == {"over"}


def test_points_kept_in_the_cache_give_the_study_of_a_load_without_it(sample, tmp_path):
    """With a validated-data cache, the capped points of every activity are kept per rule set
    with the input (`Dataset.facts`) and read by later studies, for any month: the studies
    equal those of a load without the cache (rows, scores, the fit, the thresholds)."""
    import maops_utils.reports.scoring.points as scoring_points

    config = scoring.load_config(ROOT / "workspaces" / "sample" / "params")
    cache = tmp_path / "cache"
    written: list[str] = []
    real = scoring_points._write_counted

    def writing(con, rules, cap_period, keeper, name):
        written.append(name)
        return real(con, rules, cap_period, keeper, name)

    for month in ("2026-10", "2026-09"):
        plain = scoring.run(sample, config, month)
        cached_ds = load_dataset(SAMPLE, as_of=pd.Timestamp(AS_OF), cache_dir=cache)
        scoring_points._write_counted = writing
        try:
            cached = scoring.run(cached_ds, config, month)
        finally:
            scoring_points._write_counted = real
        pd.testing.assert_frame_equal(cached.rows, plain.rows)
        pd.testing.assert_series_equal(cached.fit.coefficients, plain.fit.coefficients)
        pd.testing.assert_frame_equal(cached.threshold_table, plain.threshold_table)
        assert cached.proposed == plain.proposed
    kept = sorted(p.name for p in cache.glob("facts-*/all/counted-*.parquet"))
    assert len(kept) == 2  # the current model's rules and the proposal's candidates
    assert sorted(written) == kept  # counted once, by the first study; read by the second


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import papermill

    out = tmp_path_factory.mktemp("nb02")
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out / "executed.ipynb"),
        parameters={"data_dir": str(SAMPLE), "output_dir": str(out), "as_of": AS_OF},
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    return out


def _outputs(folder: Path) -> list:
    nb = nbformat.read(folder / "executed.ipynb", as_version=4)
    return [(c.id, o) for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.slow
def test_the_notebook_runs_on_the_sample_and_writes_its_files(executed):
    outputs = _outputs(executed)
    assert not [o for _, o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for _, o in outputs if o.output_type == "stream")
    assert "missing from font" not in streams
    pngs = [i for i, o in outputs if "image/png" in o.get("data", {})]
    # products, health (PSI, band shares, AUC), thresholds, bands, ratings, reliability, gain,
    # decision curve, factors
    assert len(pngs) == 11
    for name in ("scoring_bands", "scoring_thresholds", "scoring_metrics", "lead_scores"):
        assert (executed / f"{name}.csv").is_file(), name
    metrics = pd.read_csv(executed / "scoring_metrics.csv")
    assert {"model", "product", "auc", "brier", "calibration_intercept", "calibration_slope",
            "n", "events"} <= set(metrics.columns)  # fmt: skip
    assert set(metrics["model"]) == {"current", "proposed"}
    assert set(metrics["product"]) == {"A", "B", "C", "ALL"}
    scores = pd.read_csv(executed / "lead_scores.csv")
    assert list(scores.columns) == [
        "lead_id",
        "product",
        "scored_at",
        "score_current",
        "p_proposed",
    ]
    text = "".join(p.read_text(encoding="utf-8-sig") for p in executed.glob("*.csv"))
    assert "@" not in text and "株式会社" not in text  # no e-mail, no company names
    proposed = yaml.safe_load((executed / "scoring_proposed.yaml").read_text(encoding="utf-8"))
    model = parse_model(proposed)
    assert model.activities and model.profile


@pytest.mark.slow
def test_the_notebook_flags_product_c_as_over_qualified(executed):
    html = "".join(
        o.get("data", {}).get("text/html", "") for i, o in _outputs(executed) if i == "products"
    )
    rows = re.findall(r"<tr>\s*<th>([^<]*)</th>(.*?)</tr>", html, flags=re.S)
    by_product = {name.strip(): cells for name, cells in rows}
    assert "過大評価" in by_product["C"]
    assert "過大評価" not in by_product["A"] and "過大評価" not in by_product["B"]


@pytest.mark.slow
def test_the_notebook_calibrates_a_score_snapshot_of_a_list_dated_nowhere(tmp_path):
    """The lead list of layout C (a vendor score, a converted flag, no dates), imported with
    its example mapping: the report runs for the month it is given and says what a snapshot
    cannot show."""
    import papermill

    from maops_utils.importers import import_exports, load_mapping, write_import

    mapping = load_mapping("leadscores", ROOT / "params" / "mappings" / "example_lead_scores.yaml")
    data = tmp_path / "data"
    write_import(
        import_exports(ROOT / "tests" / "fixtures" / "exports" / "lead_scores", mapping), data
    )
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(tmp_path / "executed.ipynb"),
        parameters={
            "data_dir": str(data),
            "output_dir": str(tmp_path),
            "month": "2026-01",
            "as_of": "2026-02-15 09:00",
            "cache_dir": "off",
        },  # fmt: skip
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    outputs = _outputs(tmp_path)
    assert not [o for _, o in outputs if o.output_type == "error"]
    assert len([i for i, o in outputs if "image/png" in o.get("data", {})]) == 11
    html = "".join(o.get("data", {}).get("text/html", "") for i, o in outputs if i == "scope")
    assert "スナップショットからは" in html and "won（受注）" in html
    scores = pd.read_csv(tmp_path / "lead_scores.csv", keep_default_na=False)
    assert (scores["scored_at"] == "").all()


@pytest.mark.slow
def test_the_proposal_explains_its_negative_points_the_floor_and_a_worked_example(executed):
    by_cell: dict[str, str] = {}
    for cell, o in _outputs(executed):
        data = o.get("data", {})
        by_cell[cell] = by_cell.get(cell, "") + data.get("text/html", data.get("text/markdown", ""))
    assert "イベント参加: " in by_cell["proposed-negative"]
    assert "ウェビナー参加: " in by_cell["proposed-negative"]
    assert "proposed.floor_at_zero: false" in by_cell["proposed-floor"]
    assert "AUC" in by_cell["proposed-floor"]
    assert "典型的なMQL" in by_cell["proposed-example-sentence"]
    assert "合計（スコア）" in by_cell["proposed-example"]
    assert "MQL閾値" in by_cell["proposed-example"]
    text = (executed / "scoring_proposed.yaml").read_text(encoding="utf-8")
    assert "\n# - イベント参加: " in text and "\n# - 合計（スコア）: " in text
    assert parse_model(yaml.safe_load(text)).activities
