"""The check of 06_ten_thousand_calls accepts the solution and explains typical wrong answers, on a real server."""

import asyncio
from collections.abc import Iterator

import pytest

from helpers.exercises.paced_gather import PROMPTS, PacedGatherExercise, check, most_starts_in_a_second
from helpers.llm_server.text import answer
from helpers.workloads.rate_limits import Limits, start_limited_server
from lessons.solutions.paced_gather import paced_gather


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_limited_server("sim-fast", Limits(rpm=6_000, tpm=600_000)) as handle:
        yield handle


@pytest.mark.slow
def test_the_solution_passes(server) -> None:
    exercise = PacedGatherExercise(server)
    report = exercise.check(asyncio.run(paced_gather(exercise.ask, exercise.prompts, exercise.per_second)))
    assert report.passed, str(report)


def test_all_at_once_is_refused_and_starts_too_many_in_a_second(server) -> None:
    exercise = PacedGatherExercise(server)

    async def all_at_once() -> list:
        return await asyncio.gather(*(exercise.ask(prompt) for prompt in exercise.prompts), return_exceptions=True)

    problems = exercise.check(asyncio.run(all_at_once())).problems
    assert "refused" in problems[0] and "429" in problems[0]
    assert any("started within one second" in problem for problem in problems)


def test_calls_awaited_one_by_one_are_too_slow_and_never_overlap() -> None:
    """The check's verdict on a journal of calls one after another, 50 ms each: what a loop that pauses
    and then awaits each call gives (on the real server that takes 15 s, too long for the suite)."""
    journal = [{"arrival": 100 + 0.0625 * n, "end": 100 + 0.0625 * n + 0.05, "status": 200} for n in range(len(PROMPTS))]
    problems = check([answer(prompt, 0) for prompt in PROMPTS], journal, seed=0).problems
    assert len(problems) == 2
    assert "more than the" in problems[0] and "pace allows" in problems[0]
    assert "never saw two calls at once" in problems[1]


def test_returning_tasks_instead_of_answers_is_named(server) -> None:
    exercise = PacedGatherExercise(server)
    report = exercise.check([object()] * len(exercise.prompts))
    assert "did you return tasks" in report.problems[0]


def test_most_starts_in_a_second_slides_a_window_from_each_start() -> None:
    assert most_starts_in_a_second([0.0, 0.5, 0.99, 1.0, 1.5, 1.9]) == 4  # the second from 0.99: 0.99, 1.0, 1.5 and 1.9
    assert most_starts_in_a_second([]) == 0


@pytest.mark.parametrize(("returned", "got"), [(["an answer"], "got 1"), (None, "got NoneType")])
def test_a_result_that_is_not_one_answer_per_prompt_is_named(returned, got: str) -> None:
    problems = check(returned, [], seed=0).problems
    assert problems == [f"return a list with one answer per prompt, {len(PROMPTS)} in all; {got}"]
