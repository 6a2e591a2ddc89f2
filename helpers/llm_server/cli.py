"""`python -m helpers.llm_server` (or `llm-sim-server`): run the simulated server from a shell.

Room mode for workshops: `llm-sim-server roster 60 > roster.csv` writes a roster of fresh keys, and
`--host 0.0.0.0 --keys roster.csv --rpm 60 --shared-tpm 200000` serves a whole room, accepts
only the roster's keys (`key` or `key,name` a line, roster.py), limits each key on its own and the
room as a whole. Beyond loopback the server refuses to start without a roster. With a roster, or
asked from another machine, `/sim/config` and `/sim/reset` need the admin token, which is read from
`--admin-token` or LLM_SIM_ADMIN_TOKEN and never printed in full; `/sim/requests` and `/sim/stats`
show the admin the whole room (keys as fingerprints) and a learner's key its own (access.py).
The instructor's dashboard is at /sim/room?token=ADMIN-TOKEN (room_view.py).
`--journal-limit` bounds the journal's memory (journal.py). `--key-fault sk-room-bob:error_rate=1`
makes one key fail, e.g. to show a room what a broken client looks like. `--batch-seconds` sets how long a Batch API batch takes
(batches.py), `--overload-rate` how often the server answers 503 overloaded (faults.py), and
`--burst-seconds` how much of its allowance a rate-limit bucket lets through at once (limits.py).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import threading
from pathlib import Path

from helpers.llm_server.config import CHANGEABLE, DEFAULTS, SimConfig
from helpers.llm_server.errors import ApiError
from helpers.llm_server.latency import PRESETS
from helpers.llm_server.roster import Roster, RosterError, new_roster, read_roster

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def key_fault(text: str) -> tuple[str, str, object]:
    """KEY:SETTING=VALUE, e.g. sk-bob:error_rate=1 or sk-broke:insufficient_quota=true."""
    key, _, setting = text.rpartition(":")
    name, _, value = setting.partition("=")
    if not (key and name and value):
        raise argparse.ArgumentTypeError(f"expected KEY:SETTING=VALUE, got {text!r}")
    try:
        return key, name, json.loads(value)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number, true or false") from None


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llm-sim-server", description=__doc__.splitlines()[0],
                                     epilog="llm-sim-server roster N > roster.csv writes a room's roster: "
                                            "see llm-sim-server roster --help")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--watch-parent", action="store_true",
                        help="exit when standard input closes: how a notebook's server dies with its kernel")
    model = parser.add_argument_group("the simulated model")
    model.add_argument("--preset", default=DEFAULTS.preset, choices=sorted(PRESETS), help="default: %(default)s")
    model.add_argument("--seed", type=int, default=DEFAULTS.seed,
                       help="the same seed gives the same latencies, faults and text (default: %(default)s)")
    model.add_argument("--time-scale", type=float, default=DEFAULTS.time_scale,
                       help="multiply every delay, 0.1: ten times faster (default: %(default)s)")
    model.add_argument("--capacity", type=int, default=DEFAULTS.capacity,
                       help="generation slots; more requests queue (default: %(default)s)")
    model.add_argument("--batch-seconds", type=float, default=DEFAULTS.batch_seconds,
                       help="how long a Batch API batch takes from creation to completed, in simulated "
                            "seconds (time-scale shrinks it) "
                            "(default: %(default)s)")
    limits = parser.add_argument_group("rate limits, per simulated minute (beyond them: 429; default: no limit)")
    limits.add_argument("--rpm", type=int, default=DEFAULTS.rpm, help="requests per minute, per key")
    limits.add_argument("--tpm", type=int, default=DEFAULTS.tpm,
                        help="tokens per minute, per key: prompt + max_tokens (or 80) per answer")
    limits.add_argument("--shared-rpm", type=int, default=DEFAULTS.shared_rpm,
                        help="requests per minute, all keys together")
    limits.add_argument("--shared-tpm", type=int, default=DEFAULTS.shared_tpm, help="tokens per minute, all keys together")
    limits.add_argument("--burst-seconds", type=float, default=DEFAULTS.burst_seconds,
                        help="how much allowance a bucket holds, in simulated seconds of it: 60 lets a minute's "
                             "allowance go at once, 1 only a second's; a request larger than that but within the "
                             "limit goes when its bucket is full (default: %(default)s)")
    faults = parser.add_argument_group("faults (shares of requests from 0 to 1; see helpers/llm_server/faults.py)")
    faults.add_argument("--error-rate", type=float, default=DEFAULTS.error_rate,
                        help="answered 500 (default: %(default)s)")
    faults.add_argument("--hang-rate", type=float, default=DEFAULTS.hang_rate,
                        help="never answered: the client times out (default: %(default)s)")
    faults.add_argument("--drop-rate", type=float, default=DEFAULTS.drop_rate,
                        help="connection closed halfway through the answer (default: %(default)s)")
    faults.add_argument("--slow-first-byte-rate", type=float, default=DEFAULTS.slow_first_byte_rate,
                        help="answer starts late (default: %(default)s)")
    faults.add_argument("--overload-rate", type=float, default=DEFAULTS.overload_rate,
                        help="answered 503: the servers are overloaded (default: %(default)s)")
    faults.add_argument("--slow-first-byte-seconds", type=float, default=DEFAULTS.slow_first_byte_seconds,
                        help="how late, in simulated seconds (default: %(default)s)")
    faults.add_argument("--insufficient-quota", action="store_true", default=DEFAULTS.insufficient_quota,
                        help="every request: 429 insufficient_quota")
    faults.add_argument("--key-fault", type=key_fault, action="append", default=[], metavar="KEY:SETTING=VALUE",
                        help="a fault setting for one key only; repeat for more")
    room = parser.add_argument_group("room mode")
    room.add_argument("--keys", type=Path,
                      help="roster file: the API keys accepted, `key` or `key,name` a line (names show on the "
                           "instructor's dashboard only); `llm-sim-server roster 60 > roster.csv` writes one")
    room.add_argument("--admin-token", default=os.environ.get("LLM_SIM_ADMIN_TOKEN"),
                      help="the token changing the server asks for, and reading the whole room's journal and "
                           "counts beyond a private simulator (default: LLM_SIM_ADMIN_TOKEN)")
    room.add_argument("--journal-limit", type=int, default=DEFAULTS.journal_limit,
                      help="how many of the latest requests /sim/requests keeps, so a day of a room does not "
                           "fill the memory; /sim/stats counts them all (default: %(default)s)")
    return parser.parse_args(argv)


def parse_roster_command(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llm-sim-server roster",
                                     description="Write a room's roster to standard output: one `key,name` line "
                                                 "per learner, names learner-01, learner-02, ..., each key fresh "
                                                 "and random. Then: llm-sim-server --host 0.0.0.0 --keys roster.csv")
    parser.add_argument("learners", type=int, help="how many learners, e.g. 60")
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("learners must be at least 1")
    return args


def roster_from(path: Path | None) -> Roster:
    if path is None:
        return Roster(keys=[], names={})
    try:
        return read_roster(path)
    except (OSError, RosterError) as error:
        raise SystemExit(f"llm-sim-server: {error}") from None


def config_from(args: argparse.Namespace) -> SimConfig:
    roster = roster_from(args.keys)
    keys = roster.keys if args.keys else None
    if args.host not in LOOPBACK and not keys:
        raise SystemExit("Refusing to listen beyond loopback without a roster: pass --keys roster.csv "
                         "(llm-sim-server roster 60 > roster.csv writes one).")
    if args.host not in LOOPBACK and not args.admin_token:
        raise SystemExit("Beyond loopback, set an admin token (--admin-token or LLM_SIM_ADMIN_TOKEN).")
    key_faults: dict[str, dict] = {}
    for key, name, value in args.key_fault:
        key_faults.setdefault(key, {})[name] = value
    settings = {name: getattr(args, name) for name in CHANGEABLE if name != "key_faults"}
    config = SimConfig(**settings, key_faults=key_faults, keys=keys, names=roster.names,
                       admin_token=args.admin_token, journal_limit=args.journal_limit)
    try:
        config.check()
    except ApiError as error:
        raise SystemExit(f"llm-sim-server: {error.message}") from None
    return config


def exit_when_parent_dies() -> None:
    """Our parent holds the write end of our stdin; when it dies, for any reason, we read EOF.

    Then we exit at once, and take our own children with us (the service's uvicorn workers): they
    read their stdin from elsewhere, would never see the EOF, and would be left serving.
    """
    def watch() -> None:
        sys.stdin.buffer.read()
        import psutil  # only now: the server's start stays as fast as it was

        for child in psutil.Process().children(recursive=True):
            child.kill()
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def masked(token: str) -> str:
    return token[:3] + "…" if len(token) > 6 else "…"


def calm_the_garbage_collector() -> None:
    """Collect garbage less often, and never look at what start-up built again.

    Each request leaves a few dozen short-lived objects; with Python's default thresholds the
    collector ran about a sixth of the time at 1000 connections (`make bench`), full passes of
    about 0.1 s each, and every request waiting in the loop meanwhile arrived that much later.
    Frozen objects (the app, the text corpus, imported modules) are never scanned again.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


async def serve(args: argparse.Namespace, config: SimConfig) -> None:
    from aiohttp import web  # imported here, so `--help` and bad arguments answer at once

    from helpers.llm_server.app import create_app

    # handler_cancellation: when a client hangs up (its timeout fired), stop working on its request
    runner = web.AppRunner(create_app(config), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    calm_the_garbage_collector()
    roster = f", {len(config.keys)} keys" if config.keys else ""
    admin = f", admin token {masked(args.admin_token)}" if args.admin_token else ""
    print(f"READY http://{args.host}:{port}/v1 preset={args.preset} time_scale={args.time_scale}{roster}{admin}",
          flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["roster"]:
        print(new_roster(parse_roster_command(argv[1:]).learners), end="")
        return
    args = parse(argv)
    config = config_from(args)
    if args.watch_parent:
        exit_when_parent_dies()
    try:
        asyncio.run(serve(args, config))
    except KeyboardInterrupt:
        pass
