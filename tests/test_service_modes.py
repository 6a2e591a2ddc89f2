"""Sync handlers (threads) and several worker processes answer; /metrics sums over the workers."""

from __future__ import annotations

import asyncio

import pytest

from helpers.service import start_service
from tests.service_support import MESSAGES, PRESET, body, most_overlapping, post_many, upstream_fixture

server = upstream_fixture()


def test_sync_handlers_answer_plain_and_streamed_within_the_gate(server) -> None:
    server.reset()
    with start_service(server, handlers="sync", threads=8, max_in_flight=3, max_queue=None) as service:
        client = service.client()
        assert client.chat.completions.create(model=PRESET, messages=MESSAGES, max_tokens=8).choices[0].message.content
        chunks = list(client.chat.completions.create(model=PRESET, messages=MESSAGES, max_tokens=8, stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        responses = asyncio.run(post_many(service.base_url, [body()] * 12 + [body(stream=True)] * 4))
        assert [r.status_code for r in responses] == [200] * 16
        assert most_overlapping(server.requests()) == 3


@pytest.mark.slow
def test_two_workers_answer_and_metrics_sum_over_them(server) -> None:
    with start_service(server, workers=2, max_in_flight=4) as service:
        responses = asyncio.run(post_many(service.base_url, [body()] * 20))
        assert [r.status_code for r in responses] == [200] * 20
        assert service.metrics().value("llm_service_requests_total", status="200") == 20
        assert len(service._processes()) >= 3  # the supervisor and its two workers
