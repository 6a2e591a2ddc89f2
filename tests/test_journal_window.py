"""The journal keeps the latest `journal_limit` requests, and counts every request exactly."""

import subprocess
import sys
import tracemalloc
from collections import Counter

import openai
import pytest

from helpers.llm_server import cli
from helpers.llm_server.journal import Entry, Journal, request_id
from helpers.llm_server.launcher import ServerHandle

PROMPT = [{"role": "user", "content": "Say hi in 3 words"}]
DAY = 200_000  # a day of a room of 60: lesson 03's fan-out of 500 and lesson 06's batches, a few times each


def entry(key: str = "sk-ada", status: int | None = None, **fields: object) -> Entry:
    return Entry(id=request_id("chatcmpl"), key=key, model="instant", stream=False, retry_count=0, status=status,
                 **fields)


def test_requests_beyond_the_limit_leave_the_journal_but_not_the_counts() -> None:
    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent", "--preset", "instant",
               "--time-scale", "1", "--rpm", "10", "--journal-limit", "5"]  # 10 at once, then one per 6 s
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with ServerHandle(process, base_url=process.stdout.readline().split()[1], model="instant") as server:
        client = server.client(max_retries=0)
        answered = [client.chat.completions.create(model="instant", messages=PROMPT).id for _ in range(10)]
        for _ in range(2):
            with pytest.raises(openai.RateLimitError):
                client.chat.completions.create(model="instant", messages=PROMPT)
        entries = server.requests()
        assert len(entries) == 5 and [entry["id"] for entry in entries[:3]] == answered[-3:]
        assert [entry["status"] for entry in entries] == [200, 200, 200, 429, 429]
        stats = server.stats()
        assert (stats["completed"], stats["rate_limited"]) == (10, 2)
        assert stats["per_key"][server.api_key]["completed"] == 10


def test_an_entry_that_leaves_the_window_still_open_is_counted_when_it_ends() -> None:
    journal = Journal(limit=2)
    slow = journal.add(entry())  # still generating when two newer entries push it out
    journal.add(entry(status=200))
    journal.add(entry(status=429, limited_by="key requests"))
    assert slow.id not in [e["id"] for e in journal.since(None)] and len(journal.since(None)) == 2
    before = journal.stats()
    assert (before["completed"], before["errors"], before["faults"]) == (1, 0, 0)
    slow.status, slow.fault = 500, "error"
    journal.add(entry(status=200))
    stats = journal.stats()
    assert (stats["completed"], stats["rate_limited"], stats["errors"], stats["faults"]) == (2, 1, 1, 1)
    journal.clear()
    assert journal.stats()["per_key"] == {} and journal.since(None) == []


def test_entries_open_for_longer_than_the_limit_are_counted_as_they_stand() -> None:
    journal = Journal(limit=4)
    hung = [journal.add(entry()) for _ in range(20)]  # hanging requests whose clients never give up
    assert len(journal.entries) + len(journal.leaving) <= 2 * journal.limit
    hung[-1].status = 200  # still in the window: counted when it ends
    assert journal.stats()["completed"] == 1 and journal.stats()["errors"] == 0


def a_day(journal: Journal, adds: int) -> int:
    """Add `adds` entries of 60 keys, each answered (every hundredth refused) before the next arrives;
    the peak memory traced meanwhile, in bytes."""
    tracemalloc.start()
    for n in range(adds):
        added = journal.add(entry(key=f"sk-room-{n % 60:02d}"))
        added.status, added.limited_by = (429, "key requests") if n % 100 == 0 else (200, None)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.slow
def test_a_days_load_fits_in_less_memory_than_a_twentieth_of_it_kept_whole() -> None:
    bounded = Journal(limit=1_000)
    peak = a_day(bounded, DAY)
    whole_twentieth = a_day(Journal(limit=DAY), DAY // 20)
    assert peak < whole_twentieth
    stats = bounded.stats()
    expected = Counter(f"sk-room-{n % 60:02d}" for n in range(DAY) if n % 100)
    assert (stats["completed"], stats["rate_limited"]) == (DAY - DAY // 100, DAY // 100)
    assert {key: counts["completed"] for key, counts in stats["per_key"].items()} == expected
    assert len(bounded.since(None)) == 1_000


def test_the_journal_limit_is_a_documented_positive_setting(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.parse(["--help"])
    assert "--journal-limit" in capsys.readouterr().out
    assert cli.config_from(cli.parse(["--journal-limit", "7"])).journal_limit == 7
    with pytest.raises(SystemExit, match="journal_limit must be a positive integer"):
        cli.config_from(cli.parse(["--journal-limit", "0"]))
