"""Errors in OpenAI's shape, so the official client raises the matching exception with our message."""

from __future__ import annotations

import json

from aiohttp import web


class ApiError(Exception):
    """Raised anywhere in a handler; the middleware turns it into an OpenAI-shaped response."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type_, code, param
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        return web.json_response(body, status=self.status, headers=self.headers, dumps=json.dumps)


def bad_request(message: str, param: str | None = None) -> ApiError:
    return ApiError(400, message, param=param)
