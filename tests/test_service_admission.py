"""A full queue sheds with 503 + Retry-After, counted; the cache answers identical requests with one call."""

from __future__ import annotations

import asyncio

from helpers.service import start_service
from tests.service_support import body, post_many, upstream_fixture

server = upstream_fixture()


def test_a_full_queue_sheds_with_503_and_retry_after(server) -> None:
    with start_service(server, max_in_flight=1, max_queue=2, retry_after_seconds=3) as service:
        responses = asyncio.run(post_many(service.base_url, [body()] * 12))
        shed = [r for r in responses if r.status_code == 503]
        assert len(shed) >= 6 and all(r.status_code in (200, 503) for r in responses)
        assert all(r.headers["Retry-After"] == "3" for r in shed)
        assert shed[0].json()["error"]["code"] == "overloaded"
        scrape = service.metrics()
        assert scrape.value("llm_service_shed_total") == len(shed)
        assert scrape.value("llm_service_requests_total", status="503") == len(shed)


def test_identical_requests_at_once_make_one_upstream_call(server) -> None:
    server.reset()
    with start_service(server, cache_size=8) as service:
        responses = asyncio.run(post_many(service.base_url, [body()] * 6))
        assert len({r.json()["id"] for r in responses}) == 1
        assert len(server.requests()) == 1
        again = asyncio.run(post_many(service.base_url, [body(), body(max_tokens=5)]))
        assert [r.status_code for r in again] == [200, 200]
        assert len(server.requests()) == 2  # the repeat came from the cache, the new question went upstream
        scrape = service.metrics()
        assert (scrape.value("llm_service_cache_hits_total"), scrape.value("llm_service_cache_misses_total")) == (6, 2)
