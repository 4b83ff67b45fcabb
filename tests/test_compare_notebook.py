"""notebooks/03_product_comparison.ipynb: its structure, and executed for real on the sample."""

import ast
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from maops_utils.batch import html as report
from maops_utils.batch import notebooks
from maops_utils.reports import compare

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_product_comparison.ipynb"
SAMPLE = ROOT / "data" / "sample"
AS_OF = "2026-11-15 09:00"
PARAMETERS = {
    "month": "str",
    "data_dir": "str",
    "params_dir": "str",
    "output_dir": "str",
    "locale": "str",
    "timezone": "str",
    "encoding": "str",
    "currency": "str",
    "as_of": "str",
    "cache_dir": "str",
    "snapshot": "str",
    "products": "str",
    "baseline": "str",
    "alpha": "float",
    "comparison_months": "int",
    "window_days": "int",
    "engine": "str",
    "spark_master": "str",
}


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_parameters_cell_declares_the_run_parameters(nb):
    assert notebooks.notebook_parameters(NOTEBOOK) == PARAMETERS
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    for line in cell.source.splitlines():
        help_text = line.split("#", 1)[1]
        # papermill's help parser breaks on these inside a comment
        assert "=" not in help_text and '"' not in help_text and "'" not in help_text, line
        assert ast.parse(line.split("#", 1)[0])  # plain annotated literal
    # the batch's parameters are accepted as they are (jobs.plan_jobs passes these)
    notebooks.check_parameters(
        NOTEBOOK,
        {
            "month": "2026-10",
            "data_dir": str(SAMPLE),
            "params_dir": str(ROOT / "workspaces" / "sample" / "params"),
            "locale": "en",
            "timezone": "Asia/Tokyo",
            "encoding": "auto",
            "as_of": AS_OF,
            "output_dir": "",
        },
    )


def test_layout_ids_translations_and_no_outputs(nb):
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"[a-z][a-z0-9-]*", i) for i in ids)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source.startswith("%matplotlib inline")
    assert "plots.setup_notebook()" in code[0].source
    assert all(not c.outputs and c.execution_count is None for c in code)
    # thin cells; the parameters cell is a list of documented settings, one per line
    params = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and len(params[0].source.splitlines()) == len(PARAMETERS)
    assert all(len(c.source.splitlines()) <= 15 for c in code if c not in params)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            en = cell.metadata["maops"]["en"]
            assert en.split("\n")[0].startswith("#") == cell.source.split("\n")[0].startswith("#")
            assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", en), cell.id
    last = nb.cells[-1]
    assert "remove-cell" in last.metadata["tags"] and "io.write_tables(output_dir" in last.source


def _execute(out: Path, **parameters) -> nbformat.NotebookNode:
    import papermill

    papermill.execute_notebook(
        str(NOTEBOOK),
        str(out / "executed.ipynb"),
        parameters={"data_dir": str(SAMPLE), "as_of": AS_OF, **parameters},
        cwd=str(NOTEBOOK.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    return nbformat.read(out / "executed.ipynb", as_version=4)


def _outputs(nb: nbformat.NotebookNode) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.slow
def test_notebook_runs_on_the_sample_and_writes_its_tables(tmp_path):
    executed = _execute(tmp_path, output_dir=str(tmp_path))
    outputs = _outputs(executed)
    assert not [o for o in outputs if o.output_type == "error"]
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "missing from font" not in streams and "Warning" not in streams
    assert len([o for o in outputs if "image/png" in o.get("data", {})]) == 6
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "<li>商材 C：MQL→SQL転換率（90日以内）は 6.1%" in html
    assert "差の証拠" in html and "@" not in html  # no e-mail address anywhere

    table = pd.read_csv(tmp_path / "product_comparison.csv", encoding="utf-8-sig")
    assert list(table.columns) == compare.COMPARISON_COLUMNS
    verdicts = table.set_index(["product", "metric"])["verdict"]
    assert verdicts[("C", "mql_to_sql")] == "lower"
    assert verdicts[("C", "lead_to_mql")] == "higher"
    channels = pd.read_csv(tmp_path / "product_channel.csv", encoding="utf-8-sig")
    assert list(channels.columns) == compare.CHANNEL_COLUMNS
    assert set(channels["product"]) == {"A", "B", "C"}

    page = report.notebook_to_html(executed, title="商材比較レポート", lang="ja")
    assert "<script>alert(" not in page


@pytest.mark.slow
def test_notebook_in_english_against_a_named_product(tmp_path):
    executed = _execute(tmp_path, locale="en", baseline="A", products="A, C")
    outputs = _outputs(executed)
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "Product C: MQL → SQL within 90 days" in html and "lower than product A" in html
    assert "Product A is the baseline" in html
    page = report.notebook_to_html(executed, title="Product comparison", lang="en")
    assert "## Conclusion" not in page and "Conclusion</h2>" in page
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    assert not re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]+", text)  # every word in English
