"""The official `openai` client under load: how long do N concurrent calls take, next to one call's latency?

All N calls wait the same latency on the server at the same time, so an ideal client finishes
them all in one latency: makespan / latency = 1. Whatever is beyond is the client's own work on
its one thread (building requests, parsing answers, managing connections). Lesson 03 measures
the same thing through its default transport (httpx) and through `DefaultAioHttpClient`.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

import openai

from bench.servers import BENCH_KEY, ONE_TOKEN_REQUEST
from helpers.llm_server import ServerHandle

TRANSPORTS = ("httpx (default)", "aiohttp")


class ClientRun(NamedTuple):
    server: str
    transport: str
    calls: int
    latency: float  # seconds each call waits on the server
    makespan: float  # seconds from the first call sent to the last answer received

    @property
    def ratio(self) -> float:
        return self.makespan / self.latency


def http_client(transport: str) -> openai.DefaultAioHttpClient | None:
    """What to pass as AsyncOpenAI's `http_client`: None lets it build its default transport."""
    return openai.DefaultAioHttpClient() if transport == "aiohttp" else None


async def makespan(server: ServerHandle, transport: str, calls: int) -> float:
    """Seconds `calls` concurrent chat completions take through a new client with this transport.

    No retries: a failed call fails the benchmark instead of silently adding its retry's time.
    """
    async with server.async_client(api_key=BENCH_KEY, timeout=60, max_retries=0,
                                   http_client=http_client(transport)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client.chat.completions.create(**ONE_TOKEN_REQUEST) for _ in range(calls)))
        return time.perf_counter() - started
