"""The check of 00_start_here accepts the solution and explains typical wrong answers."""

from helpers.exercises.start_here import check
from lessons.solutions.start_here import ANSWERS


def test_the_solution_passes() -> None:
    report = check(ANSWERS)
    assert report.passed, str(report)
    assert str(report).startswith("Classify the workloads: all correct")


def test_threads_for_pure_python_cpu_work_is_explained_by_the_gil() -> None:
    wrong = {**ANSWERS, "tokenising a corpus of 100,000 documents in pure Python": ("CPU", "threading")}
    report = check(wrong)
    assert not report.passed
    assert report.problems == [
        "tokenising a corpus of 100,000 documents in pure Python: CPU-bound is right, but threading does "
        "not fit; use multiprocessing: pure-Python loops hold the GIL, so threads take turns; processes use every core"
    ]


def test_calling_an_api_cpu_bound_is_corrected_with_the_reason() -> None:
    report = check({**ANSWERS, "one chat completion from an LLM API": ("CPU", "multiprocessing")})
    assert len(report.problems) == 1 and "it is I/O-bound, not CPU" in report.problems[0]


def test_one_numpy_product_needs_no_tool_because_blas_already_uses_every_cpu() -> None:
    """Threads of yours cannot split one call: NumPy's BLAS already runs it on threads of its own."""
    for tool in ("threading", "ThreadPoolExecutor", "multiprocessing"):
        report = check({**ANSWERS, "a NumPy product of two 4000×4000 matrices": ("CPU", tool)})
        assert not report.passed, f"{tool} was accepted for one NumPy product"
        assert report.problems == [
            f"a NumPy product of two 4000×4000 matrices: CPU-bound is right, but {tool} does not fit; add none "
            "of them: one product already runs in parallel: NumPy hands it to its BLAS library, which computes "
            "with the GIL released on threads of its own, one per CPU; threads or processes of yours would only "
            "compete with them for the same CPUs (threads help with many separate products)"
        ]


def test_no_tool_is_wrong_where_a_tool_is_needed() -> None:
    report = check({**ANSWERS, "1,000 embedding requests to an API": ("I/O", "none")})
    assert report.problems[0].startswith("1,000 embedding requests to an API: I/O-bound is right, but none "
                                         "does not fit; use asyncio or threading")


def test_missing_misspelt_and_malformed_answers_say_what_to_fix() -> None:
    answers = dict(ANSWERS)
    del answers["a SQL query to a database server"]
    answers["a SQL querry"] = ("I/O", "asyncio")
    answers["1,000 embedding requests to an API"] = ("I/O", "Trio")
    problems = check(answers).problems
    assert any("not workloads of the exercise" in p and "a SQL querry" in p for p in problems)
    assert any(p.startswith("a SQL query to a database server: answer with a pair") for p in problems)
    assert any("'Trio' is not in the choice table" in p for p in problems)
