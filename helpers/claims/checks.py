"""Check a lesson's claim against the number just measured and what this machine allows.

A notebook never says "faster" on its own: it calls `expect_speedup(...)` with the two times it
measured. The verdict is one printed line with the numbers. When the claim does not hold, a
learner gets a warning that explains (often: this machine has 1 CPU, so no parallel speed-up
can appear); under test (LLM_COURSE_MODE=test) it raises, so a broken lesson fails CI.

A timing claim that fails first asks whether the machine was free for it (pauses.py): on a host
that stops this machine for most of each second, or while other programs keep its CPUs busy, wall
times compare luck, not code. Then the claim is reported as not a fair test, with what was seen,
and does not raise. A parallel claim can bring its own evidence instead: how much slower than
full speed the CPUs ran its pieces of work at that very moment (slowdowns.py). Counted claims
(requests in flight, updates lost) never depend on that, so they always raise.
"""

from __future__ import annotations

from typing import NamedTuple

from helpers.claims.machine import usable_cpus
from helpers.claims.pauses import PROBE_SECONDS, Interference, interference
from helpers.claims.slowdowns import slowed_cpus
from helpers.drawing.formatting import format_amount, format_bound, format_number, format_ratio, format_seconds
from helpers.mode import is_test_mode

RUN_AGAIN = "Another program may be using the CPUs: run the cell again."

# Paused for more than this share of the probe, or other programs using more than this many
# CPUs' worth: a failed timing claim was not a fair test.
TOO_PAUSED = 0.25
TOO_BUSY = 0.5


class ClaimFailed(AssertionError):
    """A lesson's claim did not hold under test."""


class Verdict(NamedTuple):
    holds: bool
    message: str


def unfair(seen: Interference) -> str:
    """Why a timing test was not fair, from what a probe saw; "" if it was."""
    reasons = []
    if seen.paused > TOO_PAUSED:
        reasons.append(f"this machine was paused {seen.paused:.0%} of the time (by the host of this virtual machine)")
    if seen.elsewhere > TOO_BUSY:
        reasons.append(f"other programs kept {seen.elsewhere:.1f} CPUs busy")
    if not reasons:
        return ""
    return f"in a {PROBE_SECONDS:g}-second probe just now, " + " and ".join(reasons)


def report(verdict: Verdict, timing: bool = False, seen_unfair: str = "", hint: str = "") -> Verdict:
    """Print the verdict; under test, a claim that does not hold raises instead.

    A failed `timing` claim raises only if the machine was free for it: `seen_unfair` says why it
    was not, when the measurement itself showed it; otherwise a probe looks now (see `unfair`).
    If it was free, a learner reads the `hint` (what to try) after the numbers.
    """
    if verdict.holds:
        print(f"✓ {verdict.message}")
        return verdict
    if timing and (why := seen_unfair or unfair(interference())):
        verdict = Verdict(False, f"{verdict.message} Not a fair test here: {why}, so its wall times say little.")
    elif is_test_mode():
        raise ClaimFailed(verdict.message)
    elif hint:
        verdict = Verdict(False, f"{verdict.message} {hint}")
    print(f"⚠ {verdict.message}")
    return verdict


def expect_speedup(baseline: float, improved: float, *, at_least: float, what: str,
                   needs_cpus: int = 1, cpus: int | None = None, cpu_slowdown: float | None = None) -> Verdict:
    """Claim that `improved` is at least `at_least` times faster than `baseline` (both in seconds).

    `needs_cpus` says how many CPUs the effect needs (a parallel speed-up of 2× needs 2): with
    fewer, the claim is reported as impossible here, explained, and never raises. A parallel
    claim may pass how much slower than full speed the CPUs ran its pieces (`slowdowns.cpu_slowdown`):
    a shortfall is then not a fair test if, at full speed, the speed-up would have been enough.
    """
    if baseline <= 0 or improved <= 0:
        raise ValueError(f"times must be positive seconds, got {baseline!r} and {improved!r}")
    cpus = usable_cpus() if cpus is None else cpus
    speedup = baseline / improved
    numbers = f"{what}: {format_seconds(baseline)} → {format_seconds(improved)}, speed-up {format_ratio(speedup)}"
    if cpus < needs_cpus:
        return report(Verdict(True, f"{numbers}. This process may use {cpus} CPU, and this effect needs "
                                    f"{needs_cpus}: on a machine with more CPUs you would see at least "
                                    f"{format_bound(at_least)}."))
    if speedup >= at_least:
        return report(Verdict(True, f"{numbers} (expected at least {format_bound(at_least)})"))
    slowed = cpu_slowdown is not None and speedup * cpu_slowdown >= at_least
    return report(Verdict(False, f"{numbers}, expected at least {format_bound(at_least)} with {cpus} CPUs."),
                  timing=True, seen_unfair=slowed_cpus(cpu_slowdown, speedup) if slowed else "", hint=RUN_AGAIN)


def expect_at_most(measured: float, limit: float, *, what: str) -> Verdict:
    """Claim that a measured time stays within `limit` seconds."""
    numbers = f"{what}: {format_seconds(measured)}"
    if measured <= limit:
        return report(Verdict(True, f"{numbers} (at most {format_seconds(limit)})"))
    return report(Verdict(False, f"{numbers}, expected at most {format_seconds(limit)}."), timing=True,
                  hint=RUN_AGAIN)


def expect_at_least(measured: float, minimum: float, *, what: str, unit: str) -> Verdict:
    """Claim that a measured count or amount reaches `minimum` (e.g. tokens lost to a race).

    `unit` is printed with both numbers (see `format_amount`): "tokens", "calls", "s", "×".
    """
    numbers = f"{what}: {format_amount(measured, unit)}"
    # "at least 1.60 s", "at least 2.0×", but "5,860 tokens (at least 1 expected)"
    bound = format_amount(minimum, unit) if unit in ("s", "×") else format_number(minimum)
    if measured >= minimum:
        return report(Verdict(True, f"{numbers} (at least {bound} expected)"))
    return report(Verdict(False, f"{numbers}, expected at least {bound}"))


def expect_no_more_than(count: int, limit: int, *, what: str, unit: str) -> Verdict:
    """Claim that a counted number (requests in flight, errors) stays within `limit`, both in `unit`s."""
    numbers = f"{what}: {format_amount(count, unit)}"
    if count <= limit:
        return report(Verdict(True, f"{numbers} (at most {format_number(limit)})"))
    return report(Verdict(False, f"{numbers}, expected at most {format_number(limit)}"))


def expect_no_speedup(baseline: float, other: float, *, what: str, at_most: float = 1.3) -> Verdict:
    """Claim that `other` is NOT meaningfully faster than `baseline` (e.g. threads on a Python loop)."""
    speedup = baseline / other
    numbers = f"{what}: {format_seconds(baseline)} → {format_seconds(other)}, speed-up {format_ratio(speedup)}"
    if speedup <= at_most:
        return report(Verdict(True, f"{numbers}: no real gain (at most {format_bound(at_most)} expected)"))
    return report(Verdict(False, f"{numbers}, expected no gain above {format_bound(at_most)}."), timing=True)

