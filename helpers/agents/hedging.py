"""Hedged requests: when a call is slower than usual, send a second one and take whichever answers first.

An LLM's latency has a long tail: most calls answer in about the same time, a few take many times
longer. An agent that makes ten calls in a row meets the tail often. Hedging trims it: wait for
the first call as long as a call usually takes (`after`, say its 95th percentile), then send a
copy; the first answer wins. It costs a second request only for the few slow calls.

The loser must be cancelled *and awaited*: a cancelled task only stops at its next `await`, and
one left running keeps its connection open, and the server goes on generating an answer nobody
reads. Whatever happens here (a win, both failing, or the caller itself cancelled), nothing
started here is still running on return.

Hedging is against slowness, not failures: a call that fails before `after` is not hedged, its
error is raised (retrying is another pattern, lesson 06). Once both are out, one failing leaves the
other to answer; when both fail, the first call's error is raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


class Hedged(NamedTuple):
    """The answer, whether a hedge was sent, and which call gave it."""

    value: Any
    hedged: bool
    winner: int  # 0: the first request won, 1: the hedge


async def hedged(call: Callable[[], Awaitable[T]], after: float) -> Hedged:
    """`call()`, and a second `call()` if the first has not ended after `after` seconds; the first success wins.

    `after=0` sends the copy as soon as the first call waits: every call that waits is doubled.
    """
    if not after >= 0:  # a negative wait (or NaN) would act as 0: most likely a mistake, so say it
        raise ValueError(f"after is the seconds to wait before hedging: 0 or more, got {after}")
    calls = [asyncio.create_task(call(), name="request")]
    try:
        done, _ = await asyncio.wait(calls, timeout=after)
        if not done:
            calls.append(asyncio.create_task(call(), name="hedge"))
        running = set(calls)
        while running:
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for index, task in enumerate(calls):
                if task in done and task.exception() is None:
                    return Hedged(task.result(), hedged=len(calls) > 1, winner=index)
        raise calls[0].exception()  # both failed (or the only one did)
    finally:
        for task in calls:
            task.cancel()  # does nothing to a task that has ended
        await asyncio.gather(*calls, return_exceptions=True)  # wait until each has really stopped
