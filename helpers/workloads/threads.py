"""Run the same task on several threads and put every call on a timeline.

The lessons compare "one thread does all the calls" with "N threads share them". Both go
through `run_on_threads`, so the only thing that changes between the two runs is the number of
threads: same task, same number of calls, same recording.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence

from helpers.measuring.spans import Recorder
from helpers.measuring.stopwatch import wall_time


def run_on_threads(task: Callable[[], object], calls: int, threads: int, recorder: Recorder,
                   label: str = "call", kind: str = "io") -> float:
    """Make `calls` calls of `task()` shared out over `threads` threads; return the wall time.

    The wall time runs from the first call's start to the last call's end, read from the spans:
    the very number a timeline of `recorder` puts in its title, so a printed time and its
    picture never disagree.

    Thread k makes calls k, k + threads, k + 2·threads, …; each call is one span in the lane
    "thread k". Exceptions in a thread are re-raised here, after every thread has finished.
    """
    if threads < 1 or calls < 1:
        raise ValueError(f"need at least one thread and one call, got threads={threads}, calls={calls}")
    errors: list[BaseException] = []

    def worker(first: int) -> None:
        try:
            for _ in range(first, calls, threads):
                with recorder.span(label, kind):
                    task()
        except BaseException as error:  # a thread's exception would otherwise only be printed
            errors.append(error)

    workers = [threading.Thread(target=worker, args=(k,), name=f"thread {k + 1}") for k in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if errors:
        raise errors[0]
    lanes = {thread.name for thread in workers}
    calls_made = [span for span in recorder if span.lane in lanes]
    return wall_time(calls_made)


def fastest_on_threads(tasks: Mapping[str, Callable[[], object]], thread_counts: Sequence[int], calls: int,
                       rounds: int = 2) -> dict[str, dict[int, float]]:
    """The fastest wall time of `calls` calls of each task on each number of threads, in seconds.

    Each round runs every task on every number of threads once, taking turns, as `timeit` would
    keep the fastest run: a slow spell of the machine then falls on all the settings, not on one.
    """
    fastest: dict[str, dict[int, float]] = {name: {} for name in tasks}
    for _ in range(rounds):
        for threads in thread_counts:
            for name, task in tasks.items():
                seconds = run_on_threads(task, calls, threads, Recorder(), kind="cpu")
                fastest[name][threads] = min(seconds, fastest[name].get(threads, seconds))
    return fastest
