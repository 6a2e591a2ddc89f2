"""Each exercise's solution, pasted into its notebook cell as a learner would, passes the check.

A learner who is stuck opens `lessons/solutions/<module>.py` and pastes it over the stub in the
exercise cell: its imports at the top, each of its functions in place of the cell's function of
the same name, each of its constants as the value of the cell's variable of that name (`ANSWERS`
fills `answers = ...`). Then they run the notebook down to that cell. So does this test, in a real
kernel, in test mode, and it reads the check's verdict from the cell's output. A solution whose
signature does not fit the cell's call fails here with the learner's TypeError.
"""

from __future__ import annotations

import ast
import importlib
import inspect

import nbclient
import nbformat
import pytest
from notebook_hygiene import REPOSITORY, output_texts, text_of

from helpers.claims.machine import usable_cpus

pytestmark = pytest.mark.notebook

# notebook → the solution module written for its exercise
SOLUTIONS = {
    "00_start_here": "start_here",
    "01_gil": "gil",
    "02_threading": "thread_pool",
    "03_asyncio": "bounded_gather",
    "04_multiprocessing": "process_pool",
    "05_hybrid": "hybrid",
    "06_ten_thousand_calls": "paced_gather",
    "07_workflows_and_agents": "agent_loop",
    "08_serving_users": "service_sizing",
}
TOP_LEVEL_AWAIT = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


def defined_name(node: ast.stmt) -> str | None:
    """The one name a top-level statement defines, if it is a function or a simple assignment."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None


def paste(solution_source: str, cell_source: str) -> str:
    """The cell after pasting the solution over its stubs; raises if a piece of the solution has no stub."""
    solution = ast.parse(solution_source)
    cell = compile(cell_source, "<exercise cell>", "exec", flags=TOP_LEVEL_AWAIT)
    stubs = {name.lower(): node for node in cell.body if (name := defined_name(node))}
    lines = cell_source.splitlines()
    imports, replacements = [], []
    for node in solution.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not (
                isinstance(node, ast.ImportFrom) and node.module == "__future__"):
            imports.append(ast.get_source_segment(solution_source, node))
        elif name := defined_name(node):
            stub = stubs.get(name.lower())
            if stub is None:
                raise LookupError(f"the solution's {name} has no stub of that name in the exercise cell")
            code = ast.get_source_segment(solution_source, node)
            if isinstance(node, ast.Assign):  # the solution's value under the cell's own variable name
                code = f"{defined_name(stub)} = {ast.get_source_segment(solution_source, node.value)}"
            first = stub.decorator_list[0].lineno if getattr(stub, "decorator_list", None) else stub.lineno
            replacements.append((first - 1, stub.end_lineno, code.splitlines()))
    if not replacements:
        raise LookupError("the solution defines nothing the exercise cell asks for")
    for start, end, code in sorted(replacements, reverse=True):  # from the bottom, so line numbers hold
        lines[start:end] = code
    return "\n".join(imports + [""] + lines)


def test_pasting_replaces_stubs_keeps_the_rest_and_refuses_a_solution_that_does_not_fit() -> None:
    cell = 'exercise = Exercise()\n\n\ndef answer(x):\n    return 0\n\n\nguess = {"a": "?"}\nexercise.check(answer)\n'
    solution = 'from __future__ import annotations\nimport math\n\nGUESS = {"a": 1}\n\n\ndef answer(x):\n    return math.pi\n'
    pasted = paste(solution, cell)
    assert pasted.splitlines()[0] == "import math"
    assert "return math.pi" in pasted and "return 0" not in pasted and 'guess = {"a": 1}' in pasted
    assert pasted.rstrip().endswith("exercise.check(answer)") and pasted.startswith("import math")
    with pytest.raises(LookupError, match="has no stub"):
        paste("def other(x):\n    return 1\n", cell)


def exercise_cell(cells: list[dict], names: set[str]) -> int:
    """The index of the code cell that defines the solution's names: the exercise's cell."""
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        try:
            tree = compile(text_of(cell["source"]), "<cell>", "exec", flags=TOP_LEVEL_AWAIT)
        except SyntaxError:  # IPython syntax (%magic) the exercise cells never use
            continue
        if names <= {name.lower() for node in tree.body if (name := defined_name(node))}:
            return index
    raise LookupError(f"no cell of the notebook defines {sorted(names)}")


@pytest.mark.parametrize("notebook", sorted(SOLUTIONS))
def test_the_solution_pasted_into_its_cell_passes_the_check(notebook: str) -> None:
    if notebook == "01_gil" and usable_cpus() < 2:
        pytest.skip("lessons/solutions/gil.py predicts for 2 usable CPUs (its docstring says what changes on 1)")
    module = importlib.import_module(f"lessons.solutions.{SOLUTIONS[notebook]}")
    source = inspect.getsource(module)
    names = {name.lower() for node in ast.parse(source).body if (name := defined_name(node))}
    path = REPOSITORY / "notebooks" / f"{notebook}.ipynb"
    book = nbformat.read(path, as_version=4)
    index = exercise_cell(book.cells, names)
    book.cells = book.cells[:index + 1]  # the learner runs down to the exercise, no further
    book.cells[index].source = paste(source, book.cells[index].source)
    nbclient.NotebookClient(book, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    verdict = "\n".join(output_texts(book.cells[index]))
    assert "all correct" in verdict, f"{notebook}'s solution, pasted into its cell, did not pass:\n{verdict}"
