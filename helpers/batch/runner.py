"""The batch runner: every request of a Batch API file, as fast as the rate limits allow, none lost, none twice.

    summary = await run_batch("requests.jsonl", "results.jsonl", base_url=..., api_key=..., rpm=500, tpm=200_000)

For each request, in the order of the file: wait for a free slot (at most `max_in_flight`
requests are being worked on, so memory stays small however long the file), wait for the pacer
(pacing.py), send it with a deadline, and look at the answer: a success or a failure that a
retry cannot mend is written to the results at once (results_file.py); anything else waits out
a backoff (retries.py) and goes round again, at most `max_attempts` times in all. Requests whose
custom_id is already in the results are skipped, which is all that resuming takes.

The HTTP calls go through the official openai client with its own retries off (the package's
docstring says why this client, tqdm, and a plain loop rather than tenacity).

Stopping: cancelling the run (a notebook's interrupt, Ctrl-C in the command line) cancels the
requests in flight; results already written stay, and running again resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import openai

from helpers.batch.estimate import estimate_tokens
from helpers.batch.pacing import Pacer
from helpers.batch.progress import Progress
from helpers.batch.requests_file import BatchRequest, RequestsFile
from helpers.batch.results_file import ResultsFile, result_id
from helpers.batch.retries import backoff_seconds, retry_after_seconds, should_retry
from helpers.batch.summary import BatchSummary, Tally


class Answer(NamedTuple):
    """What one HTTP attempt got back. status None: no answer at all, and `problem` says why."""

    status: int | None
    headers: Mapping[str, str]
    body: Any
    problem: str | None = None  # "timeout" or "dropped"
    detail: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


async def send(client: openai.AsyncOpenAI, request: BatchRequest, timeout: float, retries_before: int) -> Answer:
    """One attempt, with a deadline for the whole of it (connecting, waiting, reading the answer).

    The deadline is asyncio.timeout's alone (the client has none): httpx applies its own to each
    phase (connect, each read) separately, so an answer that trickles in could take far longer in
    all; and the aiohttp transport reports a server that hung up as a timeout of the client's.
    `x-stainless-retry-count` is the header the SDK sends when it retries by itself: the server's
    logs (the simulator's journal) can then tell a retry from a first try.
    """
    path = request.url.removeprefix("/v1")  # the client's base_url ends in /v1, as the SDK's own calls expect
    try:
        async with asyncio.timeout(timeout):
            response = await client.post(path, body=request.body, cast_to=openai.AsyncAPIResponse[object],
                                         options={"headers": {"x-stainless-retry-count": str(retries_before)}})
            return Answer(response.status_code, response.headers, await response.parse())
    except openai.APIStatusError as error:  # the server answered, with an error status
        return Answer(error.status_code, error.response.headers, body_of(error.response))
    except TimeoutError:
        return Answer(None, {}, None, "timeout", f"no answer within {timeout:g} s")
    except openai.APIConnectionError as error:  # with no timeout of its own, the client raises this only for a failed connection
        return Answer(None, {}, None, "dropped", f"the connection failed: {error.__cause__ or error}")


def body_of(response: Any) -> Any:
    """An error response's JSON body, or its text in OpenAI's error shape if it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return {"error": {"message": response.text[:1000], "type": "server_error", "code": None}}


def result_of(request: BatchRequest, answer: Answer, attempts: int) -> dict[str, Any]:
    """A line of the results file, in the Batch API's output format."""
    response = None
    if answer.status is not None:
        response = {"status_code": answer.status, "request_id": answer.headers.get("x-request-id"), "body": answer.body}
    error = None
    if answer.status is None:
        error = {"code": answer.problem, "message": f"{answer.detail} ({attempts} attempts)"}
    elif not answer.succeeded:
        details = answer.body.get("error") if isinstance(answer.body, dict) else None
        details = details if isinstance(details, dict) else {}
        error = {"code": details.get("code") or details.get("type") or str(answer.status),
                 "message": details.get("message") or f"HTTP {answer.status}"}
    return {"id": result_id(), "custom_id": request.custom_id, "response": response, "error": error}


class Runner:
    """One run's shared state: the client, the pacer, the tally, and how hard to try."""

    def __init__(self, client: openai.AsyncOpenAI, pacer: Pacer, tally: Tally, *, max_attempts: int,
                 timeout: float, follow_headers: bool) -> None:
        self.client, self.pacer, self.tally = client, pacer, tally
        self.max_attempts, self.timeout, self.follow_headers = max_attempts, timeout, follow_headers

    async def complete(self, request: BatchRequest) -> dict[str, Any]:
        """Try a request until it succeeds, fails for good, or runs out of attempts; return its result line."""
        tokens, tally = estimate_tokens(request.body), self.tally
        attempt = 0
        while True:
            attempt += 1
            grant = await self.pacer.wait_for(tokens)
            tally.in_flight += 1
            try:
                answer = await send(self.client, request, self.timeout, retries_before=attempt - 1)
            finally:
                tally.in_flight -= 1
            self.count(answer)
            if self.follow_headers:
                self.pacer.correct(answer.headers, grant)
            if answer.succeeded or attempt == self.max_attempts or not should_retry(answer.status, answer.body):
                return result_of(request, answer, attempt)
            # Never sooner than the server asked; later if our own (jittered) backoff says so.
            delay = max(retry_after_seconds(answer.headers) or 0.0, backoff_seconds(attempt))
            tally.retries += 1
            tally.retrying += 1
            try:
                await asyncio.sleep(delay)
            finally:
                tally.retrying -= 1

    def count(self, answer: Answer) -> None:
        tally = self.tally
        tally.attempts += 1
        if answer.status == 429:
            tally.rate_limited += 1
        elif answer.status is not None and answer.status >= 500:
            tally.server_errors += 1
        elif answer.problem == "timeout":
            tally.timeouts += 1
        elif answer.problem == "dropped":
            tally.dropped += 1
        if answer.succeeded and isinstance(answer.body, dict):
            usage = answer.body.get("usage") or {}
            tally.prompt_tokens += usage.get("prompt_tokens", 0)
            tally.completion_tokens += usage.get("completion_tokens", 0)


async def run_batch(requests: str | Path, results: str | Path, *, base_url: str, api_key: str,
                    rpm: int | None = None, tpm: int | None = None, max_in_flight: int = 50,
                    max_attempts: int = 6, timeout: float = 60.0, progress: bool = True,
                    follow_headers: bool = True) -> BatchSummary:
    """Run every request of `requests` not yet in `results`, appending each result as it ends.

    rpm and tpm are budgets per real minute (None: no pacing for that one). `follow_headers=False`
    ignores the x-ratelimit-* headers, to see what correcting from them is worth.
    """
    started = time.monotonic()
    todo = RequestsFile(requests)  # checks the whole file first: a bad line costs no call
    out = ResultsFile(results)
    done = out.done_ids()
    tally = Tally(total=len(todo), skipped=done.count_in(todo.ids))
    client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=None,
                                http_client=openai.DefaultAioHttpClient())
    runner = Runner(client, Pacer(rpm, tpm), tally, max_attempts=max_attempts, timeout=timeout,
                    follow_headers=follow_headers)
    bar = Progress(tally, enabled=progress)
    slots = asyncio.Semaphore(max_in_flight)

    async def one(request: BatchRequest) -> None:
        try:
            result = await runner.complete(request)
            out.append(result)  # no await between the answer and the write: a cancel cannot split them
            if result["error"] is None:
                tally.succeeded += 1
            else:
                tally.failed += 1
            bar.finished()
        finally:
            slots.release()

    try:
        async with client, asyncio.TaskGroup() as group:
            for request in todo:
                if request.custom_id in done:
                    continue
                await slots.acquire()  # the next line of the file is read only when a slot is free
                group.create_task(one(request))
    finally:
        bar.close()
        out.close()
    return tally.summary(time.monotonic() - started)
