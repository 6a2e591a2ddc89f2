"""The check of 03_asyncio accepts the solution and explains typical wrong answers, on a real server."""

import asyncio
from collections.abc import Iterator

import pytest

from helpers.exercises.bounded_gather import BoundedGatherExercise
from helpers.llm_server import start_server
from lessons.solutions.bounded_gather import bounded_gather


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_server("sim-fast", time_scale=0.1) as handle:
        yield handle


def test_the_solution_passes(server) -> None:
    exercise = BoundedGatherExercise(server)
    report = exercise.check(asyncio.run(bounded_gather(exercise.ask, exercise.prompts, exercise.limit)))
    assert report.passed, str(report)


def test_a_semaphore_per_call_limits_nothing_and_the_journal_shows_it(server) -> None:
    exercise = BoundedGatherExercise(server)

    async def wrong() -> list[str]:
        async def one(prompt: str) -> str:
            async with asyncio.Semaphore(exercise.limit):  # a new gate for every call
                return await exercise.ask(prompt)
        return await asyncio.gather(*(one(prompt) for prompt in exercise.prompts))

    report = exercise.check(asyncio.run(wrong()))
    assert report.problems and "more than 5" in report.problems[0]


def test_collecting_with_as_completed_loses_the_order(server) -> None:
    exercise = BoundedGatherExercise(server)

    async def wrong() -> list[str]:
        gate = asyncio.Semaphore(exercise.limit)

        async def one(prompt: str) -> str:
            async with gate:
                return await exercise.ask(prompt)
        return [await done for done in asyncio.as_completed([one(prompt) for prompt in exercise.prompts])]

    report = exercise.check(asyncio.run(wrong()))
    assert not report.passed and "finishing order" in report.problems[0]


def test_awaiting_one_after_another_is_not_concurrency(server) -> None:
    exercise = BoundedGatherExercise(server)

    async def wrong() -> list[str]:
        return [await exercise.ask(prompt) for prompt in exercise.prompts]

    report = exercise.check(asyncio.run(wrong()))
    assert report.problems == [report.problems[-1]] and "one after the other" in report.problems[-1]


def test_unawaited_coroutines_are_named(server) -> None:
    exercise = BoundedGatherExercise(server)
    coroutines = [exercise.ask(prompt) for prompt in exercise.prompts]
    report = exercise.check(coroutines)
    for coroutine in coroutines:
        coroutine.close()
    assert "did you return the coroutines" in report.problems[0]
