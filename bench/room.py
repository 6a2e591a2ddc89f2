"""`python -m bench room`: a workshop room where every learner runs lesson 03's fan-out at the same moment.

Is the room fair when it is full? The server shares its slots round-robin between keys
(helpers/llm_server/slots.py), so with K keys each queueing N calls at once, each key holds
about capacity / K slots, and its calls drain at (capacity / K) / s a second, s being one call's
service time. A key's median call waits for half of its own calls ahead of it:

    fair share of the queue = (N / 2) / (capacity / K) × s

and is answered about one quiet call later. The target, for every key: its median latency at most
1.5 × (quiet latency + fair share of the queue), s and the quiet latency measured in the same
run, from calls sent at once to the quiet room (fewer than the slots, so none queues).

The room is started as lessons/workshop.md says (a roster of `key,name` lines, an admin token,
`--preset sim-flash`, per-key and shared RPM limits), with the limits raised to what the load
needs (twice N per key, twice K × N for the room): a 429 would measure the rate limit, not the slots.
The learners are client processes, each sending its keys' calls as lesson 03 does: the official
`AsyncOpenAI`, one client per key, every call at once with `asyncio.gather`, through
`DefaultAioHttpClient`, the faster of the two transports lesson 03 compares. Each call is timed by its
client and by the server's journal; the bound is checked on the journal's (arrival to answer), since
a client process needs seconds of its own to send thousands of calls (bench/README.md, "Whose latency").
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import openai

from bench.cpu import CpuShare
from helpers.llm_server import ServerHandle
from helpers.llm_server.launcher import launch
from helpers.llm_server.roster import new_roster, read_roster

KEYS = 60
# Lesson 03 sends 500; 60 × 500 = 30,000 connections open at once is more than this machine lets one process open
# (`ulimit -Hn`: 20,000), and the server holds one per call it is answering or queueing. 250 keeps each key's
# queue 58 times its fair share of the slots (256 / 60), which is what the bound is about.
CALLS_PER_KEY = 250
CAPACITY = 256  # the server's default, as the workshop guide leaves it
MODEL = "sim-flash"
TIME_SCALE = 1.0  # as in the room: a sim-flash call of 20 words takes about 1.2 s, the room drains ~210 calls a second
QUIET_CALLS = 20  # the quiet room's calls, sent at once from one key: fewer than the slots, so none queues
CLIENT_PROCESSES = 4  # the learners' machines: each sends the calls of KEYS / CLIENT_PROCESSES keys
# The rate limits, per key and for the room, are this many times the load's calls (the quiet room's calls count too)
HEADROOM = 2
SLACK = 1.5  # the issue's: each key's median within 1.5 × (quiet latency + its fair share of the queue)
START_DELAY = 3.0  # seconds for the client processes to start and import before they all send at once
TOKEN = "room-bench-admin-token"
PROMPT = "In 20 words, fact {n} about event loops."  # lesson 03's fan-out prompt


class KeyRun(NamedTuple):
    name: str  # the roster's name of the key, never the key
    latencies: list[float]  # seconds, send to answer, one per call answered 200
    statuses: dict[int, int]  # HTTP status -> calls; 0: no answer at all (the connection failed)


class ClientRun(NamedTuple):
    keys: list[KeyRun]
    cpu_share: float  # of one core, over the client process's sending


class RoomRun(NamedTuple):
    keys: int
    calls_per_key: int
    capacity: int
    quiet: list[float]  # the quiet room's call latencies
    runs: list[KeyRun]  # one per key, under load
    seconds: float  # first call sent to last answer, over all the client processes
    server_cpu: float
    client_cpu: list[float]  # each client process's share
    # From the server's journal, read with each key (a learner's key reads its own entries): each key's median of
    # arrival to end, what the slots made of it without the client's own work; and when the calls arrived.
    server_medians: list[float]
    arrivals: tuple[float, float]  # seconds after the clients began sending: the first call's arrival, the last's

    @property
    def service_seconds(self) -> float:
        """s: the quiet calls' mean, what a slot is held for on average."""
        return statistics.fmean(self.quiet)

    @property
    def quiet_latency(self) -> float:
        return statistics.median(self.quiet)

    @property
    def fair_wait(self) -> float:
        return fair_share_wait(self.calls_per_key, self.keys, self.capacity, self.service_seconds)

    @property
    def bound(self) -> float:
        return SLACK * (self.quiet_latency + self.fair_wait)


def fair_share_wait(calls: int, keys: int, capacity: int, service_seconds: float) -> float:
    """The median call's queueing with `keys` keys each queueing `calls` at once: (N / 2) / (capacity / K) × s.

    A key holding fewer calls than its share of the slots queues none of them.
    """
    share = capacity / keys
    return 0.0 if calls <= share else calls / 2 / share * service_seconds


def median_latency(run: KeyRun) -> float:
    return statistics.median(run.latencies) if run.latencies else float("inf")


def answered(runs: list[KeyRun]) -> int:
    return sum(run.statuses.get(200, 0) for run in runs)


def server_errors(runs: list[KeyRun]) -> int:
    return sum(count for run in runs for status, count in run.statuses.items() if status >= 500)


def start_room(roster: Path, keys: int, calls: int, capacity: int, time_scale: float) -> ServerHandle:
    """The room server as workshop.md starts it, its limits raised so that nothing is rate limited."""
    return launch(["--keys", str(roster), "--admin-token", TOKEN, "--preset", MODEL, "--time-scale", str(time_scale),
                   "--capacity", str(capacity), "--rpm", str(HEADROOM * calls),
                   "--shared-rpm", str(HEADROOM * keys * calls)], model=MODEL)


async def fan_out(base_url: str, key: str, name: str, calls: int) -> KeyRun:
    """Lesson 03's fan-out from one learner: every call at once, each timed from its call to its answer."""
    statuses: dict[int, int] = {}
    latencies: list[float] = []

    async def one(n: int) -> None:
        started = time.perf_counter()
        try:
            await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": PROMPT.format(n=n)}])
        except openai.APIStatusError as error:
            statuses[error.status_code] = statuses.get(error.status_code, 0) + 1
            return
        except openai.APIConnectionError:
            statuses[0] = statuses.get(0, 0) + 1
            return
        latencies.append(time.perf_counter() - started)
        statuses[200] = statuses.get(200, 0) + 1

    # No retries: a failed call counts as failed, not as a slower one. timeout: far beyond the bound.
    async with openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=600,
                                  http_client=openai.DefaultAioHttpClient()) as client:
        await asyncio.gather(*(one(n) for n in range(calls)))
    return KeyRun(name, latencies, statuses)


async def learners(base_url: str, keys: list[tuple[str, str]], calls: int, start_at: float) -> ClientRun:
    await asyncio.sleep(max(0.0, start_at - time.time()))
    cpu = CpuShare()
    runs = await asyncio.gather(*(fan_out(base_url, key, name, calls) for key, name in keys))
    return ClientRun(list(runs), cpu.share())


def client_process(base_url: str, keys: list[tuple[str, str]], calls: int, start_at: float) -> ClientRun:
    """One learners' machine: its keys' fan-outs, all starting at `start_at` (wall clock), as the others'."""
    return asyncio.run(learners(base_url, keys, calls, start_at))


def quiet_room(base_url: str, key: str, calls: int) -> list[float]:
    return asyncio.run(fan_out(base_url, key, "quiet", calls)).latencies


def measure(keys: int = KEYS, calls: int = CALLS_PER_KEY, capacity: int = CAPACITY, time_scale: float = TIME_SCALE,
            processes: int = CLIENT_PROCESSES, start_delay: float = START_DELAY, say=print) -> RoomRun:
    say(f"5. room: {keys} keys × {calls} calls at once, {capacity} slots, {MODEL} at time scale {time_scale}, "
        f"{processes} client processes")
    with tempfile.TemporaryDirectory(prefix="bench-room-") as folder:
        roster_file = Path(folder) / "roster.csv"
        roster_file.write_text(new_roster(keys))
        roster = read_roster(roster_file)
        with start_room(roster_file, keys, calls, capacity, time_scale) as room:
            first = roster.keys[0]
            quiet_room(room.base_url, first, 1)  # warm up: the server's first answer, the client's modules
            quiet = quiet_room(room.base_url, first, QUIET_CALLS)
            named = [(key, roster.names[key]) for key in roster.keys]
            groups = [named[i::processes] for i in range(processes)]
            # spawn, not Linux's fork: this process has threads (the server's reader), and forking a
            # process with threads can deadlock the child (Python 3.12+ warns of it)
            with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
                start_at = time.time() + start_delay
                futures = [pool.submit(client_process, room.base_url, group, calls, start_at) for group in groups]
                time.sleep(max(0.0, start_at - time.time()))
                server_cpu = CpuShare(room.process.pid)
                clients = [future.result() for future in futures]
            seconds = time.time() - start_at
            server_share = server_cpu.share()
            runs = [key_run for client in clients for key_run in client.keys]
            key_of = {name: key for key, name in named}
            server_medians, arrivals = [], []
            for key in (key_of[key_run.name] for key_run in runs):  # in the order of `runs`
                room.api_key = key  # the handle reads the journal with its key: this key's entries only
                entries = [entry for entry in room.requests() if entry["arrival"] >= start_at]
                server_medians.append(statistics.median(entry["end"] - entry["arrival"] for entry in entries))
                arrivals += [entry["arrival"] - start_at for entry in entries]
    run = RoomRun(keys, calls, capacity, quiet, runs, seconds,
                  server_share, [client.cpu_share for client in clients], server_medians, (min(arrivals), max(arrivals)))
    medians = [median_latency(key) for key in run.runs]
    say(f"   quiet: median {run.quiet_latency:.2f} s, s = {run.service_seconds:.2f} s; fair share of the queue "
        f"{run.fair_wait:.1f} s; bound {run.bound:.1f} s")
    say(f"   loaded: {answered(run.runs)} of {keys * calls} answered, {server_errors(run.runs)} 5xx in {seconds:.1f} s; "
        f"median per key {min(medians):.1f} to {max(medians):.1f} s; CPU server {server_share:.2f}, clients "
        + ", ".join(f"{share:.2f}" for share in run.client_cpu))
    say(f"   server's journal: median per key {min(server_medians):.1f} to {max(server_medians):.1f} s; the calls "
        f"arrived from {run.arrivals[0]:.1f} to {run.arrivals[1]:.1f} s after the clients began")
    return run


def settings() -> dict:
    return {"keys": KEYS, "calls_per_key": CALLS_PER_KEY, "capacity": CAPACITY, "model": MODEL,
            "time_scale": TIME_SCALE, "quiet_calls": QUIET_CALLS, "client_processes": CLIENT_PROCESSES,
            "slack": SLACK, "transport": "aiohttp"}
