"""The benchmark's targets (issue #3), checked against what one run measured.

Throughput is compared as a ratio to the reference measured in the same run, never as an
absolute figure: on a shared virtual machine the absolute numbers move from one hour to the next.
The latency error is bounded the same way, by the reference's in the same run plus 5 ms. The issue
first asked for 5 ms flat, but the bare reference server, which does nothing but sleep, was itself
48 and 99 ms late at the 99th percentile in the two runs that measured it on this machine
(bench/results/): that is what one event loop with 1000 connections costs here, whoever runs on it.
What our server can be held to is the lateness it adds to that.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from bench.room import SLACK, answered, server_errors
from bench.service import SETTLE_SECONDS, littles_p99, lower_bound
from bench.throughput import Comparison, spread_ms

if TYPE_CHECKING:  # only named in a signature: the server benchmarks need not import the batch runner
    from bench.batch import BatchBench
    from bench.room import RoomRun
    from bench.service import ServiceBench

# The numbers: connections -> the least share of the reference's throughput ours must reach,
SHARE_OF_REFERENCE = {1000: 0.95, 3000: 0.90}
# and at 1000 connections, the least share of the ideal, and the most latency error (p99, ms)
# beyond the reference's p99 in the same run.
CHECKED_ALONE_AT = 1000
SHARE_OF_IDEAL = 0.90
LATENCY_ERROR_P99_MARGIN_MS = 5.0


class Target(NamedTuple):
    what: str
    measured: float
    bound: float
    at_least: bool  # True: measured must be >= bound; False: <= bound
    unit: str  # "×" for a ratio, "ms"
    reference: float | None = None  # the reference's figure for the same measure, shown beside ours
    margin: float | None = None  # set: the bound is the reference's figure plus this; None: a fixed bound

    @property
    def passed(self) -> bool:
        return self.measured >= self.bound if self.at_least else self.measured <= self.bound

    def line(self) -> str:
        """e.g. "✗ ours / reference at 1000 connections: 0.947× (target ≥ 0.95×)"."""
        mark = "✓" if self.passed else "✗"
        return f"{mark} {self.what}: {self.figures()} (target {self.requirement()})"

    def figures(self) -> str:
        """e.g. "61.6 ms (reference 53.1 ms)", or "0.947×" for a target without a reference figure.

        Three significant digits: with two, 0.947 would show as 0.95 beside a target of 0.95 it missed; more for
        a miss that three would still round onto its bound.
        """
        measured = f"{self.measured:.3g}"
        if not self.passed and measured == f"{self.bound:.3g}":  # 9,999 of 10,000 is not "1×" beside "≥ 1×"
            measured = f"{self.measured:.6g}"
        measured += self.unit
        return measured if self.reference is None else f"{measured} (reference {self.reference:.3g}{self.unit})"

    def requirement(self) -> str:
        """e.g. "≥ 0.95×", or "≤ reference + 5 ms = 104 ms" for a bound made from the reference's figure."""
        sign = "≥" if self.at_least else "≤"
        if self.margin is None:
            return f"{sign} {self.bound:g}{self.unit}"
        return f"{sign} reference + {self.margin:g}{self.unit} = {self.bound:.3g}{self.unit}"


def check(comparisons: list[Comparison]) -> list[Target]:
    """Ours against the reference at each load; at 1000 connections, ours against the ideal, and its latency
    error against the reference's."""
    targets = [Target(f"ours / reference at {c.connections} connections",
                      c.ours.per_second / c.reference.per_second, SHARE_OF_REFERENCE[c.connections], True, "×")
               for c in comparisons]
    alone = next(c for c in comparisons if c.connections == CHECKED_ALONE_AT)
    targets.append(Target(f"ours / ideal at {alone.connections} connections",
                          alone.ours.per_second / alone.ideal_per_second, SHARE_OF_IDEAL, True, "×"))
    reference_p99 = spread_ms(alone.reference_latency_errors).p99
    targets.append(Target(f"ours, latency error p99 at {alone.connections} connections",
                          spread_ms(alone.ours_latency_errors).p99, reference_p99 + LATENCY_ERROR_P99_MARGIN_MS,
                          False, " ms", reference=reference_p99, margin=LATENCY_ERROR_P99_MARGIN_MS))
    return targets


# The batch runner's targets (issue 14), from `bench.batch`: every request once, near the limits, lean, resumable.
BATCH_SHARE_OF_IDEAL = 0.90
MEMORY_GROWTH = 1.2  # the most the runner's peak memory at 100,000 requests may be, over its peak at 10,000


def check_batch(bench: BatchBench) -> list[Target]:
    """Exactly once and near the limits through faults; exactly once after a SIGKILL, with no more resent than were
    in flight; memory that does not grow with the input."""
    faults, kill = bench.faults.ledger, bench.kill.ledger
    smallest, largest = (sorted(bench.memory, key=lambda run: run.requests)[i] for i in (0, -1))
    return [
        Target("batch with faults: succeeded / requests", faults.succeeded / faults.requests, 1.0, True, "×"),
        Target("batch with faults: results in the Batch API output format / results",
               faults.well_formed / max(1, faults.results), 1.0, True, "×"),
        Target("batch with faults: results backed by one answer in the server's journal / results",
               faults.backed / max(1, faults.results), 1.0, True, "×"),
        Target("batch with faults: custom_ids in the results file more than once", faults.duplicate_results, 0, False,
               " requests"),
        Target("batch with faults: requests the server's journal shows answered more than once", faults.answered_twice,
               0, False, " requests"),
        Target("batch with faults: succeeded per second / the limits' ideal", bench.faults.share_of_ideal,
               BATCH_SHARE_OF_IDEAL, True, "×"),
        Target("batch killed and resumed: succeeded / requests", kill.succeeded / kill.requests, 1.0, True, "×"),
        Target("batch killed and resumed: custom_ids in the results file more than once", kill.duplicate_results, 0,
               False, " requests"),
        Target(f"batch killed and resumed: requests sent by both runs / --max-in-flight ({bench.kill.max_in_flight})",
               bench.kill.resent / bench.kill.max_in_flight, 1.0, False, "×"),
        Target("batch memory runs: succeeded / requests",
               sum(run.ledger.succeeded for run in bench.memory) / sum(run.requests for run in bench.memory),
               1.0, True, "×"),
        Target(f"batch memory: peak RSS at {largest.requests} requests / at {smallest.requests}",
               largest.runner.peak_rss / smallest.runner.peak_rss, MEMORY_GROWTH, False, "×"),
    ]


# The room's targets (issue 18), from `bench.room`: every call answered, and each key's median within its bound.
def check_room(run: RoomRun) -> list[Target]:
    """Every call answered 200, none 5xx; the slowest key's median latency within 1.5 × (quiet latency + the fair
    share of the queue), the bound every key shares (they all queue the same number of calls). The latency is the
    server's journal's, from a call's arrival to its answer: what the slots decide. The clients' own, which adds
    the time their event loops take to send 15,000 calls through the `openai` client, is reported beside it."""
    calls = run.keys * run.calls_per_key
    slowest = max(run.server_medians)
    return [
        Target("room: calls answered 200 / calls", answered(run.runs) / calls, 1.0, True, "×"),
        Target("room: calls answered 5xx", server_errors(run.runs), 0, False, " calls"),
        Target(f"room: slowest key's median latency at the server, {run.keys} keys × {run.calls_per_key} calls, bound "
               f"{SLACK:g} × (quiet {run.quiet_latency:.2f} s + fair share {run.fair_wait:.1f} s)",
               slowest, run.bound, False, " s"),
    ]


# Lesson 08's service (issue 16), from `bench.service`: at 1,000 users the provider's limit sets the pace, whichever
# the handlers; async holds the waiting users cheaply.
SUSTAINED_SHARE = 0.9  # of the lower of the provider's bound and the gate's
LITTLE_SLACK = 1.3  # the p99 within this many times users ÷ the rate that held
THREADS_P99_SLACK = 1.3  # the thread pool's p99 within this many times async's
MIB_PER_THOUSAND_USERS = 64  # what 1,000 waiting users may add to the async service's memory


def check_service(bench: ServiceBench) -> list[Target]:
    """The best run of each way (its highest sustained rate): async's rate, its p99 against Little's law, the
    thread pool's p99 against async's, the memory 1,000 users add to async, and no request failed or lost."""
    fast, threads = bench.best("async"), bench.best("threads")
    per_thousand = (fast.peak_memory - fast.idle_memory) / 2**20 * 1000 / bench.users
    return [
        Target(f"service: async answers/s sustained at {bench.users:,} users / the lower bound "
               f"({lower_bound(bench, fast):.1f}/s)", fast.run.sustained(SETTLE_SECONDS) / lower_bound(bench, fast),
               SUSTAINED_SHARE, True, "×"),
        Target(f"service: async p99 at {bench.users:,} users / Little's law's users ÷ answers/s",
               fast.run.latency()[99] / littles_p99(bench, fast), LITTLE_SLACK, False, "×"),
        Target(f"service: thread pool p99 / async p99 at {bench.users:,} users",
               threads.run.latency()[99] / fast.run.latency()[99], THREADS_P99_SLACK, False, "×"),
        Target("service: MiB that 1,000 waiting users add to the async service", per_thousand,
               MIB_PER_THOUSAND_USERS, False, " MiB"),
        Target("service: requests failed or lost, every run", sum(run.run.failed for run in bench.runs), 0, False,
               " requests"),
    ]
