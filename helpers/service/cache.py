"""An LRU answer cache with single flight, for async handlers.

The key is answer_cache.request_key of the request body: the same question, the same answer.
Single flight: while a first request for a key is being answered, identical ones wait for that
one upstream call instead of making their own (N identical at once → 1 upstream call).
A failed call is forgotten, so the next request tries again. Streamed requests are not cached:
their point is tokens as they come, and a cache would have to replay them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from helpers.service.metrics import CACHE_HITS, CACHE_MISSES
from helpers.workloads.answer_cache import request_key


class AnswerCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self.answers: OrderedDict[str, Any] = OrderedDict()
        self.pending: dict[str, asyncio.Future] = {}

    async def get(self, body: dict, answer: Callable[[], Awaitable[Any]]) -> Any:
        key = request_key(body)
        if key in self.answers:
            CACHE_HITS.inc()
            self.answers.move_to_end(key)
            return self.answers[key]
        if key in self.pending:
            CACHE_HITS.inc()
            return await asyncio.shield(self.pending[key])
        CACHE_MISSES.inc()
        future = self.pending[key] = asyncio.get_running_loop().create_future()
        try:
            result = await answer()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # mark retrieved: no warning when nobody else waited
            raise
        finally:
            del self.pending[key]
        future.set_result(result)
        self.answers[key] = result
        if len(self.answers) > self.size:
            self.answers.popitem(last=False)
        return result
