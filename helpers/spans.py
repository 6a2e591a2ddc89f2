"""Record who did what, when: spans of time with a label, a lane and a kind.

One clock for everything: `time.time()`, the wall clock, which every process on the machine
shares, so spans recorded in the kernel and the server's journal line up on one timeline.
The lane is the thread's or the asyncio task's name unless you give one.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import contextmanager
from typing import Iterator, NamedTuple

KINDS = ("io", "cpu", "queued", "rate-limited")


class Span(NamedTuple):
    label: str
    lane: str
    start: float  # Unix time in seconds
    end: float
    kind: str = "io"  # one of KINDS: how the timeline colours it


def current_lane() -> str:
    """The asyncio task's name inside a coroutine, else the thread's name."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no event loop running in this thread
        task = None
    return task.get_name() if task is not None else threading.current_thread().name


class Recorder:
    """Collects spans from any thread or task; `list(recorder)` gives them in start order."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._lock = threading.Lock()  # list.append is atomic today, but say what we rely on
        self.origin = time.time()

    @contextmanager
    def span(self, label: str, kind: str = "io", lane: str | None = None) -> Iterator[None]:
        """Time the body of a `with` block (sync or inside a coroutine) as one span."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        lane = lane or current_lane()
        start = time.time()
        try:
            yield
        finally:
            self.add(Span(label, lane, start, time.time(), kind))

    def add(self, span: Span) -> None:
        with self._lock:
            self._spans.append(span)

    def __iter__(self) -> Iterator[Span]:
        with self._lock:
            return iter(sorted(self._spans, key=lambda s: s.start))

    def __len__(self) -> int:
        return len(self._spans)


def spans_from_journal(entries: list[dict]) -> list[Span]:
    """The server's view of each request: queued until a slot was free, then generating."""
    spans = []
    for entry in entries:
        if entry.get("start") is None or entry.get("end") is None:
            continue
        lane = entry["id"][-6:]
        if entry["queue_wait"] > 0.001:
            spans.append(Span("queued", lane, entry["arrival"], entry["start"], "queued"))
        spans.append(Span(f"{entry['tokens_out']} tokens", lane, entry["start"], entry["end"], "io"))
    return spans
