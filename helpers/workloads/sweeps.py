"""How many workers? Run the same batch with more and more of them and plot what changes.

Wall time falls while every worker has a server slot to use; past the server's capacity (or its
rate limit) the extra workers only wait in its queue, so the curve flattens. Little's law names
the flat part: requests in flight = throughput × latency. With the throughput capped, more
requests in flight can only mean a longer latency for each of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean
from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from helpers.drawing.formatting import format_seconds
from helpers.measuring.spans import Span


class SweepPoint(NamedTuple):
    """One run of the batch: how many workers, how long it took, and the latency of each call."""

    workers: int
    seconds: float
    latencies: tuple[float, ...]

    @property
    def throughput(self) -> float:
        """Calls finished per second."""
        return len(self.latencies) / self.seconds

    @property
    def mean_latency(self) -> float:
        return mean(self.latencies)

    @property
    def in_flight(self) -> float:
        """Little's law: the average number of calls in flight = throughput × latency."""
        return self.throughput * self.mean_latency


def sweep_point(workers: int, spans: Sequence[Span]) -> SweepPoint:
    """A sweep point from the spans of one run (one span per call)."""
    if not spans:
        raise ValueError("a run with no spans has no wall time: did the calls get recorded?")
    wall = max(span.end for span in spans) - min(span.start for span in spans)
    return SweepPoint(workers, wall, tuple(span.end - span.start for span in spans))


def littles_law_table(points: Sequence[SweepPoint]) -> str:
    """One line per run: the three numbers of Little's law, side by side with the workers."""
    lines = [f"{'workers':>7}  {'wall time':>9}  {'throughput':>12}  {'latency':>9}  {'in flight':>9}"]
    for point in points:
        lines.append(f"{point.workers:>7}  {format_seconds(point.seconds):>9}  {point.throughput:>8.1f}/s  "
                     f"  {format_seconds(point.mean_latency):>9}  {point.in_flight:>9.1f}")
    return "\n".join(lines)


def plot_sweep(points: Sequence[SweepPoint], title: str = "", capacity: int | None = None) -> Figure:
    """Wall time and throughput against workers; with `capacity`, the throughput the server allows.

    That ceiling is capacity ÷ the latency of one call with no queue (the 1-worker run's mean).
    """
    workers = [point.workers for point in points]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
    left.plot(workers, [point.seconds for point in points], "o-", color="#4C9BE8")
    left.set(xlabel="workers", ylabel="wall time (s)", title="Wall time", ylim=(0, None))
    right.plot(workers, [point.throughput for point in points], "o-", color="#2E8B57", label="measured")
    if capacity is not None:
        alone = min(points, key=lambda point: point.workers).mean_latency
        right.axhline(capacity / alone, color="#999999", linestyle="--",
                      label=f"ceiling: {capacity} slots ÷ {format_seconds(alone)}")
        right.legend(loc="lower right", fontsize="small")
    right.set(xlabel="workers", ylabel="calls per second", title="Throughput", ylim=(0, None))
    for ax in (left, right):
        ax.set_xscale("log", base=2)
        ax.set_xticks(workers, [str(w) for w in workers])
        ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
