"""The check of 05_hybrid accepts the solution and explains typical wrong answers, on a real server."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from helpers.exercises.hybrid import HybridExercise
from helpers.llm_server import start_server
from lessons.solutions.hybrid import make_pool, pipeline

pytestmark = pytest.mark.slow  # seconds of real waiting: the main run has these, CI's Python 3.13 run leaves them out


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_server("sim-fast", time_scale=0.5) as handle:
        yield handle


@pytest.fixture
def exercise(server) -> HybridExercise:
    """A new exercise per test: its async client belongs to the event loop of one asyncio.run."""
    return HybridExercise(server, seconds_per_analysis=0.05)


def check(exercise: HybridExercise, learner_pipeline, learner_pool=make_pool):
    return asyncio.run(exercise.check(learner_pipeline, learner_pool))


def test_the_solution_passes(exercise) -> None:
    report = check(exercise, pipeline)
    assert report.passed, str(report)


def test_a_thread_pool_is_named_and_nothing_runs(exercise) -> None:
    report = check(exercise, pipeline, lambda: ThreadPoolExecutor(2))
    assert report.problems == [report.problems[0]] and "ThreadPoolExecutor of 2 threads" in report.problems[0]


def test_a_pool_of_one_worker_is_too_slow_for_two_cpus(server) -> None:
    heavier = HybridExercise(server, seconds_per_analysis=0.2)  # 2.4 s of analysis: one CPU cannot keep up
    report = asyncio.run(heavier.check(pipeline, lambda: make_pool_of(1), cpus=2))
    timing = report.lines[-1][1]
    assert "more than 1.3× the bound" in timing or "not a fair test" in timing, str(report)


def test_a_multiprocessing_pool_is_named_not_crashed_on(exercise) -> None:
    report = check(exercise, pipeline, lambda: multiprocessing.get_context("spawn").Pool(2))
    assert report.problems == [report.problems[0]] and "concurrent.futures executor" in report.problems[0]


def test_a_forking_pool_is_named(exercise) -> None:
    report = check(exercise, pipeline, lambda: ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")))
    assert report.problems == [report.problems[0]] and "forks its workers" in report.problems[0]


def make_pool_of(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def test_gathering_every_answer_first_leaves_the_pool_idle(exercise) -> None:
    async def gather_then_analyse(prompts, ask, analyse, pool):
        answers = await asyncio.gather(*(ask(prompt) for prompt in prompts))
        loop = asyncio.get_running_loop()
        return await asyncio.gather(*(loop.run_in_executor(pool, analyse, answer) for answer in answers))

    report = check(exercise, gather_then_analyse)
    assert any("every analysis started after the last answer" in problem for problem in report.problems), str(report)


def test_analysing_in_the_notebook_is_caught_by_the_process_ids(exercise) -> None:
    async def on_the_loop(prompts, ask, analyse, pool):
        return [analyse(answer) for answer in await asyncio.gather(*(ask(prompt) for prompt in prompts))]

    report = check(exercise, on_the_loop)
    assert report.problems == ["some analyses ran in the notebook's own process: hand each one to the pool with "
                               "`await loop.run_in_executor(pool, analyse, answer)`"]


def test_one_call_after_another_is_not_concurrency(exercise) -> None:
    async def one_by_one(prompts, ask, analyse, pool):
        loop = asyncio.get_running_loop()
        return [await loop.run_in_executor(pool, analyse, await ask(prompt)) for prompt in prompts]

    report = check(exercise, one_by_one)
    assert any("never saw two calls at once" in problem for problem in report.problems), str(report)


def test_results_in_finishing_order_are_named(exercise) -> None:
    async def as_they_finish(prompts, ask, analyse, pool):
        loop = asyncio.get_running_loop()

        async def one(prompt):
            return await loop.run_in_executor(pool, analyse, await ask(prompt))
        return [await done for done in asyncio.as_completed([one(prompt) for prompt in prompts])]

    report = check(exercise, as_they_finish)
    assert report.problems and "finishing order" in report.problems[0]


def test_returning_answers_instead_of_analyses_is_named(exercise) -> None:
    async def no_analysis(prompts, ask, analyse, pool):
        return await asyncio.gather(*(ask(prompt) for prompt in prompts))

    report = check(exercise, no_analysis)
    assert report.problems and "what analyse(answer) returned" in report.problems[0]


def test_the_check_refuses_a_real_endpoint() -> None:
    class RealEndpoint:
        is_simulator = False

    with pytest.raises(RuntimeError, match="journal"):
        HybridExercise(RealEndpoint())
