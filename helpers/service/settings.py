"""What a service is told at start: how many upstream calls at once, how long a queue, which handlers.

One frozen dataclass, checked once (`check`), so a wrong value fails at start with the setting's
name and its allowed range, not later as a strange timing. With `workers` > 1 each worker process
gets its share of the gate and of the queue (`per_worker`): the whole service keeps the same caps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal


@dataclass(frozen=True)
class ServiceSettings:
    upstream_base_url: str
    upstream_api_key: str = "sk-sim-learner"
    model: str = "sim-flash"  # the upstream model for a request that names none
    max_in_flight: int = 32  # upstream calls in flight, whole service
    max_queue: int | None = 128  # requests waiting for the gate; more are shed (503); None: unbounded
    retry_after_seconds: int = 1
    cache_size: int = 0  # answers kept (LRU); 0: no cache
    handlers: Literal["async", "sync"] = "async"
    threads: int = 40  # the sync handlers' thread pool
    workers: int = 1  # uvicorn worker processes
    analysis_ms: float = 0  # pure-Python CPU work per answer, holding the GIL
    upstream_timeout: float = 60
    upstream_max_retries: int = 2
    graceful_seconds: float = 30

    def check(self) -> None:
        """Raise ValueError naming the first setting out of its range."""
        ranges = {"max_in_flight": (1, 100_000), "retry_after_seconds": (0, 3600), "cache_size": (0, 10_000_000),
                  "threads": (1, 10_000), "workers": (1, 64), "analysis_ms": (0, 60_000),
                  "upstream_timeout": (0.001, 3600), "upstream_max_retries": (0, 100), "graceful_seconds": (0, 3600)}
        if self.max_queue is not None:
            ranges["max_queue"] = (0, 10_000_000)
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
                raise ValueError(f"{name} must be a number from {low} to {high}, got {value!r}")
        if self.handlers not in ("async", "sync"):
            raise ValueError(f"handlers must be 'async' or 'sync', got {self.handlers!r}")
        if not self.upstream_base_url.startswith(("http://", "https://")):
            raise ValueError(f"upstream_base_url must start with http:// or https://, got {self.upstream_base_url!r}")
        if self.max_in_flight < self.workers:
            raise ValueError(f"max_in_flight must be at least workers ({self.workers}), got {self.max_in_flight}")

    def per_worker(self) -> ServiceSettings:
        """One worker's share: the gate and the queue split evenly (rounded up, so nothing is lost)."""
        share = lambda total: math.ceil(total / self.workers)  # noqa: E731
        return replace(self, max_in_flight=share(self.max_in_flight),
                       max_queue=None if self.max_queue is None else share(self.max_queue))
