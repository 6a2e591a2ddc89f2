"""Lesson 08's load curve: throughput under the bound, p50/p95/p99 beside Little's law, users on a log axis."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers.drawing.load_curve import plot_load_curve  # noqa: E402
from helpers.loadgen.outcomes import LoadRun, Outcome  # noqa: E402


def run(users: int, seconds_each: float, answers: int) -> LoadRun:
    """A closed-loop run of 10 s in which `answers` requests were served, each in `seconds_each`."""
    outcomes = [Outcome(n % users, 10 * n / answers, None, 10 * n / answers + seconds_each, 200, None, None)
                for n in range(answers)]
    return LoadRun("closed", users, 10, outcomes)


def test_throughput_and_latency_are_drawn_per_users_with_the_bound_and_littles_law():
    runs = [run(1000, 10.0, 1000), run(10, 1.0, 100)]  # out of order: drawn sorted by users
    figure = plot_load_curve(runs, bound=100, seconds_per_call=0.5, title="a service under load")
    plt.close(figure)
    left, right = figure.axes
    assert figure._suptitle.get_text() == "a service under load"
    measured = left.get_lines()[0]
    assert list(measured.get_xdata()) == [10, 1000]
    assert list(measured.get_ydata()) == pytest.approx([runs[1].sustained(0), runs[0].sustained(0)])
    bound = next(line for line in left.get_lines() if line.get_label().startswith("upstream bound: 100"))
    assert list(bound.get_ydata()) == [100, 100]
    labels = [line.get_label() for line in right.get_lines()]
    assert labels == ["p50", "p95", "p99", "Little's law: one call, or users ÷ 100/s"]
    assert list(right.get_lines()[0].get_ydata()) == pytest.approx([1.0, 10.0])
    assert list(right.get_lines()[3].get_ydata()) == pytest.approx([0.5, 10.0])  # one call, then users ÷ bound
    assert left.get_xscale() == right.get_xscale() == "log"
    assert right.get_ylim()[1] >= 10.0 and left.get_ylim()[1] >= 100  # the highest points are inside the frame


def test_a_gate_below_the_bound_is_drawn_and_sets_littles_law():
    figure = plot_load_curve([run(10, 1.0, 100), run(1000, 12.5, 800)], bound=100, seconds_per_call=0.5,
                             title="a narrow gate", gate_bound=80)
    plt.close(figure)
    left, right = figure.axes
    gate = next(line for line in left.get_lines() if line.get_label() == "the gate's bound: 80 answers/s")
    assert list(gate.get_ydata()) == [80, 80]
    little = right.get_lines()[3]
    assert little.get_label() == "Little's law: one call, or users ÷ 80/s"
    assert list(little.get_ydata()) == pytest.approx([0.5, 12.5])  # 1,000 users ÷ 80 a second


def test_open_loop_runs_or_no_runs_are_refused():
    with pytest.raises(ValueError, match="closed-loop"):
        plot_load_curve([LoadRun("open", 50, 10, [])], bound=100, seconds_per_call=1, title="x")
    with pytest.raises(ValueError, match="closed-loop"):
        plot_load_curve([], bound=100, seconds_per_call=1, title="x")
