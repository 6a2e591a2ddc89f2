"""Is this machine free right now? A timing claim is only a fair test if it is.

Two things can take the machine away from a measurement. The first is invisible from inside:

A virtual machine runs only while its host gives it a real CPU. On a crowded host (a cloud VM, a
shared Binder node) the guest can stop for tenths of a second at a time, many times a second,
without seeing it as busy: `top` shows idle CPUs. Every timer, every network reply and every
computation inside it then waits for the next slice. A run of one second can take two, and which
of two ways compared gets the pauses is luck, so no ratio of wall times means much.

The probe asks to wake every millisecond for a second and adds up the gaps that were far longer:
the time this process wanted to run and could not. On a healthy machine that is ~0%.

The second is plain to see: other programs (a browser, a test runner, a neighbour's job) using
the CPUs a parallel measurement needs. `interference` measures both over the same second: the
share paused, and how many CPUs' worth of work processes other than this one and its children did.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

import psutil

PROBE_SECONDS = 1.0
WAKE_EVERY = 0.001  # seconds between two looks at the clock
PAUSE_SECONDS = 0.02  # a gap this much longer than asked for is a pause, not a late timer


def paused_share(seconds: float = PROBE_SECONDS, clock: Callable[[], float] = time.perf_counter,
                 sleep: Callable[[float], None] = time.sleep) -> float:
    """The share (0 to 1) of the next `seconds` during which this process could not run."""
    if seconds <= 0:
        raise ValueError(f"probe for a positive number of seconds, got {seconds!r}")
    started = last = clock()
    paused = 0.0
    while (now := clock()) - started < seconds:
        if now - last > WAKE_EVERY + PAUSE_SECONDS:
            paused += now - last - WAKE_EVERY
        last = now
        sleep(WAKE_EVERY)
    return min(1.0, paused / (now - started))


class Interference(NamedTuple):
    """What else happened on this machine during a probe."""

    paused: float  # share of the probe this process wanted to run and could not (0 to 1)
    elsewhere: float  # CPUs' worth of work done by other programs: 1.0 is one CPU busy all the time


def busy_cpu_seconds() -> float:
    """CPU seconds every program on the machine has used since boot (idle, waiting and stolen time left out)."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq"))


def own_cpu_seconds() -> float:
    """CPU seconds used by this process and its children alive now (a server, pool workers)."""
    total = 0.0
    for process in [psutil.Process(), *psutil.Process().children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:  # it ended between the two calls
            continue
        total += times.user + times.system
    return total


def interference(seconds: float = PROBE_SECONDS) -> Interference:
    """Probe for `seconds`: how much of it this process was paused, and how busy other programs kept the CPUs."""
    started, everyone, mine = time.perf_counter(), busy_cpu_seconds(), own_cpu_seconds()
    paused = paused_share(seconds)
    elapsed = time.perf_counter() - started
    others = (busy_cpu_seconds() - everyone) - (own_cpu_seconds() - mine)
    return Interference(paused, max(0.0, others / elapsed))
