"""Draw spans as a Gantt chart: one row per lane, time across, colour by kind.

The title carries the three numbers a learner compares between runs: wall time, the number of
lanes, and the peak number of spans running at once. The figure is a plain matplotlib figure,
so it is saved in the notebook as a PNG and renders on GitHub and nbviewer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from helpers.drawing.formatting import format_seconds
from helpers.measuring.spans import Span, lane_order, max_overlap
from helpers.measuring.stopwatch import wall_time

COLOURS = {"io": "#4C9BE8", "cpu": "#E8804C", "queued": "#BBBBBB", "generating": "#2E6FB7",
           "start-up": "#8C6BB1", "rate-limited": "#D9534F"}
LABELS = {"io": "waiting on I/O", "cpu": "computing", "queued": "queued", "generating": "generating",
          "start-up": "starting workers", "rate-limited": "rate-limited"}
MAX_LABELLED_ROWS = 40
MAX_EDGED = 50  # bars in one lane, or lanes, up to which each bar gets a white edge


def _rectangle(left: float, right: float, row: int) -> list[tuple[float, float]]:
    """The four corners of one bar, 0.8 of a row high, centred on the row."""
    return [(left, row - 0.4), (right, row - 0.4), (right, row + 0.4), (left, row + 0.4)]


def _draw_bars(ax: Axes, spans: list[Span], origin: float) -> None:
    """One bar per span, in its lane's row, at seconds since `origin`; the rows labelled."""
    lanes = lane_order(spans)
    row = {lane: index for index, lane in enumerate(lanes)}
    # A white edge shows where one bar ends and the next begins; on bars a pixel or two wide or tall
    # (many to a lane, or many lanes) it would hide the bars themselves.
    per_lane = Counter(s.lane for s in spans)
    edge = 0.5 if max(per_lane.values()) <= MAX_EDGED and len(per_lane) <= MAX_EDGED else 0
    for kind in COLOURS:  # one collection of rectangles per kind keeps a 1000-span chart fast
        rectangles = [_rectangle(s.start - origin, s.end - origin, row[s.lane]) for s in spans if s.kind == kind]
        if rectangles:
            ax.add_collection(PolyCollection(rectangles, facecolors=COLOURS[kind], edgecolors="white",
                                             linewidths=edge))
    ax.set_ylim(-0.5, len(lanes) - 0.5)
    if len(lanes) <= MAX_LABELLED_ROWS:
        ax.set_yticks(range(len(lanes)), lanes)
    else:  # a thousand labels would be a black smear, and a thousand ticks take seconds to draw
        ax.set_yticks([])
    ax.invert_yaxis()


def plot_timeline(spans: Iterable[Span], title: str = "", ax=None, seconds: float = 0.0) -> Figure:
    """A Gantt chart of `spans`, time measured from the first start, in seconds.

    The time axis spans at least `seconds`: give it an earlier run's wall time, and two runs drawn
    one after the other can be compared by their lengths, not only by the numbers in their titles.
    """
    spans = list(spans)
    if not spans:
        raise ValueError("no spans to draw: did the experiment record anything?")
    origin = min(s.start for s in spans)
    lanes = lane_order(spans)
    figure = ax.figure if ax is not None else plt.figure(figsize=(9, min(8, 1.2 + 0.35 * len(lanes))))
    ax = ax or figure.add_subplot()
    _draw_bars(ax, spans, origin)
    wall = wall_time(spans)
    # Beside charts already drawn on a shared time axis (two ways compared), keep the longest whole.
    drawn_beside = any(other.collections for other in ax.get_shared_x_axes().get_siblings(ax) if other is not ax)
    ax.set_xlim(0, max(wall or 1e-3, seconds, ax.get_xlim()[1] if drawn_beside else 0.0))
    ax.set_xlabel("seconds since the first span started")
    ax.set_ylabel("lane" if len(lanes) <= MAX_LABELLED_ROWS else f"{len(lanes)} lanes")
    lane_count = f"{len(lanes)} lane{'s' if len(lanes) != 1 else ''}"
    summary = f"wall time {format_seconds(wall)}, {lane_count}, peak {max_overlap((s.start, s.end) for s in spans)} at once"
    ax.set_title(f"{title}\n{summary}" if title else summary)
    used = [kind for kind in COLOURS if any(s.kind == kind for s in spans)]
    ax.legend(handles=[Patch(color=COLOURS[k], label=LABELS[k]) for k in used], loc="upper left", bbox_to_anchor=(1.0, 1.0),
              fontsize="small")  # beside the chart, never over a bar
    ax.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


class Strip(Protocol):
    """Anything that can draw itself as a strip under a timeline: CpuMeter, ServerMonitor, LoopLagMonitor."""

    def plot(self, ax: Axes, origin: float) -> None: ...


def plot_experiment(spans: Iterable[Span], title: str = "", strips: Sequence[Strip] = (), seconds: float = 0.0) -> Figure:
    """The timeline with each strip (a CPU meter, a server monitor) under it, all on the same time axis,
    which spans at least `seconds` (see `plot_timeline`)."""
    spans = list(spans)
    if not strips:
        return plot_timeline(spans, title, seconds=seconds)
    lanes = len({s.lane for s in spans})
    heights = [min(6.0, 1.0 + 0.3 * lanes)] + [1.3] * len(strips)
    figure, axes = plt.subplots(len(heights), 1, figsize=(9, sum(heights) + 0.6), sharex=True,
                                gridspec_kw={"height_ratios": heights})
    plot_timeline(spans, title, ax=axes[0], seconds=seconds)
    origin = min(s.start for s in spans)
    for strip, ax in zip(strips, axes[1:]):
        strip.plot(ax, origin)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_xlabel("")
    axes[-1].set_xlabel("seconds since the first span started")
    figure.tight_layout()
    return figure


def plot_small_multiples(spans: Iterable[Span], windows: Mapping[str, tuple[float, float]], title: str = "",
                         columns: int = 2) -> Figure:
    """One timeline per named window of time, each on its own time axis, its wall time in its title.

    Ways of 5 s and 20 s drawn on one shared axis leave the short one a sliver in a corner. Here
    each window (start, end, in Unix seconds, as `time.time()` gives) fills its own panel, from 0
    to its own wall time, with only the spans that ran inside it and only their lanes: what each
    way does can be seen, and their lengths are compared by the numbers in the titles.
    """
    spans = list(spans)
    rows = -(-len(windows) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 4.2 * rows), squeeze=False)
    for ax, (name, (start, end)) in zip(axes.flat, windows.items()):
        inside = [s for s in spans if s.start >= start and s.end <= end]
        if inside:
            _draw_bars(ax, inside, start)
        ax.set_xlim(0, end - start)
        ax.set_title(f"{name}: wall time {format_seconds(end - start)}", fontsize="medium")
        ax.set_xlabel("seconds since this way started")
        ax.grid(axis="x", alpha=0.3)
    for ax in axes.flat[len(windows):]:
        ax.set_axis_off()
    used = [kind for kind in COLOURS if any(s.kind == kind for s in spans)]
    figure.legend(handles=[Patch(color=COLOURS[k], label=LABELS[k]) for k in used], loc="upper right",
                  ncols=len(used), fontsize="small")
    if title:
        figure.suptitle(title, x=0.02, ha="left")
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    return figure
