"""Exercise of 01_gil: predict the speed-up of N threads on three workloads, then measure it.

The learner writes a number per workload: how many times faster N threads finish the same
calls than one thread does. What theory predicts depends on the workload and on this machine:

- a pure-Python loop holds the GIL: the threads take turns, so about 1× (no gain);
- hashing in C releases the GIL: up to N×, but never more than the CPUs this process may use;
- an LLM call is a wait, and waiting releases the GIL: about N×, even on one CPU.

A prediction counts as right when it is within the band theory gives; the check also shows the
measured number so the learner sees theory and measurement side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from helpers.claims.machine import usable_cpus
from helpers.drawing.formatting import format_ratio
from helpers.exercises.report import CheckReport
from helpers.measuring.spans import Recorder
from helpers.workloads.threads import run_on_threads

WORKLOADS = ("pure-Python loop", "hashing in C", "LLM calls")


class Band(NamedTuple):
    low: float
    high: float
    why: str


def theory(workload: str, threads: int, cpus: int) -> Band:
    """The speed-ups theory allows for `threads` threads on `cpus` CPUs."""
    if workload == "pure-Python loop":
        return Band(0.0, 1.3, "Python bytecode needs the GIL, so the threads take turns: no gain, "
                              "often a small loss to switching")
    if workload == "hashing in C":
        ideal = min(threads, cpus)
        return Band(0.6 * ideal, 1.25 * ideal, f"hashlib releases the GIL, so the threads hash in parallel, "
                                               f"but only as many at once as there are CPUs: {cpus} here, "
                                               f"so about {format_ratio(ideal)}")
    if workload == "LLM calls":
        return Band(0.6 * threads, 1.25 * threads, "a thread waiting for the server has released the GIL, so "
                                                   f"all {threads} waits overlap, whatever the CPUs: about "
                                                   f"{format_ratio(threads)}")
    raise ValueError(f"unknown workload {workload!r}; the workloads are {WORKLOADS}")


def measure_speedups(tasks: dict[str, Callable[[], object]], threads: int, calls: int) -> dict[str, float]:
    """For each workload: time `calls` calls on one thread, then on `threads` threads; the ratio."""
    speedups = {}
    for name, task in tasks.items():
        one = run_on_threads(task, calls, 1, Recorder())
        many = run_on_threads(task, calls, threads, Recorder())
        speedups[name] = one / many
    return speedups


def check(predictions: dict[str, float], measured: dict[str, float], threads: int,
          cpus: int | None = None) -> CheckReport:
    """Compare each predicted speed-up with the band theory gives, and show the measured one."""
    cpus = usable_cpus() if cpus is None else cpus
    report = CheckReport(f"Predict the speed-up of {threads} threads")
    for workload in WORKLOADS:
        guess = predictions.get(workload)
        band = theory(workload, threads, cpus)
        seen = f"measured {format_ratio(measured[workload])}" if workload in measured else "not measured"
        if not isinstance(guess, (int, float)) or isinstance(guess, bool) or guess <= 0:
            report.expect(False, f"{workload}: predict a speed-up as a positive number (2 means twice as fast), "
                                 f"got {guess!r}")
        elif band.low <= guess <= band.high:
            report.expect(True, f"{workload}: {format_ratio(guess)} is right ({seen}): {band.why}")
        else:
            direction = "too high" if guess > band.high else "too low"
            report.expect(False, f"{workload}: {format_ratio(guess)} is {direction} ({seen}): {band.why}")
    return report
