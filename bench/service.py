"""`python -m bench service`: lesson 08's service at 1,000 users, async handlers against a thread pool.

The service (helpers/service) stands in front of the simulator with lesson 08's provider: sim-flash
in real time, a limit of 6,000 requests a minute for the service's key, so nothing answers more
than 100 times a second. Its gate is sized as the lesson sizes it (Little's law on a probe's median
call, rounded down). 1,000 closed-loop users (helpers/loadgen) then load it for LOAD_SECONDS, once
with async handlers and once with a thread pool as wide as the gate, taking turns for ROUNDS rounds.

What is measured, per way: the answers a second *sustained*, served between SETTLE_SECONDS and the
end of the load (the start, when every user connects at once, and the drain after it are left out);
the served users' p99; the service's peak memory and threads, sampled while it ran, beside its
memory idle. The targets (bench/targets.py, check_service): the sustained rate near the lower of
the provider's bound and the gate's (its calls ÷ the mean call the provider's journal saw); the p99
near Little's law's users ÷ that rate; threads no worse than async on p99 while the limit sets the
pace; the memory that 1,000 waiting users add, per 1,000; no request failed or lost.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from typing import NamedTuple

import openai

from helpers.llm_server import ServerHandle
from helpers.loadgen import LoadRun, closed_loop
from helpers.measuring.footprint import Footprint
from helpers.service import start_service
from helpers.workloads.rate_limits import Limits, start_limited_server
from helpers.workloads.serving import gate_size

MODEL = "sim-flash"
LIMITS = Limits(rpm=6_000)
USERS = 1_000
LOAD_SECONDS = 20
SETTLE_SECONDS = 3  # the first seconds, while 1,000 users connect and the first answers come back
ROUNDS = 2
PROBE_CALLS = 20
WAYS = {"async": {}, "threads": {"handlers": "sync"}}  # the thread pool's width: the gate's (measure)


class WayRun(NamedTuple):
    """One way's run at USERS users: its load run, what the service cost, and the provider's mean call."""

    way: str
    run: LoadRun
    peak_memory: int
    idle_memory: int
    peak_threads: int
    mean_call: float


class ServiceBench(NamedTuple):
    users: int
    seconds: float
    bound: float  # answers a second the provider allows
    gate: int
    probe_call: float  # the probe's median call, which sized the gate
    runs: list[WayRun]

    def best(self, way: str) -> WayRun:
        """The way's run with the highest sustained rate (as timeit keeps the fastest)."""
        return max((run for run in self.runs if run.way == way), key=lambda run: run.run.sustained(SETTLE_SECONDS))


def gate_bound(gate: int, mean_call: float) -> float:
    """The most a gate of `gate` calls lets through a second (Little's law: in flight ÷ the mean time)."""
    return gate / mean_call


def probe(upstream: ServerHandle, calls: int = PROBE_CALLS) -> float:
    """The median seconds of `calls` calls sent at once straight to the provider, as lesson 08's first cell."""
    async def send() -> None:
        async with openai.AsyncOpenAI(base_url=upstream.base_url, api_key="sk-probe") as client:
            await asyncio.gather(*(client.chat.completions.create(
                model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "What is a rate limit?"}])
                for _ in range(calls)))

    asyncio.run(send())
    return statistics.median(entry["end"] - entry["arrival"] for entry in upstream.requests() if entry["key"] == "sk-probe")


def run_way(upstream: ServerHandle, way: str, gate: int, users: int, seconds: float) -> WayRun:
    with start_service(upstream, max_in_flight=gate, max_queue=None, threads=gate, **WAYS[way]) as service:
        idle = service.memory_bytes()
        began = time.time()
        with Footprint(service) as seen:
            run = asyncio.run(closed_loop(service.base_url, users=users, seconds=seconds, model=MODEL))
        calls = [entry["end"] - entry["arrival"] for entry in upstream.requests(since=began)]
    return WayRun(way, run, seen.peak_memory, idle, seen.peak_threads, statistics.fmean(calls))


def measure(users: int = USERS, seconds: float = LOAD_SECONDS, rounds: int = ROUNDS, limits: Limits = LIMITS) -> ServiceBench:
    """Both ways at `users` users for `seconds`, taking turns for `rounds` rounds, behind one provider
    (in real time, as a learner's; LLM_SIM_TIME_SCALE overrides it)."""
    with start_limited_server(MODEL, limits) as upstream:
        probe_call = probe(upstream)
        gate = gate_size(limits.rpm, probe_call)
        print(f"6. service: {users:,} users for {seconds:g} s, gate {gate} (a probe call {probe_call:.2f} s), "
              f"{rounds} rounds of {', '.join(WAYS)}")
        runs = []
        for _ in range(rounds):
            for way in WAYS:
                runs.append(done := run_way(upstream, way, gate, users, seconds))
                print(f"   {way}: {done.run.sustained(SETTLE_SECONDS):.1f} answers/s sustained, "
                      f"p99 {done.run.latency()[99]:.2f} s, {done.peak_memory / 2**20:.0f} MiB "
                      f"(idle {done.idle_memory / 2**20:.0f}), {done.peak_threads} threads")
    return ServiceBench(users, seconds, limits.rpm / 60, gate, probe_call, runs)


def settings(bench: ServiceBench) -> dict:
    return {"model": MODEL, "rpm": round(bench.bound * 60), "users": bench.users, "load_seconds": bench.seconds,
            "settle_seconds": SETTLE_SECONDS, "rounds": len(bench.runs) // len(WAYS), "gate": bench.gate,
            "probe_call_s": bench.probe_call, "ways": list(WAYS)}


def lower_bound(bench: ServiceBench, run: WayRun) -> float:
    return min(bench.bound, gate_bound(bench.gate, run.mean_call))


def littles_p99(bench: ServiceBench, run: WayRun) -> float:
    """Little's law's wait for `users` users at the rate that held: users ÷ answers a second."""
    rate = run.run.sustained(SETTLE_SECONDS)
    return math.inf if rate == 0 else bench.users / rate
