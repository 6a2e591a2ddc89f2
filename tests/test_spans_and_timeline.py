"""Spans from threads and tasks land in lanes; the timeline draws one row per lane."""

import asyncio
import threading
import time

import matplotlib

matplotlib.use("Agg")

import pytest

from helpers.drawing.timeline import plot_timeline
from helpers.measuring.spans import Recorder, Span, spans_from_journal


def test_spans_from_threads_get_the_thread_name_as_lane() -> None:
    recorder = Recorder()

    def work() -> None:
        with recorder.span("sleep"):
            time.sleep(0.01)

    threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(s.lane for s in recorder) == ["worker-0", "worker-1", "worker-2"]
    assert all(s.end - s.start >= 0.01 for s in recorder)


def test_spans_inside_coroutines_get_the_task_name_as_lane() -> None:
    recorder = Recorder()

    async def call(name: str) -> None:
        with recorder.span(name):
            await asyncio.sleep(0.01)

    async def main() -> None:
        await asyncio.gather(*(asyncio.create_task(call(f"c{i}"), name=f"task-{i}") for i in range(2)))

    asyncio.run(main())
    assert {s.lane for s in recorder} == {"task-0", "task-1"}


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        with Recorder().span("x", kind="sleeping"):
            pass


def test_the_title_counts_the_peak_of_overlapping_spans_not_touching_ends() -> None:
    spans = [Span("a", "1", 0, 2), Span("b", "2", 1, 3), Span("c", "3", 3, 4)]
    assert plot_timeline(spans).axes[0].get_title().endswith("peak 2 at once")


def test_plot_has_one_row_per_lane_and_the_numbers_in_the_title(tmp_path) -> None:
    spans = [Span(f"call {i}", f"lane {i % 4}", i * 0.1, i * 0.1 + 1, "io" if i % 2 else "cpu") for i in range(8)]
    figure = plot_timeline(spans, "eight calls")
    ax = figure.axes[0]
    assert len(ax.get_yticks()) == 4
    assert "wall time 1.70 s, 4 lanes, peak" in ax.get_title()
    figure.savefig(tmp_path / "timeline.png")
    assert (tmp_path / "timeline.png").stat().st_size > 1000


def test_a_thousand_spans_aggregate_their_lane_labels() -> None:
    spans = [Span("x", f"lane {i}", i * 0.001, i * 0.001 + 0.5) for i in range(1000)]
    ax = plot_timeline(spans).axes[0]
    assert ax.get_ylabel() == "1000 lanes" and not any(t.get_text() for t in ax.get_yticklabels())


def test_journal_entries_become_queued_and_generating_spans_on_calls_numbered_by_arrival() -> None:
    later = {"id": "chatcmpl-abcdef123456", "arrival": 10.0, "start": 10.5, "end": 12.0, "queue_wait": 0.5,
             "tokens_out": 40}
    first = {"id": "chatcmpl-0123456789ab", "arrival": 9.0, "start": 9.0, "end": 9.5, "queue_wait": 0.0,
             "tokens_out": 8}
    assert spans_from_journal([later, first]) == [Span("8 tokens", "call 1", 9.0, 9.5, "generating"),
                                                  Span("queued", "call 2", 10.0, 10.5, "queued"),
                                                  Span("40 tokens", "call 2", 10.5, 12.0, "generating")]


def test_every_kind_of_span_has_a_colour_and_a_legend_label() -> None:
    from helpers.drawing.timeline import COLOURS, LABELS
    from helpers.measuring.spans import KINDS

    assert set(COLOURS) == set(LABELS) == set(KINDS)


def test_charts_side_by_side_on_a_shared_time_axis_show_the_longest_whole() -> None:
    """Lesson 00 draws 1.45 s of one worker beside 0.93 s of two processes: the second must not cut the first."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, sharex=True)
    plot_timeline([Span("a", "one worker", 0.0, 1.45, "cpu")], ax=left)
    plot_timeline([Span("b", "process", 0.0, 0.93, "cpu")], ax=right)
    assert left.get_xlim() == right.get_xlim() == (0.0, 1.45)
    alone = plot_timeline([Span("c", "alone", 0.0, 0.2, "cpu")]).axes[0]
    assert alone.get_xlim() == (0.0, 0.2)  # a chart of its own fits its spans, not matplotlib's default of 1
    plt.close("all")


def test_a_run_drawn_on_an_earlier_runs_time_scale_keeps_that_axis_and_grows_past_it() -> None:
    quick = [Span("call", "thread 1", 0.0, 0.5)]
    assert plot_timeline(quick, seconds=2.0).axes[0].get_xlim() == (0.0, 2.0)
    assert plot_timeline(quick, seconds=0.2).axes[0].get_xlim() == (0.0, 0.5)


def test_bars_keep_their_white_edges_with_40_to_a_lane_and_lose_them_when_a_lane_holds_hundreds() -> None:
    def edge_width(spans: list[Span]) -> float:
        collection, = plot_timeline(spans).axes[0].collections
        return collection.get_linewidths()[0]

    forty_each = [Span("t", f"worker {lane}", n, n + 0.9) for lane in range(2) for n in range(40)]
    hundreds = [Span("t", "worker 0", n / 10, n / 10 + 0.09) for n in range(300)]
    assert edge_width(forty_each) > 0 and edge_width(hundreds) == 0
