"""Experiments on the GIL itself: the switch interval, free-threaded builds, subinterpreters.

A thread that wants the GIL while another holds it waits; after the *switch interval*
(`sys.getswitchinterval()`, 5 ms by default) the holder is asked to let go. So while one thread
crunches Python code, a thread woken by I/O (a reply arrived, a sleep ended) waits up to one
switch interval before it runs again: the convoy effect. `wake_up_delays` measures that wait.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

from helpers.claims.machine import gil_enabled
from helpers.workloads.cpu_work import python_busy_work


@contextmanager
def switch_interval(seconds: float) -> Iterator[None]:
    """Set the GIL's switch interval for the block, and always restore it."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def wake_up_delays(interval: float, seconds: float = 0.5, nap: float = 0.002) -> list[float]:
    """How late a thread doing short sleeps (an I/O-like thread) wakes, while a CPU thread runs.

    With switch interval `interval`, one thread spins `python_busy_work` for `seconds` while
    another sleeps `nap` seconds again and again and records how much longer than `nap` each
    sleep really took. The sleep itself releases the GIL; getting it back is the wait.
    """
    stop = threading.Event()

    def crunch() -> None:
        while not stop.is_set():
            python_busy_work(1)

    delays: list[float] = []
    with switch_interval(interval):
        cpu_thread = threading.Thread(target=crunch, name="CPU thread")
        cpu_thread.start()
        try:
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                time.sleep(nap)
                delays.append(time.perf_counter() - started - nap)
        finally:
            stop.set()
            cpu_thread.join()
    return delays


def typical_delay(delays: list[float]) -> float:
    """The median: a few huge delays (the machine paused us) must not decide the answer."""
    return statistics.median(delays)


class InterpreterFeatures(NamedTuple):
    free_threaded_build: bool  # compiled with --disable-gil (PEP 703): python3.13t and later
    gil_enabled: bool  # a free-threaded build can still run with the GIL (PYTHON_GIL=1)
    subinterpreters_module: str | None  # where per-interpreter GILs (PEP 684/734) are reachable


def interpreter_features() -> InterpreterFeatures:
    """What the running interpreter offers beyond one GIL, feature-detected, not guessed from the version."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    module = next((name for name in ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters")
                   if importlib.util.find_spec(name) is not None), None)
    return InterpreterFeatures(free_threaded, gil_enabled(), module)

