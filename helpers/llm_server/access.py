"""Who is asking, and what they sent: the checks every handler starts with.

The API key comes from `Authorization: Bearer ...` as the openai client sends it; in room mode only
the roster's keys get in. A private simulator (no roster, asked from this machine) shows and lets
change everything, as a notebook's own server always has. Anywhere else, the room's journal and
counts are the admin's (the x-admin-token header), with keys as fingerprints; a learner's key
reads its own entries and counts only; changing the simulator (/sim/config, /sim/reset) is the
admin's alone.
"""

from __future__ import annotations

import hmac
import json
from typing import TYPE_CHECKING, NamedTuple

from aiohttp import web

from helpers.llm_server import validation
from helpers.llm_server.errors import ApiError, bad_request
from helpers.llm_server.fingerprints import fingerprint

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


LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")  # any other, 127.0.0.2 too, is another machine


class Reader(NamedTuple):
    """Whose journal entries and counts a request may read, and how it sees the keys in them."""

    key: str | None  # a learner's own key: its entries only; None: everyone's
    fingerprinted: bool  # keys shown as fingerprints: the admin's view of the room

    def shown(self, key: str) -> str:
        return fingerprint(key) if self.fingerprinted else key


def private(request: web.Request) -> bool:
    """A notebook's own simulator: no roster, and the caller on this machine."""
    return request.app["simulator"].config.keys is None and request.remote in LOOPBACK


def holds_admin_token(request: web.Request, in_url: bool = False) -> bool:
    """True with the right token, False without one; a wrong one is refused. `in_url`: `?token=`
    counts too, for the page an instructor opens in a browser (room_view.py)."""
    token = request.app["simulator"].config.admin_token
    given = request.headers.get("x-admin-token", request.query.get("token") if in_url else None)
    if given is None:
        return False
    if token is None or not hmac.compare_digest(given.encode(), token.encode()):
        raise ApiError(403, "Incorrect admin token (x-admin-token header).", type_="permission_error")
    return True


def reader(request: web.Request, simulator: Simulator) -> Reader:
    """Everyone's entries, keys in full, for a private simulator; for the admin, everyone's with
    fingerprints; for anyone else their own key's, which must be one the server accepts."""
    if private(request):
        return Reader(key=None, fingerprinted=False)
    if holds_admin_token(request):
        return Reader(key=None, fingerprinted=True)
    return Reader(key=api_key(request, simulator), fingerprinted=False)


def admin_only(request: web.Request, what: str = "Changing the simulator", in_url: bool = False) -> None:
    """Changing the server is for its owner: a private simulator's anyone local, elsewhere the admin token."""
    if private(request) and request.app["simulator"].config.admin_token is None:
        return
    if not holds_admin_token(request, in_url):
        where = "?token= in the URL or the x-admin-token header" if in_url else "x-admin-token header"
        raise ApiError(403, f"{what} needs the admin token ({where}).", type_="permission_error")
