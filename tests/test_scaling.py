"""Serving many users: the gate's size, the gate itself, the three ways, and the speed-up arithmetic."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from matplotlib.figure import Figure

from helpers.workloads.serving import Served, gate_size, gated, plot_speedups, serve, speedups


@pytest.mark.parametrize(("per_minute", "seconds_per_call", "size"), [
    (60, 2.4, 2),  # one request a second, 2.4 s each: two in flight (2.4 would go over the limit)
    (600, 2.4, 24),
    (60, 0.5, 1),  # never fewer than one
])
def test_the_gate_is_sized_by_littles_law(per_minute, seconds_per_call, size):
    assert gate_size(per_minute, seconds_per_call) == size


class FakeCalls:
    """An async `ask` that answers the prompt twice over after a few turns of the loop, and counts
    the most calls it ever had in flight at once."""

    def __init__(self) -> None:
        self.in_flight = self.peak = 0

    async def ask(self, prompt: str) -> str:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        self.in_flight -= 1
        return prompt * 2


def test_the_gate_lets_no_more_than_its_size_in_flight():
    calls = FakeCalls()

    async def main() -> None:
        ask_gated = gated(calls.ask, 3)  # one gate for every call
        await asyncio.gather(*(ask_gated(str(n)) for n in range(20)))

    asyncio.run(main())
    assert calls.peak == 3


def run_way(way: str, calls_at_once: int = 4) -> tuple[list, int, set[int]]:
    """Serve ten users one way with fake calls: results, the most calls in flight, analysis threads."""
    calls = FakeCalls()
    threads: set[int] = set()

    def analyse(answer: str) -> int:
        threads.add(threading.get_ident())
        return len(answer)

    with ThreadPoolExecutor(2) as pool:
        results = asyncio.run(serve(way, [f"user {n}" for n in range(10)], calls.ask, analyse, pool, calls_at_once))
    return results, calls.peak, threads


def test_sequential_serving_makes_one_call_at_a_time_and_analyses_here():
    results, peak, threads = run_way("sequential")
    assert results == [len(f"user {n}") * 2 for n in range(10)]
    assert peak == 1 and threads == {threading.get_ident()}


def test_concurrent_serving_fills_the_gate_and_analyses_on_the_loop():
    results, peak, threads = run_way("concurrent")
    assert results == [len(f"user {n}") * 2 for n in range(10)]
    assert peak == 4 and threads == {threading.get_ident()}


def test_hybrid_serving_fills_the_gate_and_analyses_in_the_pool():
    results, peak, threads = run_way("hybrid")
    assert results == [len(f"user {n}") * 2 for n in range(10)]
    assert peak == 4 and threading.get_ident() not in threads


def test_an_unknown_way_is_named():
    with pytest.raises(ValueError, match="sequential"):
        run_way("threads")


RUNS = [Served("free", 10, "sequential", 20.0), Served("free", 10, "concurrent", 8.0), Served("free", 10, "hybrid", 8.0),
        Served("paid", 10, "concurrent", 4.0), Served("paid", 10, "hybrid", 2.0),
        Served("free", 40, "sequential", 80.0), Served("paid", 40, "hybrid", 8.0)]


def test_speedups_divide_the_sequential_time_by_each_ways_time_for_the_same_users():
    assert speedups(RUNS, "free", "concurrent") == {10: 2.5}
    assert speedups(RUNS, "paid", "hybrid") == {10: 10.0, 40: 10.0}


def test_the_plot_has_a_panel_per_tier():
    figure = plot_speedups(RUNS, ["free", "paid"], title="made-up runs")
    assert isinstance(figure, Figure)
    assert [ax.get_title() for ax in figure.axes] == ["free", "paid"]
