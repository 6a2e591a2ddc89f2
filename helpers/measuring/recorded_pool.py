"""A process pool whose tasks land on a Recorder's timeline by themselves.

A span recorded inside a worker process is in that process's memory, not the notebook's. This
pool wraps every task it runs in `TimedCall`, which notes when the task started and ended in
the worker and sends the span back to the parent together with the result, through the pipe
the pool already uses for results. No queue to set up, nothing to change in the task.

`map` sends its calls in chunks, `chunksize` calls to a task, as `ProcessPoolExecutor.map`
does; each chunk is a `Chunk` of this module, so a chunk's span can say "chunk of score_answer".
Pool start-up is not a task: `add_start_up` draws it afterwards, from the pool's creation to
each worker's first task.

`TimedCall` and `Chunk` are classes defined in this module, so under `spawn` and `forkserver`
(which import the task by name in a fresh interpreter) the worker finds them the way it finds
any function from `helpers`.
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from typing import Any

from helpers.measuring.spans import Recorder, Span, check_kind, current_lane


class Chunk:
    """Several calls of one function in one task: `Chunk(f)(((1,), (2,)))` returns `[f(1), f(2)]`."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function

    def __call__(self, calls: tuple[tuple[Any, ...], ...]) -> list[Any]:
        return [self.function(*arguments) for arguments in calls]


def task_name(function: Callable[..., Any]) -> str:
    """`score_answer`, also around a functools.partial of it, and "chunk of score_answer" for a Chunk."""
    if isinstance(function, Chunk):
        return f"chunk of {task_name(function.function)}"
    inner = getattr(function, "func", function)
    return getattr(inner, "__name__", type(inner).__name__)


class TimedCall:
    """Runs `function(*args, **kwargs)` in the worker and returns (result, span)."""

    def __init__(self, function: Callable[..., Any], label: str, kind: str) -> None:
        self.function, self.label, self.kind = function, label, kind

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[Any, Span]:
        start = time.time()
        result = self.function(*args, **kwargs)
        return result, Span(self.label, current_lane(), start, time.time(), self.kind)


class RecordedProcessPool(ProcessPoolExecutor):
    """A ProcessPoolExecutor that adds one span per task to `recorder` when the task finishes."""

    def __init__(self, recorder: Recorder, max_workers: int | None = None, *, start_method: str | None = None,
                 kind: str = "cpu", **pool_options: Any) -> None:
        context = multiprocessing.get_context(start_method)  # explicit: the default differs by platform
        super().__init__(max_workers, mp_context=context, **pool_options)
        self.recorder, self.kind = recorder, check_kind(kind)
        self.created = time.time()  # the workers start from here, when the first task is submitted
        self.first_task: dict[str, float] = {}  # worker lane → when its first task started

    def map(self, function: Callable[..., Any], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int = 1) -> Iterator[Any]:
        """Like ProcessPoolExecutor.map: every task submitted now, `chunksize` calls to a task, results in order."""
        if chunksize < 1:
            raise ValueError(f"chunksize must be at least 1, got {chunksize}")
        calls = zip(*iterables)
        chunks = iter(lambda: tuple(itertools.islice(calls, chunksize)), ())
        futures = [self.submit(Chunk(function), chunk) for chunk in chunks]
        deadline = None if timeout is None else time.monotonic() + timeout

        def results() -> Iterator[Any]:
            for future in futures:
                yield from future.result(None if deadline is None else deadline - time.monotonic())

        return results()

    def add_start_up(self) -> None:
        """Add to the recorder, in each worker's lane, a start-up span from creating the pool to its first task."""
        for lane, start in self.first_task.items():
            self.recorder.add(Span("starting", lane, self.created, start, "start-up"))

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        inner = super().submit(TimedCall(function, task_name(function), self.kind), *args, **kwargs)
        outer: Future = Future()
        outer.set_running_or_notify_cancel()
        inner.add_done_callback(lambda done: self._unwrap(done, outer))
        return outer

    def _unwrap(self, done: Future, outer: Future) -> None:
        if done.cancelled() or done.exception() is not None:
            outer.set_exception(CancelledError() if done.cancelled() else done.exception())
            return
        result, span = done.result()
        self.first_task[span.lane] = min(span.start, self.first_task.get(span.lane, span.start))
        self.recorder.add(span)
        outer.set_result(result)
