"""Watch an experiment's timeline grow while it runs, then keep the finished figure.

    recorder = Recorder()
    with LiveTimeline(recorder, "20 calls on 4 threads", strips=[CpuMeter()]):
        run_the_experiment(recorder)

While the block runs, a background thread redraws the spans (finished ones, and running ones
up to "now") at most `1 / refresh` times a second into an HTML widget. The drawing is a small
SVG string: cheap for the kernel, so the picture does not steal the CPU time it is measuring.
When the block ends, the widget is replaced, in the same output, by the static matplotlib
figure, which is what the saved notebook shows on GitHub. Without a notebook front end (nbval,
a script) you simply get the figure.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from helpers.drawing.formatting import format_seconds
from helpers.drawing.timeline import COLOURS, Strip, plot_experiment
from helpers.measuring.periodic import PeriodicSampler
from helpers.measuring.spans import Recorder, Span, lane_order

WIDTH, ROW, LEFT, MAX_ROWS = 760, 14, 150, 60


def in_ipython_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def timeline_svg(spans: Sequence[Span], now: float, title: str = "") -> str:
    """The timeline as an SVG string: one row per lane (lanes beyond MAX_ROWS share rows)."""
    if not spans:
        return f"<p>{html.escape(title)}: waiting for the first span…</p>"
    origin = min(s.start for s in spans)
    lanes = lane_order(spans)
    rows = min(len(lanes), MAX_ROWS)
    row_of = {lane: index % MAX_ROWS for index, lane in enumerate(lanes)}
    seconds = max(now - origin, 1e-3)
    scale = (WIDTH - LEFT - 10) / seconds
    bars, labels = [], []
    for span in spans:
        end = min(span.end, now)
        x, y = LEFT + (span.start - origin) * scale, 22 + row_of[span.lane] * ROW
        opacity = "0.55" if span.end > now else "1"  # still running: paler
        bars.append(f'<rect x="{x:.1f}" y="{y}" width="{max((end - span.start) * scale, 1):.1f}" '
                    f'height="{ROW - 3}" fill="{COLOURS[span.kind]}" fill-opacity="{opacity}"/>')
    if len(lanes) <= MAX_ROWS:
        labels = [f'<text x="{LEFT - 6}" y="{22 + row * ROW + ROW - 5}" text-anchor="end">'
                  f"{html.escape(lane[:22])}</text>" for lane, row in row_of.items()]
    running = sum(1 for s in spans if s.end > now)
    heading = (f"{html.escape(title)} · {format_seconds(seconds)} · {len(spans) - running} done, "
               f"{running} running")
    height = 30 + rows * ROW
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'font-family="sans-serif" font-size="11"><text x="4" y="14" font-weight="bold">{heading}</text>'
            + "".join(labels) + "".join(bars) + "</svg>")


class LiveTimeline:
    """A context manager: a live view of `recorder` during the block, the static figure after it.

    `strips` are drawn under the timeline in the final figure; the samplers among them (CpuMeter,
    ServerMonitor) are started and stopped with the block. The final figure's time axis spans at
    least `seconds` (an earlier run's wall time, to draw two runs on one scale).
    """

    def __init__(self, recorder: Recorder, title: str = "", strips: Sequence[Strip] = (),
                 refresh: float = 0.1, seconds: float = 0.0) -> None:
        if refresh < 0.1:
            raise ValueError("refresh faster than 10 times a second costs CPU time the experiment needs")
        self.recorder, self.title, self.strips, self.refresh = recorder, title, list(strips), refresh
        self.seconds = seconds
        self.figure: Figure | None = None
        self.updates = 0  # how many times the live view was redrawn: tests and the curious look here
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._widget: Any = None
        self._display: Any = None

    def __enter__(self) -> LiveTimeline:
        for strip in self.strips:
            if isinstance(strip, PeriodicSampler):
                strip.start()
        if in_ipython_kernel():
            import ipywidgets
            from IPython.display import display
            self._widget = ipywidgets.HTML(timeline_svg([], time.time(), self.title))
            self._display = display(self._widget, display_id=True)
        self._thread = threading.Thread(target=self._redraw_until_stopped, name="live timeline", daemon=True)
        self._thread.start()
        return self

    def _spans_so_far(self) -> list[Span]:
        return list(self.recorder) + self.recorder.running()

    def _redraw_until_stopped(self) -> None:
        while not self._stop.wait(self.refresh):
            svg = timeline_svg(self._spans_so_far(), time.time(), self.title)
            if self._widget is not None:
                self._widget.value = svg
            self.updates += 1

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        for strip in self.strips:
            if isinstance(strip, PeriodicSampler):
                strip.stop()
        spans = list(self.recorder)
        if not spans:
            if self._widget is not None:
                self._widget.value = f"<p>{html.escape(self.title)}: nothing was recorded.</p>"
            return
        self.figure = plot_experiment(spans, self.title, self.strips, self.seconds)
        plt.close(self.figure)  # shown once, below, not a second time by the inline backend
        if self._display is not None:
            self._display.update(self.figure)
            self._widget.close()
