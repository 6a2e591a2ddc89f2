"""What a committed notebook must look like, checked without a kernel.

Learners read the committed notebooks on GitHub and nbviewer before they run anything, so
the outputs must be the ones `make notebooks` produced: every code cell run once, top to
bottom, with no error, no local path of the author's machine, and no secret.
Each check returns plain sentences, so a failing test says what to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

REPOSITORY = Path(__file__).resolve().parent.parent

# Paths that only exist on the machine that executed the notebook.
LOCAL_PATH = re.compile(r"(/home/[\w.-]+|/Users/[\w.-]+|/root/|/work/|/tmp/[\w.-]+|[A-Za-z]:\\\\?Users)")
SECRET = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}"  # an OpenAI-style API key
    r"|token=[0-9a-f]{16,}"  # a Jupyter server token in a URL
    r"|Bearer [A-Za-z0-9._-]{16,})"  # an Authorization header
)
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FRONT_MATTER = ("objectives", "time")
# "No cell says more than about 150 words": a little slack for a list or a link, no more.
MOST_WORDS_A_CELL = 160
# "Its prose reads in well under an hour (about 2,000 words at most)": a topic that needs more is two notebooks.
MOST_WORDS_A_NOTEBOOK = 2100
FENCED_CODE = re.compile(r"```.*?```", re.DOTALL)
STATED_MINUTES = re.compile(r"\*\*Time\*\*: (\d+) minutes teaching, (\d+) minutes exercises?")


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def text_of(value: str | list[str]) -> str:
    """Notebook JSON stores multi-line text either as one string or as a list of lines."""
    return value if isinstance(value, str) else "".join(value)


def output_texts(cell: dict[str, Any]) -> Iterator[str]:
    for output in cell.get("outputs", []):
        if "text" in output:
            yield text_of(output["text"])
        if output.get("output_type") == "error":
            yield "\n".join(output.get("traceback", []))
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") or mime == "application/json":
                yield text_of(value) if isinstance(value, (str, list)) else json.dumps(value)


def execution_problems(notebook: dict[str, Any]) -> list[str]:
    """Execution counts must read 1, 2, 3... down the page: anything else is a stale output."""
    problems = []
    code_cells = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    for position, cell in enumerate(code_cells, start=1):
        count = cell.get("execution_count")
        first_line = text_of(cell["source"]).strip().splitlines()[:1] or ["(empty cell)"]
        where = f"code cell {position} ({first_line[0][:50]!r})"
        if not text_of(cell["source"]).strip():
            problems.append(f"{where} is empty: delete it")
        elif count is None:
            problems.append(f"{where} was never executed: run `make notebooks`")
        elif count != position:
            problems.append(
                f"{where} has execution count {count}, expected {position}: the outputs are stale "
                "or were run out of order; run `make notebooks`"
            )
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{where} has an error output: {output.get('ename')}: {output.get('evalue')}")
            elif output.get("name") == "stderr" and "Traceback (most recent call last)" in text_of(output["text"]):
                problems.append(f"{where} printed a traceback to stderr")
    return problems


def front_matter_problems(notebook: dict[str, Any]) -> list[str]:
    """The first cell is the front matter every lesson has (CONTRIBUTING.md): a title, objectives and time."""
    first = notebook["cells"][0] if notebook["cells"] else None
    if first is None or first["cell_type"] != "markdown":
        return ["the first cell must be markdown front matter (title, objectives, time)"]
    text = text_of(first["source"])
    problems = [] if text.lstrip().startswith("# ") else ["the front matter must start with a '# ' title"]
    lowered = text.lower()
    problems += [f"the front matter does not mention '{word}'" for word in FRONT_MATTER if word not in lowered]
    return problems


def prose_problems(notebook: dict[str, Any]) -> list[str]:
    """One idea per cell, in learner words: no cell over MOST_WORDS_A_CELL words, no word of test mode, and
    no more than MOST_WORDS_A_NOTEBOOK words in all."""
    problems = []
    total = 0
    for index, cell in enumerate(notebook["cells"], start=1):
        if cell["cell_type"] != "markdown":
            continue
        prose = FENCED_CODE.sub("", text_of(cell["source"]))
        total += len(prose.split())
        if (words := len(prose.split())) > MOST_WORDS_A_CELL:
            problems.append(f"markdown cell {index} has {words} words, more than {MOST_WORDS_A_CELL}: "
                            "one idea per cell")
        if "test mode" in prose.lower():
            problems.append(f"markdown cell {index} mentions test mode, which learners never meet")
    if total > MOST_WORDS_A_NOTEBOOK:
        problems.append(f"the prose has {total} words, more than {MOST_WORDS_A_NOTEBOOK}: say it shorter, or make two notebooks")
    return problems


def stated_minutes(notebook: dict[str, Any]) -> tuple[int, int] | None:
    """(teaching, exercise) minutes from the front matter's '**Time**: N minutes teaching, M minutes exercise'."""
    found = STATED_MINUTES.search(text_of(notebook["cells"][0]["source"])) if notebook["cells"] else None
    return (int(found[1]), int(found[2])) if found else None


def lesson_page_minutes(page: Path) -> tuple[int, int] | None:
    """(teaching, exercises) from the front matter of a lesson's instructor page."""
    text = page.read_text(encoding="utf-8")
    teaching, exercises = (re.search(rf"^{key}: (\d+)$", text, re.MULTILINE) for key in ("teaching", "exercises"))
    return (int(teaching[1]), int(exercises[1])) if teaching and exercises else None


def time_problems(notebook: dict[str, Any], path: Path) -> list[str]:
    """The notebook states its minutes, and the instructor page of the same name states the same."""
    stated = stated_minutes(notebook)
    if stated is None:
        return ["the front matter must state '**Time**: N minutes teaching, M minutes exercise'"]
    page = path.parent.parent / "lessons" / f"{path.stem}.md"
    if not page.exists():
        return [f"there is no instructor page lessons/{page.name}"]
    paged = lesson_page_minutes(page)
    if paged != stated:
        return [f"the notebook states {stated[0]} + {stated[1]} minutes, lessons/{page.name} says {paged}"]
    return []


# A learner reads technical prose with numbers in it at about this pace, and stops to predict.
WORDS_READ_A_MINUTE = 150
MINUTES_TO_PREDICT = 1


class Section(NamedTuple):
    """One '## ' section of a notebook, and the least time a learner spends in it."""

    title: str
    words: int
    run_seconds: float  # its code cells' execution, from the committed outputs (make notebooks)
    predictions: int

    @property
    def minutes(self) -> float:
        return self.words / WORDS_READ_A_MINUTE + self.run_seconds / 60 + self.predictions * MINUTES_TO_PREDICT


def sections(notebook: dict[str, Any]) -> list[Section]:
    """The notebook cut at its '## ' headings (the front matter comes first), with what each costs a learner."""
    found: list[list] = [["front matter", 0, 0.0, 0]]
    for cell in notebook["cells"]:
        text = text_of(cell["source"])
        if cell["cell_type"] == "markdown":
            for line in text.splitlines():
                if line.startswith("## "):
                    found.append([line[3:].strip(), 0, 0.0, 0])
            found[-1][1] += len(FENCED_CODE.sub("", text).split())
            found[-1][3] += text.count("Predict, then run")
        elif timing := cell.get("metadata", {}).get("execution"):
            ran = datetime.fromisoformat(timing["shell.execute_reply"]) - datetime.fromisoformat(timing["iopub.execute_input"])
            found[-1][2] += ran.total_seconds()
    return [Section(*values) for values in found]


def leak_problems(notebook: dict[str, Any]) -> list[str]:
    problems = []
    for index, cell in enumerate(notebook["cells"], start=1):
        for kind, text in [("source", text_of(cell["source"])), *(("output", t) for t in output_texts(cell))]:
            if match := LOCAL_PATH.search(text):
                problems.append(f"cell {index} {kind} contains a local path {match.group(0)!r}")
            if match := SECRET.search(text):
                problems.append(f"cell {index} {kind} contains something like a secret ({match.group(0)[:8]}…)")
    return problems


def kernel_problems(notebook: dict[str, Any]) -> list[str]:
    name = notebook.get("metadata", {}).get("kernelspec", {}).get("name")
    return [] if name == "python3" else [f"the kernelspec is {name!r}; use 'python3' so every learner has it"]


def broken_links(markdown: str, base: Path) -> list[str]:
    """Relative links that do not resolve to a file of the repository (web links are not fetched)."""
    problems = []
    for target in MARKDOWN_LINK.findall(markdown):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path and not (base / path).exists():
            problems.append(f"the link {target!r} does not resolve")
    return problems


def link_problems(notebook: dict[str, Any], base: Path) -> list[str]:
    markdown = "\n".join(text_of(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    return broken_links(markdown, base)


def problems(path: Path) -> list[str]:
    """Everything wrong with one committed notebook, as sentences; empty when it is clean."""
    notebook = load(path)
    return (
        kernel_problems(notebook)
        + front_matter_problems(notebook)
        + prose_problems(notebook)
        + execution_problems(notebook)
        + leak_problems(notebook)
        + link_problems(notebook, path.parent)
    )
