"""What the service's test modules share: a simulator upstream, concurrent raw requests, journal overlap.

    server = upstream_fixture()                      # module scope: one sim-fast simulator, fast time
    results = asyncio.run(post_many(service.base_url, [body] * 20))

Every test runs real processes: the simulator and the service each in a child process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from helpers.llm_server import start_server
from helpers.llm_server.launcher import ServerHandle
from helpers.mode import ENDPOINT_VARIABLE

PRESET, TIME_SCALE = "sim-fast", 0.2  # about 0.06 s an answer of 16 tokens
MESSAGES = [{"role": "user", "content": "What is a semaphore?"}]


def body(**extra: Any) -> dict[str, Any]:
    return {"model": PRESET, "messages": MESSAGES, "max_tokens": 16} | extra


def upstream_fixture() -> Any:
    @pytest.fixture(scope="module")
    def server() -> Iterator[ServerHandle]:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv(ENDPOINT_VARIABLE, raising=False)
            with start_server(PRESET, time_scale=TIME_SCALE) as running:
                yield running

    return server


async def post_many(base_url: str, bodies: list[dict[str, Any]], timeout: float = 30) -> list[httpx.Response]:
    """POST every body at once to /chat/completions; the responses, read to the end."""
    limits = httpx.Limits(max_connections=len(bodies) + 1)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
        return await asyncio.gather(*(client.post(base_url + "/chat/completions", json=b) for b in bodies))


def most_overlapping(entries: list[dict]) -> int:
    """The most journal entries (upstream calls) in progress at one moment, from arrival to end."""
    events = sorted([(e["arrival"], 1) for e in entries] + [(e["end"], -1) for e in entries])
    now = most = 0
    for _, change in events:
        now += change
        most = max(most, now)
    return most
