"""The lessons' workloads: deterministic, sized by units, usable from a spawned process pool."""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from helpers.measuring.spans import Recorder
from helpers.workloads import cpu_work as workloads
from helpers.workloads.cpu_work import (
    AnswerScore,
    c_hash_work,
    python_busy_work,
    score_answer,
    score_opening,
    units_for_seconds,
)
from helpers.workloads.threads import fastest_on_threads, run_on_threads

ANSWER = "Threads share memory. Processes do not share memory! Do threads share the GIL? Yes."


def test_python_busy_work_is_deterministic_and_grows_with_units() -> None:
    assert python_busy_work(3) == python_busy_work(3)
    assert python_busy_work(3) != python_busy_work(4)


def test_c_hash_work_depends_on_the_number_of_rounds() -> None:
    assert c_hash_work(2) == c_hash_work(2) != c_hash_work(3)


def test_units_for_seconds_converts_a_duration_into_units_of_the_measured_work(monkeypatch) -> None:
    """A work that costs exactly 1 ms per unit on a fake clock: 0.2 s must be 200 units.

    A fake clock, because this machine's real one jumps by hundreds of milliseconds when the
    virtual CPU is paused, and this test is about the arithmetic, not about the machine.
    """
    clock = [0.0]
    monkeypatch.setattr(workloads.time, "perf_counter", lambda: clock[0])

    def one_millisecond_per_unit(units: int) -> None:
        clock[0] += units / 1000

    assert units_for_seconds(one_millisecond_per_unit, 0.2) == 200

    pauses = [0.5]  # the operating system paused the first run

    def paused_once(units: int) -> None:
        clock[0] += units / 1000 + (pauses.pop() if pauses else 0)

    assert units_for_seconds(paused_once, 0.2) == 200
    assert units_for_seconds(one_millisecond_per_unit, 1e-9) == 1


def test_score_answer_counts_words_sentences_and_repetition() -> None:
    score = score_answer(ANSWER)
    assert score == AnswerScore(
        words=14, distinct_words=9, sentences=4, top_word="share", repetition=pytest.approx(4 / 13)
    )
    assert score_answer(ANSWER, effort=5) == score


def test_score_answer_refuses_no_effort() -> None:
    with pytest.raises(ValueError, match="effort must be at least 1"):
        score_answer(ANSWER, effort=0)


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
def test_workloads_run_in_a_pool_under_start_methods_that_import_by_name(method: str) -> None:
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context(method)) as pool:
        assert list(pool.map(score_answer, [ANSWER, ANSWER.upper()])) == [score_answer(ANSWER)] * 2


def test_timed_work_reports_its_process_and_times_from_a_spawned_worker() -> None:
    import os

    from helpers.workloads.cpu_work import timed_python_work

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        run = pool.submit(timed_python_work, 2).result()
    assert run.pid != os.getpid() and run.start <= run.end and run.result == python_busy_work(2)
    assert 0 < run.cpu_seconds <= run.end - run.start + 0.01  # on a CPU at most all of its wall time


def test_score_opening_reads_only_the_first_400_characters() -> None:
    long_answer = "One short sentence here. " * 40  # 1000 characters
    assert score_opening(long_answer) == score_answer(long_answer[:400])
    assert score_opening(long_answer) != score_answer(long_answer)
    assert score_opening(ANSWER, effort=2) == score_answer(ANSWER)  # a short answer is read whole


def test_run_on_threads_returns_the_wall_time_its_timeline_shows() -> None:
    """Lesson 01 prints this number under a timeline whose title gives the spans' wall time."""
    recorder = Recorder()
    seconds = run_on_threads(lambda: time.sleep(0.01), calls=6, threads=3, recorder=recorder)
    spans = list(recorder)
    assert len(spans) == 6 and {span.lane for span in spans} == {"thread 1", "thread 2", "thread 3"}
    assert seconds == max(span.end for span in spans) - min(span.start for span in spans)


def test_fastest_on_threads_keeps_each_settings_fastest_round() -> None:
    slow_first = iter([0.05, 0.0, 0.0, 0.0])  # the first call of the first round is slowed down

    def work() -> None:
        time.sleep(next(slow_first, 0.0))

    fastest = fastest_on_threads({"work": work}, thread_counts=(1, 2), calls=2, rounds=2)
    assert set(fastest) == {"work"} and set(fastest["work"]) == {1, 2}
    assert fastest["work"][1] < 0.04  # the second round's run, not the slowed one

