"""Solution to the exercise of notebooks/06_ten_thousand_calls.ipynb: start the calls at a steady pace, gather them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence


async def paced_gather(ask: Callable[[str], Awaitable[str]], prompts: Sequence[str], per_second: float) -> list[str]:
    """Each prompt's answer, in the prompts' order, with at most `per_second` calls started in any second."""
    loop = asyncio.get_running_loop()
    first = loop.time()
    calls = []
    for number, prompt in enumerate(prompts):
        # Call n's moment is fixed from the first start: a late wake-up does not push every later call later.
        await asyncio.sleep(max(0.0, first + number / per_second - loop.time()))
        calls.append(asyncio.create_task(ask(prompt)))  # started now; the loop does not wait for its answer
    return await asyncio.gather(*calls)  # gather keeps the prompts' order
