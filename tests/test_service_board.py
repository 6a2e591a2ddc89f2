"""ServiceBoard turns a service's /metrics, scraped while it changes, into rates, gauges and a window's p95."""

import math
import time
import xml.etree.ElementTree as ElementTree

import matplotlib
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

from helpers.drawing.service_board import ServiceBoard, board_svg, sample
from helpers.measuring.prometheus_text import Scrape

matplotlib.use("Agg")
BUCKETS = (0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60)  # the contract's example


class Service:
    """The metrics lesson 08's service exposes, under the contract's names, served by prometheus_client."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("llm_service_requests", "answers by status", ["status"], registry=self.registry)
        self.shed = Counter("llm_service_shed", "answered 503 by the gate", registry=self.registry)
        self.hits = Counter("llm_service_cache_hits", "answers from the cache", registry=self.registry)
        self.in_flight = Gauge("llm_service_in_flight", "upstream calls in flight", registry=self.registry)
        self.queued = Gauge("llm_service_queued", "waiting for the gate", registry=self.registry)
        self.duration = Histogram("llm_service_request_duration_seconds", "end to end", buckets=BUCKETS,
                                  registry=self.registry)

    def answer(self, seconds: float, hit: bool = False) -> None:
        self.requests.labels(status="200").inc()
        self.duration.observe(seconds)
        if hit:
            self.hits.inc()

    def page(self) -> Scrape:
        return Scrape(generate_latest(self.registry).decode())


@pytest.fixture
def service():
    running = Service()
    server, thread = start_http_server(0, addr="127.0.0.1", registry=running.registry)
    running.url = f"http://127.0.0.1:{server.server_port}/metrics"
    yield running
    server.shutdown()
    thread.join()


def test_a_window_is_the_difference_of_two_scrapes():
    service = Service()
    earlier = service.page()
    for seconds in [0.3] * 18 + [2.5] * 2:  # 20 answers in 2 s, the slowest tenth in (2, 3]
        service.answer(seconds, hit=seconds < 1)
    service.shed.inc(4)
    service.in_flight.set(7)
    service.queued.set(3)
    window = sample(5.0, 2.0, service.page(), earlier)
    assert window.t == 5.0
    assert (window.served_per_second, window.shed_per_second, window.cache_hits_per_second) == (10, 2, 9)
    assert (window.in_flight, window.queued) == (7, 3)
    assert window.p95_seconds == pytest.approx(2 + 1 * (19 - 18) / 2)  # rank 19: half-way into (2, 3]
    quiet = sample(6.0, 1.0, service.page(), service.page())
    assert quiet.served_per_second == 0 and math.isnan(quiet.p95_seconds)  # nothing finished: no p95
    assert sample(7.0, 1.0, earlier, service.page()).served_per_second == 0  # counters went down: a restart


def test_the_board_samples_a_changing_service_then_draws_four_panels(service, tmp_path):
    with ServiceBoard(service.url, "a busy service, then a quiet one", every=0.2) as board:
        service.in_flight.set(7)
        service.queued.set(3)
        busy_until = time.monotonic() + 1.2
        while time.monotonic() < busy_until:  # about 100 answers a second, 0.3 s each, a fifth shed
            for _ in range(2):
                service.answer(0.3, hit=True)
            service.shed.inc(0.5)
            time.sleep(0.02)
        busy = len(board.samples)
        service.in_flight.set(0)
        service.queued.set(0)
        time.sleep(0.7)
    answered = service.page().value("llm_service_requests_total", status="200")
    assert board.missed == 0 and 4 <= busy and len(board.samples) >= busy + 3
    times = [s.t for s in board.samples]
    assert times == sorted(times)
    # the rates, times their windows, add back up to the counts (the first window began at about 0)
    windows = [later - earlier for earlier, later in zip([0.0, *times], times)]
    assert sum(s.served_per_second * w for s, w in zip(board.samples, windows)) == pytest.approx(answered, rel=0.05)
    assert sum(s.shed_per_second * w for s, w in zip(board.samples, windows)) == pytest.approx(answered / 4, rel=0.05)
    during = board.samples[1:busy - 1]
    assert all(s.in_flight == 7 and s.queued == 3 for s in during)
    assert all(s.p95_seconds == pytest.approx(0.25 + 0.25 * 0.95) for s in during)  # all in (0.25, 0.5]
    assert all(s.cache_hits_per_second == s.served_per_second > 0 for s in during)
    after = board.samples[-2:]
    assert all(s.served_per_second == s.in_flight == 0 and math.isnan(s.p95_seconds) for s in after)

    figure = board.figure()
    labels = [ax.get_ylabel() for ax in figure.axes]
    assert labels == ["answers served\n(answers/s)", "in flight & queued\n(requests)",
                      "p95 latency (each window)\n(s)", "load shed (503)\n(shed/s)"]
    assert figure.axes[-1].get_xlabel() == "seconds since the board started"
    figure.savefig(tmp_path / "board.png")
    # the live widget's drawing: well-formed SVG, one line per quantity, the latest values written out
    svg = ElementTree.fromstring(board_svg(board.samples, "live"))
    assert len(svg.findall("{http://www.w3.org/2000/svg}polyline")) == 6
    assert "0 answers/s" in "".join(svg.itertext())


def test_a_service_that_does_not_answer_leaves_an_empty_board():
    with ServiceBoard("http://127.0.0.1:9/metrics", "nobody there", every=0.1) as board:
        time.sleep(0.35)
    assert board.samples == [] and board.missed >= 3
    assert len(board.figure().axes) == 4
    with pytest.raises(ValueError, match="every must be from 0.1 to 60 seconds"):
        ServiceBoard("http://127.0.0.1:9/metrics", "too fast", every=0.01)
