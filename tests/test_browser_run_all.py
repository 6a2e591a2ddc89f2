"""Every notebook survives Restart Kernel and Run All in JupyterLab, in a real browser.

nbval runs the cells without a front end; a learner presses Run All in JupyterLab. Here that is
what happens, in headless Chromium: every code cell must get an execution count, no cell may show
an error or a traceback, every widget must render (not its fallback text), live views must move
while they run, and shutting the kernels down must leave no simulated server or pool worker
behind. A full-page screenshot of each notebook lands in tests/artifacts/ (ignored by git).

The notebooks run in **test mode** (LLM_COURSE_MODE=test, set on the JupyterLab server, so every
kernel inherits it), not in learner mode: in learner mode each of the six lessons takes about two
minutes, about twelve for the six, which would more than triple `make test`; in test mode the
whole module takes about six minutes on two CPUs, most of it lessons 03 and 05 (about 95 s and
75 s). Test mode runs the same cells and the same widgets, with shorter latencies and smaller
workloads.

One JupyterLab server and one Chromium serve the whole module; each notebook gets a fresh browser
context and a fresh workspace. Without Chromium the module is skipped with one line saying what
to install.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyterlab_driver import (
    WIDGET_MIME,
    Lab,
    RunResult,
    chromium_path,
    describe,
    launch_chromium,
    leftover_processes,
    open_notebook,
    run_all,
    start_lab,
    stop_lab,
)
from notebook_hygiene import REPOSITORY

if chromium_path() is None:
    pytest.skip("Chromium not found: apt-get install chromium chromium-driver", allow_module_level=True)

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402 - only once Chromium is known

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("*.ipynb"))
FIXTURES = REPOSITORY / "tests" / "fixtures" / "notebooks"
ARTIFACTS = REPOSITORY / "tests" / "artifacts"
# The slowest lesson takes about 100 s here on a quiet machine; CI may share the CPUs.
NOTEBOOK_LIMIT_SECONDS = 300
# A broken fixture must fail fast: this is the limit its never-ending cell runs into.
FIXTURE_LIMIT_SECONDS = 10
SHUTDOWN_LIMIT_SECONDS = 20
# Code that draws while it runs: a notebook using one of these must show its widgets moving.
LIVE_WIDGETS = ("LiveTimeline(", "StreamBoard(")
# The interactive test turns this lesson's panel, then runs it all again. Its panel still works
# after Run All: the last cell of most lessons stops the simulated server, and this panel's
# default experiment (pure-Python work on threads) needs none.
PANEL_NOTEBOOK = "01_gil.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab serving copies of the notebooks and fixtures, so no run can write to the repository."""
    scratch = tmp_path_factory.mktemp("browser")
    root = scratch / "root"
    shutil.copytree(REPOSITORY / "notebooks", root / "notebooks")
    shutil.copytree(FIXTURES, root / "fixtures")
    server = start_lab(root, scratch / "jupyter", {"LLM_COURSE_MODE": "test"})
    yield server
    stop_lab(server)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, lab: Lab) -> Iterator[Page]:
    """A fresh browser context; afterwards every kernel is shut down, and must leave nothing behind."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()
    lab.shut_down_kernels()
    deadline = time.monotonic() + SHUTDOWN_LIMIT_SECONDS
    while (left := leftover_processes(lab)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], f"still running {SHUTDOWN_LIMIT_SECONDS} s after the kernels were shut down: {describe(left)}"


def committed_widget_outputs(notebook: Path) -> int:
    """How many widget outputs `make notebooks` saved: the browser must render as many."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return sum(WIDGET_MIME in output.get("data", {}) for cell in cells for output in cell.get("outputs", []))


def uses_live_widgets(notebook: Path) -> bool:
    return any(marker in notebook.read_text(encoding="utf-8") for marker in LIVE_WIDGETS)


def report(name: str, result: RunResult) -> None:
    print(f"{name}: Run All took {result.seconds:.1f} s, {result.widget_views} widget views, "
          f"{result.widget_updates} widget updates")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_restart_and_run_all_is_clean(notebook: Path, page: Page, lab: Lab) -> None:
    open_notebook(page, lab, f"notebooks/{notebook.name}")
    result = run_all(page, lab, NOTEBOOK_LIMIT_SECONDS, screenshot_to=ARTIFACTS / f"{notebook.stem}.png")
    report(notebook.name, result)
    assert result.problems == []
    assert result.widget_views == committed_widget_outputs(notebook)
    if uses_live_widgets(notebook):
        assert result.widget_updates >= 2, "the live widgets did not redraw while the notebook ran"
    # The kernel carries the marker too: proof that the leak check after the test can see our processes.
    assert leftover_processes(lab)


def test_the_panel_redraws_after_a_slider_moves_and_a_second_run_all_is_as_clean(page: Page, lab: Lab) -> None:
    """What a learner does after Run All: turn a slider, press Run, then Restart and Run All again.

    One page serves both checks (the interactive one and idempotence): a second page would cost
    another JupyterLab load and another full run for no extra evidence.
    """
    open_notebook(page, lab, f"notebooks/{PANEL_NOTEBOOK}")
    assert run_all(page, lab, NOTEBOOK_LIMIT_SECONDS).problems == []
    panel = page.locator(".widget-vbox", has=page.locator("img.widget-image")).last
    picture, status = panel.locator("img.widget-image"), panel.locator(".widget-label").last
    readout = panel.locator(".widget-slider").first.locator(".widget-readout")
    before = {"picture": picture.get_attribute("src"), "value": readout.inner_text()}
    assert status.inner_text().startswith("run 1:")
    panel.locator(".widget-slider .noUi-handle").first.press("ArrowLeft")  # a learner's arrow key, or a drag
    assert readout.inner_text() != before["value"]
    panel.get_by_role("button", name="Run").click()
    page.wait_for_function("([label, image, old]) => label.textContent !== 'running…' && image.src !== old",
                           arg=[status.element_handle(), picture.element_handle(), before["picture"]],
                           timeout=60_000)
    assert status.inner_text().startswith("run 2:"), status.inner_text()

    second = run_all(page, lab, NOTEBOOK_LIMIT_SECONDS)
    report(f"{PANEL_NOTEBOOK}, second run", second)
    assert second.problems == [], "the second Restart Kernel and Run All"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("run_all_raises.ipynb", ["code cell 2 ('1 / 0') has an error output: ZeroDivisionError",
                                  "code cell 3 (\"print('never reached')\") was left unexecuted"]),
        ("run_all_never_finishes.ipynb", [f"Run All did not finish within {FIXTURE_LIMIT_SECONDS} s",
                                          "code cell 2 ('time.sleep(10**6)') was left unexecuted (prompt [*]:)"]),
        ("widget_view_fails.ipynb", ["code cell 1 ('import ipywidgets') has a widget output that did not render: "
                                     "it shows 'Click to show javascript error'"]),
    ],
    ids=["an error output", "a cell that never finishes", "a widget view that fails"],
)
def test_a_broken_notebook_fails_the_run(fixture: str, expected: list[str], page: Page, lab: Lab) -> None:
    open_notebook(page, lab, f"fixtures/{fixture}")
    result = run_all(page, lab, FIXTURE_LIMIT_SECONDS, screenshot_to=ARTIFACTS / "fixtures" / f"{Path(fixture).stem}.png")
    for problem in expected:
        assert any(problem in found for found in result.problems), result.problems


def test_a_process_left_behind_by_a_kernel_is_found(browser: Browser, lab: Lab) -> None:
    """The leak check of every test above, shown to catch a leak: a fixture starts a process of its
    own session, which survives its kernel. Not the `page` fixture: that one would fail on it."""
    context = browser.new_context()
    page = context.new_page()
    open_notebook(page, lab, "fixtures/leaves_a_process.ipynb")
    assert run_all(page, lab, FIXTURE_LIMIT_SECONDS).problems == []
    context.close()
    lab.shut_down_kernels()
    time.sleep(2)  # what the kernel would have taken to stop its children, had it had any to stop
    left = leftover_processes(lab)
    for process in left:
        process.kill()
    assert any("time.sleep(600)" in line for line in describe(left)), describe(left)
