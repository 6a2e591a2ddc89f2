"""Sweep arithmetic on made-up spans: wall time, throughput, Little's law, and the plot's ceiling."""

import matplotlib

matplotlib.use("Agg")

import pytest

from helpers.measuring.spans import Span
from helpers.workloads.sweeps import littles_law_table, plot_sweep, sweep_point


def calls(*intervals: tuple[float, float]) -> list[Span]:
    return [Span("call", "worker", start, end) for start, end in intervals]


def test_two_waves_of_two_calls_give_little_s_law_numbers() -> None:
    point = sweep_point(2, calls((0, 1), (0, 1), (1, 2), (1, 2)))
    assert point.seconds == 2 and point.throughput == 2 and point.mean_latency == 1
    assert point.in_flight == pytest.approx(2)  # two workers, always busy


def test_queued_calls_raise_latency_not_throughput() -> None:
    # 4 calls sent at once to 2 slots: the last two wait a second in the queue
    point = sweep_point(4, calls((0, 1), (0, 1), (0, 2), (0, 2)))
    assert point.throughput == 2 and point.mean_latency == 1.5 and point.in_flight == pytest.approx(3)


def test_the_table_and_the_plot_show_every_run() -> None:
    points = [sweep_point(1, calls((0, 1), (1, 2))), sweep_point(2, calls((0, 1), (0, 1)))]
    table = littles_law_table(points).splitlines()
    assert len(table) == 3 and table[1].split()[:3] == ["1", "2.00", "s"]
    figure = plot_sweep(points, "demo", capacity=2)
    ceiling = figure.axes[1].get_lines()[-1]
    assert list(ceiling.get_ydata()) == [2.0, 2.0] and "2 slots" in ceiling.get_label()


def test_a_run_without_spans_is_refused() -> None:
    with pytest.raises(ValueError, match="no spans"):
        sweep_point(1, [])
