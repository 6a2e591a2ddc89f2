"""Exercise of 08_serving_users: size a service's gate and queue from a rate limit, a call's time and a deadline.

The learner writes `sizes(per_second, seconds_per_call, deadline) -> (max_in_flight, max_queue)`:

- **max_in_flight**, the upstream calls the service lets run at once: Little's law, in flight =
  rate × time per call. Fewer leave the rate limit unused; more are refused with 429s.
- **max_queue**, the requests allowed to wait for the gate: the gate lets `per_second` through a
  second, so the request at the back of a full queue waits max_queue ÷ per_second, then needs its
  own call. For it to be answered within the deadline, max_queue ≤ per_second × (deadline −
  seconds_per_call); any further request is better told at once to come back (503).

The check first tries the function on a few sizes worked out by hand, naming the usual slips
(a rate where calls in flight are meant, the deadline without the call's own time, no bound at
all). Then it starts the lesson's service with the learner's sizes for the lesson's numbers,
offers it twice what the rate limit allows for a few seconds, and reads what happened: answers
served near the rate, no 429 from the provider, the served users' p95 within the deadline, and
the rest shed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

from helpers.drawing.formatting import format_seconds
from helpers.exercises.near_bound import expect_near_bound
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport
from helpers.loadgen import LoadRun, open_loop
from helpers.mode import by_mode

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

Sizes = Callable[[float, float, float], Any]
DEADLINE_CALLS = 3  # the lesson's deadline: three calls' time, so two of them may be spent waiting
OVERLOAD = 2  # the check offers twice what the rate limit allows
SECONDS = by_mode(learner=5.0, test=3.0)  # of offered load
LOW = 0.8  # a size may fall this far below the exact one (it wastes a little of the limit) ...
HIGH_EXTRA = 1  # ... and exceed it by one (rounding), no more
THROUGHPUT_SHARE = 0.85  # of the rate limit, served
REFUSED_SHARE = 0.02  # of the upstream calls, refused with 429 (a slow call now and then lets one more start)
P95_MARGIN, P95_SLACK = 1.1, 0.1  # the served p95 against the deadline: within 1.1 × it + 0.1 s


class Case(NamedTuple):
    """Sizes worked out by hand: per_second × seconds_per_call, and per_second × (deadline − seconds_per_call)."""

    per_second: float
    seconds_per_call: float
    deadline: float

    @property
    def in_flight(self) -> float:
        return self.per_second * self.seconds_per_call

    @property
    def queue(self) -> float:
        return max(0.0, self.per_second * (self.deadline - self.seconds_per_call))


CASES = (Case(100, 1.0, 3.0), Case(10, 2.5, 10.0), Case(50, 0.4, 0.3))  # the last: the deadline is shorter than a call


def fits(value: Any, exact: float, lowest: int) -> bool:
    """An integer within LOW × exact .. exact + HIGH_EXTRA, and never below `lowest`."""
    return (isinstance(value, int) and not isinstance(value, bool) and value >= lowest
            and max(lowest, math.floor(LOW * exact)) <= value <= exact + HIGH_EXTRA)


def near(value: Any, target: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value - target) <= max(1.0, 0.05 * target)


def in_flight_problem(got: Any, case: Case) -> str:
    """What is wrong with a max_in_flight, in a learner's words; "" if it is right."""
    if fits(got, case.in_flight, lowest=1):
        return ""
    where = f"for {case.per_second:g} calls/s of {format_seconds(case.seconds_per_call)}: max_in_flight={got!r}"
    if not isinstance(got, int) or isinstance(got, bool):
        return f"{where}, not a whole number of calls: round down with math.floor, and never below 1"
    if near(got, case.per_second):
        return f"{where} is the rate, not the calls in flight: multiply by the seconds each call takes (Little's law)"
    if near(got, case.per_second * case.deadline):
        return f"{where}: the deadline bounds waiting, not calls; in flight = rate × seconds per call"
    return f"{where}, expected about {case.in_flight:g}: calls in flight = rate × seconds per call"


def queue_problem(got: Any, case: Case) -> str:
    """What is wrong with a max_queue, in a learner's words; "" if it is right."""
    if fits(got, case.queue, lowest=0):
        return ""
    where = (f"for {case.per_second:g} calls/s of {format_seconds(case.seconds_per_call)} and a deadline of "
             f"{format_seconds(case.deadline)}: max_queue={got!r}")
    if got is None:
        return f"{where} is no bound: a queue that grows without one makes every later user wait longer"
    if not isinstance(got, int) or isinstance(got, bool):
        return f"{where}, not a whole number of requests: round down with math.floor"
    if near(got, case.per_second * case.deadline):
        return (f"{where}: the request at the back waits max_queue ÷ rate, then needs its own call; "
                "leave the call's seconds out of the deadline first")
    if got < 0:
        return f"{where}: a queue holds 0 requests or more; when the deadline is shorter than a call, hold none"
    return f"{where}, expected about {case.queue:g}: waiting = max_queue ÷ rate, and the call comes after it"


def arithmetic(report: CheckReport, sizes: Sizes) -> bool:
    """The function on the hand-worked cases: one line for the gate, one for the queue."""
    problems = {"max_in_flight": [], "max_queue": []}
    for case in CASES:
        got = sizes(*case)
        if not (isinstance(got, tuple) and len(got) == 2):
            return report.expect(False, f"sizes{tuple(case)} returned {got!r}: return a pair, "
                                        "(max_in_flight, max_queue)")
        problems["max_in_flight"].append(in_flight_problem(got[0], case))
        problems["max_queue"].append(queue_problem(got[1], case))
    for name, found in problems.items():
        wrong = [problem for problem in found if problem]
        report.expect(not wrong, wrong[0] if wrong else f"{name} is right for all {len(CASES)} cases worked by hand")
    return report.passed


class ServiceSizingExercise:
    """The lesson's rate limit and call time, a deadline of DEADLINE_CALLS calls, and the check."""

    def __init__(self, upstream: ServerHandle, per_second: float, seconds_per_call: float) -> None:
        if not getattr(upstream, "is_simulator", False):
            raise RuntimeError("this exercise reads the simulated server's journal: run it without LLM_COURSE_BASE_URL")
        self.upstream, self.per_second, self.seconds_per_call = upstream, per_second, seconds_per_call
        self.deadline = DEADLINE_CALLS * seconds_per_call

    async def check(self, sizes: Sizes) -> CheckReport:
        report = CheckReport(f"sizes: a gate and a queue for {self.per_second:g} calls/s and a deadline of "
                             f"{format_seconds(self.deadline)}")
        if not arithmetic(report, sizes):
            report.expect(False, "the live run waits until the sizes above are right")
            return report
        max_in_flight, max_queue = sizes(self.per_second, self.seconds_per_call, self.deadline)
        from helpers.service import start_service  # the service's modules load only when the check runs

        service = await asyncio.to_thread(start_service, self.upstream, max_in_flight=max_in_flight,
                                          max_queue=max_queue)
        began = time.time()
        try:
            run = await open_loop(service.base_url, rate=OVERLOAD * self.per_second, seconds=SECONDS,
                                  model=self.upstream.model, seed=8)
        finally:
            await asyncio.to_thread(service.stop)
        calls = [entry for entry in self.upstream.requests(since=began) if entry["status"] in (200, 429)]
        live(report, run, calls, self.per_second, self.deadline, max_in_flight, max_queue)
        return await asyncio.to_thread(report_progress, self.upstream, report)


def live(report: CheckReport, run: LoadRun, calls: list[dict], per_second: float, deadline: float,
         max_in_flight: int, max_queue: int) -> None:
    """The verdict on one overloaded run of the service with the learner's sizes."""
    sizes = f"max_in_flight={max_in_flight}, max_queue={max_queue}"
    report.expect(run.throughput >= THROUGHPUT_SHARE * per_second,
                  f"with {sizes}: {run.throughput:.0f} answers/s served, near the {per_second:g} the limit allows"
                  if run.throughput >= THROUGHPUT_SHARE * per_second else
                  f"with {sizes}: {run.throughput:.0f} answers/s served, below {THROUGHPUT_SHARE:.0%} of the "
                  f"{per_second:g} the limit allows: is the gate too narrow?")
    refused = sum(entry["status"] == 429 for entry in calls)
    report.expect(refused <= REFUSED_SHARE * max(1, len(calls)),
                  f"the provider refused {refused} of {len(calls)} upstream calls with 429"
                  + ("" if refused <= REFUSED_SHARE * max(1, len(calls)) else ": the gate lets too many calls start"))
    served = run.served
    if not served:
        report.expect(False, "no request was served: is max_in_flight at least 1?")
        return
    p95 = run.latency()[95]
    expect_near_bound(report, p95, deadline, f"the served users' p95 {format_seconds(p95)} against the deadline "
                                             f"{format_seconds(deadline)}",
                      "The queue holds more than the deadline leaves time for: shorten it",
                      margin=P95_MARGIN, slack=P95_SLACK)
    report.expect(run.shed > 0, f"{run.shed} of {run.sent} requests told at once to come back (503)" if run.shed
                  else f"none of {run.sent} requests was shed at twice the rate: is the queue bounded?")
