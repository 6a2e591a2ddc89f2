"""How much memory and how many threads a service takes while a load runs: its peak, not its end.

    with Footprint(service) as footprint:
        run = await closed_loop(service.base_url, users=1000, seconds=10, model="sim-flash")
    footprint.peak_memory, footprint.peak_threads

Memory and threads are what a thread per request costs; they are highest while the most requests
are in flight, and a reading after the run would miss that (a pool's idle threads may stay, its
busy stacks are gone). So a background thread reads the service's resident memory (RSS, of every
one of its processes) and its thread count every `interval` seconds and keeps the largest values.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from helpers.measuring.periodic import PeriodicSampler


class Measures(Protocol):
    """What a service handle (helpers.service.ServiceHandle) tells about its processes."""

    def memory_bytes(self) -> int: ...

    def thread_count(self) -> int: ...


class Reading(NamedTuple):
    memory_bytes: int  # resident memory of the service's processes
    threads: int  # threads in them


class Footprint(PeriodicSampler[Reading]):
    """Samples a service's memory and threads every `interval` seconds; `peak_*` are the largest seen."""

    name = "service footprint"

    def __init__(self, service: Measures, interval: float = 0.25) -> None:
        super().__init__(interval)
        self.service = service

    def sample(self) -> Reading:
        return Reading(self.service.memory_bytes(), self.service.thread_count())

    @property
    def peak_memory(self) -> int:
        return max((reading.memory_bytes for _, reading in self.samples), default=0)

    @property
    def peak_threads(self) -> int:
        return max((reading.threads for _, reading in self.samples), default=0)
