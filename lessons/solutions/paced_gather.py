"""Solution to the exercise of notebooks/06_ten_thousand_calls.ipynb: start the calls at a steady pace, gather them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence


async def paced_gather(ask: Callable[[str], Awaitable[str]], prompts: Sequence[str], per_second: float) -> list[str]:
    """Each prompt's answer, in the prompts' order, with at most `per_second` calls started in any second."""
    loop = asyncio.get_running_loop()
    interval = 1 / per_second
    next_start = loop.time()
    calls = []
    for prompt in prompts:
        await asyncio.sleep(max(0.0, next_start - loop.time()))
        calls.append(asyncio.create_task(ask(prompt)))  # started now; the loop does not wait for its answer
        # The next one an interval after this one's moment, so small late wake-ups do not add up; but
        # never a moment already past: a busy spell is not made up with a burst, which the limit refuses.
        next_start = max(next_start + interval, loop.time())
    return await asyncio.gather(*calls)  # gather keeps the prompts' order
