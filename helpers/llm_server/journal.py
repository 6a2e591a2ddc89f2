"""A record of the latest requests, the counters behind /sim/stats, and the ids requests are known by.

Time stamps are Unix epoch seconds (`time.time()`), so a notebook in another process can place
them on its own timeline. A Batch API request (batches.py) is an entry too, with its `batch_id`
set: /sim/stats counts those apart (`batch_completed`, `batch_failed`), so `completed`,
`rate_limited` and `errors` stay the online calls' own.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter, defaultdict, deque
from dataclasses import asdict, dataclass, field
from itertools import chain

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


COUNTS = ("in_flight", "queued", "completed", "rate_limited", "errors", "faults", "batch_completed", "batch_failed")


def tally(counts: Counter[str], entry: Entry) -> None:
    """Count one entry's outcome so far: the names of COUNTS but the live two."""
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


class Journal:
    """The newest `limit` entries in arrival order, counts of every entry ever added, and live counts
    of what is queued and in flight.

    A day of a room is hundreds of thousands of requests: the window keeps memory bounded, and the
    counts stay exact. An entry leaving the window is counted into `settled` if it has its status;
    one still open (queued, generating, hanging) waits in `leaving` until it has one, since its
    outcome is not known yet. Should more than `limit` wait there (hangs no client gave up on), the
    older half is counted as it stands: the journal never holds more than twice `limit` entries.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.entries: deque[Entry] = deque()
        self.leaving: deque[Entry] = deque()
        self.settled: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.queued: Counter[str] = Counter()
        self.in_flight: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()  # every entry ever added, per key: the dashboard's calls
        self.last_seen: dict[str, float] = {}  # per key, the latest arrival

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        self.calls[entry.key] += 1
        self.last_seen[entry.key] = entry.arrival
        if len(self.entries) > self.limit:
            oldest = self.entries.popleft()
            if oldest.status is None:
                self.leaving.append(oldest)
            else:
                tally(self.settled[oldest.key], oldest)
            if len(self.leaving) > self.limit:
                self.settle(keep=self.limit // 2)
        return entry

    def settle(self, keep: int) -> None:
        """Count the entries of `leaving` that now have their status, then the oldest beyond `keep`."""
        still_open = deque(entry for entry in self.leaving if entry.status is None)
        for entry in self.leaving:
            if entry.status is not None:
                tally(self.settled[entry.key], entry)
        while len(still_open) > keep:
            entry = still_open.popleft()
            tally(self.settled[entry.key], entry)
        self.leaving = still_open

    def since(self, moment: float | None, key: str | None = None) -> list[dict]:
        """The window's entries that arrived after `moment`, only `key`'s if given."""
        return [asdict(e) for e in self.entries if (moment is None or e.arrival > moment) and key in (None, e.key)]

    def stats(self, key: str | None = None) -> dict:
        """Counts of every entry since the start or the last reset, in total and per key; only `key`'s if given."""
        self.settle(keep=self.limit)
        per_key: defaultdict[str, Counter[str]] = defaultdict(Counter)
        for owner, counts in self.settled.items():
            per_key[owner].update(counts)
        for entry in chain(self.entries, self.leaving):
            tally(per_key[entry.key], entry)
        for owner in set(self.queued) | set(self.in_flight):
            per_key[owner]["queued"] = self.queued[owner]
            per_key[owner]["in_flight"] = self.in_flight[owner]
        tables = {owner: {name: counts[name] for name in COUNTS} for owner, counts in per_key.items()
                  if key in (None, owner)}
        totals = {name: sum(table[name] for table in tables.values()) for name in COUNTS}
        return {**totals, "per_key": tables}

    def clear(self) -> None:
        self.entries.clear()
        self.leaving.clear()
        self.settled.clear()
        self.calls.clear()
        self.last_seen.clear()
