"""An exercise's client leaves nothing behind that could hang the lesson's later calls."""

import asyncio
import gc
from collections.abc import Iterator

import pytest

from helpers.exercises.own_key import OwnKeyExercise
from helpers.llm_server import start_server


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_server("sim-fast", time_scale=0.1, capacity=300) as handle:
        yield handle


def test_a_dropped_exercise_leaves_no_connection_that_hangs_later_calls(server) -> None:
    """Re-running an exercise's cell drops the old exercise. Idle keep-alive connections in its
    client would be closed by the garbage collector under the running loop, and later calls whose
    sockets reuse those file descriptors could wait for their whole timeout (CPython issue 88968;
    in lesson 03, 21 of 300 calls waited 60 s after two clients were dropped that way)."""

    async def drop_an_exercise_then_call_many() -> None:
        exercise = OwnKeyExercise(server)
        await asyncio.gather(*(exercise.ask(f"In 5 words, fact {n}.") for n in range(30)))
        del exercise
        gc.collect()
        async with server.async_client(timeout=5, max_retries=0) as client:
            await asyncio.gather(*(client.chat.completions.create(
                model=server.model, messages=[{"role": "user", "content": f"In 5 words, fact {n}."}])
                for n in range(300)))

    asyncio.run(drop_an_exercise_then_call_many())
