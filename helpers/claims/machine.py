"""What this machine lets a lesson show: usable CPUs, the GIL, the start method, the Python.

`os.cpu_count()` counts the CPUs of the machine, not the ones this process may use. A
container or Binder limits a process twice: by CPU affinity (which cores it may run on) and by
a cgroup quota (how much CPU time it gets per period, e.g. 1 CPU's worth on Binder). A parallel
speed-up is bounded by the smaller of the two, so that is what every claim compares with.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import platform
import sys
from pathlib import Path
from typing import NamedTuple

CGROUP_ROOT = Path("/sys/fs/cgroup")


class MachineFacts(NamedTuple):
    usable_cpus: int
    machine_cpus: int
    gil_enabled: bool
    start_method: str
    python: str


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The CPUs' worth of time the cgroup quota allows, or None when there is no quota.

    cgroup v2 writes "quota period" in cpu.max ("max 100000" means no limit); cgroup v1 has
    the two numbers in cpu.cfs_quota_us (-1 for no limit) and cpu.cfs_period_us.
    """
    v2 = root / "cpu.max"
    if v2.exists():
        quota, _, period = v2.read_text().strip().partition(" ")
        return None if quota == "max" else int(quota) / int(period)
    v1_quota, v1_period = root / "cpu" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_period_us"
    if v1_quota.exists() and v1_period.exists():
        quota = int(v1_quota.read_text())
        return None if quota <= 0 else quota / int(v1_period.read_text())
    return None


def usable_cores() -> list[int]:
    """The cores this process may run on (its CPU affinity), in order: the ones a CPU meter watches."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))  # macOS and Windows have no affinity call in the os module


def usable_cpus(root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may really use: its cores (affinity), then the cgroup quota (rounded up), at least 1."""
    allowed = len(usable_cores())
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        allowed = min(allowed, max(1, math.ceil(limit)))
    return max(1, allowed)


def gil_enabled() -> bool:
    """False only on a free-threaded build (PEP 703, python3.13t and later) running without the GIL."""
    check = getattr(sys, "_is_gil_enabled", None)
    return True if check is None else check()


def machine_facts() -> MachineFacts:
    return MachineFacts(
        usable_cpus=usable_cpus(),
        machine_cpus=os.cpu_count() or 1,
        gil_enabled=gil_enabled(),
        start_method=multiprocessing.get_start_method(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
    )


def describe_machine(facts: MachineFacts | None = None) -> str:
    """A short summary, and what it means for the lessons."""
    facts = facts or machine_facts()
    lines = [
        f"Python: {facts.python}, GIL {'enabled' if facts.gil_enabled else 'disabled (free-threaded build)'}",
        f"CPUs this process may use: {facts.usable_cpus} (the machine has {facts.machine_cpus})",
        f"multiprocessing start method: {facts.start_method}",
    ]
    if facts.usable_cpus == 1:
        lines.append("With 1 CPU, nothing runs in parallel: concurrency still overlaps waiting, "
                     "but no lesson can show a parallel speed-up here; each says so where it would.")
    else:
        lines.append(f"Parallel work can go up to {facts.usable_cpus}× faster here, never more.")
    return "\n".join(lines)
