"""prometheus_text reads a real prometheus_client /metrics page, and its quantile is Prometheus' own."""

import math

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from helpers.measuring.prometheus_text import Scrape, bucket_increase, histogram_quantile, scrape

INF = math.inf
# 0.05, 0.2, 0.3, 0.7 and 2.0 observed into buckets 0.1, 0.5, 1, +Inf: cumulative 1, 3, 4, 5
FIVE = [(0.1, 1.0), (0.5, 3.0), (1.0, 4.0), (INF, 5.0)]


@pytest.fixture
def metrics():
    registry = CollectorRegistry()
    requests = Counter("llm_service_requests", "requests by status", ["status"], registry=registry)
    in_flight = Gauge("llm_service_in_flight", "upstream calls in flight", registry=registry)
    duration = Histogram("llm_service_request_duration_seconds", "end to end", buckets=(0.1, 0.5, 1.0),
                         registry=registry)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    yield f"http://127.0.0.1:{server.server_port}/metrics", requests, in_flight, duration
    server.shutdown()
    thread.join()


def test_a_served_page_is_summed_by_labels_and_read_as_buckets(metrics):
    url, requests, in_flight, duration = metrics
    requests.labels(status="200").inc(7)
    requests.labels(status="503").inc(2)
    in_flight.set(3)
    for seconds in (0.05, 0.2, 0.3, 0.7, 2.0):
        duration.observe(seconds)
    page = scrape(url)
    assert page.value("llm_service_requests_total", status="200") == 7
    assert page.value("llm_service_requests_total") == 9  # every status
    assert page.value("llm_service_requests_total", status="429") == 0.0  # never seen: absent
    assert page.value("llm_service_shed_total") == 0.0
    assert page.value("llm_service_in_flight") == 3
    assert page.buckets("llm_service_request_duration_seconds") == FIVE
    assert page.buckets("no_such_histogram") == []
    assert histogram_quantile(0.5, page.buckets("llm_service_request_duration_seconds")) == pytest.approx(0.4)


@pytest.mark.parametrize(("q", "expected"), [
    (0.5, 0.4),  # rank 2.5 in (0.1, 0.5]: 1.5 of its 2 observations, 0.1 + 0.4 × 0.75
    (0.7, 0.75),  # rank 3.5 in (0.5, 1]: half of its one observation
    (0.8, 1.0),  # rank 4 exactly at a bucket's count: its upper bound
    (0.1, 0.05),  # rank 0.5 in the first bucket: from the natural lower bound 0, 0 + 0.1 × 0.5
    (0.95, 1.0),  # rank 4.75 in +Inf: the highest finite bound, no more is known
    (1.0, 1.0),
])
def test_quantile_follows_prometheus_rule(q, expected):
    assert histogram_quantile(q, FIVE) == pytest.approx(expected)


def test_quantile_edge_cases_as_prometheus():
    assert math.isnan(histogram_quantile(0.5, [(0.1, 0.0), (INF, 0.0)]))  # no observations
    assert math.isnan(histogram_quantile(0.5, []))
    assert math.isnan(histogram_quantile(0.5, [(INF, 4.0)]))  # fewer than two buckets
    assert math.isnan(histogram_quantile(0.5, [(0.1, 1.0), (1.0, 4.0)]))  # no +Inf bucket
    assert math.isnan(histogram_quantile(math.nan, FIVE))
    assert histogram_quantile(-0.1, FIVE) == -INF
    assert histogram_quantile(1.1, FIVE) == INF
    # a first bucket at or below 0 gives its bound, no interpolation (ClickHouse's documented example too)
    at_zero = [(0.0, 6.0), (0.5, 11.0), (1.0, 14.0), (INF, 19.0)]
    assert histogram_quantile(0.2, at_zero) == 0.0
    assert histogram_quantile(0.5, at_zero) == pytest.approx(0.35)
    # order does not matter, and a dip (a scrape mid-update) is evened out as Prometheus does
    assert histogram_quantile(0.5, list(reversed(FIVE))) == pytest.approx(0.4)
    assert histogram_quantile(0.7, [(0.1, 1.0), (0.5, 3.0), (1.0, 2.0), (INF, 5.0)]) == 1.0  # 1 forced up to 3


def test_bucket_increase_is_the_window_and_survives_a_restart():
    earlier = [(0.1, 1.0), (0.5, 1.0), (1.0, 1.0), (INF, 1.0)]
    window = bucket_increase(FIVE, earlier)
    assert window == [(0.1, 0.0), (0.5, 2.0), (1.0, 3.0), (INF, 4.0)]
    assert histogram_quantile(0.5, window) == pytest.approx(0.1 + 0.4 * 2 / 2)  # rank 2, all of (0.1, 0.5]
    assert bucket_increase(earlier, FIVE) == earlier  # counts went down: the service restarted


def test_series_of_a_histogram_with_labels_are_summed():
    text = "\n".join([
        "# TYPE d histogram",
        'd_bucket{le="1.0",worker="a"} 1', 'd_bucket{le="+Inf",worker="a"} 2', 'd_count{worker="a"} 2', 'd_sum{worker="a"} 3',
        'd_bucket{le="1.0",worker="b"} 3', 'd_bucket{le="+Inf",worker="b"} 3', 'd_count{worker="b"} 3', 'd_sum{worker="b"} 1',
        ""])
    page = Scrape(text)
    assert page.buckets("d") == [(1.0, 4.0), (INF, 5.0)]
    assert page.buckets("d", worker="a") == [(1.0, 1.0), (INF, 2.0)]
    assert page.value("d_count") == 5
