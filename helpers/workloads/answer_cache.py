"""Answer a request seen before from memory: no call, no tokens, no money.

A cache fits requests whose answer may be reused: classifying, extracting, a help desk's frequent
questions, asked at temperature 0. It does not fit a prompt whose user wants a fresh answer each
time. The key is the whole request (model, messages, every parameter) as canonical JSON, hashed:
the same question to another model, or with another `max_tokens`, is another request.

Two identical requests in flight at once make one call: the second awaits the first one's
future ("single flight"). Without that, a gathered batch would miss on every repeat that is sent
before the first answer is back, which in a batch is nearly all of them. A failed call is not
kept: its entry goes, so the next request for it calls again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, NamedTuple

import openai
from openai.types.chat import ChatCompletion


class CacheStats(NamedTuple):
    """Hits and misses so far, and the tokens the hits did not spend."""

    hits: int
    misses: int
    saved_prompt_tokens: int
    saved_completion_tokens: int

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


def request_key(body: dict[str, Any]) -> str:
    """The same request, the same key: canonical JSON (sorted keys), hashed."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class AnswerCache:
    """`await cache.create(**body)` in place of `client.chat.completions.create(**body)`."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.client = client
        self.answers: dict[str, asyncio.Future[ChatCompletion]] = {}
        self.hits = self.misses = self.saved_prompt_tokens = self.saved_completion_tokens = 0

    async def create(self, **body: Any) -> ChatCompletion:
        key = request_key(body)
        if key in self.answers:  # answered, or being answered: wait for that one call
            reply = await asyncio.shield(self.answers[key])  # a cancelled waiter must not cancel the call
            self.hits += 1
            self.saved_prompt_tokens += reply.usage.prompt_tokens
            self.saved_completion_tokens += reply.usage.completion_tokens
            return reply
        self.misses += 1
        future = self.answers[key] = asyncio.get_running_loop().create_future()
        try:
            reply = await self.client.chat.completions.create(**body)
        except BaseException as error:
            del self.answers[key]  # not kept: the next request for it calls again
            if isinstance(error, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(error)
                future.exception()  # marks it retrieved: no "never retrieved" warning if nobody else waits
            raise
        future.set_result(reply)
        return reply

    @property
    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, self.saved_prompt_tokens, self.saved_completion_tokens)
