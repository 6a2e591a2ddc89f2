"""Whatever a user sends, a clear 4xx in OpenAI's shape and a service still alive; upstream failures mapped."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from helpers.service import start_service
from tests.service_support import body, post_many, upstream_fixture

server = upstream_fixture()


@pytest.fixture(scope="module")
def service(server):
    with start_service(server, upstream_max_retries=0) as running:
        yield running


@pytest.mark.parametrize(("content", "status", "param"), [
    (b"not json", 400, None), (b"[1, 2]", 400, None), (b'{"model": "sim-fast"}', 400, "messages"),
    (b'{"messages": "hi"}', 400, "messages"), (b'{"messages": [3]}', 400, "messages[0]"),
    (b'{"messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', 400, "stream"),
    (b"x" * (3 * 1024 * 1024), 413, None),
])
def test_bad_bodies_get_a_clear_error(service, content: bytes, status: int, param: str | None) -> None:
    response = httpx.post(service.base_url + "/chat/completions", content=content, timeout=10)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["message"] and error["param"] == param and set(error) == {"message", "type", "param", "code"}
    assert httpx.get(service.url + "/healthz").status_code == 200


def test_unknown_path_is_404_in_openai_shape(service) -> None:
    response = httpx.get(service.url + "/v1/nowhere")
    assert response.status_code == 404 and "/v1/nowhere" in response.json()["error"]["message"]


def test_upstream_429_and_failures_are_mapped(service, server) -> None:
    try:
        server.configure(insufficient_quota=True)
        limited = asyncio.run(post_many(service.base_url, [body()]))[0]
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        server.configure(insufficient_quota=False, error_rate=1.0)
        failed = asyncio.run(post_many(service.base_url, [body(), body(stream=True)]))
        assert [r.status_code for r in failed] == [502, 502]
        scrape = service.metrics()
        assert scrape.value("llm_service_upstream_rate_limited_total") == 1
        assert scrape.value("llm_service_upstream_errors_total") == 2
    finally:
        server.configure(insufficient_quota=False, error_rate=0.0)
