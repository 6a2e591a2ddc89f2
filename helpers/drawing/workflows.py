"""Lesson 07's two pictures: a workflow's wall time against its gate, and latency tails compared.

* `plot_gate_sweep`: the wall time of one workflow graph run with 1, 2, 3… steps allowed at
  once, between two lines: one step at a time above (every duration added up), the critical
  path below (no schedule can beat it). The curve falls from the first to the second, then
  stays flat: past the graph's own width, a wider gate buys nothing.
* `plot_latency_tails`: for each way of calling, the share of calls answered within each
  latency (a CDF), with p50, p95 and p99 marked. An average would hide the tail that p99 shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from helpers.drawing.formatting import format_seconds
from helpers.measuring.percentiles import percentiles

COLOURS = ("#4C72B0", "#E8804C", "#5CB85C", "#8C6BB1", "#D9534F")
MARKERS = {50: "o", 95: "s", 99: "^"}  # one shape per percentile, the same in every way


def plot_gate_sweep(widths: Sequence[int], seconds: Sequence[float], critical: float, one_by_one: float,
                    title: str) -> Figure:
    """Wall time against the number of steps allowed at once, between the one-by-one and critical-path lines."""
    figure, ax = plt.subplots(figsize=(8.5, 3.8))
    ax.plot(widths, seconds, "o-", color=COLOURS[0], label="measured wall time")
    ax.axhline(one_by_one, color="#555555", linestyle=":", linewidth=1.2,
               label=f"one step at a time: {format_seconds(one_by_one)}")
    ax.axhline(critical, color="#D9534F", linestyle="--", linewidth=1.2,
               label=f"critical path: {format_seconds(critical)} (the bound)")
    ax.set_xticks(list(widths), [str(width) for width in widths])
    ax.set_ylim(0, 1.12 * max(one_by_one, *seconds))  # from zero: the drop is seen at its true size
    ax.set(xlabel="steps allowed at once (the gate)", ylabel="wall time (s)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small")  # beside the plot, over no point
    figure.tight_layout()
    return figure


def plot_latency_tails(latencies: Mapping[str, Sequence[float]], title: str) -> Figure:
    """Per way, the share of calls answered within each latency, with p50, p95 and p99 marked."""
    if len(latencies) > len(COLOURS):  # one colour a way: a sixth would be left out without a word
        raise ValueError(f"at most {len(COLOURS)} ways in one picture, got {len(latencies)}")
    figure, ax = plt.subplots(figsize=(8.5, 4.2))
    for number, ((way, samples), colour) in enumerate(zip(latencies.items(), COLOURS)):
        ordered = sorted(samples)
        shares = [100 * (index + 1) / len(ordered) for index in range(len(ordered))]
        marks = percentiles(ordered, MARKERS)
        summary = ", ".join(f"p{point} {format_seconds(value)}" for point, value in marks.items())
        ax.step([0.0, *ordered], [0.0, *shares], where="post", color=colour, label=f"{way}: {summary}")
        for point, value in marks.items():
            ax.plot(value, point, MARKERS[point], color=colour, markerfacecolor="none", markersize=max(5, 12 - 3 * number),
                    markeredgewidth=1.8)  # hollow, smaller for each way: marks at the same place nest, all seen
    for point, marker in MARKERS.items():  # the shapes explained once, in grey
        ax.plot([], [], marker, color="#777777", markerfacecolor="none", markeredgewidth=1.8, linestyle="none",
                label=f"p{point}: {point} % of calls answered by then")
    ax.set_ylim(0, 102)
    ax.set_xlim(left=0)
    ax.set(xlabel="latency (s)", ylabel="calls answered (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize="small")  # a CDF leaves that corner empty: late and few is no curve's shape
    figure.tight_layout()
    return figure
