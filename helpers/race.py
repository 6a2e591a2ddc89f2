"""Race several strategies on the same work, one after another, and compare their wall times.

    def with_threads(done):                      # gets `done`: call it once per finished item
        with ThreadPoolExecutor(8) as pool:
            for _ in pool.map(ask, prompts):
                done()

    race([Strategy("sequential", one_by_one), Strategy("8 threads", with_threads, ideal=8)], items=20)

A strategy may be a coroutine function (`async def`); it then runs on an event loop of its own.
Each strategy gets a progress bar while the race runs; at the end a bar chart shows every wall
time, the speed-up against the first strategy, and the efficiency: the speed-up as a share of
the ideal one this machine allows (`ideal`, e.g. the number of workers for I/O, the usable CPUs
for CPU-bound work). Strategies run one at a time, so they never compete for the CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from helpers.blocking import call_to_completion
from helpers.durations import format_ratio, format_seconds
from helpers.live import in_ipython_kernel


class Strategy(NamedTuple):
    name: str
    run: Callable[[Callable[[], None]], Any]  # run(done): does all the items, calling done() after each
    ideal: float = 1.0  # the best speed-up over the first strategy this machine allows


class RaceResult(NamedTuple):
    name: str
    seconds: float
    speedup: float  # first strategy's time / this one's
    efficiency: float  # speedup / ideal: 1.0 means as good as this machine allows


class ProgressCounter:
    """`done()` from any thread; `count` read by the progress bar's refresher."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self.count += 1


class ProgressBars:
    """One bar per strategy, refreshed from a counter at most 10 times a second."""

    def __init__(self, names: Sequence[str], items: int) -> None:
        import ipywidgets
        from IPython.display import display
        self.bars = {name: ipywidgets.IntProgress(value=0, min=0, max=items, description=name,
                                                  style={"description_width": "120px"}) for name in names}
        self.times = {name: ipywidgets.Label("waiting") for name in names}
        self.box = ipywidgets.VBox([ipywidgets.HBox([self.bars[name], self.times[name]]) for name in names])
        self.handle = display(self.box, display_id=True)

    def follow(self, name: str, counter: ProgressCounter, started: float, stop: threading.Event) -> None:
        while not stop.wait(0.1):
            self.bars[name].value = counter.count
            self.times[name].value = format_seconds(time.perf_counter() - started)

    def finish(self, name: str, counter: ProgressCounter, seconds: float) -> None:
        self.bars[name].value = counter.count
        self.times[name].value = format_seconds(seconds)

    def replace_with(self, figure: Figure) -> None:
        """Put the chart where the bars were, and free the widgets."""
        self.handle.update(figure)
        for row in self.box.children:
            for widget in row.children:
                widget.close()
            row.close()
        self.box.close()


def run_one(strategy: Strategy, bars: ProgressBars | None) -> float:
    counter, stop = ProgressCounter(), threading.Event()
    started = time.perf_counter()
    follower = None
    if bars is not None:
        follower = threading.Thread(target=bars.follow, args=(strategy.name, counter, started, stop), daemon=True)
        follower.start()
    try:
        call_to_completion(strategy.run, counter)
    finally:
        seconds = time.perf_counter() - started
        stop.set()
        if follower is not None:
            follower.join()
            bars.finish(strategy.name, counter, seconds)
    return seconds


def plot_race(results: Sequence[RaceResult], title: str = "") -> Figure:
    figure, ax = plt.subplots(figsize=(8, 0.6 + 0.55 * len(results)))
    names = [r.name for r in results]
    ax.barh(names, [r.seconds for r in results], color="#4C9BE8")
    for index, result in enumerate(results):
        note = f" {format_seconds(result.seconds)}"
        if index:
            note += f", {format_ratio(result.speedup)} faster, {result.efficiency:.0%} of ideal"
        ax.text(result.seconds, index, note, va="center", fontsize="small")
    ax.invert_yaxis()
    ax.set_xlim(0, max(r.seconds for r in results) * 1.6)  # room for the notes
    ax.set_xlabel("wall time (seconds)")
    ax.set_title(title or "wall time per strategy (shorter is better)")
    figure.tight_layout()
    return figure


def race(strategies: Sequence[Strategy], items: int, title: str = "") -> list[RaceResult]:
    """Run each strategy once, in order; show progress, then the bar chart; return the results."""
    if not strategies:
        raise ValueError("race needs at least one strategy")
    if items < 1:
        raise ValueError(f"items must be at least 1, got {items}")
    bars = ProgressBars([s.name for s in strategies], items) if in_ipython_kernel() else None
    times = [run_one(strategy, bars) for strategy in strategies]
    results = [RaceResult(s.name, t, times[0] / t, times[0] / t / s.ideal) for s, t in zip(strategies, times)]
    figure = plot_race(results, title)
    plt.close(figure)
    if bars is not None:
        bars.replace_with(figure)
    return results
