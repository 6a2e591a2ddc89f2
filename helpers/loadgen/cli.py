"""`llm-course-load closed|open URL ...` (or `python -m helpers.loadgen`): put load on an API from a shell.

The same closed_loop and open_loop a notebook awaits, with a one-screen summary at the end:
how many requests were sent, served, shed, rate limited, failed and lost, the throughput, and
the served requests' p50, p95 and p99.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import urllib.parse

from helpers.drawing.formatting import format_amount, format_seconds
from helpers.loadgen.outcomes import LoadRun
from helpers.loadgen.users import closed_loop, open_loop

URL_HELP = "the API's base URL, as an OpenAI client's base_url (http://HOST:PORT/v1; a bare http://HOST:PORT gets /v1)"
EXIT_CODES = """exit codes:
  0    the run finished (whatever the answers: read the summary)
  2    bad usage: a flag out of range, or a URL that does not accept connections"""


def number(kind: type, low: float, high: float, low_allowed: bool = False) -> object:
    """An argparse type: a `kind` above `low` (or equal to it, if `low_allowed`) and at most `high`."""
    def check(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
        if not (low <= value if low_allowed else low < value) or value > high:
            least = f"at least {low:g}" if low_allowed else f"more than {low:g}"
            raise argparse.ArgumentTypeError(f"must be {least} and at most {high:g}, got {text}")
        return value
    return check


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="llm-course-load", description=__doc__.split("\n\n")[1].replace("\n", " "),
                                  epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = top.add_subparsers(dest="kind", required=True, metavar="closed|open")
    closed = kinds.add_parser("closed", help="N users, each waiting for its answer before asking again",
                              description="N users at once; each sends a request, waits for the whole answer, thinks, "
                                          "and asks again, until --seconds have passed; requests sent are all answered.",
                              epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    closed.add_argument("--users", type=number(int, 0, 100_000), required=True, help="concurrent users (1 to 100,000)")
    closed.add_argument("--think-seconds", type=number(float, 0, 3600, low_allowed=True), default=0.0,
                        help="each user's pause between an answer and its next question (default: %(default)s)")
    opened = kinds.add_parser("open", help="arrivals at a set rate, whatever the answers do",
                              description="Requests arriving at --rate per second (Poisson, seeded) for --seconds, "
                                          "each sent on time whether or not earlier ones were answered.",
                              epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    opened.add_argument("--rate", type=number(float, 0, 100_000), required=True, help="arrivals per second (above 0)")
    opened.add_argument("--seed", type=int, default=0, help="seeds the arrivals' random gaps (default: %(default)s)")
    for sub in (closed, opened):
        sub.add_argument("url", metavar="URL", help=URL_HELP)
        sub.add_argument("--seconds", type=number(float, 0, 24 * 3600), required=True,
                         help="how long to offer load; the run then waits for the last answers")
        sub.add_argument("--model", default="sim-flash", help="the model asked for (default: %(default)s)")
        sub.add_argument("--api-key", default="sk-sim-learner", help="sent as Bearer token (default: %(default)s)")
        sub.add_argument("--stream", action="store_true", help="ask for streamed answers (server-sent events)")
        sub.add_argument("--max-tokens", type=number(int, 0, 100_000), default=16,
                         help="max_tokens of each request (default: %(default)s)")
        sub.add_argument("--timeout", type=number(float, 0, 3600), default=120.0,
                         help="seconds a request may take before it counts as lost (default: %(default)s)")
    return top


def base_url(url: str) -> str:
    """The base URL to call, or ValueError saying what is wrong with `url`."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"URL must look like http://HOST:PORT/v1, got {url!r}")
    return url.rstrip("/") + "/v1" if parts.path in ("", "/") else url


async def reachable(url: str, timeout: float = 5) -> None:
    """Open (and close) one connection, or raise OSError: a refused URL is a usage error, not 2,000 lost requests."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    _, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, port), timeout)
    writer.close()
    await writer.wait_closed()


def summary(run: LoadRun) -> str:
    offered = f"{run.offered:g} users" if run.kind == "closed" else f"{run.offered:g} arrivals/s"
    latency = run.latency()
    shown = "   ".join(f"p{point} " + ("–" if math.isnan(value) else format_seconds(value))
                       for point, value in latency.items())
    lines = [f"{run.kind} loop, {offered} for {format_seconds(run.seconds)} (the last answer after "
             f"{format_seconds(run.wall_seconds)})",
             f"  sent {run.sent:,}   served {len(run.served):,}   shed (503) {run.shed:,}   rate limited (429) "
             f"{run.rate_limited:,}   failed {run.failed:,}   lost {run.lost:,}",
             f"  throughput {format_amount(run.throughput, 'answers/s')}   served latency: {shown}"]
    first = run.first_token()
    if not math.isnan(first[50]):
        lines.append("  first token: " + "   ".join(f"p{p} {format_seconds(v)}" for p, v in first.items()))
    errors = sorted({o.error for o in run.outcomes if o.error and o.status == 0})
    if errors:
        lines.append(f"  no response, e.g.: {errors[0]}")
    return "\n".join(lines)


async def run_load(args: argparse.Namespace, url: str) -> LoadRun:
    common = {"seconds": args.seconds, "model": args.model, "api_key": args.api_key, "stream": args.stream,
              "max_tokens": args.max_tokens, "timeout": args.timeout}
    if args.kind == "closed":
        return await closed_loop(url, users=args.users, think_seconds=args.think_seconds, **common)
    return await open_loop(url, rate=args.rate, seed=args.seed, **common)


def main(argv: list[str] | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)
    try:
        url = base_url(args.url)
        asyncio.run(reachable(url))
    except ValueError as problem:
        command.error(str(problem))
    except (OSError, TimeoutError) as problem:
        command.error(f"cannot connect to {args.url}: {problem or 'no answer within 5 s'}")
    try:
        run = asyncio.run(run_load(args, url))
    except OSError as problem:  # not enough open files for the users (sockets.py says what to do)
        command.error(str(problem))
    print(summary(run))
    return 0


if __name__ == "__main__":
    sys.exit(main())
