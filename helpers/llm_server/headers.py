"""The response headers OpenAI uses to tell a client about its rate limits, in OpenAI's formats.

    x-ratelimit-limit-requests: 60         the limit per minute
    x-ratelimit-remaining-requests: 59     what is left now
    x-ratelimit-reset-requests: 1s         how long until the bucket is full again
    (the same three for -tokens)

On a 429 two more say when to come back: `retry-after` (whole seconds) and `retry-after-ms`,
which the openai SDK prefers. Durations are written like Go's `time.Duration`, to the
millisecond, as OpenAI writes them: "120ms", "1s", "9.816s", "6m0s".
"""

from __future__ import annotations

import math

from helpers.llm_server.limits import Bucket


def milliseconds(seconds: float) -> int:
    """Rounded *up*: never tell a client to come back too early. (The 1e-9: 0.12 s is 120 ms, not 121.)"""
    return math.ceil(seconds * 1000 - 1e-9)


def duration(seconds: float) -> str:
    """Go's duration format, to the millisecond."""
    ms = milliseconds(seconds)
    if ms <= 0:
        return "0s"
    if ms < 1000:
        return f"{ms}ms"
    minutes, ms = divmod(ms, 60_000)
    hours, minutes = divmod(minutes, 60)
    seconds_part = f"{ms / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{seconds_part}"
    if minutes:
        return f"{minutes}m{seconds_part}"
    return seconds_part


def ratelimit_headers(shown: dict[str, Bucket]) -> dict[str, str]:
    """x-ratelimit-{limit,remaining,reset}-{requests,tokens} for the buckets that apply."""
    headers = {}
    for kind, bucket in shown.items():
        headers[f"x-ratelimit-limit-{kind}"] = str(bucket.limit)
        headers[f"x-ratelimit-remaining-{kind}"] = str(bucket.remaining)
        headers[f"x-ratelimit-reset-{kind}"] = duration(bucket.reset)
    return headers


def retry_headers(wait: float) -> dict[str, str]:
    """When to try again, in both the forms the openai SDK reads."""
    return {"retry-after": str(math.ceil(wait)), "retry-after-ms": str(milliseconds(wait))}
