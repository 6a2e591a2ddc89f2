"""Many clients share one rate limit, and each retries its refused call on its own schedule.

When a limit refuses a crowd at once, clients that all wait the same backoff all come back at the
same instant, and the crowd is refused again, wave after wave: a retry storm (the "thundering
herd"). Between the waves the limit's bucket fills to the brim and the allowance beyond it is
lost. Full jitter, a random wait between 0 and the backoff (`helpers.batch.backoff_seconds`),
spreads each wave over its backoff, so requests arrive while the bucket refills.

Each client here ignores `retry-after` on purpose, as many hand-written retry loops do: the
server tells every refused request when *it* could go, and a crowd told the same instant is a
herd again. One `AsyncOpenAI` client (its own retries off) stands for all the clients, one task
each: what matters is when each one sends, not which connection it uses.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import NamedTuple

import openai

from helpers.batch import backoff_seconds


class Storm(NamedTuple):
    """What a crowd of clients went through: all from the clients' side (the journal says the same)."""

    clients: int
    succeeded: int
    refused: int  # 429 responses received
    seconds: float  # from the first send to the last client done


class Backoff(NamedTuple):
    """How a client waits after its n-th refusal: base × 2^(n-1), at most cap, with or without jitter."""

    base: float
    cap: float
    jitter: bool
    max_attempts: int


async def one_client(client: openai.AsyncOpenAI, model: str, prompt: str, backoff: Backoff,
                     rng: random.Random) -> tuple[bool, int]:
    """One call, retried after each 429 as `backoff` says; (succeeded, 429s received)."""
    refused = 0
    for attempt in range(1, backoff.max_attempts + 1):
        try:
            await client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                                 max_tokens=50)
            return True, refused
        except openai.RateLimitError:
            refused += 1
            if attempt < backoff.max_attempts:
                await asyncio.sleep(backoff_seconds(attempt, base=backoff.base, cap=backoff.cap,
                                                    jitter=backoff.jitter, rng=rng))
    return False, refused


async def retry_storm(client: openai.AsyncOpenAI, model: str, clients: int, backoff: Backoff,
                      seed: int = 0) -> Storm:
    """`clients` clients send one call each, all at once, and retry as `backoff` says."""
    rng = random.Random(seed)  # the same jitter every run, so a lesson's picture does not change
    quiet = client.with_options(max_retries=0)  # the clients' own loops do the retrying
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one_client(quiet, model, f"In 20 words, fact {n} about retries.", backoff, rng)
                                      for n in range(clients)))
    return Storm(clients, sum(ok for ok, _ in outcomes), sum(refused for _, refused in outcomes),
                 time.perf_counter() - started)
