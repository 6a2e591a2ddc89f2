"""Failures on purpose, so a lesson can show what a client has to survive.

| fault | what happens | what the openai client raises | journal status |
|---|---|---|---|
| error | HTTP 500 with `x-should-retry: true` | InternalServerError (after its retries) | 500 |
| hang | accepted, never answered | APITimeoutError once its `timeout` passes | 499 when it gives up |
| drop | the connection closes halfway through the answer | APIConnectionError | 444 |
| slow_first_byte | the answer starts `slow_first_byte_seconds` late | nothing: it is just slow | 200 |
| overload | HTTP 503 `server_error`: "That model is currently overloaded" | InternalServerError (after its retries) | 503 |
| insufficient_quota | every request of the key is a 429 `insufficient_quota` | RateLimitError (after its retries) | 429 |

(499 and 444 are nginx's codes for "client closed the request" and "closed without a response".)

The first five are rates: each request suffers at most one of them, chosen by the *first* number
of its own random stream (server seed, API key, that key's request number). The same run
therefore fails the same way every time, and the latency drawn next does not depend on which
faults are switched on. `overload` came last and is cut last from that number: one that picked
no fault before still picks none with overload_rate 0, and one that picked a fault picks the same
one, so seeded runs from before it existed fail as they did. `insufficient_quota` is not a rate
but a state of the account.
A key can have its own settings (`key_faults`), e.g. {"sk-broken": {"error_rate": 1.0}}.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace
from typing import Any

from helpers.llm_server.errors import bad_request

RATES = ("error_rate", "hang_rate", "drop_rate", "slow_first_byte_rate", "overload_rate")  # append only: see above


@dataclass(frozen=True)
class Faults:
    """How one key's requests fail; every rate is a share of requests from 0 to 1."""

    error_rate: float = 0.0
    hang_rate: float = 0.0
    drop_rate: float = 0.0
    slow_first_byte_rate: float = 0.0
    overload_rate: float = 0.0
    slow_first_byte_seconds: float = 2.0  # simulated seconds: time_scale shrinks them like every delay
    insufficient_quota: bool = False

    @classmethod
    def of(cls, settings: Any) -> Faults:
        """The fault fields of any object that has them (the server's configuration)."""
        return cls(**{f.name: getattr(settings, f.name) for f in fields(cls)})

    def overridden(self, changes: dict[str, Any], where: str = "key_faults") -> Faults:
        if not isinstance(changes, dict):
            raise bad_request(f"{where} must map a setting name to a value, got {changes!r}", where)
        if unknown := set(changes) - {f.name for f in fields(self)}:
            raise bad_request(f"{where}: unknown fault settings {sorted(unknown)}", where)
        return replace(self, **changes)

    def check(self, where: str = "faults") -> None:
        for name in RATES:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1):
                raise bad_request(f"{where}: {name} must be a number from 0 to 1", name)
        if sum(getattr(self, name) for name in RATES) > 1 + 1e-9:
            raise bad_request(f"{where}: the fault rates add up to more than 1", "error_rate")
        seconds = self.slow_first_byte_seconds
        if not (isinstance(seconds, (int, float)) and 0 <= seconds <= 3600):
            raise bad_request(f"{where}: slow_first_byte_seconds must be from 0 to 3600", "slow_first_byte_seconds")
        if not isinstance(self.insufficient_quota, bool):
            raise bad_request(f"{where}: insufficient_quota must be true or false", "insufficient_quota")

    def draw(self, rng: random.Random) -> str | None:
        """Which fault strikes this request, if any: one uniform number, cut into the rates in order."""
        point = rng.random()
        for name in RATES:
            rate = getattr(self, name)
            if point < rate:
                return name.removesuffix("_rate")
            point -= rate
        return None
