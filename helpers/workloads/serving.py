"""Serving many users under a rate limit: what sequential, concurrent and hybrid serving give.

Each user sends one prompt, and its answer is analysed (CPU work). Three ways to serve N users:

* **sequential**: one user after another, call then analysis;
* **concurrent**: the calls in flight together, each answer analysed on the event loop as it
  arrives, so the analyses run one at a time;
* **hybrid**: the same calls, the analyses on a process pool, one per CPU.

The concurrent calls pass through a gate, an `asyncio.Semaphore` sized by Little's law so
that they stay under the rate limit: in flight = requests per second × seconds per call.

What bounds each way, per user served, in sustained traffic: sequential takes a whole call plus
an analysis; the others take the longest of the seconds per call divided by the gate's size
(which keeps them under the rate limit's 60 s / requests-per-minute), the analysis (on the loop)
and the analysis divided by the CPUs (hybrid). The speed-up over sequential is the ratio. (A
fresh rate-limit bucket also lets one minute's allowance through in a burst: a one-off batch
smaller than that is not held back at all. Thousands of users are not a one-off batch.)
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import NamedTuple

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from helpers.drawing.formatting import format_ratio
from helpers.workloads.hybrid import Analyse, Ask, analyse_as_they_arrive

WAYS = ("sequential", "concurrent", "hybrid")


def gate_size(requests_per_minute: int, seconds_per_call: float) -> int:
    """Calls in flight that stay under a rate limit (Little's law: in flight = rate × time per call).

    Rounded down, so the calls stay under the limit, and at least one, or nothing would run.
    """
    return max(1, math.floor(requests_per_minute / 60 * seconds_per_call))


def gated(ask: Ask, calls_at_once: int) -> Ask:
    """`ask`, with never more than `calls_at_once` calls in flight (one gate shared by every call)."""
    gate = asyncio.Semaphore(calls_at_once)

    async def ask_when_let_in(prompt: str) -> str:
        async with gate:
            return await ask(prompt)

    return ask_when_let_in


async def serve(way: str, prompts: Sequence[str], ask: Ask, analyse: Analyse, pool: Executor, calls_at_once: int) -> list:
    """Serve one prompt per user in one of the three WAYS; the analyses, in the prompts' order."""
    if way == "sequential":
        return [analyse(await ask(prompt)) for prompt in prompts]
    if way not in WAYS:
        raise ValueError(f"way must be one of {WAYS}, got {way!r}")
    return await analyse_as_they_arrive(prompts, gated(ask, calls_at_once), analyse,
                                        pool if way == "hybrid" else None)


class Served(NamedTuple):
    """How long one way took to serve some users under one rate limit."""

    tier: str
    users: int
    way: str
    seconds: float


async def time_serving(tier: str, way: str, prompts: Sequence[str], ask: Ask, analyse: Analyse, pool: Executor,
                       calls_at_once: int) -> Served:
    """Serve the prompts one way (see `serve`) and note how long it took, for the plot."""
    started = time.perf_counter()
    await serve(way, prompts, ask, analyse, pool, calls_at_once)
    return Served(tier, len(prompts), way, time.perf_counter() - started)


def speedups(runs: Sequence[Served], tier: str, way: str) -> dict[int, float]:
    """Users → how many times faster `way` served them under `tier` than sequential did.

    Sequential serving is measured once, for every tier: one user at a time never nears a limit.
    """
    sequential = {run.users: run.seconds for run in runs if run.way == "sequential"}
    return {run.users: sequential[run.users] / run.seconds for run in runs
            if run.tier == tier and run.way == way and run.users in sequential}


def plot_speedups(runs: Sequence[Served], tiers: Sequence[str], claimed: tuple[float, float] = (5, 10),
                  title: str = "") -> Figure:
    """Speed-up over sequential against the number of users, one panel per rate-limit tier."""
    figure, axes = plt.subplots(1, len(tiers), figsize=(4.2 * len(tiers), 3.4), sharey=True, squeeze=False)
    colours = {"concurrent": "#4C72B0", "hybrid": "#E8804C"}
    for ax, tier in zip(axes[0], tiers):
        ax.axhspan(*claimed, color="#dddddd", label=f"the article: {claimed[0]:g}-{claimed[1]:g}×")
        for way, colour in colours.items():
            points = speedups(runs, tier, way)
            if not points:  # this way was not run under this tier
                continue
            users = sorted(points)
            ax.plot(users, [points[n] for n in users], "o-", color=colour, label=way)
            ax.annotate(format_ratio(points[users[-1]]), (users[-1], points[users[-1]]), textcoords="offset points",
                        xytext=(4, 4), fontsize="small", color=colour)
        ax.axhline(1, color="#555555", linestyle="--", linewidth=1, label="sequential (1×)")
        ax.set(title=tier, xlabel="users, one request each", xscale="log")
        ax.margins(x=0.15, y=0.12)  # room for the last point's label inside the frame
        users = sorted({run.users for run in runs})
        ax.set_xticks(users, [str(n) for n in users])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("speed-up over sequential (×)")
    axes[0][0].legend(loc="upper left", fontsize="small")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure

