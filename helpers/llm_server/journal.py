"""A record of every request, the counters behind /sim/stats, and the ids requests are known by.

Time stamps are Unix epoch seconds (`time.time()`), so a notebook in another process can place
them on its own timeline. A Batch API request (batches.py) is an entry too, with its `batch_id`
set: /sim/stats counts those apart (`batch_completed`, `batch_failed`), so `completed`,
`rate_limited` and `errors` stay the online calls' own.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

# Request ids need only differ, not be secret: one generator seeded once by the OS is several
# times cheaper than uuid4, which asks the OS for fresh randomness on every request. A forked
# child (a server started with fork) reseeds its own, or it would repeat its parent's ids.
ID_SOURCE = random.Random()
os.register_at_fork(after_in_child=ID_SOURCE.seed)


def request_id(prefix: str, separator: str = "-") -> str:
    """A new id, as OpenAI's look: `chatcmpl-` (or `file-`, `batch_`, ...) and 24 hex digits."""
    return f"{prefix}{separator}{ID_SOURCE.getrandbits(96):024x}"


@dataclass
class Entry:
    id: str
    key: str
    model: str
    stream: bool
    retry_count: int
    arrival: float = field(default_factory=time.time)
    queue_wait: float = 0.0
    start: float | None = None
    first_token: float | None = None
    end: float | None = None
    status: int | None = None  # HTTP status; 499: the client gave up waiting; 444: we dropped the connection
    tokens_in: int = 0
    tokens_out: int = 0
    retry_after: float | None = None  # on a 429: the seconds the client was told to wait
    limited_by: str | None = None  # on a rate-limit 429: "key requests", "room tokens", ...
    token_cost: int = 0  # the tokens the request reserved from the tokens-per-minute limits
    fault: str | None = None  # the fault injected, if any: error, hang, drop, slow_first_byte, overload, ...
    batch_id: str | None = None  # the batch a Batch API request came in; None for an online call
    tool_calls: int = 0  # tool calls in the answer (over all its choices)
    tool_messages: int = 0  # role "tool" messages the request carried since its latest user message


class Journal:
    """Entries in arrival order, plus live counts of what is queued and in flight."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.queued: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        return entry

    def since(self, moment: float | None) -> list[dict]:
        return [asdict(e) for e in self.entries if moment is None or e.arrival > moment]

    def stats(self) -> dict:
        per_key: dict[str, Counter] = defaultdict(Counter)
        for entry in self.entries:
            counts = per_key[entry.key]
            if entry.batch_id is not None:
                counts["batch_completed" if entry.status == 200 else "batch_failed"] += 1
            elif entry.status == 200:
                counts["completed"] += 1
            elif entry.status == 429 and entry.limited_by:
                counts["rate_limited"] += 1
            elif entry.status is not None:
                counts["errors"] += 1
            if entry.fault:
                counts["faults"] += 1
        for key in set(self.queued) | set(self.in_flight):
            per_key[key]["queued"] = self.queued[key]
            per_key[key]["in_flight"] = self.in_flight[key]
        names = ("in_flight", "queued", "completed", "rate_limited", "errors", "faults", "batch_completed",
                 "batch_failed")
        tables = {key: {name: counts[name] for name in names} for key, counts in per_key.items()}
        totals = {name: sum(table[name] for table in tables.values()) for name in names}
        return {**totals, "per_key": tables}

    def clear(self) -> None:
        self.entries.clear()
