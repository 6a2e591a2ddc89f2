"""A provider's rate limits on the simulator, stated per real minute as a provider states them.

A provider publishes limits per minute (requests per minute, RPM, and tokens per minute, TPM)
but enforces them over shorter periods: it does not let a minute's allowance through in one
burst. The simulator's limiter is a token bucket that holds one of *its* minutes of allowance.
So a lesson runs the simulator's clock fast: with `time_scale` = BURST_SECONDS / 60, a simulated
minute lasts BURST_SECONDS real seconds, and a bucket of `rpm × time_scale` requests refills at
`rpm` per real minute. The limits hold in real time, and a bucket holds BURST_SECONDS of them.

The same clock shortens every latency by that factor: answers come in milliseconds. Lesson 06 is
about the limits, not the latency, and fast answers let it make thousands of calls in seconds.
It also shortens the Batch API's completion window, so `start_limited_server` takes that window
in real seconds too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from helpers.llm_server import start_server

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

BURST_SECONDS = 1.2  # a bucket holds 1.2 s of allowance: more than the batch runner's own 1 s
TIME_SCALE = BURST_SECONDS / 60  # real seconds per simulated second


class Limits(NamedTuple):
    """Requests and tokens per real minute, per API key (None: no limit)."""

    rpm: int | None
    tpm: int | None = None

    def server_settings(self) -> dict[str, Any]:
        """The simulator's settings that enforce these limits in real minutes."""
        return {"time_scale": TIME_SCALE, "rpm": simulated(self.rpm, "rpm"), "tpm": simulated(self.tpm, "tpm")}


def simulated(per_real_minute: int | None, name: str) -> int | None:
    """The simulator's limit (per simulated minute) that allows `per_real_minute` per real minute."""
    if per_real_minute is None:
        return None
    per_simulated_minute = per_real_minute * TIME_SCALE
    if per_simulated_minute < 1 or abs(per_simulated_minute - round(per_simulated_minute)) > 1e-9:
        step = round(1 / TIME_SCALE)
        raise ValueError(f"{name}={per_real_minute}: use a multiple of {step}, so the simulator's bucket holds "
                         f"a whole number of units")
    return round(per_simulated_minute)


def start_limited_server(preset: str, limits: Limits, *, batch_seconds: float = 20.0, **settings: Any) -> ServerHandle:
    """A simulator that enforces `limits` per real minute and completes a Batch API batch in
    `batch_seconds` real seconds; other settings as `start_server` takes them."""
    return start_server(preset, **limits.server_settings(), batch_seconds=batch_seconds / TIME_SCALE, **settings)


def set_limits(server: ServerHandle, limits: Limits) -> None:
    """Change a running simulator's limits (its buckets start full again)."""
    server.configure(**limits.server_settings())
