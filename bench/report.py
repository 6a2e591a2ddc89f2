"""Write a run's figures: every one of them to `bench/results/<date>.json`, the main ones as tables in README.md.

The tables are rendered from the JSON record alone, so the README always shows exactly what a
results file holds; they go between two markers and nothing else in the README is touched.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bench.batch_process import RunnerRun, option_flags
from bench.openai_clients import ClientRun
from bench.streams import StreamRun
from bench.targets import Target
from bench.throughput import Comparison, ServerRun, spread_ms

if TYPE_CHECKING:  # only named in signatures: the server benchmarks need not import the batch runner
    from bench.batch import BatchBench
    from bench.batch_ledger import Ledger
    from bench.room import RoomRun
    from bench.service import ServiceBench

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
README = BENCH / "README.md"
TABLES_START = "<!-- results: written by `make bench` from the newest results file; do not edit by hand -->"
TABLES_END = "<!-- end of results -->"
BATCH_TABLES_START = ("<!-- batch results: written by `python -m bench batch` (or `make bench`) from the newest "
                      "results file that has them; do not edit by hand -->")
BATCH_TABLES_END = "<!-- end of batch results -->"
ROOM_TABLES_START = ("<!-- room results: written by `python -m bench room` (or `make bench`) from the newest "
                     "results file that has them; do not edit by hand -->")
ROOM_TABLES_END = "<!-- end of room results -->"
SERVICE_TABLES_START = ("<!-- service results: written by `python -m bench service` (or `make bench`) from the newest "
                        "results file that has them; do not edit by hand -->")
SERVICE_TABLES_END = "<!-- end of service results -->"


def server_record(run: ServerRun) -> dict:
    return {"per_second": run.per_second, "server_cpu": run.server_cpu, "wrk_cpu": run.wrk_cpu,
            "wrk": run.wrk._asdict()}


def comparison_record(comparison: Comparison) -> dict:
    ours, reference, ideal = comparison.ours.per_second, comparison.reference.per_second, comparison.ideal_per_second
    return {"connections": comparison.connections, "latency_s": comparison.latency, "ideal_per_second": ideal,
            "reference": server_record(comparison.reference), "ours": server_record(comparison.ours),
            "ours_vs_reference": ours / reference, "ours_vs_ideal": ours / ideal,
            "reference_vs_ideal": reference / ideal,
            "ours_latency_error_ms": spread_ms(comparison.ours_latency_errors)._asdict(),
            "reference_latency_error_ms": spread_ms(comparison.reference_latency_errors)._asdict()}


def stream_record(run: StreamRun) -> dict:
    return {**run._asdict(), "ideal_per_second": run.ideal_per_second, "ratio": run.ratio,
            "client_bound": run.client_bound}


def client_record(run: ClientRun) -> dict:
    return {**run._asdict(), "ratio": run.ratio}


def target_record(target: Target) -> dict:  # read back in `tables`
    return {**target._asdict(), "passed": target.passed}


def servers_record(*, settings: dict, comparisons: list[Comparison], streams: list[StreamRun],
                   below_95_between: tuple[int | None, int | None], clients: list[ClientRun],
                   targets: list[Target]) -> dict:
    """What the server benchmarks measured, as JSON-ready data: the top-level keys of a results file."""
    return {"settings": settings, "throughput": [comparison_record(c) for c in comparisons],
            "streaming": {"runs": [stream_record(run) for run in streams], "below_95_between": below_95_between},
            "openai_client": [client_record(run) for run in clients],
            "targets": [target_record(target) for target in targets]}


def record(*, started: datetime, seconds: float, machine: dict, server: dict | None = None,
           batch: dict | None = None, room: dict | None = None, service: dict | None = None) -> dict:
    """Everything one run measured: the server part's keys at the top (as results files always had them), the
    batch part's under "batch", the room's under "room"; a run of one part has only its own."""
    return {"date": started.isoformat(timespec="seconds"), "duration_s": seconds, "machine": machine,
            **(server or {}), **({} if batch is None else {"batch": batch}), **({} if room is None else {"room": room}),
            **({} if service is None else {"service": service})}


def results_path(started: datetime) -> Path:
    """bench/results/2025-11-23T2140.json: sorts by date, and two runs of a day do not overwrite each other."""
    return RESULTS / f"{started:%Y-%m-%dT%H%M}.json"


def where_streams_fall_short(between: list[int | None]) -> str:
    passing, failing = between
    if failing is None:
        return f"Every stream count measured kept at least 95 % of the ideal (up to {passing})."
    if passing is None:
        return f"Already below 95 % of the ideal at {failing} streams, the fewest measured."
    return f"The delivered rate falls below 95 % of the ideal between {passing} and {failing} streams."


def spread_cell(spread: dict | None) -> str:
    """A latency error's p50 / p99 / max; "–" for a results file from before the reference measured its own."""
    return "–" if spread is None else f"{spread['p50']:.1f} / {spread['p99']:.1f} / {spread['max']:.1f} ms"


def tables(results: dict, path: str) -> str:
    """The README's tables, in Markdown, from a results record."""
    machine, settings = results["machine"], results["settings"]
    lines = [f"Run of {results['date']} (`{path}`, {results['duration_s']:.0f} s): {machine['usable_cpus']} CPUs, "
             f"{machine['python']}, wrk {machine['wrk']}, aiohttp {machine['aiohttp']}, openai {machine['openai']}.",
             "", *target_rows(results["targets"])]
    lines += ["", f"Throughput with wrk, {settings['latency_s']} s latency, best of {settings['rounds']} runs of "
              f"{settings['wrk_seconds']} s each (CPU: share of one core used by each server's process, and by wrk "
              "in the busier of its two runs):", "",
              "| connections | ideal req/s | reference req/s | ours req/s | ours / reference | ours / ideal "
              "| CPU reference / ours / wrk | reference's latency error p50 / p99 / max "
              "| ours' latency error p50 / p99 / max |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in results["throughput"]:
        lines.append(f"| {row['connections']} | {row['ideal_per_second']:.0f} | {row['reference']['per_second']:.0f} "
                     f"| {row['ours']['per_second']:.0f} | {row['ours_vs_reference']:.3f} | {row['ours_vs_ideal']:.3f} "
                     f"| {row['reference']['server_cpu']:.2f} / {row['ours']['server_cpu']:.2f} / "
                     f"{max(row['reference']['wrk_cpu'], row['ours']['wrk_cpu']):.2f} "
                     f"| {spread_cell(row.get('reference_latency_error_ms'))} "
                     f"| {spread_cell(row['ours_latency_error_ms'])} |")
    lines += ["", f"Streaming from our server, {settings['tokens_per_second']} tokens/s per stream:", "",
              "| streams | ideal tokens/s | delivered tokens/s | share of ideal | CPU server / client |",
              "|---|---|---|---|---|"]
    for run in results["streaming"]["runs"]:
        lines.append(f"| {run['streams']} | {run['ideal_per_second']:.0f} | {run['delivered_per_second']:.0f} "
                     f"| {run['ratio']:.1%} | {run['server_cpu']:.2f} / {run['client_cpu']:.2f}"
                     f"{' (client-bound)' if run['client_bound'] else ''} |")
    lines += ["", where_streams_fall_short(results["streaming"]["below_95_between"]), "",
              f"The `openai` client's `AsyncOpenAI`, all calls at once, {settings['client_latency_s']} s latency "
              "(makespan: first call sent to last answer; best of "
              f"{settings['rounds']}):", "",
              "| server | transport | calls | makespan | makespan / latency |", "|---|---|---|---|---|"]
    for run in results["openai_client"]:
        lines.append(f"| {run['server']} | {run['transport']} | {run['calls']} | {run['makespan']:.2f} s "
                     f"| {run['ratio']:.2f} |")
    return "\n".join(lines)


def runner_record(run: RunnerRun) -> dict:
    """A run of the runner's command; of what it printed, only its last line (the summary, or the error)."""
    lines = [line.strip() for line in run.output.replace("\r", "\n").splitlines() if line.strip()]
    return {**run._asdict(), "output": lines[-1] if lines else ""}


def ledger_record(ledger: Ledger) -> dict:
    return {**ledger._asdict(), "duplicate_results": ledger.duplicate_results, "answered_twice": ledger.answered_twice,
            "sent_twice": ledger.sent_twice}


def batch_record(bench: BatchBench, *, settings: dict, seconds: float, targets: list[Target]) -> dict:
    """What the batch runner's benchmark measured, as JSON-ready data: a results file's "batch"."""
    faults, kill = bench.faults, bench.kill
    return {"settings": settings, "duration_s": seconds,
            "faults": {"ledger": ledger_record(faults.ledger), "runner": runner_record(faults.runner),
                       "tokens_per_request": faults.tokens_per_request, "ideal_per_second": faults.ideal_per_second,
                       "ideal_requests": faults.ideal_requests, "admitted_attempts": faults.admitted_attempts,
                       "succeeded_per_second": faults.ledger.succeeded / faults.runner.seconds,
                       "share_of_ideal": faults.share_of_ideal},
            "kill": {"ledger": ledger_record(kill.ledger), "killed": runner_record(kill.killed),
                     "resumed": runner_record(kill.resumed), "open_at_kill": kill.open_at_kill,
                     "max_in_flight": kill.max_in_flight, "resent": kill.resent},
            "memory": [{"requests": run.requests, "runner": runner_record(run.runner), "ledger": ledger_record(run.ledger)}
                       for run in bench.memory],
            "targets": [target_record(target) for target in targets]}


def target_rows(records: list[dict]) -> list[str]:
    """The targets table; an older file's target lacks the fields added since (the reference's figure):
    they keep their defaults."""
    lines = ["| target | measured | required | |", "|---|---|---|---|"]
    for target in (Target(**{name: record[name] for name in Target._fields if name in record}) for record in records):
        lines.append(f"| {target.what} | {target.figures()} | {target.requirement()} "
                     f"| {'✓' if target.passed else '✗'} |")
    return lines


def fault_shares(faults: dict[str, float]) -> str:
    """e.g. "2 % error, 1 % hang, 1 % drop" from {"error_rate": 0.02, ...}."""
    return ", ".join(f"{share:.0%} {name.removesuffix('_rate')}".replace("%", " %") for name, share in faults.items())


def mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def batch_tables(results: dict, path: str) -> str:
    """The README's tables of the batch runner's benchmark, in Markdown, from a results record."""
    machine, batch = results["machine"], results["batch"]
    settings, faults, kill = batch["settings"], batch["faults"], batch["kill"]
    statuses = faults["ledger"]["statuses"]
    lines = [f"Run of {results['date']} (`{path}`, batch part {batch['duration_s']:.0f} s): {machine['usable_cpus']} "
             f"CPUs, {machine['python']}, aiohttp {machine['aiohttp']}, openai {machine['openai']}.", "",
             *target_rows(batch["targets"]), "",
             f"With faults: {settings['requests']:,} requests, limits of {settings['rpm']:,} requests and "
             f"{settings['tpm']:,} tokens a minute, {fault_shares(settings['faults'])}; `llm-batch "
             f"{' '.join(option_flags(settings['runner_options']))}`:", "",
             "| seconds | succeeded/s | ideal/s (tokens a request) | of the ideal over the run | attempts "
             "| 429 / 500 / timed out (499) / dropped (444) | peak RSS |", "|---|---|---|---|---|---|---|",
             f"| {faults['runner']['seconds']:.1f} | {faults['succeeded_per_second']:.1f} "
             f"| {faults['ideal_per_second']:.1f} ({faults['tokens_per_request']:.0f}) | {faults['share_of_ideal']:.1%} "
             f"| {faults['ledger']['attempts']} | "
             + " / ".join(str(statuses.get(status, 0)) for status in ("429", "500", "499", "444"))
             + f" | {mib(faults['runner']['peak_rss'])} |", "",
             f"Killed with SIGKILL at half way, then the same command again ({settings['requests']:,} requests, "
             "the same limits and faults):", "",
             "| results at the kill | calls open at the kill (journal) | sent by both runs | answered twice "
             "| seconds killed + resumed | exit codes |", "|---|---|---|---|---|---|",
             f"| {kill['killed']['lines_at_kill']} | {kill['open_at_kill']} | {kill['resent']} "
             f"| {kill['ledger']['answered_twice']} | {kill['killed']['seconds']:.1f} + {kill['resumed']['seconds']:.1f} "
             f"| {kill['killed']['exit_code']}, {kill['resumed']['exit_code']} |", "",
             f"Memory: no limits, no faults, the `{settings['memory_model']}` model (no delay):", "",
             "| requests | seconds | requests/s | peak RSS |", "|---|---|---|---|"]
    for run in batch["memory"]:
        lines.append(f"| {run['requests']} | {run['runner']['seconds']:.1f} "
                     f"| {run['ledger']['succeeded'] / run['runner']['seconds']:.0f} | {mib(run['runner']['peak_rss'])} |")
    return "\n".join(lines)


def room_record(run: RoomRun, *, settings: dict, seconds: float, targets: list[Target]) -> dict:
    """What the room's benchmark measured, as JSON-ready data: a results file's "room"."""
    from bench.room import median_latency  # here, not at the top: the room part imports openai

    return {"settings": settings, "duration_s": seconds, "quiet_latencies_s": run.quiet,
            "quiet_latency_s": run.quiet_latency, "service_s": run.service_seconds, "fair_wait_s": run.fair_wait,
            "bound_s": run.bound, "load_seconds": run.seconds, "server_cpu": run.server_cpu,
            "client_cpu": run.client_cpu, "arrivals_after_start_s": run.arrivals,
            "keys": [{"name": key.name, "statuses": {str(status): count for status, count in key.statuses.items()},
                      "median_s": median_latency(key), "max_s": max(key.latencies, default=None),
                      "server_median_s": server_median}
                     for key, server_median in zip(run.runs, run.server_medians, strict=True)],
            "targets": [target_record(target) for target in targets]}


def room_tables(results: dict, path: str) -> str:
    """The README's tables of the room's benchmark, in Markdown, from a results record."""
    machine, room = results["machine"], results["room"]
    settings, keys = room["settings"], room["keys"]
    server, client = ([key[field] for key in keys] for field in ("server_median_s", "median_s"))
    first, last = room["arrivals_after_start_s"]
    calls = settings["keys"] * settings["calls_per_key"]
    return "\n".join([
        f"Run of {results['date']} (`{path}`, room part {room['duration_s']:.0f} s): {machine['usable_cpus']} CPUs, "
        f"{machine['python']}, aiohttp {machine['aiohttp']}, openai {machine['openai']}.", "",
        *target_rows(room["targets"]), "",
        f"{settings['keys']} keys × {settings['calls_per_key']} calls at once ({calls:,}), {settings['capacity']} "
        f"slots, `{settings['model']}` at time scale {settings['time_scale']}, {settings['client_processes']} client "
        f"processes ({settings['transport']}):", "",
        "| quiet latency (median of " f"{len(room['quiet_latencies_s'])}) | s (their mean) | fair share of the queue "
        "| bound | median per key at the server, min / max | at the clients, min / max "
        "| calls arrived, after the clients began "
        "| all answered in | CPU server / clients |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {room['quiet_latency_s']:.2f} s | {room['service_s']:.2f} s | {room['fair_wait_s']:.1f} s "
        f"| {room['bound_s']:.1f} s | {min(server):.1f} / {max(server):.1f} s | {min(client):.1f} / {max(client):.1f} s "
        f"| {first:.1f} to {last:.1f} s | {room['load_seconds']:.1f} s "
        f"| {room['server_cpu']:.2f} / " + ", ".join(f"{share:.2f}" for share in room["client_cpu"]) + " |"])


def service_record(bench: ServiceBench, *, settings: dict, seconds: float, targets: list[Target]) -> dict:
    """What the service's benchmark measured, as JSON-ready data: a results file's "service"."""
    from bench.service import SETTLE_SECONDS, gate_bound

    return {"settings": settings, "duration_s": seconds, "bound_per_s": bench.bound,
            "runs": [{"way": run.way, "sustained_per_s": run.run.sustained(SETTLE_SECONDS),
                      "throughput_per_s": run.run.throughput,
                      "latency_s": {str(point): seconds for point, seconds in run.run.latency().items()},
                      "served": len(run.run.served), "failed": run.run.failed, "lost": run.run.lost,
                      "peak_memory_bytes": run.peak_memory, "idle_memory_bytes": run.idle_memory,
                      "peak_threads": run.peak_threads, "mean_call_s": run.mean_call,
                      "gate_bound_per_s": gate_bound(bench.gate, run.mean_call)} for run in bench.runs],
            "targets": [target_record(target) for target in targets]}


def service_tables(results: dict, path: str) -> str:
    """The README's tables of the service's benchmark, in Markdown, from a results record."""
    machine, service = results["machine"], results["service"]
    settings = service["settings"]
    rows = [f"| {run['way']} | {run['sustained_per_s']:.1f} | {run['gate_bound_per_s']:.1f} "
            f"| {run['latency_s']['50']:.2f} / {run['latency_s']['99']:.2f} s | {mib(run['peak_memory_bytes'])} "
            f"(idle {mib(run['idle_memory_bytes'])}) | {run['peak_threads']} | {run['failed']} |"
            for run in service["runs"]]
    return "\n".join([
        f"Run of {results['date']} (`{path}`, service part {service['duration_s']:.0f} s): {machine['usable_cpus']} "
        f"CPUs, {machine['python']}, aiohttp {machine['aiohttp']}, openai {machine['openai']}.", "",
        *target_rows(service["targets"]), "",
        f"{settings['users']:,} closed-loop users for {settings['load_seconds']} s against `{settings['model']}` limited "
        f"to {settings['rpm']:,} requests a minute ({service['bound_per_s']:g}/s), a gate of {settings['gate']} (a probe "
        f"call {settings['probe_call_s']:.2f} s); sustained: answers from {settings['settle_seconds']} s to the "
        "load's end:", "",
        "| handlers | answers/s sustained | gate's bound /s | p50 / p99 | peak memory | threads | failed |",
        "|---|---|---|---|---|---|---|", *rows])


def replace_tables(readme: str, new_tables: str, markers: tuple[str, str] = (TABLES_START, TABLES_END)) -> str:
    """The README with the text between the two markers replaced by `new_tables`."""
    first, last = markers
    before, start, rest = readme.partition(first)
    _, end, after = rest.partition(last)
    if not (start and end):
        raise ValueError(f"README.md lacks the markers {first!r} and {last!r}")
    return f"{before}{first}\n{new_tables}\n{last}{after}"


def show_in_readme(path: Path, parts: tuple[str, ...] = ("throughput", "batch", "room", "service")) -> None:
    """Put the tables of the results file at `path` in the README: the server's ("throughput"), the batch
    runner's ("batch"), the room's ("room"), those of `parts` the file holds; the others stay as they were."""
    results = json.loads(path.read_text(encoding="utf-8"))
    shown = str(path.relative_to(BENCH.parent))
    readme = README.read_text(encoding="utf-8")
    if "throughput" in parts and "throughput" in results:
        readme = replace_tables(readme, tables(results, shown))
    if "batch" in parts and "batch" in results:
        readme = replace_tables(readme, batch_tables(results, shown), (BATCH_TABLES_START, BATCH_TABLES_END))
    if "room" in parts and "room" in results:
        readme = replace_tables(readme, room_tables(results, shown), (ROOM_TABLES_START, ROOM_TABLES_END))
    if "service" in parts and "service" in results:
        readme = replace_tables(readme, service_tables(results, shown), (SERVICE_TABLES_START, SERVICE_TABLES_END))
    README.write_text(readme, encoding="utf-8")


def write(results: dict, started: datetime) -> Path:
    """Save the record, then show it in the README from the saved file; return the file's path."""
    path = results_path(started)
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    show_in_readme(path)
    return path


def newest_with(part: str) -> Path | None:
    """The newest results file (names sort by date) that holds `part` ("throughput", "batch", "room" or "service")."""
    having = [path for path in sorted(RESULTS.glob("*.json")) if part in json.loads(path.read_text(encoding="utf-8"))]
    return having[-1] if having else None


if __name__ == "__main__":
    # `python -m bench.report`: redraw the README's tables from the newest results file of each part,
    # e.g. after changing how the tables look, without measuring again.
    for part in ("throughput", "batch", "room", "service"):
        if newest := newest_with(part):
            show_in_readme(newest, (part,))
