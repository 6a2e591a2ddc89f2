"""Watch how many items wait in a queue, over time, and draw it.

    backlog = Backlog()
    await queued_pipeline(..., on_change=backlog)     # called with the queue's size at each change
    backlog.peak, backlog.points                       # the most that waited; (seconds, waiting) pairs

A queue whose backlog keeps growing holds more and more answers in memory: the producers are
faster than the consumers, and nothing tells them to slow down.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


class Backlog:
    """A callable that notes (seconds since it was made, items waiting) each time it is called."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.points: list[tuple[float, int]] = [(0.0, 0)]

    def __call__(self, waiting: int) -> None:
        self.points.append((time.perf_counter() - self.started, waiting))

    @property
    def peak(self) -> int:
        """The most items that waited at once."""
        return max(waiting for _, waiting in self.points)


def plot_backlogs(backlogs: Mapping[str, Backlog], title: str = "") -> Figure:
    """One step line per queue: items waiting against seconds since the run started."""
    figure, ax = plt.subplots(figsize=(8.5, 3))
    for name, backlog in backlogs.items():
        seconds, waiting = zip(*backlog.points)
        ax.step(seconds, waiting, where="post", label=f"{name}: at most {backlog.peak} waiting")
    ax.set(xlabel="seconds since the run started", ylabel="answers waiting", title=title)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # answers come whole
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")  # beside the axes, never over a line
    ax.grid(alpha=0.3)
    figure.tight_layout()
    return figure
