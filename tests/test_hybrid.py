"""The three hybrid patterns of lesson 05, on fake calls: order, overlap, where analysis runs, backpressure.

Overlap and backpressure are shown with events, not with sleeps and wall times: a fake call
waits until something else has happened, so a slow machine makes a test slower, never wrong.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from helpers.workloads.hybrid import analyse_as_they_arrive, gather_then_analyse, queued_pipeline
from helpers.workloads.process_workers import count_words

PROMPTS = [f"prompt {'word ' * number}" for number in range(1, 7)]


async def echo(prompt: str) -> str:
    await asyncio.sleep(0)
    return prompt.upper()


def shout_count(answer: str) -> tuple[int, str]:
    return len(answer.split()), answer


def expected() -> list[tuple[int, str]]:
    return [shout_count(prompt.upper()) for prompt in PROMPTS]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=30))


@pytest.mark.parametrize("pattern", [gather_then_analyse, analyse_as_they_arrive])
@pytest.mark.parametrize("pool", [None, "threads"])
def test_results_come_back_in_the_prompts_order(pattern, pool):
    with ThreadPoolExecutor(3) as threads:
        results = run(pattern(PROMPTS, echo, shout_count, threads if pool else None))
    assert results == expected()


def test_queued_pipeline_returns_every_result_in_order():
    with ThreadPoolExecutor(2) as threads:
        results = run(queued_pipeline(PROMPTS, echo, shout_count, threads, callers=3, analysers=2, queue_size=2))
    assert results == expected()


def test_queued_pipeline_reports_answers_waiting_not_stop_signals_and_ends_at_none():
    def slow_count(answer: str) -> int:  # slower than the calls: answers are still queued when they end
        time.sleep(0.02)
        return len(answer)

    seen: list[int] = []
    with ThreadPoolExecutor(1) as one_thread:
        run(queued_pipeline(PROMPTS, echo, slow_count, one_thread, callers=3, analysers=2, queue_size=0,
                            on_change=seen.append))
    assert seen[-1] == 0 and len(seen) == 2 * len(PROMPTS) and max(seen) <= len(PROMPTS)


def test_gather_then_analyse_starts_no_analysis_before_the_last_answer():
    events: list[str] = []

    async def ask(prompt: str) -> str:
        await asyncio.sleep(0.01 * len(prompt))
        events.append("answer")
        return prompt

    def analyse(answer: str) -> int:
        events.append("analysis")
        return len(answer)

    run(gather_then_analyse(PROMPTS, ask, analyse, None))
    assert events == ["answer"] * len(PROMPTS) + ["analysis"] * len(PROMPTS)


def test_analyse_as_they_arrive_analyses_the_first_answer_while_a_call_is_still_out():
    async def main() -> list[int]:
        first_analysed = asyncio.Event()

        async def ask(prompt: str) -> str:
            if prompt == "slow":
                await first_analysed.wait()  # answers only once the other answer was analysed
            return prompt

        def analyse(answer: str) -> int:
            if answer == "fast":
                first_analysed.set()
            return len(answer)

        # Waiting for every answer before analysing would never end: the timeout makes that a failure.
        async with asyncio.timeout(10):
            return await analyse_as_they_arrive(["slow", "fast"], ask, analyse, None)

    assert asyncio.run(main()) == [4, 4]


def test_with_no_pool_the_analysis_runs_on_the_event_loops_thread_and_with_a_pool_elsewhere():
    def thread_of(answer: str) -> int:
        return threading.get_ident()

    async def main() -> tuple[set[int], set[int]]:
        with ThreadPoolExecutor(2) as threads:
            in_pool = await analyse_as_they_arrive(PROMPTS, echo, thread_of, threads)
        on_loop = await analyse_as_they_arrive(PROMPTS, echo, thread_of, None)
        return set(on_loop), set(in_pool)

    on_loop, in_pool = asyncio.run(main())
    assert on_loop == {threading.get_ident()}
    assert threading.get_ident() not in in_pool


def test_a_process_pool_analyses_in_other_processes():
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        counts = run(analyse_as_they_arrive(PROMPTS, echo, count_words, pool))
        pids = set(run(gather_then_analyse(PROMPTS, echo, pid_of, pool)))
    assert counts == [len(prompt.split()) for prompt in PROMPTS]
    assert os.getpid() not in pids


def pid_of(answer: str) -> int:
    return os.getpid()


def blocked_pipeline(prompts: list[str], queue_size: int, callers: int, analysers: int):
    """Run queued_pipeline with analyses held until released; report how many calls got through."""
    release = threading.Event()
    asked: list[str] = []
    waiting_seen: list[int] = []

    async def ask(prompt: str) -> str:
        asked.append(prompt)
        await asyncio.sleep(0)
        return prompt

    def held_analysis(answer: str) -> str:
        release.wait(timeout=20)
        return answer

    async def main() -> tuple[int, list[str]]:
        with ThreadPoolExecutor(analysers) as threads:
            pipeline = asyncio.create_task(queued_pipeline(prompts, ask, held_analysis, threads, callers=callers,
                                                           analysers=analysers, queue_size=queue_size,
                                                           on_change=waiting_seen.append))
            settled = -1
            while settled != len(asked):  # wait until the callers stop making progress
                settled = len(asked)
                for _ in range(50):
                    await asyncio.sleep(0)
            asked_while_held = len(asked)
            release.set()
            return asked_while_held, await pipeline

    asked_while_held, results = run(main())
    return asked_while_held, results, waiting_seen


def test_a_bounded_queue_stops_the_callers_while_the_analysers_are_busy():
    prompts = [f"prompt {number}" for number in range(40)]
    asked_while_held, results, waiting_seen = blocked_pipeline(prompts, queue_size=3, callers=2, analysers=2)
    # Two answers in the analysers' hands, three in the queue, one in each caller's hand.
    assert asked_while_held == 2 + 3 + 2
    assert max(waiting_seen) == 3
    assert results == prompts


def test_an_unbounded_queue_lets_every_call_through_while_the_analysers_are_busy():
    prompts = [f"prompt {number}" for number in range(40)]
    asked_while_held, results, waiting_seen = blocked_pipeline(prompts, queue_size=0, callers=2, analysers=2)
    assert asked_while_held == len(prompts)
    assert max(waiting_seen) >= len(prompts) - 2  # all but the two in the analysers' hands, or more for a moment
    assert results == prompts


def test_a_failing_call_cancels_the_pipeline_and_is_raised():
    async def ask(prompt: str) -> str:
        if prompt == PROMPTS[2]:
            raise ConnectionError("the server went away")
        await asyncio.sleep(0)
        return prompt

    async def main() -> set[asyncio.Task]:
        with pytest.raises(ExceptionGroup) as raised:
            await queued_pipeline(PROMPTS, ask, len, None, callers=2, analysers=2, queue_size=1)
        assert raised.group_contains(ConnectionError)
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(main()) == set()  # no caller or analyser left running


@pytest.mark.parametrize("settings", [dict(callers=0, analysers=1, queue_size=1),
                                      dict(callers=1, analysers=0, queue_size=1),
                                      dict(callers=1, analysers=1, queue_size=-1)])
def test_queued_pipeline_says_what_is_wrong_with_its_settings(settings):
    with pytest.raises(ValueError, match="at least one caller"):
        run(queued_pipeline(PROMPTS, echo, len, None, **settings))


def test_a_backlog_notes_every_change_and_draws_one_line_per_queue():
    from matplotlib.figure import Figure

    from helpers.measuring.backlog import Backlog, plot_backlogs

    backlog = Backlog()
    for waiting in (1, 2, 3, 2, 0):
        backlog(waiting)
    assert [waiting for _, waiting in backlog.points] == [0, 1, 2, 3, 2, 0] and backlog.peak == 3
    assert [seconds for seconds, _ in backlog.points] == sorted(seconds for seconds, _ in backlog.points)
    figure = plot_backlogs({"queue of 3": backlog, "no bound": Backlog()})
    assert isinstance(figure, Figure) and len(figure.axes[0].get_lines()) == 2


def test_the_lower_bound_is_the_slowest_chain_of_arrival_and_remaining_work():
    from helpers.workloads.hybrid import lower_bound

    # Two answers at once, 1 s of work each: two CPUs finish at 1 s, one CPU at 2 s.
    assert lower_bound([0.0, 0.0], [1.0, 1.0], cpus=2) == 1.0
    assert lower_bound([0.0, 0.0], [1.0, 1.0], cpus=1) == 2.0
    # A late answer with long work decides it, whatever came before.
    assert lower_bound([0.1, 0.2, 3.0], [0.5, 0.5, 2.0], cpus=2) == 5.0
    # Much work early: the CPUs' share of it decides it.
    assert lower_bound([0.0, 0.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0, 0.1], cpus=2) == 2.05
    with pytest.raises(ValueError):
        lower_bound([0.0], [1.0, 2.0], cpus=2)
