"""When to try a failed request again, and how long to wait first.

Retry what time can mend: a 429 (a rate limit: the bucket refills), a 5xx (the server had a bad
moment), a timeout and a dropped connection (status None). Never retry what it cannot: a 400,
401, 403, 404, 409 or 422 (the request itself is wrong) and a 429 whose code is
`insufficient_quota` (the account has no credit; waiting will not add any).

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


def error_code(body: Any) -> str | None:
    """The `code` of an OpenAI error body {"error": {"code": ...}}, if there is one."""
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def should_retry(status: int | None, body: Any) -> bool:
    """Whether another attempt can succeed; None is a timeout or a dropped connection."""
    if status is None or status >= 500:
        return True
    if status == 429:
        return error_code(body) != "insufficient_quota"
    return False  # 400, 401, 403, 404, 409, 422, any other 4xx: the same request would fail the same way
