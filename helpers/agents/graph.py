"""A workflow as a graph of steps: each step starts the moment the steps it needs have ended.

Written as plain code, a workflow runs its steps in the order they were typed, and the wall time
is the sum of them all. Most steps do not need all the others: say only what each step needs,
and every step can run as soon as its own inputs are ready. No schedule can then beat the
*critical path*, the chain of needs whose durations add up to the most: that is the bound the
lesson measures against. `at_once` gates how many steps may run together (a rate limit, a pool
of workers): a gate of 1 is the one-by-one workflow again.

Each step is a task in one `asyncio.TaskGroup`, so if one step fails the others are cancelled
instead of left running, and the error reaches the caller inside the group's ExceptionGroup
(catch it with `except* KeyError:`), with a note naming the step that raised it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, NamedTuple


class Step(NamedTuple):
    """One step: its name, the names of the steps it needs, and what it does with their results."""

    name: str
    needs: tuple[str, ...]
    run: Callable[[dict[str, Any]], Awaitable[Any]]  # gets {need: its result}


class GraphRun(NamedTuple):
    """Every step's result, and when it started and ended, in seconds since the run began."""

    results: dict[str, Any]
    started: dict[str, float]
    ended: dict[str, float]
    seconds: float  # the whole run's wall time


def in_order(needs: Mapping[str, Sequence[str]]) -> list[str]:
    """The steps, each after all it needs; ValueError on a need that is no step, or on a cycle."""
    for name, wanted in needs.items():
        if isinstance(wanted, str):  # ("search") is a string, not a tuple: each letter would be a need
            raise ValueError(f"step {name!r}: needs are a tuple of step names, got the string {wanted!r} "
                             f"(a tuple of one needs a comma: ({wanted!r},))")
        if unknown := [need for need in wanted if need not in needs]:
            raise ValueError(f"step {name!r} needs {unknown}, which no step is called")
    ordered: list[str] = []
    while len(ordered) < len(needs):
        ready = [name for name, wanted in needs.items() if name not in ordered and set(wanted) <= set(ordered)]
        if not ready:  # every step left waits for another step left: they wait for each other
            raise ValueError(f"the steps {[name for name in needs if name not in ordered]} need each other in a cycle")
        ordered += ready
    return ordered


async def run_graph(steps: Sequence[Step], *, at_once: int | None = None) -> GraphRun:
    """Run every step as soon as its needs have ended, at most `at_once` at a time (None: no gate)."""
    names = [step.name for step in steps]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise ValueError(f"two steps may not share a name: {duplicates}")
    in_order({step.name: step.needs for step in steps})  # refuses a graph that cannot run, before anything runs
    if at_once is not None and at_once < 1:
        raise ValueError(f"at_once must be at least 1 (or None for no gate), got {at_once}")
    gate = asyncio.Semaphore(at_once) if at_once else contextlib.nullcontext()
    finished = {name: asyncio.Event() for name in names}
    results: dict[str, Any] = {}
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    origin = time.perf_counter()

    async def run_step(step: Step) -> None:
        for need in step.needs:
            await finished[need].wait()
        async with gate:
            started[step.name] = time.perf_counter() - origin
            try:
                results[step.name] = await step.run({need: results[need] for need in step.needs})
            except Exception as error:
                error.add_note(f"raised by the workflow's step {step.name!r}")  # the traceback shows the function only
                raise
            ended[step.name] = time.perf_counter() - origin
        finished[step.name].set()

    async with asyncio.TaskGroup() as group:
        for step in steps:
            group.create_task(run_step(step), name=step.name)
    return GraphRun(results, started, ended, time.perf_counter() - origin)


class CriticalPath(NamedTuple):
    """The longest chain of needs: its total duration, the shortest wall time any schedule can reach."""

    seconds: float
    steps: list[str]  # first to last


def critical_path(durations: Mapping[str, float], needs: Mapping[str, Sequence[str]]) -> CriticalPath:
    """The chain of steps, each needing the one before, whose durations add up to the most.

    `needs` may leave out steps that need nothing. A step ends at the earliest at its own duration
    after the latest of its needs has ended; the path leads back from the step that ends last.
    """
    if not durations:
        raise ValueError("no steps: a critical path needs at least one duration")
    needs = {name: needs.get(name, ()) for name in durations}
    earliest_end: dict[str, float] = {}
    came_from: dict[str, str | None] = {}
    for name in in_order(needs):
        latest = max(needs[name], key=earliest_end.__getitem__, default=None)
        came_from[name] = latest
        earliest_end[name] = (earliest_end[latest] if latest is not None else 0.0) + durations[name]
    last: str | None = max(earliest_end, key=earliest_end.__getitem__)
    seconds = earliest_end[last]
    path: list[str] = []
    while last is not None:
        path.append(last)
        last = came_from[last]
    return CriticalPath(seconds, path[::-1])
