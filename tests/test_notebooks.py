"""The report notebooks executed for real: through papermill, and against a golden copy."""

import shutil
import warnings
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from maops_utils.batch import config
from maops_utils.reports import plots
from maops_utils.reports.kpi import review as kpi

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "01_kpi_evaluation.ipynb"
GOLDEN = ROOT / "tests" / "golden" / "01_kpi_evaluation.ipynb"
SAMPLE = ROOT / "data" / "sample"
SAMPLE_WORKSPACE = ROOT / "workspaces" / "sample"
AS_OF = "2026-11-15 09:00"

pytestmark = pytest.mark.slow


def _code_sources(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import papermill

    out = tmp_path_factory.mktemp("nb")
    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out / "executed.ipynb"),
        parameters={
            "data_dir": str(SAMPLE),
            "params_dir": str(SAMPLE_WORKSPACE / "params"),
            "output_dir": str(out),
            "as_of": AS_OF,
        },
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    return out


def test_notebook_runs_on_the_sample_and_writes_its_tables(executed):
    nb = nbformat.read(executed / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == 6  # pacing, pipeline, trend, funnel, channels, cohort heatmap
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "受注金額" in html and "新規リード数" in html  # Japanese labels from params/kpis.yaml
    for name in ("trend", "channels", "campaigns", "cohorts", "velocity"):
        assert (executed / f"{name}.csv").is_file(), name
    trend = pd.read_csv(executed / "trend.csv", dtype={"month": str})
    assert set(trend["product"]) == {"A", "B", "C", "ALL"}
    assert trend["month"].max() == "2026-10" and trend["month"].nunique() == 13
    assert {"revenue", "email_ctr", "webinar_attendees"} <= set(trend["metric"])
    assert "<li>" in html  # the highlights
    # the sample's newest newsletter, a special issue, in the e-mail campaign table (names
    # with markup are the bad-input corpus's: script_and_markup_in_a_campaign_name)
    assert "ミライ通信 2026年10月号 特別号" in html


def test_charts_are_sharp_shown_at_their_size_and_named_by_their_titles(executed):
    import base64
    import io

    from bs4 import BeautifulSoup
    from PIL import Image

    from maops_utils.batch.html import notebook_to_html

    nb = nbformat.read(executed / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    page = BeautifulSoup(notebook_to_html(nb, title="KPI"), "html.parser")
    imgs = page.find_all("img")
    assert len(imgs) == len(pngs) == 6
    for output, img in zip(pngs, imgs, strict=True):
        width, height = Image.open(io.BytesIO(base64.b64decode(output.data["image/png"]))).size
        shown_w, shown_h = int(img["width"]), int(img["height"])
        assert abs(width - 2 * shown_w) <= 1 and abs(height - 2 * shown_h) <= 1
        assert shown_w <= 1052  # the page's column: the browser shows it unshrunk
        assert img["alt"] == output.metadata["image/png"]["alt"] != "図"
    assert imgs[0]["alt"] == "受注件数（全体）: 2026年度の累計と見込み"
    assert imgs[3]["alt"] == "2026-10 のファネル（当月件数）"


def test_no_glyph_is_missing_in_the_charts(executed):
    nb = nbformat.read(executed / "executed.ipynb", as_version=4)
    streams = "".join(
        o.get("text", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "stream"
    )
    assert "missing from font" not in streams


def test_charts_draw_japanese_without_missing_glyphs():
    settings = config.load_settings(SAMPLE_WORKSPACE / "params", {"data_dir": SAMPLE})
    rv = kpi.load_review(settings, as_of=pd.Timestamp(AS_OF))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        tables = kpi.report_tables(rv)
        labels = {m: rv.label(m) for m in rv.catalogue.public}
        figures = (
            plots.funnel_chart(kpi.funnel(rv), month=rv.month),
            plots.trend_chart(tables["trend"], {m: labels[m] for m in kpi.trend_metrics(rv)}),
            plots.channel_chart(tables["channels"], labels),
            plots.cohort_heatmap(tables["cohorts"], stage="sql", window=90, stage_label="SQL"),
        )
        for fig in figures:
            fig.canvas.draw()
            texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
            assert any(any("\u3040" <= ch <= "\u9fff" for ch in text) for text in texts)


def test_golden_copy_has_the_notebook_code():
    golden = nbformat.read(GOLDEN, as_version=4)
    current = nbformat.read(NOTEBOOK, as_version=4)
    assert _code_sources(golden) == _code_sources(current), (
        "tests/golden/01_kpi_evaluation.ipynb is out of date: run `make golden`"
    )


def test_golden_regression(nb_regression, tmp_path):
    # executed in the sample's workspace, with no parameter: the notebook finds the sample's
    # settings (targets, yen) from the folder it runs in, as `make report` runs them
    nb_regression.exec_cwd = str(SAMPLE_WORKSPACE)
    nb_regression.exec_timeout = 300
    nb_regression.diff_ignore = (
        "/metadata/language_info",
        "/metadata/widgets",
        "/cells/*/metadata/execution",
        "/cells/*/metadata/papermill",
        "/cells/*/execution_count",
        "/cells/*/outputs/*/execution_count",
        "/cells/*/outputs/*/data/image/png",
    )
    nb_regression.diff_replace = (
        ("/cells/*/outputs/*/text", r"0x[0-9a-f]+", "0xADDRESS"),
        ("/cells/*/outputs/*/data/text/plain", r"0x[0-9a-f]+", "0xADDRESS"),
    )
    if nb_regression.force_regen:
        nb_regression.check(str(GOLDEN))
    else:
        work = tmp_path / GOLDEN.name
        shutil.copy(GOLDEN, work)
        nb_regression.check(str(work))
