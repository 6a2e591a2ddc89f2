"""Spans reach one recorder from decorators, pool workers and openai calls, on one clock."""

import asyncio
import threading
import time

import pytest

from helpers.llm_server import start_server
from helpers.measuring.recorded_calls import recorded
from helpers.measuring.recorded_pool import RecordedProcessPool
from helpers.measuring.spans import Recorder
from helpers.workloads.cpu_work import python_busy_work

PROMPT = [{"role": "user", "content": "Say hello in 10 words"}]


def test_a_span_is_a_decorator_and_an_async_context_manager_too() -> None:
    recorder = Recorder()

    @recorder.span("parse", kind="cpu")
    def parse() -> int:
        return 42

    async def main() -> None:
        async with recorder.span("call", lane="api"):
            await asyncio.sleep(0.01)

    assert parse() == 42 and parse() == 42
    asyncio.run(main())
    assert [(s.label, s.kind) for s in recorder] == [("parse", "cpu"), ("parse", "cpu"), ("call", "io")]
    assert [s.lane for s in recorder] == ["MainThread", "MainThread", "api"]


def test_a_span_is_running_until_its_block_ends() -> None:
    recorder = Recorder()
    with recorder.span("slow"):
        assert [s.label for s in recorder.running()] == ["slow"] and len(recorder) == 0
    assert recorder.running() == [] and [s.label for s in recorder] == ["slow"]
    with pytest.raises(ValueError, match="kind must be one of"):
        recorder.span("x", kind="sleeping")


@pytest.mark.parametrize("start_method", ["spawn", "forkserver"])
def test_pool_workers_send_their_spans_home_on_the_parents_clock(start_method: str) -> None:
    recorder = Recorder()
    with RecordedProcessPool(recorder, 2, start_method=start_method) as pool:
        before = time.time()
        child_clock = pool.submit(time.time).result()  # a round trip through the pool...
        after = time.time()
        results = list(pool.map(python_busy_work, [1, 2, 3, 4]))
        finished = time.time()
    assert before - 0.005 <= child_clock <= after + 0.005  # ...reads the same clock, within 5 ms
    assert results == [python_busy_work(n) for n in [1, 2, 3, 4]]
    chunks = [s for s in recorder if s.label == "chunk of python_busy_work"]
    assert len(chunks) == 4 and all(after <= s.start <= s.end <= finished for s in chunks)
    assert {s.lane.split("-")[0] for s in recorder} == {"SpawnProcess" if start_method == "spawn" else "ForkServerProcess"}
    assert all(s.kind == "cpu" for s in recorder)


def test_map_sends_chunksize_calls_per_task_and_start_up_opens_each_workers_row() -> None:
    recorder = Recorder()
    with RecordedProcessPool(recorder, 2, start_method="spawn") as pool:
        results = list(pool.map(pow, [2, 3, 4, 5, 6], [2, 2, 2, 2, 2], chunksize=2))
    pool.add_start_up()
    assert results == [4, 9, 16, 25, 36]  # in the inputs' order, the last chunk shorter
    chunks = [s for s in recorder if s.label == "chunk of pow"]
    assert len(chunks) == 3
    start_ups = [s for s in recorder if s.kind == "start-up"]
    assert {s.lane for s in start_ups} == {s.lane for s in chunks}  # one per worker that ran a chunk
    for start_up in start_ups:
        assert start_up.start == pool.created
        assert start_up.end == min(s.start for s in chunks if s.lane == start_up.lane)


def test_map_refuses_a_chunksize_below_one_as_the_executor_does() -> None:
    with RecordedProcessPool(Recorder(), 1, start_method="spawn") as pool:
        with pytest.raises(ValueError, match="chunksize"):
            pool.map(pow, [1], [1], chunksize=0)


def test_a_failing_task_in_the_pool_raises_its_own_error() -> None:
    with RecordedProcessPool(Recorder(), 1, start_method="spawn") as pool:
        with pytest.raises(TypeError):
            pool.submit(python_busy_work, "three").result()


@pytest.fixture(scope="module")
def server():
    with start_server("sim-fast", time_scale=0.05) as running:
        yield running


def test_openai_calls_land_on_the_timeline_one_lane_per_thread_or_task(server) -> None:
    recorder = Recorder()
    client = recorded(server.client(), recorder)
    threads = [threading.Thread(target=client.chat.completions.create, name=f"caller-{i}",
                                kwargs={"model": server.model, "messages": PROMPT}) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in client.chat.completions.create(model=server.model, messages=PROMPT, stream=True):
        pass

    async def fan_out() -> None:
        async_client = recorded(server.async_client(), recorder)
        async with asyncio.TaskGroup() as group:
            for i in range(2):
                group.create_task(async_client.chat.completions.create(model=server.model, messages=PROMPT),
                                  name=f"task-{i}")

    asyncio.run(fan_out())
    assert sorted(s.lane for s in recorder) == ["MainThread", "caller-0", "caller-1", "caller-2", "task-0", "task-1"]
    assert {s.label for s in recorder} == {"chat/completions"} and {s.meta["status"] for s in recorder} == {200}


def test_a_streamed_call_lasts_until_its_last_chunk(server) -> None:
    server.configure(preset="sim-fast", time_scale=0.05)
    recorder = Recorder()
    stream = recorded(server.client(), recorder).chat.completions.create(model=server.model, messages=PROMPT,
                                                                        stream=True)
    next(iter(stream))
    time.sleep(0.3)  # the span is still open while the learner reads the stream
    for _ in stream:
        pass
    (span,) = list(recorder)
    assert span.end - span.start >= 0.3


@pytest.mark.slow
def test_a_refused_request_is_a_rate_limited_span_and_the_retry_another(server) -> None:
    server.configure(preset="instant", rpm=1, time_scale=0.05)  # one request per 3 real seconds
    try:
        recorder = Recorder()
        client = recorded(server.client(max_retries=2), recorder)
        client.chat.completions.create(model="instant", messages=PROMPT)
        client.chat.completions.create(model="instant", messages=PROMPT)
    finally:
        server.configure(rpm=None)
    assert [s.kind for s in recorder] == ["io", "rate-limited", "io"]
    assert [s.meta["status"] for s in recorder] == [200, 429, 200]
