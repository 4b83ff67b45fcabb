"""Data values that reach a published page or folder: never a path, a link, markup or a
control character (the corpus runs the same through the real command line)."""

from __future__ import annotations

from types import SimpleNamespace

import mistune
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from helpers import make_project

from maops_utils.batch import html as pages
from maops_utils.batch import jobs as jobs_module
from maops_utils.batch.config import load_settings
from maops_utils.core import io
from maops_utils.core.errors import ConfigError
from maops_utils.core.i18n import markdown_literal

HOSTILE = ["../../../PWN", "/etc/passwd", "..", ".", "", "C:\\Windows", "a/b", "[x](y)", "A\x00"]


@pytest.mark.parametrize("code", HOSTILE)
def test_a_product_folder_is_one_plain_name(code):
    slug = jobs_module.product_slug(code)
    assert slug and slug not in (".", "..") and "/" not in slug and "\\" not in slug
    assert slug.replace("_", "a").replace("-", "a").isalnum()
    assert len(slug) <= 69


def test_plain_codes_keep_their_name_and_others_never_collide():
    assert [jobs_module.product_slug(p) for p in ("A", "会計", "B-2")] == ["A", "会計", "B-2"]
    # "A B" and "A_B" read alike once cleaned: the digest keeps them apart
    assert jobs_module.product_slug("A B") != jobs_module.product_slug("A_B")


def test_products_that_would_share_a_folder_are_refused(tmp_path):
    project = make_project(tmp_path / "proj")
    settings = load_settings(project / "params", {"data_dir": str(tmp_path / "data")})
    inputs = SimpleNamespace(month="2026-01", dataset=SimpleNamespace(products=["a", "A"]))
    with pytest.raises(ConfigError, match=r"'a' and 'A' would share the folder products/A"):
        jobs_module.plan_jobs(settings, inputs, pd.Timestamp("2026-03-01"), products=["a", "A"])


@pytest.mark.parametrize(
    "value",
    [
        "[詳細](javascript:alert(1))",
        "<script>alert(1)</script>",
        "https://evil.example/x",
        "**bold** _it_ `code` ![img](http://x/y.png)",
        "<https://evil.example>",
    ],
)
def test_a_data_string_in_markdown_renders_as_exactly_that_text(value):
    rendered = BeautifulSoup(mistune.html(markdown_literal(value)), "html.parser")
    assert rendered.find_all(["a", "img", "script", "strong", "em", "code"]) == []
    assert rendered.get_text().strip() == value


def test_control_characters_leave_text_and_tables():
    assert io.printable("a\x00b\x1b[31mc\u202ed\te\n") == "ab[31mcd\te\n"
    frame = pd.DataFrame(
        {"name": ["x\x00y", None, "ok"], "n": [1, 2, 3]}, index=["i\x07", "j", "k"]
    )
    clean = io.printable_cells(frame)
    assert clean["name"].tolist()[0] == "xy" and pd.isna(clean["name"].tolist()[1])
    assert list(clean.index) == ["i", "j", "k"] and clean["n"].tolist() == [1, 2, 3]


def test_only_the_authors_links_survive_in_a_report_page():
    body = (
        '<div class="jp-MarkdownCell"><a href="https://docs.example/x">docs</a>'
        '<a href="#top">top</a><a href="javascript:alert(1)">bad</a></div>'
        '<div class="jp-OutputArea-output"><a href="https://evil.example">out</a>'
        '<a href="data:text/html,x">d</a><a href="other.html">rel</a><a href="#sec">in</a></div>'
    )
    soup = BeautifulSoup(body, "html.parser")
    pages.unlink_data(soup)
    assert [a["href"] for a in soup.find_all("a")] == ["https://docs.example/x", "#top", "#sec"]
    assert "bad" in soup.get_text() and "out" in soup.get_text()  # the text stays


# ---------------------------------------------------------------- personal data


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("連絡先 taro.yamada＠example.co.jp まで", "email"),
        ("https://lp.example.jp/?email=jiro%40example.co.jp", "email"),
        ("ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ", "email"),
        ("担当 090-1234-5678", "phone"),
        ("TEL:03-1234-5678", "phone"),
        ("call 09012345678", "phone"),
        ("tel=0312345678&x", "phone"),
        ("+81 3 1234 5678", "phone"),
        ("+1-202-555-0143", "phone"),
    ],
)
def test_personal_data_is_found_in_any_shape(text, kind):
    from maops_utils.batch.privacy import People, personal_data_in

    assert kind in personal_data_in(text, People())


@pytest.mark.parametrize(
    "text",
    [
        "2026-10-05 09:00",
        "¥1,234,567 +15% (75 → 86)",
        "−0.3 pt, 0.05, 12.5%, 2022-11..2023-01",
        "data:image/png;base64,iVBORw0KGgo0312345678AAAA",
        "lead L000123 / O-2026-0001 / +3.2%",
    ],
)
def test_what_reports_print_is_not_taken_for_personal_data(text):
    from maops_utils.batch.privacy import People, personal_data_in

    assert personal_data_in(text, People()) == {}


def test_the_datasets_own_names_and_numbers_are_found_spaces_ignored():
    from maops_utils.batch.privacy import People, personal_data_in

    leads = pd.DataFrame(
        {"name": ["山田 太郎", "Li", None], "phone": ["(03) 1234-5678", "", None], "email": None}
    )
    people = People.of(leads)
    assert people.names == {"山田太郎"}  # "Li": too short to look for
    assert personal_data_in("山田太郎様ご招待", people) == {"name": {"山田太郎"}}
    assert "name" in personal_data_in("ご招待: 山田 太郎 様", people)
    assert "phone" in personal_data_in("番号 03 1234 5678", people)
    assert personal_data_in("山田商事の太郎丸", people) == {}


def test_a_failed_runs_folder_keeps_no_file_that_shows_personal_data(tmp_path):
    from maops_utils.batch.privacy import People
    from maops_utils.batch.runner import _withhold_personal

    (tmp_path / "01.html").write_text("<td>090-1234-5678</td>", encoding="utf-8")
    (tmp_path / "01.kernel.log").write_text("KeyError: 'x'", encoding="utf-8")
    (tmp_path / "products" / "A").mkdir(parents=True)
    (tmp_path / "products" / "A" / "01.ipynb").write_text('"a@b.example.com"', encoding="utf-8")
    removed = _withhold_personal(tmp_path, People())
    assert sorted(removed) == ["01.html", "products/A/01.ipynb"]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["01.kernel.log"]


def test_a_finding_masks_the_personal_values_it_quotes():
    from maops_utils.core.errors import Finding

    f = Finding(
        "warning",
        "leads",
        "2 value(s) are not numbers (taro＠example.co.jp)",
        examples=["line 4: 'hanako@example.org'", "line 5: '090-1234-5678'", "line 6: 'many'"],
    )
    text = f.describe() + str(f.as_dict())
    for value in ("hanako", "taro", "1234"):
        assert value not in text, value
    assert "h***@example.org" in text and "t***@example.co.jp" in text and "'many'" in text


def test_the_workflow_pastes_no_input_into_its_scripts():
    import yaml

    from maops_utils.batch.config import project_root

    flow = yaml.safe_load(
        (project_root() / ".github" / "workflows" / "monthly-report.yml").read_text("utf-8")
    )
    scripts = [
        step["run"] for job in flow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    assert scripts and not [s for s in scripts if "${{" in s]
