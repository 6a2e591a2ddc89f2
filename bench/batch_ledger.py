"""Every request exactly once? Count it twice over: in the runner's results file and in the server's journal.

The results file says what the runner *recorded*: one line per custom_id, each in the Batch API's
output format. The journal says what the server *did*, whatever the runner wrote: it answered a
request (status 200) once per answer it sent, and it notes on each attempt how many attempts of
the same request came before it (the `x-stainless-retry-count` header, journal field
`retry_count`). So two questions a results file alone cannot answer are answered here:
- did the server answer some request twice (a retry after an answer that was only slow, or a
  resend after a kill)? Then it answered more times than there are results;
- how many requests did a run send that an earlier run had sent already? First attempts beyond
  one per request: after a SIGKILL, those are the requests the killed run had in flight.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

ANSWERED = 200


class Ledger(NamedTuple):
    """What the results file and the journal say about one batch, which may span several runs."""

    requests: int  # in the input file
    results: int  # lines in the results file
    distinct_ids: int  # distinct custom_ids among those lines
    succeeded: int  # lines with status 200 and no error
    well_formed: int  # lines in the Batch API's output format
    answered: int  # journal: answers the server sent (status 200)
    backed: int  # result lines whose request_id is an answer of the journal, each answer backing one line at most
    first_attempts: int  # journal: attempts that were a request's first (retry_count 0)
    attempts: int  # journal: every attempt
    statuses: dict[str, int]  # journal: attempts by HTTP status ("429", "500", "499": timed out, "444": dropped...)

    @property
    def duplicate_results(self) -> int:
        """custom_ids written more than once."""
        return self.results - self.distinct_ids

    @property
    def answered_twice(self) -> int:
        """Answers the server sent that no result line holds: work paid for and thrown away, each one a request
        answered again (an answer that came after the runner gave up, or that a kill cut off before it was written).
        A request never answered at all shows in `succeeded` instead."""
        return self.answered - self.backed

    @property
    def sent_twice(self) -> int:
        """Requests started (first attempt) more than once: by a resumed run, the ones its predecessor had sent."""
        return self.first_attempts - self.requests


def is_batch_output(line: dict) -> bool:
    """One line of the OpenAI Batch API's output file, for a request that succeeded:
    {"id": "batch_req_...", "custom_id": ..., "response": {"status_code": 200, "request_id": ..., "body": {...}},
    "error": null}."""
    response = line.get("response")
    return (isinstance(line.get("id"), str) and line["id"].startswith("batch_req_")
            and isinstance(line.get("custom_id"), str) and "error" in line and line["error"] is None
            and isinstance(response, dict) and response.get("status_code") == ANSWERED
            and isinstance(response.get("request_id"), str)
            and isinstance(response.get("body"), dict) and response["body"].get("object") == "chat.completion")


def succeeded(line: dict) -> bool:
    response = line.get("response") or {}
    return line.get("error") is None and response.get("status_code") == ANSWERED


def ledger(requests: int, results: list[dict], journal: list[dict]) -> Ledger:
    """Check `results` (the results file's lines) against `journal` (the server's entries for the same batch)."""
    answers = Counter(entry["id"] for entry in journal if entry["status"] == ANSWERED)
    backed = 0
    for line in results:
        request_id = (line.get("response") or {}).get("request_id")
        if answers[request_id] > 0:
            answers[request_id] -= 1  # each answer backs one result line at most
            backed += 1
    return Ledger(requests=requests, results=len(results), distinct_ids=len({line["custom_id"] for line in results}),
                  succeeded=sum(map(succeeded, results)), well_formed=sum(map(is_batch_output, results)),
                  answered=sum(entry["status"] == ANSWERED for entry in journal), backed=backed,
                  first_attempts=sum(entry["retry_count"] == 0 for entry in journal), attempts=len(journal),
                  statuses=dict(sorted(Counter(str(entry["status"]) for entry in journal).items())))
