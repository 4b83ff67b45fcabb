"""The public API (maops_utils/__init__.py, docs/api.md): what it exports, that the page lists
exactly that, that its recipes run, and that counts come back as whole numbers."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

import maops_utils as mu
from maops_utils.metrics.compute import compute_metrics

import handmade

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.md"


def test_every_exported_name_resolves_and_nothing_else_does():
    for name in mu.__all__:
        assert getattr(mu, name) is not None, name
    assert "config" not in mu.__all__ and "kpi" not in mu.__all__  # modules are the inside
    try:
        mu.not_a_name  # noqa: B018
    except AttributeError as exc:
        assert "not_a_name" in str(exc)
    else:
        raise AssertionError("an unknown name resolved")


def test_importing_the_package_loads_nothing_heavy():
    code = "import sys, maops_utils; print(sorted(m for m in ('pandas', 'duckdb', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_api_page_lists_exactly_the_exported_names():
    text = API_PAGE.read_text(encoding="utf-8")
    table = text.split("## Names", 1)[1].split("## Recipes", 1)[0]
    listed = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            first_cell = row.split("|")[1]
            listed |= {m.split("(")[0] for m in re.findall(r"`([^`]+)`", first_cell)}
    assert listed == set(mu.__all__) - {"__version__"}


def test_metric_values_gives_counts_as_whole_numbers_and_the_same_numbers(handmade_ds):
    got = mu.metric_values(
        handmade_ds, "2026-01", ["new_leads", "mqls", "mql_rate"], by="lead_source"
    )
    assert str(got["new_leads"].dtype) == "Int64" and str(got["mqls"].dtype) == "Int64"
    assert got["mql_rate"].dtype == "float64"
    long = compute_metrics(
        handmade_ds, ["2026-01"], names=["new_leads", "mqls", "mql_rate"], dims=("lead_source",)
    )
    for row in long.itertuples():
        value = got.loc[got["lead_source"] == row.lead_source, row.metric].iloc[0]
        if pd.isna(row.value):
            assert pd.isna(value)
        else:
            assert value == row.value, (row.lead_source, row.metric)
    everyone = got[got["lead_source"] == "ALL"].iloc[0]
    assert everyone["new_leads"] == handmade.EXPECTED[("ALL", "new_leads")]
    assert everyone["mqls"] == handmade.EXPECTED[("ALL", "mqls")]


def test_bar_chart_draws_one_bar_per_value_largest_on_top():
    values = pd.Series({"ウェビナー": 12, "展示会": 30, "web_ad": float("nan"), "紹介": 3})
    fig = mu.bar_chart(values, title="MQL")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [3, 12, 30]  # the NaN left out; barh draws bottom up
    assert [t.get_text() for t in ax.get_yticklabels()] == ["紹介", "ウェビナー", "展示会"]


def test_the_recipes_of_the_api_page_run(handmade_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", API_PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    namespace = {
        "mu": mu,
        "params_dir": "",
        "month": "2026-01",
        "data_dir": str(handmade_dir),
        "as_of": "2026-03-01 09:00",
        "output_dir": str(tmp_path),
    }
    for block in blocks[1:]:  # the first is the import line
        exec(block, namespace)
    mqls = pd.read_csv(tmp_path / "mqls_by_source.csv", encoding="utf-8-sig")
    everyone = mqls[mqls["lead_source"] == "ALL"].iloc[0]
    assert everyone["mqls"] == handmade.EXPECTED[("ALL", "mqls")]
    as_text = pd.read_csv(tmp_path / "mqls_by_source.csv", encoding="utf-8-sig", dtype=str)
    assert not as_text["mqls"].str.contains(".", regex=False).any()  # 2, not 2.0
