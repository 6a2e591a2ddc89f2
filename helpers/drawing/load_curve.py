"""Lesson 08's load curve: what a service gives as more and more users wait on it.

Two panels over the number of closed-loop users (a log scale: 10 and 1,000 on one page):

* **throughput**, answers served per second while the load held (`LoadRun.sustained`: without the
  first `settle` seconds, when no answer can be back yet, nor the drain after), under a dashed line at the upstream bound (the
  provider's rate limit) and, if given, a dotted one at the gate's (its calls in flight ÷ the
  seconds each took): it rises with the users, then bends flat at the lower of the two;
* **latency**, the served requests' p50, p95 and p99, with Little's law's prediction: one call's
  time while every user's call can run at once, and once throughput is stuck at the bound, N
  users in flight waiting N ÷ bound seconds each. The measured curves climb along that line:
  past the bend, the extra users only queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from helpers.loadgen.outcomes import POINTS, LoadRun

COLOURS = {50: "#4C72B0", 95: "#E8804C", 99: "#D9534F"}
BOUND_COLOUR = "#555555"


def plot_load_curve(runs: Sequence[LoadRun], bound: float, seconds_per_call: float, title: str,
                    gate_bound: float | None = None, settle: float = 0.0) -> Figure:
    """Throughput and p50/p95/p99 latency against closed-loop users; the bound (answers/s) and the gate's
    (`gate_bound`, if any) on the first, Little's law's latency, the larger of one call and users ÷ the
    lower bound, on the second."""
    if not runs or any(run.kind != "closed" for run in runs):
        raise ValueError("plot_load_curve draws closed-loop runs (users on the x axis); got "
                         f"{[run.kind for run in runs] or 'none'}")
    runs = sorted(runs, key=lambda run: run.offered)
    users = [run.offered for run in runs]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    rates = [run.sustained(settle) for run in runs]
    left.plot(users, rates, "o-", color="#2E6FB7", label="measured, while the load held")
    left.axhline(bound, color=BOUND_COLOUR, linestyle="--", linewidth=1.2, label=f"upstream bound: {bound:g} answers/s")
    if gate_bound is not None:
        left.axhline(gate_bound, color=BOUND_COLOUR, linestyle=":", linewidth=1.5,
                     label=f"the gate's bound: {gate_bound:.0f} answers/s")
    left.set(xlabel="users, each waiting for its answer", ylabel="answers served per second", title="Throughput")
    left.set_ylim(0, 1.15 * max(bound, *rates))
    left.legend(loc="lower right", fontsize="small")
    for point in POINTS:
        right.plot(users, [run.latency()[point] for run in runs], "o-", color=COLOURS[point], label=f"p{point}")
    ceiling = bound if gate_bound is None else min(bound, gate_bound)
    predicted = [max(seconds_per_call, count / ceiling) for count in users]
    right.plot(users, predicted, linestyle="--", color=BOUND_COLOUR, linewidth=1.2,
               label=f"Little's law: one call, or users ÷ {ceiling:.0f}/s")
    right.set(xlabel="users, each waiting for its answer", ylabel="latency of served requests (s)", title="Latency")
    right.set_ylim(0, 1.1 * max(*(run.latency()[99] for run in runs), *predicted))
    right.legend(loc="upper left", fontsize="small")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(users, [f"{count:,g}" for count in users])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    figure.suptitle(title)
    figure.tight_layout()
    return figure
