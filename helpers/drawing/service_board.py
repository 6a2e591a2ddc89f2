"""Watch a service's own /metrics while a load runs, as a dashboard would, then keep the figure.

    with ServiceBoard(service.url + "/metrics", "1,000 users, async handlers") as board:
        run = await closed_loop(service.base_url, users=1000, seconds=20, model="sim-flash")

A production service is watched through its metrics, not through its clients: Prometheus scrapes
/metrics every few seconds and a dashboard draws rates and quantiles of what changed since the
last scrape. This board does the same without a Prometheus server: a background thread scrapes
every `every` seconds and turns each pair of consecutive scrapes into a sample: answers served
and requests shed per second (counters' increase over the seconds between), calls in flight and
requests queued (gauges, as they are), and the p95 latency of the requests that finished in that
window (histogram_quantile over the buckets' increase, Prometheus' rule). While the block runs, a
cheap SVG widget is redrawn (LiveTimeline's pattern: small strings, little CPU taken from the
experiment); when it ends, the static matplotlib figure replaces it. Without a notebook front
end you simply get the figure.
"""

from __future__ import annotations

import html
import math
import threading
import time
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from helpers.drawing.live_timeline import in_ipython_kernel
from helpers.measuring.prometheus_text import Scrape, bucket_increase, histogram_quantile, increase, scrape

REQUESTS, SHED, CACHE_HITS = "llm_service_requests_total", "llm_service_shed_total", "llm_service_cache_hits_total"
IN_FLIGHT, QUEUED = "llm_service_in_flight", "llm_service_queued"
DURATION = "llm_service_request_duration_seconds"
WIDTH, PANEL_HEIGHT = 760, 46


class BoardSample(NamedTuple):
    """What the service's metrics said over one window, ending `t` seconds after the board started."""

    t: float
    served_per_second: float
    in_flight: float  # upstream calls in flight at the scrape
    queued: float  # requests waiting for the gate at the scrape
    p95_seconds: float  # of the requests that finished in this window; NaN if none did
    shed_per_second: float
    cache_hits_per_second: float


def sample(t: float, seconds: float, later: Scrape, earlier: Scrape) -> BoardSample:
    """The window between two scrapes `seconds` apart, as one sample."""
    return BoardSample(t, increase(later, earlier, REQUESTS, status="200") / seconds,
                       later.value(IN_FLIGHT), later.value(QUEUED),
                       histogram_quantile(0.95, bucket_increase(later.buckets(DURATION), earlier.buckets(DURATION))),
                       increase(later, earlier, SHED) / seconds, increase(later, earlier, CACHE_HITS) / seconds)


# The live widget's rows and the figure's panels: (heading, unit, the samples' fields drawn in it)
PANELS = [("answers served", "answers/s", ("served_per_second", "cache_hits_per_second")),
          ("in flight & queued", "requests", ("in_flight", "queued")),
          ("p95 latency (each window)", "s", ("p95_seconds",)),
          ("load shed (503)", "shed/s", ("shed_per_second",))]
LABELS = {"served_per_second": "served", "cache_hits_per_second": "of them from the cache", "in_flight": "in flight",
          "queued": "queued", "p95_seconds": "p95", "shed_per_second": "shed"}
COLOURS = {"served_per_second": "#2E6FB7", "cache_hits_per_second": "#5CB85C", "in_flight": "#E8804C",
           "queued": "#BBBBBB", "p95_seconds": "#8C6BB1", "shed_per_second": "#D9534F"}


def board_svg(samples: list[BoardSample], title: str) -> str:
    """The samples so far as a small SVG: one sparkline row per panel, with its latest value."""
    if not samples:
        return f"<p>{html.escape(title)}: waiting for the second scrape of /metrics…</p>"
    span = max(samples[-1].t, 1e-3)
    rows = []
    for row, (heading, unit, names) in enumerate(PANELS):
        top = 24 + row * PANEL_HEIGHT
        values = [v for s in samples for name in names if not math.isnan(v := getattr(s, name))]
        highest = max(values, default=0) or 1
        latest = getattr(samples[-1], names[0])
        shown = "–" if math.isnan(latest) else f"{latest:.3g} {unit}"
        rows.append(f'<text x="4" y="{top + 14}">{html.escape(heading)}</text>'
                    f'<text x="4" y="{top + 30}" font-weight="bold">{html.escape(shown)}</text>')
        for name in names:
            points = " ".join(f"{170 + s.t / span * (WIDTH - 180):.1f},"
                              f"{top + PANEL_HEIGHT - 6 - getattr(s, name) / highest * (PANEL_HEIGHT - 12):.1f}"
                              for s in samples if not math.isnan(getattr(s, name)))
            rows.append(f'<polyline fill="none" stroke="{COLOURS[name]}" stroke-width="1.5" points="{points}"/>')
    heading = f"{html.escape(title)} · {samples[-1].t:.1f} s · {len(samples)} scrapes"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{30 + len(PANELS) * PANEL_HEIGHT}" '
            f'font-family="sans-serif" font-size="11"><text x="4" y="14" font-weight="bold">{heading}</text>'
            + "".join(rows) + "</svg>")


class ServiceBoard:
    """A context manager: a live view of a service's /metrics during the block, the static figure after it.

    `samples` holds one BoardSample per window of `every` seconds; a scrape that fails (the service
    still starting, or gone) is counted in `missed` and the next window is simply longer.
    """

    def __init__(self, metrics_url: str, title: str, every: float = 0.5) -> None:
        if not 0.1 <= every <= 60:
            raise ValueError(f"every must be from 0.1 to 60 seconds (faster scrapes take CPU the service needs), got {every!r}")
        self.metrics_url, self.title, self.every = metrics_url, title, every
        self.samples: list[BoardSample] = []
        self.missed = 0
        self._last: tuple[float, Scrape] | None = None
        self._start = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._widget: Any = None
        self._display: Any = None

    def _scrape(self) -> None:
        try:
            page = scrape(self.metrics_url, timeout=max(self.every, 1))
        except (OSError, ValueError):
            self.missed += 1
            return
        now = time.monotonic() - self._start
        if self._last is not None and now > self._last[0]:
            self.samples.append(sample(now, now - self._last[0], page, self._last[1]))
        self._last = (now, page)

    def _sample_until_stopped(self) -> None:
        while not self._stop.wait(self.every):
            self._scrape()
            if self._widget is not None:
                self._widget.value = board_svg(self.samples, self.title)

    def __enter__(self) -> ServiceBoard:
        self._start = time.monotonic()
        self._scrape()  # the baseline: the first window starts here
        if in_ipython_kernel():
            import ipywidgets
            from IPython.display import display
            self._widget = ipywidgets.HTML(board_svg([], self.title))
            self._display = display(self._widget, display_id=True)
        self._thread = threading.Thread(target=self._sample_until_stopped, name="service board", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._scrape()  # the last, partial window: what happened since the previous scrape
        if self._display is not None:
            figure = self.figure()
            plt.close(figure)  # shown once, here, not a second time by the inline backend
            self._display.update(figure)
            self._widget.close()

    def figure(self) -> Figure:
        """Four stacked panels over the seconds since the board started: served/s, in flight and queued,
        each window's p95 latency, shed/s."""
        figure, axes = plt.subplots(len(PANELS), 1, sharex=True, figsize=(9, 7.5), layout="constrained")
        times = [s.t for s in self.samples]
        for ax, (heading, unit, names) in zip(axes, PANELS):
            for name in names:
                ax.plot(times, [getattr(s, name) for s in self.samples], color=COLOURS[name], label=LABELS[name],
                        marker="." if name == "p95_seconds" else None)
            ax.set_ylabel(f"{heading}\n({unit})", fontsize=9)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            if len(names) > 1:
                ax.legend(loc="upper right", fontsize=8, frameon=False)
        axes[-1].set_xlabel("seconds since the board started")
        axes[-1].set_xlim(left=0)
        figure.suptitle(f"{self.title} · {len(self.samples)} windows of {self.every:g} s")
        if not self.samples:
            axes[0].text(0.5, 0.5, "no scrape of /metrics succeeded", transform=axes[0].transAxes, ha="center")
        return figure
