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
    links = page.locator("nav.toc a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) >= 8 and all(h.startswith("#") for h in hrefs)
    for href in hrefs[1:]:
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
