"""Rate limits as token buckets: requests and tokens per minute, per API key and for the whole room.

A bucket refills at limit/60 per simulated second and holds `burst_seconds` of that allowance:
limit × burst_seconds / 60 units (requests, or tokens). With the default of 60 it holds a whole
minute, which may go in one burst before it trickles back; with 1 it holds a second's, as
providers enforce a per-minute limit over shorter spans. A request is admitted only if *every*
bucket that applies to it can pay; then each one pays. A refused request pays nothing, and is
told how long until it could be admitted, which is what `retry-after` says.

A request may cost more than a small bucket holds (a long prompt against a second of tokens)
yet no more than the limit. OpenAI accepts any request up to its per-minute limit, so such a
request is admitted once its bucket is full, and the bucket goes below zero: the requests after
it wait until the debt is repaid. Only a request costing more than the whole limit can never go
("Request too large").

The buckets that apply: the key's own `rpm` and `tpm` (each key acts as its own organisation,
as on OpenAI), and in room mode the `shared_rpm` and `shared_tpm` that every key draws from.

What a request costs in tokens is decided *before* it runs, as OpenAI must, from the request
alone: see `token_cost`.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

Clock = Callable[[], float]
ROOM = "org-sim-room"
# Without max_tokens the output length is unknown when the request arrives. OpenAI does not
# publish its guess; we assume a typical simulator answer (60 words, about 80 tokens).
UNSET_MAX_TOKENS_ESTIMATE = 80


def token_cost(prompt_tokens: int, max_tokens: int | None, n: int = 1) -> int:
    """Tokens a request reserves: its prompt plus the most it may write (n answers of max_tokens).

    The rule of OpenAI's cookbook (api_request_parallel_processor.py): prompt + n * max_tokens.
    A large max_tokens therefore uses up the tokens-per-minute limit even if the answer is short.
    """
    return prompt_tokens + n * (UNSET_MAX_TOKENS_ESTIMATE if max_tokens is None else max_tokens)


def organization_of(key: str) -> str:
    """A stable made-up organisation id per key, so a message never echoes the key itself."""
    return "org-sim-" + hashlib.sha256(key.encode()).hexdigest()[:8]


@dataclass
class Bucket:
    """`limit` requests or tokens per simulated minute; `seconds_per_minute` real seconds make one.
    It holds `burst_seconds` simulated seconds of allowance (60: a whole minute)."""

    kind: str  # "requests" or "tokens": OpenAI's error type and header suffix
    owner: str  # the organisation named in a 429 message
    limit: int
    seconds_per_minute: float = 60.0
    clock: Clock = time.monotonic
    burst_seconds: float = 60.0
    level: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.level = self.capacity
        self.updated = self.clock()

    @property
    def capacity(self) -> float:
        """The most units the bucket holds: `burst_seconds` of its allowance."""
        return self.limit * self.burst_seconds / 60

    @property
    def rate(self) -> float:
        """Units regained per real second."""
        return self.limit / self.seconds_per_minute

    def refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for(self, cost: int) -> float:
        """Real seconds until `cost` units are there, or the bucket is full for a cost larger than
        it holds (0: now). Call `refill` first."""
        return max(0.0, (min(cost, self.capacity) - self.level) / self.rate)

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.level))

    @property
    def used(self) -> int:
        return self.limit - self.remaining

    @property
    def reset(self) -> float:
        """Real seconds until the bucket is full again: OpenAI's x-ratelimit-reset-* header."""
        return (self.capacity - self.level) / self.rate


class Admission(NamedTuple):
    """Whether the rate limits let one request in now, and if not, which bucket refused and for how long."""

    wait: float  # 0: admitted; else real seconds until it could be; math.inf: never (too large)
    refused_by: Bucket | None  # the bucket that said no (the one with the longest wait)
    cost: int  # what the refusing bucket was asked for: 1 request, or the token cost
    shown: dict[str, Bucket]  # per kind, the bucket the x-ratelimit-* headers describe


class RateLimiter:
    """All the buckets of a server. A limit of None means no bucket, so no limit."""

    def __init__(self, *, rpm: int | None = None, tpm: int | None = None, shared_rpm: int | None = None,
                 shared_tpm: int | None = None, time_scale: float = 1.0, burst_seconds: float = 60.0,
                 clock: Clock = time.monotonic) -> None:
        self.per_key = {"requests": rpm, "tokens": tpm}
        self.seconds_per_minute = 60 * (time_scale or 1e-6)  # time_scale 0: refill (almost) at once
        self.burst_seconds = burst_seconds
        self.clock = clock
        self.shared = [self._bucket(kind, ROOM, limit) for kind, limit in
                       (("requests", shared_rpm), ("tokens", shared_tpm)) if limit]
        self.keys: dict[str, list[Bucket]] = {}

    def _bucket(self, kind: str, owner: str, limit: int) -> Bucket:
        return Bucket(kind, owner, limit, self.seconds_per_minute, self.clock, self.burst_seconds)

    def buckets_for(self, key: str) -> list[Bucket]:
        if key not in self.keys:
            owner = organization_of(key)
            self.keys[key] = [self._bucket(kind, owner, limit) for kind, limit in self.per_key.items() if limit]
        return self.keys[key] + self.shared

    def admit(self, key: str, tokens: int) -> Admission:
        """Take one request and `tokens` tokens from every bucket of `key`, or from none."""
        buckets = self.buckets_for(key)
        cost = {"requests": 1, "tokens": tokens}
        for bucket in buckets:
            bucket.refill()
        waits = [(math.inf if cost[b.kind] > b.limit else b.wait_for(cost[b.kind]), b) for b in buckets]
        wait, worst = max(waits, key=lambda pair: pair[0], default=(0.0, None))
        if wait > 0:
            return Admission(wait, worst, cost[worst.kind], self._shown(buckets))
        for bucket in buckets:
            bucket.level -= cost[bucket.kind]
        return Admission(0.0, None, 0, self._shown(buckets))

    @staticmethod
    def _shown(buckets: list[Bucket]) -> dict[str, Bucket]:
        """Per kind, the bucket with the fewest units left: the limit that will bite first."""
        shown: dict[str, Bucket] = {}
        for bucket in buckets:
            if bucket.kind not in shown or bucket.level < shown[bucket.kind].level:
                shown[bucket.kind] = bucket
        return shown
