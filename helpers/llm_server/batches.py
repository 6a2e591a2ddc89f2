"""The Batch API: hand over a file of requests, come back later for a file of answers, at half price.

    POST /v1/batches               {input_file_id, endpoint, completion_window: "24h"}: client.batches.create
    GET  /v1/batches/{id}          the Batch object, status and request_counts: client.batches.retrieve
    POST /v1/batches/{id}/cancel   client.batches.cancel
    GET  /v1/batches               newest first, `after` and `limit` to page: client.batches.list

The input file (uploaded with files.py) holds one request a line, OpenAI's format:
`{"custom_id": "request-1", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`.
A batch moves through OpenAI's statuses on a clock of its own: `batch_seconds` (config.py)
simulated seconds from creation to the end, whatever its size, shrunk by time_scale like every
delay. The first tenth it is `validating`, the next eight tenths `in_progress`, its requests
finishing one after another spread evenly over them (so `request_counts` moves), the last tenth
`finalizing`; then `completed`, with `output_file_id` and `error_file_id` to download.
`cancel` makes it `cancelling` and, a tenth of the window later, `cancelled`, with the requests
done so far in its output file.

What goes wrong, where OpenAI reports it:
- a file that is not a batch input file (a line that is not JSON, no custom_id, a custom_id seen
  twice, a url other than the batch's endpoint, a method other than POST, a second model): the
  batch is `failed`, with `errors.data` listing each bad line's `code`, `line` and `message`, and no
  request runs. The codes invalid_json_line, duplicate_custom_id, url_mismatch, model_mismatch and
  empty_file are the ones OpenAI is reported to send (stdapi-ai/stdapi.ai issue #240); the others
  are ours.
- a well-formed line the endpoint refuses (an unknown model, bad messages, `stream: true`): that
  request fails alone, as it would online. Its line goes to the error file with the 4xx that an
  online call would get in `response`, and `request_counts.failed` counts it.
- an unknown file or batch id: 404 at once, OpenAI's "No such File object".

The output file lists the requests in the input's order; OpenAI does not promise any order, so
match results to requests by custom_id.

Each line is answered by the same machinery as an online call (chat.py), so the same body gets
the same text and usage either way. Batch requests do not draw from the key's online rate limits
(OpenAI gives batches a queue limit of their own, not modelled here), suffer no faults and take
no generation slot; each is journaled with its `batch_id`, so a lesson can count them apart
(/sim/stats: batch_completed, batch_failed). Each batch is an asyncio task on the server's loop:
stopping the server cancels it, and /sim/reset forgets every batch and file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from aiohttp import web

from helpers.llm_server.access import api_key, json_body
from helpers.llm_server.chat import answers_for, completion, header, read_chat, totals, usage
from helpers.llm_server.errors import ApiError, bad_request, insufficient_quota, not_found
from helpers.llm_server.files import FileStore
from helpers.llm_server.journal import Entry, request_id

if TYPE_CHECKING:
    from helpers.llm_server.app import Simulator

ENDPOINTS = ("/v1/chat/completions",)  # what this simulator runs in a batch
OPENAI_ENDPOINTS = ("/v1/responses", "/v1/chat/completions", "/v1/embeddings", "/v1/completions",
                    "/v1/moderations", "/v1/images/generations", "/v1/images/edits", "/v1/videos")
COMPLETION_WINDOW = "24h"  # the only one OpenAI offers
WINDOW_SECONDS = 24 * 3600
# Shares of a batch's time: validating, then running its requests, then finalizing (or cancelling)
VALIDATING_SHARE, RUNNING_SHARE, FINALIZING_SHARE = 0.1, 0.8, 0.1
MAX_ERRORS_LISTED = 20  # of a failed batch's bad lines, the first ones
YIELD_EVERY = 100  # requests answered back to back before letting the server's other work run
logger = logging.getLogger(__name__)


class BatchLine(NamedTuple):
    """One request of an input file, checked for the file's format (its body is checked when it runs)."""

    custom_id: str
    body: dict


@dataclass
class Batch:
    """One batch: what it runs, how far it is, and its times (Unix seconds, as OpenAI gives them)."""

    id: str
    key: str
    endpoint: str
    input_file_id: str
    window: float  # real seconds from creation to the end, fixed when created
    metadata: dict | None = None
    created_at: float = field(default_factory=time.time)
    status: str = "validating"
    model: str | None = None
    times: dict[str, float] = field(default_factory=dict)  # in_progress_at, completed_at, ...
    total: int = 0
    completed: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    errors: list[dict] | None = None
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def move_to(self, status: str) -> None:
        self.status = status
        self.times[f"{status}_at"] = time.time()

    def public(self) -> dict:
        """OpenAI's Batch object."""
        stamp = {name: int(self.times[name]) if name in self.times else None for name in (
            "in_progress_at", "finalizing_at", "completed_at", "failed_at", "expired_at", "cancelling_at",
            "cancelled_at")}
        return {
            "id": self.id, "object": "batch", "endpoint": self.endpoint, "model": self.model,
            "errors": None if self.errors is None else {"object": "list", "data": self.errors},
            "input_file_id": self.input_file_id, "completion_window": COMPLETION_WINDOW, "status": self.status,
            "output_file_id": self.output_file_id, "error_file_id": self.error_file_id,
            "created_at": int(self.created_at), "expires_at": int(self.created_at) + WINDOW_SECONDS, **stamp,
            "request_counts": {"total": self.total, "completed": self.completed, "failed": self.failed},
            "usage": {"input_tokens": self.prompt_tokens, "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens": self.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                      "total_tokens": self.prompt_tokens + self.completion_tokens},
            "metadata": self.metadata,
        }


def line_error(code: str, line: int, message: str, param: str | None = None) -> dict:
    """One entry of a failed batch's `errors.data`: lines count from 1."""
    return {"code": code, "line": line, "message": message, "param": param}


def read_lines(content: bytes, endpoint: str) -> tuple[list[BatchLine], list[dict]]:
    """The input file's requests, and what is wrong with its format (empty if nothing)."""
    lines, problems, seen, model = [], [], set(), None
    for number, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            request = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict):
            problems.append(line_error("invalid_json_line", number, "This line is not parseable as valid JSON."))
            continue
        custom_id, body = request.get("custom_id"), request.get("body")
        if not isinstance(custom_id, str) or not custom_id:
            problems.append(line_error("missing_required_parameter", number,
                                       "Each line needs a custom_id: a non-empty string.", "custom_id"))
        elif custom_id in seen:
            problems.append(line_error("duplicate_custom_id", number,
                                       f"The custom_id {custom_id!r} is already used by an earlier line.", "custom_id"))
        if request.get("method") != "POST":
            problems.append(line_error("invalid_method", number,
                                       f"The method must be POST, got {request.get('method')!r}.", "method"))
        if request.get("url") != endpoint:
            problems.append(line_error("url_mismatch", number, f"The url {request.get('url')!r} is not the "
                                       f"batch's endpoint {endpoint!r}: every line must use it.", "url"))
        if not isinstance(body, dict):
            problems.append(line_error("missing_required_parameter", number,
                                       "Each line needs a body: the request as a JSON object.", "body"))
        elif model is None:
            model = body.get("model")
        elif body.get("model") != model:
            problems.append(line_error("model_mismatch", number, f"This line asks for model {body.get('model')!r} "
                                       f"but an earlier one for {model!r}: a batch uses one model.", "body.model"))
        if isinstance(custom_id, str) and isinstance(body, dict):
            seen.add(custom_id)
            lines.append(BatchLine(custom_id, body))
    if not lines and not problems:
        problems.append(line_error("empty_file", 0, "The input file has no requests."))
    return lines, problems


class Batches:
    """Every batch of the server, and the tasks that run them."""

    def __init__(self, files: FileStore) -> None:
        self.files = files
        self.batches: dict[str, Batch] = {}
        self.tasks: set[asyncio.Task] = set()

    def start(self, batch: Batch, simulator: Simulator) -> None:
        self.batches[batch.id] = batch
        task = asyncio.get_running_loop().create_task(self.run(batch, simulator), name=batch.id)
        self.tasks.add(task)  # the loop keeps only a weak reference: hold one until it is done
        task.add_done_callback(self.tasks.discard)

    def get(self, key: str, batch_id: str) -> Batch:
        batch = self.batches.get(batch_id)
        if batch is None or batch.key != key:
            raise not_found("Batch", batch_id, "batch_id")
        return batch

    def forget(self) -> None:
        """Stop every batch and forget them all (with their files: see FileStore.clear)."""
        for task in self.tasks:
            task.cancel()
        self.batches.clear()

    async def close(self, app: web.Application | None = None) -> None:
        """Cancel the batches still running and wait for them: a server's shutdown must not hang."""
        tasks = list(self.tasks)
        self.forget()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self, batch: Batch, simulator: Simulator) -> None:
        """The batch's life, from validating to completed (or failed, or cancelled)."""
        try:
            await self.work(batch, simulator)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug of ours: the batch fails with a message, the server goes on
            logger.exception("batch %s failed unexpectedly", batch.id)
            batch.errors = [line_error("server_error", 0, "The simulated server failed on this batch; see its log.")]
            batch.move_to("failed")

    async def work(self, batch: Batch, simulator: Simulator) -> None:
        loop = asyncio.get_running_loop()
        began = loop.time()
        if await until(began + VALIDATING_SHARE * batch.window, batch.cancel_requested):
            return await self.finish_cancelling(batch, [], [])
        lines, problems = read_lines(self.files.get(batch.key, batch.input_file_id).content, batch.endpoint)
        if problems:
            batch.errors = problems[:MAX_ERRORS_LISTED]
            return batch.move_to("failed")
        batch.model, batch.total = lines[0].body.get("model"), len(lines)
        batch.move_to("in_progress")
        running_from, running = loop.time(), RUNNING_SHARE * batch.window
        answered: list[str] = []  # output lines, written as each request is done: no pause at the end
        refused: list[str] = []
        for index, line in enumerate(lines):
            if await until(running_from + running * (index + 1) / len(lines), batch.cancel_requested):
                return await self.finish_cancelling(batch, answered, refused)
            result = answer(line, batch, simulator)
            (answered if result["response"]["status_code"] == 200 else refused).append(json.dumps(result) + "\n")
            if index % YIELD_EVERY == YIELD_EVERY - 1:  # lines already due run back to back: let requests in
                await asyncio.sleep(0)
        batch.move_to("finalizing")
        await asyncio.sleep(FINALIZING_SHARE * batch.window)
        self.write_results(batch, answered, refused)
        batch.move_to("completed")

    async def finish_cancelling(self, batch: Batch, answered: list[str], refused: list[str]) -> None:
        await asyncio.sleep(FINALIZING_SHARE * batch.window)
        self.write_results(batch, answered, refused)
        batch.move_to("cancelled")

    def write_results(self, batch: Batch, answered: list[str], refused: list[str]) -> None:
        """The output file (requests that succeeded) and the error file (those that failed), if not empty."""
        if answered:
            batch.output_file_id = self.files.add(batch.key, f"{batch.id}_output.jsonl", "batch_output",
                                                  "".join(answered).encode()).id
        if refused:
            batch.error_file_id = self.files.add(batch.key, f"{batch.id}_error.jsonl", "batch_output",
                                                 "".join(refused).encode()).id


async def until(deadline: float, cancelled: asyncio.Event) -> bool:
    """Wait until the loop's clock reaches `deadline` or the batch is cancelled; True if cancelled."""
    wait = deadline - asyncio.get_running_loop().time()
    if wait > 0 and not cancelled.is_set():
        try:
            await asyncio.wait_for(cancelled.wait(), wait)
        except TimeoutError:
            pass
    return cancelled.is_set()


def answer(line: BatchLine, batch: Batch, simulator: Simulator) -> dict:
    """Run one request as an online call would be answered, journaled with its batch; its output line."""
    entry = simulator.journal.add(Entry(id=request_id("chatcmpl"), key=batch.key, model=str(line.body.get("model")),
                                        stream=False, retry_count=0, batch_id=batch.id))
    entry.start = entry.first_token = entry.arrival
    try:
        ask = read_chat(line.body)
        if ask.stream:
            raise bad_request("The Batch API does not stream: leave stream out or set it to false.", "stream")
        answers = answers_for(ask, simulator.config.seed)
        entry.tokens_in, entry.tool_messages = ask.prompt_tokens, ask.tool_messages
        entry.tokens_out, entry.tool_calls = totals(answers)
        status = 200
        body: dict[str, Any] = completion(header(entry.id, entry.arrival, ask.model), answers,
                                          usage(entry.tokens_in, entry.tokens_out))
        batch.completed += 1
        batch.prompt_tokens += entry.tokens_in
        batch.completion_tokens += entry.tokens_out
    except ApiError as error:
        status, body = error.status, error.body()
        batch.failed += 1
    entry.status, entry.end = status, time.time()
    return {"id": request_id("batch_req", "_"), "custom_id": line.custom_id,
            "response": {"status_code": status, "request_id": entry.id, "body": body}, "error": None}


# --- the handlers ---------------------------------------------------------------------------

def text_field(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"Missing required parameter: '{name}'.", name)
    return value


async def create(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    key = api_key(request, simulator)
    body = await json_body(request)
    input_file_id, endpoint = text_field(body, "input_file_id"), text_field(body, "endpoint")
    window = text_field(body, "completion_window")
    if endpoint not in ENDPOINTS:
        known = "is one OpenAI runs in a batch, but this simulator" if endpoint in OPENAI_ENDPOINTS else "is not one"
        raise bad_request(f"The endpoint {endpoint!r} {known} runs only: {', '.join(ENDPOINTS)}.", "endpoint")
    if window != COMPLETION_WINDOW:
        raise bad_request(f"completion_window must be {COMPLETION_WINDOW!r}, got {window!r}.", "completion_window")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise bad_request("metadata must be an object of strings.", "metadata")
    stored = simulator.files.get(key, input_file_id, param="input_file_id")
    if stored.purpose != "batch":
        raise bad_request(f"The file {input_file_id} was not uploaded with purpose 'batch'.", "input_file_id")
    if simulator.faults_for(key).insufficient_quota:
        raise insufficient_quota({})
    batch = Batch(id=request_id("batch", "_"), key=key, endpoint=endpoint, input_file_id=input_file_id,
                  window=simulator.config.batch_seconds * simulator.config.time_scale, metadata=metadata)
    simulator.batches.start(batch, simulator)
    return web.json_response(batch.public())


async def retrieve(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    return web.json_response(simulator.batches.get(api_key(request, simulator), request.match_info["batch_id"]).public())


async def cancel(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    batch = simulator.batches.get(api_key(request, simulator), request.match_info["batch_id"])
    if batch.status in ("validating", "in_progress"):
        batch.move_to("cancelling")
        batch.cancel_requested.set()
    elif batch.status not in ("cancelling", "cancelled"):
        # The openai client retries a 409 unless told not to: waiting will not make this possible
        raise ApiError(409, f"Cannot cancel a batch with status {batch.status}.", headers={"x-should-retry": "false"})
    return web.json_response(batch.public())


async def listing(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    key = api_key(request, simulator)
    limit = request.query.get("limit", "20")
    if not (limit.isdigit() and 1 <= int(limit) <= 100):
        raise bad_request(f"limit must be an integer from 1 to 100, got {limit!r}.", "limit")
    newest_first = [batch for batch in reversed(simulator.batches.batches.values()) if batch.key == key]
    after = request.query.get("after")
    if after is not None:
        ids = [batch.id for batch in newest_first]
        if after not in ids:
            raise not_found("Batch", after, "after")
        newest_first = newest_first[ids.index(after) + 1:]
    page = newest_first[: int(limit)]
    return web.json_response({"object": "list", "data": [batch.public() for batch in page],
                              "first_id": page[0].id if page else None, "last_id": page[-1].id if page else None,
                              "has_more": len(newest_first) > len(page)})
