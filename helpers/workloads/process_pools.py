"""What a process pool costs, and what goes wrong with one, measured from the notebook's side.

Lesson 04 measures the costs that threads do not have: starting a worker process, the memory
each worker holds, and the error a worker hits when it cannot import its task. Each function
here does one measurement and returns plain numbers; the notebook prints and checks them.
The functions the workers themselves run are in helpers/workloads/process_workers.py.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import matplotlib.pyplot as plt
import psutil
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from helpers.drawing.formatting import format_seconds
from helpers.workloads.process_workers import send_errors_to

# "ValueError: message" at the start of a line, as a traceback ends.
ERROR_LINE = re.compile(r"^(\w+(?:Error|Exception|Pool)): ?(.*)$")


def start_up_seconds(start_method: str) -> float:
    """Seconds from creating a one-worker pool to the first answer from its worker."""
    started = time.perf_counter()
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context(start_method))
    try:
        pool.submit(os.getpid).result()
        return time.perf_counter() - started
    finally:
        pool.shutdown()


class MemoryUse(NamedTuple):
    """A process's memory in bytes: resident (rss) and its own, shared with no one (uss)."""

    name: str
    rss: int
    uss: int


def worker_memory() -> list[MemoryUse]:
    """The memory of every worker process this process started with multiprocessing, alive now."""
    found = []
    for child in multiprocessing.active_children():
        try:
            info = psutil.Process(child.pid).memory_full_info()
        except psutil.NoSuchProcess:  # it ended between the two calls
            continue
        found.append(MemoryUse(child.name, info.rss, info.uss))
    return found


def memory_per_thread(threads: int = 50) -> float:
    """Bytes of this process's own memory each of `threads` idle threads adds, on average."""
    me = psutil.Process()
    stop = threading.Event()
    waiting = [threading.Thread(target=stop.wait, name=f"idle {i}") for i in range(threads)]
    before = me.memory_full_info().uss
    for thread in waiting:
        thread.start()
    after = me.memory_full_info().uss
    stop.set()
    for thread in waiting:
        thread.join()
    return (after - before) / threads


def errors_in(text: str) -> list[str]:
    """Every "SomeError: message" a traceback printed, in order, each message on one line.

    A message that starts on the next line (as multiprocessing's RuntimeError about the
    `__main__` guard does) is joined up to the end of its first sentence.
    """
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = ERROR_LINE.match(line)
        if not match:
            continue
        message = match.group(2).strip()
        if not message:  # the message starts on the next line: take it up to its first full stop
            following = iter(lines[index + 1:])
            while not message.endswith(".") and (more := next(following, "").strip()):
                message = f"{message} {more}".strip()
            message = message.split(". ")[0].rstrip(".")
        found.append(f"{match.group(1)}: {message}")
    return found


class WorkerErrors:
    """Collect what pool workers print to their standard error in a temporary file.

        with WorkerErrors() as errors:
            pool = ProcessPoolExecutor(1, initializer=errors.initializer, initargs=errors.initargs)
            ...
            print(errors.found())
    """

    initializer = staticmethod(send_errors_to)

    def __enter__(self) -> WorkerErrors:
        self._folder = tempfile.TemporaryDirectory()
        self.path = Path(self._folder.name) / "workers.log"
        self.path.touch()
        self.initargs = (str(self.path),)
        return self

    def found(self) -> list[str]:
        """The errors the workers printed so far (see `errors_in`)."""
        return errors_in(self.path.read_text(encoding="utf-8"))

    def __exit__(self, *exc_info: object) -> None:
        self._folder.cleanup()


class ScriptRun(NamedTuple):
    exit_code: int | None  # None: it was stopped after the timeout
    seconds: float
    stdout: str
    stderr: str


def run_script(source: str, timeout: float = 60) -> ScriptRun:
    """Run `source` as a Python script in a new interpreter, as `python script.py` would.

    Not in the notebook: a script that goes wrong with processes cannot hang the kernel this
    way, and after `timeout` seconds it is killed, its workers too.
    """
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "script.py"
        script.write_text(source, encoding="utf-8")
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, str(script)], cwd=folder, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            exit_code = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)  # the script and every worker it started: one process group
            stdout, stderr = process.communicate()
            exit_code = None
        return ScriptRun(exit_code, time.perf_counter() - started, stdout, stderr)


def plot_chunk_sweep(seconds: Mapping[int, float], sequential: float, title: str = "") -> Figure:
    """Wall time of one `pool.map` for each chunksize, against the plain loop's time."""
    sizes = sorted(seconds)
    figure, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(sizes, [seconds[size] for size in sizes], "o-", color="#E8804C", label="process pool")
    ax.axhline(sequential, color="#555555", linestyle="--", label=f"plain loop: {format_seconds(sequential)}")
    for size in sizes:
        ax.annotate(format_seconds(seconds[size]), (size, seconds[size]), textcoords="offset points",
                    xytext=(0, 7), ha="center", fontsize="small")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [str(size) for size in sizes])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: format_seconds(value)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="chunksize (answers per task)", ylabel="wall time (s, log scale)", title=title)
    ax.legend(loc="upper right", fontsize="small")
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure
