"""Committed notebooks are clean (see notebook_hygiene.py), and the checks catch what they claim to."""

from pathlib import Path

import pytest
from notebook_hygiene import REPOSITORY, broken_links, load, problems, prose_problems, sections, stated_minutes, time_problems

NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("*.ipynb"))
FIXTURES = REPOSITORY / "tests" / "fixtures" / "notebooks"
MARKDOWN_PAGES = sorted([REPOSITORY / "README.md", *(REPOSITORY / "lessons").rglob("*.md")])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebook_is_clean(notebook: Path) -> None:
    assert problems(notebook) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_a_notebook_states_the_minutes_its_instructor_page_states(notebook: Path) -> None:
    assert time_problems(load(notebook), notebook) == []


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_the_stated_teaching_minutes_cover_reading_running_and_predicting(notebook: Path) -> None:
    book = load(notebook)
    needed = sum(section.minutes for section in sections(book))
    teaching, _ = stated_minutes(book)
    assert teaching >= needed, (f"{notebook.name} states {teaching} minutes of teaching, but reading its prose, "
                                f"running its cells and predicting take {needed:.0f}")


def test_sections_count_words_run_time_and_predictions() -> None:
    cells = [{"cell_type": "markdown", "source": "# Title\n" + "word " * 149},
             {"cell_type": "markdown", "source": "## First\n**Predict, then run**: how long?"},
             {"cell_type": "code", "source": "x", "metadata": {"execution": {
                 "iopub.execute_input": "2026-01-01T10:00:00.000Z", "shell.execute_reply": "2026-01-01T10:00:30.000Z"}}}]
    front, first = sections({"cells": cells})
    assert front == ("front matter", 151, 0.0, 0) and front.minutes == pytest.approx(151 / 150)
    assert first == ("First", 7, 30.0, 1) and first.minutes == pytest.approx(7 / 150 + 0.5 + 1)


def test_a_cell_over_160_words_or_one_that_mentions_test_mode_is_reported() -> None:
    def markdown(text: str) -> dict:
        return {"cells": [{"cell_type": "markdown", "source": text}]}

    assert prose_problems(markdown("word " * 160 + "\n```python\n" + "code " * 50 + "\n```")) == []
    assert prose_problems(markdown("word " * 161)) == ["markdown cell 1 has 161 words, more than 160: one idea per cell"]
    assert prose_problems({"cells": [{"cell_type": "markdown", "source": "word " * 150}] * 14}) == []  # 2,100 words
    assert prose_problems({"cells": [{"cell_type": "markdown", "source": "word " * 150}] * 15}) == [
        "the prose has 2250 words, more than 2100: say it shorter, or make two notebooks"]
    assert prose_problems(markdown("It takes 12 ms (in Test mode).")) == [
        "markdown cell 1 mentions test mode, which learners never meet"]


def test_minutes_that_differ_from_the_instructor_page_are_reported(tmp_path: Path) -> None:
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "07_x.md").write_text("---\nteaching: 20\nexercises: 10\n---\n")
    notebook = {"cells": [{"cell_type": "markdown", "source": "# 07\n**Time**: 25 minutes teaching, 10 minutes exercise."}]}
    assert time_problems(notebook, tmp_path / "notebooks" / "07_x.ipynb") == [
        "the notebook states 25 + 10 minutes, lessons/07_x.md says (20, 10)"]
    assert time_problems(notebook, tmp_path / "notebooks" / "08_y.ipynb") == ["there is no instructor page lessons/08_y.md"]


@pytest.mark.parametrize("page", MARKDOWN_PAGES, ids=lambda path: str(path.relative_to(REPOSITORY)))
def test_relative_links_in_markdown_pages_resolve(page: Path) -> None:
    assert broken_links(page.read_text(encoding="utf-8"), page.parent) == []


def test_a_clean_notebook_has_no_problems() -> None:
    assert problems(FIXTURES / "clean.ipynb") == []


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("out_of_order.ipynb", "has execution count 2, expected 1"),
        ("stale_rerun.ipynb", "has execution count 5, expected 2: the outputs are stale"),
        ("unexecuted.ipynb", "was never executed"),
        ("error_output.ipynb", "has an error output: ZeroDivisionError"),
        ("leaks.ipynb", "contains a local path '/home/alice'"),
        ("leaks.ipynb", "contains something like a secret"),
        ("no_front_matter.ipynb", "the first cell must be markdown front matter"),
        ("broken_link.ipynb", "the link '09_missing.ipynb' does not resolve"),
        ("wrong_kernel.ipynb", "the kernelspec is 'my-local-env'"),
    ],
)
def test_a_broken_notebook_is_reported(fixture: str, expected: str) -> None:
    found = problems(FIXTURES / fixture)
    assert any(expected in problem for problem in found), found


def test_links_to_web_pages_and_anchors_are_not_checked_but_relative_ones_are(tmp_path: Path) -> None:
    (tmp_path / "there.md").write_text("x")
    markdown = "[web](https://example.org/x.ipynb) [anchor](#key-points) [ok](there.md#top) [bad](gone.md)"
    assert broken_links(markdown, tmp_path) == ["the link 'gone.md' does not resolve"]
