"""The stream board shows each stream's text as it grows, then its two timings."""

import pytest

from helpers.drawing import stream_board
from helpers.drawing.stream_board import StreamBoard


def test_text_grows_in_its_own_panel_and_the_timings_replace_streaming() -> None:
    board = StreamBoard(["first", "second"])
    board.add(1, "Hello")
    board.add(1, " <world>")
    board.finish(1, ttft=0.7, total=2.25)
    assert "Hello &lt;world&gt;" in board.cards[1].value and board.cards[0].value.count("Hello") == 0
    assert "first token 700 ms, done 2.25 s" in board.cards[1].value
    assert "streaming…" in board.cards[0].value


def test_a_board_needs_at_least_one_stream() -> None:
    with pytest.raises(ValueError, match="one title per stream"):
        StreamBoard([])


def test_a_growing_panel_is_redrawn_at_most_ten_times_a_second_and_always_when_finished(monkeypatch) -> None:
    now = [100.0]
    monkeypatch.setattr(stream_board.time, "monotonic", lambda: now[0])
    board = StreamBoard(["only"])
    board.add(0, "one")
    now[0] += 0.05  # sooner than REDRAW_SECONDS: the panel keeps its last drawing
    board.add(0, " two")
    assert "one" in board.cards[0].value and "two" not in board.cards[0].value
    now[0] += 0.06  # REDRAW_SECONDS have passed since the first words were drawn
    board.add(0, " three")
    assert "one two three" in board.cards[0].value
    board.add(0, " four")  # at once: not drawn yet, but finishing draws everything
    board.finish(0, ttft=0.1, total=0.4)
    assert "one two three four" in board.cards[0].value
