"""A thousand LLM calls at once: one thread per call against one asyncio task per call.

Both ways make the same calls with the official `openai` client to the same server; only what
waits for each answer changes: a thread (sync `OpenAI`) or a task on one event loop
(`AsyncOpenAI`). Each way runs in a fresh Python process, `python -m helpers.workloads.many_calls`,
so that neither inherits memory the other freed and the notebook keeps its own threads.

The process makes one call to warm up (imports, first connection), notes its resident memory,
starts every call at once, samples its resident memory every few milliseconds until the last
answer, and prints one JSON line: the wall time and the most memory it held above the start.
A fresh process's new pages are its own, so that increase is what the calls in flight cost:
per call, its connection and buffers (the same for both ways) plus a thread, or plus a task.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from typing import NamedTuple

import psutil

from helpers.measuring.periodic import PeriodicSampler

WAYS = ("threads", "asyncio")  # a thread per call, a task per call: both on httpx, the client's default


class ManyCalls(NamedTuple):
    way: str
    calls: int
    seconds: float  # wall time from starting the first call to the last answer
    extra_memory: int  # bytes: the most resident memory above the warmed-up start, while calls ran

    @property
    def memory_per_call(self) -> float:
        return self.extra_memory / self.calls


class PeakMemory(PeriodicSampler[int]):
    """This process's resident memory, sampled every few milliseconds; `extra`, the most above the start."""

    name = "memory sampler"

    def __init__(self, interval: float = 0.005) -> None:
        super().__init__(interval)
        self.process = psutil.Process()
        self.start_rss = self.process.memory_info().rss

    def sample(self) -> int:
        return self.process.memory_info().rss

    @property
    def extra(self) -> int:
        return max(rss for _, rss in self.samples) - self.start_rss


def _messages(number: int) -> list[dict]:
    return [{"role": "user", "content": f"In 20 words, fact {number} about waiting."}]


def on_threads(base_url: str, model: str, calls: int) -> ManyCalls:
    """One thread per call, all started at once, sharing one `OpenAI` client (it is thread-safe)."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="sk-sim-threads", timeout=60, max_retries=0)
    client.chat.completions.create(model=model, messages=_messages(-1))  # warm up
    errors: list[BaseException] = []

    def call(number: int) -> None:
        try:
            client.chat.completions.create(model=model, messages=_messages(number))
        except BaseException as error:  # a thread's exception would otherwise only be printed
            errors.append(error)

    threads = [threading.Thread(target=call, args=(n,), name=f"call {n + 1}") for n in range(calls)]
    with PeakMemory() as memory:
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return ManyCalls("threads", calls, seconds, memory.extra)


def on_tasks(base_url: str, model: str, calls: int) -> ManyCalls:
    """One task per call on one event loop, sharing one `AsyncOpenAI` client."""
    import openai

    async def main() -> ManyCalls:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-sim-asyncio", timeout=60, max_retries=0) as client:
            await client.chat.completions.create(model=model, messages=_messages(-1))  # warm up
            async def call(number: int) -> None:  # drops its answer, as a thread does: only calls in flight count
                await client.chat.completions.create(model=model, messages=_messages(number))

            with PeakMemory() as memory:
                started = time.perf_counter()
                await asyncio.gather(*(call(n) for n in range(calls)))
                seconds = time.perf_counter() - started
        return ManyCalls("asyncio", calls, seconds, memory.extra)

    return asyncio.run(main())


def idle_threads(count: int) -> int:
    """Bytes of resident memory `count` threads add while each waits on an Event, doing nothing else."""
    release = threading.Event()
    threads = [threading.Thread(target=release.wait, name=f"idle {n + 1}") for n in range(count)]
    with PeakMemory() as memory:
        for thread in threads:
            thread.start()
        time.sleep(0.05)  # let the sampler see them all
        release.set()
        for thread in threads:
            thread.join()
    return memory.extra


def idle_tasks(count: int) -> int:
    """Bytes of resident memory `count` asyncio tasks add while each awaits an Event, doing nothing else."""
    async def main() -> int:
        release = asyncio.Event()
        with PeakMemory() as memory:
            tasks = [asyncio.create_task(release.wait()) for _ in range(count)]
            await asyncio.sleep(0.05)  # every task starts, and waits
            release.set()
            await asyncio.gather(*tasks)
        return memory.extra

    return asyncio.run(main())


def _in_a_fresh_process(arguments: list[str], timeout: float) -> dict:
    command = [sys.executable, "-m", "helpers.workloads.many_calls", *arguments]
    run = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(arguments)} failed:\n{run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def idle_memory(way: str, count: int, timeout: float = 60) -> float:
    """Bytes each of `count` idle threads, or idle asyncio tasks, adds to a fresh Python process."""
    if way not in WAYS:
        raise ValueError(f"way must be one of {WAYS}, got {way!r}")
    return _in_a_fresh_process(["idle", way, str(count)], timeout)["extra_memory"] / count


def many_calls(way: str, base_url: str, model: str, calls: int, timeout: float = 120) -> ManyCalls:
    """Run `calls` calls at once the given way ("threads" or "asyncio") in a fresh Python process."""
    if way not in WAYS:
        raise ValueError(f"way must be one of {WAYS}, got {way!r}")
    return ManyCalls(**_in_a_fresh_process(["calls", way, base_url, model, str(calls)], timeout))


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure many threads or asyncio tasks at once; print JSON.")
    measures = parser.add_subparsers(dest="measure", required=True)
    idle = measures.add_parser("idle", help="memory of idle threads or tasks")
    idle.add_argument("way", choices=WAYS)
    idle.add_argument("count", type=int)
    calls = measures.add_parser("calls", help="wall time and memory of many LLM calls at once")
    calls.add_argument("way", choices=WAYS)
    calls.add_argument("base_url")
    calls.add_argument("model")
    calls.add_argument("calls", type=int)
    arguments = parser.parse_args()
    if arguments.measure == "idle":
        wait = idle_threads if arguments.way == "threads" else idle_tasks
        print(json.dumps({"extra_memory": wait(arguments.count)}))
    else:
        run = on_threads if arguments.way == "threads" else on_tasks
        print(json.dumps(run(arguments.base_url, arguments.model, arguments.calls)._asdict()))


if __name__ == "__main__":
    main()
