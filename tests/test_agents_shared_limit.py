"""SharedLimit: agents that share one never start more calls than its rate allows, together.

Moments are read on the pacer's own clock (time.monotonic) right after each entry, with no `await`
between the bucket paying and the reading, so they are the bucket's own moments to a few µs. A
machine that pauses can only make the agents slower, never faster than the rate.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from helpers.agents.shared_limit import SharedLimit


def worst_excess(moments: list[float], burst: float, rate: float) -> float:
    """How far any stretch of entries exceeds the promise: at most `burst` + `rate` × its length."""
    return max(j - i + 1 - burst - rate * (moments[j] - moments[i])
               for i in range(len(moments)) for j in range(i, len(moments)))


def entries(agents: int, calls_each: int, limits: list[SharedLimit]) -> list[float]:
    """`agents` agents, agent n using limits[n % len(limits)], each entering `calls_each` times."""
    moments: list[float] = []

    async def agent(limit: SharedLimit) -> None:
        for _ in range(calls_each):
            async with limit:
                moments.append(time.monotonic())
            await asyncio.sleep(0)  # the call itself, instantly

    async def main() -> None:
        async with asyncio.timeout(20):
            await asyncio.gather(*(agent(limits[n % len(limits)]) for n in range(agents)))

    asyncio.run(main())
    return sorted(moments)


@pytest.mark.parametrize("burst", [1, 3])
def test_agents_sharing_one_limit_keep_to_its_rate_together_and_come_close_to_it(burst):
    rate = 50.0
    moments = entries(4, 8, [SharedLimit(rate, burst=burst)])
    assert len(moments) == 32
    assert worst_excess(moments, burst, rate) <= 0.01, "faster than the rate"
    achieved = (len(moments) - burst) / (moments[-1] - moments[0])
    assert achieved >= 0.5 * rate, f"{achieved:.1f} calls/s after the burst, the rate is {rate:g}/s"


def test_the_burst_goes_at_once_then_calls_wait_for_the_rate():
    rate = 10.0
    moments = entries(5, 1, [SharedLimit(rate, burst=3)])
    assert moments[2] - moments[0] < 0.5 / rate  # three at once: no wait
    assert moments[3] - moments[0] >= 1 / rate - 1e-3  # the fourth waits for the bucket to refill one


def test_a_limit_per_agent_does_not_add_up_to_the_rate():
    """The mistake the shared object prevents: each agent its own limit, all together too fast."""
    rate = 50.0
    moments = entries(4, 8, [SharedLimit(rate) for _ in range(4)])
    assert worst_excess(moments, 1, rate) > 5


@pytest.mark.parametrize("per_second, burst", [(0, 1), (-1, 1), (5, 0)])
def test_a_rate_or_burst_that_allows_nothing_is_refused(per_second, burst):
    with pytest.raises(ValueError):
        SharedLimit(per_second, burst)
