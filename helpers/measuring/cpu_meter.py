"""How busy each CPU this process may use was, while an experiment ran.

Threads running Python code take turns on the GIL, so together they keep about one core busy;
processes each have their own GIL and can keep every core busy. The meter makes that visible:
one row per core, darker when busier (the scale beside it reads in % busy), under the timeline.
"""

from __future__ import annotations

import psutil
from matplotlib.axes import Axes

from helpers.claims.machine import usable_cores
from helpers.measuring.periodic import PeriodicSampler


class CpuMeter(PeriodicSampler[list[float]]):
    """Samples the utilisation (0–100 %) of each usable core every `interval` seconds."""

    name = "cpu meter"

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(interval)
        self.cores = usable_cores()
        psutil.cpu_percent(percpu=True)  # the first call only sets the reference point

    def sample(self) -> list[float]:
        per_core = psutil.cpu_percent(percpu=True)  # since the previous call
        return [per_core[core] for core in self.cores if core < len(per_core)]

    def busy_cores(self) -> float:
        """The average number of cores kept busy over the run: 1.0 means one core's worth."""
        if not self.samples:
            return 0.0
        return sum(sum(values) for _, values in self.samples) / 100 / len(self.samples)

    def plot(self, ax: Axes, origin: float) -> None:
        """A heat strip per core under the timeline, sharing its x axis (seconds since `origin`)."""
        if len(self.samples) < 2:
            ax.set_axis_off()
            return
        edges = [self.samples[0][0] - self.interval] + [moment for moment, _ in self.samples]  # a sample covers
        grid = list(zip(*(values for _, values in self.samples)))  # the interval before it; one row per core
        mesh = ax.pcolormesh([edge - origin for edge in edges], range(len(grid) + 1), grid,
                             cmap="Oranges", vmin=0, vmax=100, shading="flat")
        # The scale goes in the margin on the right (where the timeline above has its legend), so
        # this strip keeps the timeline's width and its seconds stay under the timeline's seconds.
        scale = ax.figure.colorbar(mesh, cax=ax.inset_axes((1.01, 0.0, 0.015, 1.0)), ticks=(0, 50, 100))
        scale.set_label("% busy", fontsize="small")
        scale.ax.tick_params(labelsize="small")
        ax.set_yticks([index + 0.5 for index in range(len(grid))], [f"core {core}" for core in self.cores])
        ax.invert_yaxis()
        ax.set_title(f"CPU use: {self.busy_cores():.1f} of {len(self.cores)} cores busy on average",
                     fontsize="small", loc="left")
