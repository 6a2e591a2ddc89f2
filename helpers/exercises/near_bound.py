"""The last check of an exercise that has a bound: is the wall time near the best any schedule could do?

A wall time says little on a machine that is being paused (by the host of a virtual machine) or
kept busy by other programs. So a run slower than `margin` × the bound + `slack` fails only when
the machine was fair to it; otherwise the report says the test was not fair here and asks for
another run, instead of blaming the learner's code.
"""

from __future__ import annotations

from helpers.claims.checks import unfair
from helpers.claims.pauses import interference
from helpers.exercises.report import CheckReport


def expect_near_bound(report: CheckReport, wall: float, bound: float, numbers: str, hint: str, *,
                      margin: float, slack: float) -> bool:
    """One line in `report`: `numbers` (what was measured), then the verdict, and `hint` if it is too slow."""
    if wall <= margin * bound + slack:
        return report.expect(True, f"{numbers}: within {margin:g}× of it")
    if why := unfair(interference()):
        return report.expect(True, f"{numbers}: slower than {margin:g}× of it, but not a fair test here: {why}. "
                                   "Run the cell again when the machine is quieter")
    return report.expect(False, f"{numbers}: more than {margin:g}× the bound. {hint}")
