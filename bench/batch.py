"""`python -m bench batch`: the batch runner (`llm-batch`, helpers/batch/) against the simulator, as a user runs it.

Three measurements, each against a fresh simulated server, so one's journal and rate-limit buckets do
not mix with the next; the runner always runs as a command in a process of its own (batch_process.py):
1. faults: 10,000 requests within an RPM and a TPM limit, with 2 % of attempts answered 500, 1 %
   hanging until the runner's timeout and 1 % dropped halfway: does every request succeed exactly
   once (batch_ledger.py), and how close does the runner come to what the limits allow?
2. kill: the same again, killed with SIGKILL when half the results are written, then run again
   with the same command: does the batch end with every request once, and how many requests were
   sent by both runs?
3. memory: 10,000 and then 100,000 requests with no limits and no faults, the runner's peak
   resident memory in each.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from bench.batch_ledger import Ledger, ledger
from bench.batch_process import RunnerRun, run_runner, runner_command
from bench.servers import start_simulator
from helpers.batch import ideal_requests_per_second, read_results, write_requests
from helpers.llm_server import ServerHandle

REQUESTS = 10_000
MODEL = "sim-flash"  # 1.5 to 3 s an answer at time scale 1
MAX_TOKENS = 400  # what a request may write, so what it reserves of the TPM limit: far more than the ~80 it writes
# The limits of a gpt-4o-mini key at OpenAI's usage tier 1 (500 RPM, 200,000 TPM) fifteen times over, per real
# minute: 10,000 requests then take about 80 s instead of 20 minutes. The TPM limit binds (about 414 tokens a
# request), the RPM limit 3 % above it: the runner has to keep to both.
RPM, TPM = 7_500, 3_000_000
# The simulator's minute lasts 60 × TIME_SCALE real seconds (2 s) and its buckets start full, so a client may
# send that much of the allowance at once; `ideal_requests` counts it. The answers take 50 to 100 ms.
TIME_SCALE = 1 / 30
FAULTS = {"error_rate": 0.02, "hang_rate": 0.01, "drop_rate": 0.01}
# The runner's options (`llm-batch --help`): a hung call is given up after 1 s, ten times the slowest answer.
RUNNER_OPTIONS = {"rpm": RPM, "tpm": TPM, "max_in_flight": 50, "max_attempts": 6, "timeout": 1.0}
MEMORY_REQUESTS = (10_000, 100_000)
MEMORY_MODEL = "instant"  # no delay: the memory runs go as fast as the two processes can, limits and faults off


class FaultsRun(NamedTuple):
    ledger: Ledger
    runner: RunnerRun
    tokens_per_request: float  # what the server charged each answered request against the TPM limit, on average
    ideal_per_second: float  # ideal_requests_per_second(RPM, TPM, tokens_per_request)
    ideal_requests: float  # the most the limits let through in the run's seconds (ideal_requests)
    admitted_attempts: int  # attempts the rate limits let in (all but the 429s): what the limits counted

    @property
    def share_of_ideal(self) -> float:
        """Requests that succeeded, against the most the limits allowed in the same time."""
        return self.ledger.succeeded / self.ideal_requests


class KillRun(NamedTuple):
    ledger: Ledger  # over both runs
    killed: RunnerRun
    resumed: RunnerRun
    open_at_kill: int  # journal: requests the server was still working on when the runner died
    max_in_flight: int

    @property
    def resent(self) -> int:
        """Requests both runs sent: the killed run's unfinished ones, sent again by the resumed run."""
        return self.ledger.sent_twice


class MemoryRun(NamedTuple):
    requests: int
    runner: RunnerRun
    ledger: Ledger


def body(number: int) -> dict:
    """One chat completion of the workload: a short prompt (about 14 tokens), up to MAX_TOKENS in the answer."""
    return {"model": MODEL, "max_completion_tokens": MAX_TOKENS, "messages": [
        {"role": "user", "content": f"Describe product {number} of the catalogue in one sentence for its web page."}]}


def bodies(count: int, model: str = MODEL) -> Iterator[dict]:
    """A generator, so writing 100,000 requests holds one body at a time."""
    return (body(number) | {"model": model} for number in range(1, count + 1))


def ideal_requests(per_second: float, seconds: float) -> float:
    """The most requests the limits let through in `seconds`: the rate, plus the simulated minute's allowance
    the full buckets hold at the start."""
    return per_second * (seconds + 60 * TIME_SCALE)


def limited_server() -> ServerHandle:
    """The server of the faults and kill runs: both limits, the three faults, scaled time."""
    return start_simulator(MODEL, time_scale=TIME_SCALE, rpm=round(RPM * TIME_SCALE), tpm=round(TPM * TIME_SCALE),
                           **FAULTS)


def run_once(server: ServerHandle, requests: Path, results: Path, options: dict, **watch: int) -> RunnerRun:
    return run_runner(runner_command(requests, results, server.base_url, server.api_key, options), results, **watch)


def faults_run(folder: Path, requests: int = REQUESTS) -> FaultsRun:
    input_file, results = write_requests(folder / "faults.jsonl", bodies(requests)), folder / "faults-results.jsonl"
    with limited_server() as server:
        runner = run_once(server, input_file, results, RUNNER_OPTIONS)
        journal = server.requests()
    answered = [entry for entry in journal if entry["status"] == 200]
    tokens = sum(entry["token_cost"] for entry in answered) / max(1, len(answered))
    ideal = ideal_requests_per_second(RPM, TPM, tokens)
    return FaultsRun(ledger(requests, read_results(results), journal), runner, tokens, ideal,
                     ideal_requests(ideal, runner.seconds),
                     sum(not (entry["status"] == 429 and entry["limited_by"]) for entry in journal))


def kill_run(folder: Path, requests: int = REQUESTS) -> KillRun:
    input_file, results = write_requests(folder / "kill.jsonl", bodies(requests)), folder / "kill-results.jsonl"
    with limited_server() as server:
        killed = run_once(server, input_file, results, RUNNER_OPTIONS, kill_at_lines=requests // 2)
        open_at_kill = sum(entry["arrival"] <= killed.killed_at and (entry["end"] is None
                                                                     or entry["end"] >= killed.killed_at)
                           for entry in server.requests())
        resumed = run_once(server, input_file, results, RUNNER_OPTIONS)  # the same command again
        journal = server.requests()
    return KillRun(ledger(requests, read_results(results), journal), killed, resumed, open_at_kill,
                   RUNNER_OPTIONS["max_in_flight"])


def memory_run(folder: Path, requests: int) -> MemoryRun:
    input_file = write_requests(folder / f"memory-{requests}.jsonl", bodies(requests, MEMORY_MODEL))
    results = folder / f"memory-{requests}-results.jsonl"
    with start_simulator(MEMORY_MODEL, time_scale=1.0) as server:
        runner = run_once(server, input_file, results, {"max_in_flight": RUNNER_OPTIONS["max_in_flight"]})
        journal = server.requests()
    return MemoryRun(requests, runner, ledger(requests, read_results(results), journal))


class BatchBench(NamedTuple):
    faults: FaultsRun
    kill: KillRun
    memory: list[MemoryRun]


def settings(bench: BatchBench) -> dict:
    """The workload, the limits and the runner's options of a measurement, for the results file."""
    return {"requests": bench.faults.ledger.requests, "model": MODEL, "max_tokens": MAX_TOKENS, "rpm": RPM, "tpm": TPM,
            "time_scale": TIME_SCALE, "faults": FAULTS, "runner_options": RUNNER_OPTIONS,
            "memory_requests": [run.requests for run in bench.memory], "memory_model": MEMORY_MODEL}


def measure(requests: int = REQUESTS, memory_requests: tuple[int, ...] = MEMORY_REQUESTS,
            folder: Path | None = None, say=print) -> BatchBench:
    """The three measurements, in a temporary folder unless given one; `say` reports each as it ends."""
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as temporary:
        folder = folder or Path(temporary)
        say(f"4. batch runner: {requests} requests, RPM {RPM}, TPM {TPM}, faults {FAULTS}, options {RUNNER_OPTIONS}")
        faults = faults_run(folder, requests)
        say(f"   faults: {faults.ledger.succeeded} of {requests} succeeded in {faults.runner.seconds:.1f} s, "
            f"{faults.share_of_ideal:.1%} of the ideal {faults.ideal_requests:.0f}; {faults.ledger.attempts} attempts")
        kill = kill_run(folder, requests)
        say(f"   kill: killed at {kill.killed.lines_at_kill} results, {kill.open_at_kill} calls open; resumed in "
            f"{kill.resumed.seconds:.1f} s: {kill.ledger.succeeded} succeeded, {kill.resent} sent twice")
        memory = []
        for count in memory_requests:
            memory.append(run := memory_run(folder, count))
            say(f"   memory: {count} requests in {run.runner.seconds:.1f} s, peak RSS {run.runner.peak_rss / 2**20:.1f} MiB")
    return BatchBench(faults, kill, memory)
