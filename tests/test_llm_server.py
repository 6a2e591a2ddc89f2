"""The simulated server through the official openai client, over real HTTP, in a real child process."""

import asyncio
import inspect
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import openai
import pytest
from simulator_support import simulator_fixtures

from helpers.llm_server import cli, config, start_server
from helpers.llm_server.endpoint import Budget, BudgetExhausted, RemoteEndpoint, SimulatorOnly
from helpers.llm_server.faults import Faults
from helpers.llm_server.headers import duration
from helpers.llm_server.latency import PRESETS, request_rng
from helpers.llm_server.launcher import arguments
from helpers.llm_server.limits import ROOM, UNSET_MAX_TOKENS_ESTIMATE, Bucket, RateLimiter, organization_of, token_cost
from helpers.llm_server.slots import Slots
from helpers.llm_server.text import answer, count_tokens, tokens_of
from helpers.mode import ENDPOINT_VARIABLE

PROMPT = [{"role": "user", "content": "Explain AI in 50 words"}]
# The server's defaults, faster: what each test starts from
server, fresh, DEFAULTS = simulator_fixtures(preset="sim-fast", time_scale=0.05)


def test_a_chat_completion_answers_on_topic_with_usage(fresh) -> None:
    reply = fresh.client().chat.completions.create(model=fresh.model, messages=PROMPT)
    text = reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert 40 <= len(text.split()) <= 80  # "in 50 words", roughly
    assert reply.usage.completion_tokens == count_tokens(text)
    assert reply.usage.prompt_tokens == count_tokens(PROMPT[0]["content"])


def test_usage_has_the_token_details_code_at_work_reads(fresh) -> None:
    """Cost code reads `usage.prompt_tokens_details.cached_tokens`; OpenAI sends the details, so must we."""
    reply = fresh.client().chat.completions.create(model=fresh.model, messages=PROMPT)
    assert reply.usage.prompt_tokens_details.cached_tokens == 0  # the simulator caches no prompt
    assert reply.usage.completion_tokens_details.reasoning_tokens == 0  # nor reasons before it answers


def test_streamed_chunks_reassemble_to_the_non_streamed_text_and_usage_only_when_asked(fresh) -> None:
    client = fresh.client()
    whole = client.chat.completions.create(model=fresh.model, messages=PROMPT, seed=7).choices[0].message.content
    chunks = list(client.chat.completions.create(model=fresh.model, messages=PROMPT, seed=7, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
    assert chunks[-1].choices[0].finish_reason == "stop" and all(c.usage is None for c in chunks)
    with_usage = list(client.chat.completions.create(
        model=fresh.model, messages=PROMPT, seed=7, stream=True, stream_options={"include_usage": True}))
    assert with_usage[-1].choices == [] and with_usage[-1].usage.completion_tokens == count_tokens(whole)


def test_async_client_and_max_tokens_n_and_stop(fresh) -> None:
    async def ask():
        async with fresh.async_client() as client:
            return await client.chat.completions.create(model=fresh.model, messages=PROMPT, max_tokens=5, n=3)

    reply = asyncio.run(ask())
    assert len(reply.choices) == 3 and {c.finish_reason for c in reply.choices} == {"length"}
    assert all(count_tokens(c.message.content) == 5 for c in reply.choices)
    stopped = fresh.client().chat.completions.create(model=fresh.model, messages=PROMPT, stop=["."])
    assert "." not in stopped.choices[0].message.content


def test_text_is_deterministic_for_seed_and_messages() -> None:
    assert answer("Describe neural networks", seed=1) == answer("Describe neural networks", seed=1)
    assert answer("Describe neural networks", seed=1) != answer("Describe neural networks", seed=2)
    assert "qubit" in answer("Summarize quantum computing", seed=0)


def test_the_first_tokens_of_an_answer_are_the_start_of_all_of_them() -> None:
    """The server splits only as many tokens as a request may receive (plus one, to tell it was cut)."""
    whole = tokens_of(answer("Explain AI in 50 words", seed=3))
    assert len(whole) > 50 and "".join(whole) == answer("Explain AI in 50 words", seed=3)
    assert [tokens_of("".join(whole), at_most=k) for k in (0, 1, 7, 500)] == [[], whole[:1], whole[:7], whole]


def test_an_answer_of_exactly_max_tokens_is_complete_and_one_more_is_cut() -> None:
    from helpers.llm_server.chat import cut

    whole = answer("Write a haiku about robots", seed=0)
    count = len(tokens_of(whole))
    assert cut(whole, count, []) == (tokens_of(whole), "stop")
    assert cut(whole, count - 1, []) == (tokens_of(whole)[:-1], "length")
    assert cut(whole, None, []) == (tokens_of(whole), "stop")
    first_word = tokens_of(whole)[0]
    assert cut(whole, 1, [first_word]) == ([], "stop")  # a stop sequence cuts before max_tokens does


def test_a_keys_faults_follow_a_change_of_configuration(fresh) -> None:
    """Each key's faults are worked out once per configuration: a change must still reach a key already seen."""
    fresh.configure(preset="instant")
    client = fresh.client(api_key="sk-changing", max_retries=0)
    assert client.chat.completions.create(model="instant", messages=PROMPT).choices
    fresh.configure(key_faults={"sk-changing": {"error_rate": 1.0}})
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="instant", messages=PROMPT)
    fresh.configure(key_faults={})
    assert client.chat.completions.create(model="instant", messages=PROMPT).choices


def test_responses_embeddings_and_models(fresh) -> None:
    client = fresh.client()
    assert client.responses.create(model=fresh.model, input="Write a haiku about robots").output_text
    vectors = client.embeddings.create(model="sim-embedding", input=["same", "same", "other"]).data
    assert vectors[0].embedding == vectors[1].embedding != vectors[2].embedding
    assert {m.id for m in client.models.list()} == set(PRESETS)


def test_latency_streams_depend_on_key_and_sequence_not_on_timing() -> None:
    first = [PRESETS["sim-flash"].sample(request_rng(3, "alice", n)) for n in range(5)]
    assert first == [PRESETS["sim-flash"].sample(request_rng(3, "alice", n)) for n in range(5)]
    assert first != [PRESETS["sim-flash"].sample(request_rng(3, "bob", n)) for n in range(5)]


def test_the_same_keys_get_the_same_latencies_whatever_the_interleaving(fresh) -> None:
    fresh.configure(preset="sim-flash", time_scale=0.01)

    def ttfts(order: list[str]) -> dict[str, list[str]]:
        fresh.reset()
        seen: dict[str, list[str]] = {}
        for key in order:
            raw = fresh.client(api_key=key).chat.completions.with_raw_response.create(model="sim-flash", messages=PROMPT)
            seen.setdefault(key, []).append(raw.headers["x-sim-ttft-ms"])
        return seen

    assert ttfts(["a", "b", "a", "b"]) == ttfts(["b", "b", "a", "a"])


def test_capacity_queues_requests_in_arrival_order(fresh) -> None:
    fresh.configure(capacity=2, time_scale=0.05)

    async def burst():
        async with fresh.async_client() as client:
            await asyncio.gather(*(client.chat.completions.create(model=fresh.model, messages=PROMPT) for _ in range(6)))

    asyncio.run(burst())
    waits = sorted(entry["queue_wait"] for entry in fresh.requests())
    assert waits[1] < 0.02 and waits[2] > 0.01  # two started at once, the others waited for a slot


def most_generating_at_a_start(journal: list[dict], after: float = 0.0, before: float = math.inf) -> int:
    """The most requests generating at once, counted at each start between `after` and `before` (Unix times)."""
    spans = [(e["start"], e["end"]) for e in journal if e["start"] is not None]
    return max((sum(start <= moment < end for start, end in spans) for moment, _ in spans if after < moment < before),
               default=0)


@pytest.mark.parametrize(("before", "after"), [(2, 2), (2, 4), (4, 2)])
@pytest.mark.slow
def test_a_capacity_change_serves_every_queued_request_and_holds_to_the_new_capacity(fresh, before, after) -> None:
    """Change the capacity while slots are held and requests wait: none is lost, none exceeds the limit."""
    fresh.configure(preset="sim-fast", time_scale=2.0, capacity=before)  # one token: 0.5 s per request
    calls = 2 * before + 2

    async def burst_with_a_change_halfway() -> tuple[list, float, float]:
        async with fresh.async_client(max_retries=0, timeout=10) as client:
            replies = [asyncio.create_task(client.chat.completions.create(
                model=fresh.model, messages=PROMPT, max_tokens=1)) for _ in range(calls)]
            while (stats := await asyncio.to_thread(fresh.stats))["in_flight"] < before or \
                    stats["queued"] < calls - before:  # every slot held, the others waiting
                await asyncio.sleep(0.01)
            changing = time.time()
            await asyncio.to_thread(fresh.configure, capacity=after)
            changed = time.time()
            replies = await asyncio.gather(*replies, return_exceptions=True)
            later = [client.chat.completions.create(model=fresh.model, messages=PROMPT, max_tokens=1)
                     for _ in range(2 * after)]  # a burst once the change has settled
            return replies + await asyncio.gather(*later, return_exceptions=True), changing, changed

    replies, changing, changed = asyncio.run(burst_with_a_change_halfway())
    answered = [type(reply).__name__ for reply in replies]
    journal = fresh.requests()
    assert answered == ["ChatCompletion"] * len(replies) and [e["status"] for e in journal] == [200] * len(replies)
    assert most_generating_at_a_start(journal, before=changing) <= before
    assert most_generating_at_a_start(journal, after=changed) <= after  # holders drain before any start
    assert fresh.stats()["in_flight"] == fresh.stats()["queued"] == 0


def test_a_request_that_leaves_the_queue_takes_no_slot_with_it() -> None:
    async def leave_twice() -> Slots:
        slots = Slots(1)
        await slots.acquire()
        early, late, last = (asyncio.create_task(slots.acquire()) for _ in range(3))
        await asyncio.sleep(0)
        early.cancel()  # left while waiting
        slots.release()  # hands the slot to `late` ...
        late.cancel()  # ... which leaves before it could run: the slot goes on to `last`
        await asyncio.gather(early, late, return_exceptions=True)
        await asyncio.wait_for(last, timeout=1)
        return slots

    slots = asyncio.run(leave_twice())
    assert (slots.busy, len(slots._waiters)) == (1, 0)


@pytest.mark.slow
def test_over_the_rate_limit_is_a_429_with_openai_headers_and_the_sdk_retry_honours_it(fresh) -> None:
    # One request a minute, 20x faster than real time: the bucket refills one request every 3 real
    # seconds, far longer than the three calls below take even on a loaded machine.
    fresh.configure(rpm=1, time_scale=0.05, preset="instant")
    client = fresh.client(max_retries=0)
    client.chat.completions.create(model="instant", messages=PROMPT)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="instant", messages=PROMPT)
    headers = raised.value.response.headers
    assert raised.value.code == "rate_limit_exceeded" and "Please try again in" in raised.value.message
    assert float(headers["retry-after-ms"]) > 0 and headers["x-ratelimit-limit-requests"] == "1"
    client.with_options(max_retries=3).chat.completions.create(model="instant", messages=PROMPT)
    attempts = fresh.requests()[2:]
    assert [a["status"] for a in attempts][-1] == 200 and attempts[-1]["retry_count"] >= 1
    assert any(a["status"] == 429 for a in attempts)
    for refused, next_try in zip(attempts, attempts[1:]):
        assert next_try["arrival"] - refused["end"] >= refused["retry_after"] - 0.005  # the SDK waited as told


def test_fault_injection_rate_is_seeded_and_within_tolerance(fresh) -> None:
    fresh.configure(preset="instant", error_rate=0.3)
    client = fresh.client(max_retries=0)
    failures = 0
    for _ in range(200):
        try:
            client.chat.completions.create(model="instant", messages=PROMPT)
        except openai.InternalServerError as error:
            assert error.response.headers["x-should-retry"] == "true"
            failures += 1
    assert 40 <= failures <= 80  # 60 expected; the binomial sd is 6.5
    assert fresh.stats()["errors"] == failures


# --- rate limits: the arithmetic on a fake clock, then the wire format through the client -------

class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_its_limit_once_a_minute_on_a_fake_clock() -> None:
    clock = FakeClock()
    bucket = Bucket("tokens", "org-test", limit=600, clock=clock)  # 10 tokens a second
    bucket.level -= 600
    assert bucket.wait_for(100) == pytest.approx(10.0) and bucket.reset == pytest.approx(60.0)
    clock.now += 4
    bucket.refill()
    assert bucket.remaining == 40 and bucket.used == 560 and bucket.wait_for(100) == pytest.approx(6.0)
    clock.now += 3600
    bucket.refill()
    assert bucket.remaining == 600 and bucket.reset == 0  # never more than the limit


def test_a_request_is_admitted_only_if_every_bucket_can_pay_and_a_refusal_pays_nothing() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=60, tpm=1000, shared_tpm=1500, clock=clock)
    assert limiter.admit("ada", 900).wait == 0
    refused = limiter.admit("bob", 700)  # bob's own buckets are full, but the room has only 600 tokens left
    assert refused.refused_by.owner == ROOM and refused.cost == 700
    assert refused.wait == pytest.approx(100 / 25)  # the room refills 1500/60 = 25 tokens a second
    assert limiter.admit("bob", 600).wait == 0  # the refusal took nothing from bob or the room
    assert limiter.admit("ada", 5000).wait == math.inf  # more than a minute's worth: never
    shown = limiter.admit("cy", 10).shown
    assert shown["tokens"].owner == ROOM and shown["requests"].owner == organization_of("cy")


def test_a_request_costs_its_prompt_plus_the_most_it_may_write() -> None:
    assert token_cost(prompt_tokens=20, max_tokens=100, n=2) == 220
    assert token_cost(prompt_tokens=20, max_tokens=None) == 20 + UNSET_MAX_TOKENS_ESTIMATE


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0s"), (0.0004, "1ms"), (0.12, "120ms"), (1, "1s"), (9.816, "9.816s"), (59.9, "59.9s"),
    (360, "6m0s"), (61.5, "1m1.5s"), (3600, "1h0m0s")])
def test_durations_are_written_like_openai_writes_them(seconds, shown) -> None:
    assert duration(seconds) == shown


TPM_429 = re.compile(
    r"Rate limit reached for instant in organization org-sim-[0-9a-f]{8} on tokens per min \(TPM\): "
    r"Limit 300, Used (\d+), Requested 255\. Please try again in ([\d.]+m?s)\. "
    r"Visit https://platform\.openai\.com/account/rate-limits to learn more\.")


def test_over_the_token_limit_is_a_429_in_openais_exact_shape_with_headers_on_every_answer(fresh) -> None:
    # A real-time minute: 5 tokens a second come back, so the second request waits about 22 s.
    fresh.configure(preset="instant", time_scale=1.0, tpm=300, rpm=1000)
    client = fresh.client(max_retries=0)
    ok = client.chat.completions.with_raw_response.create(model="instant", messages=PROMPT, max_tokens=150)
    cost = count_tokens(PROMPT[0]["content"]) + 150
    assert ok.headers["x-ratelimit-limit-tokens"] == "300"
    assert ok.headers["x-ratelimit-remaining-tokens"] == str(300 - cost)
    assert re.fullmatch(r"\d+(\.\d+)?s", ok.headers["x-ratelimit-reset-tokens"])  # about 31s
    assert ok.headers["x-ratelimit-limit-requests"] == "1000"
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="instant", messages=PROMPT, max_tokens=250)
    body = raised.value.body
    assert set(body) == {"message", "type", "param", "code"}  # the SDK hands over the inner "error" object
    assert body["type"] == "tokens" and body["param"] is None and body["code"] == "rate_limit_exceeded"
    used, wait = TPM_429.fullmatch(body["message"]).groups()
    assert cost - 50 < int(used) <= cost  # tokens trickle back: 5 a second of however long the machine took
    headers = raised.value.response.headers
    wait_ms = int(headers["retry-after-ms"])
    assert wait_ms == pytest.approx((255 - (300 - int(used))) * 200, abs=200)  # 255 tokens needed, 5 a second
    assert duration(wait_ms / 1000) == wait and headers["x-ratelimit-limit-tokens"] == "300"
    assert fresh.requests()[-1]["limited_by"] == "key tokens"


def test_the_room_bucket_is_shared_by_every_key(fresh) -> None:
    fresh.configure(preset="instant", time_scale=1.0, shared_rpm=2)
    for key in ("sk-ada", "sk-bob"):
        fresh.client(api_key=key, max_retries=0).chat.completions.create(model="instant", messages=PROMPT)
    with pytest.raises(openai.RateLimitError, match="in organization org-sim-room on requests per min"):
        fresh.client(api_key="sk-cy", max_retries=0).chat.completions.create(model="instant", messages=PROMPT)
    assert [e["limited_by"] for e in fresh.requests()] == [None, None, "room requests"]
    assert fresh.stats()["per_key"]["sk-cy"]["rate_limited"] == 1


def test_a_request_larger_than_a_minute_of_tokens_is_refused_without_retry_after(fresh) -> None:
    fresh.configure(preset="instant", tpm=100)
    with pytest.raises(openai.RateLimitError, match="Request too large for instant .* Limit 100, Requested") as raised:
        fresh.client(max_retries=0).chat.completions.create(model="instant", messages=PROMPT, max_tokens=500)
    assert "retry-after" not in raised.value.response.headers


# --- faults ---------------------------------------------------------------------------------------

def wait_for_the_journal(server, count: int) -> list[dict]:
    """The server writes a hung or dropped request down when the connection closes: give it a moment."""
    deadline = time.monotonic() + 10
    while len(entries := [e for e in server.requests() if e["status"] is not None]) < count:
        assert time.monotonic() < deadline, server.requests()
        time.sleep(0.05)
    return entries


def test_insufficient_quota_is_a_429_the_sdk_retries_in_vain(fresh) -> None:
    # openai-python retries every 429 that does not say `x-should-retry: false`; OpenAI does not say
    # it for insufficient_quota, so neither do we: every retry fails the same way.
    fresh.configure(preset="instant", key_faults={"sk-broke": {"insufficient_quota": True}})
    with pytest.raises(openai.RateLimitError) as raised:
        fresh.client(api_key="sk-broke").chat.completions.create(model="instant", messages=PROMPT)
    error = raised.value
    assert error.code == "insufficient_quota" and error.type == "insufficient_quota"
    assert error.body["message"].startswith("You exceeded your current quota, please check your plan and billing")
    assert "retry-after" not in error.response.headers and "retry-after-ms" not in error.response.headers
    attempts = fresh.requests()
    assert [a["retry_count"] for a in attempts] == [0, 1, 2]  # the SDK's default max_retries is 2
    assert {a["status"] for a in attempts} == {429} and {a["fault"] for a in attempts} == {"insufficient_quota"}
    assert fresh.client().chat.completions.create(model="instant", messages=PROMPT).choices  # other keys work


def test_a_hang_ends_in_the_clients_timeout(fresh) -> None:
    fresh.configure(preset="instant", hang_rate=1.0)
    client = fresh.client(max_retries=0, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="instant", messages=PROMPT)
    assert time.monotonic() - started < 5  # the timeout fired, not some later server answer
    [entry] = wait_for_the_journal(fresh, 1)
    assert entry["fault"] == "hang" and entry["status"] == 499  # the client gave up


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_drop_is_a_connection_error(fresh, stream) -> None:
    fresh.configure(drop_rate=1.0)
    client = fresh.client(max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        reply = client.chat.completions.create(model=fresh.model, messages=PROMPT, stream=stream)
        if stream:
            list(reply)  # the stream breaks halfway through
    [entry] = wait_for_the_journal(fresh, 1)
    assert entry["fault"] == "drop" and entry["status"] == 444


def test_a_slow_first_byte_delays_the_answer_but_it_arrives(fresh) -> None:
    fresh.configure(preset="instant", slow_first_byte_rate=1.0, slow_first_byte_seconds=10)  # 0.5 s at 0.05
    raw = fresh.client().chat.completions.with_raw_response.create(model="instant", messages=PROMPT)
    assert raw.parse().choices and raw.headers["x-sim-ttft-ms"] == "500"
    [entry] = fresh.requests()
    assert entry["fault"] == "slow_first_byte" and entry["status"] == 200
    assert entry["first_token"] - entry["start"] >= 0.45


def test_faults_follow_each_keys_random_stream_and_a_key_can_have_its_own(fresh) -> None:
    settings = dict(error_rate=0.2, drop_rate=0.2, slow_first_byte_rate=0.2, slow_first_byte_seconds=0.2)
    fresh.configure(preset="instant", **settings, key_faults={"sk-doomed": {"error_rate": 1.0, "drop_rate": 0.0,
                                                                             "slow_first_byte_rate": 0.0}})
    expected = [Faults(**settings).draw(request_rng(0, "sk-seeded", n)) for n in range(30)]
    assert {"error", "drop", "slow_first_byte", None} <= set(expected)

    clients = {key: fresh.client(api_key=key, max_retries=0) for key in ("sk-seeded", "sk-doomed")}

    def run() -> list[str | None]:
        fresh.reset()
        for key in ["sk-seeded"] * 30 + ["sk-doomed"] * 3:
            try:
                clients[key].chat.completions.create(model="instant", messages=PROMPT)
            except (openai.APIConnectionError, openai.InternalServerError):
                pass
        entries = wait_for_the_journal(fresh, 33)
        assert [e["fault"] for e in entries if e["key"] == "sk-doomed"] == ["error"] * 3
        return [e["fault"] for e in entries if e["key"] == "sk-seeded"]

    assert run() == expected == run()


BAD_BODIES = [
    (b"{not json", "application/json", 400),
    (b'{"model": "sim-fast", "messages": []}', "text/plain", 415),
    (b"[1, 2]", "application/json", 400),
    (b'{"messages": [{"role": "user", "content": "x"}]}', "application/json", 400),
    (b'{"model": "sim-fast", "messages": []}', "application/json", 400),
    (b'{"model": "sim-fast", "messages": [{"role": "wizard", "content": "x"}]}', "application/json", 400),
    (b'{"model": "sim-fast", "messages": [{"role": "user", "content": 5}]}', "application/json", 400),
    (b'{"model": "sim-fast", "messages": [{"role": "user", "content": "x"}], "max_tokens": -3}', "application/json", 400),
    (b'{"model": "sim-fast", "messages": [{"role": "user", "content": "x"}], "max_tokens": 10000000}', "application/json", 400),
    (b'{"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]}', "application/json", 404),
    (b'{"model": "sim-fast", "messages": [{"role": "user", "content": "' + b"x" * (2 * 1024 * 1024) + b'"}]}',
     "application/json", 413),
]


@pytest.mark.parametrize(("body", "content_type", "status"), BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_input_is_an_openai_shaped_4xx_never_a_500(fresh, body, content_type, status) -> None:
    request = urllib.request.Request(fresh.base_url + "/chat/completions", data=body, headers={
        "Content-Type": content_type, "Authorization": "Bearer sk-test"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == status
    error = json.load(raised.value)["error"]
    assert error["message"] and "Traceback" not in error["message"]


def test_unknown_paths_and_methods_and_missing_keys_are_refused_clearly(fresh) -> None:
    for method, path, status in [("GET", "/v1/nothing", 404), ("GET", "/v1/chat/completions", 405)]:
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(urllib.request.Request(fresh.base_url.removesuffix("/v1") + path, method=method))
        assert raised.value.code == status and json.load(raised.value)["error"]["message"]
    with pytest.raises(openai.BadRequestError, match="messages must be a non-empty array"):
        fresh.client().chat.completions.create(model=fresh.model, messages=[])


def test_server_dies_with_its_parent_even_on_sigkill() -> None:
    parent = subprocess.Popen([sys.executable, "-c", (
        "from helpers.llm_server import start_server; import time;"
        "s = start_server(time_scale=0.01); print(s.process.pid, flush=True); time.sleep(60)")],
        stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child_pid, signal.SIGKILL)
    pytest.fail("the server outlived its parent")


def test_room_mode_refuses_to_listen_beyond_loopback_without_a_roster() -> None:
    result = subprocess.run([sys.executable, "-m", "helpers.llm_server", "--host", "0.0.0.0", "--port", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "without a roster" in result.stderr


def test_room_mode_accepts_only_roster_keys(tmp_path) -> None:
    roster = tmp_path / "roster.txt"
    roster.write_text("sk-room-ada\nsk-room-bob\n")
    process = subprocess.Popen([sys.executable, "-m", "helpers.llm_server", "--port", "0", "--keys", str(roster),
                                "--preset", "instant", "--watch-parent"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().split()[1]
        allowed = openai.OpenAI(base_url=base_url, api_key="sk-room-ada")
        assert allowed.chat.completions.create(model="instant", messages=PROMPT).choices
        with pytest.raises(openai.AuthenticationError, match="roster"):
            openai.OpenAI(base_url=base_url, api_key="sk-stranger").chat.completions.create(model="instant", messages=PROMPT)
    finally:
        process.kill()
        process.wait()


# --- opt-in remote endpoint: a second simulator plays the paid provider ----------------------------

def test_a_remote_endpoint_is_used_instead_of_the_simulator_and_its_budget_stops_requests(capsys) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENDPOINT_VARIABLE, raising=False)
        remote = start_server("instant", time_scale=0.05)
        patch.setenv(ENDPOINT_VARIABLE, remote.base_url)
        patch.setenv("LLM_COURSE_API_KEY", "sk-remote")
        patch.setenv("LLM_COURSE_MODEL", "instant")
        patch.setenv("LLM_COURSE_BUDGET", "4")
        with remote:
            endpoint = start_server("sim-large", rpm=10)  # simulator settings: not used here
            banner = capsys.readouterr().out
            assert remote.base_url in banner and "cost money" in banner and "at most 4" in banner
            assert endpoint.is_simulator is False and endpoint.model == "instant" and endpoint.base_url == remote.base_url
            assert endpoint.client().chat.completions.create(model=endpoint.model, messages=PROMPT).choices

            remote.configure(error_rate=1.0)  # each of the SDK's retries is a request that may cost money
            with pytest.raises(openai.InternalServerError):
                endpoint.client(max_retries=2).chat.completions.create(model=endpoint.model, messages=PROMPT)

            async def one_more() -> None:
                async with endpoint.async_client() as client:
                    await client.chat.completions.create(model=endpoint.model, messages=PROMPT)

            with pytest.raises(BudgetExhausted, match="4 of 4 requests"):
                asyncio.run(one_more())
            assert [e["key"] for e in remote.requests()] == ["sk-remote"] * 4  # the fifth never left
            assert start_server().budget.spent == 4  # starting again does not refill the budget
            for simulator_only in (endpoint.requests, endpoint.stats, endpoint.reset):
                with pytest.raises(SimulatorOnly, match="needs the simulated server"):
                    simulator_only()


def test_an_http_client_passed_twice_counts_each_request_once(fresh) -> None:
    fresh.configure(preset="instant")
    endpoint = RemoteEndpoint(fresh.base_url, "sk-remote", "instant", Budget(10))
    http_client = openai.DefaultHttpxClient()
    endpoint.client(http_client=http_client)
    endpoint.client(http_client=http_client).chat.completions.create(model="instant", messages=PROMPT)

    async def through_the_same_async_client_twice() -> None:
        async with openai.DefaultAsyncHttpxClient() as async_http_client:
            endpoint.async_client(http_client=async_http_client)
            await endpoint.async_client(http_client=async_http_client).chat.completions.create(
                model="instant", messages=PROMPT)

    asyncio.run(through_the_same_async_client_twice())
    assert endpoint.budget.spent == len(fresh.requests()) == 2


def test_every_setting_of_start_server_reaches_the_server_through_its_command_line() -> None:
    settings = dict(DEFAULTS, preset="instant", seed=3, tpm=1000, shared_rpm=30, hang_rate=0.1, insufficient_quota=True)
    key_faults = settings.pop("key_faults") | {"sk-bob": {"error_rate": 0.9, "slow_first_byte_seconds": 0.5}}
    config = cli.config_from(cli.parse(arguments(settings, key_faults)))
    assert {name: getattr(config, name) for name in settings} == settings and config.key_faults == key_faults
    with pytest.raises(SystemExit, match="error_rate must be a number from 0 to 1"):
        cli.config_from(cli.parse(["--error-rate", "2"]))


def test_the_command_line_and_start_server_take_their_defaults_from_the_servers_configuration(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.parse(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for flag, value in (("--capacity", config.DEFAULTS.capacity), ("--time-scale", config.DEFAULTS.time_scale),
                        ("--slow-first-byte-seconds", config.DEFAULTS.slow_first_byte_seconds)):
        assert re.search(rf"{flag} \S+ .*?\(default: {value}\)", shown), flag
    assert cli.config_from(cli.parse([])) == config.DEFAULTS
    # time_scale depends on the mode (default_time_scale), key_faults is None for the empty dict
    parameters = {name: parameter.default for name, parameter in inspect.signature(start_server).parameters.items()
                  if name not in ("time_scale", "key_faults")}
    assert parameters == {name: getattr(config.DEFAULTS, name) for name in parameters}


def test_the_notebooks_side_imports_no_server_framework() -> None:
    code = "import sys, helpers.llm_server; print('aiohttp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_the_server_process_imports_nothing_heavy_it_does_not_need() -> None:
    # Start-up time is import time: the client, numpy and the plots belong to the notebook's process.
    code = ("import sys, helpers.llm_server.cli, helpers.llm_server.app;"
            "print(sorted({'openai', 'httpx', 'numpy', 'matplotlib', 'pydantic'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "[]", result.stderr


def test_settings_show_what_configure_changed_and_no_secrets(fresh) -> None:
    fresh.configure(rpm=60, time_scale=0.05)
    settings = fresh.settings()
    assert settings["rpm"] == 60 and settings["time_scale"] == 0.05
    assert "admin_token" not in settings
