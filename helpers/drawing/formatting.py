"""The one way this course prints a duration or a speed-up.

Every notebook, helper and test prints times through these two functions, so learners read
one format everywhere and the test suite can recognise a measured number
(``tests/nbval_sanitize.cfg`` matches exactly these shapes).
"""

from __future__ import annotations


def format_seconds(seconds: float) -> str:
    """Show a duration with the unit that keeps it readable: ``2.41 s``, ``380 ms``, ``45 µs``."""
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"a duration must be a finite number of seconds, got {seconds!r}")
    if seconds < 0:
        return "-" + format_seconds(-seconds)
    # Thresholds sit just below each unit so 0.9996 s prints "1.00 s", never "1000 ms".
    if seconds >= 0.9995:
        return f"{seconds:.2f} s"
    if seconds >= 0.9995e-3:
        return f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e6:.0f} µs"


def format_ratio(ratio: float) -> str:
    """Show a speed-up or slow-down factor: ``3.9×``."""
    return f"{ratio:.1f}×"


def format_bound(ratio: float) -> str:
    """A bound a lesson states, as written: ``1.25×``, ``2×`` (rounding it would misquote the claim)."""
    return f"{ratio:g}×"


def format_amount(amount: float, unit: str) -> str:
    """Show a measured amount with its unit: ``5,860 tokens``, ``2.0×``, ``1.98 s``, ``41.5 calls/s``.

    A unit of "s" is a duration and "×" a ratio, in the formats above; any other unit follows a
    number rounded to what a measurement can tell: whole above 100, three figures below.
    """
    if unit == "s":
        return format_seconds(amount)
    if unit == "×":
        return format_ratio(amount)
    return f"{format_number(amount)} {unit}"


def format_number(number: float) -> str:
    """A measured number without its unit (a bound beside an amount that has one): ``5,860``, ``41.5``."""
    if number == int(number) or abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.3g}"
