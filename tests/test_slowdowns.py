"""Reading from the pieces of a parallel run whether they had full-speed CPUs (helpers/slowdowns.py)."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from helpers import claims
from helpers.claims import ClaimFailed, expect_speedup
from helpers.mode import MODE_VARIABLE
from helpers.pauses import Interference
from helpers.slowdowns import Slowdown, slowdown, why_slowed
from helpers.workloads import TimedRun, python_busy_work, timed_python_work, units_for_seconds


def piece(seconds: float, on_cpu: float = 1.0) -> TimedRun:
    """A piece of work that took `seconds`, on a CPU for the share `on_cpu` of them."""
    return TimedRun(100.0, 100.0 + seconds, 1, None, seconds * on_cpu)


def test_the_slowest_piece_together_is_compared_with_the_fastest_alone() -> None:
    seen = slowdown(alone=[piece(0.30), piece(0.25)], together=[piece(0.26), piece(0.45, on_cpu=0.5)])
    assert seen.factor == pytest.approx(0.45 / 0.25) and seen.on_cpu == pytest.approx(0.5)


def test_slowdown_needs_pieces_on_both_sides() -> None:
    with pytest.raises(ValueError, match="at least one piece"):
        slowdown(alone=[], together=[piece(1.0)])


def test_pieces_at_full_speed_excuse_nothing() -> None:
    assert why_slowed(Slowdown(1.1, 1.0)) == ""


def test_a_piece_off_its_cpu_was_slowed_by_other_work() -> None:
    assert "was on a CPU only 50% of that time: something else was running on the CPUs" in why_slowed(Slowdown(1.9, 0.5))


def test_a_piece_on_its_cpu_all_the_time_but_slow_had_a_slower_cpu() -> None:
    why = why_slowed(Slowdown(1.8, 0.99))
    assert why.startswith("its slowest computation took 1.8× as long as the fastest one alone while on its CPU")
    assert "the CPU itself ran slower" in why


def test_two_pieces_sharing_one_cpu_are_seen_off_it_half_the_time() -> None:
    """Real processes, both pinned to one CPU: each is on it about half of its wall time."""
    units = units_for_seconds(python_busy_work, 0.2)
    fork = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=2, mp_context=fork, initializer=os.sched_setaffinity, initargs=(0, {0})) as pool:
        list(pool.map(python_busy_work, [1, 1]))  # both workers started and pinned
        alone = [pool.submit(timed_python_work, units).result() for _ in range(2)]
        together = list(pool.map(timed_python_work, [units, units]))
    seen = slowdown(alone=alone, together=together)
    assert seen.factor > 1.5 and seen.on_cpu < 0.7, seen
    assert "something else was running on the CPUs" in why_slowed(seen)


@pytest.fixture
def under_test_on_a_free_machine(monkeypatch) -> None:
    """Test mode, and a probe that would see nothing: only the pieces can excuse a claim."""
    monkeypatch.setenv(MODE_VARIABLE, "test")
    monkeypatch.setattr(claims, "interference", lambda: Interference(0.0, 0.0))


def test_a_parallel_claim_whose_pieces_ran_slowed_is_no_fair_test(under_test_on_a_free_machine, capsys) -> None:
    verdict = expect_speedup(1.0, 0.8, at_least=1.4, what="4 computations on 2 processes", cpus=2,
                             slowdown=Slowdown(1.8, 1.0))  # does not raise
    assert not verdict.holds
    assert "Not a fair test here: its slowest computation took 1.8× as long" in capsys.readouterr().out


def test_a_parallel_claim_whose_pieces_ran_at_full_speed_still_raises(under_test_on_a_free_machine) -> None:
    with pytest.raises(ClaimFailed, match="4 computations on 2 processes"):
        expect_speedup(1.0, 0.8, at_least=1.4, what="4 computations on 2 processes", cpus=2,
                       slowdown=Slowdown(1.1, 1.0))
