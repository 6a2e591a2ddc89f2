"""The simulated Batch API through the official openai client (sync and async), over real HTTP."""

import asyncio
import io
import json
import signal
import time

import openai
import pytest
from simulator_support import simulator_fixtures

from helpers.llm_server import config, start_server
from helpers.llm_server.app import create_app
from helpers.mode import ENDPOINT_VARIABLE

TIME_SCALE = 0.1
# Every test's batches take batch_seconds × TIME_SCALE real seconds: 1 s unless the test says otherwise
server, fresh, DEFAULTS = simulator_fixtures(preset="instant", time_scale=TIME_SCALE, batch_seconds=10)
CHAT = "/v1/chat/completions"
FINISHED = ("completed", "failed", "cancelled")


def body(index: int, model: str = "instant") -> dict:
    return {"model": model, "messages": [{"role": "user", "content": f"Explain AI in {10 + index} words"}]}


def request_line(index: int, **changes) -> dict:
    return {"custom_id": f"request-{index:03d}", "method": "POST", "url": CHAT, "body": body(index)} | changes


def jsonl(lines: list) -> bytes:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines).encode()


def upload(client: openai.OpenAI, lines: list, name: str = "requests.jsonl"):
    return client.files.create(file=(name, io.BytesIO(jsonl(lines))), purpose="batch")


def submit(client: openai.OpenAI, lines: list):
    return client.batches.create(input_file_id=upload(client, lines).id, endpoint=CHAT, completion_window="24h")


def poll(client: openai.OpenAI, batch_id: str, timeout: float = 30.0) -> list:
    """Every state the batch was seen in, every 20 ms, until it is finished."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(client.batches.retrieve(batch_id))
        if seen[-1].status in FINISHED:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"batch {batch_id} still {seen[-1].status} after {timeout} s")


def results(client: openai.OpenAI, file_id: str | None) -> list[dict]:
    return [] if file_id is None else [json.loads(line) for line in client.files.content(file_id).text.splitlines()]


def test_a_batch_moves_through_openais_statuses_and_its_answers_are_the_online_ones(fresh) -> None:
    fresh.configure(batch_seconds=20)  # 2 s: 20 requests finish 80 ms apart while it is in progress
    client = fresh.client()
    lines = [request_line(i) for i in range(20)]
    created = submit(client, lines)
    assert (created.object, created.status, created.endpoint, created.completion_window) == (
        "batch", "validating", CHAT, "24h")
    seen = poll(client, created.id)
    statuses = [state.status for state in seen]
    order = ["validating", "in_progress", "finalizing", "completed"]
    assert statuses == sorted(statuses, key=order.index) and {"in_progress", "completed"} <= set(statuses)
    moving = {state.request_counts.completed for state in seen if state.status == "in_progress"}
    assert len(moving) >= 3 and max(moving) < 20  # request_counts moved while it ran, not all at the end
    done = seen[-1]
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (20, 20, 0)
    assert done.in_progress_at <= done.finalizing_at <= done.completed_at and done.error_file_id is None

    output = results(client, done.output_file_id)
    assert sorted(result["custom_id"] for result in output) == [line["custom_id"] for line in lines]
    for result in output:
        assert result["id"].startswith("batch_req_") and result["error"] is None
        assert result["response"]["status_code"] == 200
        assert result["response"]["request_id"] == result["response"]["body"]["id"]
    by_id = {result["custom_id"]: result["response"]["body"] for result in output}
    assert done.usage.input_tokens == sum(b["usage"]["prompt_tokens"] for b in by_id.values())
    assert done.usage.output_tokens == sum(b["usage"]["completion_tokens"] for b in by_id.values())
    for line in lines[:3]:  # same body, same server seed: the same answer online
        online = client.chat.completions.create(**line["body"])
        batched = by_id[line["custom_id"]]
        assert batched["choices"][0]["message"]["content"] == online.choices[0].message.content
        assert batched["usage"] == online.usage.model_dump(exclude_none=True)  # the details included

    journal = fresh.requests()
    assert sum(entry["batch_id"] == created.id for entry in journal) == 20
    assert sum(entry["batch_id"] is None for entry in journal) == 3
    stats = fresh.stats()
    assert (stats["batch_completed"], stats["batch_failed"], stats["completed"]) == (20, 0, 3)


def test_batch_requests_do_not_draw_from_the_keys_online_rate_limits(fresh) -> None:
    fresh.configure(rpm=1, tpm=100, time_scale=1.0, batch_seconds=1)  # one online call a real minute
    client = fresh.client(max_retries=0)
    done = poll(client, submit(client, [request_line(i) for i in range(10)]).id)[-1]
    assert done.status == "completed" and done.request_counts.completed == 10
    client.chat.completions.create(**body(0))  # the minute's one request is still there
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(**body(0))


def test_the_async_client_uploads_creates_polls_and_downloads(fresh) -> None:
    async def run() -> tuple:
        async with fresh.async_client() as client:
            uploaded = await client.files.create(file=("in.jsonl", jsonl([request_line(i) for i in range(5)])),
                                                 purpose="batch")
            assert (await client.files.retrieve(uploaded.id)).bytes == len(jsonl([request_line(i) for i in range(5)]))
            batch = await client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
            while batch.status not in FINISHED:
                await asyncio.sleep(0.05)
                batch = await client.batches.retrieve(batch.id)
            content = await client.files.content(batch.output_file_id)
            listed = await client.batches.list()
            return batch, [json.loads(line) for line in content.text.splitlines()], listed.data

    batch, output, listed = asyncio.run(run())
    assert batch.status == "completed" and batch.request_counts.completed == len(output) == 5
    assert [b.id for b in listed] == [batch.id]


def test_the_list_pages_newest_first(fresh) -> None:
    client = fresh.client()
    ids = [submit(client, [request_line(0)]).id for _ in range(3)]
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == ids[::-1][:2] and first.has_more
    assert [b.id for b in client.batches.list(limit=2, after=first.data[-1].id).data] == ids[:1]
    assert [b.id for b in client.batches.list(limit=2)] == ids[::-1]  # the SDK's iterator follows the pages


@pytest.mark.slow
def test_a_cancelled_batch_keeps_the_requests_done_so_far(fresh) -> None:
    fresh.configure(batch_seconds=100)  # 10 s: 50 requests finish 160 ms apart
    client = fresh.client()
    batch = submit(client, [request_line(i) for i in range(50)])
    while client.batches.retrieve(batch.id).request_counts.completed < 3:
        time.sleep(0.05)
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    seen = poll(client, batch.id)
    done = seen[-1]
    assert {state.status for state in seen} <= {"cancelling", "cancelled"} and done.status == "cancelled"
    output = results(client, done.output_file_id)
    assert 3 <= len(output) == done.request_counts.completed < 50
    assert [result["custom_id"] for result in output] == [f"request-{i:03d}" for i in range(len(output))]
    assert sum(entry["batch_id"] == batch.id for entry in fresh.requests()) == len(output)
    assert client.batches.cancel(batch.id).status == "cancelled"  # cancelling twice changes nothing

    fresh.configure(batch_seconds=DEFAULTS["batch_seconds"])
    finished = poll(client, submit(client, [request_line(0)]).id)[-1]
    with pytest.raises(openai.ConflictError, match="Cannot cancel a batch with status completed"):
        client.batches.cancel(finished.id)


def test_a_malformed_input_file_fails_the_batch_with_each_bad_line_and_runs_nothing(fresh) -> None:
    client = fresh.client()
    lines = [request_line(0), "{not json", request_line(0), request_line(2, url="/v1/embeddings"),
             request_line(3, method="GET"), {"method": "POST", "url": CHAT, "body": body(4)},
             request_line(5, body=body(5, model="sim-large"))]
    done = poll(client, submit(client, lines).id)[-1]
    assert done.status == "failed" and done.failed_at is not None
    assert [(error.code, error.line) for error in done.errors.data] == [
        ("invalid_json_line", 2), ("duplicate_custom_id", 3), ("url_mismatch", 4), ("invalid_method", 5),
        ("missing_required_parameter", 6), ("model_mismatch", 7)]
    assert done.errors.data[0].message == "This line is not parseable as valid JSON."
    assert done.output_file_id is None and done.request_counts.total == 0
    assert not any(entry["batch_id"] for entry in fresh.requests())

    empty = client.batches.create(input_file_id=upload(client, []).id, endpoint=CHAT, completion_window="24h")
    assert [error.code for error in poll(client, empty.id)[-1].errors.data] == ["empty_file"]


def test_a_line_the_endpoint_refuses_fails_alone_into_the_error_file(fresh) -> None:
    client = fresh.client()
    refused = [request_line(1, body={"model": "instant", "messages": []}),
               request_line(2, body=body(2) | {"stream": True})]
    done = poll(client, submit(client, [request_line(0), *refused]).id)[-1]
    assert done.status == "completed" and (done.request_counts.completed, done.request_counts.failed) == (1, 2)
    errors = results(client, done.error_file_id)
    assert [e["custom_id"] for e in errors] == ["request-001", "request-002"]
    assert {e["response"]["status_code"] for e in errors} == {400}
    assert [e["response"]["body"]["error"]["param"] for e in errors] == ["messages", "stream"]
    assert len(results(client, done.output_file_id)) == 1 and fresh.stats()["batch_failed"] == 2


def test_unknown_ids_and_bad_requests_are_openai_shaped_errors(fresh) -> None:
    client = fresh.client(max_retries=0)
    with pytest.raises(openai.NotFoundError, match="No such File object: file-nope"):
        client.files.retrieve("file-nope")
    with pytest.raises(openai.NotFoundError) as raised:
        client.batches.create(input_file_id="file-nope", endpoint=CHAT, completion_window="24h")
    assert raised.value.body["param"] == "input_file_id" and raised.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError, match="No such Batch object: batch_nope"):
        client.batches.retrieve("batch_nope")
    uploaded = upload(client, [request_line(0)])
    for endpoint, window, param in (("/v1/embeddings", "24h", "endpoint"), ("/v1/nope", "24h", "endpoint"),
                                    (CHAT, "1h", "completion_window")):
        with pytest.raises(openai.BadRequestError) as raised:
            client.batches.create(input_file_id=uploaded.id, endpoint=endpoint, completion_window=window)
        assert raised.value.body["param"] == param
    with pytest.raises(openai.BadRequestError, match="purpose must be 'batch'"):
        client.files.create(file=("in.jsonl", b"{}\n"), purpose="fine-tune")
    with pytest.raises(openai.BadRequestError, match="Must be .jsonl"):
        client.files.create(file=("in.txt", b"{}\n"), purpose="batch")
    with pytest.raises(openai.NotFoundError):  # another key's file is as unknown as one never uploaded
        fresh.client(api_key="sk-someone-else", max_retries=0).files.content(uploaded.id)
    with pytest.raises(ValueError, match="batch_seconds must be a number from 0 to 86400"):
        fresh.configure(batch_seconds=-1)
    assert fresh.requests() == []  # none of this reached the journal: no request ran


@pytest.mark.slow
def test_time_scale_stretches_a_batch_as_it_stretches_every_delay(fresh) -> None:
    client = fresh.client()
    lines = [request_line(i) for i in range(10)]
    took = {}
    for time_scale in (0.05, 0.2):  # batch_seconds 10: 0.5 s and 2 s
        fresh.configure(time_scale=time_scale)
        started = time.monotonic()
        assert poll(client, submit(client, lines).id)[-1].status == "completed"
        took[time_scale] = time.monotonic() - started
        assert took[time_scale] >= 10 * time_scale * 0.95  # never before its window is over
    assert 2.5 <= took[0.2] / took[0.05] <= 5  # 4 expected: the window scales, the polling does not


# The app keeps its state under string keys; aiohttp prefers typed AppKeys, and warns when an app is built
@pytest.mark.filterwarnings("ignore::aiohttp.web_exceptions.NotAppKeyWarning")
def test_stopping_the_server_cancels_its_running_batches_without_waiting_for_them() -> None:
    async def run() -> tuple[float, int, int]:
        from aiohttp import web

        # In this process, so the test can see the task: the same app the server process runs
        app = create_app(config.SimConfig(preset="instant", batch_seconds=3600))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        async with openai.AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test") as client:
            uploaded = await client.files.create(file=("in.jsonl", jsonl([request_line(0)])), purpose="batch")
            await client.batches.create(input_file_id=uploaded.id, endpoint=CHAT, completion_window="24h")
        running = len(app["simulator"].batches.tasks)
        started = time.monotonic()
        await asyncio.wait_for(runner.cleanup(), timeout=10)
        return time.monotonic() - started, running, len(app["simulator"].batches.tasks)

    took, running, left = asyncio.run(run())
    assert (running, left) == (1, 0) and took < 5


def test_a_server_process_with_a_batch_running_stops_on_sigterm() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENDPOINT_VARIABLE, raising=False)
        server = start_server("instant", time_scale=1.0, batch_seconds=3600)
    client = server.client()
    batch = submit(client, [request_line(0)])
    assert client.batches.retrieve(batch.id).status in ("validating", "in_progress")
    server.stop()
    assert server.process.returncode == -signal.SIGTERM  # stopped at once, not killed after the 5 s grace
