"""Run the batch runner as a user would, in a process of its own, and watch it from outside.

While it runs: its resident memory, sampled (psutil; the peak is the largest sample), and its
results file's line count, read as the file grows, so the benchmark can SIGKILL it when half the
results are written. A kill from outside, at a moment the runner does not choose, is the test of
"losing nothing": it cannot flush, close or say goodbye.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import psutil

SAMPLE_SECONDS = 0.02  # RSS moves slowly (pages come in as they are touched): 50 samples a second catch its peak
RUNNER = (sys.executable, "-m", "helpers.batch")  # the same code as the `llm-batch` console script


class RunnerRun(NamedTuple):
    exit_code: int  # -9: killed by SIGKILL
    seconds: float  # from start to exit
    peak_rss: int  # bytes, the largest sample
    killed_at: float | None  # Unix time of the SIGKILL, None if the run was not killed
    lines_at_kill: int | None  # results file lines (complete ones) when it was killed
    output: str  # what it printed (standard output and error), for a run that went wrong


class LineCounter:
    """How many complete lines a growing file has, reading only what was added since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines = 0

    def count(self) -> int:
        if self.path.exists():
            with self.path.open("rb") as file:
                file.seek(self.offset)
                added = file.read()
            self.offset += len(added)
            self.lines += added.count(b"\n")
        return self.lines


def option_flags(options: dict) -> list[str]:
    """["--rpm", "7500", "--max-in-flight", "50"] from {"rpm": 7500, "max_in_flight": 50}; None is left out."""
    return [item for name, value in options.items() if value is not None
            for item in ("--" + name.replace("_", "-"), str(value))]


def runner_command(requests: Path, results: Path, base_url: str, api_key: str, options: dict) -> list[str]:
    """`python -m helpers.batch REQUESTS RESULTS --base-url ... --api-key ... --rpm 7500 ...`."""
    return [*RUNNER, str(requests), str(results), "--base-url", base_url, "--api-key", api_key, *option_flags(options)]


def run_runner(command: list[str], results: Path, *, kill_at_lines: int | None = None,
               log: Path | None = None) -> RunnerRun:
    """Run `command` to its end, or SIGKILL it once `results` has `kill_at_lines` complete lines."""
    log = log or results.with_suffix(".log")
    counter = LineCounter(results)
    counter.count()  # a resumed run starts with the lines its predecessor wrote
    killed_at = None
    peak = 0
    started = time.perf_counter()
    # Progress bars redraw often: into a file, not a pipe nobody reads until the end (a full pipe blocks the runner).
    with log.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT,
                                   env=os.environ | {"PYTHONUNBUFFERED": "1"})
        watched = psutil.Process(process.pid)
        while process.poll() is None:
            try:
                peak = max(peak, watched.memory_info().rss)
            except psutil.NoSuchProcess:  # it exited between poll() and here
                break
            if kill_at_lines is not None and killed_at is None and counter.count() >= kill_at_lines:
                process.send_signal(signal.SIGKILL)
                killed_at = time.time()
            time.sleep(SAMPLE_SECONDS)
        exit_code = process.wait()
    # Counted once it is dead: lines that were complete when it died. A torn last line has no newline yet.
    lines_at_kill = None if killed_at is None else counter.count()
    return RunnerRun(exit_code, time.perf_counter() - started, peak, killed_at, lines_at_kill,
                     log.read_text(errors="replace"))
