"""Checks that exercises share: are the answers in their prompts' slots, and how many requests did
the server see in flight at once? The server's journal answers the second from the server's side,
so a check cannot be fooled by what the learner's code reports about itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from helpers.exercises.report import CheckReport
from helpers.llm_server.text import answer
from helpers.measuring.spans import max_overlap


def answers_in_order(report: CheckReport, results: Sequence[Any], prompts: Sequence[str], seed: int) -> bool:
    """Each answer must be the simulator's answer to the prompt in the same slot (exceptions are skipped)."""
    wrong = [i for i, result in enumerate(results)
             if not isinstance(result, BaseException) and result != answer(prompts[i], seed)]
    if not wrong:
        return report.expect(True, "every answer is in its prompt's slot")
    return report.expect(False, f"{len(wrong)} slots hold the wrong answer (first: slot {wrong[0]}). Results "
                                "taken as they finish (as_completed) come in finishing order: keep each one's "
                                "index, or use a call that returns results in the order of its inputs")


def in_flight_within(report: CheckReport, journal: list[dict], limit: int, how: str, at_once: str) -> bool:
    """The server saw at most `limit` requests at once, and more than one (or nothing ran concurrently)."""
    in_flight = max_overlap([(entry["arrival"], entry["end"]) for entry in journal if entry["end"] is not None])
    if in_flight > limit:
        return report.expect(False, f"the server saw {in_flight} requests in flight at once, more than {limit}: {how}")
    if in_flight < 2:
        return report.expect(False, f"the server never saw two requests at once: the calls ran one after the "
                                    f"other. {at_once}")
    return report.expect(True, f"at most {in_flight} requests were in flight at once, never above {limit}")
