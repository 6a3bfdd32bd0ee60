"""A real browser: JupyterLab on localhost, and the course site from disk, driven by Playwright in headless Chromium.

In JupyterLab it opens a temporary copy of notebook 01, clicks a glossary link and checks that the glossary opens
at the term; then it runs every cell, drags the temperature explorer's T slider and checks that the explorer's
figure and readout changed. The site (tools/site.py) is built and read with every http(s) request refused: search,
a glossary link, figures, math, no cloud cell, folded solutions, and its PDF. Screenshots go to tests/output/.

Skips (with the reason) when Playwright or Chromium is missing, unless REQUIRE_BROWSER_TEST=1 (CI sets
it), where a missing browser is a failure. CHROMIUM=/path/to/chromium overrides the browser.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_soft_labels_and_temperature.ipynb"
OUTPUT = Path(__file__).resolve().parent / "output"  # screenshots (git-ignored)
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
RUN_ALL_TIMEOUT_S = 180  # the notebook runs in ~15-30 s on a laptop CPU; generous for a loaded CI machine


def _unavailable(reason: str):
    if os.environ.get("REQUIRE_BROWSER_TEST") == "1":
        pytest.fail(f"REQUIRE_BROWSER_TEST=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _require_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("the Python package playwright is not installed (pip install playwright)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM=/path/to/chromium)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _unavailable("jupyterlab is not installed (pip install -e '.[test]')")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read()


@contextlib.contextmanager
def jupyterlab(tmp: Path):
    """A private JupyterLab server on a free port, serving a temporary copy of the course; stopped at the end."""
    (tmp / "notebooks" / "reference").mkdir(parents=True)
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, tmp / "notebooks" / NOTEBOOK)  # the repo's notebook is never touched
    shutil.copy(ROOT / "notebooks" / "reference" / "glossary.ipynb", tmp / "notebooks" / "reference")
    (tmp / "course_utils").symlink_to(ROOT / "course_utils")  # the notebook imports from its parent folder
    config_dir = tmp / "jupyter-config"  # no user settings leak in; no "news" pop-up
    (config_dir / "labconfig").mkdir(parents=True)
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    settings_dir = tmp / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings_dir.mkdir(parents=True)  # every cell stays in the page (no windowing), so selectors always find it
    (settings_dir / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(tmp / "lab-settings"),
           "COURSE_PROFILE": "quick"}
    port, token = _free_port(), secrets.token_hex(16)
    log = open(tmp / "jupyterlab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # own group: kernels too
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {proc.returncode}:\n{(tmp / 'jupyterlab.log').read_text()}")
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError(f"JupyterLab did not answer within 90 s:\n{(tmp / 'jupyterlab.log').read_text()}")
            time.sleep(0.5)
        yield {"base": base, "token": token, "root": tmp}
    finally:
        try:  # a clean shutdown stops the kernels it started
            req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=10)
            proc.wait(timeout=20)
        except Exception:
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def _wait_kernel_idle(page, timeout_s: float):
    """The status bar says '<kernel name> | Idle' (before the kernel connects it says 'No Kernel')."""
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
        .some(e => /^(?!No Kernel).*\\| Idle$/.test(e.textContent.trim()))""", timeout=timeout_s * 1000)


def _wait_all_cells_ran(page, timeout_s: float):
    """Every code cell has an execution number and none is queued or running ([*]); fails at the first error."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        state = page.evaluate("""() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim());
            const errors = [...document.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")]
                .map(e => e.innerText).filter(t => /Error|Traceback/.test(t));
            return {n: prompts.length, pending: prompts.filter(p => p === '[*]:' || p === '[ ]:' || p === '').length,
                    errors: errors};
        }""")
        assert not state["errors"], f"a cell raised an error in the browser:\n{state['errors'][0][:2000]}"
        if state["n"] > 0 and state["pending"] == 0:
            return state
        time.sleep(1.0)
    raise AssertionError(f"the notebook did not finish running within {timeout_s} s (last state {state})")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    _require_browser()  # a skip with the reason, or a failure under REQUIRE_BROWSER_TEST=1
    with jupyterlab(tmp_path_factory.mktemp("lab")) as server:
        yield server


def test_a_glossary_link_in_jupyterlab_opens_the_glossary_at_the_term(lab):
    # the server's root holds notebooks/ as `make lab` serves the repository: the link is notebooks/reference/...
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{lab['base']}/lab/tree/notebooks/{NOTEBOOK}?token={lab['token']}")
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            link = page.locator(".jp-NotebookPanel .jp-MarkdownOutput a[href*='reference/glossary.ipynb'][href$='#temperature-t']")
            link.first.click()
            page.locator(".lm-TabBar-tab.lm-mod-current", has_text="glossary.ipynb").wait_for()
            term = page.locator(".jp-NotebookPanel:visible h2", has_text="Temperature (T)")
            term.wait_for()
            panel = page.locator(".jp-NotebookPanel:visible .jp-WindowedPanel-outer").first
            page.wait_for_function(
                """([el, box]) => { const r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
                                    return r.top >= b.top - 1 && r.bottom <= b.bottom; }""",
                arg=[term.element_handle(), panel.element_handle()], timeout=20_000)  # scrolled to the term
            definition = page.locator(".jp-NotebookPanel:visible p", has_text="The number the logits are divided by")
            assert definition.first.is_visible()
            page.screenshot(path=str(OUTPUT / "browser_glossary_link.png"))
        finally:
            browser.close()


def test_notebook_01_runs_and_the_T_slider_redraws(lab):
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        url = f"{lab['base']}/lab/tree/notebooks/{NOTEBOOK}?token={lab['token']}"
        context = pw.chromium.launch_persistent_context(
            str(lab["root"] / "chromium-profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1400, "height": 1000})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(60_000)
            page.goto(url)
            page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
            _wait_kernel_idle(page, 90)
            page.screenshot(path=str(OUTPUT / "browser_01_opened.png"))

            # Run > Run All Cells
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
            _wait_all_cells_ran(page, RUN_ALL_TIMEOUT_S)
            _wait_kernel_idle(page, 60)

            explorer = page.locator(".dl-temperature-explorer").first
            explorer.scroll_into_view_if_needed()
            plot, readout = explorer.locator("img.dl-plot"), explorer.locator(".dl-readout")
            plot.wait_for(state="visible")
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
            before_png, before_text = plot.screenshot(), readout.inner_text()
            assert "T = 1.00" in before_text, before_text
            explorer.screenshot(path=str(OUTPUT / "browser_01_explorer_before.png"))

            # drag the T slider's handle to the right; the figure redraws when it is released
            handle = explorer.locator(".dl-T-slider .noUi-handle")
            track = explorer.locator(".dl-T-slider .noUi-target")
            hb, tb = handle.bounding_box(), track.bounding_box()
            y = hb["y"] + hb["height"] / 2
            page.mouse.move(hb["x"] + hb["width"] / 2, y)
            page.mouse.down()
            page.mouse.move(tb["x"] + 0.9 * tb["width"], y, steps=12)
            page.mouse.up()
            page.wait_for_function("([el, old]) => el.innerText !== old",
                                   arg=[readout.element_handle(), before_text], timeout=30_000)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=plot.element_handle())
            _wait_kernel_idle(page, 30)
            after_text = readout.inner_text()
            deadline = time.time() + 20  # the new picture may land a moment after the readout
            while (after_png := plot.screenshot()) == before_png and time.time() < deadline:
                time.sleep(0.5)
            explorer.screenshot(path=str(OUTPUT / "browser_01_explorer_after.png"))
            page.screenshot(path=str(OUTPUT / "browser_01_after.png"), full_page=False)

            T_after = float(after_text.split("T = ")[1].split()[0])
            assert T_after > 5, f"dragging the slider right should raise T well above 1, the readout says {after_text!r}"
            assert after_png != before_png, "the explorer's figure did not change after the T slider moved"
        finally:
            context.close()


def test_the_course_site_works_offline_searches_links_and_folds(tmp_path):
    """`make site` and `make pdf`, read from disk with every http(s) request refused: the sidebar lists every
    notebook; searching "temperature" finds the glossary; a notebook's glossary link opens the term; figures load
    and math is typeset; no cloud-cell code and no solution is visible before a click; the PDF is printed."""
    _require_browser()
    import re

    from playwright.sync_api import sync_playwright

    site = tmp_path / "site"
    built = subprocess.run([sys.executable, str(ROOT / "tools" / "site.py"), "--out", str(site), "--pdf"],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    OUTPUT.mkdir(exist_ok=True)
    remote = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.route(re.compile(r"^https?://"), lambda route: (remote.append(route.request.url), route.abort()))
            page.goto((site / "index.html").as_uri())
            chapters = page.locator("nav.bd-docs-nav a.reference.internal")
            assert chapters.count() == len(notebooks) + 3, chapters.all_inner_texts()  # home, glossary, guide
            page.screenshot(path=str(OUTPUT / "site_index.png"))

            # search, as a reader does: the search field, a word, Enter
            page.locator(".search-button-field").first.click()
            page.locator("#pst-search-dialog input[name='q']").fill("temperature")
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile(r"search\.html\?q=temperature"))
            results = page.locator("#search-results li")
            results.first.wait_for(timeout=30_000)
            assert any(t.startswith("Glossary") for t in results.all_inner_texts()), results.all_inner_texts()

            # a glossary link in notebook 01 opens the glossary at the term
            page.goto((site / "01_soft_labels_and_temperature.html").as_uri())
            page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 10", timeout=30_000)
            page.locator("article a[href$='reference/glossary.html#temperature-t']").first.click()
            page.wait_for_url(re.compile(r"reference/glossary\.html#temperature-t$"))
            term = page.locator("#temperature-t")
            assert term.is_visible() and term.locator("h2").inner_text().startswith("Temperature (T)")
            assert page.evaluate("() => document.getElementById('temperature-t').getBoundingClientRect().top") < 450
            page.screenshot(path=str(OUTPUT / "site_glossary.png"))

            # notebook 03: figures, no cloud cell, the solutions folded until asked for
            page.goto((site / "03_distill_the_student.html").as_uri())
            figures = page.locator(".cell_output img")
            assert figures.count() >= 1  # the primary comparison's figure
            assert all(figures.nth(i).evaluate("img => img.complete && img.naturalWidth > 0")
                       for i in range(figures.count()))
            text = page.locator("article").inner_text()
            assert "def distill(" in text and "COURSE_REPO" not in text and "NBVAL" not in text
            solution = page.get_by_text("# Solution 1").first
            assert not solution.is_visible()
            page.get_by_text("Show solution 1").first.click()
            assert solution.is_visible()
            sketch = page.locator("details.sd-dropdown", has_text="Solution 3")
            assert not sketch.locator(".sd-summary-content").first.is_visible()
            page.screenshot(path=str(OUTPUT / "site_03_solutions.png"))
        finally:
            browser.close()
    assert not remote, f"the site asked the internet for {remote[:5]}"
    for path in notebooks:  # every page, as built: no cloud cell, no test marker, each solution inside a fold
        html = (site / f"{path.stem}.html").read_text()
        assert "COURSE_REPO" not in html and "NBVAL" not in html, path.name
        for at in (m.start() for m in re.finditer(r"# Solution|<p><em>Solution", html)):
            assert html.rfind("<details", 0, at) > html.rfind("</details>", 0, at), f"{path.name}: a solution in the open"
    pdf = (site / "distillation-lab.pdf").read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pdf.startswith(b"%PDF") and pages > 3 * len(notebooks), pages
