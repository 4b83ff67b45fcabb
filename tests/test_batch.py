"""The monthly batch as a scheduler runs it: products, parallel kernels, locale, personal data,
notebooks of one's own, reruns."""

import json
import re
import shutil

import nbformat
import pytest
from helpers import add_broken_notebook, make_project, maops

from maops_utils.core.months import month_range

import handmade

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """A project with a notebook of one's own made from the starter, run in English for the
    whole business and product A with two kernels, twice."""
    base = tmp_path_factory.mktemp("batch")
    project = make_project(base / "project")
    shutil.copy(
        project / "notebooks" / "templates" / "starter.ipynb",
        project / "notebooks" / "10_custom.ipynb",
    )
    run_file = base / "run.yaml"
    run_file.write_text("notebooks: [01_kpi_evaluation, 10_custom]\nlocale: en\n", encoding="utf-8")
    data = handmade.write(base / "data")
    out = base / "reports"
    args = (
        "run",
        "--params",
        project / "params",
        "--config",
        run_file,
        "--data",
        data,
        "--out",
        out,
        "--month",
        handmade.MONTH,
        "--as-of",
        "2026-03-01 09:00",
        "--products",
        "A",
        "--jobs",
        "2",
    )
    first = maops(*args)
    assert first.returncode == 0, first.stderr
    tables = {p.name: p.read_bytes() for p in (out / handmade.MONTH).glob("*.csv")}
    second = maops(*args)
    assert second.returncode == 0, second.stderr
    return {"out": out, "month_dir": out / handmade.MONTH, "proc": second, "first_tables": tables}


def test_summary_lists_every_notebook_and_product(extended):
    lines = extended["proc"].stdout.splitlines()
    assert lines[0].split() == ["notebook", "product", "status", "seconds", "output"]
    rows = [line.split() for line in lines[1:-1]]
    assert {(r[0], r[1], r[2]) for r in rows} == {
        ("01_kpi_evaluation", "-", "ok"),
        ("01_kpi_evaluation", "A", "ok"),
        ("10_custom", "-", "ok"),
    }


def test_product_reports_and_own_notebook_are_published_and_linked(extended):
    d = extended["month_dir"]
    assert (d / "products" / "A" / "01_kpi_evaluation.html").is_file()
    assert (d / "products" / "A" / "trend.csv").is_file()
    assert (d / "10_custom.html").is_file() and (d / "my_report.csv").is_file()
    assert not (d / "products" / "A" / "10_custom.html").exists()  # it has no product parameter
    index = (d / "index.html").read_text(encoding="utf-8")
    for href in ("01_kpi_evaluation.html", "products/A/01_kpi_evaluation.html", "10_custom.html"):
        assert f'href="{href}"' in index
    manifest = json.loads((d / "run.json").read_text(encoding="utf-8"))
    assert manifest["options"] == {"products": ["A"], "jobs": 2, "include_pii": False}
    assert [(n["name"], n["product"]) for n in manifest["notebooks"]] == [
        ("01_kpi_evaluation", None),
        ("01_kpi_evaluation", "A"),
        ("10_custom", None),
    ]
    assert manifest["notebooks"][1]["parameters"]["product"] == "A"


def test_english_reports_switch_headings_labels_and_sentences(extended):
    html = (extended["month_dir"] / "01_kpi_evaluation.html").read_text(encoding="utf-8")
    for english in (
        "Scorecard",
        "Conclusion",
        "Glossary",
        "Cohort view",
        "Revenue",
        "<title>KPI evaluation report",
    ):
        assert english in html
    for japanese in ("スコアカード", "ハイライト", "用語集", "受注金額"):
        assert japanese not in html
    product = (extended["month_dir"] / "products" / "A" / "01_kpi_evaluation.html").read_text(
        encoding="utf-8"
    )
    assert "(Product A)" in product


def test_a_rerun_with_the_same_inputs_gives_the_same_tables(extended):
    again = {p.name: p.read_bytes() for p in extended["month_dir"].glob("*.csv")}
    assert again == extended["first_tables"]
    assert not (extended["out"] / f"{handmade.MONTH}.failed").exists()


def test_personal_data_stops_publication_unless_asked_for(tmp_path):
    project = make_project(tmp_path / "project")
    leaky = nbformat.read(project / "notebooks" / "templates" / "starter.ipynb", as_version=4)
    leaky.cells.append(
        nbformat.v4.new_code_cell('rv.dataset["leads"][["lead_id", "email"]].head(3)')
    )
    nbformat.write(leaky, project / "notebooks" / "20_leaky.ipynb")
    data = handmade.write(tmp_path / "data")
    out = tmp_path / "reports"
    args = (
        "run",
        "--params",
        project / "params",
        "--data",
        data,
        "--out",
        out,
        "--month",
        handmade.MONTH,
        "--as-of",
        "2026-03-01 09:00",
        "--notebooks",
        "20_leaky",
    )
    proc = maops(*args)
    assert proc.returncode == 1, proc.stderr
    assert "personal data" in proc.stderr and "l***@example.com" in proc.stderr
    assert "l1@example.com" not in proc.stderr  # the message itself does not leak it
    assert not (out / handmade.MONTH).exists()
    proc = maops(*args, "--include-pii")
    assert proc.returncode == 0, proc.stderr
    assert "l1@example.com" in (out / handmade.MONTH / "20_leaky.html").read_text(encoding="utf-8")


def test_run_help_explains_every_option_with_its_default():
    proc = maops("run", "--help")
    assert proc.returncode == 0
    text = " ".join(proc.stdout.split())
    for option in (
        "--month",
        "--data",
        "--out",
        "--notebooks",
        "--products",
        "--jobs",
        "--locale",
        "--currency",
        "--show-code",
        "--include-pii",
        "--as-of",
        "--config",
        "--params",
        "--timezone",
        "--encoding",
        "--prepare-ahead",
    ):
        assert option in text
    assert text.count("(default:") >= 14
    assert "exit codes" in text


def test_the_second_run_reads_the_validated_data_cache_and_no_cache_keeps_none(tmp_path):
    data = handmade.write(tmp_path / "data")
    cached, plain = tmp_path / "cached", tmp_path / "plain"
    common = ("run", "--data", data, "--notebooks", "01_kpi_evaluation", "--as-of", "2026-02-15")
    kept: list[dict[str, int]] = []  # the month facts in the cache after each run
    for month in ("2026-01", "2025-12"):
        r = maops(*common, "--out", cached, "--month", month)
        assert r.returncode == 0, r.stderr
        kept.append({p.name: p.stat().st_mtime_ns for p in cached.glob(".cache/facts-*/all/*")})
        r = maops(*common, "--out", plain, "--month", month, "--no-cache")
        assert r.returncode == 0, r.stderr
    first = (cached / "2026-01" / "run.log").read_text(encoding="utf-8")
    second = (cached / "2025-12" / "run.log").read_text(encoding="utf-8")
    assert "validated-data cache written" in first
    assert "validated-data cache read" in second
    assert len(list((cached / ".cache").glob("activities-*"))) == 1
    assert not (plain / ".cache").exists()
    assert "validated-data cache" not in (plain / "2025-12" / "run.log").read_text("utf-8")
    # it read through a cache of its own, gone with the run: its record names none
    record = json.loads((plain / "2025-12" / "run.json").read_text(encoding="utf-8"))
    assert "maops-run-" not in json.dumps(record) and record["metric_facts"] is None
    assert record["settings"]["cache_dir"] is None
    assert {n["parameters"]["cache_dir"] for n in record["notebooks"]} == {"off"}
    for month in ("2026-01", "2025-12"):
        for table in ("metrics.csv", "trend.csv", "channels.csv"):
            a = (cached / month / table).read_bytes()
            assert a == (plain / month / table).read_bytes(), (month, table)
    index = json.loads((cached / "2025-12" / "run.json").read_text(encoding="utf-8"))
    assert index["settings"]["cache_dir"] == str(cached / ".cache")
    # the month facts: the first run queries its trend and keeps it; the next one reads what
    # the two trends share (left as they were) and queries only the month its trend adds
    # and the reported month's own tables (channels, campaigns)
    # the month facts (YYYY-MM…), beside the other results kept with the input
    months = [sorted({n[:7] for n in k if re.match(r"\d{4}-\d{2}", n)}) for k in kept]
    assert months[0] == month_range("2026-01", 13)
    assert months[1] == month_range("2026-01", 14)
    assert {name: kept[1][name] for name in kept[0]} == kept[0]
    added = sorted(n[:7] for n in set(kept[1]) - set(kept[0]) if re.match(r"\d{4}-\d{2}", n))
    assert added[0] == "2024-12" and set(added[1:]) == {"2025-12"}
    # and what the run says it did (it queries the month facts ahead, while the kernels start)
    facts = [
        json.loads((cached / m / "run.json").read_text("utf-8"))["metric_facts"]
        for m in ("2026-01", "2025-12")
    ]
    assert facts[0]["months_read"] == 0 and facts[0]["months_queried"] == 13
    assert (facts[1]["months_read"], facts[1]["months_queried"]) == (12, 1)
    assert "12 read from the cache, 1 queried and kept" in second
    assert len(list((cached / ".cache").glob("facts-*"))) == 1
    assert json.loads((plain / "2025-12" / "run.json").read_text("utf-8"))["metric_facts"] is None


def test_a_failed_run_leaves_no_cache_behind(tmp_path):
    project = make_project(tmp_path / "project")
    add_broken_notebook(project, "boom")
    data, out = handmade.write(tmp_path / "data"), tmp_path / "reports"
    r = maops(
        "run",
        "--params",
        project / "params",
        "--data",
        data,
        "--out",
        out,
        "--month",
        "2026-01",
        "--notebooks",
        "99_broken",
    )
    assert r.returncode == 1, r.stderr
    assert (out / "2026-01.failed").is_dir()  # the run got as far as its notebooks
    assert not (out / ".cache").exists()  # the entry it wrote on the way is gone
