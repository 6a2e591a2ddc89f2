"""What the simulated models would cost, so a lesson can put money beside time.

Prices are in US dollars per million tokens, input (the prompt) and output (the answer) apart,
as OpenAI publishes them. The simulator's models are made up, so each is priced like the OpenAI
model of its tier:

| preset | priced like | input $/1M | output $/1M |
|---|---|---|---|
| instant, sim-fast, sim-flash, seed-article | gpt-4o-mini (small, fast) | 0.15 | 0.60 |
| sim-large | gpt-4o (large) | 2.50 | 10.00 |

Source: the standard-tier prices OpenAI published for gpt-4o-mini and gpt-4o from July 2024
(openai.com/api/pricing), as copied in public code and tables (the `openai-models` crate,
kunishou/GenerativeAI-Cost), looked up on 1 December 2026. OpenAI's page itself could not be
opened from here, so the figures are not confirmed against it directly. Newer models are priced
differently (a 2026 table lists gpt-5.4-mini at $0.75 / $4.50 and gpt-5.4 at $2.50 / $15.00), but
what a lesson compares holds for them too: the small tier costs several times less than the large
one, and a batch half of the same calls online. Check the page before quoting any figure as today's.

The Batch API costs half (`BATCH_DISCOUNT`): "each model will be offered at 50% cost discount
vs. the synchronous APIs", with results within 24 hours (OpenAI's Batch API FAQ, help.openai.com).
Cached input and other discounts are left out: the simulator does not cache.
"""

from __future__ import annotations

from typing import NamedTuple

PER_MILLION = 1_000_000
BATCH_DISCOUNT = 0.5  # the share of the online price a Batch API request costs


class Price(NamedTuple):
    """US dollars per million tokens."""

    input: float
    output: float


SMALL_MODEL = Price(input=0.15, output=0.60)  # gpt-4o-mini
LARGE_MODEL = Price(input=2.50, output=10.00)  # gpt-4o

PRICES: dict[str, Price] = {
    "instant": SMALL_MODEL,
    "sim-fast": SMALL_MODEL,
    "sim-flash": SMALL_MODEL,
    "seed-article": SMALL_MODEL,
    "sim-large": LARGE_MODEL,
}


def cost(model: str, prompt_tokens: int, completion_tokens: int, *, batch: bool = False) -> float:
    """US dollars for one call (or many: pass the sums), online or through the Batch API."""
    if model not in PRICES:
        raise ValueError(f"no price for model {model!r}; priced: {', '.join(sorted(PRICES))}")
    price = PRICES[model]
    dollars = (prompt_tokens * price.input + completion_tokens * price.output) / PER_MILLION
    return dollars * BATCH_DISCOUNT if batch else dollars
