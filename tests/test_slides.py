"""`make slides`: the presenter sequence (cells tagged `presenter`) as a reveal.js deck from the committed outputs,
which opens with no internet (reveal.js and MathJax beside it) and fits each figure on its slide."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def presenter_cells():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if "presenter" in cell["metadata"].get("tags", []):
                yield path.name, cell


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    out = tmp_path_factory.mktemp("slides")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "slides.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out / "presenter.slides.html"


def test_every_presenter_cell_has_something_to_show():
    cells = list(presenter_cells())
    assert len(cells) >= 6
    assert {name[:2] for name, _ in cells} >= {"01", "03", "04"}  # soft labels, the gain figure, the API
    for name, cell in cells:
        shown = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {}) or o.get("text")]
        assert cell["cell_type"] == "markdown" or shown, f"{name}: a presenter cell with no stored output"


def test_the_deck_has_a_slide_per_presenter_cell_and_its_files_beside_it(deck):
    html = deck.read_text()
    cells = list(presenter_cells())
    assert html.count("<h3 id=") == len(cells)  # one titled slide per cell (after the title slide)
    figures = sum(any("image/png" in o.get("data", {}) for o in c.get("outputs", [])) for _, c in cells)
    assert html.count("data:image/png") >= figures
    assert "def distill(" not in html  # outputs only: the code stays in the notebooks
    assert not re.search(r"""<(script|link)\b[^>]*\b(src|href)=["']https?://""", html)  # nothing from a CDN
    for part in ("reveal.js/dist/reveal.js", "reveal.js/dist/theme/white.css", "mathjax/es5/tex-chtml.js"):
        assert (deck.parent / part).is_file(), part


@pytest.mark.browser
def test_the_deck_shows_every_slide_within_its_frame_with_the_network_cut(deck):
    from test_browser import CHROMIUM, CHROMIUM_ARGS, OUTPUT, _require_browser

    _require_browser()
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    remote = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route(re.compile(r"^https?://"), lambda route: (remote.append(route.request.url), route.abort()))
            page.goto(deck.as_uri())
            page.wait_for_function("() => window.Reveal && Reveal.isReady()", timeout=30_000)
            total = page.evaluate("() => Reveal.getTotalSlides()")
            assert total == 1 + html_titles(deck)
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.document", timeout=30_000)
            height = page.evaluate("() => Reveal.getConfig().height")
            for i in range(total):
                page.evaluate(f"() => Reveal.slide({i})")
                page.wait_for_function(f"() => Reveal.getIndices().h === {i}")
                page.wait_for_function("() => [...Reveal.getCurrentSlide().querySelectorAll('img')]"
                                       ".every(img => img.complete && img.naturalWidth > 0)")
                page.wait_for_timeout(100)  # the slide's figures are fitted on 'slidechanged'
                fits = page.evaluate("() => Reveal.getCurrentSlide().scrollHeight")
                has_figure = page.evaluate("() => Reveal.getCurrentSlide().querySelectorAll('img').length > 0")
                assert not has_figure or fits <= height, f"slide {i}: {fits} px of content in a {height} px frame"
                if i in (1, 4):
                    page.screenshot(path=str(OUTPUT / f"slides_{i}.png"))
            assert page.locator("mjx-container").count() > 0  # the T^2 slide's math, typeset offline
        finally:
            browser.close()
    assert not remote, f"the deck asked the internet for {remote[:5]}"


def html_titles(deck: Path) -> int:
    return deck.read_text().count("<h3 id=")
