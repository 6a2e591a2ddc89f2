"""The gate: at most `max_in_flight` upstream calls at once, and at most `max_queue` requests waiting.

Past the gate's cap a request waits; past the queue's it is shed at once (Shed → 503 with
Retry-After) instead of waiting ever longer: a fast "no" beats a slow timeout, for the user and
for the service, whose memory and latency stay bounded. `max_queue=None`: wait however long.
The async gate serves async handlers (one event loop); the threaded gate, sync handlers. Both
keep the same books (`Admission`); they differ only in what a waiting request blocks on.
"""

from __future__ import annotations

import asyncio
import threading

from helpers.service.metrics import IN_FLIGHT, QUEUED, SHED


class Shed(Exception):
    """The queue is full: answer 503 and say when to come back."""


class Admission:
    """The count of those waiting, the shedding rule, and the gauges /metrics shows."""

    def __init__(self, max_queue: int | None) -> None:
        self.max_queue = max_queue
        self.waiting = 0

    def join_queue(self) -> None:
        """Raise Shed if the queue is full; otherwise count one more waiting."""
        if self.max_queue is not None and self.waiting >= self.max_queue:
            SHED.inc()
            raise Shed
        self.waiting += 1
        QUEUED.inc()

    def leave_queue(self) -> None:
        self.waiting -= 1
        QUEUED.dec()


class Gate(Admission):
    """`await gate.enter()` before the upstream call, `gate.leave()` after (a stream: after its last token)."""

    def __init__(self, max_in_flight: int, max_queue: int | None) -> None:
        super().__init__(max_queue)
        self.slots = asyncio.Semaphore(max_in_flight)

    async def enter(self) -> None:
        if self.slots.locked():  # one event loop: nothing runs between this test and the count
            self.join_queue()
            try:
                await self.slots.acquire()
            finally:
                self.leave_queue()
        else:
            await self.slots.acquire()  # a free slot: returns without yielding
        IN_FLIGHT.inc()

    def leave(self) -> None:
        IN_FLIGHT.dec()
        self.slots.release()


class ThreadGate(Admission):
    """The same for threads: a semaphore, and a lock around the books, which threads share."""

    def __init__(self, max_in_flight: int, max_queue: int | None) -> None:
        super().__init__(max_queue)
        self.slots = threading.Semaphore(max_in_flight)
        self.lock = threading.Lock()

    def enter(self) -> None:
        if not self.slots.acquire(blocking=False):
            with self.lock:
                self.join_queue()
            try:
                self.slots.acquire()
            finally:
                with self.lock:
                    self.leave_queue()
        IN_FLIGHT.inc()

    def leave(self) -> None:
        IN_FLIGHT.dec()
        self.slots.release()
