"""An experiment panel: sliders, a Run button, and the timeline of the last run.

    def experiment(prompts: int, workers: int) -> Recorder:      # yours, in the notebook
        ...
    ExperimentPanel(experiment, prompts=IntSlider(20, 1, 100), workers=IntSlider(4, 1, 32))

Each slider is passed to `experiment` as the keyword argument of the same name. Clicking Run
calls `experiment(**values)` (a coroutine function is fine too) and draws the spans it returns
(a Recorder or a list of spans). While it runs, every control is disabled, so a second click
cannot start a second run on top of the first; they come back when the run ends, even if it
raised.

A notebook cell already runs inside the kernel's event loop, so `asyncio.run(...)` fails there.
A coroutine experiment runs on a fresh event loop in a short-lived thread of its own instead
(`run_to_completion`): the kernel's loop is left alone, and the experiment gets a quiet loop.
"""

from __future__ import annotations

import asyncio
import inspect
import io
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ipywidgets
import matplotlib.pyplot as plt

from helpers.drawing.formatting import format_seconds
from helpers.drawing.timeline import plot_timeline
from helpers.measuring.spans import Span
from helpers.measuring.stopwatch import wall_time


def run_to_completion(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)`; if that is a coroutine, its result once it has finished."""
    result = function(*args, **kwargs)
    if not inspect.iscoroutine(result):
        return result
    with ThreadPoolExecutor(1, thread_name_prefix="own event loop") as thread:
        return thread.submit(asyncio.run, result).result()


class ExperimentPanel(ipywidgets.VBox):
    """Controls on top, a Run button and a status line, the last run's timeline below."""

    def __init__(self, experiment: Callable[..., Iterable[Span]], title: str = "", **controls: ipywidgets.ValueWidget) -> None:
        if not controls:
            raise ValueError("give at least one control, e.g. workers=IntSlider(4, 1, 32)")
        for name, control in controls.items():
            control.description = control.description or name
        self.experiment, self.title, self.controls = experiment, title, controls
        self.button = ipywidgets.Button(description="Run", button_style="primary", icon="play")
        self.status = ipywidgets.Label("Set the sliders, then press Run.")
        self.picture = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="900px"))
        self.runs = 0
        self.button.on_click(lambda _: self.run())
        super().__init__([ipywidgets.HBox(list(controls.values()), layout=ipywidgets.Layout(flex_flow="row wrap")),
                          ipywidgets.HBox([self.button, self.status]), self.picture])

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _enable(self, enabled: bool) -> None:
        for widget in [self.button, *self.controls.values()]:
            widget.disabled = not enabled

    def run(self) -> None:
        """What the Run button does; callable from code too."""
        values = self.values()
        self._enable(False)
        self.status.value = "running…"
        try:
            spans = list(run_to_completion(self.experiment, **values))
            settings = ", ".join(f"{name}={value}" for name, value in values.items())
            figure = plot_timeline(spans, f"{self.title}: {settings}" if self.title else settings)
            picture = io.BytesIO()
            figure.savefig(picture, format="png", dpi=80)
            plt.close(figure)
            self.picture.value = picture.getvalue()
            self.runs += 1
            wall = wall_time(spans)
            self.status.value = f"run {self.runs}: {len(spans)} spans, wall time {format_seconds(wall)}"
        except Exception as error:  # the learner's experiment failed: say how, keep the panel usable
            self.status.value = f"the experiment raised {type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            self._enable(True)
