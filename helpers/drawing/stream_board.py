"""Several streamed answers side by side, each growing as its tokens arrive.

    board = StreamBoard(["answer 1", "answer 2"])
    display(board)
    board.add(0, "Hello")          # from the code reading stream 0
    board.finish(0, ttft=0.7, total=2.3)

Each card shows its text so far and, once finished, its time to first token and total time:
the two numbers a user feels (when did something appear? when was it done?).

A card is redrawn at most every REDRAW_SECONDS while its text grows: each redraw sends the whole
card to the browser, and one redraw per token would keep the event loop (which is also reading
the streams) busy sending ever longer messages.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence

import ipywidgets

from helpers.drawing.formatting import format_seconds

REDRAW_SECONDS = 0.1  # ten frames a second: smooth to the eye, few messages to the browser
PANEL_STYLE = ("font-family: sans-serif; font-size: 12px; border: 1px solid #ccc; border-radius: 4px; "
               "padding: 6px; height: 150px; overflow: hidden")


class StreamBoard(ipywidgets.GridBox):
    """One card per stream, in a row; `add` appends text, `finish` writes the timings."""

    def __init__(self, titles: Sequence[str]) -> None:
        if not titles:
            raise ValueError("give one title per stream")
        self.titles = list(titles)
        self.texts = ["" for _ in titles]
        self.footers = ["streaming…" for _ in titles]
        self.cards = [ipywidgets.HTML() for _ in titles]
        self.drawn_at = [0.0 for _ in titles]
        for number in range(len(titles)):
            self._draw(number)
        columns = f"repeat({len(titles)}, minmax(0, 1fr))"
        super().__init__(self.cards, layout=ipywidgets.Layout(grid_template_columns=columns, grid_gap="8px"))

    def add(self, number: int, text: str) -> None:
        first_words = not self.texts[number]  # shown at once: the time to first token is the point
        self.texts[number] += text
        if first_words or time.monotonic() - self.drawn_at[number] >= REDRAW_SECONDS:
            self._draw(number)

    def finish(self, number: int, ttft: float, total: float) -> None:
        self.footers[number] = f"first token {format_seconds(ttft)}, done {format_seconds(total)}"
        self._draw(number)

    def _draw(self, number: int) -> None:
        self.drawn_at[number] = time.monotonic()
        self.cards[number].value = (
            f"<div style='{PANEL_STYLE}'><b>{html.escape(self.titles[number])}</b> "
            f"<i style='color:#666'>{html.escape(self.footers[number])}</i><br>{html.escape(self.texts[number])}</div>")
