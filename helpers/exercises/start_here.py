"""Exercise of 00_start_here: is each workload I/O-bound or CPU-bound, and which tool fits?

The learner answers with a dict: workload -> (kind, tool), e.g.
`{"one chat completion": ("I/O", "asyncio"), ...}`. Kinds are "I/O" or "CPU"; tools are
the rows of the course's choice table, or "none" for work that already runs in parallel without
any tool of yours (one large NumPy product: its BLAS library spreads it over every CPU).
"""

from __future__ import annotations

from typing import NamedTuple

from helpers.exercises.report import CheckReport

NONE = "none"  # no tool of yours: the library already computes in parallel
TOOLS = ("threading", "asyncio", "multiprocessing", "ThreadPoolExecutor", "ProcessPoolExecutor", NONE)
# An executor is the simple API over its family: it fits wherever the family fits.
FAMILY = {"ThreadPoolExecutor": "threading", "ProcessPoolExecutor": "multiprocessing"}


class Workload(NamedTuple):
    kind: str  # "I/O" or "CPU"
    fitting_tools: frozenset[str]  # tool families that fit
    why: str


WORKLOADS: dict[str, Workload] = {
    "one chat completion from an LLM API": Workload(
        "I/O", frozenset({"asyncio", "threading"}),
        "the program waits seconds for the server and computes almost nothing; while waiting, "
        "the GIL is released, so threads or asyncio overlap the waits"),
    "parsing 50 JSON replies of 4 MB each with json.loads": Workload(
        "CPU", frozenset({"multiprocessing"}),
        "json.loads holds the GIL while it builds Python objects: only separate processes "
        "parse several replies at once, each reply a task"),
    "a SQL query to a database server": Workload(
        "I/O", frozenset({"asyncio", "threading"}),
        "the database does the work on its own machine; your process only waits for the rows"),
    "tokenising a corpus of 100,000 documents in pure Python": Workload(
        "CPU", frozenset({"multiprocessing"}),
        "pure-Python loops hold the GIL, so threads take turns; processes use every core"),
    "1,000 embedding requests to an API": Workload(
        "I/O", frozenset({"asyncio", "threading"}),
        "many independent waits: asyncio keeps hundreds in flight on one thread"),
    "a NumPy product of two 4000×4000 matrices": Workload(
        "CPU", frozenset({NONE}),
        "one product already runs in parallel: NumPy hands it to its BLAS library, which computes "
        "with the GIL released on threads of its own, one per CPU; threads or processes of yours "
        "would only compete with them for the same CPUs (threads help with many separate products)"),
}


def check(answers: dict[str, tuple[str, str]]) -> CheckReport:
    """Compare the learner's (kind, tool) for each workload with the choice table, and say why."""
    report = CheckReport("Classify the workloads")
    unknown = sorted(set(answers) - set(WORKLOADS))
    if unknown:
        report.expect(False, f"these are not workloads of the exercise (check the spelling): {unknown}")
    for name, expected in WORKLOADS.items():
        answer = answers.get(name)
        if not (isinstance(answer, tuple) and len(answer) == 2 and all(isinstance(a, str) for a in answer)):
            report.expect(False, f"{name}: answer with a pair like ('I/O', 'asyncio'), got {answer!r}")
            continue
        kind, tool = answer
        kind_ok = kind.replace("/", "").upper() == expected.kind.replace("/", "").upper()
        if tool not in TOOLS:
            report.expect(False, f"{name}: {tool!r} is not in the choice table; pick one of {', '.join(TOOLS)}")
            continue
        tool_ok = FAMILY.get(tool, tool) in expected.fitting_tools
        if kind_ok and tool_ok:
            report.expect(True, f"{name}: {expected.kind}-bound, {tool} fits: {expected.why}")
        elif not kind_ok:
            report.expect(False, f"{name}: it is {expected.kind}-bound, not {kind}: {expected.why}")
        else:
            fitting = ("add none of them" if expected.fitting_tools == {NONE}
                       else "use " + " or ".join(sorted(expected.fitting_tools)))
            report.expect(False, f"{name}: {expected.kind}-bound is right, but {tool} does not fit; "
                                 f"{fitting}: {expected.why}")
    return report
