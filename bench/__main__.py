"""`python -m bench` (or `make bench`): run every benchmark, check the targets, write the results.

Six parts, each with servers of its own, started fresh so one part's leftovers (a long
journal, a grown heap) do not weigh on the next. The first three are the server's (`servers`):
1. throughput and latency error: wrk against our server and the reference, 0.5 s latency;
2. streaming: many streams at once from our server, 50 tokens/s each;
3. the `openai` client: 100 and 1000 concurrent calls, 1 s latency, two transports, both servers.
The fourth is the batch runner's (`batch`, bench/batch.py), which needs no wrk:
4. 10,000 requests through `llm-batch` within RPM and TPM limits and through faults, killed and
   resumed, and its memory at 10,000 and 100,000 requests.
The fifth is the workshop room's (`room`, bench/room.py), which needs no wrk either:
5. 60 keys each sending lesson 03's fan-out at once to a room server: is every key's median
   latency within its fair share of the slots?
The sixth is lesson 08's service's (`service`, bench/service.py), which needs no wrk either:
6. 1,000 users on the service behind a rate limit, async handlers and a thread pool taking turns.
`python -m bench batch` runs the batch part alone, `python -m bench servers` the server's, `python -m bench room`
the room's, `python -m bench service` the service's.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import time
from datetime import UTC, datetime
from importlib.metadata import version

from bench import batch, report, room, service, streams
from bench.openai_clients import TRANSPORTS, ClientRun, makespan
from bench.reference_server import start_reference
from bench.servers import start_ours, time_scale_for_latency
from bench.streams import StreamRun, measure_streams, next_streams, stream_bracket
from bench.targets import SHARE_OF_REFERENCE, Target, check, check_batch, check_room, check_service
from bench.throughput import Comparison, compare, load
from bench.wrk import wrk_version
from helpers.claims.machine import machine_facts

LATENCY = 0.5  # seconds, for the throughput part
CONNECTIONS = tuple(SHARE_OF_REFERENCE)  # 1000 and 3000
WRK_SECONDS = 10
WARM_UP_SECONDS = 3
ROUNDS = 2  # each server's measurement is the best of this many, taking turns with the other server
STREAMS = (100, 200, 500)
# Then look for where the rate falls below 95 %: double the streams until it does, then halve the gap.
EXTRA_STREAM_RUNS = 3
CLIENT_LATENCY = 1.0
CLIENT_CALLS = (100, 1000)
# Our server gets one slot per connection or stream: nothing queues, as nothing does in the reference.
CAPACITY = max(*CONNECTIONS, streams.MOST_STREAMS, *CLIENT_CALLS)
# Every connection is an open file in the server and in its client; keep some for everything else.
OPEN_FILES = CAPACITY + 1024


def raise_open_file_limit(needed: int) -> None:
    """Let this process, and the servers and wrk it starts (they inherit the limit), open `needed` files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SystemExit(f"The benchmark needs {needed} open files; this shell allows {hard} (ulimit -Hn).")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def throughput() -> list[Comparison]:
    print(f"1. throughput: wrk, {LATENCY} s latency, connections {CONNECTIONS}, best of {ROUNDS} × {WRK_SECONDS} s")
    with start_reference(LATENCY) as reference, start_ours(time_scale_for_latency(LATENCY), CAPACITY) as ours:
        for server in (reference, ours):
            load(server, max(CONNECTIONS), WARM_UP_SECONDS)
        comparisons = []
        for connections in CONNECTIONS:
            comparison = compare(reference, ours, LATENCY, connections, WRK_SECONDS, ROUNDS)
            print(f"   {connections} connections: reference {comparison.reference.per_second:.0f} req/s, "
                  f"ours {comparison.ours.per_second:.0f} req/s (ideal {comparison.ideal_per_second:.0f})")
            comparisons.append(comparison)
    return comparisons


def streaming() -> tuple[list[StreamRun], tuple[int | None, int | None]]:
    print(f"2. streaming: {streams.TOKENS_PER_SECOND} tokens/s per stream, streams {STREAMS}")
    runs: list[StreamRun] = []
    with start_ours(streams.TIME_SCALE, CAPACITY) as ours:

        def measure(count: int) -> None:
            run = asyncio.run(measure_streams(ours, count))
            print(f"   {count} streams: {run.delivered_per_second:.0f} tokens/s, {run.ratio:.1%} of the ideal "
                  f"(CPU server {run.server_cpu:.2f}, client {run.client_cpu:.2f}"
                  f"{', client-bound' if run.client_bound else ''})")
            runs.append(run)

        for count in STREAMS:
            measure(count)
        for _ in range(EXTRA_STREAM_RUNS):
            if (count := next_streams(runs)) is None:
                break
            measure(count)
    return sorted(runs), stream_bracket(runs)


def openai_client() -> list[ClientRun]:
    print(f"3. openai client: {CLIENT_CALLS} concurrent calls, {CLIENT_LATENCY} s latency, transports {TRANSPORTS}")
    runs = []
    with (start_reference(CLIENT_LATENCY) as reference,
          start_ours(time_scale_for_latency(CLIENT_LATENCY), CAPACITY) as ours):
        for name, server in (("reference", reference), ("ours", ours)):
            for calls in CLIENT_CALLS:
                best = {transport: float("inf") for transport in TRANSPORTS}
                for _ in range(ROUNDS):  # taking turns, as in throughput.compare
                    for transport in TRANSPORTS:
                        best[transport] = min(best[transport], asyncio.run(makespan(server, transport, calls)))
                for transport, seconds in best.items():
                    print(f"   {name}, {calls} calls, {transport}: {seconds:.2f} s")
                    runs.append(ClientRun(name, transport, calls, CLIENT_LATENCY, seconds))
    return runs


def machine(with_wrk: bool) -> dict:
    facts = machine_facts()
    return {"usable_cpus": facts.usable_cpus, "machine_cpus": facts.machine_cpus, "python": facts.python,
            "platform": platform.platform(), **({"wrk": wrk_version()} if with_wrk else {}),
            "aiohttp": version("aiohttp"), "openai": version("openai")}


def settings() -> dict:
    return {"latency_s": LATENCY, "connections": CONNECTIONS, "wrk_seconds": WRK_SECONDS,
            "warm_up_seconds": WARM_UP_SECONDS, "rounds": ROUNDS, "capacity": CAPACITY,
            "tokens_per_second": streams.TOKENS_PER_SECOND, "tokens_per_stream": streams.TOKENS_PER_STREAM,
            "client_latency_s": CLIENT_LATENCY}


def print_targets(targets: list[Target]) -> None:
    print("targets:")
    for target in targets:
        print("  ", target.line())


def servers() -> tuple[dict, list[Target]]:
    """The server benchmarks (parts 1 to 3): their record and their targets."""
    raise_open_file_limit(OPEN_FILES)
    comparisons = throughput()
    stream_runs, below_95_between = streaming()
    clients = openai_client()
    targets = check(comparisons)
    return report.servers_record(settings=settings(), comparisons=comparisons, streams=stream_runs,
                                 below_95_between=below_95_between, clients=clients, targets=targets), targets


def batch_runner() -> tuple[dict, list[Target]]:
    """The batch runner's benchmark (part 4): its record and its targets."""
    clock = time.perf_counter()
    measured = batch.measure()
    targets = check_batch(measured)
    return report.batch_record(measured, settings=batch.settings(measured), seconds=time.perf_counter() - clock,
                               targets=targets), targets


def workshop_room() -> tuple[dict, list[Target]]:
    """The room's benchmark (part 5): its record and its targets."""
    raise_open_file_limit(room.KEYS * room.CALLS_PER_KEY + 1024)  # a connection per call, in the server
    clock = time.perf_counter()
    measured = room.measure()
    targets = check_room(measured)
    return report.room_record(measured, settings=room.settings(), seconds=time.perf_counter() - clock,
                              targets=targets), targets


def lesson_service() -> tuple[dict, list[Target]]:
    """Lesson 08's service (part 6): its record and its targets."""
    raise_open_file_limit(4 * service.USERS + 1024)  # the users' connections, and the service's own
    clock = time.perf_counter()
    measured = service.measure()
    targets = check_service(measured)
    return report.service_record(measured, settings=service.settings(measured), seconds=time.perf_counter() - clock,
                                 targets=targets), targets


PARTS = {"servers": servers, "batch": batch_runner, "room": workshop_room, "service": lesson_service}


def parse(argv: list[str] | None) -> list[str]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of the simulated LLM server, of the batch runner, of a workshop room and of lesson 08's service "
        "(bench/README.md): check the targets, write bench/results/<date>.json and the README's tables.")
    parser.add_argument("part", nargs="?", choices=["all", *PARTS], default="all",
                        help="servers: throughput, streaming and the openai client against the simulated server "
                        "(needs wrk, 3 to 4 minutes); batch: the llm-batch runner against it (no wrk, 5 to 6 "
                        "minutes); room: 60 learners' fan-outs at once to a room server (no wrk, about 2 minutes); "
                        "service: lesson 08's service at 1,000 users, async and threads (no wrk, about 2 minutes); "
                        "all (the default, what `make bench` runs): the four")
    part = parser.parse_args(argv).part
    return list(PARTS) if part == "all" else [part]


def main(argv: list[str] | None = None) -> None:
    parts = parse(argv)
    started, clock = datetime.now(UTC).astimezone(), time.perf_counter()
    records, targets = {}, []
    for part in parts:
        records[part], part_targets = PARTS[part]()
        targets += part_targets
    print_targets(targets)
    results = report.record(started=started, seconds=time.perf_counter() - clock, machine=machine("servers" in parts),
                            server=records.get("servers"), batch=records.get("batch"), room=records.get("room"),
                            service=records.get("service"))
    print(f"results: {report.write(results, started)}; tables: {report.README}")
    missed = sum(not target.passed for target in targets)
    if missed:
        raise SystemExit(f"{missed} of {len(targets)} targets missed")


if __name__ == "__main__":
    main()
