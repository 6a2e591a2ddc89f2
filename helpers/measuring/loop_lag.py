"""How late does the event loop wake up? A cheap watchdog for code that blocks the loop.

An asyncio program is fast only while every coroutine gives control back quickly. A coroutine
that calls `time.sleep(1)` or crunches numbers for a second stops *every* other task for that
second. The monitor asks to be woken every `interval` seconds and records how much later than
asked it actually ran: a few milliseconds normally, the length of the block when something
blocks the loop.

    async with LoopLagMonitor() as lag:
        await experiment()
    lag.worst()      # seconds
"""

from __future__ import annotations

import asyncio
import time

from matplotlib.axes import Axes

from helpers.drawing.formatting import format_seconds


class LoopLagMonitor:
    """An asyncio task measuring the loop's lateness every `interval` seconds."""

    def __init__(self, interval: float = 0.05) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.interval = interval
        self.samples: list[tuple[float, float]] = []  # (unix time woken, seconds late)
        self._task: asyncio.Task | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time()
            await asyncio.sleep(self.interval)
            self.samples.append((time.time(), max(0.0, loop.time() - asked - self.interval)))

    def start(self) -> None:
        """Start watching the running loop (call from inside a coroutine)."""
        if self._task is not None:
            raise RuntimeError("this monitor is already running")
        self.samples.clear()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="loop lag monitor")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass
        self._task = None

    async def __aenter__(self) -> LoopLagMonitor:
        self.start()
        await asyncio.sleep(0)  # let the watcher take its first reading before the experiment starts
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def worst(self) -> float:
        return max((late for _, late in self.samples), default=0.0)

    def plot(self, ax: Axes, origin: float) -> None:
        """Each wake-up as a spike as tall as it was late, in milliseconds, sharing the timeline's x axis.

        A spike, not a line from one reading to the next: a line would slope over the block and
        hide when the loop was stuck; a spike stands where the loop woke, as tall as it waited.
        """
        moments = [moment - origin for moment, _ in self.samples]
        lateness = [late * 1000 for _, late in self.samples]
        ax.vlines(moments, 0, lateness, color="#8E44AD", linewidth=1.5)
        ax.plot(moments, lateness, color="#8E44AD", marker=".", linestyle="none")
        ax.set_ylim(bottom=0)
        ax.set_ylabel("woke late by (ms)")
        ax.set_title(f"event loop, asked to wake every {format_seconds(self.interval)}: "
                     f"worst wake-up {format_seconds(self.worst())} late", fontsize="small", loc="left")
