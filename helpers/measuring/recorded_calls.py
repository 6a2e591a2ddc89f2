"""Put every API call of an `openai` client on a Recorder's timeline, without touching call sites.

    client = recorded(server.client(), recorder)      # or an AsyncOpenAI client
    client.chat.completions.create(...)                # lands on the timeline by itself

The `openai` client sends its HTTP requests through a *transport*. `recorded` gives a copy of
the client whose transport wraps the usual one: it notes the time a request goes out and, when
the response body has been read to the end (for a stream, when the last chunk arrived), adds a
span. A retried request shows up as two spans, the refused one coloured "rate-limited".
"""

from __future__ import annotations

import importlib
import time
from typing import Any, TypeVar

import openai

from helpers.measuring.spans import Recorder, Span, current_lane

# openai 3 sends requests with its own fork of httpx, `httpx2`; older releases use `httpx`.
http = importlib.import_module(openai.DefaultHttpxClient.__mro__[1].__module__.partition(".")[0])
Client = TypeVar("Client", openai.OpenAI, openai.AsyncOpenAI)


def _span(recorder: Recorder, request: Any, status: int, lane: str, start: float) -> None:
    label = request.url.path.removeprefix("/v1/")
    kind = "rate-limited" if status == 429 else "io"
    recorder.add(Span(label, lane, start, time.time(), kind, {"status": status}))


class _RecordedStream(http.SyncByteStream):
    def __init__(self, inner: Any, on_close: Any) -> None:
        self.inner, self.on_close = inner, on_close

    def __iter__(self):
        yield from self.inner

    def close(self) -> None:
        self.inner.close()
        self.on_close()


class _AsyncRecordedStream(http.AsyncByteStream):
    def __init__(self, inner: Any, on_close: Any) -> None:
        self.inner, self.on_close = inner, on_close

    async def __aiter__(self):
        async for chunk in self.inner:
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()
        self.on_close()


class RecordingTransport(http.BaseTransport):
    """Wraps a transport; each response adds a span when its body is closed."""

    def __init__(self, recorder: Recorder, inner: Any | None = None) -> None:
        self.recorder, self.inner = recorder, inner or http.HTTPTransport()

    def handle_request(self, request: Any) -> Any:
        lane, start = current_lane(), time.time()
        response = self.inner.handle_request(request)
        def finished() -> None:
            _span(self.recorder, request, response.status_code, lane, start)
        return http.Response(response.status_code, headers=response.headers,
                             stream=_RecordedStream(response.stream, finished), extensions=response.extensions)

    def close(self) -> None:
        self.inner.close()


class AsyncRecordingTransport(http.AsyncBaseTransport):
    """The same for AsyncOpenAI: the lane is the asyncio task that made the call."""

    def __init__(self, recorder: Recorder, inner: Any | None = None) -> None:
        self.recorder, self.inner = recorder, inner or http.AsyncHTTPTransport()

    async def handle_async_request(self, request: Any) -> Any:
        lane, start = current_lane(), time.time()
        response = await self.inner.handle_async_request(request)
        def finished() -> None:
            _span(self.recorder, request, response.status_code, lane, start)
        return http.Response(response.status_code, headers=response.headers,
                             stream=_AsyncRecordedStream(response.stream, finished), extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


def recorded(client: Client, recorder: Recorder) -> Client:
    """A copy of `client` (same endpoint, key, retries, timeouts) whose calls land on `recorder`."""
    if isinstance(client, openai.AsyncOpenAI):
        transport = AsyncRecordingTransport(recorder, http.AsyncHTTPTransport(limits=openai.DEFAULT_CONNECTION_LIMITS))
        return client.with_options(http_client=openai.DefaultAsyncHttpxClient(transport=transport))
    transport = RecordingTransport(recorder, http.HTTPTransport(limits=openai.DEFAULT_CONNECTION_LIMITS))
    return client.with_options(http_client=openai.DefaultHttpxClient(transport=transport))
