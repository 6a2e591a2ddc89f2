"""`llm-course-service` (or `python -m helpers.service`): the LLM service, in front of an upstream.

    llm-course-service --upstream-base-url http://127.0.0.1:8000/v1 --max-in-flight 32 --max-queue 128

Prints `READY http://HOST:PORT` once it listens. The upstream's key comes from the environment,
LLM_COURSE_SERVICE_API_KEY (default sk-sim-learner), never from a flag: flags show in `ps`.
SIGTERM: stop accepting, finish the requests in flight (up to --graceful-seconds), exit 0.
With --workers N, N processes share one listening socket (bound here, so --port 0 works) and
the gate and queue are split between them; /metrics sums them all (prometheus multiprocess mode).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sys
import tempfile
from dataclasses import asdict, fields

from helpers.llm_server.cli import exit_when_parent_dies
from helpers.service.settings import ServiceSettings

KEY_VARIABLE = "LLM_COURSE_SERVICE_API_KEY"
DEFAULTS = {f.name: f.default for f in fields(ServiceSettings) if f.name != "upstream_base_url"}


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line, not the usage block
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def queue_size(text: str) -> int | None:
    if text == "unbounded":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'unbounded', got {text!r}") from None


def parser() -> OneLineParser:
    p = OneLineParser(prog="llm-course-service", description=__doc__.splitlines()[0],
                      epilog=f"The upstream's API key: {KEY_VARIABLE} (default sk-sim-learner), never a flag. "
                             "SIGTERM: stop accepting, finish what is in flight, exit 0.")
    p.add_argument("--upstream-base-url", required=True, help="the OpenAI-compatible API answering, e.g. .../v1")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8080, help="0 picks a free port (default: %(default)s)")
    p.add_argument("--model", default=DEFAULTS["model"], help="upstream model for requests naming none (%(default)s)")
    p.add_argument("--max-in-flight", type=int, default=DEFAULTS["max_in_flight"],
                   help="upstream calls at once, the whole service; more requests wait (default: %(default)s)")
    p.add_argument("--max-queue", type=queue_size, default=DEFAULTS["max_queue"], metavar="N|unbounded",
                   help="requests waiting for a slot; beyond, 503 + Retry-After (default: %(default)s)")
    p.add_argument("--retry-after", type=int, default=DEFAULTS["retry_after_seconds"], dest="retry_after_seconds",
                   help="seconds a shed request is told to wait (default: %(default)s)")
    p.add_argument("--cache-size", type=int, default=DEFAULTS["cache_size"],
                   help="answers kept, least recently used dropped first; 0: no cache (default: %(default)s)")
    p.add_argument("--handlers", choices=("async", "sync"), default=DEFAULTS["handlers"],
                   help="async: one event loop, AsyncOpenAI; sync: blocking calls in threads (default: %(default)s)")
    p.add_argument("--threads", type=int, default=DEFAULTS["threads"],
                   help="the thread pool's size, sync handlers only (default: %(default)s)")
    p.add_argument("--workers", type=int, default=DEFAULTS["workers"], help="worker processes (default: %(default)s)")
    p.add_argument("--analysis-ms", type=float, default=DEFAULTS["analysis_ms"],
                   help="pure-Python CPU work per answer, in milliseconds (default: %(default)s)")
    p.add_argument("--upstream-timeout", type=float, default=DEFAULTS["upstream_timeout"],
                   help="seconds before an upstream call is given up (default: %(default)s)")
    p.add_argument("--upstream-max-retries", type=int, default=DEFAULTS["upstream_max_retries"],
                   help="the upstream client's retries of 429s, 5xx and timeouts (default: %(default)s)")
    p.add_argument("--graceful-seconds", type=float, default=DEFAULTS["graceful_seconds"],
                   help="on SIGTERM, how long requests in flight may take to finish (default: %(default)s)")
    p.add_argument("--watch-parent", action="store_true",
                   help="exit when standard input closes: how a notebook's service dies with its kernel")
    return p


def settings_from(args: argparse.Namespace) -> ServiceSettings:
    names = {f.name for f in fields(ServiceSettings)} - {"upstream_api_key"}
    settings = ServiceSettings(**{name: getattr(args, name) for name in names},
                               upstream_api_key=os.environ.get(KEY_VARIABLE, DEFAULTS["upstream_api_key"]))
    settings.check()
    return settings


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound here, not by uvicorn: we learn the port --port 0 got, and every worker shares it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(4096)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(settings: ServiceSettings, app: object, **options: object):  # -> uvicorn.Config
    import uvicorn

    return uvicorn.Config(app, log_level="warning", access_log=False, backlog=4096, lifespan="on",
                          timeout_graceful_shutdown=settings.graceful_seconds, **options)


async def serve_one(settings: ServiceSettings, sock: socket.socket, url: str) -> None:
    import uvicorn

    from helpers.service.app import build_app

    server = uvicorn.Server(uvicorn_config(settings, build_app(settings)))
    # uvicorn re-raises the SIGTERM it caught once it has shut down gracefully; ignored, we exit 0
    signal.signal(signal.SIGTERM, lambda *_: None)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"READY {url}", flush=True)
    await serving


def serve_many(settings: ServiceSettings, sock: socket.socket, url: str) -> None:
    """uvicorn's supervisor and N worker processes; each worker builds the app from the environment."""
    from uvicorn.supervisors import Multiprocess

    from helpers.service.app import SETTINGS_VARIABLE

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="llm-course-service-metrics-")
    os.environ[SETTINGS_VARIABLE] = json.dumps(asdict(settings.per_worker()))
    config = uvicorn_config(settings, "helpers.service.app:from_environment", factory=True,
                            workers=settings.workers)
    print(f"READY {url}", flush=True)  # the socket listens: connections wait in its backlog for the workers
    Multiprocess(config, sockets=[sock]).run()


def main(argv: list[str] | None = None) -> None:
    arguments = parser()
    args = arguments.parse_args(argv)
    try:
        settings = settings_from(args)
        sock = listening_socket(args.host, args.port)
    except (ValueError, OSError) as error:
        arguments.error(str(error))
    if args.watch_parent:
        exit_when_parent_dies()
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}"
    if settings.workers > 1:
        serve_many(settings, sock, url)
    else:
        asyncio.run(serve_one(settings, sock, url))
    if args.watch_parent:  # the watching thread blocks in a read of stdin: exiting normally would abort on its lock
        sys.stdout.flush()
        os._exit(0)
