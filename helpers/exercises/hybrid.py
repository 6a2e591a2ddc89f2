"""Exercise of 05_hybrid: a hybrid pipeline, LLM calls concurrent, heavy analysis on every CPU.

The learner writes two functions:

- `make_pool()`: the pool the analyses run on;
- `async pipeline(prompts, ask, analyse, pool)`: `analyse(answer)` for each prompt's answer, in
  the prompts' order, with the calls concurrent and the analyses on `pool`.

The check starts the pool once, readies its workers, then runs the pipeline once and verifies,
from evidence the learner's code cannot fake:

1. the results: each one is the analysis of the simulator's answer to the prompt in that slot;
2. the calls overlapped: the server's journal for the exercise's own API key;
3. the analyses ran in worker processes: each `Analysis` carries the id of the process that
   computed it and the time it started;
4. the analyses overlapped the calls: some analysis started before the last answer arrived,
   which gather-then-analyse never does;
5. the wall time is near the bound for this machine (`lower_bound` in helpers/workloads/hybrid.py): no
   schedule ends before an answer arrives plus its analysis, nor before any answer arrives plus
   all the analysis still to come shared among the CPUs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, NamedTuple

from helpers.claims.machine import usable_cpus
from helpers.drawing.formatting import format_seconds
from helpers.exercises.near_bound import expect_near_bound
from helpers.exercises.own_key import OwnKeyExercise
from helpers.exercises.process_pool import Scorer, close_pool, describe_pool
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport
from helpers.llm_server.text import answer
from helpers.measuring.spans import max_overlap
from helpers.mode import by_mode
from helpers.workloads.cpu_work import AnswerScore, score_answer, units_for_seconds
from helpers.workloads.hybrid import lower_bound

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

# Answers of very different lengths, so they arrive over a spread of time, as real ones do.
PROMPTS = tuple(f"In {words} words, explain {topic}." for words, topic in zip(
    (250, 20, 180, 60, 220, 40, 120, 30, 200, 80, 150, 100),
    ("an event loop", "a process pool", "the GIL", "backpressure", "a rate limit", "pickling",
     "a semaphore", "a thread", "a start method", "chunksize", "a task group", "latency")))
MARGIN = 1.3  # the wall time may exceed the bound by this factor ...
SLACK = 0.15  # ... plus these seconds: trips to the workers, the event loop's own work


class Analysis(NamedTuple):
    """What one analysis found, and where and when it ran."""

    score: AnswerScore
    pid: int  # the process that computed it
    started: float  # Unix time, the clock every process shares
    cpu_seconds: float


class Analyser(Scorer):
    """Lesson 04's picklable `Scorer`, also reporting the process that ran it and when."""

    def __call__(self, text: str) -> Analysis:
        started, cpu_started = time.time(), time.process_time()
        score = super().__call__(text)
        return Analysis(score, os.getpid(), started, time.process_time() - cpu_started)


Pipeline = Callable[[Sequence[str], Callable[[str], Awaitable[str]], Analyser, Any], Awaitable[list]]


class HybridExercise(OwnKeyExercise):
    """The prompts, an `ask` with the exercise's own API key, the analysis, and the check."""

    prompts = PROMPTS

    def __init__(self, server: ServerHandle, seconds_per_analysis: float | None = None, seed: int = 0) -> None:
        super().__init__(server, seed)
        self.arrived: dict[str, float] = {}
        self.seconds_per_analysis = seconds_per_analysis or by_mode(learner=0.25, test=0.08)
        middling = answer(PROMPTS[len(PROMPTS) // 2], seed)  # 120 words: shorter answers take less, longer more
        self.analyse = Analyser(units_for_seconds(lambda effort: score_answer(middling, effort),
                                                  self.seconds_per_analysis))

    async def ask(self, prompt: str) -> str:
        answered = await super().ask(prompt)
        self.arrived[prompt] = time.time()  # when this prompt's answer was in: for the bound
        return answered

    async def check(self, pipeline: Pipeline, make_pool: Callable[[], Any], cpus: int | None = None) -> CheckReport:
        """Run `pipeline` once on a pool from `make_pool()` and say what is right and what is wrong."""
        cpus = usable_cpus() if cpus is None else cpus
        report = CheckReport(f"A hybrid pipeline: {len(PROMPTS)} calls, {len(PROMPTS)} heavy analyses")
        pool = make_pool()
        try:
            if not self._usable(report, pool):
                return report
            await self._ready(pool)
            self.arrived = {}
            since = time.time()
            started = time.perf_counter()
            results = await pipeline(PROMPTS, self.ask, self.analyse, pool)
            wall = time.perf_counter() - started
        finally:
            close_pool(pool)
        journal = self.journal(since)
        arrivals = [self.arrived.get(prompt, since) - since for prompt in PROMPTS]
        judge(report, results, journal, self.seed, wall, arrivals, cpus, self.analyse.effort)
        return await asyncio.to_thread(report_progress, self.server, report)  # an HTTP call: off the loop

    @staticmethod
    def _usable(report: CheckReport, pool: Any) -> bool:
        """A process pool that `loop.run_in_executor` accepts, whose workers start clean (spawn or forkserver)."""
        kind = describe_pool(pool)
        if not kind.uses_processes:
            return report.expect(False, f"make_pool() returned {kind.description}. The analysis is pure Python, which "
                                        "threads run one at a time: return a ProcessPoolExecutor")
        if not isinstance(pool, Executor):
            return report.expect(False, f"make_pool() returned {kind.description}, but `loop.run_in_executor` takes a "
                                        "concurrent.futures executor: return a ProcessPoolExecutor")
        # The learner's pool: no public attribute tells its start method (see describe_pool), so the private one.
        if pool._mp_context.get_start_method() == "fork":
            return report.expect(False, "the pool forks its workers (Linux's default up to Python 3.13): a fork copies "
                                        "this kernel with its threads and their locks, and fails on macOS and Windows. "
                                        "Pass mp_context=multiprocessing.get_context('spawn')")
        return report.expect(True, f"make_pool() returned {kind.description}: each worker has its own GIL")

    async def _ready(self, pool: Executor) -> None:
        """Start every worker and import the analysis there, before the clock starts."""
        loop = asyncio.get_running_loop()
        workers = pool._max_workers  # the learner chose it; ProcessPoolExecutor has no public way to read it back
        await asyncio.gather(*(loop.run_in_executor(pool, warm_up, self.analyse) for _ in range(workers)))


def warm_up(analyse: Analyser) -> None:
    """In a worker: import the analysis, then stay busy a moment so that each worker takes one warm-up."""
    analyse("warm up")
    time.sleep(0.2)


def judge(report: CheckReport, results: Any, journal: list[dict], seed: int, wall: float, arrivals: list[float],
          cpus: int, effort: int) -> None:
    """The five checks of the module's docstring, on what one run left behind."""
    if not _complete(report, results, journal):
        return
    expected = [score_answer(answer(prompt, seed), effort) for prompt in PROMPTS]
    wrong = [i for i, result in enumerate(results) if result.score != expected[i]]
    if not report.expect(not wrong, "every result is the analysis of its prompt's answer, in the prompts' order"
                         if not wrong else f"{len(wrong)} slots hold another prompt's analysis (first: slot "
                         f"{wrong[0]}): results taken as they finish come in finishing order; keep each one's slot"):
        return
    in_flight = max_overlap([(entry["arrival"], entry["end"]) for entry in journal])
    report.expect(in_flight >= 2, f"the server saw up to {in_flight} calls in flight at once" if in_flight >= 2
                  else "the server never saw two calls at once: start them all together (a TaskGroup, gather), "
                       "not one `await` after another")
    pids = {result.pid for result in results}
    if os.getpid() in pids:
        report.expect(False, "some analyses ran in the notebook's own process: hand each one to the pool with "
                             "`await loop.run_in_executor(pool, analyse, answer)`")
        return
    report.expect(True, f"the analyses ran in {len(pids)} worker process(es), not in the notebook")
    last_answer = max(entry["end"] for entry in journal)
    early = sum(result.started < last_answer for result in results)
    report.expect(early > 0, f"{early} analyses started while calls were still out: answers went to the pool as "
                             "they arrived" if early else
                  "every analysis started after the last answer arrived: the pool sat idle while the slowest "
                  "call was out. Send each answer to the pool as soon as it arrives")
    _near_the_bound(report, results, arrivals, wall, cpus)


def _complete(report: CheckReport, results: Any, journal: list[dict]) -> bool:
    if not isinstance(results, list) or len(results) != len(PROMPTS):
        got = f"{len(results)} items" if isinstance(results, list) else type(results).__name__
        return report.expect(False, f"return a list with one analysis per prompt, {len(PROMPTS)} in all; got {got}")
    if not all(isinstance(result, Analysis) for result in results):
        return report.expect(False, "every item should be what analyse(answer) returned: did you return answers, "
                                    "futures or tasks instead of awaiting the analyses?")
    if len(journal) != len(PROMPTS):
        return report.expect(False, f"the server saw {len(journal)} calls from this exercise, not {len(PROMPTS)}: "
                                    "call ask(prompt) once per prompt")
    return True


def _near_the_bound(report: CheckReport, results: list[Analysis], arrivals: list[float], wall: float,
                    cpus: int) -> None:
    """Compare the wall time with the best any schedule could do on every CPU this process may use."""
    works = [result.cpu_seconds for result in results]
    bound = lower_bound(arrivals, works, cpus)
    numbers = (f"wall time {format_seconds(wall)}; the best any schedule could do here is {format_seconds(bound)} "
               f"(answers arrived from {format_seconds(min(arrivals))} to {format_seconds(max(arrivals))}, then "
               f"{format_seconds(sum(works))} of analysis on {cpus} CPU(s))")
    expect_near_bound(report, wall, bound, numbers, f"Are there as many workers as CPUs ({cpus})? Does anything "
                      "wait for all the answers, or run analyses one at a time?", margin=MARGIN, slack=SLACK)
