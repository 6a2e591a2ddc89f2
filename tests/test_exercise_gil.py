"""The check of 01_gil accepts the solution and explains typical wrong predictions."""

from helpers.exercises.gil import check, measure_speedups
from lessons.solutions.gil import PREDICTIONS

MEASURED = {"pure-Python loop": 0.97, "hashing in C": 1.8, "LLM calls": 3.9}


def test_the_solution_passes_on_two_cpus() -> None:
    report = check(PREDICTIONS, MEASURED, threads=4, cpus=2)
    assert report.passed, str(report)


def test_expecting_threads_to_speed_up_a_python_loop_is_explained_by_the_gil() -> None:
    report = check({**PREDICTIONS, "pure-Python loop": 4}, MEASURED, threads=4, cpus=2)
    assert report.problems == ["pure-Python loop: 4.0× is too high (measured 1.0×): Python bytecode needs the "
                               "GIL, so the threads take turns: no gain, often a small loss to switching"]


def test_expecting_the_cpus_to_limit_api_calls_is_corrected() -> None:
    report = check({**PREDICTIONS, "LLM calls": 2}, MEASURED, threads=4, cpus=2)
    assert len(report.problems) == 1 and "too low" in report.problems[0]
    assert "whatever the CPUs" in report.problems[0]


def test_hashing_is_bounded_by_the_cpus_of_this_machine() -> None:
    assert not check({**PREDICTIONS, "hashing in C": 4}, MEASURED, threads=4, cpus=2).passed
    assert check({**PREDICTIONS, "hashing in C": 1}, MEASURED, threads=4, cpus=1).passed  # Binder: one CPU


def test_a_missing_or_non_numeric_prediction_says_what_to_write() -> None:
    report = check({"pure-Python loop": "none"}, MEASURED, threads=4, cpus=2)
    assert len(report.problems) == 3 and "predict a speed-up as a positive number" in report.problems[0]


def test_a_measured_speedup_is_one_thread_time_over_n_threads_time(monkeypatch) -> None:
    import helpers.exercises.gil as exercise
    times = {1: 2.0, 4: 0.5}  # a fake runner: wall time by number of threads
    monkeypatch.setattr(exercise, "run_on_threads", lambda task, calls, threads, recorder: times[threads])
    assert measure_speedups({"LLM calls": lambda: None}, threads=4, calls=4) == {"LLM calls": 4.0}
