"""What the simulated server was doing while an experiment ran: requests in flight, queued,
completed, refused with 429, failed. Read from its stats endpoint a few times a second.

When more requests are in flight than the server has generation slots, the rest queue: the
"queued" line rising is the moment adding concurrency stops helping.
"""

from __future__ import annotations

from typing import Protocol

from matplotlib.axes import Axes

from helpers.measuring.periodic import PeriodicSampler

COUNTS = ("in_flight", "queued", "completed", "rate_limited", "errors")
# The server counts these since it started; the picture counts them since the experiment did.
RUNNING_TOTALS = ("completed", "rate_limited", "errors")
STYLE = {"in_flight": "#4C9BE8", "queued": "#999999", "completed": "#2E8B57", "rate_limited": "#D9534F",
         "errors": "#8B0000"}


class HasStats(Protocol):
    def stats(self) -> dict: ...


class ServerMonitor(PeriodicSampler[dict[str, int]]):
    """Samples `server.stats()` (a ServerHandle) every `interval` seconds."""

    name = "server monitor"

    def __init__(self, server: HasStats, interval: float = 0.2) -> None:
        super().__init__(interval)
        self.server = server

    def sample(self) -> dict[str, int]:
        stats = self.server.stats()
        return {name: stats[name] for name in COUNTS}

    def peak(self, count: str) -> int:
        return max((values[count] for _, values in self.samples), default=0)

    def plot(self, ax: Axes, origin: float) -> None:
        """Counts over time, sharing the timeline's x axis (seconds since `origin`)."""
        times = [moment - origin for moment, _ in self.samples]
        first = self.samples[0][1] if self.samples else {}
        for count in COUNTS:
            before = first[count] if count in RUNNING_TOTALS else 0
            values = [sample[count] - before for _, sample in self.samples]
            if any(values):
                ax.step(times, values, where="post", color=STYLE[count], label=count.replace("_", " "))
        ax.set_ylabel("requests")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")
        ax.set_title(f"server: peak {self.peak('in_flight')} in flight, {self.peak('queued')} queued",
                     fontsize="small", loc="left")
