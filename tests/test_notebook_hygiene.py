"""Committed notebooks are clean (see notebook_hygiene.py), and the checks catch what they claim to."""

from pathlib import Path

import pytest
from notebook_hygiene import REPOSITORY, broken_links, problems

NOTEBOOKS = sorted((REPOSITORY / "notebooks").glob("*.ipynb"))
FIXTURES = REPOSITORY / "tests" / "fixtures" / "notebooks"
MARKDOWN_PAGES = sorted([REPOSITORY / "README.md", *(REPOSITORY / "lessons").rglob("*.md")])


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebook_is_clean(notebook: Path) -> None:
    assert problems(notebook) == []


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
