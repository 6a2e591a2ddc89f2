"""The service answers in OpenAI's format, plain and streamed, and the gate caps upstream calls."""

from __future__ import annotations

import asyncio

import pytest

from helpers.service import start_service
from tests.service_support import MESSAGES, PRESET, body, most_overlapping, post_many, upstream_fixture

server = upstream_fixture()


@pytest.fixture(scope="module")
def service(server):
    with start_service(server, max_in_flight=4, max_queue=None) as running:
        yield running


def test_plain_and_streamed_answers_through_the_openai_client(service, server) -> None:
    client = service.client()
    answer = client.chat.completions.create(model=PRESET, messages=MESSAGES, max_tokens=8)
    assert answer.choices[0].message.content
    chunks = list(client.chat.completions.create(model=PRESET, messages=MESSAGES, max_tokens=8, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed and len(chunks) > 3
    scrape = service.metrics()
    assert scrape.value("llm_service_requests_total", status="200") >= 2
    assert scrape.buckets("llm_service_time_to_first_token_seconds")[-1][1] >= 1


def test_the_gate_caps_upstream_calls_in_flight_and_the_unbounded_queue_sheds_nothing(service, server) -> None:
    server.reset()
    responses = asyncio.run(post_many(service.base_url, [body()] * 24))
    assert [r.status_code for r in responses] == [200] * 24
    assert most_overlapping(server.requests()) == 4  # never more than max_in_flight, and the gate was full
    assert service.metrics().value("llm_service_shed_total") == 0
    assert repr(service).startswith("<LLM service http://127.0.0.1:")


def test_healthz_memory_and_threads(service) -> None:
    import httpx

    assert httpx.get(service.url + "/healthz").json() == {"status": "ok", "worker": service.process.pid}
    assert service.memory_bytes() > 10_000_000 and service.thread_count() >= 1
