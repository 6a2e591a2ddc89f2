"""The README is the course's front door: it must point at every notebook and keep its contract."""

from notebook_hygiene import REPOSITORY

BINDER = "https://mybinder.org/v2/gh/llm-concurrency-course/llm-concurrency-course/HEAD"
README = (REPOSITORY / "README.md").read_text(encoding="utf-8")


def test_every_notebook_has_a_binder_badge_that_opens_it_in_jupyterlab() -> None:
    for notebook in sorted((REPOSITORY / "notebooks").glob("*.ipynb")):
        assert f"{BINDER}?urlpath=lab/tree/notebooks/{notebook.name}" in README, notebook.name


def test_readme_names_the_two_commands_and_the_way_without_make() -> None:
    for command in ("make lab", "make test", "python -m pip install -r requirements.txt -e .", "python -m pytest"):
        assert command in README
