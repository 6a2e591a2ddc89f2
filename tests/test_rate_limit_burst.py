"""`burst_seconds`: how much of its allowance a rate-limit bucket holds, against the real simulator.

A server with rpm=R and burst_seconds=b lets R × b / 60 requests through at once, then R a minute;
a request larger than its bucket but within the limit still goes once the bucket is full; the
default (60) is a whole minute's allowance, as before the setting existed. The `instant` preset
makes only the limits take time. Bursts are counted in real time, where a bucket refills slowly
(10 requests a second at rpm=600) and a few more admitted while the calls go out are told apart
from a bucket of the wrong size; rates and waits on a fast clock (TIME_SCALE), so a simulated
minute takes seconds.
"""

import asyncio
import tempfile
import time
from pathlib import Path

import openai
import pytest

from helpers.batch.pacing import duration_seconds
from helpers.llm_server import start_server

TIME_SCALE = 0.05  # a simulated minute lasts 3 real seconds


def body(max_tokens: int = 10) -> dict:
    return {"model": "instant", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "hi"}]}


async def at_once(server, key: str, count: int, **changes) -> list:
    """`count` calls gathered at once, retries off: each a reply or the error raised."""
    async with server.async_client(api_key=key, max_retries=0) as client:
        return await asyncio.gather(*(client.chat.completions.create(**body(**changes)) for _ in range(count)),
                                    return_exceptions=True)


def answered(results: list) -> int:
    return sum(not isinstance(result, Exception) for result in results)


def test_a_fresh_key_gets_the_burst_it_was_given_not_a_minute() -> None:
    with start_server("instant", time_scale=1, rpm=600, burst_seconds=2) as server:  # 600 × 2 / 60 = 20
        assert 20 <= answered(asyncio.run(at_once(server, "sk-burst", 60))) <= 22  # and one or two refilled


def test_the_default_bucket_still_holds_a_whole_minute() -> None:
    with start_server("instant", time_scale=1, rpm=40) as server:
        assert server.settings()["burst_seconds"] == 60
        assert answered(asyncio.run(at_once(server, "sk-minute", 60))) in (40, 41)


def test_the_headers_say_what_is_left_of_the_burst_and_when_it_is_full_again() -> None:
    with start_server("instant", time_scale=TIME_SCALE, rpm=600, burst_seconds=2) as server:
        reply = server.client(api_key="sk-headers").chat.completions.with_raw_response.create(**body())
        headers = reply.headers
        assert headers["x-ratelimit-limit-requests"] == "600"  # the limit is still stated per minute
        assert headers["x-ratelimit-remaining-requests"] == "19"  # of a bucket of 20
        # one request short of full refills in 0.1 simulated seconds: 0.005 real ones at TIME_SCALE
        assert duration_seconds(headers["x-ratelimit-reset-requests"]) == pytest.approx(60 / 600 * TIME_SCALE, abs=0.002)


@pytest.mark.slow
def test_the_long_run_rate_is_the_limit_whatever_the_burst() -> None:
    """Calls sent as fast as the server admits them, retried after a short pause: after the burst,
    answers come at the limit, 600 a simulated minute = 50 a real second on this test's clock.

    A slower clock than the module's: at 200 a second, the senders' own retries kept both CPUs busy,
    and on a machine doing other work they fell short of the limit (0.84 of it) through no fault of
    the server's."""
    time_scale = 4 * TIME_SCALE
    rate = 600 / (60 * time_scale)
    with start_server("instant", time_scale=time_scale, rpm=600, burst_seconds=1) as server:
        async def keep_sending(seconds: float) -> list[float]:
            done: list[float] = []
            async with server.async_client(api_key="sk-rate", max_retries=0) as client:
                async def one_sender() -> None:
                    while (now := time.monotonic()) < stop:
                        try:
                            await client.chat.completions.create(**body())
                            done.append(now)
                        except openai.RateLimitError:
                            await asyncio.sleep(0.002)

                stop = time.monotonic() + seconds
                await asyncio.gather(*(one_sender() for _ in range(20)))
            return done

        done = asyncio.run(keep_sending(3.0))
    burst = 600 * 1 / 60
    measured = (len(done) - burst) / (max(done) - min(done))
    assert 0.85 * rate <= measured <= 1.05 * rate


def test_a_request_larger_than_the_burst_but_within_the_limit_goes_when_the_bucket_is_full() -> None:
    with start_server("instant", time_scale=TIME_SCALE, tpm=6_000, burst_seconds=1) as server:  # holds 100 tokens
        client = server.client(api_key="sk-large", max_retries=0)
        big = body(max_tokens=1_000)  # 1,000 tokens: ten buckets, a sixth of the limit
        assert client.chat.completions.create(**big).choices  # a full bucket admits it, and goes 900 below zero
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(**body())
        wait = float(refused.value.response.headers["retry-after-ms"]) / 1000
        # the debt of 900 tokens and 10 more, at 100 tokens a simulated second: 9.1 s, 0.455 s real
        assert wait == pytest.approx(9.1 * TIME_SCALE, abs=0.01)
        with pytest.raises(openai.RateLimitError, match="Request too large"):
            client.chat.completions.create(**body(max_tokens=6_001))  # more than the limit: never


def test_a_bad_burst_is_refused_with_its_name() -> None:
    with start_server("instant", time_scale=1) as server:
        with pytest.raises(ValueError, match="burst_seconds must be a number above 0"):
            server.configure(burst_seconds=0)
        server.configure(burst_seconds=0.5, rpm=600)  # and a good one takes effect on a running server
        assert 5 <= answered(asyncio.run(at_once(server, "sk-configured", 20))) <= 7  # 600 × 0.5 / 60 = 5


def test_the_batch_runner_keeps_to_the_limit_of_a_server_whose_bucket_holds_a_second() -> None:
    """The runner corrects its pace from x-ratelimit-reset-*: the limit minus what remains is no
    shortfall when the bucket holds a second of a minute's limit, and would stall the runner."""
    from helpers.batch import run_batch, write_requests

    per_real_second = 600 / (60 * TIME_SCALE)  # 200
    with start_server("instant", time_scale=TIME_SCALE, rpm=600, burst_seconds=1.2 / TIME_SCALE) as server, \
            tempfile.TemporaryDirectory() as work:
        requests = write_requests(Path(work) / "in.jsonl", [body() for _ in range(400)])
        batch = run_batch(requests, Path(work) / "out.jsonl", base_url=server.base_url, api_key="sk-runner",
                          rpm=round(per_real_second * 60), progress=False)
        summary = asyncio.run(asyncio.wait_for(batch, timeout=30))  # 2 s at the limit; a stalled runner fails
    assert summary.succeeded == 400 and summary.rate_limited <= 4
    assert summary.requests_per_second >= 0.8 * per_real_second
