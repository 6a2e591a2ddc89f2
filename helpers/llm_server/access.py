"""Who is asking, and what they sent: the checks every handler starts with.

The API key comes from `Authorization: Bearer ...` as the openai client sends it; in room mode only
the roster's keys get in. Changing the simulator (/sim/config, /sim/reset) is for its owner.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web

from helpers.llm_server import validation
from helpers.llm_server.errors import ApiError, bad_request

if TYPE_CHECKING:
    from helpers.llm_server.app import Simulator


def api_key(request: web.Request, simulator: Simulator) -> str:
    header = request.headers.get("Authorization", "")
    key = header.removeprefix("Bearer ").strip()
    if not key:
        raise ApiError(401, "You didn't provide an API key in the Authorization header.", code="missing_api_key")
    if simulator.config.keys is not None and key not in simulator.config.keys:
        raise ApiError(401, "Incorrect API key provided: this room server only accepts keys from its roster.",
                       code="invalid_api_key")
    return key


async def json_body(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise ApiError(415, f"Content-Type must be application/json, got {request.content_type!r}.")
    try:
        return validation.require_object(json.loads(await request.read()))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise bad_request(f"The body is not valid JSON: {error}.") from None


def admin_only(request: web.Request) -> None:
    """Changing the server is for its owner: on loopback anyone local, elsewhere the admin token."""
    token = request.app["simulator"].config.admin_token
    if request.remote in ("127.0.0.1", "::1") and token is None:
        return
    if token is None or request.headers.get("x-admin-token") != token:
        raise ApiError(403, "Changing the simulator needs the admin token (x-admin-token header).",
                       type_="permission_error")
