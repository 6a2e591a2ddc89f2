"""The check of 04_multiprocessing accepts the solution and explains typical wrong answers.

The pools are real (spawn, as on macOS and Windows). The speed-up a busy machine gives is not
under the test's control, so the real runs pass cpus=1, which asks only that the pool costs
little; the two-CPU verdict is tested on made-up times.
"""

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from helpers.exercises.process_pool import (
    CountedScorer,
    ProcessPoolExercise,
    Scorer,
    describe_pool,
    exercise_answers,
    needed_speedup,
    speedup_line,
)
from helpers.exercises.report import CheckReport
from helpers.workloads.cpu_work import score_answer
from lessons.solutions.process_pool import make_pool, score_all


@pytest.fixture(scope="module")
def exercise() -> ProcessPoolExercise:
    return ProcessPoolExercise(answers=600)


def test_the_solution_passes(exercise) -> None:
    report = exercise.check(make_pool, score_all, cpus=1, runs=1)
    assert report.passed, str(report)
    assert "ProcessPoolExecutor of" in report.lines[0][1] and "started by spawn" in report.lines[0][1]


def test_a_thread_pool_is_refused_because_of_the_gil(exercise) -> None:
    report = exercise.check(lambda: ThreadPoolExecutor(max_workers=2), score_all, cpus=1, runs=1)
    assert report.problems == [report.lines[0][1]] and "take turns on the GIL" in report.problems[0]


def test_one_answer_per_task_is_caught_by_counting_the_trips(exercise) -> None:
    report = exercise.check(make_pool, lambda pool, answers, score: list(pool.map(score, answers)), cpus=1, runs=1)
    assert any(f"{len(exercise.answers)} tasks for {len(exercise.answers)} answers" in problem
               and "pass chunksize" in problem for problem in report.problems), str(report)


def test_results_in_finishing_order_are_caught(exercise) -> None:
    def as_they_finish(pool, answers, score):
        futures = [pool.submit(score, answer) for answer in answers[:60]]
        futures.reverse()  # the order a slow first task would give, made certain
        return [future.result() for future in futures] + [score(answer) for answer in answers[60:]]

    report = exercise.check(make_pool, as_they_finish, cpus=1, runs=1)
    assert "the right scores in the wrong order" in report.problems[0]


def test_scoring_in_the_parent_is_caught(exercise) -> None:
    report = exercise.check(make_pool, lambda pool, answers, score: [score(answer) for answer in answers], cpus=1, runs=1)
    assert any("no task reached a worker process" in problem for problem in report.problems)


def test_a_short_list_and_a_missing_pool_are_explained(exercise) -> None:
    report = exercise.check(make_pool, lambda pool, answers, score: [], cpus=1, runs=1)
    assert "one score per answer, 600 in all; got 0 items" in report.problems[0]
    assert "not a pool" in exercise.check(lambda: None, score_all).problems[0]


def test_the_counted_scorer_counts_its_trips_and_a_worker_gets_a_plain_scorer() -> None:
    counted = CountedScorer(effort=2)
    received = pickle.loads(pickle.dumps(counted))
    assert counted.pickled == 1 and type(received) is Scorer and received.effort == 2
    assert received("Threads share memory.") == score_answer("Threads share memory.", 2)


def test_the_answers_are_distinct_strings_whose_numbers_change_no_score() -> None:
    answers = exercise_answers(100)
    assert len(set(answers)) == 100
    assert score_answer(answers[0]) == score_answer(answers[0].rsplit(" #", 1)[0])


def test_pools_are_told_apart() -> None:
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(3, mp_context=spawn) as executor:
        assert describe_pool(executor).description == "a ProcessPoolExecutor of 3 worker processes started by spawn"
    with spawn.Pool(1) as pool:
        assert describe_pool(pool).uses_processes
    with multiprocessing.pool.ThreadPool(2) as threads:
        assert not describe_pool(threads).uses_processes
    with ThreadPoolExecutor(2) as executor:
        assert describe_pool(executor).description == "a ThreadPoolExecutor of 2 threads"


@pytest.mark.parametrize(("sequential", "pooled", "cpus", "passes"), [
    (1.0, 0.6, 2, True),  # 1.7×: two CPUs used
    (1.0, 0.95, 2, False),  # about 1×: the CPUs were not used
    (1.0, 1.3, 1, True),  # one CPU: a little slower is all a pool can do
    (1.0, 3.0, 1, False),  # one CPU, but far slower: chunks too small
])
def test_the_speedup_needed_depends_on_the_cpus(sequential, pooled, cpus, passes) -> None:
    report = CheckReport("made-up times")
    speedup_line(report, sequential, pooled, cpus)
    assert report.passed is passes
    assert needed_speedup(cpus) == (1.25 if cpus >= 2 else 0.6)
    if cpus == 1:
        assert "this process may use 1 CPU" in report.lines[0][1]
