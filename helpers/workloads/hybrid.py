"""The hybrid pattern of lesson 05: LLM calls concurrent on the event loop, analysis in parallel
on a process pool.

Three ways to join the two halves, each a few lines:

* `gather_then_analyse`: the seed article's scenario 4. Every call at once, wait for the last
  answer, then send all the answers to the pool. Simple, but no analysis starts before the
  slowest call has answered.
* `analyse_as_they_arrive`: each answer goes to the pool the moment it arrives, while the other
  calls are still out. `pool=None` analyses in the notebook instead, on the event loop itself,
  which is what plain asyncio code does: then the analyses run one at a time.
* `queued_pipeline`: a fixed number of caller tasks put answers on a bounded `asyncio.Queue`,
  a fixed number of analyser tasks take them off. When the analysers fall behind, the queue
  fills and the callers wait: *backpressure*. Answers never pile up beyond the queue's size.

`loop.run_in_executor(pool, analyse, answer)` is the bridge: it hands the work to a worker
process and returns an awaitable, so the loop goes on serving the other calls meanwhile.
Every task is named after its prompt's number, so a timeline shows one row per prompt.

The seed article's five prompts live here too, with `key_per_prompt`, which lessons 04 and 05
use to give every prompt the same latency in every way they compare.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")
Ask = Callable[[str], Awaitable[str]]  # async: one LLM call, prompt in, answer out
Analyse = Callable[[str], T]  # plain function: CPU work on one answer (picklable, for a process pool)

# The seed article's five prompts, which lessons 04 and 05 send on the simulator's `seed-article` preset.
SEED_PROMPTS = ("Explain AI in 50 words", "Summarize quantum computing", "Write a haiku about robots",
                "Describe neural networks", "What is reinforcement learning?")


def key_per_prompt(prompts: Sequence[str], first: int = 1) -> dict[str, str]:
    """An API key of its own for each prompt: "sk-prompt-1", "sk-prompt-2"…, numbered from `first`.

    On the simulator a key picks the random stream a request's latency is drawn from, so after a
    `reset()` each prompt draws the same latency in every way it is sent: the ways compare fairly.
    """
    return {prompt: f"sk-prompt-{number}" for number, prompt in enumerate(prompts, start=first)}


async def analysed(answer: str, analyse: Analyse[T], pool: Executor | None) -> T:
    """`analyse(answer)` in a worker of `pool`, awaited; with no pool, right here on the loop."""
    if pool is None:
        return analyse(answer)  # blocks the event loop for as long as the analysis takes
    return await asyncio.get_running_loop().run_in_executor(pool, analyse, answer)


async def in_named_tasks(coroutines: Sequence[Awaitable[T]]) -> list[T]:
    """Await the coroutines concurrently, as tasks named "prompt 1", "prompt 2"…; results in order.

    A TaskGroup, not gather: if one fails, the others are cancelled instead of left running.
    """
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(coroutine, name=f"prompt {number}")
                 for number, coroutine in enumerate(coroutines, start=1)]
    return [task.result() for task in tasks]


async def gather_then_analyse(prompts: Sequence[str], ask: Ask, analyse: Analyse[T], pool: Executor | None) -> list[T]:
    """All calls at once; when the last answer is in, all analyses at once on the pool."""
    answers = await in_named_tasks([ask(prompt) for prompt in prompts])
    return await in_named_tasks([analysed(answer, analyse, pool) for answer in answers])


async def analyse_as_they_arrive(prompts: Sequence[str], ask: Ask, analyse: Analyse[T],
                                 pool: Executor | None) -> list[T]:
    """All calls at once; each answer is analysed as soon as it arrives."""

    async def call_then_analyse(prompt: str) -> T:
        return await analysed(await ask(prompt), analyse, pool)

    return await in_named_tasks([call_then_analyse(prompt) for prompt in prompts])


async def queued_pipeline(prompts: Sequence[str], ask: Ask, analyse: Analyse[T], pool: Executor | None, *,
                          callers: int, analysers: int, queue_size: int,
                          on_change: Callable[[int], None] | None = None) -> list[T]:
    """`callers` tasks call, `analysers` tasks analyse, a queue of at most `queue_size` answers between.

    `queue_size=0` means no bound, as for `asyncio.Queue`. `on_change(waiting)` is called with the
    number of answers in the queue each time one is put in or taken out: enough to plot a backlog.
    """
    if callers < 1 or analysers < 1 or queue_size < 0:
        raise ValueError(f"need at least one caller and one analyser and a queue size of 0 or more, "
                         f"got callers={callers}, analysers={analysers}, queue_size={queue_size}")
    results: list[T | None] = [None] * len(prompts)
    to_ask = iter(enumerate(prompts))  # shared by every caller: each prompt is taken exactly once
    answers: asyncio.Queue[tuple[int, str] | None] = asyncio.Queue(maxsize=queue_size)
    changed = on_change or (lambda waiting: None)
    waiting = 0  # answers in the queue; qsize() would count the stop signals at the end too

    async def caller() -> None:
        nonlocal waiting
        for index, prompt in to_ask:
            answer = await ask(prompt)
            await answers.put((index, answer))  # waits while the queue is full: backpressure
            waiting += 1
            changed(waiting)

    async def analyser() -> None:
        nonlocal waiting
        while (item := await answers.get()) is not None:  # None: no more answers will come
            waiting -= 1
            changed(waiting)
            index, answer = item
            results[index] = await analysed(answer, analyse, pool)

    async with asyncio.TaskGroup() as everyone:  # if any task fails, the others are cancelled
        for number in range(1, analysers + 1):
            everyone.create_task(analyser(), name=f"analyser {number}")
        async with asyncio.TaskGroup() as calling:
            for number in range(1, callers + 1):
                calling.create_task(caller(), name=f"caller {number}")
        for _ in range(analysers):  # every answer is in the queue: one stop signal per analyser
            await answers.put(None)
    return results


def lower_bound(arrivals: Sequence[float], works: Sequence[float], cpus: int) -> float:
    """The shortest wall time any schedule could reach, in seconds from the start of the calls.

    `arrivals[i]` is when answer i arrived and `works[i]` how long its analysis takes on one CPU.
    No analysis starts before its answer arrives, so no schedule ends before an answer's arrival
    plus its own analysis, nor before any arrival plus all the work that arrives from then on,
    shared among the CPUs.
    """
    if len(arrivals) != len(works) or not arrivals or cpus < 1:
        raise ValueError("give one analysis time per arrival, at least one of each, and at least one CPU")
    answers = sorted(zip(arrivals, works))
    bound = 0.0
    for index, (arrived, work) in enumerate(answers):
        from_then_on = sum(later for _, later in answers[index:])
        bound = max(bound, arrived + work, arrived + from_then_on / cpus)
    return bound
