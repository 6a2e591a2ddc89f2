"""The live instruments, driven from the kernel side: no browser, no front end."""

import asyncio
import threading
import time
from unittest import mock

import ipywidgets
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest

import helpers.drawing.live_timeline
from helpers.drawing.experiment_panel import ExperimentPanel
from helpers.drawing.live_timeline import LiveTimeline, timeline_svg
from helpers.drawing.timeline import plot_experiment
from helpers.measuring.cpu_meter import CpuMeter
from helpers.measuring.loop_lag import LoopLagMonitor
from helpers.measuring.server_monitor import ServerMonitor
from helpers.measuring.spans import Recorder, Span


def test_the_loop_lag_monitor_sees_a_200_ms_block_when_it_happens() -> None:
    async def experiment() -> tuple[LoopLagMonitor, float]:
        async with LoopLagMonitor(interval=0.02) as lag:
            await asyncio.sleep(0.1)
            blocked = time.time()
            time.sleep(0.2)  # blocks the loop: every task waits, the monitor too
            unblocked = time.time()
            await asyncio.sleep(0.1)
        return lag, blocked, unblocked

    lag, blocked, unblocked = asyncio.run(experiment())
    # A loaded machine stalls too, so do not bound how late the monitor woke: look for the sample
    # that was due during the block (due = woke - late) and could only wake after it.
    assert any(late >= 0.15 and woke >= unblocked and woke - late <= blocked + 0.1
               for woke, late in lag.samples), (blocked, unblocked, lag.samples)
    assert lag.worst() >= 0.15 and lag._task is None


def test_the_cpu_meter_samples_every_usable_core_and_stops_its_thread() -> None:
    with CpuMeter(interval=0.05) as meter:
        give_up = time.perf_counter() + 30  # keep a core busy until 3 samples: a paused machine takes longer
        while len(meter.samples) < 3 and time.perf_counter() < give_up:
            pass
    assert len(meter.samples) >= 3 and all(len(values) == len(meter.cores) for _, values in meter.samples)
    assert 0.0 < meter.busy_cores() <= len(meter.cores)
    assert not [t for t in threading.enumerate() if t.name == "cpu meter"]


def test_cpu_meter_arithmetic_on_made_up_samples() -> None:
    meter = CpuMeter()
    meter.cores = [0, 1]
    meter.samples = [(0.0, [100.0, 0.0]), (0.1, [100.0, 100.0])]
    assert meter.busy_cores() == pytest.approx(1.5)


class FakeServer:
    """Four requests in flight, then one more queued at every read: the monitor's samples are counted, not timed."""

    def __init__(self) -> None:
        self.calls = 0
        self.read_six_times = threading.Event()

    def stats(self) -> dict:
        self.calls += 1
        if self.calls >= 6:
            self.read_six_times.set()
        return {"in_flight": min(self.calls, 4), "queued": max(0, self.calls - 4), "completed": self.calls,
                "rate_limited": 0, "errors": 0, "per_key": {}}


def test_the_server_monitor_follows_the_stats_and_draws_under_the_timeline() -> None:
    server = FakeServer()
    with ServerMonitor(server, interval=0.02) as monitor:
        assert server.read_six_times.wait(timeout=30)
    assert monitor.peak("in_flight") == 4 and monitor.peak("queued") >= 1
    spans = [Span("call", "a", time.time() - 0.2, time.time())]
    figure = plot_experiment(spans, "demo", [monitor])
    assert len(figure.axes) == 2 and "peak 4 in flight" in figure.axes[1].get_title(loc="left")


def test_the_server_monitor_counts_completions_from_the_start_of_the_experiment() -> None:
    server = FakeServer()
    server.calls = 100  # the server had answered 100 requests before this experiment began
    with ServerMonitor(server, interval=0.02) as monitor:
        assert server.read_six_times.wait(timeout=30)
    figure = plot_experiment([Span("call", "a", time.time() - 0.2, time.time())], "demo", [monitor])
    completed, = [line for line in figure.axes[1].get_lines() if line.get_label() == "completed"]
    assert completed.get_ydata()[0] == 0 and completed.get_ydata()[-1] == monitor.samples[-1][1]["completed"] - 101


def test_the_live_svg_draws_running_spans_paler_and_counts_them() -> None:
    now = 100.0
    svg = timeline_svg([Span("a", "x", 99.0, 99.5), Span("b", "y", 99.2, float("inf"))], now, "demo")
    assert svg.count("<rect") == 2 and 'fill-opacity="0.55"' in svg and "1 done, 1 running" in svg


def test_the_live_timeline_updates_while_running_then_leaves_the_figure_and_no_thread() -> None:
    recorder = Recorder()
    shown = []
    with mock.patch.object(helpers.drawing.live_timeline, "in_ipython_kernel", return_value=True), \
            mock.patch("IPython.display.display", side_effect=lambda *a, **k: shown.append(a) or mock.Mock()):
        with LiveTimeline(recorder, "three sleeps", refresh=0.1) as live:
            for i in range(3):
                with recorder.span(f"sleep {i}"):
                    time.sleep(0.15)
            seen = live._widget.value
    assert live.updates >= 2 and "<svg" in seen
    assert live.figure is not None and "three sleeps" in live.figure.axes[0].get_title()
    live._display.update.assert_called_once_with(live.figure)
    assert live._widget.comm is None  # closed: the static figure took its place
    assert not [t for t in threading.enumerate() if t.name == "live timeline"]
    with pytest.raises(ValueError, match="10 times a second"):
        LiveTimeline(recorder, refresh=0.01)


def test_the_panel_is_disabled_while_its_experiment_runs_and_shows_the_timeline() -> None:
    states = []

    def experiment(workers: int) -> Recorder:
        states.append((panel.button.disabled, panel.controls["workers"].disabled))
        recorder = Recorder()
        for lane in range(workers):
            recorder.add(Span("work", f"worker {lane}", 0.0, 0.1))
        return recorder

    panel = ExperimentPanel(experiment, "demo", workers=ipywidgets.IntSlider(2, 1, 8))
    panel.controls["workers"].value = 5
    panel.button.click()
    assert states == [(True, True)] and not panel.button.disabled and not panel.controls["workers"].disabled
    assert bytes(panel.picture.value).startswith(b"\x89PNG") and "5 spans" in panel.status.value


def test_a_failing_experiment_is_reported_and_the_panel_stays_usable() -> None:
    async def experiment(prompts: int) -> list:
        raise RuntimeError("server not started")

    panel = ExperimentPanel(experiment, prompts=ipywidgets.IntSlider(3, 1, 9))
    panel.run()
    assert "RuntimeError: server not started" in panel.status.value and not panel.button.disabled
    with pytest.raises(ValueError, match="at least one control"):
        ExperimentPanel(experiment)


def test_the_cpu_meter_draws_its_colour_scale_in_percent_without_narrowing_its_strip() -> None:
    """Without a scale, a learner cannot tell a pale row (idle) from a dark one (busy) in numbers."""
    meter = CpuMeter()
    meter.cores = [0, 1]
    meter.samples = [(1.0, [100.0, 0.0]), (1.1, [50.0, 100.0]), (1.2, [0.0, 100.0])]
    figure, (timeline, strip) = plt.subplots(2, 1, sharex=True)
    timeline.plot([0.0, 0.2], [0, 1])
    meter.plot(strip, origin=0.9)
    figure.canvas.draw()
    scales = [ax for ax in strip.child_axes if ax.get_ylabel() == "% busy"]
    assert len(scales) == 1, "the strip needs one colour scale labelled in % busy"
    assert scales[0].get_ylim() == (0.0, 100.0)
    assert strip.get_position().width == pytest.approx(timeline.get_position().width)
    plt.close(figure)
