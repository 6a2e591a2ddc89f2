"""What a run counts while it goes (`Tally`, which the progress bar shows) and what it returns (`BatchSummary`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from helpers.drawing.formatting import format_amount, format_seconds


class BatchSummary(NamedTuple):
    """One run of `run_batch`: the requests, what happened to them, and the HTTP attempts it took."""

    total: int  # requests in the input
    skipped: int  # already in the results when the run started
    succeeded: int
    failed: int
    attempts: int  # HTTP attempts this run, retries included
    retries: int
    rate_limited: int  # 429s received
    server_errors: int  # 5xx received
    timeouts: int
    dropped: int  # connections that broke before the answer
    prompt_tokens: int
    completion_tokens: int
    seconds: float

    @property
    def requests_per_second(self) -> float:
        return (self.succeeded + self.failed) / self.seconds if self.seconds else 0.0

    @property
    def tokens_per_second(self) -> float:
        return (self.prompt_tokens + self.completion_tokens) / self.seconds if self.seconds else 0.0

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        """A notebook cell that ends in `await run_batch(...)` shows the one-line summary, not the tuple."""
        printer.text(str(self))

    def __str__(self) -> str:
        return (f"{self.succeeded:,} succeeded, {self.failed:,} failed, {self.skipped:,} already done, "
                f"of {self.total:,} requests in {format_seconds(self.seconds)} "
                f"({format_amount(self.requests_per_second, 'requests/s')}, "
                f"{format_amount(self.tokens_per_second, 'tokens/s')}); "
                f"{self.attempts:,} attempts: {self.retries:,} retries after {self.rate_limited:,} 429s, "
                f"{self.server_errors:,} 5xx, {self.timeouts:,} timeouts, {self.dropped:,} dropped connections")


@dataclass
class Tally:
    """Counters the runner updates as each attempt ends, and the two states the progress bar shows."""

    total: int
    skipped: int
    succeeded: int = 0
    failed: int = 0
    attempts: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0
    timeouts: int = 0
    dropped: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    in_flight: int = 0  # HTTP attempts waiting for their answer now
    retrying: int = 0  # requests waiting out a backoff now

    def summary(self, seconds: float) -> BatchSummary:
        return BatchSummary(*(getattr(self, name) for name in BatchSummary._fields[:-1]), seconds)
