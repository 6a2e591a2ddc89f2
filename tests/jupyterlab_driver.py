"""JupyterLab in headless Chromium: open a notebook, Restart Kernel and Run All, say what went wrong.

A learner's first contact with a lesson is Run All in JupyterLab, not nbval: widgets must render,
live views must move, and the kernel must come back idle with every cell numbered. This module
is the plumbing the browser tests share:

* `start_lab` serves a directory with a throwaway configuration (no token, loopback only, no
  autosave), so no setting of the developer's own JupyterLab leaks in; the tests hand it copies
  of the notebooks, so a run never writes to the repository;
* `open_notebook` opens one notebook in a Playwright page with a fresh workspace, and `run_all`
  restarts its kernel and runs every cell, returning a `RunResult` whose `problems` are plain
  sentences, empty when the run was clean;
* `leftover_processes` finds processes a kernel started and left behind (the simulated server,
  pool workers), by a marker every one of them inherits in its environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import psutil
from playwright.sync_api import Browser, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    # The test machine may have no network: without these Chromium keeps trying to reach Google.
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STARTUP_LIMIT_SECONDS = 120
MAX_SCREENSHOT_HEIGHT = 30_000  # pixels; a longer notebook is cut at the bottom
# Kernels and everything they start carry this variable, with a value unique to one server.
MARKER_VARIABLE = "JUPYTERLAB_DRIVER_RUN"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# What ipywidgets' JupyterLab renderer shows instead of a view it could not build (or not yet).
WIDGET_FALLBACKS = ("Error displaying widget", "Error creating widget", "Loading widget",
                    "Click to show javascript error")
# JupyterLab settings for a test run: every cell in the DOM (no virtual scrolling), no autosave.
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
}


def chromium_path() -> str | None:
    """Debian's Chromium (packages chromium and chromium-driver), or None when it is missing."""
    found = shutil.which("chromium")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium through Playwright: no browser download, a fresh temporary profile."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab server, and the marker its kernels inherit."""

    process: subprocess.Popen
    url: str
    marker: str

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.url}/api/{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        """What "Shut Down All Kernels" does, through the REST API."""
        for kernel in self.api("kernels"):
            self.api(f"kernels/{kernel['id']}", method="DELETE")


def write_config(directory: Path) -> dict[str, str]:
    """A throwaway Jupyter configuration, data and settings tree; returns the variables naming it."""
    settings = directory / "lab-settings"
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    for sub in ("config", "data", "runtime", "workspaces"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    return {
        "JUPYTER_CONFIG_DIR": str(directory / "config"),
        "JUPYTER_DATA_DIR": str(directory / "data"),
        "JUPYTER_RUNTIME_DIR": str(directory / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(directory / "workspaces"),
    }


def start_lab(root: Path, scratch: Path, environment: dict[str, str]) -> Lab:
    """Serve `root` on a free loopback port; kernels get `environment` on top of ours."""
    port, marker = free_port(), uuid.uuid4().hex
    variables = {**os.environ, **environment, **write_config(scratch), MARKER_VARIABLE: marker}
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.root_dir={root}", "--ServerApp.token=", "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=", "--LabServerApp.announcements_url=",
    ]
    if os.geteuid() == 0:  # JupyterLab refuses root (a container, CI) unless told it may
        command.append("--allow-root")
    with open(scratch / "jupyterlab.log", "wb") as log:  # the server keeps its own copy of the file
        process = subprocess.Popen(command, cwd=root, env=variables, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # a group of its own, stopped as a whole
    lab = Lab(process, f"http://127.0.0.1:{port}", marker)
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {process.returncode}: see {scratch / 'jupyterlab.log'}")
        try:
            lab.api("status")
            return lab
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    stop_lab(lab)
    raise RuntimeError(f"JupyterLab did not answer within {STARTUP_LIMIT_SECONDS} s")


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a server started with start_new_session=True, and everything it started: politely, then not."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stop_lab(lab: Lab) -> None:
    stop_process_group(lab.process)


def leftover_processes(lab: Lab) -> list[psutil.Process]:
    """Processes other than the server itself that carry the server's marker: kernels' leftovers."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        if process.pid == lab.process.pid:
            continue
        try:
            if process.environ().get(MARKER_VARIABLE) == lab.marker:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def describe(processes: list[psutil.Process]) -> list[str]:
    return [f"pid {process.pid}: {' '.join(process.info['cmdline'] or [])[:120]}" for process in processes]


class RunResult(NamedTuple):
    """What one Restart Kernel and Run All showed; `problems` is empty when it was clean."""

    seconds: float
    problems: list[str]
    widget_views: int  # widget outputs on the page at the end
    widget_updates: int  # times a rendered widget changed what it shows during the run


# Counts redraws of widget views that were already on the page: an HTML widget's content replaced,
# an Image widget's picture swapped. A first render does not count.
WATCH_WIDGETS_JS = """() => {
    window.widgetUpdates = 0;
    if (window.widgetObserver) return;
    window.widgetObserver = new MutationObserver(records => {
        for (const record of records) {
            const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
            if (!node || !node.closest('.jupyter-widgets')) continue;
            if (record.type === 'attributes' && record.oldValue) window.widgetUpdates++;
            if (record.type === 'childList' && record.removedNodes.length && node.closest('.widget-html-content'))
                window.widgetUpdates++;
        }
    });
    window.widgetObserver.observe(document.body, {subtree: true, childList: true, attributes: true,
                                                  attributeFilter: ['src'], attributeOldValue: true});
}"""

# Each code cell of the open notebook: its prompt in the DOM, its outputs in the model (the DOM
# draws an error and a stderr stream alike), and what each widget output rendered. A view that
# rendered has elements of ipywidgets' `widget-*` classes; the fallback is a bare line of text.
CELLS_JS = """(args) => {
    const [widgetMime, fallbacks] = args;
    const panel = window.jupyterapp.shell.currentWidget;
    return panel.content.widgets.filter(cell => cell.model.type === 'code').map(cell => {
        const outputs = cell.model.outputs.toJSON();
        const nodes = cell.outputArea.widgets.map(child => child.node);
        return {
            source: cell.model.sharedModel.getSource().split('\\n')[0].slice(0, 60),
            prompt: (cell.node.querySelector('.jp-InputPrompt') || {textContent: ''}).textContent.trim(),
            outputs: outputs.map(output => ({
                type: output.output_type, name: output.name || '', ename: output.ename || '',
                evalue: output.evalue || '', text: output.name === 'stderr' ? [].concat(output.text).join('') : ''})),
            views: outputs.flatMap((output, index) => widgetMime in (output.data || {}) ? [nodes[index]] : [])
                .map(node => ({
                    rendered: !!node && node.querySelector('[class*="widget-"]') !== null,
                    fallback: (node && fallbacks.find(text => node.textContent.includes(text))) || ''})),
        };
    });
}"""


def open_notebook(page: Page, lab: Lab, path: str) -> None:
    """Open `path` in a fresh workspace until it has a kernel, accepting the kernel JupyterLab offers."""
    page.goto(f"{lab.url}/lab/tree/{urllib.parse.quote(path)}?reset")
    # Either the notebook gets its kernel, or JupyterLab asks which one ("Select Kernel").
    page.wait_for_function(
        "() => document.querySelector('.jp-Dialog')"
        " || window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel",
        timeout=STARTUP_LIMIT_SECONDS * 1000)
    accept_dialog(page, timeout_seconds=0.1)


def wait_for_idle_kernel(page: Page) -> None:
    """Wait until the page's kernel is connected and idle: a restart sent while the page is still
    connecting races the websocket handshake and leaves the page deaf to the new kernel."""
    page.wait_for_function(
        "() => { const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session?.kernel;"
        " return kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'; }",
        timeout=STARTUP_LIMIT_SECONDS * 1000)


def accept_dialog(page: Page, timeout_seconds: float) -> bool:
    """Click the accept button of the dialog JupyterLab shows, if it shows one in time."""
    button = page.locator(".jp-Dialog .jp-mod-accept")
    try:
        button.wait_for(timeout=timeout_seconds * 1000)
    except PlaywrightTimeout:
        return False
    button.click()
    return True


def kernel_state(page: Page, lab: Lab) -> str:
    """The kernel's execution state as the server knows it: 'idle', 'busy', 'starting'..."""
    kernel_id = page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")
    try:
        return lab.api(f"kernels/{kernel_id}")["execution_state"]
    except urllib.error.HTTPError:
        return "gone"


def restart_and_run_all(page: Page, lab: Lab, limit_seconds: float) -> tuple[float, bool]:
    """Clear every output, then Restart Kernel and Run All Cells; wait until done or the limit.

    Outputs are cleared first so that a prompt showing a number proves this run executed the
    cell. Returns the seconds it took and whether it finished within the limit.
    """
    app = "window.jupyterapp.commands.execute"
    wait_for_idle_kernel(page)
    page.evaluate(f"() => {app}('notebook:clear-all-cell-outputs')")
    started = time.monotonic()
    page.evaluate(f"() => {{ {app}('notebook:restart-run-all'); }}")  # not awaited: it waits for the dialog
    if not accept_dialog(page, timeout_seconds=30):
        raise RuntimeError("JupyterLab did not ask to confirm the kernel restart")
    quiet_polls = 0
    while time.monotonic() - started < limit_seconds:
        time.sleep(0.5)
        prompts = page.evaluate("() => [...window.jupyterapp.shell.currentWidget.node"
                                ".querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim())")
        begun = any(prompt not in ("", "[ ]:") for prompt in prompts)
        running = any("*" in prompt for prompt in prompts)
        quiet = begun and not running and kernel_state(page, lab) == "idle"
        quiet_polls = quiet_polls + 1 if quiet else 0
        if quiet_polls >= 2:  # idle twice, half a second apart: not just between two cells
            return time.monotonic() - started, True
    return time.monotonic() - started, False


def cell_problems(cells: list[dict[str, Any]]) -> list[str]:
    """What CELLS_JS found, as sentences that name the cell by its position and first line."""
    problems = []
    for position, cell in enumerate(cells, start=1):
        where = f"code cell {position} ({cell['source']!r})"
        if not re.fullmatch(r"\[\d+\]:", cell["prompt"]):
            problems.append(f"{where} was left unexecuted (prompt {cell['prompt'] or 'empty'})")
        for output in cell["outputs"]:
            if output["type"] == "error":
                problems.append(f"{where} has an error output: {output['ename']}: {output['evalue']}")
            elif output["name"] == "stderr" and "Traceback (most recent call last)" in output["text"]:
                problems.append(f"{where} printed a traceback to stderr")
        for view in cell["views"]:
            if view["fallback"] or not view["rendered"]:
                shown = f"shows {view['fallback']!r}" if view["fallback"] else "has no widget view"
                problems.append(f"{where} has a widget output that did not render: it {shown}")
    return problems


def screenshot(page: Page, path: Path) -> None:
    """The whole notebook in one picture: JupyterLab scrolls inside a fixed-size window, so grow the window."""
    scroller = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer"
    hidden = page.evaluate(f"() => {{ const node = document.querySelector('{scroller}');"
                           " return node.scrollHeight - node.clientHeight; }")
    size = page.viewport_size or {"width": 1280, "height": 900}
    page.set_viewport_size({"width": size["width"], "height": min(size["height"] + hidden, MAX_SCREENSHOT_HEIGHT)})
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def run_all(page: Page, lab: Lab, limit_seconds: float, screenshot_to: Path | None = None) -> RunResult:
    """Restart Kernel and Run All Cells on the notebook open in `page`; check what a learner would see."""
    page.evaluate(WATCH_WIDGETS_JS)
    seconds, finished = restart_and_run_all(page, lab, limit_seconds)
    cells = page.evaluate(CELLS_JS, [WIDGET_MIME, list(WIDGET_FALLBACKS)])
    problems = [] if finished else [f"Run All did not finish within {limit_seconds:.0f} s"]
    problems += cell_problems(cells)
    if screenshot_to is not None:
        screenshot(page, screenshot_to)
    return RunResult(seconds, problems,
                     sum(len(cell["views"]) for cell in cells), page.evaluate("() => window.widgetUpdates"))
