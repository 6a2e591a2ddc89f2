"""How busy a process kept the CPU while it was measured: 1.0 is one core's worth.

With a server near 1.0, a throughput that falls short ran out of CPU (one event loop uses one
core at most); well below 1.0 it waited on something else: the client, the network, a timer.
"""

from __future__ import annotations

import resource
import time

import psutil


class CpuShare:
    """CPU seconds the process used per wall-clock second, from creation (or `restart`) until `share()`."""

    def __init__(self, pid: int | None = None) -> None:
        self.process = psutil.Process(pid)  # None: this process
        self.restart()

    def restart(self) -> None:
        self.cpu_at_start = self.cpu_seconds()
        self.wall_at_start = time.perf_counter()

    def cpu_seconds(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def share(self) -> float:
        return (self.cpu_seconds() - self.cpu_at_start) / (time.perf_counter() - self.wall_at_start)


def finished_children_cpu_seconds() -> float:
    """CPU seconds used by this process's children that have exited: wrk's, once its run is over."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
