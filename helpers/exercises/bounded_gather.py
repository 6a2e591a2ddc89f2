"""Exercise of 03_asyncio: `bounded_gather(prompts, limit)`, every prompt in flight on one thread,
but never more than `limit` at once, and the answers in the prompts' order.

`asyncio.gather` alone keeps the order but sends everything at once; an `asyncio.Semaphore` held
around each call caps how many are in flight. The check reads the simulated server's journal for
the exercise's own API key, so it counts what the server saw at once, not what the code claims.
"""

from __future__ import annotations

from typing import Any

from helpers.exercises.journal_checks import answers_in_order, in_flight_within
from helpers.exercises.own_key import OwnKeyExercise
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport

LIMIT = 5
PROMPTS = tuple(f"In 20 words, tell me fact {number} about event loops." for number in range(1, 31))


class BoundedGatherExercise(OwnKeyExercise):
    """A fresh API key on `server`, an async `ask(prompt)` that uses it, and the check."""

    prompts = PROMPTS
    limit = LIMIT

    def check(self, results: list[Any]) -> CheckReport:
        return report_progress(self.server, check(results, self.journal(), self.seed))


def check(results: list[Any], journal: list[dict], seed: int) -> CheckReport:
    """Completeness, order, and at most LIMIT requests in flight according to the server."""
    report = CheckReport(f"bounded_gather: {len(PROMPTS)} prompts, at most {LIMIT} in flight")
    if not report.expect_one_per_prompt(results, len(PROMPTS)):
        return report
    if any(not isinstance(result, str) for result in results):
        report.expect(False, "every entry should be an answer (a str): did you return the coroutines or tasks "
                             "instead of awaiting them? asyncio.gather(*coroutines) awaits them all")
        return report
    if len(journal) != len(PROMPTS):
        report.expect(False, f"the server saw {len(journal)} requests from this key, not {len(PROMPTS)}: create a "
                             "new BoundedGatherExercise before each attempt")
        return report
    answers_in_order(report, results, PROMPTS, seed)
    in_flight_within(report, journal, LIMIT,
                     how=f"hold an asyncio.Semaphore({LIMIT}) around each call, created once for the whole batch",
                     at_once="Start all the coroutines together with asyncio.gather, not one `await` after another")
    return report
