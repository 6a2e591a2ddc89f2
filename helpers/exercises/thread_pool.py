"""Exercise of 02_threading: fetch 40 prompts with a thread pool, in order, surviving one failure.

The rules are the ones a real batch job has:

- at most 8 requests in flight at once (a provider's concurrency limit);
- the answers come back in the order of the prompts, whatever order the calls finish in;
- one call fails, and the batch still returns: the failure is *reported* in its slot, as the
  exception object, instead of being raised and losing the 39 answers that worked.

The failure is real: the simulated server injects an HTTP 500. `ThreadPoolExercise` gives the
learner a fresh API key chosen so that exactly one of its first 40 requests fails (faults are
drawn from a stream seeded by server seed, key and the key's request number; see
helpers/llm_server/faults.py). The check then reads the server's journal for that key, so it
sees how many requests were in flight at once, from the server's side.
"""

from __future__ import annotations

import itertools
import uuid
from typing import TYPE_CHECKING, Any

from helpers.exercises.journal_checks import answers_in_order, in_flight_within
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport
from helpers.llm_server.faults import Faults
from helpers.llm_server.latency import request_rng

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

MAX_WORKERS = 8
TOPICS = ("threads", "the GIL", "a thread pool", "a race condition", "a lock", "a queue", "an event loop",
          "a process pool", "rate limits", "retries")
QUESTIONS = ("In 20 words, what is {}?", "In 20 words, when should I avoid {}?",
             "In 20 words, how do I test {}?", "In 20 words, why does {} matter for LLM calls?")
PROMPTS = tuple(question.format(topic) for topic in TOPICS for question in QUESTIONS)  # 40 prompts
ERROR_RATE = 1 / len(PROMPTS)


def failing_requests(seed: int, key: str, requests: int) -> list[int]:
    """Which of a key's first `requests` requests the server will answer with a 500."""
    faults = Faults(error_rate=ERROR_RATE)
    return [number for number in range(requests) if faults.draw(request_rng(seed, key, number)) == "error"]


def key_with_one_failure(seed: int, prefix: str) -> str:
    """A new API key, one of whose first 40 requests fails: the server's own draw, done in advance."""
    for attempt in itertools.count():
        key = f"{prefix}-{attempt}"
        if len(failing_requests(seed, key, len(PROMPTS))) == 1:
            return key
    raise AssertionError("unreachable: itertools.count() never ends")


class ThreadPoolExercise:
    """A fresh key on `server` whose requests fail once in the first 40, and the check of the result.

    `ask(prompt)` is the one call to make per prompt. Retries are off on its client: the SDK would
    otherwise retry the 500 and hide the failure this exercise is about.
    """

    prompts = PROMPTS

    def __init__(self, server: ServerHandle, seed: int = 0) -> None:
        if not getattr(server, "is_simulator", False):
            raise RuntimeError("this exercise reads the simulated server's journal: run it without LLM_COURSE_BASE_URL")
        self.server = server
        self.seed = seed
        self.key = key_with_one_failure(seed, f"sk-exercise-{uuid.uuid4().hex[:8]}")
        server.configure(seed=seed, key_faults={self.key: {"error_rate": ERROR_RATE}})
        self.client = server.client(api_key=self.key, max_retries=0)

    def ask(self, prompt: str) -> str:
        reply = self.client.chat.completions.create(model=self.server.model,
                                                    messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content

    def check(self, results: list[Any]) -> CheckReport:
        journal = [entry for entry in self.server.requests() if entry["key"] == self.key]
        return report_progress(self.server, check(results, journal, self.seed))


def check(results: list[Any], journal: list[dict], seed: int) -> CheckReport:
    """Order, completeness, at most 8 in flight (from the server's journal), one failure reported."""
    report = CheckReport("Fetch 40 prompts with at most 8 threads")
    if not isinstance(results, list) or len(results) != len(PROMPTS):
        got = len(results) if isinstance(results, list) else type(results).__name__
        report.expect(False, f"return a list with one entry per prompt, {len(PROMPTS)} in all; got {got}. "
                             "A failed prompt keeps its slot: put the exception there")
        return report
    if len(journal) > len(PROMPTS):
        report.expect(False, f"the server saw {len(journal)} requests from this key, not {len(PROMPTS)}: create a "
                             "new ThreadPoolExercise before each attempt, so the failure falls where expected")
        return report

    failures = [i for i, result in enumerate(results) if isinstance(result, BaseException)]
    answers_in_order(report, results, PROMPTS, seed)

    server_errors = sum(entry["status"] == 500 for entry in journal)
    if len(failures) == 1 and server_errors == 1:
        report.expect(True, f"the failure is reported in slot {failures[0]} as "
                            f"{type(results[failures[0]]).__name__}, and the other 39 answers were kept")
    elif not failures:
        report.expect(False, f"the server failed {server_errors} request(s), but no slot holds an exception: "
                             "catch it where you call future.result() and store it in that prompt's slot "
                             "(not None, which says nothing about what went wrong)")
    else:
        report.expect(False, f"{len(failures)} slots hold exceptions, the server failed {server_errors}: "
                             "only the request the server failed should be reported")

    in_flight_within(report, journal, MAX_WORKERS, how=f"ThreadPoolExecutor(max_workers={MAX_WORKERS}) caps it",
                     at_once="Submit them all to the pool before waiting for any result")
    return report
