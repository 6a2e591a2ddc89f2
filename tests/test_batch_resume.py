"""Stop the batch runner anywhere and run it again: every request ends in the results exactly once.

SIGKILL of the `llm-batch` process, a cancelled `run_batch` (what a notebook's interrupt does),
and a results file whose last line a kill cut in half.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_support import expected_ids, ids_written, requests_file, run

from helpers.batch import read_results, run_batch
from helpers.llm_server import start_server

pytestmark = pytest.mark.slow  # seconds of real waiting: the main run has these, CI's Python 3.13 run leaves them out

COUNT = 200
IN_FLIGHT = 8


def lines_in(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def wait_for_lines(path: Path, at_least: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while lines_in(path) < at_least:
        assert time.monotonic() < deadline, f"only {lines_in(path)} results after {seconds} s"
        time.sleep(0.02)


def llm_batch(server, requests: Path, results: Path) -> subprocess.Popen:
    """The command a learner types, in its own process: 40 requests a second, answers in about 0.17 s."""
    return subprocess.Popen([sys.executable, "-m", "helpers.batch", str(requests), str(results), "--base-url",
                             server.base_url, "--api-key", "sk-resume", "--rpm", "4800",
                             "--max-in-flight", str(IN_FLIGHT), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_sigkilled_run_resumes_with_every_request_once_and_resends_no_more_than_were_in_flight(tmp_path) -> None:
    requests, results = requests_file(tmp_path, COUNT, model="sim-fast"), tmp_path / "results.jsonl"
    with start_server("sim-fast", time_scale=0.5) as server:
        first = llm_batch(server, requests, results)
        wait_for_lines(results, COUNT // 2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        kept = lines_in(results)
        second = llm_batch(server, requests, results)
        out, err = second.communicate(timeout=60)
        time.sleep(0.5)  # answers to the killed process's last calls finish in the journal
        arrivals = len(server.requests())
    assert first.returncode == -signal.SIGKILL and second.returncode == 0, err
    assert COUNT // 2 <= kept < COUNT
    assert f"{COUNT - kept:,} succeeded" in out and f"{kept:,} already done" in out
    assert ids_written(results) == expected_ids(COUNT)
    resent = arrivals - COUNT
    assert 0 <= resent <= IN_FLIGHT, f"{resent} requests were sent twice; at most {IN_FLIGHT} were in flight"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_or_sigterm_stops_cleanly_keeping_whole_lines(tmp_path, stop: signal.Signals) -> None:
    requests, results = requests_file(tmp_path, COUNT, model="sim-fast"), tmp_path / "results.jsonl"
    with start_server("sim-fast", time_scale=0.5) as server:
        running = llm_batch(server, requests, results)
        wait_for_lines(results, 20)
        running.send_signal(stop)
        _, err = running.communicate(timeout=30)
    kept = ids_written(results)  # every line whole, or reading would raise
    assert running.returncode == 130 and "stopped; the results so far are in" in err, err
    assert "Traceback" not in err and 20 <= kept.total() < COUNT and set(kept.values()) == {1}


def test_a_cancelled_run_batch_leaves_whole_lines_and_resumes(tmp_path) -> None:
    """Cancelling the task is what interrupting a notebook cell does to `await run_batch(...)`."""
    requests, results = requests_file(tmp_path, COUNT, model="sim-fast"), tmp_path / "results.jsonl"
    with start_server("sim-fast", time_scale=0.5) as server:

        async def cancel_halfway() -> None:
            task = asyncio.create_task(run_batch(requests, results, base_url=server.base_url, api_key="sk-cancel",
                                                 rpm=2400, max_in_flight=IN_FLIGHT, progress=False))
            while lines_in(results) < COUNT // 2:
                await asyncio.sleep(0.02)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return
            raise AssertionError("the run finished before it was cancelled")

        asyncio.run(cancel_halfway())
        kept = read_results(results)  # every line whole: this would raise on a torn one
        assert results.read_bytes().endswith(b"\n") and COUNT // 2 <= len(kept) < COUNT
        summary = run(server, requests, results, rpm=2400, max_in_flight=IN_FLIGHT)
    assert summary.skipped == len(kept) and summary.succeeded == COUNT - len(kept)
    assert ids_written(results) == expected_ids(COUNT)


def test_a_torn_last_line_is_cut_off_and_its_request_sent_again(tmp_path) -> None:
    requests, results = requests_file(tmp_path, 10), tmp_path / "results.jsonl"
    with start_server("instant", time_scale=0.1) as server:
        run(server, requests, results)
        whole = results.read_text().splitlines(keepends=True)
        last = json.loads(whole[-1])["custom_id"]
        results.write_text("".join(whole[:-1]) + whole[-1][: len(whole[-1]) // 2])  # a write cut short by a kill
        summary = run(server, requests, results)
    assert summary.skipped == 9 and summary.succeeded == 1
    assert ids_written(results) == expected_ids(10)
    assert read_results(results)[-1]["custom_id"] == last
