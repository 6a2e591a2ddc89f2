"""Every quantitative claim a lesson makes is checked against the number it just measured.

machine (the CPUs this process may really use, the GIL, the start method), pauses (was the
machine free while it measured?), slowdowns (did a parallel run's pieces get full-speed CPUs?),
checks (`expect_speedup` and friends: a printed verdict, a warning for a learner, an error under
test). Notebooks import the checks from here: `from helpers.claims import expect_speedup`.
"""

from helpers.claims.checks import (
    RUN_AGAIN,
    ClaimFailed,
    Verdict,
    expect_at_least,
    expect_at_most,
    expect_no_more_than,
    expect_no_speedup,
    expect_speedup,
)

__all__ = ["RUN_AGAIN", "ClaimFailed", "Verdict", "expect_at_least", "expect_at_most",
           "expect_no_more_than", "expect_no_speedup", "expect_speedup"]
