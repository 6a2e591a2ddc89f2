"""Experiments on the GIL itself: what CPU-bound threads cost a waiting thread, NumPy letting go
of the GIL, free-threaded builds and subinterpreters.

A thread that wants the GIL while another holds it waits; after the *switch interval*
(`sys.getswitchinterval()`, 5 ms by default) the holder is asked to let go. So while threads
crunch Python code, a thread whose reply has just arrived waits for the GIL before it can read
the reply, once for every time it waited on the network: the convoy effect. `calls_per_second`
measures what that costs an LLM client.
"""

from __future__ import annotations

import importlib.util
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import NamedTuple

import numpy as np

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


def calls_per_second(call: Callable[[], object], calls: int, cpu_threads: int = 0,
                     interval: float | None = None) -> float:
    """How many `call()`s per second this thread completes while `cpu_threads` threads crunch Python.

    This thread makes `calls` calls one after the other, as an LLM client waiting for answers
    does, while the other threads run `python_busy_work` without a pause. Each time a reply
    arrives, this thread needs the GIL back to read it and must wait for a CPU thread to let go:
    up to one switch interval (`interval`, or the current one), longer when several CPU threads
    compete for it.
    """
    stop = threading.Event()

    def crunch() -> None:
        while not stop.is_set():
            python_busy_work(1)

    crunchers = [threading.Thread(target=crunch, name=f"CPU thread {k + 1}") for k in range(cpu_threads)]
    with switch_interval(interval) if interval is not None else nullcontext():
        for thread in crunchers:
            thread.start()
        try:
            started = time.perf_counter()
            for _ in range(calls):
                call()
            elapsed = time.perf_counter() - started
        finally:
            stop.set()
            for thread in crunchers:
                thread.join()
    return calls / elapsed


# One matrix product, written twice: NumPy hands it to its BLAS library, which computes with the
# GIL released; the pure-Python version is bytecode from start to end, so it holds the GIL. The
# pure-Python matrices are smaller so that one product of each takes a comparable time.
NUMPY_SIZE, PYTHON_SIZE = 400, 48
NUMPY_A, NUMPY_B = np.random.default_rng(0).random((2, NUMPY_SIZE, NUMPY_SIZE))
PYTHON_A = [[(i * j % 7) / 7 for j in range(PYTHON_SIZE)] for i in range(PYTHON_SIZE)]
PYTHON_B = [[(i + j) % 5 / 5 for j in range(PYTHON_SIZE)] for i in range(PYTHON_SIZE)]


def numpy_matmul_work(units: int) -> float:
    """`units` products of two 400×400 matrices in NumPy (BLAS, GIL released)."""
    for _ in range(units):
        product = NUMPY_A @ NUMPY_B
    return float(product[0, 0])


def python_matmul_work(units: int) -> float:
    """`units` products of two 48×48 matrices (lists of lists) in pure Python (GIL held)."""
    columns = list(zip(*PYTHON_B))
    for _ in range(units):
        product = [[sum(x * y for x, y in zip(row, column)) for column in columns] for row in PYTHON_A]
    return product[0][0]


class InterpreterFeatures(NamedTuple):
    free_threaded_build: bool  # compiled with --disable-gil (PEP 703): python3.13t and later
    gil_enabled: bool  # a free-threaded build can still run with the GIL (PYTHON_GIL=1)
    subinterpreters_module: str | None  # where per-interpreter GILs (PEP 684/734) are reachable


def interpreter_features() -> InterpreterFeatures:
    """What the running interpreter offers beyond one GIL, feature-detected, not guessed from the version."""
    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    # Python 3.11 has subinterpreters too (_xxsubinterpreters), but they share the one GIL: a GIL
    # of their own (PEP 684) came with 3.12, and no attribute tells; so here the version does.
    own_gil = sys.version_info >= (3, 12)
    module = next((name for name in ("concurrent.interpreters", "_interpreters", "_xxsubinterpreters")
                   if own_gil and importlib.util.find_spec(name) is not None), None)
    return InterpreterFeatures(free_threaded, gil_enabled(), module)
