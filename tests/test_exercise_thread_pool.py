"""The check of 02_threading accepts the solution and explains typical wrong answers, on a real server."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

import openai
import pytest

from helpers.exercises.thread_pool import PROMPTS, ThreadPoolExercise, failing_requests
from helpers.llm_server import start_server
from helpers.measuring.spans import max_overlap
from lessons.solutions.thread_pool import fetch_all


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_server("sim-fast", time_scale=0.1) as handle:
        yield handle


def test_the_solution_passes(server) -> None:
    exercise = ThreadPoolExercise(server)
    report = exercise.check(fetch_all(exercise.ask, exercise.prompts))
    assert report.passed, str(report)


def test_the_failure_falls_on_exactly_one_of_the_first_40_requests(server) -> None:
    exercise = ThreadPoolExercise(server)
    assert len(failing_requests(0, exercise.key, len(PROMPTS))) == 1
    results = fetch_all(exercise.ask, exercise.prompts)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], openai.InternalServerError)


def test_collecting_in_completion_order_is_caught_and_explained(server) -> None:
    exercise = ThreadPoolExercise(server)
    results = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(exercise.ask, prompt) for prompt in exercise.prompts]
        for future in as_completed(futures):
            try:
                results.append(future.result())
            except openai.APIError as error:
                results.append(error)
    report = exercise.check(results)
    assert not report.passed and "as_completed) come in finishing order" in report.problems[0]


def test_dropping_the_failure_is_caught(server) -> None:
    exercise = ThreadPoolExercise(server)

    def ask_or_none(prompt: str) -> str | None:
        try:
            return exercise.ask(prompt)
        except openai.APIError:
            return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(ask_or_none, exercise.prompts))
    report = exercise.check(results)
    assert not report.passed and any("no slot holds an exception" in problem for problem in report.problems)


def test_too_many_workers_are_seen_in_the_servers_journal(server) -> None:
    exercise = ThreadPoolExercise(server)
    report = exercise.check(fetch_all(exercise.ask, exercise.prompts, workers=20))
    assert report.problems and "more than 8" in report.problems[-1]


def test_one_at_a_time_is_not_concurrency(server) -> None:
    exercise = ThreadPoolExercise(server)
    report = exercise.check(fetch_all(exercise.ask, exercise.prompts, workers=1))
    assert report.problems == [report.problems[-1]] and "one after the other" in report.problems[-1]


def test_a_short_list_and_a_reused_key_are_explained(server) -> None:
    exercise = ThreadPoolExercise(server)
    assert "one entry per prompt, 40 in all; got 3" in exercise.check(["a", "b", "c"]).problems[0]
    fetch_all(exercise.ask, exercise.prompts)
    second_attempt = fetch_all(exercise.ask, exercise.prompts)  # same key: its failure is used up
    assert "create a new ThreadPoolExercise" in exercise.check(second_attempt).problems[0]


def test_max_overlap_counts_touching_intervals_as_one_after_the_other() -> None:
    assert max_overlap([(0, 1), (1, 2), (1.5, 3), (0.5, 1.6)]) == 3
    assert max_overlap([(0, 1), (1, 2)]) == 1
    assert max_overlap([]) == 0
