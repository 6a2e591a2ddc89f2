"""Hedged requests: who wins, when a hedge is sent, the failure rules, and nothing left running.

Each call is scripted: the n-th call sleeps, then answers or fails. A loser that is cancelled
needs an `await` of its own to clean up, so a hedge that cancelled it without awaiting it would
return before the clean-up, and `asyncio.all_tasks()` would still list it.
"""

from __future__ import annotations

import asyncio

import pytest

from helpers.agents.hedging import Hedged, hedged

SLOW = 30.0  # a call that never ends within a test unless it is cancelled


class Scripted:
    """call() for `hedged`: the n-th call sleeps plan[n][0] seconds, then returns or raises plan[n][1]."""

    def __init__(self, *plan: tuple[float, object]) -> None:
        self.plan = list(plan)
        self.calls = 0
        self.cleaned: list[int] = []  # the calls that were cancelled and finished cleaning up

    async def __call__(self) -> object:
        number = self.calls
        self.calls += 1
        seconds, outcome = self.plan[number]
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)  # closing a connection takes an await too
            self.cleaned.append(number)
            raise
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def hedge_and_look(call: Scripted, after: float) -> tuple[Hedged | BaseException, set]:
    """Run `hedged` and return its result (or error) and the tasks still alive right after it."""

    async def main():
        try:
            async with asyncio.timeout(10):
                result = await hedged(call, after)
        except Exception as error:
            result = error
        return result, asyncio.all_tasks() - {asyncio.current_task()}

    return asyncio.run(main())


def test_a_call_faster_than_the_threshold_is_not_hedged():
    call = Scripted((0.0, "quick"))
    result, alive = hedge_and_look(call, after=1.0)
    assert result == Hedged("quick", hedged=False, winner=0) and call.calls == 1 and not alive


def test_a_slow_call_is_hedged_the_hedge_wins_and_the_loser_is_cancelled_and_awaited():
    call = Scripted((SLOW, "slow"), (0.0, "hedge"))
    result, alive = hedge_and_look(call, after=0.02)
    assert result == Hedged("hedge", hedged=True, winner=1)
    assert call.cleaned == [0] and not alive


def test_the_first_call_can_still_win_after_the_hedge_is_sent():
    call = Scripted((0.06, "first"), (SLOW, "hedge"))
    result, alive = hedge_and_look(call, after=0.02)
    assert result == Hedged("first", hedged=True, winner=0)
    assert call.cleaned == [1] and not alive


def test_a_failure_before_the_threshold_is_raised_without_a_hedge():
    call = Scripted((0.0, ValueError("bad request")))
    result, alive = hedge_and_look(call, after=1.0)
    assert isinstance(result, ValueError) and call.calls == 1 and not alive


@pytest.mark.parametrize("plan, winner", [
    (((0.04, ConnectionError("first broke")), (0.1, "hedge")), 1),
    (((0.1, "first"), (0.0, ConnectionError("hedge broke"))), 0),
])
def test_one_failing_while_the_other_runs_waits_for_the_other(plan, winner):
    result, alive = hedge_and_look(Scripted(*plan), after=0.02)
    assert result == Hedged(plan[winner][1], hedged=True, winner=winner) and not alive


def test_both_failing_raises_the_first_calls_error():
    call = Scripted((0.05, ConnectionError("first broke")), (0.0, TimeoutError("hedge broke")))
    result, alive = hedge_and_look(call, after=0.02)
    assert isinstance(result, ConnectionError) and str(result) == "first broke"
    assert call.calls == 2 and not alive


def test_a_caller_cancelled_mid_hedge_leaves_nothing_running():
    call = Scripted((SLOW, "first"), (SLOW, "hedge"))

    async def main() -> set:
        caller = asyncio.create_task(hedged(call, after=0.01))
        async with asyncio.timeout(10):
            while call.calls < 2:  # until the hedge is out
                await asyncio.sleep(0.005)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        return asyncio.all_tasks() - {asyncio.current_task()}

    alive = asyncio.run(main())
    assert sorted(call.cleaned) == [0, 1] and not alive


def test_after_zero_hedges_every_call_and_a_negative_after_is_refused():
    call = Scripted((0.05, "first"), (0.0, "hedge"))
    result, alive = hedge_and_look(call, after=0)
    assert result == Hedged("hedge", hedged=True, winner=1) and not alive  # 0 s: the copy goes out at once
    call = Scripted((0.0, "quick"))
    result, alive = hedge_and_look(call, after=-1)
    assert isinstance(result, ValueError) and "after" in str(result) and call.calls == 0 and not alive
