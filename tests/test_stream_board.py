"""The stream board shows each stream's text as it grows, then its two timings."""

import pytest

from helpers.stream_board import StreamBoard


def test_text_grows_in_its_own_panel_and_the_timings_replace_streaming() -> None:
    board = StreamBoard(["first", "second"])
    board.add(1, "Hello")
    board.add(1, " <world>")
    board.finish(1, ttft=0.7, total=2.25)
    assert "Hello &lt;world&gt;" in board.panels[1].value and board.panels[0].value.count("Hello") == 0
    assert "first token 700 ms, done 2.25 s" in board.panels[1].value
    assert "streaming…" in board.panels[0].value


def test_a_board_needs_at_least_one_stream() -> None:
    with pytest.raises(ValueError, match="one title per stream"):
        StreamBoard([])
