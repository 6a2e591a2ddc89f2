"""Errors in OpenAI's shape, so the official client raises the matching exception with our message.

The body is always {"error": {"message", "type", "param", "code"}}. The three 429s and the 503
below copy OpenAI's wording, so what a learner reads here is what they will read from the real API.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from helpers.llm_server.headers import duration
from helpers.llm_server.limits import Bucket

if TYPE_CHECKING:  # config.py checks settings with these errors in the notebook's process too: no aiohttp there
    from aiohttp import web

HELP_CENTER = "help.openai.com"
RATE_LIMITS_URL = "https://platform.openai.com/account/rate-limits"
ERROR_CODES_URL = "https://platform.openai.com/docs/guides/error-codes/api-errors"
PER_MINUTE = {"requests": "requests per min (RPM)", "tokens": "tokens per min (TPM)"}


class ApiError(Exception):
    """Raised anywhere in a handler; the middleware turns it into an OpenAI-shaped response."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def body(self) -> dict:
        """What OpenAI sends: the HTTP body of an online call, a failed line's `response.body` in a batch."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> web.Response:
        from aiohttp import web

        return web.json_response(self.body(), status=self.status, headers=self.headers, dumps=json.dumps)


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param=param)


def rate_limited(model: str, bucket: Bucket, requested: int, wait: float, headers: dict[str, str]) -> ApiError:
    """A bucket is empty for now: 429 rate_limit_exceeded; retrying after `wait` seconds will work."""
    message = (f"Rate limit reached for {model} in organization {bucket.owner} on {PER_MINUTE[bucket.kind]}: "
               f"Limit {bucket.limit}, Used {bucket.used}, Requested {requested}. "
               f"Please try again in {duration(wait)}. Visit {RATE_LIMITS_URL} to learn more.")
    return ApiError(429, message, type_=bucket.kind, code="rate_limit_exceeded", headers=headers)


def request_too_large(model: str, bucket: Bucket, requested: int, headers: dict[str, str]) -> ApiError:
    """More tokens than a whole minute allows: no wait will help, so no retry-after."""
    message = (f"Request too large for {model} in organization {bucket.owner} on {PER_MINUTE[bucket.kind]}: "
               f"Limit {bucket.limit}, Requested {requested}. The input or output tokens must be reduced "
               f"in order to run successfully. Visit {RATE_LIMITS_URL} to learn more.")
    return ApiError(429, message, type_=bucket.kind, code="rate_limit_exceeded", headers=headers)


def insufficient_quota(headers: dict[str, str]) -> ApiError:
    """The account has no credit left: a 429 like a rate limit, but waiting will not help.

    Like OpenAI, we send no retry-after and no x-should-retry. openai-python retries *every* 429
    unless told `x-should-retry: false`, so it spends its retries (2 by default, after about 0.5 s
    and 1 s) and then raises RateLimitError with `code == "insufficient_quota"`. Your own retry
    loop should check that code and give up at once.
    """
    message = ("You exceeded your current quota, please check your plan and billing details. "
               f"For more information on this error, read the docs: {ERROR_CODES_URL}.")
    return ApiError(429, message, type_="insufficient_quota", code="insufficient_quota", headers=headers)


def overloaded(request_id: str, headers: dict[str, str]) -> ApiError:
    """The servers are busy with everyone's requests, not yours: 503, nothing wrong with the request.

    OpenAI's wording and shape, as users of openai-python have quoted it (openai/openai-python
    issue #414, agi-merge/waggle-dance issue #53): type "server_error", param and code null, the
    request id in the message. OpenAI's error-codes guide lists the same case as "503 - The engine
    is currently overloaded, please try again later". No retry-after: OpenAI sends none either.
    openai-python retries every 5xx (2 retries by default, after about 0.5 s and 1 s), then raises
    InternalServerError; a 503 is worth retrying later, with backoff.
    """
    message = ("That model is currently overloaded with other requests. You can retry your request, "
               f"or contact us through our help center at {HELP_CENTER} if the error persists. "
               f"(Please include the request ID {request_id} in your message.)")
    return ApiError(503, message, type_="server_error", headers=headers)


def not_found(kind: str, object_id: str, param: str = "id") -> ApiError:
    """An id this server never gave out (or gave to another key): OpenAI's 404 for files and batches."""
    return ApiError(404, f"No such {kind} object: {object_id}", param=param)
