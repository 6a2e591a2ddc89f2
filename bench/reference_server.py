"""The reference: a bare aiohttp server that only sleeps the latency, then answers a fixed chat completion.

Our simulated server is an aiohttp application too. Against this one, on the same settings
(no access log, cancellation on hang-up, backlog 4096), the benchmark measures what our own
work per request costs, not what aiohttp or the machine costs. The answer is small and in
OpenAI's shape, so the official `openai` client can call it like any other server.

    python -m bench.reference_server --latency 0.5 --port 0      # prints READY <url> once listening
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys

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
    async def chat_completions(request: web.Request) -> web.Response:
        await asyncio.sleep(latency)
        return web.json_response(ANSWER)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat_completions)
    return app


async def serve(latency: float, port: int) -> None:
    runner = web.AppRunner(create_app(latency), access_log=None, handler_cancellation=True)  # as cli.serve
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    print(f"READY http://127.0.0.1:{runner.addresses[0][1]}/v1 latency={latency}", flush=True)
    await asyncio.Event().wait()


def start_reference(latency: float) -> ServerHandle:
    """Run the reference in a child process, as `start_server` runs ours, and return when it listens.

    The handle's `stop`, `base_url` and clients work as for our server; it has no journal or settings.
    """
    command = [sys.executable, "-m", "bench.reference_server", "--latency", str(latency), "--port", "0",
               "--watch-parent"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=os.environ | NO_CERTIFICATES)
    line = first_line(process, STARTUP_LIMIT_SECONDS)
    if not line.startswith("READY "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the reference server did not start (exit code {process.poll()}): {line.strip()!r}")
    return ServerHandle(process, base_url=line.split()[1], model=PRESET)


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
