"""Lesson 06's workloads against the real simulator: limits per real minute, retry storms, the answer cache."""

import asyncio
from collections.abc import Iterator

import matplotlib
import pytest

from helpers.drawing.rates import per_second, plot_rates
from helpers.llm_server.launcher import default_time_scale
from helpers.workloads.answer_cache import AnswerCache, request_key
from helpers.workloads.rate_limits import BURST_SECONDS, Limits, set_limits, simulated, start_limited_server
from helpers.workloads.retry_storm import Backoff, retry_storm

matplotlib.use("Agg")
STORM = Limits(rpm=600)  # 10 a second; the bucket holds 12


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_limited_server("sim-fast", STORM) as handle:
        yield handle


def journal_of(server, key: str) -> list[dict]:
    return [entry for entry in server.requests() if entry["key"] == key]


def body(question: str, **changes) -> dict:
    return {"model": "sim-fast", "temperature": 0, "messages": [{"role": "user", "content": question}], **changes}


def test_limits_per_real_minute_become_the_simulators_per_simulated_minute() -> None:
    limits = Limits(rpm=6_000, tpm=600_000)
    assert limits.server_settings(1) == {"rpm": 6_000, "tpm": 600_000, "burst_seconds": BURST_SECONDS}
    at_test_speed = limits.server_settings(0.3)  # a simulated minute of 18 real seconds
    assert (at_test_speed["rpm"], at_test_speed["tpm"]) == (1_800, 180_000)
    assert at_test_speed["burst_seconds"] == pytest.approx(BURST_SECONDS / 0.3)  # still 1.2 real seconds
    assert Limits(rpm=None).server_settings(0.3)["rpm"] is None
    assert simulated(615, "rpm", 1) == 615
    with pytest.raises(ValueError, match="not a whole number"):
        simulated(615, "rpm", 0.3)


def test_the_server_runs_at_the_modes_time_scale_with_a_bucket_of_burst_seconds(server) -> None:
    settings = server.settings()
    assert settings["time_scale"] == default_time_scale()
    assert settings["burst_seconds"] * settings["time_scale"] == pytest.approx(BURST_SECONDS)


def test_a_fresh_key_gets_a_bucket_of_about_one_second_and_a_fifth_then_429s(server) -> None:
    set_limits(server, STORM)

    async def twenty_at_once() -> list:
        async with server.async_client(api_key="sk-burst", max_retries=0) as client:
            return await asyncio.gather(*(client.chat.completions.create(**body(f"q{n}")) for n in range(20)),
                                        return_exceptions=True)

    results = asyncio.run(twenty_at_once())
    answered = sum(not isinstance(result, Exception) for result in results)
    assert 12 <= answered <= 13  # the bucket's 12, and perhaps one refilled while the 20 were sent
    assert sum(entry["status"] == 429 for entry in journal_of(server, "sk-burst")) == 20 - answered


def test_a_crowd_with_enough_attempts_all_get_through_and_count_their_429s_as_the_server_does(server) -> None:
    set_limits(server, STORM)

    async def crowd() -> object:
        async with server.async_client(api_key="sk-crowd") as client:
            return await retry_storm(client, "sim-fast", 20, Backoff(base=0.05, cap=0.4, jitter=True, max_attempts=30))

    storm = asyncio.run(crowd())
    statuses = [entry["status"] for entry in journal_of(server, "sk-crowd")]
    assert storm.succeeded == 20 == statuses.count(200)
    assert storm.refused == statuses.count(429) > 0  # 20 at once against a bucket of 12: some were refused


def test_one_attempt_each_leaves_the_refused_clients_without_an_answer(server) -> None:
    set_limits(server, STORM)

    async def crowd() -> object:
        async with server.async_client(api_key="sk-once") as client:
            return await retry_storm(client, "sim-fast", 20, Backoff(base=0.05, cap=0.4, jitter=False, max_attempts=1))

    storm = asyncio.run(crowd())
    assert storm.refused == 20 - storm.succeeded > 0


def test_the_request_key_is_the_whole_body_in_any_order() -> None:
    assert request_key({"a": 1, "b": [1, 2]}) == request_key({"b": [1, 2], "a": 1})
    assert request_key(body("hello")) != request_key(body("hello", max_tokens=10))
    assert request_key(body("hello")) != request_key(body("hello", model="sim-large"))


def test_repeats_gathered_together_make_one_call_each_and_count_the_tokens_saved(server) -> None:
    set_limits(server, Limits(rpm=None))
    questions = ["a", "b", "a", "c", "a", "b", "a", "c", "c", "a"]

    async def asked() -> tuple:
        async with server.async_client(api_key="sk-cache") as client:
            cache = AnswerCache(client)
            replies = await asyncio.gather(*(cache.create(**body(f"In 20 words, {q}.")) for q in questions))
            return cache.stats, replies

    stats, replies = asyncio.run(asked())
    assert len(journal_of(server, "sk-cache")) == 3  # one call per distinct question, though all were in flight together
    assert (stats.hits, stats.misses, stats.hit_rate) == (7, 3, 0.7)
    assert stats.saved_prompt_tokens == sum(r.usage.prompt_tokens for r in replies) - sum(
        r.usage.prompt_tokens for r in {reply.id: reply for reply in replies}.values())
    assert [reply.choices[0].message.content for reply in replies][0] == replies[2].choices[0].message.content


def test_a_failed_call_is_not_kept_so_the_next_request_calls_again(server) -> None:
    server.configure(key_faults={"sk-broken": {"error_rate": 1.0}})

    async def twice() -> list:
        async with server.async_client(api_key="sk-broken", max_retries=0) as client:
            cache = AnswerCache(client)
            outcomes = []
            for _ in range(2):
                try:
                    await cache.create(**body("In 20 words, x."))
                except Exception as error:  # noqa: BLE001 - the test records what was raised
                    outcomes.append(type(error).__name__)
            return outcomes

    try:
        assert asyncio.run(twice()) == ["InternalServerError"] * 2
        assert len(journal_of(server, "sk-broken")) == 2
    finally:
        server.configure(key_faults={})


def test_per_second_counts_events_in_bins_and_divides_by_their_length() -> None:
    starts, rates = per_second([10.0, 10.1, 10.6, 11.9], origin=10.0, end=12.0, bin_seconds=0.5)
    assert starts == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert rates == [4.0, 2.0, 0.0, 2.0, 2.0]  # the last value repeats, to draw the last step


def test_plot_rates_draws_a_row_per_run_and_a_column_per_kind() -> None:
    figure = plot_rates({"one": {"answered": [1.0, 1.2], "refused": [1.1]}, "two": {"answered": [5.0], "refused": [5.5]}},
                        limit=2, title="t")
    assert len(figure.axes) == 4
    assert any(line.get_linestyle() == "--" for line in figure.axes[0].lines)  # the limit, in the first column
    assert figure.axes[0].get_title() == "one: answered, 2 in all"
