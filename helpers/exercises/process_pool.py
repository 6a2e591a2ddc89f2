"""Exercise of 04_multiprocessing: score thousands of short LLM answers on a process pool.

The learner writes two functions:

- `make_pool()`: the pool that lets pure-Python work use every CPU, with an explicit start method;
- `score_all(pool, answers, score)`: `score(answer)` for every answer, in the answers' order,
  computed on that pool.

The check starts the pool once, outside the timing (an application starts its pool once and
reuses it), then:

1. compares the scores with the sequential ones: same scores, same order;
2. tells a process pool from a thread pool;
3. counts the tasks the pool sent to its workers. `score` is a `CountedScorer`: every task
   carries the function to the worker through pickle, and a `CountedScorer` counts how often it
   is pickled. 4000 tasks for 4000 answers means chunksize 1: one trip to a worker per answer;
4. times `score_all` against the sequential loop, taking turns, and compares the speed-up with
   what this machine allows.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing.pool import Pool, ThreadPool
from typing import Any, NamedTuple

from helpers.claims.machine import usable_cpus
from helpers.drawing.formatting import format_ratio, format_seconds
from helpers.exercises.report import CheckReport
from helpers.llm_server.text import answer
from helpers.measuring.stopwatch import fastest_of_each
from helpers.mode import by_mode
from helpers.workloads.cpu_work import AnswerScore, score_answer

EFFORT = 4  # a short answer scored 4 times over: about 0.1 ms, far less than a trip to a worker
MIN_ANSWERS_PER_TASK = 20
TOPICS = ("threads", "the GIL", "a process pool", "pickling", "a start method", "chunksize", "an event loop",
          "a rate limit", "a neural network", "reinforcement learning")


def exercise_answers(count: int, seed: int = 0) -> list[str]:
    """`count` short answers as the simulated server writes them (no server needed).

    Each ends with its number, so that every string is distinct, as real answers are: pickle
    sends an object that repeats only once. Digits are not words, so the number changes no score.
    """
    distinct = [answer(f"In {20 + 5 * (i % 8)} words, explain {topic}.", seed)
                for i, topic in enumerate(TOPICS * 4)]
    return [f"{distinct[i % len(distinct)]} #{i}" for i in range(count)]


class Scorer:
    """`score_answer(text, effort)` as a picklable object: what a worker receives."""

    def __init__(self, effort: int = EFFORT) -> None:
        self.effort = effort

    def __call__(self, text: str) -> AnswerScore:
        return score_answer(text, self.effort)


class CountedScorer(Scorer):
    """A Scorer that counts how many times it was pickled: once per task sent to a worker process.

    A worker receives a plain `Scorer` (see `__reduce__`), so the count stays here, in the parent.
    """

    def __init__(self, effort: int = EFFORT) -> None:
        super().__init__(effort)
        self._lock = threading.Lock()  # a pool pickles its tasks in a thread of its own
        self.pickled = 0

    def __reduce__(self) -> tuple[type, tuple[int]]:
        with self._lock:
            self.pickled += 1
        return Scorer, (self.effort,)


class PoolKind(NamedTuple):
    uses_processes: bool
    description: str


def describe_pool(pool: object) -> PoolKind:
    """What kind of pool `pool` is, and in a few words why that matters for Python code."""
    # The learner's make_pool() built the pool, so we did not pass its size or context, and neither
    # the executors nor multiprocessing.Pool has a public way to read them back: these private
    # attributes (there since Python 3.7) are the only way short of asking the workers themselves.
    workers = getattr(pool, "_max_workers", None) or getattr(pool, "_processes", None)
    context = getattr(pool, "_mp_context", None) or getattr(pool, "_ctx", None)
    method = context.get_start_method() if context is not None else None
    if isinstance(pool, ThreadPool):  # a subclass of Pool: test it first
        return PoolKind(False, f"a multiprocessing.pool.ThreadPool of {workers} threads")
    if isinstance(pool, ThreadPoolExecutor):
        return PoolKind(False, f"a ThreadPoolExecutor of {workers} threads")
    if isinstance(pool, (ProcessPoolExecutor, Pool)):
        name = "a ProcessPoolExecutor" if isinstance(pool, ProcessPoolExecutor) else "a multiprocessing Pool"
        return PoolKind(True, f"{name} of {workers} worker processes started by {method}")
    return PoolKind(False, f"{type(pool).__name__}, not a pool")


def close_pool(pool: object) -> None:
    if isinstance(pool, Pool):
        pool.terminate()
        pool.join()
    elif isinstance(pool, Executor):
        pool.shutdown(cancel_futures=True)


def needed_speedup(cpus: int) -> float:
    """The least speed-up that shows the pool used the CPUs: on one CPU, only "not much slower"."""
    return 1.25 if cpus >= 2 else 0.6


def speedup_line(report: CheckReport, sequential: float, pooled: float, cpus: int) -> None:
    speedup = sequential / pooled
    numbers = (f"sequential {format_seconds(sequential)}, your pool {format_seconds(pooled)}: "
               f"{format_ratio(speedup)}")
    needed = needed_speedup(cpus)
    if cpus < 2:
        verdict = (f"this process may use 1 CPU, so no pool can be faster here; {format_ratio(needed)} or more "
                   "shows it costs little. On a machine with more CPUs you would see a real speed-up")
    else:
        verdict = f"with {cpus} CPUs, expect at least {format_ratio(needed)} (up to {format_ratio(cpus)} in theory)"
    if speedup >= needed:
        report.expect(True, f"{numbers}; {verdict}")
    else:
        report.expect(False, f"{numbers}; {verdict}. Fewer workers than CPUs, chunks too small, or another program "
                             "using the CPUs all slow it down: check the lines above, then run the cell again")


class ProcessPoolExercise:
    """The answers to score, the counted scorer, and the check of the learner's two functions."""

    def __init__(self, answers: int | None = None, effort: int = EFFORT) -> None:
        self.answers = exercise_answers(answers or by_mode(learner=8000, test=2000))
        self.effort = effort
        self.score = Scorer(effort)  # to try things out; the check passes its own, counted, scorer

    def check(self, make_pool: Callable[[], Any], score_all: Callable[[Any, list[str], Scorer], list],
              cpus: int | None = None, runs: int = 2) -> CheckReport:
        cpus = usable_cpus() if cpus is None else cpus
        report = CheckReport(f"Score {len(self.answers)} answers on a process pool")
        pool = make_pool()
        try:
            kind = describe_pool(pool)
            if not kind.uses_processes:
                report.expect(False, f"make_pool() returned {kind.description}. Scoring is pure Python, and threads "
                                     "take turns on the GIL for Python code: return a ProcessPoolExecutor with an "
                                     "explicit mp_context, e.g. multiprocessing.get_context('spawn')")
                return report
            report.expect(True, f"make_pool() returned {kind.description}: each worker has its own GIL")

            sequential = Scorer(self.effort)
            expected = [sequential(text) for text in self.answers]
            score = CountedScorer(self.effort)
            results = score_all(pool, self.answers, score)
            if not self._same_scores(report, results, expected):
                return report
            self._tasks_line(report, score.pickled)
            baseline, pooled = fastest_of_each(runs, lambda: [sequential(text) for text in self.answers],
                                               lambda: score_all(pool, self.answers, score))
            speedup_line(report, baseline.seconds, pooled.seconds, cpus)
            return report
        finally:
            close_pool(pool)

    def _same_scores(self, report: CheckReport, results: Any, expected: list[AnswerScore]) -> bool:
        if not isinstance(results, list) or len(results) != len(expected):
            got = f"{len(results)} items" if isinstance(results, list) else type(results).__name__
            return report.expect(False, f"return a list with one score per answer, {len(expected)} in all; got {got}. "
                                        "list(pool.map(...)) makes one")
        if results == expected:
            return report.expect(True, "every score equals the sequential one, in the answers' order")
        if Counter(results) == Counter(expected):
            return report.expect(False, "the right scores in the wrong order: as_completed and imap_unordered give "
                                        "results as they finish; pool.map gives them in the order of the answers")
        return report.expect(False, "some scores differ from the sequential ones: call score(answer) on each answer, "
                                    "unchanged")

    def _tasks_line(self, report: CheckReport, tasks: int) -> None:
        answers = len(self.answers)
        if tasks == 0:
            report.expect(False, "no task reached a worker process: the scores were computed here. Call "
                                 "pool.map(score, answers, chunksize=...) inside score_all")
        elif answers / tasks < MIN_ANSWERS_PER_TASK:
            report.expect(False, f"{tasks} tasks for {answers} answers: about {answers / tasks:.0f} answer(s) per "
                                 "trip to a worker. Each trip pickles, pipes and unpickles, which costs more than "
                                 "scoring one short answer: pass chunksize, e.g. len(answers) // (4 * workers)")
        else:
            report.expect(True, f"{tasks} tasks for {answers} answers: about {answers / tasks:.0f} answers per trip "
                                "to a worker, so the trips cost little beside the work")
