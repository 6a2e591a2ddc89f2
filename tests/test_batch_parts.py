"""The batch runner's parts on their own: the token estimate, backoff, retry decisions, the files, the id set."""

from __future__ import annotations

import random
import tracemalloc
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from helpers.batch import backoff_seconds, estimate_tokens, ideal_requests_per_second, write_requests
from helpers.batch.pacing import TokenBucket
from helpers.batch.requests_file import RequestsFile, RequestsFileError, iter_requests
from helpers.batch.retries import retry_after_seconds, should_retry


def test_the_estimate_is_prompt_characters_over_four_plus_what_the_answers_may_use() -> None:
    chat = {"messages": [{"role": "user", "content": "x" * 41}], "max_tokens": 100, "n": 2}
    assert estimate_tokens(chat) == 11 + 200
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "x" * 8}]}], "max_completion_tokens": 5}
    assert estimate_tokens(parts) == 2 + 5
    assert estimate_tokens({"messages": [{"role": "user", "content": "abcd"}]}) == 1 + 80  # the stated default
    assert estimate_tokens({"input": ["abcd", "abcdefgh"]}) == 3  # embeddings write nothing


def test_backoff_doubles_up_to_its_cap_and_full_jitter_spreads_it_from_zero() -> None:
    assert [backoff_seconds(n, jitter=False) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert backoff_seconds(20, jitter=False) == 30.0
    rng = random.Random(1)
    waits = [backoff_seconds(3, rng=rng) for _ in range(2000)]
    assert 0 <= min(waits) < 0.05 and 1.95 < max(waits) <= 2.0
    assert 0.9 < sum(waits) / len(waits) < 1.1  # uniform from 0 to 2 s: a mean of 1 s


def test_retry_after_prefers_milliseconds_then_seconds_then_a_date() -> None:
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < retry_after_seconds({"retry-after": soon}) <= 30
    assert retry_after_seconds({"retry-after": "whenever"}) is None
    assert retry_after_seconds({}) is None


@pytest.mark.parametrize(("status", "code", "retried"), [
    (None, None, True), (500, None, True), (503, None, True), (429, "rate_limit_exceeded", True),
    (429, "insufficient_quota", False), (400, None, False), (401, "invalid_api_key", False), (403, None, False),
    (404, "unknown_url", False), (409, None, False), (422, None, False),
])
def test_what_is_retried(status: int | None, code: str | None, retried: bool) -> None:
    body = {"error": {"message": "...", "type": "x", "code": code}}
    assert should_retry(status, body) is retried


def test_ideal_rate_is_the_tighter_budget() -> None:
    assert ideal_requests_per_second(600, 1_000_000, 100) == 10.0  # requests bind
    assert ideal_requests_per_second(600, 30_000, 100) == 5.0  # tokens bind
    assert ideal_requests_per_second(None, None, 100) == float("inf")


def test_a_bucket_refills_at_its_rate_holds_one_second_and_drops_to_the_servers_shortfall() -> None:
    now = [0.0]
    bucket = TokenBucket(600, clock=lambda: now[0])  # 10 a second, 10 at most
    for _ in range(10):
        assert bucket.seconds_until(1) == 0
        stamp = bucket.take(1)
    assert bucket.seconds_until(1) == pytest.approx(0.1)
    now[0] = 5.0
    assert bucket.seconds_until(10) == 0 and bucket.seconds_until(11) == 0  # full; a larger request waits for no more
    bucket.correct(shortfall=25, since=stamp)  # the server was 25 short when our 10th request arrived, 5 s ago
    assert bucket.level == 10  # it has refilled 50 since, far more than the 25: no change
    bucket.correct(shortfall=25)  # the server is 25 short now: we must be too
    assert bucket.level == pytest.approx(-15) and bucket.seconds_until(1) == pytest.approx(1.6)


def test_write_requests_numbers_the_ids_and_iter_requests_reads_them_back(tmp_path) -> None:
    path = write_requests(tmp_path / "requests.jsonl", [{"model": "m", "input": str(i)} for i in range(3)], url="/v1/embeddings")
    read = list(iter_requests(path))
    assert [r.custom_id for r in read] == ["request-000001", "request-000002", "request-000003"]
    assert {r.url for r in read} == {"/v1/embeddings"} and read[2].body == {"model": "m", "input": "2"}
    with pytest.raises(ValueError):
        write_requests(tmp_path / "short.jsonl", [{}, {}], ids=["only-one"])


@pytest.mark.slow
def test_checking_a_file_remembers_its_ids_in_a_few_bytes_each(tmp_path) -> None:
    """A set of 100,000 id strings would take about 9 MB; the runner's memory must not grow with the file."""
    count = 100_000
    path = write_requests(tmp_path / "requests.jsonl", ({"model": "m"} for _ in range(count)),
                          ids=(f"id-{n}" for n in range(count)))
    tracemalloc.start()
    try:
        checked = RequestsFile(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(checked) == count and "id-99999" in checked.ids and "id-100000" not in checked.ids
    assert peak / count < 40, f"{peak / count:.0f} bytes per id at the peak"


def test_a_duplicate_far_down_the_file_is_found_before_anything_is_sent(tmp_path) -> None:
    ids = [f"id-{n}" for n in range(5000)] + ["id-17"]
    path = write_requests(tmp_path / "requests.jsonl", ({"model": "m"} for _ in ids), ids=ids)
    with pytest.raises(RequestsFileError, match="line 5001: custom_id 'id-17' was already used on line 18"):
        RequestsFile(path)
