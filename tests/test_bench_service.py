"""Lesson 08's service benchmark (bench/service.py): its sustained rate, its targets on made-up runs, and the whole
measurement at a small size (`python -m bench service` runs it at 1,000 users)."""

import json

import pytest

from bench import report, service
from bench.service import ServiceBench, WayRun
from bench.targets import check_service
from helpers.loadgen.outcomes import LoadRun, Outcome
from helpers.workloads.rate_limits import Limits

MiB = 2**20


def served_every(gap: float, until: float, wait: float, seconds: float = 20, status: int = 200) -> LoadRun:
    """A closed-loop run of 1,000 users and `seconds` of load: an answer every `gap` s up to `until`, each after
    `wait` s."""
    count = round(until / gap)
    outcomes = [Outcome(n % 1000, (n + 1) * gap - wait, None, (n + 1) * gap, status, None, None) for n in range(count)]
    return LoadRun("closed", 1000, seconds, outcomes)


def way(name: str, rate: float = 95, wait: float = 10.5, memory: int = 120 * MiB, failed: bool = False) -> WayRun:
    run = served_every(1 / rate, 30, wait, status=0 if failed else 200)
    return WayRun(name, run, memory, 100 * MiB, 100 if name == "threads" else 3, mean_call=0.99)


def bench(*runs: WayRun) -> ServiceBench:
    return ServiceBench(1000, 20, 100, 96, 0.96, list(runs))


def test_the_sustained_rate_leaves_out_the_start_and_the_drain() -> None:
    run = served_every(0.01, 30, 1.0)  # 100 a second for 30 s, of which 20 s of load
    assert run.sustained(3) == pytest.approx(100, rel=0.01)
    assert run.throughput == pytest.approx(100, rel=0.01)  # the same here; less when the edges are slower
    assert served_every(0.02, 30, 1.0).sustained(3) == pytest.approx(50, rel=0.01)
    with pytest.raises(ValueError, match="settle"):
        run.sustained(20)


def test_a_service_at_the_bound_with_threads_like_async_passes() -> None:
    targets = check_service(bench(way("async"), way("threads", rate=94, wait=10.7)))
    assert all(target.passed for target in targets), [target.line() for target in targets if not target.passed]


def test_each_shortfall_fails_its_own_target() -> None:
    rate, little, threads, memory, failed = check_service(bench(way("async", rate=80), way("threads", wait=30)))
    assert not rate.passed and not threads.passed and little.passed and memory.passed and failed.passed
    rate, little, threads, memory, failed = check_service(bench(way("async", wait=20, memory=200 * MiB),
                                                                way("threads", failed=True)))
    assert rate.passed and not little.passed and not memory.passed and not failed.passed


def test_the_best_run_of_a_way_is_its_highest_sustained_rate() -> None:
    slow, fast = way("async", rate=60), way("async", rate=95)
    assert bench(slow, fast, way("threads")).best("async") is fast


@pytest.mark.slow
def test_the_measurement_at_a_small_size_makes_a_record_and_its_tables(monkeypatch) -> None:
    monkeypatch.setenv("LLM_SIM_TIME_SCALE", "0.3")  # calls of about 0.3 s
    monkeypatch.delenv("LLM_COURSE_BASE_URL", raising=False)
    measured = service.measure(users=60, seconds=4, rounds=1, limits=Limits(rpm=3_000))
    assert [run.way for run in measured.runs] == ["async", "threads"]
    for run in measured.runs:
        assert run.run.failed == 0 and len(run.run.served) > 0
        assert 0 < run.run.sustained(service.SETTLE_SECONDS) <= 1.3 * measured.bound  # 50/s, and its 1.2 s burst
        assert run.peak_threads > (measured.gate // 2 if run.way == "threads" else 0)
    targets = check_service(measured)
    results = {"date": "today", "machine": {"usable_cpus": 2, "python": "CPython", "aiohttp": "x", "openai": "y"},
               "service": report.service_record(measured, settings=service.settings(measured), seconds=1,
                                                targets=targets)}
    results = json.loads(json.dumps(results))  # as show_in_readme reads it back
    tables = report.service_tables(results, "bench/results/x.json")
    assert "| async |" in tables and "| threads |" in tables and len(targets) == 5
