"""Solution to the exercise of notebooks/03_asyncio.ipynb: all prompts on one thread, at most `limit` in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable


async def bounded_gather(ask: Callable[[str], Awaitable[str]], prompts: Iterable[str], limit: int) -> list[str]:
    """Each prompt's answer, in the prompts' order, with never more than `limit` calls in flight."""
    gate = asyncio.Semaphore(limit)  # one gate for the whole batch: a new one per call would limit nothing

    async def ask_when_let_in(prompt: str) -> str:
        async with gate:
            return await ask(prompt)

    return await asyncio.gather(*(ask_when_let_in(prompt) for prompt in prompts))  # gather keeps input order
