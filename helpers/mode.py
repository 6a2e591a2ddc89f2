"""Which of the course's three modes this process runs in, and the sizes that follow from it.

The same notebook serves three audiences (CONTRIBUTING.md, "Three modes"):

* **learner** (the default): realistic latencies in seconds, full-size workloads, and a claim
  that does not hold prints a friendly warning;
* **test**: the test suite sets ``LLM_COURSE_MODE=test``; latencies shrink, workloads are small,
  and a claim that does not hold raises, so a broken lesson fails CI;
* **real endpoint**: a learner opts in by naming an OpenAI-compatible endpoint in
  ``LLM_COURSE_BASE_URL``; workloads stay small because every request may cost money.

Notebooks never test the mode themselves: they ask :func:`by_mode` for a size.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import TypeVar

MODE_VARIABLE = "LLM_COURSE_MODE"
ENDPOINT_VARIABLE = "LLM_COURSE_BASE_URL"
API_KEY_VARIABLE = "LLM_COURSE_API_KEY"

T = TypeVar("T")


class Mode(str, Enum):
    LEARNER = "learner"
    TEST = "test"
    REAL_ENDPOINT = "real endpoint"


def current_mode() -> Mode:
    """Read the mode from the environment, every call, so a test can change it."""
    requested = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if requested == "test":
        return Mode.TEST
    if requested not in ("", "learner"):
        raise ValueError(
            f"{MODE_VARIABLE}={requested!r} is not a mode: use 'learner' (the default) or 'test'. "
            f"To use a real endpoint, set {ENDPOINT_VARIABLE} instead."
        )
    if os.environ.get(ENDPOINT_VARIABLE, "").strip():
        return Mode.REAL_ENDPOINT
    return Mode.LEARNER


def is_test_mode() -> bool:
    return current_mode() is Mode.TEST


def by_mode(*, learner: T, test: T) -> T:
    """Pick a size: the realistic one for a learner, the small one under test or on a paid endpoint."""
    return learner if current_mode() is Mode.LEARNER else test
