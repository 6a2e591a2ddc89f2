"""The batch runner's benchmark harness (bench/batch*.py) at small size: its bookkeeping on made-up lines, its
watching of a child process on small real ones, and the whole measurement on a few hundred requests
(`python -m bench batch` runs it at full size)."""

import json
import sys
from pathlib import Path

import pytest

from bench import batch, report
from bench.batch_ledger import is_batch_output, ledger
from bench.batch_process import LineCounter, run_runner, runner_command
from bench.targets import check_batch

pytestmark = pytest.mark.slow  # seconds of real waiting: the main run has these, CI's Python 3.13 run leaves them out


def result(custom_id: str, request_id: str, status: int = 200) -> dict:
    """A results line as the Batch API writes it."""
    body = {"id": request_id, "object": "chat.completion", "choices": []}
    if status != 200:
        return {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": {"status_code": status, "body": {}},
                "error": {"code": "bad_request", "message": "no"}}
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id,
            "response": {"status_code": 200, "request_id": request_id, "body": body}, "error": None}


def entry(request_id: str, status: int | None = 200, retry_count: int = 0) -> dict:
    """A journal entry, with only the fields the ledger reads."""
    return {"id": request_id, "status": status, "retry_count": retry_count}


def test_a_clean_batch_has_every_request_once_in_both_records() -> None:
    journal = [entry("a", 500), entry("b"), entry("c", 499, retry_count=1), entry("d", retry_count=2),
               entry("e", 429)]
    books = ledger(3, [result("r1", "b"), result("r2", "d"), result("r3", "e2")], journal + [entry("e2", retry_count=1)])
    assert (books.succeeded, books.well_formed, books.backed, books.duplicate_results) == (3, 3, 3, 0)
    assert (books.answered_twice, books.sent_twice, books.attempts) == (0, 0, 6)
    assert books.statuses == {"200": 3, "429": 1, "499": 1, "500": 1}


def test_a_result_written_twice_is_a_duplicate_of_the_results_file() -> None:
    books = ledger(2, [result("r1", "a"), result("r1", "a"), result("r2", "b")], [entry("a"), entry("b")])
    assert books.duplicate_results == 1
    assert books.backed == 2  # one answer backs one line, not two


def test_an_answer_the_results_lost_is_a_duplicate_of_the_journal() -> None:
    # r1 answered twice: the first answer came after the runner had given up on it, or before a kill.
    books = ledger(2, [result("r1", "a2"), result("r2", "b")], [entry("a"), entry("a2", retry_count=1), entry("b")])
    assert (books.duplicate_results, books.answered_twice, books.sent_twice) == (0, 1, 0)


def test_a_failed_request_does_not_hide_an_answer_the_results_lost() -> None:
    # r2 failed for good (400): no answer of its own, so counting answers against ids would come out even.
    books = ledger(2, [result("r1", "a2"), result("r2", "x", status=400)],
                   [entry("a"), entry("a2", retry_count=1), entry("x", 400)])
    assert (books.succeeded, books.answered_twice) == (1, 1)


def test_a_request_sent_again_by_a_resumed_run_is_sent_twice() -> None:
    # The killed run sent r1 (cut by the kill: 499); the resumed run sends it again as a first attempt.
    books = ledger(2, [result("r1", "a2"), result("r2", "b")], [entry("a", 499), entry("b"), entry("a2")])
    assert (books.sent_twice, books.answered_twice) == (1, 0)


def test_a_result_no_answer_of_the_journal_backs_is_not_backed() -> None:
    books = ledger(1, [result("r1", "made-up")], [entry("a")])
    assert books.backed == 0


def test_only_a_successful_line_of_the_batch_api_s_shape_is_well_formed() -> None:
    assert is_batch_output(result("r1", "a"))
    assert not is_batch_output(result("r1", "a", status=400))
    assert not is_batch_output({**result("r1", "a"), "id": "r1"})
    assert not is_batch_output({key: value for key, value in result("r1", "a").items() if key != "error"})
    line = result("r1", "a")
    line["response"]["body"]["object"] = "chat.completion.chunk"
    assert not is_batch_output(line)


def test_the_line_counter_counts_complete_lines_only_reading_what_was_added(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    counter = LineCounter(path)
    assert counter.count() == 0  # no file yet
    path.write_text('{"a": 1}\n{"b": 2}\n{"tor')
    assert counter.count() == 2
    with path.open("a") as file:
        file.write('n": 3}\n')
    assert counter.count() == 3 and counter.offset == path.stat().st_size


def test_the_runner_command_names_every_option_given_and_leaves_out_the_rest() -> None:
    command = runner_command(Path("in.jsonl"), Path("out.jsonl"), "http://127.0.0.1:1/v1", "sk-x",
                             {"rpm": 7500, "tpm": None, "max_in_flight": 50, "timeout": 1.0})
    assert command[1:] == ["-m", "helpers.batch", "in.jsonl", "out.jsonl", "--base-url", "http://127.0.0.1:1/v1",
                           "--api-key", "sk-x", "--rpm", "7500", "--max-in-flight", "50", "--timeout", "1.0"]


WRITER = """
import sys, time
block = bytearray(int(sys.argv[2]) * 2**20)  # touched, so resident
block[::4096] = b"x" * len(block[::4096])
with open(sys.argv[1], "a") as file:
    for number in range(int(sys.argv[3])):
        file.write(f'{{"n": {number}}}\\n')
        file.flush()
        time.sleep(0.01)
"""


def test_a_watched_child_is_killed_once_half_its_lines_are_written_and_its_memory_is_seen(tmp_path: Path) -> None:
    results = tmp_path / "lines.jsonl"
    run = run_runner([sys.executable, "-c", WRITER, str(results), "80", "200"], results, kill_at_lines=50)
    assert run.exit_code == -9 and run.killed_at is not None
    assert 50 <= run.lines_at_kill < 200 and run.lines_at_kill == len(results.read_text().splitlines())
    assert run.peak_rss > 80 * 2**20


def test_a_child_left_alone_runs_to_its_end(tmp_path: Path) -> None:
    results = tmp_path / "lines.jsonl"
    run = run_runner([sys.executable, "-c", WRITER, str(results), "1", "20"], results)
    assert (run.exit_code, run.killed_at, run.lines_at_kill) == (0, None, None)
    assert len(results.read_text().splitlines()) == 20


def test_the_ideal_counts_the_allowance_the_full_buckets_hold_at_the_start() -> None:
    assert batch.ideal_requests(100.0, 10.0) == pytest.approx(100 * (10 + 60 * batch.TIME_SCALE))


def test_the_workload_asks_for_what_the_limits_are_set_for() -> None:
    first, second = list(batch.bodies(2))
    assert first["model"] == batch.MODEL and first["max_completion_tokens"] == batch.MAX_TOKENS
    assert first["messages"] != second["messages"]  # every prompt its own: nothing a cache could answer
    assert next(batch.bodies(1, "instant"))["model"] == "instant"
    # The TPM limit binds, the RPM limit close above it (the docstring's claim), at about 414 tokens a request.
    assert batch.TPM / 414 < batch.RPM < 1.05 * batch.TPM / 414


@pytest.fixture(scope="module")
def small_bench(tmp_path_factory: pytest.TempPathFactory) -> batch.BatchBench:
    """The whole measurement on 200 requests (100,000 would take minutes), memory at 100 and 400."""
    return batch.measure(200, (100, 400), folder=tmp_path_factory.mktemp("bench-batch"), say=lambda text: None)


def test_the_small_bench_sees_every_request_once_through_faults_and_a_kill(small_bench: batch.BatchBench) -> None:
    faults, kill = small_bench.faults, small_bench.kill
    assert faults.runner.exit_code == 0, faults.runner.output
    assert faults.ledger.statuses.get("500", 0) + faults.ledger.statuses.get("444", 0) > 0  # the faults did strike
    assert faults.ledger.succeeded == faults.ledger.requests == 200
    assert kill.killed.exit_code == -9 and kill.killed.lines_at_kill >= 100
    assert kill.resumed.exit_code == 0, kill.resumed.output
    assert kill.ledger.succeeded == 200 and kill.ledger.duplicate_results == 0
    assert 0 <= kill.resent <= kill.max_in_flight


def test_the_small_bench_makes_every_target_and_a_table_of_each_run(small_bench: batch.BatchBench) -> None:
    targets = check_batch(small_bench)
    assert len(targets) == 11 and all(target.what.startswith("batch") for target in targets)
    record = report.batch_record(small_bench, settings=batch.settings(small_bench), seconds=30.0, targets=targets)
    results = json.loads(json.dumps({"date": "2026-12-01T23:00:00+00:00", "machine": {
        "usable_cpus": 2, "python": "CPython 3.11.7", "aiohttp": "3.14", "openai": "2.0"}, "batch": record}))
    text = report.batch_tables(results, "bench/results/2026-12-01T2300.json")
    for target in targets:
        assert f"| {target.what} | {target.figures()} |" in text
    assert f"| 400 | {small_bench.memory[1].runner.seconds:.1f} |" in text
