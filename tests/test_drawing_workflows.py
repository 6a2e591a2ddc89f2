"""Lesson 07's pictures: the gate sweep with both bounds labelled, the latency tails with p50/p95/p99 marked."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers.drawing.workflows import plot_gate_sweep, plot_latency_tails  # noqa: E402
from helpers.measuring.percentiles import percentiles  # noqa: E402


def test_the_gate_sweep_draws_the_measured_times_between_both_bounds_all_labelled():
    widths, seconds = [1, 2, 4], [3.0, 1.6, 1.1]
    figure = plot_gate_sweep(widths, seconds, critical=1.0, one_by_one=2.9, title="nine steps")
    plt.close(figure)
    ax = figure.axes[0]
    assert isinstance(figure, Figure) and ax.get_title() == "nine steps"
    assert "(s)" in ax.get_ylabel() and "at once" in ax.get_xlabel()
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["measured wall time"].get_xdata()) == widths and list(lines["measured wall time"].get_ydata()) == seconds
    critical = next(line for label, line in lines.items() if label.startswith("critical path: 1.00 s"))
    assert list(critical.get_ydata()) == [1.0, 1.0]
    assert any(label.startswith("one step at a time: 2.90 s") for label in lines)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == list(lines)
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] > 3.0


def test_the_latency_tails_draw_one_curve_per_way_and_mark_its_percentiles():
    latencies = {"plain": [1.0] * 97 + [9.0, 9.5, 10.0], "hedged": [1.0] * 97 + [2.0, 2.1, 2.2]}
    figure = plot_latency_tails(latencies, "100 calls each")
    plt.close(figure)
    ax = figure.axes[0]
    assert isinstance(figure, Figure) and "(s)" in ax.get_xlabel() and "%" in ax.get_ylabel()
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[0].startswith("plain: p50 1.00 s") and legend[1].startswith("hedged: p50 1.00 s")
    marks = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.get_lines() if len(line.get_xdata()) == 1]
    expected = [(value, point) for samples in latencies.values() for point, value in percentiles(samples).items()]
    assert marks == expected
    assert ax.get_xlim()[0] == 0 and ax.get_xlim()[1] >= 10.0  # the longest tail is inside the frame


def test_more_ways_than_colours_are_refused_rather_than_left_out():
    latencies = {f"way {n}": [1.0, 2.0] for n in range(6)}
    with pytest.raises(ValueError, match="at most 5 ways"):
        plt.close(plot_latency_tails(latencies, "six ways"))
