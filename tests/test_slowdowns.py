"""Reading from the pieces of a parallel run whether their CPUs ran at full speed (helpers/claims/slowdowns.py)."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers.claims import ClaimFailed, expect_speedup
from helpers.claims import checks as claims
from helpers.claims.pauses import Interference
from helpers.claims.slowdowns import cpu_slowdown
from helpers.measuring.stopwatch import fastest_of_each
from helpers.mode import MODE_VARIABLE
from helpers.workloads.cpu_work import TimedRun, python_busy_work, timed_python_work, units_for_seconds


def piece(cpu_seconds: float, waited: float = 0.0) -> TimedRun:
    """A piece of work that used `cpu_seconds` of CPU and waited `waited` seconds for one."""
    return TimedRun(100.0, 100.0 + cpu_seconds + waited, 1, None, cpu_seconds)


def test_the_cpu_time_of_pieces_together_is_compared_with_the_fastest_alone() -> None:
    alone = [piece(0.30), piece(0.25)]
    assert cpu_slowdown(alone=alone, together=[piece(0.25), piece(0.45)]) == pytest.approx(0.35 / 0.25)


def test_waiting_for_a_cpu_is_not_a_slower_cpu() -> None:
    """Threads taking turns on the GIL wait half the time: their CPUs were not slow, the code was."""
    assert cpu_slowdown(alone=[piece(0.25)], together=[piece(0.25, waited=0.25)] * 4) == pytest.approx(1.0)


def test_cpu_slowdown_needs_pieces_on_both_sides() -> None:
    with pytest.raises(ValueError, match="at least one piece"):
        cpu_slowdown(alone=[], together=[piece(1.0)])


@pytest.mark.slow
def test_pieces_on_threads_share_the_gil_and_use_no_more_cpu_time_than_alone() -> None:
    """Real threads: the wall time of each piece doubles, its CPU time does not."""
    units = units_for_seconds(python_busy_work, 0.1)
    # Seven turns span a few seconds: this VM slows a CPU for a second or two at a time, and three
    # turns (CI saw 1.53 once) could all fall inside one such spell.
    with ThreadPoolExecutor(max_workers=2) as threads:
        alone, together = fastest_of_each(7, lambda: [timed_python_work(units) for _ in range(2)],
                                          lambda: list(threads.map(timed_python_work, [units, units])))
    assert min(run.end - run.start for run in together.result) > 1.5 * min(run.cpu_seconds for run in alone.result)
    # What this must catch is CPU time doubling with the wall time (2.0). Pieces alone vary by a fifth on
    # this VM, and the ratio divides by the quickest of them: CI saw 1.39 once against 1.3, from one piece
    # alone that ran in 0.087 s of CPU where the others took 0.11. Halfway to 2.0 leaves room both ways.
    assert cpu_slowdown(alone=alone.result, together=together.result) < 1.5


@pytest.fixture
def under_test_on_a_free_machine(monkeypatch) -> None:
    """Test mode, and a probe that would see nothing: only the pieces can excuse a claim."""
    monkeypatch.setenv(MODE_VARIABLE, "test")
    monkeypatch.setattr(claims, "interference", lambda: Interference(0.0, 0.0))


def test_a_shortfall_that_slowed_cpus_explain_is_no_fair_test(under_test_on_a_free_machine, capsys) -> None:
    """One CPU of two 1.8x slower: 4 pieces take 2 x 1.8 instead of 2 units, 1.1x instead of 2x."""
    verdict = expect_speedup(4.0, 3.6, at_least=1.4, what="4 computations on 2 processes", cpus=2,
                             cpu_slowdown=1.4)  # does not raise: 1.1x at 1.4x slower CPUs is 1.56x at full speed
    out = capsys.readouterr().out
    assert not verdict.holds and "Not a fair test here: these CPUs ran slower than usual" in out
    assert "needed 1.4× the CPU time" in out and "would have been 1.6×" in out and "run the cell again" not in out


def test_a_shortfall_that_slowed_cpus_do_not_explain_still_raises(under_test_on_a_free_machine) -> None:
    """A pool that runs one piece at a time (max_workers=1), one piece 1.5x slowed: still 1.0x at full speed."""
    with pytest.raises(ClaimFailed, match="4 computations on 2 processes"):
        expect_speedup(4.0, 4.5, at_least=1.4, what="4 computations on 2 processes", cpus=2, cpu_slowdown=1.125)


def test_without_slowed_cpus_a_learner_is_asked_to_run_the_cell_again(monkeypatch, capsys) -> None:
    monkeypatch.setattr(claims, "interference", lambda: Interference(0.0, 0.0))
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    assert not expect_speedup(4.0, 3.6, at_least=1.4, what="x", cpus=2, cpu_slowdown=1.0).holds
    assert capsys.readouterr().out.rstrip().endswith("with 2 CPUs. " + claims.RUN_AGAIN)
