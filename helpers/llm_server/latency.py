"""How long a simulated call takes: time to first token plus a time per output token.

Each part is drawn from a distribution with the request's own random stream, so the same
(server seed, API key, that key's request number) always gets the same latency, however many
requests run at once. `time_scale` shrinks every delay (the test suite runs at 0.1).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    """A delay in seconds: `fixed`, `uniform` (low..high), `normal` or `lognormal` (median, spread)."""

    kind: str
    a: float  # fixed value, low bound, mean or median
    b: float = 0.0  # high bound or spread

    def sample(self, rng: random.Random) -> float:
        if self.kind == "fixed":
            value = self.a
        elif self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "normal":
            value = rng.gauss(self.a, self.b)
        elif self.kind == "lognormal":
            value = self.a * math.exp(rng.gauss(0.0, self.b))
        else:
            raise ValueError(f"unknown distribution {self.kind!r}: use fixed, uniform, normal or lognormal")
        return max(0.0, value)


@dataclass(frozen=True)
class LatencyProfile:
    """A model's speed: how long until the first token, then how long per further token."""

    time_to_first_token: Distribution
    time_per_token: Distribution
    description: str

    def sample(self, rng: random.Random) -> tuple[float, float]:
        return self.time_to_first_token.sample(rng), self.time_per_token.sample(rng)


PRESETS: dict[str, LatencyProfile] = {
    "instant": LatencyProfile(Distribution("fixed", 0.0), Distribution("fixed", 0.0), "no delay at all (tests)"),
    "sim-fast": LatencyProfile(
        Distribution("fixed", 0.25), Distribution("fixed", 0.004), "a small fast model: about 0.5 s per answer"
    ),
    "sim-flash": LatencyProfile(
        Distribution("lognormal", 0.7, 0.25),
        Distribution("uniform", 0.012, 0.020),
        "like the seed article's gemini-1.5-flash calls: 1.5 to 3 s per answer",
    ),
    "seed-article": LatencyProfile(
        Distribution("lognormal", 2.0, 1.45),
        Distribution("fixed", 0.004),
        "the seed article's five calls, one key per prompt: about 2 s each, now and then one much slower"
        " (15 s in turn, 7 s for the slowest)",
    ),
    "sim-large": LatencyProfile(
        Distribution("lognormal", 1.5, 0.3), Distribution("uniform", 0.03, 0.05), "a large model: 4 to 8 s per answer"
    ),
}


def request_rng(server_seed: int, api_key: str, sequence_number: int) -> random.Random:
    """The random stream of one request: it depends on who asked and how many times, not on timing."""
    return random.Random(f"{server_seed}:{api_key}:{sequence_number}")
