"""Time a piece of work the way `timeit` does: run it a few times and keep the fastest run.

Other programs, and on a virtual machine the host, can only ever slow a run down, never speed
it up, so the fastest of a few runs is the closest to what the work itself costs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Timed(NamedTuple, Generic[T]):
    seconds: float
    result: T


def fastest_of(runs: int, work: Callable[[], T]) -> Timed[T]:
    """Run `work()` `runs` times; return the fastest run's time and that run's result."""
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    best: Timed[T] | None = None
    for _ in range(runs):
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
        if best is None or elapsed < best.seconds:
            best = Timed(elapsed, result)
    return best


def fastest_of_each(runs: int, baseline: Callable[[], T], contender: Callable[[], T]) -> tuple[Timed[T], Timed[T]]:
    """Time two ways of doing the same work, taking turns, and keep the fastest run of each.

    Running all of one then all of the other lets a slow spell of the machine (another program,
    the host of a virtual machine) fall on one side only and decide the comparison. Taking turns
    spreads such a spell over both, so their ratio is about the work, not about the moment.
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    best_baseline = best_contender = None
    for _ in range(runs):
        this_baseline = fastest_of(1, baseline)
        this_contender = fastest_of(1, contender)
        if best_baseline is None or this_baseline.seconds < best_baseline.seconds:
            best_baseline = this_baseline
        if best_contender is None or this_contender.seconds < best_contender.seconds:
            best_contender = this_contender
    return best_baseline, best_contender
