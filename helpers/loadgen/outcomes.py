"""What a load run measured: one Outcome per request, and the numbers a lesson reads off them.

A load test is only as honest as its bookkeeping. Every request the generator sent is here,
answered or not: "served", "shed", "rate limited" and "failed", with any other 4xx (a request
the service refused as bad), add up to "sent", and "lost" is the part of "failed" that got no
response at all. The latency percentiles are those of the users who were *served*: a run that sheds
half its load has fast p99s for the other half, and the table shows both numbers side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

from helpers.measuring.percentiles import percentiles

POINTS = (50, 95, 99)


class Outcome(NamedTuple):
    """One request, its times in seconds since the run began."""

    user: int  # the closed-loop user who sent it, or the open-loop arrival's number
    sent: float
    first_byte: float | None  # streams: when the first `data:` chunk arrived; None otherwise
    done: float  # when the whole answer had arrived (or the request failed)
    status: int  # the HTTP status; 0 = no response: refused, reset, cut short or timed out
    retry_after: float | None  # the Retry-After header of a 503 or 429, in seconds
    error: str | None  # a short reason when the status is not 200

    @property
    def seconds(self) -> float:
        return self.done - self.sent


@dataclass
class LoadRun:
    """A finished run: what was offered, for how long, and every request's outcome."""

    kind: str  # "closed" (a fixed number of users) or "open" (arrivals at a fixed rate)
    offered: float  # users, or arrivals per second
    seconds: float  # how long load was offered; the run lasts until the last answer came
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def served(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 200]

    @property
    def shed(self) -> int:
        """Answered 503: the service said "too busy, come back later"."""
        return sum(1 for o in self.outcomes if o.status == 503)

    @property
    def rate_limited(self) -> int:
        return sum(1 for o in self.outcomes if o.status == 429)

    @property
    def failed(self) -> int:
        """Other 5xx, and every request without a response (status 0, which `lost` counts alone)."""
        return sum(1 for o in self.outcomes if o.status == 0 or (o.status >= 500 and o.status != 503))

    @property
    def lost(self) -> int:
        """Sent and never answered: refused, reset, cut short or timed out."""
        return sum(1 for o in self.outcomes if o.status == 0)

    @property
    def wall_seconds(self) -> float:
        """The run's length: load offered for `seconds`, then the last answers still arriving."""
        return max([self.seconds, *(o.done for o in self.outcomes)])

    @property
    def throughput(self) -> float:
        """Answers served per second over the whole run."""
        return len(self.served) / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def sustained(self, settle: float) -> float:
        """Answers served per second from `settle` seconds in to the end of the load: the rate that held.

        The whole run's throughput counts its edges too: at the start no answer can come back before
        one call's time (every closed-loop user asks at once), and after the load the last answers
        trickle in. Between them is the rate a service keeps up.
        """
        if not 0 <= settle < self.seconds:
            raise ValueError(f"settle must be from 0 to the load's {self.seconds:g} s, got {settle!r}")
        return sum(settle <= o.done <= self.seconds for o in self.served) / (self.seconds - settle)

    def latency(self, points: tuple[int, ...] = POINTS) -> dict[int, float]:
        """Percentiles of the served requests' end-to-end seconds (NaN when none was served)."""
        return _percentiles_or_nan([o.seconds for o in self.served], points)

    def first_token(self, points: tuple[int, ...] = POINTS) -> dict[int, float]:
        """Percentiles of the served streams' seconds to their first chunk (NaN without streams)."""
        return _percentiles_or_nan([o.first_byte - o.sent for o in self.served if o.first_byte is not None], points)

    @property
    def in_flight_mean(self) -> float:
        """Little's law, L = λ·W, read off the outcomes: the requests' seconds summed, over the run's
        seconds, is how many were in flight on average (for a closed loop without thinking: the users)."""
        return sum(o.seconds for o in self.outcomes) / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def row(self) -> dict[str, float | int | str]:
        """One line of a results table: counts, throughput, and the served requests' p50/p95/p99 in seconds."""
        latency = self.latency()
        return {"load": self.kind, "offered": self.offered, "sent": self.sent, "served": len(self.served),
                "shed 503": self.shed, "429": self.rate_limited, "failed": self.failed, "lost": self.lost,
                "throughput/s": round(self.throughput, 1),
                "p50 s": round(latency[50], 3), "p95 s": round(latency[95], 3), "p99 s": round(latency[99], 3)}


def _percentiles_or_nan(samples: list[float], points: tuple[int, ...]) -> dict[int, float]:
    # A run that served nothing is a result a lesson shows (everything shed), not an error
    return percentiles(samples, points) if samples else {point: math.nan for point in points}
