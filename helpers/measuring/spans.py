"""Record who did what, when: spans of time with a label, a lane and a kind.

One clock for everything: `time.time()`, the wall clock, which every process on the machine
shares, so spans recorded in the kernel, in pool workers and in the server's journal line up
on one timeline. The lane is the asyncio task's or the thread's name (prefixed with the process
name in a child process) unless you give one.

    recorder = Recorder()
    with recorder.span("parse", kind="cpu"):          # a block
        ...
    async with recorder.span("call"):                 # a block inside a coroutine
        ...
    @recorder.span("download")                        # every call of a function
    def download(url): ...
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

# What a span's time was spent on. "io" is a client waiting for an answer; "generating" is the
# server's side of the same call; "start-up" is a pool starting its workers before any task runs.
KINDS = ("io", "cpu", "queued", "generating", "start-up", "rate-limited")
F = TypeVar("F", bound=Callable[..., Any])


class Span(NamedTuple):
    label: str
    lane: str
    start: float  # Unix time in seconds
    end: float
    kind: str = "io"  # one of KINDS: how the timeline colours it
    meta: Mapping[str, Any] | None = None  # anything worth keeping: status code, tokens, item number


def current_lane() -> str:
    """The asyncio task's name inside a coroutine, else the thread's name; in a child process
    the process's name comes first, so two pool workers never share a lane."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop running in this thread
        task = None
    lane = task.get_name() if task is not None else threading.current_thread().name
    if multiprocessing.parent_process() is None:
        return lane
    process = multiprocessing.current_process().name
    return process if lane == "MainThread" else f"{process} {lane}"


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return kind


class SpanTimer:
    """One `recorder.span(...)`: a context manager, an async context manager and a decorator.

    As a decorator it times every call separately, in the lane of whoever calls.
    """

    def __init__(self, recorder: Recorder, label: str, kind: str, lane: str | None,
                 meta: Mapping[str, Any] | None) -> None:
        self.recorder, self.label, self.kind, self.lane, self.meta = recorder, label, check_kind(kind), lane, meta
        self._started: list[tuple[str, float]] = []  # a stack, so one timer may be entered again inside itself

    def __enter__(self) -> SpanTimer:
        self._started.append(self.recorder.begin(self.label, self.kind, self.lane or current_lane()))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.recorder.finish(self._started.pop(), self.meta)

    async def __aenter__(self) -> SpanTimer:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)

    def __call__(self, function: F) -> F:
        if asyncio.iscoroutinefunction(function):
            @functools.wraps(function)
            async def timed_coroutine(*args: Any, **kwargs: Any) -> Any:
                async with self.recorder.span(self.label, self.kind, self.lane, self.meta):
                    return await function(*args, **kwargs)
            return timed_coroutine  # type: ignore[return-value]

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.recorder.span(self.label, self.kind, self.lane, self.meta):
                return function(*args, **kwargs)
        return timed  # type: ignore[return-value]


class Recorder:
    """Collects spans from any thread or task; `list(recorder)` gives them in start order."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._running: dict[int, Span] = {}  # begun, not finished yet: a live view draws them up to "now"
        self._next_token = itertools.count()
        self._lock = threading.Lock()  # list.append is atomic today, but say what we rely on
        self.origin = time.time()

    def span(self, label: str, kind: str = "io", lane: str | None = None,
             meta: Mapping[str, Any] | None = None) -> SpanTimer:
        """Time a `with` block, an `async with` block, or (as a decorator) every call of a function."""
        return SpanTimer(self, label, kind, lane, meta)

    def begin(self, label: str, kind: str = "io", lane: str | None = None) -> int:
        """Start a span by hand; `finish(token)` ends it. (`span(...)` does both for a block.)"""
        token = next(self._next_token)
        with self._lock:
            self._running[token] = Span(label, lane or current_lane(), time.time(), math.inf, check_kind(kind))
        return token

    def finish(self, token: int, meta: Mapping[str, Any] | None = None) -> None:
        with self._lock:
            begun = self._running.pop(token)
            self._spans.append(begun._replace(end=time.time(), meta=meta))

    def add(self, span: Span) -> None:
        with self._lock:
            self._spans.append(span)

    def running(self) -> list[Span]:
        """The spans begun and not finished yet, ending `math.inf`."""
        with self._lock:
            return list(self._running.values())

    def clear(self) -> None:
        """Forget every span, e.g. before the next run of an experiment."""
        with self._lock:
            self._spans.clear()
            self._running.clear()
        self.origin = time.time()

    def __iter__(self) -> Iterator[Span]:
        with self._lock:
            return iter(sorted(self._spans, key=lambda s: s.start))

    def __len__(self) -> int:
        return len(self._spans)


def max_overlap(intervals: Iterable[tuple[float, float]]) -> int:
    """The largest number of intervals open at the same instant (a sweep over starts and ends).

    Spans on a timeline, requests in the server's journal: the peak of what ran at once.
    """
    intervals = list(intervals)
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = peak = 0
    for _, change in events:  # at a tie, -1 sorts first: one call ending as the next starts is not overlap
        open_now += change
        peak = max(peak, open_now)
    return peak


def lane_order(spans: Iterable[Span]) -> list[str]:
    """The lanes top to bottom, as a timeline draws them: in the order their first span started."""
    return list(dict.fromkeys(s.lane for s in sorted(spans, key=lambda s: s.start)))


def spans_from_journal(entries: list[dict]) -> list[Span]:
    """The server's view of each request: queued until a slot was free, then generating.

    One lane per request, named as a learner counts them: "call 1" arrived first.
    """
    spans = []
    answered = [entry for entry in entries if entry.get("start") is not None and entry.get("end") is not None]
    for number, entry in enumerate(sorted(answered, key=lambda entry: entry["arrival"]), start=1):
        lane = f"call {number}"
        if entry["queue_wait"] > 0.001:
            spans.append(Span("queued", lane, entry["arrival"], entry["start"], "queued"))
        spans.append(Span(f"{entry['tokens_out']} tokens", lane, entry["start"], entry["end"], "generating"))
    return spans
