"""Everything a learner may change while the server runs (`handle.configure(...)`, POST /sim/config).

SimConfig's defaults are the server's: the command line (cli.py) and `start_server` (launcher.py)
read theirs from DEFAULTS below, and the faults' own defaults live in faults.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from helpers.llm_server.errors import bad_request
from helpers.llm_server.faults import Faults
from helpers.llm_server.fingerprints import fingerprint
from helpers.llm_server.latency import PRESETS

LIMITS = ("rpm", "tpm", "shared_rpm", "shared_tpm")
CHANGEABLE = ("preset", "seed", "time_scale", "capacity", "batch_seconds", *LIMITS, "burst_seconds", "error_rate", "hang_rate",
              "drop_rate", "slow_first_byte_rate", "overload_rate", "slow_first_byte_seconds", "insufficient_quota",
              "key_faults")
NO_FAULTS = Faults()
MAX_BATCH_SECONDS = 24 * 3600  # OpenAI's completion window: a batch is done within 24 hours
MAX_BURST_SECONDS = 3600  # a bucket of an hour: already far more than any provider lets through at once


@dataclass
class SimConfig:
    """The simulated server's settings. Limits of None mean no limit."""

    preset: str = "sim-flash"
    seed: int = 0
    time_scale: float = 1.0
    capacity: int = 256  # generation slots; further requests queue, one queue per key, the keys served in turn
    # How long a Batch API batch takes from creation to completed, in simulated seconds (time_scale
    # shrinks it like every delay), however many requests it holds: OpenAI promises 24 hours.
    batch_seconds: float = 30.0
    rpm: int | None = None  # requests per minute, per key
    tpm: int | None = None  # tokens per minute, per key (see limits.token_cost)
    shared_rpm: int | None = None  # requests per minute for all keys together (a workshop room)
    shared_tpm: int | None = None  # tokens per minute for all keys together
    # How much allowance a rate-limit bucket holds, in simulated seconds of it: 60, a minute's
    # allowance in one burst; 1, a second's, as providers enforce limits over short spans (limits.py)
    burst_seconds: float = 60.0
    # Faults, for every key (see faults.py) ...
    error_rate: float = NO_FAULTS.error_rate
    hang_rate: float = NO_FAULTS.hang_rate
    drop_rate: float = NO_FAULTS.drop_rate
    slow_first_byte_rate: float = NO_FAULTS.slow_first_byte_rate
    overload_rate: float = NO_FAULTS.overload_rate
    slow_first_byte_seconds: float = NO_FAULTS.slow_first_byte_seconds
    insufficient_quota: bool = NO_FAULTS.insufficient_quota
    # ... and per key, overriding them: {"sk-broken": {"error_rate": 1.0}}
    key_faults: dict[str, dict] = field(default_factory=dict)
    keys: list[str] | None = field(default=None, repr=False)  # the roster in room mode; None: any key
    names: dict[str, str] = field(default_factory=dict, repr=False)  # key -> learner, for the dashboard only
    # How many of the latest requests the journal keeps (/sim/requests); the counts (/sim/stats) keep
    # all. Lesson 06 and the bench read at most about 100,000; a room's day can be several times that.
    journal_limit: int = 200_000
    admin_token: str | None = field(default=None, repr=False)

    def check(self) -> None:
        if self.preset not in PRESETS:
            raise bad_request(f"unknown preset {self.preset!r}; choose one of {sorted(PRESETS)}", "preset")
        if not (isinstance(self.time_scale, (int, float)) and 0 <= self.time_scale <= 100):
            raise bad_request("time_scale must be a number from 0 to 100", "time_scale")
        if not (isinstance(self.capacity, int) and 1 <= self.capacity <= 100_000):
            raise bad_request("capacity must be an integer from 1 to 100000", "capacity")
        if not (isinstance(self.batch_seconds, (int, float)) and not isinstance(self.batch_seconds, bool)
                and 0 <= self.batch_seconds <= MAX_BATCH_SECONDS):
            raise bad_request(f"batch_seconds must be a number from 0 to {MAX_BATCH_SECONDS}", "batch_seconds")
        if not (isinstance(self.burst_seconds, (int, float)) and not isinstance(self.burst_seconds, bool)
                and 0 < self.burst_seconds <= MAX_BURST_SECONDS):
            raise bad_request(f"burst_seconds must be a number above 0, at most {MAX_BURST_SECONDS}", "burst_seconds")
        for name in LIMITS:
            value = getattr(self, name)
            if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                raise bad_request(f"{name} must be a positive integer or null", name)
        Faults.of(self).check()
        if not isinstance(self.key_faults, dict):
            raise bad_request("key_faults must map an API key to its fault settings", "key_faults")
        for key in self.key_faults:
            self.faults_for(key).check(where=f"key_faults[{fingerprint(key)}]")
        if not (isinstance(self.journal_limit, int) and self.journal_limit >= 1):
            raise bad_request("journal_limit must be a positive integer", "journal_limit")

    def faults_for(self, key: str) -> Faults:
        """The server's faults, with this key's own settings on top."""
        return Faults.of(self).overridden(self.key_faults.get(key, {}), where=f"key_faults[{fingerprint(key)}]")

    def public(self, own_key: str | None = None) -> dict:
        """The settings as JSON, without secrets: the admin token and the roster's keys and names stay here, and
        key_faults names keys by their fingerprints. With `own_key`, a learner's view: of key_faults,
        only that key's own, under the key itself."""
        shown = asdict(self)
        shown.pop("admin_token")
        shown.pop("names")
        shown["keys"] = None if self.keys is None else len(self.keys)
        if own_key is None:
            shown["key_faults"] = {fingerprint(key): changes for key, changes in self.key_faults.items()}
        else:
            shown["key_faults"] = {key: changes for key, changes in self.key_faults.items() if key == own_key}
        return shown


DEFAULTS = SimConfig()  # what a server is unless told otherwise
