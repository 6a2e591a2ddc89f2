"""The service itself: `build_app(settings)`, a FastAPI app answering OpenAI's chat completions.

POST /v1/chat/completions takes OpenAI's request body and answers in OpenAI's format: plain JSON,
or with `stream: true` server-sent events passing the upstream's tokens through as they come,
ending with `data: [DONE]`. Each request goes through the gate (admission.py), then the answer
cache (cache.py, if any), then ONE shared upstream client (upstream.py). GET /metrics and
GET /healthz for whoever watches it. Errors come in OpenAI's shape, {"error": {...}}, so an
OpenAI client raises the right exception: 400 for a bad body (not FastAPI's 422), 413 for a
body over 2 MiB, 503 + Retry-After when shed, 429 + Retry-After when the upstream still
rate-limits after the client's retries, 502 when it fails, 404 for an unknown path.

handlers="sync": the upstream call is a plain blocking function run in the thread pool
(anyio's, sized `threads` at start-up), as a `def` endpoint would be; a stream gets a thread
of its own, so that long streams cannot take every pooled thread and starve the rest.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import openai
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from helpers.service import upstream
from helpers.service.admission import Gate, Shed, ThreadGate
from helpers.service.cache import AnswerCache
from helpers.service.metrics import DURATION, FIRST_TOKEN, RATE_LIMITED, REQUESTS, UPSTREAM_ERRORS, exposition
from helpers.service.settings import ServiceSettings
from helpers.workloads.cpu_work import python_busy_work, units_for_seconds

MAX_BODY_BYTES = 2 * 1024 * 1024
SETTINGS_VARIABLE = "LLM_COURSE_SERVICE_SETTINGS"  # how cli.py hands worker processes their settings
UNWATCHED = {"/metrics", "/healthz"}  # scrapes and health checks are not the traffic the counts describe


class Refusal(Exception):
    """An answer other than 200, in OpenAI's error shape."""

    def __init__(self, status: int, message: str, kind: str, param: str | None = None,
                 code: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code
        self.retry_after = retry_after

    def response(self) -> JSONResponse:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        error = {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}
        return JSONResponse({"error": error}, status_code=self.status, headers=headers)


def bad_request(message: str, param: str | None = None) -> Refusal:
    return Refusal(400, message, "invalid_request_error", param)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body, checked just enough that the upstream call cannot fail on its shape."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' must be a non-empty list of messages", "messages")
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise bad_request(f"messages[{index}] must be an object with a string 'role'", f"messages[{index}]")
    if not isinstance(body.get("model", ""), str):
        raise bad_request("'model' must be a string", "model")
    if not isinstance(body.get("stream", False), bool):
        raise bad_request("'stream' must be true or false", "stream")
    return body


async def read_body(request: Request) -> bytes:
    """At most MAX_BODY_BYTES, read as it arrives: a huge body is refused before it fills the memory."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise Refusal(413, f"the request body is over {MAX_BODY_BYTES} bytes", "invalid_request_error")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refusal(413, f"the request body is over {MAX_BODY_BYTES} bytes", "invalid_request_error")
        chunks.append(chunk)
    return b"".join(chunks)


def upstream_refusal(error: Exception, settings: ServiceSettings) -> Refusal:
    """What to tell our user when the upstream failed, after the client's own retries."""
    if isinstance(error, openai.RateLimitError):
        RATE_LIMITED.inc()
        header = error.response.headers.get("retry-after", "")
        retry = int(float(header)) + 1 if header.replace(".", "", 1).isdigit() else settings.retry_after_seconds
        return Refusal(429, f"the upstream is rate limiting: {error.message}", "rate_limit_error",
                       code="rate_limit_exceeded", retry_after=retry)
    if isinstance(error, openai.APIStatusError) and 400 <= error.status_code < 500:
        return Refusal(error.status_code, f"the upstream refused: {error.message}", "invalid_request_error")
    UPSTREAM_ERRORS.inc()
    return Refusal(502, f"the upstream failed: {type(error).__name__}: {error}", "upstream_error")


UPSTREAM_FAILURES = (openai.APIError,)


def call_arguments(body: dict[str, Any], settings: ServiceSettings) -> dict[str, Any]:
    """OpenAI client arguments passing the whole body on: the model and messages, the rest as extra_body."""
    rest = {name: value for name, value in body.items() if name not in ("model", "messages", "stream")}
    return {"model": body.get("model") or settings.model, "messages": body["messages"], "extra_body": rest}


def sse(chunk: Any) -> bytes:
    return b"data: " + chunk.model_dump_json(exclude_unset=True).encode() + b"\n\n"


DONE = b"data: [DONE]\n\n"


@dataclass
class Service:
    """What every request shares: the settings (this worker's share), the gate, the cache, the clients."""

    settings: ServiceSettings
    gate: Gate | ThreadGate = field(init=False)
    cache: AnswerCache | None = field(init=False)
    analysis_units: int = 0
    async_client: openai.AsyncOpenAI | None = None
    sync_client: openai.OpenAI | None = None

    def __post_init__(self) -> None:
        kind = ThreadGate if self.settings.handlers == "sync" else Gate
        self.gate = kind(self.settings.max_in_flight, self.settings.max_queue)
        self.cache = AnswerCache(self.settings.cache_size) if self.settings.cache_size else None

    def analyse(self) -> None:
        """The CPU work an answer costs (pure Python, holding the GIL), e.g. checking and scoring it."""
        if self.analysis_units:
            python_busy_work(self.analysis_units)

    # -- async handlers ---------------------------------------------------------------------------
    async def plain(self, body: dict[str, Any]) -> bytes:
        async def answer() -> bytes:
            await self.gate.enter()
            try:
                completion = await self.async_client.chat.completions.create(**call_arguments(body, self.settings))
            except UPSTREAM_FAILURES as error:
                raise upstream_refusal(error, self.settings) from None
            finally:
                self.gate.leave()
            return completion.model_dump_json(exclude_unset=True).encode()

        content = await (self.cache.get(body, answer) if self.cache else answer())
        self.analyse()
        return content

    async def streamed(self, body: dict[str, Any], arrived: float) -> AsyncIterator[bytes]:
        """Enter the gate and start the upstream stream *before* answering, so that shedding and upstream
        refusals get their status code; then pass the tokens on, and leave the gate after the last."""
        await self.gate.enter()
        try:
            stream = await self.async_client.chat.completions.create(**call_arguments(body, self.settings),
                                                                     stream=True)
        except UPSTREAM_FAILURES as error:
            self.gate.leave()
            raise upstream_refusal(error, self.settings) from None
        except BaseException:
            self.gate.leave()
            raise

        async def tokens() -> AsyncIterator[bytes]:
            first = True
            try:
                async for chunk in stream:
                    if first:
                        FIRST_TOKEN.observe(time.perf_counter() - arrived)
                        first = False
                    yield sse(chunk)
                self.analyse()
                yield DONE
                DURATION.observe(time.perf_counter() - arrived)
            finally:
                self.gate.leave()
                await stream.close()

        return tokens()

    # -- sync handlers: blocking code in threads ---------------------------------------------------
    def plain_blocking(self, body: dict[str, Any]) -> bytes:
        self.gate.enter()
        try:
            completion = self.sync_client.chat.completions.create(**call_arguments(body, self.settings))
        except UPSTREAM_FAILURES as error:
            raise upstream_refusal(error, self.settings) from None
        finally:
            self.gate.leave()
        self.analyse()
        return completion.model_dump_json(exclude_unset=True).encode()

    async def streamed_blocking(self, body: dict[str, Any], arrived: float) -> AsyncIterator[bytes]:
        """A thread of its own per stream, feeding the event loop through a queue: a stream holds its
        thread for the whole answer, and in the shared pool enough streams would starve everyone else."""
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[bytes | Exception | None] = asyncio.Queue()
        put = lambda item: loop.call_soon_threadsafe(items.put_nowait, item)  # noqa: E731

        def produce() -> None:
            try:
                self.gate.enter()
            except Shed as error:
                return put(error)
            try:
                with self.sync_client.chat.completions.create(**call_arguments(body, self.settings),
                                                              stream=True) as stream:
                    put(b"")  # started: the status can be sent
                    for chunk in stream:
                        put(sse(chunk))
                self.analyse()
                put(DONE)
            except UPSTREAM_FAILURES as error:
                put(upstream_refusal(error, self.settings))
            except Exception as error:  # noqa: BLE001 - any failure must end the stream, not hang it
                put(error)
            finally:
                self.gate.leave()
                put(None)

        threading.Thread(target=produce, name="stream", daemon=True).start()
        started = await items.get()
        if isinstance(started, Exception):
            raise started

        async def tokens() -> AsyncIterator[bytes]:
            first = True
            while (item := await items.get()) is not None:
                if isinstance(item, Exception):
                    return  # the answer broke off halfway: close the stream, as the upstream did
                if first:
                    FIRST_TOKEN.observe(time.perf_counter() - arrived)
                    first = False
                yield item
                if item == DONE:
                    DURATION.observe(time.perf_counter() - arrived)

        return tokens()


class CountStatuses:
    """Count every answer by status, shed and refused ones included (pure ASGI: cheap, streams untouched)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] in UNWATCHED:
            return await self.app(scope, receive, send)

        async def counted(message: dict) -> None:
            if message["type"] == "http.response.start":
                REQUESTS.labels(status=str(message["status"])).inc()
            await send(message)

        await self.app(scope, receive, counted)


def build_app(settings: ServiceSettings) -> FastAPI:
    """The app for one worker process; `settings` are that worker's share (ServiceSettings.per_worker)."""
    settings.check()
    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.handlers == "sync":
            anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
            service.sync_client = upstream.sync_client(settings)
        else:
            service.async_client = upstream.async_client(settings)
        if settings.analysis_ms:
            service.analysis_units = units_for_seconds(python_busy_work, settings.analysis_ms / 1000)
        yield
        if service.async_client:
            await service.async_client.close()
        if service.sync_client:
            service.sync_client.close()

    app = FastAPI(title="LLM course service", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.exception_handler(Refusal)
    async def refused(request: Request, refusal: Refusal) -> JSONResponse:
        return refusal.response()

    @app.exception_handler(Shed)
    async def shed(request: Request, error: Shed) -> JSONResponse:
        return Refusal(503, "the service is overloaded: try again later", "server_error", code="overloaded",
                       retry_after=settings.retry_after_seconds).response()

    @app.exception_handler(HTTPException)
    async def not_here(request: Request, error: HTTPException) -> JSONResponse:
        return Refusal(error.status_code, f"{request.method} {request.url.path}: {error.detail}",
                       "invalid_request_error").response()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        arrived = time.perf_counter()
        body = parse_body(await read_body(request))
        if body.get("stream"):
            start = service.streamed_blocking if settings.handlers == "sync" else service.streamed
            return StreamingResponse(await start(body, arrived), media_type="text/event-stream")
        if settings.handlers == "sync":
            content = await run_in_threadpool(service.plain_blocking, body)
        else:
            content = await service.plain(body)
        DURATION.observe(time.perf_counter() - arrived)
        return Response(content, media_type="application/json")

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(exposition(), media_type="text/plain; version=0.0.4")

    @app.get("/healthz")
    async def healthz() -> dict[str, str | int]:
        return {"status": "ok", "worker": os.getpid()}  # which worker answered: the launcher waits for all

    app.add_middleware(CountStatuses)
    return app


def from_environment() -> FastAPI:
    """The app factory uvicorn's worker processes call (cli.py): settings from SETTINGS_VARIABLE."""
    return build_app(ServiceSettings(**json.loads(os.environ[SETTINGS_VARIABLE])))
