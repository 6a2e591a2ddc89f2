"""One rate for many agents: `async with limit:` before each call, the same object in every agent.

Ten agents each told "at most 5 calls a second" make 50 a second together: a limit per agent
does not add up to the key's limit. The rate limit belongs to the API key, so the object that
keeps to it must be shared by everyone who spends that key, as one semaphore is shared by every
call it gates (`helpers.workloads.serving.gated`). A semaphore bounds the calls *in flight*; this
bounds the calls *started per second*, which is what a requests-per-minute limit counts.

It is the batch runner's pacer (`helpers.batch.pacing`) with only a requests budget: a token
bucket refilled at `per_second`, holding `burst` calls, its waiters served in arrival order.
"""

from __future__ import annotations

from types import TracebackType

from helpers.batch.pacing import Pacer


class SharedLimit:
    """`burst` calls may start back to back, then `per_second` a second, among all who share this object.

    It counts calls started, not calls in flight: a slow call does not hold back the next one.
    """

    def __init__(self, per_second: float, burst: int = 1) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError(f"need a rate above 0 and a burst of at least 1, got per_second={per_second}, burst={burst}")
        self.pacer = Pacer(rpm=per_second * 60, burst_seconds=burst / per_second)  # a bucket of `burst` calls

    async def __aenter__(self) -> SharedLimit:
        await self.pacer.wait_for(tokens=0)  # no tokens budget: only the call itself counts
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        return None  # a started call has spent its place in the rate: nothing to give back
