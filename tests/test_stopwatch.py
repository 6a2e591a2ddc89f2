"""fastest_of keeps the fastest run, and that run's own result."""

import pytest

from helpers import stopwatch
from helpers.stopwatch import fastest_of


def test_the_fastest_run_and_its_result_are_kept(monkeypatch) -> None:
    clock = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])  # runs of 3 s, 1 s and 2 s
    monkeypatch.setattr(stopwatch.time, "perf_counter", lambda: next(clock))
    results = iter(["first", "second", "third"])
    assert fastest_of(3, lambda: next(results)) == (1.0, "second")


def test_at_least_one_run() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        fastest_of(0, lambda: None)
