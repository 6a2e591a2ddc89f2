"""fastest_of keeps the fastest run, and that run's own result."""

import asyncio

import pytest

from helpers.measuring import stopwatch
from helpers.measuring.spans import Span
from helpers.measuring.stopwatch import fastest_of, fastest_of_each, fastest_of_each_awaited, wall_time
from helpers.workloads.cpu_work import TimedRun


def test_the_fastest_run_and_its_result_are_kept(monkeypatch) -> None:
    clock = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # runs of 3 s, 1 s and 2 s
    monkeypatch.setattr(stopwatch.time, "perf_counter", lambda: next(clock))
    results = iter(["first", "second", "third"])
    assert fastest_of(3, lambda: next(results)) == (1.0, "second")


def test_at_least_one_run() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fastest_of(0, lambda: None)


def test_two_ways_take_turns_and_each_keeps_its_fastest_run(monkeypatch) -> None:
    order = []
    # baseline 4 s, contender 2 s, baseline 3 s, contender 5 s
    clock = iter([0.0, 4.0, 10.0, 12.0, 20.0, 23.0, 30.0, 35.0])
    monkeypatch.setattr(stopwatch.time, "perf_counter", lambda: next(clock))
    baseline, contender = fastest_of_each(2, lambda: order.append("b") or len(order),
                                          lambda: order.append("c") or len(order))
    assert order == ["b", "c", "b", "c"]
    assert baseline == (3.0, 3) and contender == (2.0, 2)


def test_async_ways_take_turns_on_the_running_loop_and_each_keeps_its_fastest_run(monkeypatch) -> None:
    order = []
    # baseline 4 s, contender 2 s, baseline 3 s, contender 5 s
    clock = iter([0.0, 4.0, 10.0, 12.0, 20.0, 23.0, 30.0, 35.0])
    monkeypatch.setattr(stopwatch.time, "perf_counter", lambda: next(clock))

    async def step(name: str) -> int:
        await asyncio.sleep(0)  # really suspends: the loop runs each way to its end before the next
        order.append(name)
        return len(order)

    baseline, contender = asyncio.run(fastest_of_each_awaited(2, lambda: step("b"), lambda: step("c")))
    assert order == ["b", "c", "b", "c"]
    assert baseline == (3.0, 3) and contender == (2.0, 2)


def test_async_ways_need_at_least_one_run() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        asyncio.run(fastest_of_each_awaited(0, asyncio.sleep, asyncio.sleep))


def test_wall_time_spans_the_pieces_from_the_first_start_to_the_last_end() -> None:
    runs = [TimedRun(10.0, 10.5, 1, None, 0.5), TimedRun(10.2, 11.0, 2, None, 0.8), TimedRun(10.9, 10.95, 1, None, 0.05)]
    assert wall_time(runs) == pytest.approx(1.0)
    assert wall_time(iter([Span("call", "task 0", 5.0, 6.5), Span("call", "task 1", 5.5, 6.0)])) == 1.5
