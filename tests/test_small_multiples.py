"""Small multiples: several ways, each in its own panel on its own time axis (lesson 05's four ways)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from helpers.drawing.formatting import format_seconds  # noqa: E402
from helpers.drawing.timeline import plot_small_multiples  # noqa: E402
from helpers.measuring.spans import Span  # noqa: E402

# Two ways one after another: a short one (2 s) and a long one (20 s), as lesson 05 runs them.
SPANS = [Span("call", "prompt 1", 100.0, 101.0), Span("analyse", "notebook", 101.0, 102.0, "cpu"),
         Span("job", "worker 1", 103.0, 113.0), Span("analyse", "worker 1", 112.0, 113.0, "cpu"),
         Span("job", "worker 2", 103.0, 123.0)]
WINDOWS = {"short way": (100.0, 102.0), "long way": (103.0, 123.0)}


def panels() -> list:
    figure = plot_small_multiples(SPANS, WINDOWS, "two ways")
    plt.close(figure)
    return [ax for ax in figure.axes if ax.axison]


def test_one_panel_per_way_each_on_its_own_time_axis_up_to_its_own_wall_time() -> None:
    drawn = panels()
    assert len(drawn) == len(WINDOWS)
    assert [ax.get_xlim() for ax in drawn] == [(0.0, end - start) for start, end in WINDOWS.values()]


def test_each_title_names_its_way_and_carries_its_wall_time() -> None:
    titles = [ax.get_title() for ax in panels()]
    assert titles == [f"{name}: wall time {format_seconds(end - start)}" for name, (start, end) in WINDOWS.items()]


def test_each_panel_holds_only_the_lanes_of_the_spans_inside_its_window() -> None:
    labels = [[tick.get_text() for tick in ax.get_yticklabels()] for ax in panels()]
    assert labels == [["prompt 1", "notebook"], ["worker 1", "worker 2"]]


def test_bars_are_drawn_in_seconds_since_their_own_ways_start() -> None:
    long_way = panels()[1]
    lefts = sorted(min(x for x, _ in path.vertices) for collection in long_way.collections
                   for path in collection.get_paths())
    assert lefts == [0.0, 0.0, 9.0]  # the two jobs at 103 s, the analysis at 112 s, from 103 s
