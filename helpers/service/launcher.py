"""Start the service from a notebook: `service = start_service(server, max_in_flight=32)`.

Like the simulator (helpers/llm_server/launcher.py), the service runs in a child process started
with `subprocess`, watching its standard input so that it dies with the kernel; a kernel busy
with CPU work must not slow the service it measures. Returns once every worker answers /healthz.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import fields
from typing import Any

import psutil

from helpers.llm_server.launcher import STARTUP_LIMIT_SECONDS, ChildProcess, ServerHandle, first_line
from helpers.measuring.prometheus_text import Scrape, scrape
from helpers.service.cli import KEY_VARIABLE
from helpers.service.settings import ServiceSettings

FLAGS = {"retry_after_seconds": "--retry-after"}  # the settings whose flag is not their name


class ServiceHandle(ChildProcess):
    """A running service: where it is, clients for it, its metrics and what it costs the machine.

    `stop()` sends SIGTERM: the service finishes what is in flight (up to graceful_seconds).
    """

    def __init__(self, process: subprocess.Popen, url: str, settings: ServiceSettings) -> None:
        super().__init__(process)
        self.url, self.settings = url, settings
        self.grace_seconds = settings.graceful_seconds + 5
        self.base_url = url + "/v1"

    def client(self, **kwargs: Any) -> Any:  # openai.OpenAI
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", "sk-service-user"), **kwargs)

    def async_client(self, **kwargs: Any) -> Any:  # openai.AsyncOpenAI
        import openai

        return openai.AsyncOpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", "sk-service-user"), **kwargs)

    def metrics(self) -> Scrape:
        return scrape(self.url + "/metrics")

    def _processes(self) -> list[psutil.Process]:
        parent = psutil.Process(self.process.pid)
        return [parent, *parent.children(recursive=True)]

    def memory_bytes(self) -> int:
        """Resident memory of the service and its worker processes."""
        return sum(p.memory_info().rss for p in self._processes())

    def thread_count(self) -> int:
        """Threads in the service and its worker processes."""
        return sum(p.num_threads() for p in self._processes())

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else "stopped"
        s = self.settings
        return (f"<LLM service {self.url} handlers={s.handlers} max_in_flight={s.max_in_flight} "
                f"max_queue={s.max_queue} workers={s.workers} {state}>")


def arguments(settings: ServiceSettings) -> list[str]:
    """The command-line flags (cli.py) that give the service these settings; the key goes by environment."""
    flags = []
    for f in fields(settings):
        if f.name != "upstream_api_key":
            value = getattr(settings, f.name)
            flags += [FLAGS.get(f.name, "--" + f.name.replace("_", "-")), "unbounded" if value is None else str(value)]
    return flags


def wait_healthy(url: str, process: subprocess.Popen, workers: int, limit: float = STARTUP_LIMIT_SECONDS) -> None:
    """Return once every worker has answered /healthz. Load that came while only the first was up
    would stay on it: a client keeps its connections open, and each stays with the worker that took it."""
    deadline = time.monotonic() + limit
    answered: set[int] = set()
    while time.monotonic() < deadline and process.poll() is None:
        try:  # a new connection each time: any idle worker may take it
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                answered.add(json.load(response)["worker"])
            if len(answered) == workers:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the service at {url} did not answer /healthz from all {workers} worker(s) "
                       f"within {limit:g} s (exit code {process.poll()})")


def start_service(upstream: ServerHandle | str, **settings: Any) -> ServiceHandle:
    """Start the service in front of `upstream` (a simulator's handle, or an API's base URL) on a free
    loopback port; `settings` are ServiceSettings' (settings.py). Returns once every worker answers /healthz."""
    if isinstance(upstream, str):
        chosen = ServiceSettings(upstream_base_url=upstream, **settings)
    else:
        chosen = ServiceSettings(upstream_base_url=upstream.base_url, upstream_api_key=upstream.api_key, **settings)
    chosen.check()
    command = [sys.executable, "-m", "helpers.service", "--port", "0", "--watch-parent", *arguments(chosen)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=os.environ | {KEY_VARIABLE: chosen.upstream_api_key})
    line = first_line(process, STARTUP_LIMIT_SECONDS)
    if not line.startswith("READY "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the service did not start (exit code {process.poll()}): {line.strip()!r}")
    handle = ServiceHandle(process, url=line.split()[1], settings=chosen)
    try:
        wait_healthy(handle.url, process, chosen.workers)
    except RuntimeError:
        handle.stop()
        raise
    return handle
