"""A real Prometheus scrapes the service's /metrics and answers the queries a dashboard would ask.

The service's metrics are Prometheus text; this is the proof that a real Prometheus reads them:
it scrapes every second, and its query API (histogram_quantile over the latency buckets, the
requests by status) gives back what the load did. Debian's `prometheus` package is enough;
without it the module is skipped with one line saying how to get it.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.service import start_service
from tests.service_support import body, post_many, upstream_fixture

PROMETHEUS = shutil.which("prometheus")
if PROMETHEUS is None:
    pytest.skip("Prometheus not found: apt-get install prometheus (Debian/Ubuntu), or put its binary on PATH",
                allow_module_level=True)

pytestmark = pytest.mark.slow
server = upstream_fixture()
REQUESTS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def query(prometheus_url: str, expression: str) -> list[dict]:
    """The result vector of an instant query through Prometheus' HTTP API."""
    url = f"{prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def value_when(prometheus_url: str, expression: str, wanted, seconds: float = 20) -> float:
    """The query's single value, polled until `wanted(value)` holds (a scrape comes every second)."""
    deadline = time.monotonic() + seconds
    seen = None
    while time.monotonic() < deadline:
        try:
            result = query(prometheus_url, expression)
        except OSError:  # Prometheus still starting: not listening yet
            result = []
        if result:
            seen = float(result[0]["value"][1])
            if wanted(seen):
                return seen
        time.sleep(0.5)
    raise AssertionError(f"{expression} never gave a wanted value within {seconds:g} s; last seen {seen}")


@pytest.fixture
def prometheus(server, tmp_path: Path) -> Iterator[tuple[str, object]]:
    """A service, and a Prometheus scraping its /metrics every second: (Prometheus' URL, the service)."""
    with start_service(server, max_in_flight=8, max_queue=None) as service:
        target = service.url.removeprefix("http://")
        config = tmp_path / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          f"scrape_configs:\n  - job_name: llm-service\n    static_configs:\n"
                          f"      - targets: ['{target}']\n")
        address = f"127.0.0.1:{free_port()}"
        process = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                    f"--web.listen-address={address}"],
                                   stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("w"))
        try:
            url = f"http://{address}"
            value_when(url, 'up{job="llm-service"}', lambda up: up == 1)  # ready, and the target scraped
            yield url, service
        finally:
            process.terminate()
            process.wait(timeout=20)


def test_prometheus_scrapes_the_service_and_answers_a_dashboards_queries(prometheus) -> None:
    url, service = prometheus
    responses = asyncio.run(post_many(service.base_url, [body()] * REQUESTS))
    assert [r.status_code for r in responses] == [200] * REQUESTS
    served = value_when(url, 'sum(llm_service_requests_total{status="200"})', lambda n: n >= REQUESTS)
    assert served == REQUESTS
    p95 = value_when(url, "histogram_quantile(0.95, sum by (le) (rate(llm_service_request_duration_seconds_bucket[1m])))",
                     lambda seconds: seconds == seconds)  # not NaN: the rate saw the requests
    slowest = max(r.elapsed.total_seconds() for r in responses)
    assert 0 < p95 <= 2.5 * slowest  # within the bucket above the slowest request (buckets of 1, 2.5, …)
    assert value_when(url, "llm_service_in_flight", lambda n: n == 0) == 0
