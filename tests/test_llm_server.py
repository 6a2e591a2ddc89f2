"""The simulated server through the official openai client, over real HTTP, in a real child process."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import openai
import pytest

from helpers.llm_server import start_server
from helpers.llm_server.latency import PRESETS, request_rng
from helpers.llm_server.text import answer, count_tokens

PROMPT = [{"role": "user", "content": "Explain AI in 50 words"}]


@pytest.fixture(scope="module")
def server():
    with start_server("sim-fast", time_scale=0.05) as running:
        yield running


@pytest.fixture()
def fresh(server):
    server.configure(preset="sim-fast", time_scale=0.05, capacity=256, rpm=None, error_rate=0.0)
    server.reset()
    return server


def test_a_chat_completion_answers_on_topic_with_usage(fresh) -> None:
    reply = fresh.client().chat.completions.create(model=fresh.model, messages=PROMPT)
    text = reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert 40 <= len(text.split()) <= 80  # "in 50 words", roughly
    assert reply.usage.completion_tokens == count_tokens(text)
    assert reply.usage.prompt_tokens == count_tokens(PROMPT[0]["content"])


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
                                "--preset", "instant", "--watch-parent"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base_url = process.stdout.readline().split()[1]
        allowed = openai.OpenAI(base_url=base_url, api_key="sk-room-ada")
        assert allowed.chat.completions.create(model="instant", messages=PROMPT).choices
        with pytest.raises(openai.AuthenticationError, match="roster"):
            openai.OpenAI(base_url=base_url, api_key="sk-stranger").chat.completions.create(model="instant", messages=PROMPT)
    finally:
        process.kill()
        process.wait()
