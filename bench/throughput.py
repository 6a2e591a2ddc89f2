"""Requests per second through our server and through the reference, at the same latency and load.

wrk keeps C connections open; each sends its next request as soon as its answer arrives. With
a latency of L seconds no server can answer more than C / L requests per second: the ideal.
Both servers run the same test, taking turns, and each keeps its best run, so a slow spell of
the machine falls on both rather than deciding the comparison. Each server also says how much
longer than L each answer took to produce: ours in its journal (start of generation to end), the
reference by timing its one sleep. The reference's figure is what the event loop alone costs
under the same load: the least a server on one asyncio event loop could reach on this machine.
"""

from __future__ import annotations

import statistics
from typing import NamedTuple

from bench.cpu import CpuShare, finished_children_cpu_seconds
from bench.reference_server import ReferenceHandle
from bench.servers import ONE_TOKEN_REQUEST
from bench.wrk import WrkResult, run_wrk
from helpers.llm_server import ServerHandle


class ServerRun(NamedTuple):
    """One wrk run against one server, and how busy that server's process and wrk were meanwhile."""

    wrk: WrkResult
    server_cpu: float  # share of one core
    wrk_cpu: float  # near 1.0, the load generator would be what limits the throughput

    @property
    def per_second(self) -> float:
        return self.wrk.answered_per_second


class Comparison(NamedTuple):
    """Both servers' best runs at one number of connections."""

    connections: int
    latency: float
    reference: ServerRun
    ours: ServerRun
    ours_latency_errors: list[float]  # seconds, every answered request of every round
    reference_latency_errors: list[float]  # the same, measured by the reference around its sleep

    @property
    def ideal_per_second(self) -> float:
        return self.connections / self.latency


class Spread(NamedTuple):
    """How a list of durations is spread, in milliseconds."""

    count: int
    p50: float
    p99: float
    max: float


def spread_ms(seconds: list[float]) -> Spread:
    """p50, p99 and max; one function for ours and the reference's latency errors, so the two compare."""
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")  # cuts[k - 1] is the k-th percentile
    return Spread(len(seconds), cuts[49] * 1000, cuts[98] * 1000, max(seconds) * 1000)


def latency_errors(journal: list[dict], configured: float) -> list[float]:
    """Seconds each answered request spent beyond the configured latency, by the journal's own clock."""
    return [entry["end"] - entry["start"] - configured for entry in journal if entry["status"] == 200]


def load(server: ServerHandle, connections: int, seconds: int) -> ServerRun:
    """One wrk run of one-token chat completions against `server`, with the CPU it and wrk used."""
    server_cpu, wrk_cpu_before = CpuShare(server.process.pid), finished_children_cpu_seconds()
    result = run_wrk(server.base_url + "/chat/completions", ONE_TOKEN_REQUEST, connections, seconds)
    wrk_cpu = (finished_children_cpu_seconds() - wrk_cpu_before) / result.seconds
    return ServerRun(result, server_cpu.share(), wrk_cpu)


def better(best: ServerRun | None, run: ServerRun) -> ServerRun:
    return run if best is None or run.per_second > best.per_second else best


def compare(reference: ReferenceHandle, ours: ServerHandle, latency: float, connections: int, seconds: int,
            rounds: int) -> Comparison:
    """Load the reference, then ours, `rounds` times; keep each one's best run and the latency errors of all runs."""
    best_reference = best_ours = None
    reference_errors: list[float] = []
    ours_errors: list[float] = []
    for _ in range(rounds):
        reference.reset()  # each server then holds this run's latency errors only, not the warm-up's
        best_reference = better(best_reference, load(reference, connections, seconds))
        reference_errors += reference.latency_errors()
        ours.reset()
        best_ours = better(best_ours, load(ours, connections, seconds))
        ours_errors += latency_errors(ours.requests(), latency)
    return Comparison(connections, latency, best_reference, best_ours, ours_errors, reference_errors)
