"""Is this machine being paused right now? A timing claim is only a fair test if it is not.

A virtual machine runs only while its host gives it a real CPU. On a crowded host (a cloud VM, a
shared Binder node) the guest can stop for tenths of a second at a time, many times a second,
without seeing it as busy: `top` shows idle CPUs. Every timer, every network reply and every
computation inside it then waits for the next slice. A run of one second can take two, and which
of two ways compared gets the pauses is luck, so no ratio of wall times means much.

The probe asks to wake every millisecond for a second and adds up the gaps that were far longer:
the time this process wanted to run and could not. On a healthy machine that is ~0%.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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
