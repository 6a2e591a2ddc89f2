"""The course's code, tests and notebooks pass ruff, configured in pyproject.toml."""

import subprocess
import sys

from notebook_hygiene import REPOSITORY


def test_ruff_finds_nothing() -> None:
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise",
                             str(REPOSITORY)], capture_output=True, text=True, cwd=REPOSITORY)
    assert result.returncode == 0, result.stdout + result.stderr
