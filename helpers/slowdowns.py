"""Did each piece of work run at full speed? The pieces' own records say, at the moment it mattered.

`pauses.py` probes the machine after a timing claim failed. But on a virtual machine a CPU can
also run slower, for a second or two, without ever stopping: the host lets another machine's
work share the physical core (two hardware threads of one core share its circuits). Inside,
the CPU looks busy with our work all the time; it only gets less done. Measured on the course's
own 2-CPU VM: the same 10 ms of Python took up to 1.8× longer in such spells, on one CPU at a
time, with the CPU our process's the whole time. A probe run afterwards can miss the spell.

Identical pieces of work that record their own wall time and CPU time (`workloads.TimedRun`)
show it directly. Compare the slowest piece of a parallel run with the fastest piece run alone:
- about as fast: the CPUs did full work; a missing speed-up is the code's fault;
- much slower while off the CPU part of the time: something else had the CPU (`on_cpu` < 1);
- much slower while on the CPU all the time: the CPU itself ran slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from helpers.durations import format_ratio
from helpers.workloads import TimedRun

# A piece this much slower than its fastest run alone did not have a full-speed CPU. Two pieces
# each on a CPU of their own would have to be ~1.4x slower to halve a 2x speed-up, so a parallel
# claim that fails while every piece stayed under this has another cause, and is not excused.
TOO_SLOW = 1.25
# Below this share of its wall time on a CPU, a piece waited for a CPU busy with other programs.
SHARED_CPU = 0.8


class Slowdown(NamedTuple):
    """How the slowest piece of a parallel run compares with the fastest piece run alone."""

    factor: float  # its wall time / the fastest piece alone: 1.0 means full speed
    on_cpu: float  # share of its wall time it was on a CPU (0 to 1)


def seconds(piece: TimedRun) -> float:
    return piece.end - piece.start


def slowdown(*, alone: Sequence[TimedRun], together: Sequence[TimedRun]) -> Slowdown:
    """Compare pieces of the same work: `alone` run one at a time, `together` run in parallel."""
    if not alone or not together:
        raise ValueError("slowdown needs at least one piece run alone and one run together")
    fastest_alone = min(seconds(piece) for piece in alone)
    slowest = max(together, key=seconds)
    return Slowdown(seconds(slowest) / fastest_alone, min(1.0, slowest.cpu_seconds / seconds(slowest)))


def why_slowed(seen: Slowdown) -> str:
    """Why a parallel timing was not a fair test, from its pieces; "" if every piece ran at full speed."""
    if seen.factor <= TOO_SLOW:
        return ""
    took = f"its slowest computation took {format_ratio(seen.factor)} as long as the fastest one alone"
    if seen.on_cpu < SHARED_CPU:
        return (f"{took}, and was on a CPU only {seen.on_cpu:.0%} of that time: something else was running on "
                "the CPUs (another program, or more workers than CPUs)")
    return (f"{took} while on its CPU all that time: the CPU itself ran slower (the host of a virtual "
            "machine, or a second hardware thread of the same core, was sharing it)")
