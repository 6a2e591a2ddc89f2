"""Our server, set so that every answer takes exactly the latency the benchmark asks for.

The `sim-fast` preset has a *fixed* time to first token (0.25 s) and time per token (4 ms): no
jitter to average out, so a measured delay beyond the setting is the server's own. `time_scale`
stretches both; a request for one token (`max_tokens: 1`) is answered at the first token, so
its latency is the time to first token alone.
"""

from __future__ import annotations

import os
from typing import Any

from helpers.llm_server import ServerHandle, start_server
from helpers.llm_server.latency import PRESETS
from helpers.mode import ENDPOINT_VARIABLE

PRESET = "sim-fast"
PROFILE = PRESETS[PRESET]
assert PROFILE.time_to_first_token.kind == PROFILE.time_per_token.kind == "fixed", "the benchmark needs fixed delays"
BENCH_KEY = "sk-bench"
ONE_TOKEN_REQUEST = {"model": PRESET, "max_tokens": 1, "messages": [{"role": "user", "content": "Say hi"}]}


def time_scale_for_latency(seconds: float) -> float:
    """The time scale at which a one-token answer takes `seconds`."""
    return seconds / PROFILE.time_to_first_token.a


def time_scale_for_token_rate(tokens_per_second: float) -> float:
    """The time scale at which a stream sends `tokens_per_second` after its first token."""
    return 1 / tokens_per_second / PROFILE.time_per_token.a


def start_simulator(preset: str, **settings: Any) -> ServerHandle:
    """Our server in its own process, as a notebook starts it, with any settings of `start_server`."""
    os.environ.pop(ENDPOINT_VARIABLE, None)  # a real endpoint opted into for the lessons is not what we measure
    return start_server(preset, **settings)


def start_ours(time_scale: float, capacity: int) -> ServerHandle:
    """Our server for the server benchmarks: no rate limits, no faults, `capacity` slots."""
    return start_simulator(PRESET, time_scale=time_scale, capacity=capacity)
