"""`python -m helpers.llm_server` (or `llm-sim-server`): run the simulated server from a shell.

Room mode for workshops: `--host 0.0.0.0 --keys roster.txt --rpm 60` serves a whole room, accepts
only the roster's keys (one per line) and limits each key on its own. Beyond loopback the server
refuses to start without a roster, and `/sim/config` needs the admin token, which is read from
`--admin-token` or LLM_SIM_ADMIN_TOKEN and never printed in full.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from pathlib import Path

from aiohttp import web

from helpers.llm_server.app import SimConfig, create_app
from helpers.llm_server.latency import PRESETS

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="llm-sim-server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--preset", default="sim-flash", choices=sorted(PRESETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiply every delay (0.1: ten times faster)")
    parser.add_argument("--capacity", type=int, default=256, help="generation slots; more requests queue")
    parser.add_argument("--rpm", type=int, default=None, help="requests per minute per key")
    parser.add_argument("--error-rate", type=float, default=0.0, help="share of requests answered 500")
    parser.add_argument("--keys", type=Path, help="roster file: the API keys accepted, one per line")
    parser.add_argument("--admin-token", default=os.environ.get("LLM_SIM_ADMIN_TOKEN"))
    parser.add_argument("--watch-parent", action="store_true",
                        help="exit when standard input closes: how a notebook's server dies with its kernel")
    return parser.parse_args(argv)


def exit_when_parent_dies() -> None:
    """Our parent holds the write end of our stdin; when it dies, for any reason, we read EOF."""
    def watch() -> None:
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def masked(token: str) -> str:
    return token[:3] + "…" if len(token) > 6 else "…"


async def serve(args: argparse.Namespace) -> None:
    keys = None
    if args.keys:
        keys = [line.strip() for line in args.keys.read_text().splitlines() if line.strip()]
    if args.host not in LOOPBACK and not keys:
        raise SystemExit("Refusing to listen beyond loopback without a roster: pass --keys roster.txt.")
    if args.host not in LOOPBACK and not args.admin_token:
        raise SystemExit("Beyond loopback, set an admin token (--admin-token or LLM_SIM_ADMIN_TOKEN).")
    config = SimConfig(preset=args.preset, seed=args.seed, time_scale=args.time_scale, capacity=args.capacity,
                       rpm=args.rpm, error_rate=args.error_rate, keys=keys, admin_token=args.admin_token)
    runner = web.AppRunner(create_app(config), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, backlog=4096)
    await site.start()
    port = runner.addresses[0][1]
    roster = f", {len(keys)} keys" if keys else ""
    admin = f", admin token {masked(args.admin_token)}" if args.admin_token else ""
    print(f"READY http://{args.host}:{port}/v1 preset={args.preset} time_scale={args.time_scale}{roster}{admin}",
          flush=True)
    await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.watch_parent:
        exit_when_parent_dies()
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
