"""Events per second over time: answers, 429s, requests sent, with a rate limit drawn across.

A rate limit is a number per second (or minute), so the picture that shows whether a run kept to
it counts events in short bins and divides by the bin's length. One row per run, one column per
kind of event: a column shares its rate axis, so a spike of 429s does not flatten the answers
beside it, and every panel shares the time axis (seconds since its run's first event).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

COLOURS = ("#4C9BE8", "#D9534F", "#5CB85C", "#E8804C")


def per_second(moments: Sequence[float], origin: float, end: float, bin_seconds: float) -> tuple[list[float], list[float]]:
    """Bin starts (seconds since `origin`) and the events per second in each bin, up to `end`."""
    bins = max(1, math.ceil((end - origin) / bin_seconds))
    counts = [0] * bins
    for moment in moments:
        counts[min(bins - 1, max(0, int((moment - origin) / bin_seconds)))] += 1
    starts = [index * bin_seconds for index in range(bins + 1)]
    return starts, [count / bin_seconds for count in counts] + [counts[-1] / bin_seconds]  # the last step drawn


def plot_rates(runs: Mapping[str, Mapping[str, Sequence[float]]], *, bin_seconds: float = 0.5,
               limit: float | None = None, limit_label: str = "the limit", title: str = "") -> Figure:
    """One row per run, one column per kind of event (Unix times), each as events per second.

    The limit, if given, is drawn in the first column (answers or requests sent: what it limits).
    Counts go in the panels' titles, not in legends, which would hide the spikes a storm makes.
    """
    kinds = list(next(iter(runs.values())))
    figure, axes = plt.subplots(len(runs), len(kinds), figsize=(max(8.0, 4.2 * len(kinds) + 0.6), 2.3 * len(runs) + 0.6),
                                sharex=True, sharey="col", squeeze=False)
    highest = [limit or 0.0 if column == 0 else 0.0 for column in range(len(kinds))]
    for row, (run, series) in zip(axes, runs.items()):
        moments = [moment for times in series.values() for moment in times]
        origin, end = min(moments), max(moments) + 1e-9
        for column, (ax, kind, colour) in enumerate(zip(row, kinds, COLOURS)):
            starts, rates = per_second(series[kind], origin, end, bin_seconds)
            ax.step(starts, rates, where="post", color=colour)
            highest[column] = max(highest[column], *rates)
            name = f"{run}: {kind}" if len(runs) > 1 else kind
            ax.set_title(f"{name}, {len(series[kind]):,} in all", fontsize="medium")
            ax.grid(alpha=0.3)
        if limit is not None:
            row[0].axhline(limit, color="#333333", linestyle="--", linewidth=1)
            row[0].annotate(limit_label, (1, limit), xycoords=("axes fraction", "data"), xytext=(-4, 3),
                            textcoords="offset points", ha="right", va="bottom", fontsize="small")
        row[0].set_ylabel("per second")
    for column, top in enumerate(highest):  # a rate starts at zero: a cut axis would make small steps look steep
        axes[0, column].set_ylim(0, 1.12 * top or 1)
    for ax in axes[-1]:
        ax.set_xlabel(f"seconds since the first request (bins of {bin_seconds:g} s)")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure
