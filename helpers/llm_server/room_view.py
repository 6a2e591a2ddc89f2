"""The instructor's view of the room: who is working, who is stuck on 429s or errors, who passed what.

`GET /sim/room?token=ADMIN-TOKEN` is a page for the instructor's browser (room_page.py); it asks
`GET /sim/room.json` every second for one row per learner. Both are the admin's: beyond a private
simulator they need the admin token, and a private simulator (no roster, asked from this machine,
no token set) shows them to its owner, as it shows everything else. A row names its learner by
the roster's name, else by the key's fingerprint (`unnamed key 3f2a9c01`), never by the key. Its counts are the journal's
exact ones, however small its window. `POST /sim/exercises {"exercise": title}` is how a
learner's passing check tells the room, with the learner's own key (helpers/exercises/progress.py);
the passes outlast `/sim/reset`, which forgets requests, not progress.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web

from helpers.llm_server.access import admin_only, api_key, json_body
from helpers.llm_server.errors import bad_request
from helpers.llm_server.fingerprints import fingerprint
from helpers.llm_server.room_page import PAGE

if TYPE_CHECKING:
    from helpers.llm_server.app import Simulator

MAX_TITLE = 200  # an exercise's title, e.g. "bounded_gather: 30 prompts, at most 5 in flight"
MAX_PASSES = 100  # distinct exercises per key: more than the course has, so memory stays bounded
WHAT = "The room's dashboard"


def rows(simulator: Simulator) -> list[dict]:
    """One row per learner: the roster's, in its order, then any other key that called or passed."""
    journal, config = simulator.journal, simulator.config
    per_key = journal.stats()["per_key"]
    keys = list(config.keys or [])
    keys += sorted((set(per_key) | set(simulator.passed)) - set(keys), key=fingerprint)
    now = time.time()
    return [{"learner": config.names.get(key) or f"unnamed key {fingerprint(key)}",
             "calls": journal.calls[key],
             "in_flight": per_key.get(key, {}).get("in_flight", 0),
             "queued": per_key.get(key, {}).get("queued", 0),
             "rate_limited": per_key.get(key, {}).get("rate_limited", 0),
             "errors": per_key.get(key, {}).get("errors", 0),
             "last_seen_seconds": round(now - journal.last_seen[key], 1) if key in journal.last_seen else None,
             "exercises_passed": sorted(simulator.passed.get(key, ()))}
            for key in keys]


async def room_page(request: web.Request) -> web.Response:
    admin_only(request, WHAT, in_url=True)
    return web.Response(text=PAGE, content_type="text/html", headers={"Cache-Control": "no-store"})


async def room_json(request: web.Request) -> web.Response:
    admin_only(request, WHAT, in_url=True)
    return web.json_response({"rows": rows(request.app["simulator"])}, headers={"Cache-Control": "no-store"})


async def exercise_passed(request: web.Request) -> web.Response:
    simulator: Simulator = request.app["simulator"]
    key = api_key(request, simulator)
    title = (await json_body(request)).get("exercise")
    if not (isinstance(title, str) and 0 < len(title) <= MAX_TITLE):
        raise bad_request(f"exercise must be the exercise's title, 1 to {MAX_TITLE} characters.", "exercise")
    passed = simulator.passed.setdefault(key, set())
    if len(passed) < MAX_PASSES:
        passed.add(title)
    return web.json_response({"exercise": title, "passed": True})
