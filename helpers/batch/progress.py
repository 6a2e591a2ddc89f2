"""A live progress bar where people look: tqdm.auto draws a widget in a notebook, text in a terminal.

It shows requests done out of the total (tqdm adds requests/s and the time left), and after it
failed, retrying (waiting out a backoff), in flight (waiting for an answer), 429s and tokens/s.
A ticker redraws it twice a second, so it moves while every request is waiting too.
"""

from __future__ import annotations

import asyncio
import time

from tqdm.auto import tqdm

from helpers.batch.summary import Tally

REDRAW_SECONDS = 0.5


class Progress:
    """The bar of one run; `finished()` after each result, `close()` at the end."""

    def __init__(self, tally: Tally, *, enabled: bool = True) -> None:
        self.tally = tally
        self.started = time.monotonic()
        self.bar = tqdm(total=tally.total, initial=tally.skipped, unit="req", disable=not enabled,
                        dynamic_ncols=True, smoothing=0.05)
        self.ticker = asyncio.get_running_loop().create_task(self._tick()) if enabled else None

    def _describe(self) -> dict[str, str]:
        tally = self.tally
        tokens = tally.prompt_tokens + tally.completion_tokens
        seconds = max(1e-9, time.monotonic() - self.started)
        return {"failed": str(tally.failed), "retrying": str(tally.retrying), "in flight": str(tally.in_flight),
                "429s": str(tally.rate_limited), "tok/s": f"{tokens / seconds:,.0f}"}

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(REDRAW_SECONDS)
            self.bar.set_postfix(self._describe(), refresh=True)

    def finished(self) -> None:
        """One more request has its result."""
        self.bar.set_postfix(self._describe(), refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.ticker is not None:
            self.ticker.cancel()
        self.bar.set_postfix(self._describe(), refresh=False)
        self.bar.close()
