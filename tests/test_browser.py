"""Every HTML file of a sample run opened in a real headless Chromium."""

import io as _io
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="headless Chromium is not installed (apt-get install chromium fonts-ipaexfont-gothic; "
        ".ci/run does it)",
    ),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser") / "reports"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "maops_utils",
            "run",
            "--params",  # the sample's report, as `make report` makes it
            str(ROOT / "workspaces" / "sample" / "params"),
            "--out",
            str(out),
            "--products",
            "C",
            "--as-of",
            "2026-11-15 09:00",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    files = sorted(out.rglob("*.html"))
    assert len(files) >= 4  # reports index, month index, the report, the product report
    return out, files


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("file://", "data:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    return page, errors, outside


def test_every_page_loads_without_errors_or_outside_requests(browser, pages):
    _, files = pages
    for path in files:
        page, errors, outside = open_page(browser, path)
        page.wait_for_timeout(200)
        assert errors == [], (path.name, errors)
        assert outside == [], (path.name, outside)
        assert page.locator("script").count() == 0  # nothing runs in a report
        page.close()


def test_japanese_text_is_drawn_with_real_glyphs(browser, pages):
    from PIL import Image, ImageChops

    out, _ = pages
    page, _, _ = open_page(browser, next(out.rglob("01_kpi_evaluation.html")))
    shots = []
    for text in ("売上高と受注件数", "新規見込み顧客数"):  # same length, different characters
        page.evaluate(
            """t => { const s = document.createElement('h2'); s.id = 'probe'; s.textContent = t;
                      document.querySelector('#probe')?.remove(); document.body.prepend(s); }""",
            text,
        )
        shots.append(Image.open(_io.BytesIO(page.locator("#probe").screenshot())).convert("L"))
    for img in shots:
        assert (np.asarray(img) < 128).sum() > 200, "no glyphs drawn"
    # tofu boxes for missing glyphs all look alike; real glyphs differ from text to text
    diff = np.asarray(ImageChops.difference(shots[0], shots[1].resize(shots[0].size)))
    assert (diff > 64).sum() > 200
    heading = page.locator("h2", has_text="スコアカード").first
    assert heading.is_visible() and heading.bounding_box()["width"] > 50
    page.close()


def test_table_of_contents_links_reach_their_sections(browser, pages):
    out, _ = pages
    page, _, _ = open_page(browser, next(out.rglob("01_kpi_evaluation.html")))
    # the sections (h2) are listed; every entry, subsections' too, names a heading's id
    links = page.locator("nav.toc a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert all(h.startswith("#") for h in hrefs)
    assert all(page.evaluate("id => !!document.getElementById(id)", h[1:]) for h in hrefs)
    shown = page.locator("nav.toc li.toc-h2 a")
    hrefs = [shown.nth(i).get_attribute("href") for i in range(shown.count())]
    assert len(hrefs) >= 6
    for href in hrefs:
        page.evaluate("window.scrollTo(0, 0)")
        page.locator(f'nav.toc a[href="{href}"]').click()
        page.wait_for_timeout(50)
        top = page.evaluate(
            "id => document.getElementById(id).getBoundingClientRect().top", href[1:]
        )
        assert -5 <= top < 200, (href, top)  # the section is at the top of the window
    page.close()


def test_month_index_links_open_the_reports(browser, pages):
    out, _ = pages
    month_index = next(p for p in out.glob("*/index.html"))
    page, _, _ = open_page(browser, month_index)
    hrefs = page.eval_on_selector_all(
        "a[href$='.html']", "els => els.map(e => e.getAttribute('href'))"
    )
    targets = [h for h in hrefs if not h.startswith("..")]
    assert "01_kpi_evaluation.html" in targets and "products/C/01_kpi_evaluation.html" in targets
    for href in targets:
        assert (month_index.parent / href).is_file(), href
    page.close()


WIDTHS = {"desktop": 1280, "phone": 390}


def test_every_page_fits_its_width_with_tables_scrolling_in_their_own_box(
    browser, pages, tmp_path_factory
):
    out, files = pages
    shots = tmp_path_factory.mktemp("screenshots")
    for name, width in WIDTHS.items():
        for path in files:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.as_uri(), wait_until="load")
            shot = shots / f"{name}-{'_'.join(path.relative_to(out).parts)}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 0
            sizes = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert sizes[0] <= sizes[1], (name, path.name, sizes)  # no sideways scroll
            outside = page.evaluate(
                """w => [...document.querySelectorAll('table')].filter(t => {
                       const box = t.closest('.maops-table-box');
                       const r = (box || t).getBoundingClientRect();
                       return !box || r.left < 0 || r.right > w;
                   }).length""",
                sizes[1],
            )
            assert outside == 0, (name, path.name)  # every table inside a box inside the page
            bar = page.locator("nav.maops-nav")
            if bar.count():
                box = bar.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= sizes[1]
            page.close()


def test_every_header_link_opens_a_page_of_the_run_and_each_page_marks_itself(browser, pages):
    out, files = pages
    footers = set()
    month_pages = [p for p in files if p.parent != out]
    assert any("products" in p.parts for p in month_pages)
    for path in month_pages:
        page, _, _ = open_page(browser, path)
        links = page.eval_on_selector_all(
            "nav.maops-nav a",
            "els => els.map(e => [e.getAttribute('href'), e.getAttribute('aria-current')])",
        )
        assert len(links) >= 3, path
        targets = [(path.parent / href).resolve() for href, _ in links]
        assert all(t.is_file() for t in targets), (path, links)
        assert all(out.resolve() in t.parents or t == out.resolve() / "index.html" for t in targets)
        assert targets[-1] == (out / "index.html").resolve()  # the index of all months
        assert targets[0] == (out / path.relative_to(out).parts[0] / "index.html").resolve()
        current = [t for t, (_, mark) in zip(targets, links, strict=True) if mark == "page"]
        assert current == [path.resolve()], path
        footers.add(page.locator("footer.maops-footer").inner_text())
        page.close()
    page, _, _ = open_page(browser, out / "index.html")
    footers.add(page.locator("footer.maops-footer").inner_text())
    page.close()
    (footer,) = footers  # one moment, one zone, on every page of the run
    assert "（JST）に作成" in footer, footer  # the sample's run.yaml: Asia/Tokyo, ja


def test_the_index_of_all_months_shows_the_months_kgis(browser, pages):
    out, _ = pages
    page, _, _ = open_page(browser, out / "index.html")
    table = page.locator("table.maops-months")
    assert table.count() == 1
    text = table.inner_text()
    assert "受注件数" in text and "受注金額" in text and "%" in text
    page.close()


def _pdf_pages(pdf: bytes) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page\b", pdf))


def test_the_month_index_prints_on_one_a4_page(browser, pages):
    out, _ = pages
    month_index = next(p for p in out.glob("*/index.html"))
    page, _, _ = open_page(browser, month_index)
    assert _pdf_pages(page.pdf(format="A4")) == 1
    page.close()


def test_printing_hides_the_navigation_and_fits_tables_to_the_page(browser, pages):
    out, _ = pages
    page, _, _ = open_page(browser, next(out.rglob("00_data_quality.html")))
    page.emulate_media(media="print")
    assert not page.locator("nav.maops-nav").is_visible()
    assert not page.locator("nav.toc").is_visible()
    assert _pdf_pages(page.pdf(format="A4")) >= 1
    page.set_viewport_size({"width": 703, "height": 1000})  # A4 less its margins: 186 mm
    widest = page.evaluate(
        "Math.max(...[...document.querySelectorAll('table')].map(t => t.scrollWidth))"
    )
    assert widest <= 703
    page.close()


def test_each_reports_body_fits_four_screens_before_its_appendix(browser, pages):
    """A meeting reads the body; the method and long tables wait in the appendix."""
    _, files = pages
    reports = [p for p in files if p.name[:2].isdigit() and "products" not in p.parts]
    assert len(reports) == 4
    for path in reports:
        page, _, _ = open_page(browser, path)
        page.set_viewport_size({"width": 1280, "height": 1000})
        body = page.evaluate(
            """(() => {
                const d = document.querySelector('details.maops-appendix');
                return d ? d.getBoundingClientRect().top + window.scrollY
                         : document.documentElement.scrollHeight;
            })()"""
        )
        assert page.locator("details.maops-appendix").count() == 1, path.name
        assert body <= 4 * 1000, (path.name, body)
        page.close()
