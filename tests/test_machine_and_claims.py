"""Machine facts (with faked cgroup files) and claim verdicts on synthetic measurements."""

import os

import pytest

from helpers.claims import ClaimFailed, expect_at_most, expect_no_speedup, expect_speedup
from helpers.claims import checks as claims
from helpers.claims.machine import cgroup_cpu_limit, describe_machine, machine_facts, usable_cpus
from helpers.claims.pauses import Interference, interference, paused_share
from helpers.mode import MODE_VARIABLE


def seen(paused: float = 0.0, elsewhere: float = 0.0):
    """A probe that reports this machine paused for a share `paused`, other programs using `elsewhere` CPUs."""
    return lambda: Interference(paused, elsewhere)


@pytest.fixture(autouse=True)
def a_machine_that_is_free(monkeypatch) -> None:
    """Claims are judged as on a healthy machine, whatever the one running the tests is doing."""
    monkeypatch.setattr(claims, "interference", seen())


def test_cgroup_v2_quota_limits_the_usable_cpus(tmp_path) -> None:
    (tmp_path / "cpu.max").write_text("100000 100000\n")  # Binder: one CPU's worth of time
    assert cgroup_cpu_limit(tmp_path) == 1.0
    assert usable_cpus(tmp_path) == 1
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert usable_cpus(tmp_path) == min(2, len(os.sched_getaffinity(0)))  # 1.5 CPUs' worth: two cores can run


def test_no_quota_means_affinity_decides(tmp_path) -> None:
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert cgroup_cpu_limit(tmp_path) is None
    assert usable_cpus(tmp_path) == machine_facts().usable_cpus


def test_cgroup_v1_quota(tmp_path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("50000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert cgroup_cpu_limit(tmp_path) == 0.5 and usable_cpus(tmp_path) == 1


def test_machine_summary_explains_one_cpu() -> None:
    facts = machine_facts()._replace(usable_cpus=1)
    assert "no lesson can show a parallel speed-up here" in describe_machine(facts)


def test_a_speedup_that_holds_prints_one_line_with_the_numbers(capsys) -> None:
    verdict = expect_speedup(4.0, 1.0, at_least=3.0, what="4 threads waiting", cpus=2)
    assert verdict.holds
    assert capsys.readouterr().out == "✓ 4 threads waiting: 4.00 s → 1.00 s, speed-up 4.0× (expected at least 3×)\n"


def test_on_one_cpu_a_parallel_claim_is_explained_not_failed(monkeypatch, capsys) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    verdict = expect_speedup(2.0, 2.0, at_least=1.6, what="2 processes", needs_cpus=2, cpus=1)
    assert verdict.holds and "may use 1 CPU, and this effect needs 2" in capsys.readouterr().out


def test_a_broken_claim_raises_under_test_and_warns_a_learner(monkeypatch, capsys) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    with pytest.raises(ClaimFailed, match="expected at least 3× with 2 CPUs"):
        expect_speedup(2.0, 1.5, at_least=3.0, what="x", cpus=2)
    monkeypatch.setenv(MODE_VARIABLE, "learner")
    assert not expect_speedup(2.0, 1.5, at_least=3.0, what="x", cpus=2).holds
    assert capsys.readouterr().out.startswith("⚠ x: 2.00 s → 1.50 s")


def test_at_most_and_no_speedup(monkeypatch) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    assert expect_at_most(0.9, 1.0, what="wall time").holds
    assert expect_no_speedup(1.0, 0.95, what="threads on a Python loop").holds
    with pytest.raises(ClaimFailed):
        expect_no_speedup(2.0, 1.0, what="threads on a Python loop")
    with pytest.raises(ValueError):
        claims.expect_speedup(0, 1, at_least=1, what="x")


def test_at_least_prints_the_count_and_raises_under_test_when_short(monkeypatch, capsys) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    assert claims.expect_at_least(312, 1, what="updates lost", unit="updates").holds
    assert capsys.readouterr().out == "✓ updates lost: 312 updates (at least 1 expected)\n"
    with pytest.raises(ClaimFailed, match="updates lost: 0 updates, expected at least 1"):
        claims.expect_at_least(0, 1, what="updates lost", unit="updates")


def test_no_more_than_counts(monkeypatch, capsys) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    assert claims.expect_no_more_than(10, 10, what="requests in flight", unit="requests").holds
    assert capsys.readouterr().out == "✓ requests in flight: 10 requests (at most 10)\n"
    with pytest.raises(ClaimFailed, match="requests in flight: 11 requests, expected at most 10"):
        claims.expect_no_more_than(11, 10, what="requests in flight", unit="requests")


def test_a_failed_timing_claim_on_a_paused_machine_is_reported_as_no_fair_test(monkeypatch, capsys) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    monkeypatch.setattr(claims, "interference", seen(paused=0.7))
    verdict = expect_speedup(2.0, 1.5, at_least=3.0, what="x", cpus=2)  # does not raise
    assert not verdict.holds
    assert "Not a fair test here: in a 1-second probe just now, this machine was paused 70%" in capsys.readouterr().out
    assert not expect_at_most(2.0, 1.0, what="lag").holds and not expect_no_speedup(2.0, 1.0, what="y").holds


def test_a_learner_is_asked_to_run_again_only_where_another_program_could_explain_it(monkeypatch, capsys) -> None:
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    expect_at_most(2.0, 1.0, what="lag")
    expect_no_speedup(2.0, 1.0, what="y")  # a surprising gain is not another program's doing
    too_slow, too_fast = capsys.readouterr().out.splitlines()
    assert too_slow.endswith(claims.RUN_AGAIN) and too_fast.endswith("expected no gain above 1.3×.")


def test_a_counted_claim_raises_however_paused_the_machine_is(monkeypatch) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    monkeypatch.setattr(claims, "interference", seen(paused=0.9, elsewhere=2.0))
    with pytest.raises(ClaimFailed):
        claims.expect_no_more_than(11, 10, what="requests in flight", unit="requests")


def test_a_little_pause_does_not_excuse_a_timing_claim(monkeypatch) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    monkeypatch.setattr(claims, "interference", seen(paused=0.1, elsewhere=0.2))
    with pytest.raises(ClaimFailed):
        expect_speedup(2.0, 1.5, at_least=3.0, what="x", cpus=2)


def test_a_failed_timing_claim_while_other_programs_use_the_cpus_is_no_fair_test(monkeypatch, capsys) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "test")
    monkeypatch.setattr(claims, "interference", seen(elsewhere=0.9))
    assert not expect_speedup(2.0, 1.5, at_least=3.0, what="x", cpus=2).holds  # does not raise
    assert "Not a fair test here: in a 1-second probe just now, other programs kept 0.9 CPUs busy" in capsys.readouterr().out


class FakeMachine:
    """A clock that advances 1 ms per sleep, plus a pause of `pause` seconds at the `at`-th sleep."""

    def __init__(self, pause: float = 0.0, at: int = 100) -> None:
        self.now, self.sleeps, self.pause, self.at = 0.0, 0, pause, at

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds + (self.pause if self.sleeps == self.at else 0.0)


def test_the_probe_sees_no_pause_on_a_machine_that_wakes_on_time() -> None:
    machine = FakeMachine()
    assert paused_share(1.0, machine.clock, machine.sleep) == 0.0


def test_the_probe_measures_the_share_of_a_pause() -> None:
    machine = FakeMachine(pause=0.5, at=100)  # 0.5 s stopped inside a probe of 1 s
    assert paused_share(1.0, machine.clock, machine.sleep) == pytest.approx(0.5 / 1.001, abs=0.01)


def test_the_probe_needs_a_positive_duration() -> None:
    with pytest.raises(ValueError, match="positive"):
        paused_share(0)


def test_interference_counts_a_busy_program_that_is_not_ours() -> None:
    """A busy loop in a process this one did not start (the shell that started it has exited)."""
    import subprocess
    import sys

    shell = subprocess.run(["sh", "-c", f"'{sys.executable}' -c 'while True: pass' >/dev/null 2>&1 & echo $!"],
                           capture_output=True, text=True, check=True)
    stranger = int(shell.stdout.strip())
    try:
        assert interference(1.0).elsewhere > 0.6  # about one CPU busy; less if the machine is crowded
    finally:
        os.kill(stranger, 9)
