"""The reference: a bare aiohttp server that only sleeps the latency, then answers a fixed chat completion.

Our simulated server is an aiohttp application too. Against this one, on the same settings
(no access log, cancellation on hang-up, backlog 4096), the benchmark measures what our own
work per request costs, not what aiohttp or the machine costs. The answer is small and in
OpenAI's shape, so the official `openai` client can call it like any other server.

It also notes how late each answer's wait ended, as our server's journal does (end − start −
latency, answered requests only): with a thousand sleeps ending at once on one event loop, even
this server is late, and the benchmark reports by how much next to our server's figure. One
float appended per answer is all the bookkeeping, so the reference stays bare.

    python -m bench.reference_server --latency 0.5 --port 0      # prints READY <url> once listening
    GET /bench/latency-errors, POST /bench/reset                 # the seconds late so far; forget them
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time

from aiohttp import web

from bench.servers import PRESET
from helpers.llm_server.cli import exit_when_parent_dies
from helpers.llm_server.launcher import NO_CERTIFICATES, STARTUP_LIMIT_SECONDS, ServerHandle, first_line

# The reference reads no request: whatever the model asked for, it answers as the one the benchmark names.
ANSWER = {
    "id": "chatcmpl-reference", "object": "chat.completion", "created": 0, "model": PRESET,
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi", "refusal": None},
                 "finish_reason": "length", "logprobs": None}],
    "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3},
}


def create_app(latency: float) -> web.Application:
    latency_errors: list[float] = []  # seconds beyond `latency`, one per answered request since the last reset

    async def chat_completions(request: web.Request) -> web.Response:
        start = time.monotonic()
        await asyncio.sleep(latency)  # a client that hangs up cancels this: no answer, no entry, as in our journal
        latency_errors.append(time.monotonic() - start - latency)
        return web.json_response(ANSWER)

    async def get_latency_errors(request: web.Request) -> web.Response:
        return web.json_response(latency_errors)

    async def reset(request: web.Request) -> web.Response:
        latency_errors.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/bench/latency-errors", get_latency_errors)
    app.router.add_post("/bench/reset", reset)
    return app


async def serve(latency: float, port: int) -> None:
    runner = web.AppRunner(create_app(latency), access_log=None, handler_cancellation=True)  # as cli.serve
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    print(f"READY http://127.0.0.1:{runner.addresses[0][1]}/v1 latency={latency}", flush=True)
    await asyncio.Event().wait()


class ReferenceHandle(ServerHandle):
    """The running reference: `stop`, `base_url` and the clients work as for our server.

    It has no journal, settings or stats (`requests`, `settings`, `configure`, `stats` are our
    server's alone); what it keeps is its latency errors, which `reset` forgets.
    """

    is_simulator = False

    def latency_errors(self) -> list[float]:
        """Seconds each answered request waited beyond the latency, since the start or the last `reset`."""
        return self._call("/bench/latency-errors")

    def reset(self) -> None:
        """Forget the latency errors noted so far, so the next `latency_errors` covers one run."""
        self._call("/bench/reset", {})


def start_reference(latency: float) -> ReferenceHandle:
    """Run the reference in a child process, as `start_server` runs ours, and return when it listens."""
    command = [sys.executable, "-m", "bench.reference_server", "--latency", str(latency), "--port", "0",
               "--watch-parent"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=os.environ | NO_CERTIFICATES)
    line = first_line(process, STARTUP_LIMIT_SECONDS)
    if not line.startswith("READY "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the reference server did not start (exit code {process.poll()}): {line.strip()!r}")
    return ReferenceHandle(process, base_url=line.split()[1], model=PRESET)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, required=True, help="seconds every answer waits")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--watch-parent", action="store_true", help="exit when standard input closes, as ours does")
    args = parser.parse_args()
    if args.watch_parent:
        exit_when_parent_dies()
    asyncio.run(serve(args.latency, args.port))


if __name__ == "__main__":
    main()
