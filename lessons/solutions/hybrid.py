"""Solution to the exercise of notebooks/05_hybrid.ipynb: calls concurrent, analyses on every CPU as answers arrive."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from helpers.claims.machine import usable_cpus


def make_pool() -> ProcessPoolExecutor:
    """One worker per CPU this process may use: the analysis is pure Python, so more would only take turns."""
    return ProcessPoolExecutor(max_workers=usable_cpus(), mp_context=multiprocessing.get_context("spawn"))


async def pipeline(prompts: Sequence[str], ask: Callable[[str], Awaitable[str]], analyse: Callable[[str], Any],
                   pool: ProcessPoolExecutor) -> list:
    """Every call at once; each answer goes to the pool the moment it arrives; results in the prompts' order."""
    loop = asyncio.get_running_loop()

    async def call_then_analyse(prompt: str) -> Any:
        answer = await ask(prompt)
        return await loop.run_in_executor(pool, analyse, answer)  # the loop serves other calls meanwhile

    async with asyncio.TaskGroup() as group:  # if one call fails, the others are cancelled, not left running
        tasks = [group.create_task(call_then_analyse(prompt)) for prompt in prompts]
    return [task.result() for task in tasks]  # in the prompts' order
