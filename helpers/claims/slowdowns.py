"""Did the pieces of a parallel run have full-speed CPUs? Their own records say, at the moment it mattered.

`pauses.py` probes the machine after a timing claim failed. But on a virtual machine a CPU can
also run slower for a second or two without ever stopping: inside, it looks busy with our work
all the time, and it simply gets less done (probably the host letting another machine share the
physical core). Measured on the course's own 2-CPU VM: the same 10 ms of Python took up to 1.8×
longer in such spells, one CPU at a time, while on its CPU 100% of the time. A probe run
afterwards can miss the spell.

Identical pieces of work that record the CPU time they used (`workloads.TimedRun`) show it: a
piece run in parallel that needed more CPU time than the fastest piece run alone ran on a slower
CPU. Time a piece spent *waiting* for a CPU does not count here: that wait can be the code's own
doing (threads taking turns on the GIL, more workers than CPUs), and other programs taking the
CPUs are the probe's to judge.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean

from helpers.drawing.formatting import format_ratio
from helpers.workloads.cpu_work import TimedRun


def cpu_slowdown(*, alone: Sequence[TimedRun], together: Sequence[TimedRun]) -> float:
    """How much more CPU time, on average, the pieces run `together` needed than the fastest piece run `alone`.

    1.0: the CPUs ran the parallel pieces at full speed. 1.4: they ran 1.4× slower, so the
    parallel run took about 1.4× longer than the same code on full-speed CPUs would.
    """
    if not alone or not together:
        raise ValueError("cpu_slowdown needs at least one piece run alone and one run together")
    return mean(piece.cpu_seconds for piece in together) / min(piece.cpu_seconds for piece in alone)


def slowed_cpus(slowdown: float, speedup: float) -> str:
    """Why a parallel speed-up measured on CPUs running `slowdown` times slower is not a fair test."""
    return (f"these CPUs ran slower than usual (probably shared by the host of this virtual machine): the "
            f"computations needed {format_ratio(slowdown)} the CPU time of the fastest one run alone, and at "
            f"full speed the speed-up would have been {format_ratio(speedup * slowdown)}")
