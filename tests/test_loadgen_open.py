"""open_loop: seeded Poisson arrivals sent on time whatever the answers do; every kind of answer counted."""

import asyncio

import pytest
from simulator_support import simulator_fixtures

from helpers.loadgen import open_loop

server, fresh, DEFAULTS = simulator_fixtures(time_scale=0.1, capacity=100_000)


def arrivals(base_url, **settings):
    return asyncio.run(open_loop(base_url, model="sim-flash", **{"rate": 100, "seconds": 0.5} | settings))


@pytest.mark.slow
def test_arrivals_are_seeded_poisson_and_do_not_wait_for_answers(fresh):
    fresh.configure(capacity=1)  # one answer at a time: a queue grows at the server
    run = arrivals(fresh.base_url, rate=60, seconds=0.5, max_tokens=4)
    assert run.kind == "open" and run.offered == 60
    assert len(run.served) == run.sent == len(fresh.requests())
    assert 15 <= run.sent <= 50  # 30 expected; the seed fixes it
    assert arrivals(fresh.base_url, rate=60, seconds=0.5, max_tokens=4).sent == run.sent
    assert max(o.sent for o in run.outcomes) < 0.5
    # sent on their own clock: most requests were sent before the first answer came back
    first_answer = min(o.done for o in run.outcomes)
    assert sum(1 for o in run.outcomes if o.sent < first_answer) >= 3
    assert run.wall_seconds > 2 * 0.5  # the queue drained long after the arrivals stopped


def test_rate_limits_shedding_and_failures_are_told_apart(fresh):
    fresh.configure(rpm=60, burst_seconds=1)  # one request a simulated second, a burst of one
    limited = arrivals(fresh.base_url)
    assert limited.rate_limited > limited.sent / 2 and len(limited.served) >= 1
    assert all(o.retry_after is not None for o in limited.outcomes if o.status == 429)
    assert limited.failed == limited.lost == limited.shed == 0

    fresh.configure(rpm=None, overload_rate=1.0)
    shed = arrivals(fresh.base_url)
    assert shed.shed == shed.sent and shed.failed == 0
    assert shed.row()["served"] == 0 and shed.row()["p99 s"] != shed.row()["p99 s"]  # NaN: nobody was served

    fresh.configure(overload_rate=0.0, error_rate=1.0)
    failed = arrivals(fresh.base_url)
    assert failed.failed == failed.sent and failed.lost == 0
    assert {o.error for o in failed.outcomes} == {"HTTP 500"}


def test_no_answer_is_lost_quietly(fresh):
    fresh.configure(hang_rate=1.0)
    hung = arrivals(fresh.base_url, timeout=0.3)
    assert hung.lost == hung.failed == hung.sent > 0
    assert {o.error for o in hung.outcomes} == {"no answer within 0.3 s"}
    assert all(0.3 <= o.done - o.sent < 1 for o in hung.outcomes)

    fresh.configure(hang_rate=0.0, drop_rate=1.0)
    cut = arrivals(fresh.base_url, stream=True)
    assert cut.lost == cut.sent > 0 and not cut.served

    refused = arrivals("http://127.0.0.1:9/v1", rate=20)
    assert refused.lost == refused.sent > 0
    assert all("Connect" in o.error for o in refused.outcomes)
