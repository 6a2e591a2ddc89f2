"""LoadRun's numbers from hand-made outcomes: the counts add up, latency is the served requests', Little's law."""

import math
import subprocess
import sys

import pytest

from helpers.loadgen import LoadRun, Outcome


def outcome(sent, done, status=200, first_byte=None, user=0):
    return Outcome(user, sent, first_byte, done, status, None, None if status == 200 else "x")


RUN = LoadRun("closed", 3, 2.0, [
    outcome(0.0, 1.0, first_byte=0.5), outcome(0.0, 2.0, first_byte=0.25), outcome(0.5, 1.0, 503),
    outcome(1.0, 1.5, 429), outcome(1.0, 4.0, 0), outcome(1.5, 2.0, 502), outcome(1.0, 4.0),
])


def test_counts_add_up_and_rates_use_the_whole_run():
    assert RUN.sent == 7
    assert [o.seconds for o in RUN.served] == [1.0, 2.0, 3.0]
    assert (RUN.shed, RUN.rate_limited, RUN.failed, RUN.lost) == (1, 1, 2, 1)  # failed: the 502 and the lost one
    assert RUN.wall_seconds == 4.0  # load for 2 s, the last answer at 4 s
    assert RUN.throughput == 3 / 4.0
    assert RUN.in_flight_mean == (1 + 2 + 0.5 + 0.5 + 3 + 0.5 + 3) / 4.0  # Little's law: L = sum of W / T
    assert RUN.latency() == {50: 2.0, 95: pytest.approx(2.9), 99: pytest.approx(2.98)}
    assert RUN.first_token((50,)) == {50: pytest.approx((0.5 + 0.25) / 2)}


def test_row_is_a_table_line_and_nothing_served_is_nan():
    assert RUN.row() == {"load": "closed", "offered": 3, "sent": 7, "served": 3, "shed 503": 1, "429": 1, "failed": 2,
                         "lost": 1, "throughput/s": 0.8, "p50 s": 2.0, "p95 s": 2.9, "p99 s": 2.98}
    empty = LoadRun("open", 10.0, 1.0, [outcome(0.0, 0.1, 503)])
    assert empty.throughput == 0 and all(math.isnan(v) for v in empty.latency().values())
    assert math.isnan(LoadRun("open", 1.0, 1.0, []).first_token()[50])


CHECK = """
import resource, sys
from helpers.loadgen.sockets import ensure_open_files
resource.setrlimit(resource.RLIMIT_NOFILE, (256, int(sys.argv[1])))
try:
    print(ensure_open_files(2000))
except OSError as problem:
    print(problem)
"""


def test_the_open_files_limit_is_raised_or_the_reason_said():
    resource = pytest.importorskip("resource")  # Windows has no such limit
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 4096:
        pytest.skip("needs a hard limit of at least 4,096 open files")

    def child(hard):
        return subprocess.run([sys.executable, "-c", CHECK, str(hard)], capture_output=True, text=True).stdout.strip()

    assert child(4096) == "4096"  # raised to the hard limit
    assert child(1024) == ("2000 connections need about 2064 open files, but this system allows this process at most "
                           "1024 (the hard RLIMIT_NOFILE); raise it (`ulimit -Hn`, as root) or use fewer users")
