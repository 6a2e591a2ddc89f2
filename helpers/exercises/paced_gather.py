"""Exercise of 06_ten_thousand_calls: `paced_gather(ask, prompts, per_second)`, every prompt's answer
in order, the calls overlapping, and never more than `per_second` calls started in any second.

A rate limit counts the calls that *start* in a span of time, so a pacer spaces the starts, one
every 1 / per_second seconds, whether or not the earlier ones have answered, and after a late
wake-up it does not make up the lost time with a burst (a burst is what the limit refuses). A
Semaphore alone does not do it (the lesson measured that), and neither does awaiting one call
after another: fast calls go faster than the limit, slow ones far slower. The check reads the
journal of the exercise's own API key, so it judges what the server saw, not what the code says.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING, Any

from helpers.exercises.journal_checks import answers_in_order
from helpers.exercises.own_key import OwnKeyExercise
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport
from helpers.measuring.spans import max_overlap
from helpers.workloads.rate_limits import Limits, set_limits

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

LIMITS = Limits(rpm=6_000, tpm=600_000)  # the key's limits: 100 calls a second at most
PER_SECOND = 80  # the pace asked for: under the limit, with room to spare
PROMPTS = tuple(f"In 20 words, tell me fact {number} about pacing." for number in range(1, 201))
MODEL = "sim-fast"  # a third of a second a call: paced calls overlap, and awaiting each in turn is far too slow
SLACK_STARTS = 1.1  # a late wake-up followed by on-time starts may bunch a few: allow 10 % and one more
SLACK_SECONDS = 1.25  # the starts may spread a quarter longer than the pace allows, plus SLACK_EXTRA
SLACK_EXTRA = 0.25


class PacedGatherExercise(OwnKeyExercise):
    """A fresh API key with the lesson's limits, an `ask(prompt)` without retries, and the check."""

    prompts = PROMPTS
    per_second = PER_SECOND

    def __init__(self, server: ServerHandle, seed: int = 0) -> None:
        super().__init__(server, seed)
        set_limits(server, LIMITS)
        self.client = self.client.with_options(max_retries=0)  # a 429 comes back to the learner's code

    async def ask(self, prompt: str) -> str:
        reply = await self.client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content

    def check(self, results: list[Any]) -> CheckReport:
        return report_progress(self.server, check(results, self.journal(), self.seed))


def most_starts_in_a_second(arrivals: list[float]) -> int:
    """The most requests that arrived within any one second (a window starting at each arrival)."""
    arrivals = sorted(arrivals)
    return max((bisect.bisect_left(arrivals, start + 1.0) - index for index, start in enumerate(arrivals)), default=0)


def check(results: list[Any], journal: list[dict], seed: int) -> CheckReport:
    """Every answer, in order; no 429; no second with too many starts; not much slower than the pace."""
    report = CheckReport(f"paced_gather: {len(PROMPTS)} prompts, at most {PER_SECOND} calls started a second")
    if not report.expect_one_per_prompt(results, len(PROMPTS)):
        return report
    if unawaited := sum(not isinstance(result, (str, BaseException)) for result in results):
        report.expect(False, f"{unawaited} entries are neither answers nor errors: did you return tasks or "
                             "coroutines? asyncio.gather(*tasks) awaits them and returns their results")
        return report
    refused = sum(entry["status"] == 429 for entry in journal)
    failed = [result for result in results if isinstance(result, BaseException)]
    report.expect(not failed and not refused,
                  f"the server refused {refused} calls with 429, and {len(failed)} calls failed: start them at "
                  f"the pace asked, not all at once" if failed or refused else "no call was refused")
    if not failed:
        answers_in_order(report, results, PROMPTS, seed)
    starts = most_starts_in_a_second([entry["arrival"] for entry in journal])
    report.expect(starts <= SLACK_STARTS * PER_SECOND + 1,
                  f"at most {starts} calls started within any one second" if starts <= SLACK_STARTS * PER_SECOND + 1
                  else f"{starts} calls started within one second, more than {PER_SECOND}: wait 1 / per_second "
                       "between starts, and after a late wake-up do not catch up with a burst")
    arrivals = [entry["arrival"] for entry in journal]  # the pace is of starts: the last call's own time is not its fault
    span = max(arrivals) - min(arrivals)
    allowed = SLACK_SECONDS * (len(PROMPTS) - 1) / PER_SECOND + SLACK_EXTRA
    report.expect(span <= allowed,
                  f"the calls started over {span:.2f} s, within the {allowed:.2f} s the pace allows" if span <= allowed
                  else f"the calls started over {span:.2f} s, more than the {allowed:.2f} s the pace allows: start "
                       "each call as a task (asyncio.create_task) without awaiting the one before, then gather them")
    in_flight = max_overlap([(entry["arrival"], entry["end"]) for entry in journal if entry["end"] is not None])
    report.expect(in_flight >= 2, f"up to {in_flight} calls were in flight at once" if in_flight >= 2
                  else "the server never saw two calls at once: start each call without waiting for the one before")
    return report
