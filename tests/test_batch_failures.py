"""The batch runner against the simulator's faults: what a retry can mend completes, what it cannot fails at once."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from batch_support import expected_ids, ids_written, requests_file, run

from helpers.batch import read_results, write_requests
from helpers.llm_server import start_server

KEY = "sk-batch-test"


@pytest.mark.parametrize(("fault", "status", "counted"), [("error_rate", 500, "server_errors"),
                                                          ("hang_rate", 499, "timeouts"),
                                                          ("drop_rate", 444, "dropped")])
@pytest.mark.slow
def test_every_request_completes_through_a_fault_once_each(tmp_path, fault: str, status: int, counted: str) -> None:
    with start_server("instant", time_scale=0.1, **{fault: 0.3}) as server:
        summary = run(server, requests_file(tmp_path, 40), tmp_path / "results.jsonl", max_attempts=10, timeout=0.5)
        journal = server.requests()
    statuses = Counter(entry["status"] for entry in journal)
    first_tries = sum(entry["retry_count"] == 0 for entry in journal)  # the x-stainless-retry-count header
    assert ids_written(tmp_path / "results.jsonl") == expected_ids(40)
    for result in read_results(tmp_path / "results.jsonl"):  # the Batch API's output format
        assert result["id"].startswith("batch_req_") and result["error"] is None
        assert result["response"]["status_code"] == 200 and result["response"]["request_id"].startswith("chatcmpl-")
        assert result["response"]["body"]["object"] == "chat.completion"
    assert statuses[status] > 0, "the fault struck no request: nothing was retried"
    assert statuses[200] == 40 and sum(statuses.values()) == 40 + statuses[status] and first_tries == 40
    assert summary.succeeded == 40 and summary.failed == 0
    assert getattr(summary, counted) == statuses[status] == summary.retries


@pytest.mark.slow
def test_a_429_is_retried_no_sooner_than_retry_after_says(tmp_path) -> None:
    """20 requests fit the server's bucket at once; most of the next 12 are refused, told to wait, and wait.

    (One at a time, so the entry after a 429 in the journal is its retry. A runner that ignored
    retry-after would wait a random 0 to 0.5 s, and come back before the 0.3 s asked 6 times in 10.)
    """
    with start_server("instant", time_scale=0.1, rpm=20) as server:
        summary = run(server, requests_file(tmp_path, 32), tmp_path / "results.jsonl", max_in_flight=1, max_attempts=10)
        journal = server.requests()
    assert ids_written(tmp_path / "results.jsonl") == expected_ids(32)
    refused = [(entry, after) for entry, after in zip(journal, journal[1:]) if entry["status"] == 429]
    assert len(refused) >= 8 and summary.rate_limited == len(refused)
    early = [round(after["arrival"] - entry["arrival"] - entry["retry_after"], 3) for entry, after in refused
             if after["arrival"] - entry["arrival"] < entry["retry_after"]]
    assert not early, f"retries came this many seconds before retry-after: {early}"


def test_insufficient_quota_is_tried_once_and_recorded_with_the_servers_message(tmp_path) -> None:
    with start_server("instant", time_scale=0.1, key_faults={KEY: {"insufficient_quota": True}}) as server:
        summary = run(server, requests_file(tmp_path, 5), tmp_path / "results.jsonl", api_key=KEY)
        journal = server.requests()
    assert len(journal) == 5, "each request was tried more than once"
    results = read_results(tmp_path / "results.jsonl")
    assert {r["error"]["code"] for r in results} == {"insufficient_quota"}
    assert all("exceeded your current quota" in r["error"]["message"] for r in results)
    assert all(r["response"]["status_code"] == 429 for r in results)
    assert summary.failed == 5 and summary.attempts == 5 and summary.retries == 0


def test_a_request_larger_than_a_whole_minute_of_tokens_is_tried_once(tmp_path) -> None:
    """No wait refills a bucket beyond its limit: OpenAI's "Request too large" 429 comes without retry-after."""
    with start_server("instant", time_scale=0.1, tpm=50) as server:
        summary = run(server, requests_file(tmp_path, 3, max_tokens=100), tmp_path / "results.jsonl", max_attempts=4)
        journal = server.requests()
    assert len(journal) == 3, "a request that can never fit the tokens budget was tried again"
    results = read_results(tmp_path / "results.jsonl")
    assert all(r["response"]["status_code"] == 429 and r["error"]["message"].startswith("Request too large")
               for r in results)
    assert summary.failed == 3 and summary.retries == 0


def test_a_bad_request_and_an_unknown_url_are_tried_once_and_recorded_with_the_servers_message(tmp_path) -> None:
    """The simulator refuses these before its journal sees them, so the runner's own count of attempts is checked."""
    bad = {"model": "instant", "messages": []}
    write_requests(tmp_path / "bad.jsonl", [bad], ids=["bad-body"])
    write_requests(tmp_path / "nowhere.jsonl", [{"model": "instant"}], url="/v1/nowhere", ids=["bad-url"])
    with start_server("instant", time_scale=0.1) as server:
        started = time.monotonic()
        summaries = [run(server, tmp_path / name, tmp_path / "results.jsonl") for name in ("bad.jsonl", "nowhere.jsonl")]
        seconds = time.monotonic() - started
    assert [(s.failed, s.attempts, s.retries) for s in summaries] == [(1, 1, 0), (1, 1, 0)]
    results = {r["custom_id"]: r for r in read_results(tmp_path / "results.jsonl")}
    assert results["bad-body"]["response"]["status_code"] == 400
    assert "messages must be a non-empty array" in results["bad-body"]["error"]["message"]
    assert results["bad-url"]["response"]["status_code"] == 404
    assert results["bad-url"]["error"] == {"code": "unknown_url", "message": "Unknown path /v1/nowhere."}
    assert seconds < 5, "a request that cannot succeed should not wait out a backoff"


def test_embeddings_run_from_the_same_file_format(tmp_path) -> None:
    write_requests(tmp_path / "requests.jsonl", [{"model": "sim-embedding", "input": f"text {i}"} for i in range(5)],
                   url="/v1/embeddings")
    with start_server("instant", time_scale=0.1) as server:
        summary = run(server, tmp_path / "requests.jsonl", tmp_path / "results.jsonl", tpm=60_000)
    results = read_results(tmp_path / "results.jsonl")
    assert summary.succeeded == 5
    assert all(len(r["response"]["body"]["data"][0]["embedding"]) == 64 for r in results)
