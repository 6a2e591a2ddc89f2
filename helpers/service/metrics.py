"""The service's Prometheus metrics; the names are fixed: helpers/drawing/service_board.py reads them.

Gauges are `livesum`: with several worker processes (prometheus_client's multiprocess mode,
PROMETHEUS_MULTIPROC_DIR set before this module is imported) /metrics adds up the live workers'.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as SINGLE_PROCESS
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)

REQUESTS = Counter("llm_service_requests", "Requests answered, by HTTP status (shed ones included)", ["status"])
DURATION = Histogram("llm_service_request_duration_seconds", "Served (200) requests, end to end", buckets=BUCKETS)
FIRST_TOKEN = Histogram("llm_service_time_to_first_token_seconds", "Streamed requests: arrival to first token",
                        buckets=BUCKETS)
IN_FLIGHT = Gauge("llm_service_in_flight", "Upstream calls in flight now", multiprocess_mode="livesum")
QUEUED = Gauge("llm_service_queued", "Requests waiting for the gate now", multiprocess_mode="livesum")
SHED = Counter("llm_service_shed", "Requests refused with 503 because the queue was full")
RATE_LIMITED = Counter("llm_service_upstream_rate_limited", "Upstream 429s, after the client's retries")
UPSTREAM_ERRORS = Counter("llm_service_upstream_errors", "Upstream failures and timeouts, after retries")
CACHE_HITS = Counter("llm_service_cache_hits", "Answers served from the cache, or joined to a call in flight")
CACHE_MISSES = Counter("llm_service_cache_misses", "Cacheable requests that called upstream")


def exposition() -> bytes:
    """The text of /metrics: this process's metrics, or every worker's summed in multiprocess mode."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest(SINGLE_PROCESS)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
