"""The simulated OpenAI-compatible server: an aiohttp application.

One request's life: check the key and the body; refuse it if the key has no quota left; take a
request and its tokens from the rate-limit buckets (or answer 429); maybe fail on purpose
(faults.py); wait for a free generation slot (capacity; the wait is queue time); wait the time
to first token; then produce one token per `time_per_token`. Every step is written to the
journal, which the notebooks read. The Batch API's handlers live in files.py and batches.py;
this module only routes to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from itertools import count

from aiohttp import web

from helpers.llm_server import batches, chat, errors, files, room_view, text, validation
from helpers.llm_server.access import admin_only, api_key, json_body, reader
from helpers.llm_server.chat import Answer, Ask, answers_for, completion, header, read_chat, totals, usage
from helpers.llm_server.config import CHANGEABLE, SimConfig
from helpers.llm_server.errors import ApiError, bad_request
from helpers.llm_server.faults import Faults
from helpers.llm_server.headers import ratelimit_headers, retry_headers
from helpers.llm_server.journal import Entry, Journal, request_id
from helpers.llm_server.latency import PRESETS, request_rng
from helpers.llm_server.limits import ROOM, RateLimiter, token_cost
from helpers.llm_server.slots import Slots

MAX_BODY_BYTES = 1024 * 1024
EMBEDDING_DIMENSIONS = 64


class Simulator:
    """The server's state: configuration, slots, rate limits, journal, and the Batch API's files and batches."""

    def __init__(self, config: SimConfig) -> None:
        self.journal = Journal(config.journal_limit)  # for the server's life, like the roster
        self.files = files.FileStore()
        self.batches = batches.Batches(self.files)
        self.sequence: dict[str, count] = {}
        self.passed: dict[str, set[str]] = {}  # key -> titles of the exercises it passed (room_view.py)
        self.slots = Slots(config.capacity)  # one for the server's life: `apply` changes its limit
        self.apply(config)

    def apply(self, config: SimConfig) -> None:
        config.check()
        self.config = config
        # Faults worked out once per configuration, not per request: keys with their own, and the rest
        self.key_faults = {key: config.faults_for(key) for key in config.key_faults}
        self.default_faults = Faults.of(config)
        self.slots.resize(config.capacity)  # requests holding or waiting for a slot keep their place
        self.limiter = RateLimiter(rpm=config.rpm, tpm=config.tpm, shared_rpm=config.shared_rpm,
                                   shared_tpm=config.shared_tpm, time_scale=config.time_scale,
                                   burst_seconds=config.burst_seconds)

    def faults_for(self, key: str) -> Faults:
        return self.key_faults.get(key, self.default_faults)

    def next_sequence_number(self, key: str) -> int:
        return next(self.sequence.setdefault(key, count()))

    def reset(self) -> None:
        self.batches.forget()
        self.files.clear()
        self.journal.clear()
        self.sequence.clear()
        self.apply(self.config)


# --- helpers for handlers -------------------------------------------------------------------

def admit(simulator: Simulator, entry: Entry, faults: Faults, tokens: int, headers: dict[str, str]) -> None:
    """Let the request in, or raise the 429 OpenAI would send. Adds the x-ratelimit-* headers."""
    if faults.insufficient_quota:
        entry.status, entry.end, entry.fault = 429, time.time(), "insufficient_quota"
        raise errors.insufficient_quota(headers)
    entry.token_cost = tokens
    admission = simulator.limiter.admit(entry.key, tokens)
    headers |= ratelimit_headers(admission.shown)
    if not admission.wait:
        return
    bucket = admission.refused_by
    entry.status, entry.end = 429, time.time()
    entry.limited_by = f"{'room' if bucket.owner == ROOM else 'key'} {bucket.kind}"
    if math.isinf(admission.wait):
        raise errors.request_too_large(entry.model, bucket, admission.cost, headers)
    entry.retry_after = admission.wait
    raise errors.rate_limited(entry.model, bucket, admission.cost, admission.wait, headers | retry_headers(admission.wait))


async def sleep_until(deadline: float) -> None:
    """Sleep to an absolute loop time, so small errors do not add up over many tokens.

    A deadline already past returns at once: `asyncio.sleep(0)` would send the request to the
    back of the loop's queue, behind every callback due, and under load make it later still.
    The price: a stream with no time between tokens (the `instant` preset, time_scale 0) is sent
    in one go, without letting other requests run in between.
    """
    loop = asyncio.get_running_loop()
    if (wait := deadline - loop.time()) > 0:
        await asyncio.sleep(wait)


async def until_the_client_leaves() -> None:
    """Wait forever: aiohttp cancels this handler when the client closes the connection."""
    await asyncio.get_running_loop().create_future()


async def drop_connection(request: web.Request, entry: Entry) -> None:
    """Close the connection without finishing the answer, as a crashed server or proxy would."""
    entry.status, entry.end = 444, time.time()
    if request.transport is not None:
        request.transport.close()
    await until_the_client_leaves()


# --- chat completions -------------------------------------------------------------------------

async def chat_completions(request: web.Request) -> web.StreamResponse:
    simulator: Simulator = request.app["simulator"]
    return await generate(request, simulator, api_key(request, simulator), await json_body(request))


async def generate(request: web.Request, simulator: Simulator, key: str, body: dict) -> web.StreamResponse:
    """Answer a chat-completions body: the life of a request described at the top of this module."""
    ask = read_chat(body)
    retries = request.headers.get("x-stainless-retry-count", "0")
    entry = simulator.journal.add(Entry(
        id=request_id("chatcmpl"), key=key, model=ask.model, stream=ask.stream,
        retry_count=int(retries) if retries.isdigit() else 0, tokens_in=ask.prompt_tokens,
        tool_messages=ask.tool_messages))
    rng = request_rng(simulator.config.seed, key, simulator.next_sequence_number(key))
    faults = simulator.faults_for(key)
    headers = {"x-request-id": entry.id}
    try:
        admit(simulator, entry, faults, token_cost(entry.tokens_in, ask.max_tokens, ask.n), headers)
        entry.fault = faults.draw(rng)  # the stream's first number, whatever is switched on
        if entry.fault == "error":
            entry.status, entry.end = 500, time.time()
            raise ApiError(500, "The simulated server had an error while processing your request (fault injection).",
                           type_="server_error", headers=headers | {"x-should-retry": "true"})
        if entry.fault == "overload":
            entry.status, entry.end = 503, time.time()
            raise errors.overloaded(entry.id, headers)
        if entry.fault == "hang":
            await until_the_client_leaves()
        answers = answers_for(ask, simulator.config.seed)
        entry.tokens_out, entry.tool_calls = totals(answers)
        ttft, per_token = PRESETS[ask.model].sample(rng)
        if entry.fault == "slow_first_byte":
            ttft += faults.slow_first_byte_seconds
        async with generation_slot(simulator, entry):
            return await respond(request, simulator, entry, ask, answers, (ttft, per_token), headers)
    except (ConnectionResetError, asyncio.CancelledError):
        if entry.status is None:  # not a drop of ours: the client went away (its timeout, or a hang)
            entry.status, entry.end = 499, time.time()
        raise


@asynccontextmanager
async def generation_slot(simulator: Simulator, entry: Entry) -> AsyncIterator[None]:
    """Hold one of the server's slots for the block: queued until one is free, then in flight."""
    journal = simulator.journal
    journal.queued[entry.key] += 1
    try:
        await simulator.slots.acquire(entry.key)  # each key queues on its own, the keys served in turn
    finally:
        journal.queued[entry.key] -= 1
    journal.in_flight[entry.key] += 1
    entry.start = time.time()
    entry.queue_wait = entry.start - entry.arrival
    try:
        yield
    finally:
        journal.in_flight[entry.key] -= 1
        simulator.slots.release()


async def respond(request: web.Request, simulator: Simulator, entry: Entry, ask: Ask,
                  answers: list[Answer], timing: tuple[float, float],
                  headers: dict[str, str]) -> web.StreamResponse:
    """Send the answers on the latency model's schedule, whole or as a stream of chunks."""
    scale = simulator.config.time_scale
    ttft, per_token = timing[0] * scale, timing[1] * scale
    first_token_due = asyncio.get_running_loop().time() + ttft
    longest = max(answer.tokens for answer in answers)
    # A drop happens halfway through the answer: after half its tokens, or half its time.
    drop_at = longest // 2 if entry.fault == "drop" else None
    headers |= {"x-sim-queue-ms": f"{entry.queue_wait * 1000:.0f}", "x-sim-ttft-ms": f"{ttft * 1000:.0f}",
                "openai-processing-ms": f"{(ttft + per_token * longest) * 1000:.0f}"}
    tokens = usage(entry.tokens_in, entry.tokens_out)
    base = header(entry.id, entry.arrival, ask.model)
    if not ask.stream:
        if drop_at is not None:
            await sleep_until(first_token_due + per_token * drop_at)
            await drop_connection(request, entry)
        await sleep_until(first_token_due)
        entry.first_token = time.time()
        await sleep_until(first_token_due + per_token * max(0, longest - 1))
        entry.status, entry.end = 200, time.time()
        return web.json_response(completion(base, answers, tokens), headers=headers)

    if entry.fault == "slow_first_byte":  # for a stream the headers wait too, not only the first token
        await sleep_until(first_token_due)
    response = web.StreamResponse(headers=headers | {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    response.enable_chunked_encoding()

    async def send(choices: list[dict], **extra: object) -> None:
        chunk = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())

    await response.prepare(request)
    await sleep_until(first_token_due)  # the role chunk goes out with the first token, not before
    entry.first_token = time.time()
    await send([{"index": i, "delta": chat.first_delta(answer), "finish_reason": None} for i, answer in enumerate(answers)])
    deltas = [chat.stream_deltas(answer) for answer in answers]
    for position in range(longest):
        if position == drop_at:
            await drop_connection(request, entry)
        await sleep_until(first_token_due + per_token * position)
        due = [{"index": i, "delta": sent[position], "finish_reason": None}
               for i, sent in enumerate(deltas) if position < len(sent) and sent[position] is not None]
        if due:  # a tool call's name is sent whole, once all its tokens are due
            await send(due)
    await send([{"index": i, "delta": {}, "finish_reason": answer.finish_reason} for i, answer in enumerate(answers)])
    if ask.include_usage:
        await send([], usage=tokens)
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    entry.status, entry.end = 200, time.time()
    return response


# --- the other endpoints ----------------------------------------------------------------------

async def embeddings(request: web.Request) -> web.Response:
    """Deterministic unit vectors from each input's hash: same text, same vector, no model.

    Embeddings count against the rate limits (their input tokens) but no faults strike them.
    """
    simulator: Simulator = request.app["simulator"]
    key = api_key(request, simulator)
    body = await json_body(request)
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not (isinstance(inputs, list) and inputs and all(isinstance(i, str) and i for i in inputs)):
        raise bad_request("input must be a non-empty string or a non-empty array of non-empty strings.", "input")
    model = str(body.get("model") or "sim-embedding")
    tokens = sum(text.count_tokens(i) for i in inputs)
    entry = simulator.journal.add(Entry(id=request_id("emb"), key=key, model=model, stream=False,
                                        retry_count=0, tokens_in=tokens))
    headers = {"x-request-id": entry.id}
    admit(simulator, entry, simulator.faults_for(key), tokens, headers)
    data = []
    for index, item in enumerate(inputs):
        raw = hashlib.sha512(item.encode()).digest()
        vector = [byte / 255 - 0.5 for byte in raw[:EMBEDDING_DIMENSIONS]]
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        data.append({"object": "embedding", "index": index, "embedding": [v / norm for v in vector]})
    entry.status, entry.end = 200, time.time()
    return web.json_response({"object": "list", "data": data, "model": model,
                              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}, headers=headers)


async def models(request: web.Request) -> web.Response:
    api_key(request, request.app["simulator"])
    listed = [{"id": name, "object": "model", "created": 0, "owned_by": "llm-course-simulator",
               "description": profile.description} for name, profile in PRESETS.items()]
    return web.json_response({"object": "list", "data": listed})


async def responses(request: web.Request) -> web.Response:
    """POST /v1/responses, non-streaming: answered through the chat-completions machinery."""
    simulator: Simulator = request.app["simulator"]
    key = api_key(request, simulator)
    body = await json_body(request)
    model = validation.model_name(body, set(PRESETS))
    given = body.get("input")
    if isinstance(given, str) and given:
        prompt = given
    elif isinstance(given, list) and given:
        prompt = "\n".join(validation.text_of_content(m.get("content") if isinstance(m, dict) else m, i)
                           for i, m in enumerate(given))
    else:
        raise bad_request("input must be a non-empty string or array of messages.", "input")
    if validation.flag(body, "stream"):
        raise bad_request("This simulator answers /v1/responses without streaming; set stream to false.", "stream")
    if body.get("tools") is not None:
        raise bad_request("This simulator runs tools on /v1/chat/completions only; leave tools out here.", "tools")
    chat_body = {"model": model, "messages": [{"role": "user", "content": prompt}],
                 "max_tokens": body.get("max_output_tokens")}
    chat = await generate(request, simulator, key, chat_body)
    completion = json.loads(chat.body)
    answer = completion["choices"][0]["message"]["content"]
    usage = completion["usage"]
    return web.json_response({
        "id": completion["id"].replace("chatcmpl", "resp"), "object": "response", "created_at": completion["created"],
        "model": model, "status": "completed",
        "output": [{"type": "message", "id": "msg_" + completion["id"][-24:], "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": answer, "annotations": []}]}],
        "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
                  "total_tokens": usage["total_tokens"]},
        "instructions": body.get("instructions"),
    }, headers={name: value for name, value in chat.headers.items() if name.startswith("x-")})


# --- the simulator's own controls ---------------------------------------------------------------

async def sim_stats(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    asking = reader(request, simulator)
    stats = simulator.journal.stats(asking.key)
    stats["per_key"] = {asking.shown(key): counts for key, counts in stats["per_key"].items()}
    return web.json_response(stats)


async def sim_requests(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    asking = reader(request, simulator)
    since = request.query.get("since")
    try:
        moment = float(since) if since is not None else None
    except ValueError:
        raise bad_request(f"since must be a Unix time in seconds, got {since!r}.", "since") from None
    entries = simulator.journal.since(moment, asking.key)
    for entry in entries:
        entry["key"] = asking.shown(entry["key"])
    return web.json_response(entries)


async def sim_config(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    if request.method == "POST":
        admin_only(request)
        changes = await json_body(request)
        if unknown := set(changes) - set(CHANGEABLE):
            raise bad_request(f"cannot configure {sorted(unknown)}; allowed: {sorted(CHANGEABLE)}")
        simulator.apply(SimConfig(**{**asdict(simulator.config), **changes}))
        return web.json_response(simulator.config.public())
    return web.json_response(simulator.config.public(own_key=reader(request, simulator).key))


async def sim_reset(request: web.Request) -> web.Response:
    admin_only(request)
    request.app["simulator"].reset()
    return web.json_response({"reset": True})


@web.middleware
async def openai_shaped_errors(request: web.Request, handler) -> web.StreamResponse:
    """Every failure leaves as an OpenAI error body; an unexpected one is logged, never shown."""
    try:
        return await handler(request)
    except ApiError as error:
        return error.response()
    except web.HTTPRequestEntityTooLarge:
        return ApiError(413, f"The request body is larger than {MAX_BODY_BYTES} bytes.").response()
    except web.HTTPMethodNotAllowed as error:
        allowed = ", ".join(sorted(error.allowed_methods))
        return ApiError(405, f"{request.method} is not allowed on {request.path}; use {allowed}.").response()
    except web.HTTPNotFound:
        return ApiError(404, f"Unknown path {request.path}.", code="unknown_url").response()
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    except Exception:  # a bug of ours: say so without a traceback, and keep serving the others
        request.app.logger.exception("unexpected error in %s", request.path)
        return ApiError(500, "The simulated server failed unexpectedly; see its log.", type_="server_error").response()


def create_app(config: SimConfig) -> web.Application:
    app = web.Application(middlewares=[openai_shaped_errors], client_max_size=MAX_BODY_BYTES)
    app["simulator"] = Simulator(config)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/v1/responses", responses)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/files", files.upload)
    app.router.add_get("/v1/files/{file_id}", files.retrieve)
    app.router.add_get("/v1/files/{file_id}/content", files.content)
    app.router.add_post("/v1/batches", batches.create)
    app.router.add_get("/v1/batches", batches.listing)
    app.router.add_get("/v1/batches/{batch_id}", batches.retrieve)
    app.router.add_post("/v1/batches/{batch_id}/cancel", batches.cancel)
    app.on_cleanup.append(app["simulator"].batches.close)  # a server stopping cancels the batches still running
    app.router.add_get("/sim/stats", sim_stats)
    app.router.add_get("/sim/requests", sim_requests)
    app.router.add_route("*", "/sim/config", sim_config)
    app.router.add_post("/sim/reset", sim_reset)
    app.router.add_get("/sim/room", room_view.room_page)
    app.router.add_get("/sim/room.json", room_view.room_json)
    app.router.add_post("/sim/exercises", room_view.exercise_passed)
    return app
