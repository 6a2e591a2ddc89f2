"""Pacing: send no faster than the requests-per-minute and tokens-per-minute budgets allow.

Each budget is a token bucket: it refills at budget/60 per second and a request takes what it
costs (1 request; its estimated tokens, estimate.py) before it is sent. A request waits until
*both* buckets can pay. Waiters queue behind one lock, so they go in arrival order and a large
request is not overtaken forever by small ones.

Our buckets hold only one second of budget (BURST_SECONDS), while the server's holds a whole
minute. A bucket as big as the server's would start a run with a minute's burst and then empty
the server's bucket to its last unit, where the smallest difference between our clock and the
server's costs a 429. With a smaller bucket the server's stays almost full and the long-run rate
is the same.

Correction from the headers: every response says how far the server's bucket was from full
when that request arrived: `x-ratelimit-reset-*` is the time the server needs to refill it, so
at our rate it was reset × rate units short. Running alone, that shortfall equals ours (both
buckets refill at the same rate and pay the same requests). When the server's is larger, someone
else is spending the same budget (another program on the key), or our token estimate was low, or
the budget we were given is more than the server's: our bucket is emptied to the same shortfall,
allowing for what we sent and regained since. The rule never fills our bucket, so it can only
slow us down. (`x-ratelimit-limit-*` minus `x-ratelimit-remaining-*` is not the shortfall: the
limit is per minute, and a provider's bucket may hold much less than a minute of it.)
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple

BURST_SECONDS = 1.0
Clock = Callable[[], float]
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")  # Go's durations, as OpenAI writes them: "1m2.5s", "120ms"
SECONDS_PER = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


class Stamp(NamedTuple):
    """A bucket's state just after it paid for a request: when, and how much it had handed out in all."""

    moment: float
    granted: float


class TokenBucket:
    """`per_minute` units a minute, refilled continuously; holds at most BURST_SECONDS of them."""

    def __init__(self, per_minute: float, *, burst_seconds: float = BURST_SECONDS, clock: Clock = time.monotonic) -> None:
        self.rate = per_minute / 60  # units per second
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.clock = clock
        self.level = self.capacity
        self.updated = clock()
        self.granted = 0.0  # every unit ever taken: lets the server's count be compared with ours

    def refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def seconds_until(self, units: float) -> float:
        """How long until `units` can be taken (a request larger than the bucket waits for a full one)."""
        self.refill()
        return max(0.0, (min(units, self.capacity) - self.level) / self.rate)

    def take(self, units: float) -> Stamp:
        self.level -= units  # may go below zero for a request larger than the bucket: the next ones wait
        self.granted += units
        return Stamp(self.updated, self.granted)

    def correct(self, shortfall: float, since: Stamp | None = None) -> None:
        """The server's bucket was `shortfall` units short of full just after it admitted the request stamped `since`."""
        self.refill()
        target = self.capacity - shortfall  # our level, were we exactly as short of full as the server
        if since is not None:  # ... plus what both regained since, minus what we have sent since
            target += (self.updated - since.moment) * self.rate - (self.granted - since.granted)
        self.level = min(self.level, target)


class Grant(NamedTuple):
    """What a request's pass through the pacer looked like, for correcting it from that request's headers."""

    requests: Stamp | None
    tokens: Stamp | None


class Pacer:
    """Requests per minute and tokens per minute (None: no limit). `await pacer.wait_for(tokens)` before each send.

    Each bucket holds `burst_seconds` of its budget (see BURST_SECONDS above).
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None, *, burst_seconds: float = BURST_SECONDS,
                 clock: Clock = time.monotonic) -> None:
        self.buckets = {kind: TokenBucket(limit, burst_seconds=burst_seconds, clock=clock) if limit else None
                        for kind, limit in (("requests", rpm), ("tokens", tpm))}
        self.turn = asyncio.Lock()  # one waiter at a time, in arrival order

    async def wait_for(self, tokens: int) -> Grant:
        """Wait until both budgets can pay for a request of `tokens` tokens, then pay."""
        cost = {"requests": 1, "tokens": tokens}
        async with self.turn:
            while wait := max((b.seconds_until(cost[kind]) for kind, b in self.buckets.items() if b), default=0.0):
                await asyncio.sleep(wait)
            stamps = {kind: b.take(cost[kind]) if b else None for kind, b in self.buckets.items()}
        return Grant(**stamps)

    def correct(self, headers: Mapping[str, str], grant: Grant | None = None) -> None:
        """Follow the server's x-ratelimit-* headers, from the response to the request `grant` paid for."""
        for kind, bucket in self.buckets.items():
            if bucket is None:
                continue
            reset = duration_seconds(headers.get(f"x-ratelimit-reset-{kind}", ""))
            if reset is not None:
                bucket.correct(reset * bucket.rate, getattr(grant, kind) if grant else None)


def duration_seconds(text: str) -> float | None:
    """Seconds in a duration such as "6m0s", "9.816s" or "120ms" (None if it is not one)."""
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        return None
    return sum(float(number) * SECONDS_PER[unit] for number, unit in parts)


def ideal_requests_per_second(rpm: float | None, tpm: float | None, tokens_per_request: float) -> float:
    """The most a run can do, per second: min(rpm, tpm / tokens per request) / 60 (inf with no limit)."""
    per_minute = min(rpm or float("inf"), (tpm or float("inf")) / tokens_per_request)
    return per_minute / 60
