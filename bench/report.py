"""Write a run's figures: every one of them to `bench/results/<date>.json`, the main ones as tables in README.md.

The tables are rendered from the JSON record alone, so the README always shows exactly what a
results file holds; they go between two markers and nothing else in the README is touched.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from bench.openai_clients import ClientRun
from bench.streams import StreamRun
from bench.targets import Target
from bench.throughput import Comparison, ServerRun, spread_ms

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
README = BENCH / "README.md"
TABLES_START = "<!-- results: written by `make bench` from the newest results file; do not edit by hand -->"
TABLES_END = "<!-- end of results -->"


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


def record(*, started: datetime, seconds: float, machine: dict, settings: dict, comparisons: list[Comparison],
           streams: list[StreamRun], below_95_between: tuple[int | None, int | None], clients: list[ClientRun],
           targets: list[Target]) -> dict:
    """Everything one run measured, as JSON-ready data."""
    return {"date": started.isoformat(timespec="seconds"), "duration_s": seconds, "machine": machine,
            "settings": settings, "throughput": [comparison_record(c) for c in comparisons],
            "streaming": {"runs": [stream_record(run) for run in streams], "below_95_between": below_95_between},
            "openai_client": [client_record(run) for run in clients],
            "targets": [target_record(target) for target in targets]}


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
             "", "| target | measured | required | |", "|---|---|---|---|"]
    # An older file's target lacks the fields added since (the reference's figure): they keep their defaults.
    for target in (Target(**{name: record[name] for name in Target._fields if name in record})
                   for record in results["targets"]):
        lines.append(f"| {target.what} | {target.figures()} | {target.requirement()} "
                     f"| {'✓' if target.passed else '✗'} |")
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


def replace_tables(readme: str, new_tables: str) -> str:
    """The README with the text between the two markers replaced by `new_tables`."""
    before, start, rest = readme.partition(TABLES_START)
    _, end, after = rest.partition(TABLES_END)
    if not (start and end):
        raise ValueError(f"README.md lacks the markers {TABLES_START!r} and {TABLES_END!r}")
    return f"{before}{TABLES_START}\n{new_tables}\n{TABLES_END}{after}"


def show_in_readme(path: Path) -> None:
    """Put the tables of the results file at `path` in the README."""
    results = json.loads(path.read_text(encoding="utf-8"))
    readme = README.read_text(encoding="utf-8")
    README.write_text(replace_tables(readme, tables(results, str(path.relative_to(BENCH.parent)))), encoding="utf-8")


def write(results: dict, started: datetime) -> Path:
    """Save the record, then show it in the README from the saved file; return the file's path."""
    path = results_path(started)
    RESULTS.mkdir(exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    show_in_readme(path)
    return path


if __name__ == "__main__":
    # `python -m bench.report`: redraw the README's tables from the newest results file (names sort by date),
    # e.g. after changing how the tables look, without measuring again.
    show_in_readme(max(RESULTS.glob("*.json")))
