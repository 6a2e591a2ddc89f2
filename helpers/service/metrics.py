"""The service's Prometheus metrics; the names are fixed: helpers/drawing/service_board.py reads them.

Gauges are `livesum`: with several worker processes (prometheus_client's multiprocess mode,
PROMETHEUS_MULTIPROC_DIR set before this module is imported) /metrics adds up the live workers'.
"""

from __future__ import annotations

import os

from prometheus_client import REGISTRY as SINGLE_PROCESS
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

# Fine where lesson 08's latencies lie (a call of 0.3 to 1 s, waits of a few calls): a quantile is
# interpolated inside one bucket, and a bucket from 1 s to 2.5 s would flatten every p95 between.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 60, 120)

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
