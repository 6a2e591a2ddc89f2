"""llm-course-load from a shell: a summary after a real run, --help on each command, one-line errors (exit 2)."""

import subprocess
import sys

import pytest
from simulator_support import simulator_fixtures

server, fresh, DEFAULTS = simulator_fixtures(time_scale=0.1, capacity=1000)


def load(*args):
    return subprocess.run([sys.executable, "-m", "helpers.loadgen", *args], capture_output=True, text=True, timeout=60)


def test_a_closed_and_an_open_run_print_their_summary(fresh):
    closed = load("closed", fresh.base_url, "--users", "20", "--seconds", "0.5", "--stream", "--max-tokens", "4")
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.startswith("closed loop, 20 users for 500 ms")
    sent = len(fresh.requests())
    assert f"sent {sent:,}   served {sent:,}   shed (503) 0   rate limited (429) 0   failed 0   lost 0" in closed.stdout
    assert "p99" in closed.stdout and "first token: p50" in closed.stdout
    fresh.reset()
    opened = load("open", fresh.base_url.removesuffix("/v1"), "--rate", "40", "--seconds", "0.5")  # /v1 is added
    assert opened.returncode == 0, opened.stderr
    assert opened.stdout.startswith("open loop, 40 arrivals/s for 500 ms")
    assert f"served {len(fresh.requests())}" in opened.stdout


@pytest.mark.parametrize("command", [[], ["closed"], ["open"]])
def test_help_explains_each_command(command):
    shown = load(*command, "--help")
    assert shown.returncode == 0 and "exit codes:" in shown.stdout
    assert {"closed": "--users", "open": "--rate"}.get(command[0] if command else "", "closed|open") in shown.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["closed", "http://127.0.0.1:9/v1", "--users", "0", "--seconds", "1"], "--users: must be more than 0"),
    (["open", "http://127.0.0.1:9/v1", "--rate", "-3", "--seconds", "1"], "--rate: must be more than 0"),
    (["closed", "http://127.0.0.1:9/v1", "--users", "2", "--seconds", "1", "--think-seconds", "-1"],
     "--think-seconds: must be at least 0"),
    (["open", "http://127.0.0.1:9/v1", "--rate", "lots", "--seconds", "1"], "'lots' is not a number"),
    (["open", "localhost:8000", "--rate", "1", "--seconds", "1"], "URL must look like http://HOST:PORT/v1"),
    (["closed", "http://127.0.0.1:9/v1", "--users", "2", "--seconds", "1"], "cannot connect to http://127.0.0.1:9/v1"),
])
def test_bad_values_are_one_line_and_exit_2(args, message):
    failed = load(*args)
    assert failed.returncode == 2 and failed.stdout == ""
    assert message in failed.stderr.splitlines()[-1] and "Traceback" not in failed.stderr
