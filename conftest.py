"""Suite-wide set-up: every test and every notebook kernel runs in the course's test mode.

Kernels started by nbval inherit this process's environment, so setting the mode here is what
makes the notebooks use scaled-down latencies and raise when a lesson's claim breaks.
Run `LLM_COURSE_MODE=learner python -m pytest notebooks` to validate at full size instead.
"""

import os

import pytest

from helpers.mode import MODE_VARIABLE

os.environ.setdefault(MODE_VARIABLE, "test")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark nbval's cells `notebook`, so `-m "not notebook"` selects the unit tests alone."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
