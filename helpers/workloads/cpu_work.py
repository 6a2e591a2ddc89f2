"""Work for the lessons to run: pure-Python CPU work, CPU work in C that releases the GIL,
and CPU-heavy post-processing of LLM answers.

The functions live in an importable module, not in a notebook, so that process pools can use
them under every start method: `spawn` and `forkserver` send a worker the function's *name*
(module + qualified name) and the worker imports it. A function defined in a notebook lives
in `__main__`, which a spawned worker cannot import.

Sizes are given in work units, not seconds, so the same call does the same work on every
machine; `units_for_seconds` converts a wanted duration into units on *this* machine.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from helpers.measuring.stopwatch import fastest_of, timed

# hashlib releases the GIL while it hashes a buffer larger than 2047 bytes: 1 MiB is plenty.
HASH_BUFFER = bytes(range(256)) * 4096


def python_busy_work(units: int) -> int:
    """Spin the interpreter for `units` thousand loop steps; holds the GIL all the time.

    Every step is Python bytecode, so two threads running this take turns on the GIL instead
    of running side by side. The result depends on every step, so nothing can be skipped.
    """
    total = 0
    for step in range(units * 1000):
        total = (total * 31 + step) % 1_000_003  # small numbers: every step costs the same
    return total


def c_hash_work(units: int) -> str:
    """Hash a 1 MiB buffer `units` times in C; the GIL is released while each hash runs.

    Threads running this can use several cores at once, which `python_busy_work` cannot.
    """
    digest = hashlib.sha256()
    for _ in range(units):
        digest.update(hashlib.sha256(HASH_BUFFER).digest())
    return digest.hexdigest()


def units_for_seconds(work: Callable[[int], object], seconds: float) -> int:
    """How many units of `work` take about `seconds` on this machine, measured, at least 1.

    The probe doubles its size until one run takes 0.2 s: long enough to include what a
    virtual machine does to sustained work (many give a burst of full speed, then throttle),
    which a short probe would miss. It then keeps the fastest of three runs at that size: a run
    that the operating system paused is slower, never faster, so the minimum is the honest cost.
    """
    units, elapsed = 1, 0.0
    while elapsed < 0.2:
        units *= 2
        elapsed = timed(partial(work, units)).seconds
    fastest = min(elapsed, fastest_of(2, partial(work, units)).seconds)
    return max(1, round(seconds * units / fastest))


class AnswerScore(NamedTuple):
    """What `score_answer` found in one LLM answer."""

    words: int
    distinct_words: int
    sentences: int
    top_word: str
    repetition: float  # share of word pairs that occur more than once: high means a repetitive answer


WORD = re.compile(r"[a-z']+")


def score_answer(text: str, effort: int = 1) -> AnswerScore:
    """Score an answer with pure-Python text statistics; `effort` repeats the analysis.

    This stands for the CPU-heavy post-processing of the seed article (parsing, evaluation,
    aggregation). With effort=1 it is light, as the article's word count was; raise `effort`
    to make the analysis heavy enough for a process pool to pay off.
    """
    if effort < 1:
        raise ValueError(f"effort must be at least 1, got {effort}")
    for _ in range(effort):
        words = WORD.findall(text.lower())
        pairs = Counter(zip(words, words[1:]))
        repeated = sum(count for count in pairs.values() if count > 1)
        counts = Counter(words)
    return AnswerScore(
        words=len(words),
        distinct_words=len(counts),
        sentences=max(1, len(re.findall(r"[.!?]+", text))),
        top_word=counts.most_common(1)[0][0] if counts else "",
        repetition=repeated / max(1, len(words) - 1),
    )


OPENING = 400  # characters


def score_opening(text: str, effort: int = 1) -> AnswerScore:
    """`score_answer` on the first 400 characters only: the same cost for every answer.

    Like a model that reads a fixed number of tokens and cuts the rest (embedding models do), so
    a long answer costs no more to analyse than a short one. Lesson 05 uses it to separate how
    long an answer takes to arrive from how long it takes to analyse.
    """
    return score_answer(text[:OPENING], effort)



class TimedRun(NamedTuple):
    """When and where a piece of work ran: enough to draw it on a timeline from another process,
    and, from its CPU time, to tell afterwards how fast its CPU ran it (see `slowdowns.py`)."""

    start: float  # Unix time, the clock every process shares
    end: float
    pid: int
    result: object
    cpu_seconds: float  # time it was on a CPU: less than end - start when the CPU was given to others


def timed_python_work(units: int) -> TimedRun:
    """Run `python_busy_work` and say when and in which process: a pool worker sends this back."""
    start, on_cpu = time.time(), time.thread_time()
    result = python_busy_work(units)
    return TimedRun(start, time.time(), os.getpid(), result, time.thread_time() - on_cpu)

