"""Solution to the exercise of notebooks/04_multiprocessing.ipynb: score the answers on a process pool."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from helpers.claims.machine import usable_cpus


def make_pool(workers: int | None = None) -> ProcessPoolExecutor:
    """One worker per CPU this process may use; spawn, so it behaves the same on every system."""
    return ProcessPoolExecutor(max_workers=workers or usable_cpus(), mp_context=multiprocessing.get_context("spawn"))


def score_all(pool: ProcessPoolExecutor, answers: list[str], score: Callable) -> list:
    """Every answer's score, in order; about four chunks per worker, so each trip carries real work."""
    chunksize = max(1, len(answers) // (4 * usable_cpus()))
    return list(pool.map(score, answers, chunksize=chunksize))  # map keeps the answers' order
