"""Time a piece of work the way `timeit` does: run it a few times and keep the fastest run.

Other programs, and on a virtual machine the host, can only ever slow a run down, never speed
it up, so the fastest of a few runs is the closest to what the work itself costs.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

if TYPE_CHECKING:  # for the type hints only
    from helpers.measuring.spans import Span
    from helpers.workloads.cpu_work import TimedRun

T = TypeVar("T")


class Timed(NamedTuple, Generic[T]):
    seconds: float
    result: T


def check_runs(runs: int) -> None:
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")


def faster(best: Timed[T] | None, this: Timed[T]) -> Timed[T]:
    """The faster of the best run so far (None before the first) and this one."""
    return this if best is None or this.seconds < best.seconds else best


def timed(work: Callable[[], T]) -> Timed[T]:
    """Run `work()` once and time it."""
    started = time.perf_counter()
    result = work()
    return Timed(time.perf_counter() - started, result)


def wall_time(pieces: Iterable[TimedRun | Span]) -> float:
    """From the first piece's start to the last one's end: the wall time a timeline of them shows.

    Pieces are `TimedRun`s or a recorder's spans. Unlike a stopwatch around `pool.map` or
    `gather`, it leaves out handing the work out and the results back (a millisecond or so),
    so a printed time and the picture of the same pieces agree to the last digit.
    """
    pieces = list(pieces)
    return max(piece.end for piece in pieces) - min(piece.start for piece in pieces)


def fastest_of(runs: int, work: Callable[[], T]) -> Timed[T]:
    """Run `work()` `runs` times; return the fastest run's time and that run's result."""
    check_runs(runs)
    best = None
    for _ in range(runs):
        best = faster(best, timed(work))
    return best


def fastest_of_each(runs: int, baseline: Callable[[], T], contender: Callable[[], T]) -> tuple[Timed[T], Timed[T]]:
    """Time two ways of doing the same work, taking turns, and keep the fastest run of each.

    Running all of one then all of the other lets a slow spell of the machine (another program,
    the host of a virtual machine) fall on one side only and decide the comparison. Taking turns
    spreads such a spell over both, so their ratio is about the work, not about the moment.
    """
    check_runs(runs)
    best_baseline = best_contender = None
    for _ in range(runs):
        best_baseline = faster(best_baseline, timed(baseline))
        best_contender = faster(best_contender, timed(contender))
    return best_baseline, best_contender


async def awaited(work: Callable[[], Awaitable[T]]) -> Timed[T]:
    """Await `work()` once on the running event loop and time it."""
    started = time.perf_counter()
    result = await work()
    return Timed(time.perf_counter() - started, result)


async def fastest_of_each_awaited(runs: int, baseline: Callable[[], Awaitable[T]],
                                  contender: Callable[[], Awaitable[T]]) -> tuple[Timed[T], Timed[T]]:
    """`fastest_of_each` for async work: `await fastest_of_each_awaited(2, one_way, other_way)`.

    Each way is a function returning a fresh coroutine (a coroutine can be awaited only once).
    """
    check_runs(runs)
    best_baseline = best_contender = None
    for _ in range(runs):
        best_baseline = faster(best_baseline, await awaited(baseline))
        best_contender = faster(best_contender, await awaited(contender))
    return best_baseline, best_contender
