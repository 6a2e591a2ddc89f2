"""How long Restart Kernel and Run All takes a learner, per notebook, in real JupyterLab.

The browser tests run the notebooks in test mode to keep `make test` short; the course promises
learners that every notebook runs top to bottom in under three minutes in learner mode, on two
CPUs and on one (Binder). This script measures that promise; it is run by hand, not by pytest:

    .venv/bin/python tests/time_run_all.py            # every notebook, all CPUs
    .venv/bin/python tests/time_run_all.py --cpus 1   # as on Binder
    .venv/bin/python tests/time_run_all.py 05_hybrid.ipynb

`--cpus N` pins JupyterLab, and so every kernel, server and worker it starts, to the first N
CPUs; Chromium stays free, as a learner's browser runs on their own computer, not on Binder's.
Each line gives the wall time, any problem the browser tests would report, and every ⚠ line
(a claim that did not hold) the notebook printed.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import psutil
from jupyterlab_driver import launch_chromium, open_notebook, run_all, start_lab, stop_lab
from notebook_hygiene import REPOSITORY
from playwright.sync_api import Page, sync_playwright

from helpers.claims.pauses import paused_share

LIMIT_SECONDS = 600  # well past the three-minute promise, so an overrun is measured, not cut short
PROMISE_SECONDS = 180


def pin(process: psutil.Process, cpus: int) -> None:
    """Keep `process` and its children, and all they start later, on the first `cpus` CPUs."""
    for member in (process, *process.children(recursive=True)):
        member.cpu_affinity(list(range(cpus)))


def warnings_shown(page: Page) -> list[str]:
    texts = page.locator(".jp-OutputArea-output", has_text="⚠").all_inner_texts()
    return [line for text in texts for line in text.splitlines() if "⚠" in line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpus", type=int, default=None, help="pin JupyterLab to this many CPUs")
    parser.add_argument("notebooks", nargs="*", help="file names in notebooks/ (default: all)")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="time-run-all-"))
    shutil.copytree(REPOSITORY / "notebooks", scratch / "root" / "notebooks")  # runs never write to the repository
    names = args.notebooks or sorted(path.name for path in (REPOSITORY / "notebooks").glob("*.ipynb"))
    lab = start_lab(scratch / "root", scratch / "jupyter", {"LLM_COURSE_MODE": "learner"})
    try:
        if args.cpus:
            pin(psutil.Process(lab.process.pid), args.cpus)
        print(f"JupyterLab on CPUs {psutil.Process(lab.process.pid).cpu_affinity()}, learner mode", flush=True)
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for name in names:
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                page = context.new_page()
                open_notebook(page, lab, f"notebooks/{name}")
                result = run_all(page, lab, LIMIT_SECONDS)
                verdict = "within" if result.seconds < PROMISE_SECONDS else "OVER"
                print(f"{name}: {result.seconds:.1f} s ({verdict} {PROMISE_SECONDS} s), problems: {result.problems or 'none'}, "
                      f"host paused {paused_share():.0%} just after", flush=True)
                for line in warnings_shown(page):
                    print(f"    {line}", flush=True)
                context.close()
                lab.shut_down_kernels()
                time.sleep(2)  # let the kernel's server and workers go before the next notebook
            browser.close()
    finally:
        stop_lab(lab)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
