"""When to try a failed request again, and how long to wait first.

Retry what time can mend: a 429 (a rate limit: the bucket refills), a 5xx (the server had a bad
moment), a timeout and a dropped connection (status None). Never retry what it cannot: a 400,
401, 403, 404, 409 or 422 (the request itself is wrong), a 429 whose code is
`insufficient_quota` (the account has no credit; waiting will not add any), and a 429 that says
"Request too large" (the request needs more tokens than a whole minute allows, so no bucket will
ever hold them; OpenAI sends it without `retry-after`, and it has no code of its own to tell it by).

How long: exponential backoff with *full jitter*, a random wait between 0 and base × 2^(attempt-1)
(capped). The randomness matters when many clients fail together: without it they all come back
at the same instant and fail together again (a retry storm). When the server says when to come
back (`retry-after-ms`, else `retry-after`), we never come back sooner.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from time import time
from typing import Any


def backoff_seconds(attempt: int, *, base: float = 0.5, cap: float = 30.0, jitter: bool = True,
                    rng: random.Random | None = None) -> float:
    """The wait after failed attempt number `attempt` (1, 2, ...): up to base × 2^(attempt-1), at most cap."""
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return (rng or random).uniform(0, ceiling) if jitter else ceiling


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """What the server asked for: `retry-after-ms` (milliseconds), else `retry-after` (seconds or a date)."""
    if (milliseconds := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    if (after := headers.get("retry-after")) is not None:
        try:
            return max(0.0, float(after))
        except ValueError:
            try:  # the HTTP-date form: "Wed, 21 Oct 2015 07:28:00 GMT"
                return max(0.0, parsedate_to_datetime(after).timestamp() - time())
            except (TypeError, ValueError):
                return None
    return None


def error_details(body: Any) -> dict:
    """The {"code", "message", ...} of an OpenAI error body {"error": {...}}; empty if there is none."""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def should_retry(status: int | None, body: Any) -> bool:
    """Whether another attempt can succeed; None is a timeout or a dropped connection."""
    if status is None or status >= 500:
        return True
    if status == 429:
        details = error_details(body)
        too_large = str(details.get("message", "")).startswith("Request too large")
        return details.get("code") != "insufficient_quota" and not too_large
    return False  # 400, 401, 403, 404, 409, 422, any other 4xx: the same request would fail the same way
