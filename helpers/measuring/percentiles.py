"""Percentiles of measured latencies: the typical call (p50) and the tail (p95, p99).

An average hides the tail: ninety-nine calls of 1 s and one of 30 s average 1.3 s, yet every
hundredth user waits 30 s. The p-th percentile is the latency that p % of the calls stayed
under, so p99 is what the unlucky hundredth meets. Between two measured values it is read off
the straight line joining them (numpy's default, statistics' "inclusive" method).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def percentiles(samples: Sequence[float], points: Iterable[int] = (50, 95, 99)) -> dict[int, float]:
    """{p: the p-th percentile of `samples`} for each p in `points` (0 to 100)."""
    if not samples:
        raise ValueError("no samples: percentiles need at least one")
    ordered = sorted(samples)
    found: dict[int, float] = {}
    for point in points:
        if not 0 <= point <= 100:
            raise ValueError(f"a percentile is from 0 to 100, got {point}")
        rank = point / 100 * (len(ordered) - 1)  # 0: the smallest sample, len - 1: the largest
        below = int(rank)
        above = min(below + 1, len(ordered) - 1)
        found[point] = ordered[below] + (rank - below) * (ordered[above] - ordered[below])
    return found
