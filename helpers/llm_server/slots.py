"""The server's generation slots: at most `limit` requests generate at once, the others queue, one queue per API key.

Why a queue per key: a workshop room shares one server. With a single queue in arrival order, one
learner's 500-call fan-out (lesson 03) puts every other learner's call behind 500 others, and a
room of 60 freezes until it drains. So each key queues on its own, and a free slot goes to the
keys in turn (round-robin): the key whose turn it is gets the slot for its oldest request, then
goes to the back of the turn if it still has some waiting. A learner's single call waits for at
most one slot per other waiting key, however many calls those keys have queued. Within a key the
order is arrival order, so a private server (one key) behaves exactly like one queue.

Unlike `asyncio.Semaphore`, the limit can change while requests hold slots and wait for them,
which is what `handle.configure(capacity=...)` does in the middle of a lesson. Replacing the
semaphore instead would strand the requests queued on the old one (nothing ever wakes them) and
let the holders of old slots release new ones, so more would generate than the capacity allows.

    grow:   the extra slots go at once to the waiters, the keys in turn;
    shrink: nobody is interrupted; the holders drain, and no one starts until fewer than the new limit hold.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque

Waiter = asyncio.Future[None]


class Slots:
    """`limit` slots; `busy` of them held; waiters queued per key, each woken with a slot already taken for it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0
        # Each key that has requests waiting, with its queue; the dict's order is the turn, first is next.
        self._waiters: OrderedDict[str, deque[Waiter]] = OrderedDict()

    async def acquire(self, key: str = "") -> None:
        """Take a slot for a request of `key` (the server passes the API key), waiting behind that key's
        earlier requests, and for its turn, if none is free."""
        if self.busy < self.limit and not self._waiters:
            self.busy += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, deque()).append(waiter)  # a key new to the queue joins the back of the turn
        try:
            await waiter
        except asyncio.CancelledError:  # the client left while queued (its timeout)
            if not waiter.cancelled():  # ... just after a slot was handed to it: pass the slot on
                self.release()
            raise  # a cancelled waiter stays in its queue; `_next_in_turn` skips it

    def release(self) -> None:
        self.busy -= 1
        self._hand_out()

    def resize(self, limit: int) -> None:
        """Change the limit now; requests already holding a slot keep it until they finish."""
        self.limit = limit
        self._hand_out()

    def _hand_out(self) -> None:
        """Give free slots to the keys in turn; afterwards, if anyone waits, every slot is held."""
        while self.busy < self.limit and (waiter := self._next_in_turn()) is not None:
            self.busy += 1
            waiter.set_result(None)

    def _next_in_turn(self) -> Waiter | None:
        """The oldest waiter of the key whose turn it is, that key moving to the back; None if nobody waits."""
        while self._waiters:
            key, queue = next(iter(self._waiters.items()))
            waiter = queue.popleft()
            if not queue:
                del self._waiters[key]
            if waiter.done():  # it left while queued: its key keeps the turn
                continue
            if queue:
                self._waiters.move_to_end(key)
            return waiter
        return None
