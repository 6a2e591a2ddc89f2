"""A provider's rate limits on the simulator, stated per real minute as a provider states them.

A provider publishes limits per minute (requests per minute, RPM, and tokens per minute, TPM)
but enforces them over shorter spans: it does not let a minute's allowance through in one burst.
So the simulator's buckets here hold BURST_SECONDS of allowance (its `burst_seconds` setting),
not a minute's, and refill at the limit per minute.

The server runs at the mode's time scale (`start_server`'s default: real time for a learner,
faster under test). Its limits and durations count in *simulated* minutes and seconds, each
time_scale real ones long, so when time_scale is not 1 the limits are converted: R per real
minute is R × time_scale per simulated minute, and the burst and the Batch API's window,
given here in real seconds, are divided by time_scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from helpers.llm_server import start_server
from helpers.llm_server.launcher import default_time_scale

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

BURST_SECONDS = 1.2  # a bucket holds 1.2 real seconds of allowance: more than the batch runner's own 1 s


class Limits(NamedTuple):
    """Requests and tokens per real minute, per API key (None: no limit)."""

    rpm: int | None
    tpm: int | None = None

    def server_settings(self, time_scale: float) -> dict[str, Any]:
        """The simulator's settings that enforce these limits in real minutes, at `time_scale`."""
        return {"rpm": simulated(self.rpm, "rpm", time_scale), "tpm": simulated(self.tpm, "tpm", time_scale),
                "burst_seconds": BURST_SECONDS / time_scale}


def simulated(per_real_minute: int | None, name: str, time_scale: float) -> int | None:
    """The simulator's limit (per simulated minute) that allows `per_real_minute` per real minute."""
    if per_real_minute is None or time_scale == 1:
        return per_real_minute
    per_simulated_minute = per_real_minute * time_scale
    if per_simulated_minute < 1 or abs(per_simulated_minute - round(per_simulated_minute)) > 1e-9:
        raise ValueError(f"{name}={per_real_minute} at time_scale {time_scale}: the simulator's limit would be "
                         f"{per_simulated_minute:g}, not a whole number; choose a limit that makes it one")
    return round(per_simulated_minute)


def start_limited_server(preset: str, limits: Limits, *, batch_seconds: float = 20.0, **settings: Any) -> ServerHandle:
    """A simulator at the mode's time scale that enforces `limits` per real minute and completes a
    Batch API batch in `batch_seconds` real seconds; other settings as `start_server` takes them."""
    time_scale = default_time_scale()
    return start_server(preset, time_scale=time_scale, **limits.server_settings(time_scale),
                        batch_seconds=batch_seconds / time_scale, **settings)


def set_limits(server: ServerHandle, limits: Limits) -> None:
    """Change a running simulator's limits (its buckets start full again)."""
    server.configure(**limits.server_settings(server.settings()["time_scale"]))
