"""The check of 08_serving_users accepts the solution and names the usual slips: by hand, then live."""

import asyncio
import math
from collections.abc import Iterator

import pytest

from helpers.exercises.report import CheckReport
from helpers.exercises.service_sizing import CASES, DEADLINE_CALLS, ServiceSizingExercise, arithmetic, live
from helpers.loadgen.outcomes import LoadRun, Outcome
from helpers.workloads.rate_limits import Limits, start_limited_server
from lessons.solutions.service_sizing import sizes


def verdict(function) -> CheckReport:
    report = CheckReport("sizes")
    arithmetic(report, function)
    return report


def test_the_solution_is_right_on_every_case_worked_by_hand() -> None:
    report = verdict(sizes)
    assert report.passed, str(report)
    assert [sizes(*case) for case in CASES] == [(100, 200), (25, 75), (20, 0)]


@pytest.mark.parametrize(("wrong", "named"), [
    (lambda rate, call, deadline: (round(rate), sizes(rate, call, deadline)[1]), "is the rate, not the calls in flight"),
    (lambda rate, call, deadline: (math.floor(rate * deadline), sizes(rate, call, deadline)[1]),
     "the deadline bounds waiting, not calls"),
    (lambda rate, call, deadline: (sizes(rate, call, deadline)[0], None), "is no bound"),
    (lambda rate, call, deadline: (sizes(rate, call, deadline)[0], math.floor(rate * deadline)),
     "leave the call's seconds out of the deadline"),
    (lambda rate, call, deadline: (rate * call, sizes(rate, call, deadline)[1]), "not a whole number of calls"),
    (lambda rate, call, deadline: (sizes(rate, call, deadline)[0], math.floor(rate * (deadline - call))),
     "holds 0 requests or more"),
])
def test_a_usual_slip_is_named(wrong, named: str) -> None:
    problems = verdict(wrong).problems
    assert len(problems) == 1 and named in problems[0], problems


def test_something_other_than_a_pair_is_refused() -> None:
    assert "return a pair" in verdict(lambda *numbers: 100).problems[0]


def overloaded(served: int, shed: int, seconds_each: float) -> LoadRun:
    """An open-loop run of 5 s: `served` answers of `seconds_each` (the last ends at 5 s + that), and `shed` quick 503s."""
    outcomes = [Outcome(n, 5 * n / served, None, 5 * n / served + seconds_each, 200, None, None) for n in range(served)]
    outcomes += [Outcome(served + n, 5 * n / max(shed, 1), None, 5 * n / max(shed, 1) + 0.001, 503, 1.0, "HTTP 503")
                 for n in range(shed)]
    return LoadRun("open", 200, 5, outcomes)


def test_a_good_live_run_passes_and_a_queue_without_shedding_or_a_gate_that_draws_429s_does_not() -> None:
    report = CheckReport("live")
    live(report, overloaded(700, 500, 2.0), [{"status": 200}] * 700, per_second=100, deadline=3.0,
         max_in_flight=100, max_queue=200)
    assert report.passed, str(report)
    report = CheckReport("live")
    live(report, overloaded(500, 0, 2.0), [{"status": 200}] * 450 + [{"status": 429}] * 50, per_second=100,
         deadline=3.0, max_in_flight=130, max_queue=200)
    assert any("refused 50 of 500" in problem for problem in report.problems)
    assert any("none of 500 requests was shed" in problem for problem in report.problems)


@pytest.fixture(scope="module")
def upstream() -> Iterator:
    with start_limited_server("sim-flash", Limits(rpm=6_000)) as handle:
        yield handle


@pytest.mark.slow
def test_the_solution_passes_live_and_the_stub_waits_for_right_sizes(upstream) -> None:
    exercise = ServiceSizingExercise(upstream, per_second=100, seconds_per_call=0.3)
    assert exercise.deadline == pytest.approx(DEADLINE_CALLS * 0.3)
    report = asyncio.run(exercise.check(sizes))
    assert report.passed, str(report)
    stub = asyncio.run(exercise.check(lambda *numbers: (32, None)))
    assert stub.problems[-1] == "the live run waits until the sizes above are right"
