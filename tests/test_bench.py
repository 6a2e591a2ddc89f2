"""The benchmark's own logic on made-up figures: no wrk, no load (`make bench` runs the real thing).

One test starts the reference server for a few requests, to see it note one latency error per answer.
"""

import json
import re
import urllib.request
from datetime import datetime

import pytest

from bench import report, streams, throughput
from bench.openai_clients import ClientRun
from bench.reference_server import start_reference
from bench.servers import time_scale_for_latency, time_scale_for_token_rate
from bench.streams import StreamRun, is_token_event, next_streams, steady_window, stream_bracket
from bench.targets import Target, check
from bench.throughput import Comparison, ServerRun, latency_errors, spread_ms
from bench.wrk import SCRIPT, WrkResult, parse_summary

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8000/v1/chat/completions
  1 threads and 1000 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   520.00ms   10.00ms 600.00ms   90.00%
  18000 requests in 10.00s, 7.00MB read
  Non-2xx or 3xx responses: 100
Requests/sec:   1800.00
WRK_SUMMARY {"requests": 18000, "duration_us": 10000000, "connect_errors": 0, "read_errors": 1, \
"write_errors": 0, "non_2xx": 100, "timeouts": 2, "latency_p50_us": 512000, "latency_p99_us": 590000, \
"latency_max_us": 600000}
"""


def wrk_result(requests: int, seconds: float = 10.0) -> WrkResult:
    return WrkResult(requests, seconds, 0, 0, 0, 0, 0, 0.5, 0.6, 0.7)


def stream_run(streams_: int, ratio: float, client_cpu: float = 0.5, server_cpu: float = 0.8) -> StreamRun:
    return StreamRun(streams_, ratio * streams_ * streams.TOKENS_PER_SECOND, server_cpu, client_cpu)


def test_wrk_summary_is_read_from_the_line_post_lua_writes_and_errors_are_not_throughput() -> None:
    result = parse_summary(WRK_OUTPUT)
    assert result.requests == 18000 and result.seconds == 10.0
    assert result.latency_p50 == 0.512 and result.latency_max == 0.6
    assert result.answered_per_second == (18000 - 100) / 10
    assert result.errors == 1 + 100 + 2


def test_wrk_output_without_the_summary_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="WRK_SUMMARY"):
        parse_summary("Requests/sec: 1800.00\n")


def test_post_lua_writes_exactly_the_fields_the_parser_reads() -> None:
    written = set(re.findall(r'"(\w+)": %d', SCRIPT.read_text()))
    line = WRK_OUTPUT.splitlines()[-1]
    assert written == set(json.loads(line.removeprefix("WRK_SUMMARY ")))


def test_latency_error_counts_answered_requests_only_beyond_the_configured_latency() -> None:
    journal = [{"status": 200, "start": 10.0, "end": 10.503}, {"status": 499, "start": 10.0, "end": 10.1},
               {"status": 200, "start": 20.0, "end": 20.5}]
    assert latency_errors(journal, 0.5) == pytest.approx([0.003, 0.0])


def test_spread_in_milliseconds() -> None:
    spread = spread_ms([n / 1000 for n in range(1, 101)])  # 1 ms to 100 ms
    assert spread.count == 100 and spread.max == pytest.approx(100)
    assert spread.p50 == pytest.approx(50.5) and spread.p99 == pytest.approx(99.01)


def test_the_servers_take_turns_each_keeps_its_best_run_and_every_latency_error_counts(monkeypatch) -> None:
    class FakeOurs:
        def __init__(self) -> None:
            self.journal: list[dict] = []

        def reset(self) -> None:
            self.journal = []

        def requests(self) -> list[dict]:
            return self.journal

    class FakeReference:
        def __init__(self) -> None:
            self.errors = [9.9]  # left from the warm-up: a reset before each run forgets it

        def reset(self) -> None:
            self.errors = []

        def latency_errors(self) -> list[float]:
            return self.errors

    reference, ours = FakeReference(), FakeOurs()
    order, runs = [], iter([1700, 1600, 1800, 1500])  # reference, ours, reference, ours (requests in 10 s)

    def fake_load(server, connections: int, seconds: int) -> ServerRun:
        order.append("reference" if server is reference else "ours")
        if server is ours:
            ours.journal = [{"status": 200, "start": 0.0, "end": 0.5 + len(order) / 1000}]
        else:
            reference.errors.append(len(order) / 1000)
        return ServerRun(wrk_result(next(runs)), 0.5, 0.1)

    monkeypatch.setattr(throughput, "load", fake_load)
    comparison = throughput.compare(reference, ours, 0.5, 1000, 10, rounds=2)
    assert order == ["reference", "ours", "reference", "ours"]
    assert comparison.reference.per_second == 180 and comparison.ours.per_second == 160
    assert comparison.ours_latency_errors == pytest.approx([0.002, 0.004])  # both of ours' runs, not just the best
    assert comparison.reference_latency_errors == pytest.approx([0.001, 0.003])  # both runs, not the warm-up
    assert comparison.ideal_per_second == 2000


def test_the_reference_notes_one_latency_error_per_answer_and_forgets_them_on_reset() -> None:
    latency = 0.01
    with start_reference(latency) as reference:
        for _ in range(3):
            request = urllib.request.Request(reference.base_url + "/chat/completions", data=b"{}", method="POST")
            with urllib.request.urlopen(request, timeout=5) as response:
                assert json.load(response)["object"] == "chat.completion"
        errors = reference.latency_errors()
        assert len(errors) == 3 and all(-0.001 < error < 1.0 for error in errors)  # late, perhaps, never early
        reference.reset()
        assert reference.latency_errors() == []


def test_targets_pass_at_their_bounds_and_fail_beyond_them() -> None:
    assert Target("ratio", 0.95, 0.95, True, "×").passed
    assert not Target("ratio", 0.949, 0.95, True, "×").passed
    assert Target("error", 5.0, 5.0, False, " ms").passed
    assert not Target("error", 5.1, 5.0, False, " ms").passed
    assert Target("ratio", 0.974, 0.95, True, "×").line() == "✓ ratio: 0.974× (target ≥ 0.95×)"
    assert Target("ratio", 0.9474, 0.95, True, "×").line() == "✗ ratio: 0.947× (target ≥ 0.95×)"  # not 0.95
    assert Target("p99", 142.8, 5.0, False, " ms").line() == "✗ p99: 143 ms (target ≤ 5 ms)"
    assert Target("share", 0.9999, 1.0, True, "×").line() == "✗ share: 0.9999× (target ≥ 1×)"  # not 1×
    assert Target("share", 1.0, 1.0, True, "×").line() == "✓ share: 1× (target ≥ 1×)"


def test_the_issue_s_four_targets_from_two_comparisons() -> None:
    at_1000 = Comparison(1000, 0.5, ServerRun(wrk_result(18000), 0.3, 0.1), ServerRun(wrk_result(17500), 0.8, 0.1),
                         [0.001] * 90 + [0.2] * 10, [0.001] * 99 + [0.05])
    at_3000 = Comparison(3000, 0.5, ServerRun(wrk_result(40000), 0.8, 0.1), ServerRun(wrk_result(26000), 1.0, 0.1),
                         [0.3], [0.1])
    targets = check([at_1000, at_3000])
    assert [(t.measured, t.passed) for t in targets] == [
        (pytest.approx(17500 / 18000), True), (pytest.approx(26000 / 40000), False),
        (pytest.approx(1750 / 2000), False), (pytest.approx(spread_ms(at_1000.ours_latency_errors).p99), False)]
    assert [t.reference for t in targets[:3]] == [None] * 3  # the ratios hold the reference already
    reference_p99 = spread_ms(at_1000.reference_latency_errors).p99
    assert (targets[3].reference, targets[3].bound) == (pytest.approx(reference_p99), pytest.approx(reference_p99 + 5))


@pytest.mark.parametrize(("ours_ms", "passed"), [(54.9, True), (55.1, False)])
def test_the_latency_error_may_exceed_the_reference_s_by_5_ms_and_no_more(ours_ms, passed) -> None:
    run = ServerRun(wrk_result(18000), 0.3, 0.1)
    alone = Comparison(1000, 0.5, run, run, [ours_ms / 1000] * 100, [0.050] * 100)  # the reference: 50 ms late
    latency = check([alone])[-1]
    assert latency.passed is passed
    assert latency.line() == (f"{'✓' if passed else '✗'} ours, latency error p99 at 1000 connections: "
                              f"{ours_ms:g} ms (reference 50 ms) (target ≤ reference + 5 ms = 55 ms)")


def test_time_scales_give_the_benchmark_s_latency_and_token_rate() -> None:
    assert time_scale_for_latency(0.5) == pytest.approx(2.0)  # sim-fast: 0.25 s to the first token
    assert time_scale_for_token_rate(50) == pytest.approx(5.0)  # sim-fast: 4 ms per token


def test_only_chunks_that_carry_a_token_are_counted() -> None:
    def event(delta: dict) -> bytes:  # as the server writes a chunk (helpers/llm_server/app.py, respond)
        chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
        return f"data: {json.dumps(chunk)}\n\n".encode()

    assert is_token_event(event({"content": " hello"}))
    assert not is_token_event(event({"role": "assistant", "content": ""}))
    assert not is_token_event(event({}))
    assert not is_token_event(b"data: [DONE]\n\n")


def test_the_steady_window_lies_between_the_first_and_the_last_token() -> None:
    window = steady_window(100.0, time_to_first_token=1.25, seconds_per_token=0.02)
    last_token = 100.0 + 1.25 + (streams.TOKENS_PER_STREAM - 1) * 0.02
    assert window.start == pytest.approx(101.25 + streams.WINDOW_MARGIN)
    assert window.end == pytest.approx(last_token - streams.WINDOW_MARGIN)
    assert window.start + 0.1 in window and window.end + 0.1 not in window


def test_the_search_doubles_until_a_count_falls_short_then_halves_the_gap() -> None:
    runs = [stream_run(100, 1.0), stream_run(200, 0.99), stream_run(500, 0.98)]
    assert stream_bracket(runs) == (500, None) and next_streams(runs) == 1000
    runs.append(stream_run(1000, 0.7))
    assert stream_bracket(runs) == (500, 1000) and next_streams(runs) == 750
    runs.append(stream_run(750, 0.96))
    assert next_streams(runs) == 875
    assert next_streams([stream_run(400, 0.99), stream_run(425, 0.9)]) is None  # one step apart: done
    assert next_streams([stream_run(100, 0.5)]) is None  # short already at the fewest streams
    assert next_streams([stream_run(streams.MOST_STREAMS, 1.0)]) is None


def test_a_noisy_pass_above_a_failure_does_not_move_the_bracket() -> None:
    runs = [stream_run(200, 0.99), stream_run(350, 0.90), stream_run(500, 0.96)]
    assert stream_bracket(runs) == (200, 350)


def test_a_busy_client_beside_an_idle_server_is_the_bottleneck_not_beside_a_busy_one() -> None:
    assert stream_run(750, 0.9, client_cpu=0.95, server_cpu=0.6).client_bound
    assert not stream_run(750, 0.9, client_cpu=0.95, server_cpu=0.99).client_bound
    assert not stream_run(750, 0.9, client_cpu=0.5, server_cpu=0.6).client_bound


MACHINE = {"usable_cpus": 2, "python": "CPython 3.11.7", "wrk": "4.1.0", "aiohttp": "3.14", "openai": "2.0"}


def sample_results() -> dict:
    at_1000 = Comparison(1000, 0.5, ServerRun(wrk_result(18000), 0.3, 0.1), ServerRun(wrk_result(17500), 0.8, 0.1),
                         [0.001] * 100, [0.002] * 100)
    targets = check([at_1000])
    servers = report.servers_record(
        settings={"latency_s": 0.5, "wrk_seconds": 10, "rounds": 2, "tokens_per_second": 50, "client_latency_s": 1.0},
        comparisons=[at_1000], streams=[stream_run(100, 1.0), stream_run(500, 0.9, client_cpu=0.95)],
        below_95_between=(100, 500),
        clients=[ClientRun("reference", "aiohttp", 1000, 1.0, 2.9)], targets=targets)
    return report.record(started=datetime(2025, 11, 23, 21, 40), seconds=180.0, machine=MACHINE, server=servers)


def test_the_record_is_json_and_the_tables_show_its_figures() -> None:
    results = json.loads(json.dumps(sample_results()))  # what a results file holds
    text = report.tables(results, "bench/results/2025-11-23T2140.json")
    assert "| ours / reference at 1000 connections | 0.972× | ≥ 0.95× | ✓ |" in text
    assert "| ours / ideal at 1000 connections | 0.875× | ≥ 0.9× | ✗ |" in text
    assert ("| 1000 | 2000 | 1800 | 1750 | 0.972 | 0.875 | 0.30 / 0.80 / 0.10 | 2.0 / 2.0 / 2.0 ms "
            "| 1.0 / 1.0 / 1.0 ms |") in text
    assert ("| ours, latency error p99 at 1000 connections | 1 ms (reference 2 ms) | ≤ reference + 5 ms = 7 ms "
            "| ✓ |") in text
    assert "| 500 | 25000 | 22500 | 90.0% | 0.80 / 0.95 (client-bound) |" in text
    assert "between 100 and 500 streams" in text
    assert "| reference | aiohttp | 1000 | 2.90 s | 2.90 |" in text


def test_a_results_file_from_before_the_reference_timed_itself_still_makes_tables() -> None:
    results = json.loads(json.dumps(sample_results()))
    for row in results["throughput"]:
        del row["reference_latency_error_ms"]
    for target in results["targets"]:  # as such a file holds them: no reference, no margin, a fixed 5 ms
        del target["reference"], target["margin"]
    results["targets"][-1]["bound"] = 5.0
    text = report.tables(results, "bench/results/2025-11-23T2140.json")
    assert "| 0.30 / 0.80 / 0.10 | – | 1.0 / 1.0 / 1.0 ms |" in text
    assert "| ours, latency error p99 at 1000 connections | 1 ms | ≤ 5 ms | ✓ |" in text


def test_a_results_file_judged_by_the_fixed_5_ms_shows_the_bound_it_was_judged_by() -> None:
    results = json.loads(json.dumps(sample_results()))
    del results["targets"][-1]["margin"]
    results["targets"][-1].update(bound=5.0, measured=42.7, reference=99.4, passed=False)
    text = report.tables(results, "bench/results/2026-11-24T0148.json")
    assert "| ours, latency error p99 at 1000 connections | 42.7 ms (reference 99.4 ms) | ≤ 5 ms | ✗ |" in text


def test_where_streams_fall_short_says_so_at_either_end() -> None:
    assert "up to 500" in report.where_streams_fall_short([500, None])
    assert "Already below 95 % of the ideal at 100" in report.where_streams_fall_short([None, 100])


def test_only_the_text_between_the_markers_is_replaced() -> None:
    readme = f"# Bench\nintro\n{report.TABLES_START}\nold table\n{report.TABLES_END}\nafter\n"
    assert report.replace_tables(readme, "new table") == (
        f"# Bench\nintro\n{report.TABLES_START}\nnew table\n{report.TABLES_END}\nafter\n")
    with pytest.raises(ValueError, match="markers"):
        report.replace_tables("# Bench without markers\n", "new table")


def test_the_bench_readme_has_the_markers() -> None:
    report.replace_tables(report.README.read_text(encoding="utf-8"), "table")


def test_results_files_are_named_by_date_and_time() -> None:
    assert report.results_path(datetime(2025, 11, 23, 21, 40, 5)) == report.RESULTS / "2025-11-23T2140.json"
