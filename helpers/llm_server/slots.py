"""The server's generation slots: at most `limit` requests generate at once, the others queue in arrival order.

Unlike `asyncio.Semaphore`, the limit can change while requests hold slots and wait for them,
which is what `handle.configure(capacity=...)` does in the middle of a lesson. Replacing the
semaphore instead would strand the requests queued on the old one (nothing ever wakes them) and
let the holders of old slots release new ones, so more would generate than the capacity allows.

    grow:   the extra slots go at once to the requests waiting longest;
    shrink: nobody is interrupted; the holders drain, and no one starts until fewer than the new limit hold.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Slots:
    """`limit` slots; `busy` of them held; waiters in arrival order, each woken with a slot already taken for it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> None:
        """Take a slot, waiting behind every earlier request if none is free."""
        if self.busy < self.limit and not self._waiters:
            self.busy += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:  # the client left while queued (its timeout)
            if not waiter.cancelled():  # ... just after a slot was handed to it: pass the slot on
                self.release()
            raise  # a cancelled waiter stays in the queue; `_hand_out` skips it

    def release(self) -> None:
        self.busy -= 1
        self._hand_out()

    def resize(self, limit: int) -> None:
        """Change the limit now; requests already holding a slot keep it until they finish."""
        self.limit = limit
        self._hand_out()

    def _hand_out(self) -> None:
        """Give free slots to the longest waiting; afterwards, if anyone waits, every slot is held."""
        while self._waiters and self.busy < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.busy += 1
                waiter.set_result(None)
