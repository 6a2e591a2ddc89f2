"""`llm-batch REQUESTS.jsonl RESULTS.jsonl` (or `python -m helpers.batch`): run a Batch API file from a shell.

Stopping is safe: Ctrl-C or SIGTERM stops at once and keeps every result written so far, and
SIGKILL loses at most the requests that were in flight. Run the same command again to resume.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path

from helpers.batch.requests_file import RequestsFileError
from helpers.batch.results_file import ResultsFileError
from helpers.batch.runner import run_batch
from helpers.batch.summary import BatchSummary

DESCRIPTION = """Send every request of an OpenAI Batch API file to an OpenAI-compatible API, paced to your rate
limits, retried when a retry can help, each result appended to RESULTS.jsonl as it ends.
Stop it at any time (Ctrl-C, SIGTERM, even SIGKILL) and run the same command again to resume."""
DEFAULT_BASE_URL = "https://api.openai.com/v1"
EXIT_CODES = """exit codes:
  0    every request succeeded
  1    some requests failed for good (see the "error" of their lines in RESULTS)
  2    bad usage: a flag, a missing or malformed requests file
  130  stopped by Ctrl-C or SIGTERM: the results so far are kept; run again to resume"""


def positive(kind: type) -> object:
    def check(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
        return value

    check.__name__ = kind.__name__  # argparse names the type in its message
    return check


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llm-batch", description=DESCRIPTION, epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("requests", type=Path, metavar="REQUESTS.jsonl",
                        help='the input, one request a line: {"custom_id", "method": "POST", "url": "/v1/...", "body"}')
    parser.add_argument("results", type=Path, metavar="RESULTS.jsonl",
                        help="the output, appended one line per finished request; custom_ids already in it are skipped")
    parser.add_argument("--base-url", default=os.environ.get("OPENAI_BASE_URL", DEFAULT_BASE_URL),
                        help="the API's address, ending in /v1 (default: $OPENAI_BASE_URL, else %(default)s)")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY"),
                        help="the API key (default: $OPENAI_API_KEY; prefer it: a flag shows in `ps`)")
    parser.add_argument("--rpm", type=positive(int), help="requests-per-minute budget to pace to (default: no pacing)")
    parser.add_argument("--tpm", type=positive(int),
                        help="tokens-per-minute budget to pace to; a request counts prompt characters / 4 "
                             "+ max_tokens (default: no pacing)")
    parser.add_argument("--max-in-flight", type=positive(int), default=50,
                        help="at most this many requests worked on at once (default: %(default)s)")
    parser.add_argument("--max-attempts", type=positive(int), default=6,
                        help="tries per request, the first included, for 429s, 5xx, timeouts and dropped "
                             "connections; other errors are never retried (default: %(default)s)")
    parser.add_argument("--timeout", type=positive(float), default=60.0,
                        help="seconds one attempt may take before it is abandoned and retried (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar, only the summary at the end")
    return parser


async def run_until_signalled(args: argparse.Namespace) -> BatchSummary:
    """run_batch, cancelled by SIGTERM as asyncio.run already cancels it on Ctrl-C."""
    task = asyncio.current_task()
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, AttributeError):  # Windows: no signal handlers on the loop
        pass
    return await run_batch(args.requests, args.results, base_url=args.base_url, api_key=args.api_key,
                           rpm=args.rpm, tpm=args.tpm, max_in_flight=args.max_in_flight,
                           max_attempts=args.max_attempts, timeout=args.timeout, progress=not args.no_progress)


def main(argv: list[str] | None = None) -> int:
    command = parser()
    args = command.parse_args(argv)
    if not args.api_key:
        command.error("no API key: give --api-key or set OPENAI_API_KEY")
    if args.requests.resolve() == args.results.resolve():
        command.error("RESULTS.jsonl must be another file than REQUESTS.jsonl")
    try:
        summary = asyncio.run(run_until_signalled(args))
    except (RequestsFileError, ResultsFileError, OSError) as error:
        print(f"llm-batch: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"llm-batch: stopped; the results so far are in {args.results}. Run the same command again "
              "to resume.", file=sys.stderr)
        return 130
    print(summary)
    return 0 if summary.failed == 0 else 1
