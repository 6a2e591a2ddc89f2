"""Requests-per-minute limits as token buckets, one per API key.

A bucket holds up to `rpm` requests and refills at rpm/60 per (simulated) second. A request
that finds it empty is answered 429 with the time until a request is available again, which
is what OpenAI's `retry-after` header says.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    capacity: float
    refill_per_second: float
    level: float = -1.0
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.level < 0:
            self.level = self.capacity

    def take(self) -> float:
        """Take one request; return 0 if granted, else the seconds to wait before one is."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.level >= 1:
            self.level -= 1
            return 0.0
        return (1 - self.level) / self.refill_per_second

    @property
    def remaining(self) -> int:
        return int(self.level)


class RateLimiter:
    """One bucket per API key; `rpm=None` means no limit. Time runs `1/time_scale` times faster."""

    def __init__(self, rpm: int | None, time_scale: float) -> None:
        self.rpm = rpm
        self.time_scale = time_scale
        self.buckets: dict[str, Bucket] = {}

    def take(self, key: str) -> tuple[float, Bucket | None]:
        if not self.rpm:
            return 0.0, None
        scale = self.time_scale or 1e-6
        bucket = self.buckets.setdefault(key, Bucket(self.rpm, self.rpm / 60 / scale))
        return bucket.take(), bucket
