"""A process pool whose tasks land on a Recorder's timeline by themselves.

A span recorded inside a worker process is in that process's memory, not the notebook's. This
pool wraps every task it runs in `TimedCall`, which notes when the task started and ended in
the worker and sends the span back to the parent together with the result, through the pipe
the pool already uses for results. No queue to set up, nothing to change in the task.

`TimedCall` is a class defined in this module, so under `spawn` and `forkserver` (which
import the task by name in a fresh interpreter) the worker finds it the way it finds any
function from `helpers`.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from typing import Any

from helpers.measuring.spans import Recorder, Span, check_kind, current_lane


def task_name(function: Callable[..., Any]) -> str:
    """`score_answer`, also when the pool's `map` hands us a functools.partial around it."""
    inner = getattr(function, "func", function)
    if getattr(inner, "__name__", "") == "_process_chunk":  # ProcessPoolExecutor.map sends calls in chunks
        return f"chunk of {task_name(function.args[0])}"
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
        self.recorder.add(span)
        outer.set_result(result)
