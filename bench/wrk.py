"""Load a server with wrk, a load generator written in C, and read its exact summary.

A load generator in Python would need about as much CPU per request as the server it measures,
and on a 2-CPU machine it would be the bottleneck. wrk keeps thousands of connections busy
from one thread; `post.lua` makes every request the same POST and prints the counts as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import NamedTuple

SCRIPT = Path(__file__).with_name("post.lua")
SUMMARY_MARK = "WRK_SUMMARY "
# wrk gives up on a request after this long and counts a timeout; well beyond any latency measured here.
REQUEST_TIMEOUT = "10s"


class WrkResult(NamedTuple):
    """What one wrk run did: counts of requests and errors, and the latency each request saw."""

    requests: int  # responses received, whatever their status
    seconds: float
    connect_errors: int
    read_errors: int
    write_errors: int
    non_2xx: int  # responses with a status other than 2xx or 3xx
    timeouts: int
    latency_p50: float  # seconds
    latency_p99: float
    latency_max: float

    @property
    def answered_per_second(self) -> float:
        """Throughput in successful responses per second: an error is not work done."""
        return (self.requests - self.non_2xx) / self.seconds

    @property
    def errors(self) -> int:
        return self.connect_errors + self.read_errors + self.write_errors + self.non_2xx + self.timeouts


def parse_summary(output: str) -> WrkResult:
    """The result in wrk's output: the line post.lua's `done` wrote (times in microseconds)."""
    for line in output.splitlines():
        if line.startswith(SUMMARY_MARK):
            counts = json.loads(line.removeprefix(SUMMARY_MARK))
            return WrkResult(
                requests=counts["requests"], seconds=counts["duration_us"] / 1e6,
                connect_errors=counts["connect_errors"], read_errors=counts["read_errors"],
                write_errors=counts["write_errors"], non_2xx=counts["non_2xx"], timeouts=counts["timeouts"],
                latency_p50=counts["latency_p50_us"] / 1e6, latency_p99=counts["latency_p99_us"] / 1e6,
                latency_max=counts["latency_max_us"] / 1e6,
            )
    raise ValueError(f"no {SUMMARY_MARK.strip()} line in wrk's output:\n{output}")


def run_wrk(url: str, body: dict, connections: int, seconds: int) -> WrkResult:
    """POST `body` to `url` over `connections` connections for `seconds`, each sending its next request
    as soon as its previous answer arrives.

    One wrk thread: the server under test gets the machine's other CPU to itself.
    """
    command = ["wrk", "--threads", "1", "--connections", str(connections), "--duration", f"{seconds}s",
               "--timeout", REQUEST_TIMEOUT, "--script", str(SCRIPT), url]
    finished = subprocess.run(command, capture_output=True, text=True, check=True,
                              env=os.environ | {"WRK_BODY": json.dumps(body)})
    return parse_summary(finished.stdout)


def wrk_version() -> str:
    """e.g. "debian/4.1.0-3+b2": the first line of `wrk -v` (which exits 1 after printing it)."""
    first = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.partition("\n")[0]
    return first.split()[1] if first.startswith("wrk ") else first
