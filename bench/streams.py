"""Many streams at once: does each one still get its tokens at the model's pace?

Every stream asks for `TOKENS_PER_STREAM` tokens at `TOKENS_PER_SECOND`. All start together, so
after the time to first token every one of them should be sending; the client counts the token
events that arrive inside that steady window and divides by its length. The ideal is
streams × TOKENS_PER_SECOND; a server that cannot keep up sends fewer in the window (its streams
run late and finish after it).

The client is this process, on the machine's other CPU; its CPU share is recorded next to the
server's, so a client that ran out of CPU is not mistaken for a slow server.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

import aiohttp

from bench.cpu import CpuShare
from bench.servers import BENCH_KEY, PRESET, PROFILE, time_scale_for_token_rate
from helpers.llm_server import ServerHandle

TOKENS_PER_SECOND = 50
TIME_SCALE = time_scale_for_token_rate(TOKENS_PER_SECOND)  # start our server with it
TOKENS_PER_STREAM = 400  # 8 s of tokens: a steady window of about 6 s
GOOD_SHARE = 0.95  # of the ideal rate: the issue asks where the delivered rate falls below it
STREAM_STEP = 25  # the finest step in stream counts when looking for where that happens
MOST_STREAMS = 2000  # never look further than this
# A client this busy (share of one core), beside a server that is not, is what holds the delivered rate back.
BUSY_CPU = 0.9
WINDOW_MARGIN = 1.0  # seconds left out at each end: streams that started or will finish a little late
EVENT_END = b"\n\n"  # server-sent events are separated by a blank line
TOKEN_EVENT = b'"delta": {"content": '  # a chunk carrying a token; the first chunk has {"role": ...} instead
STREAM_REQUEST = {"model": PRESET, "max_tokens": TOKENS_PER_STREAM, "stream": True,
                  "messages": [{"role": "user", "content": "In 1000 words, explain concurrency."}]}


class Window(NamedTuple):
    """The stretch of time (perf_counter seconds) during which every stream should be sending tokens."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def __contains__(self, moment: float) -> bool:
        return self.start <= moment <= self.end


class StreamRun(NamedTuple):
    streams: int
    delivered_per_second: float  # token events received inside the window, per second
    server_cpu: float  # share of one core, inside the window
    client_cpu: float

    @property
    def ideal_per_second(self) -> float:
        return self.streams * TOKENS_PER_SECOND

    @property
    def client_bound(self) -> bool:
        return self.client_cpu >= BUSY_CPU > self.server_cpu

    @property
    def ratio(self) -> float:
        return self.delivered_per_second / self.ideal_per_second


def steady_window(launched: float, time_to_first_token: float, seconds_per_token: float) -> Window:
    """From the first token (plus a margin) to the last token (minus a margin) of streams launched together."""
    first_token = launched + time_to_first_token
    last_token = first_token + (TOKENS_PER_STREAM - 1) * seconds_per_token
    return Window(first_token + WINDOW_MARGIN, last_token - WINDOW_MARGIN)


def is_token_event(event: bytes) -> bool:
    return TOKEN_EVENT in event


async def tokens_inside(session: aiohttp.ClientSession, url: str, window: Window) -> int:
    """Read one whole stream; count the token events that arrived inside the window."""
    counted = 0
    async with session.post(url, json=STREAM_REQUEST, headers={"Authorization": f"Bearer {BENCH_KEY}"}) as response:
        response.raise_for_status()
        while event := await response.content.readuntil(EVENT_END):
            if is_token_event(event) and time.perf_counter() in window:
                counted += 1
    return counted


async def cpu_inside(window: Window, server: CpuShare, client: CpuShare) -> tuple[float, float]:
    """The server's and the client's CPU shares inside the window."""
    await asyncio.sleep(window.start - time.perf_counter())
    server.restart()
    client.restart()
    await asyncio.sleep(window.end - time.perf_counter())
    return server.share(), client.share()


async def measure_streams(server: ServerHandle, streams: int) -> StreamRun:
    """Open `streams` streams at once on a server started with TIME_SCALE, and measure their steady rate."""
    connector = aiohttp.TCPConnector(limit=0)  # aiohttp allows 100 connections by default: one per stream here
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        window = steady_window(time.perf_counter(), PROFILE.time_to_first_token.a * TIME_SCALE,
                               PROFILE.time_per_token.a * TIME_SCALE)
        url = server.base_url + "/chat/completions"
        cpu = asyncio.create_task(cpu_inside(window, CpuShare(server.process.pid), CpuShare()))
        counts = await asyncio.gather(*(tokens_inside(session, url, window) for _ in range(streams)))
        server_cpu, client_cpu = await cpu
    return StreamRun(streams, sum(counts) / window.seconds, server_cpu, client_cpu)


def stream_bracket(runs: list[StreamRun]) -> tuple[int | None, int | None]:
    """The most streams that kept GOOD_SHARE of the ideal and the fewest that did not (None: no such run).

    Where the rate *first* falls short: a pass above the fewest failing streams (noise) is ignored.
    """
    failing = min((run.streams for run in runs if run.ratio < GOOD_SHARE), default=None)
    below_failing = [run for run in runs if failing is None or run.streams < failing]
    passing = max((run.streams for run in below_failing if run.ratio >= GOOD_SHARE), default=None)
    return passing, failing


def next_streams(runs: list[StreamRun]) -> int | None:
    """The next stream count to measure, or None when done.

    While every count kept up, twice the largest (up to MOST_STREAMS); then halfway across the
    bracket, on a multiple of STREAM_STEP, until the bracket is one step wide.
    """
    passing, failing = stream_bracket(runs)
    if failing is None:
        return 2 * passing if 2 * passing <= MOST_STREAMS else None
    if passing is None or failing - passing <= STREAM_STEP:
        return None
    return passing + round((failing - passing) / 2 / STREAM_STEP) * STREAM_STEP
