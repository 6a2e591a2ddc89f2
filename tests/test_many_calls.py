"""A thread per call against a task per call, each way measured in a fresh Python process."""

import time

import pytest

from helpers.llm_server import start_server
from helpers.workloads.many_calls import WAYS, idle_memory, many_calls


@pytest.fixture(scope="module")
def server():
    with start_server("sim-fast", capacity=100, time_scale=0.1) as running:
        yield running


@pytest.mark.parametrize("way", WAYS)
def test_every_way_makes_all_its_calls_and_reports_the_memory_they_held(server, way: str) -> None:
    since = time.time()
    run = many_calls(way, server.base_url, server.model, 50)
    answered = [entry for entry in server.requests(since=since) if entry["status"] == 200]
    assert run.way == way and run.calls == 50
    assert len(answered) >= 51  # the 50 calls and the warm-up, all answered
    assert 0 < run.seconds < 30 and run.extra_memory > 0


def test_an_idle_thread_holds_more_memory_than_an_idle_task() -> None:
    assert idle_memory("threads", 200) > idle_memory("asyncio", 200)


def test_an_unknown_way_is_refused() -> None:
    with pytest.raises(ValueError, match="way must be"):
        many_calls("processes", "http://localhost:1/v1", "sim", 1)
