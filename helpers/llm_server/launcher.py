"""Start the simulated server from a notebook: `server = start_server()`.

The server runs in a child *process*, not a thread of the kernel: a CPU-bound demo in the
kernel holds the GIL, and a server thread would then answer late and distort every timing.
The child is a plain `python -m helpers.llm_server` started with `subprocess`, so it works the
same whatever the multiprocessing start method, and it watches its standard input: when the
kernel dies (restart, crash, SIGKILL) the pipe closes and the child exits. No orphans.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import TYPE_CHECKING, Any

from helpers.mode import by_mode

if TYPE_CHECKING:  # the server process never needs the client: keep its start fast
    import openai

STARTUP_LIMIT_SECONDS = 20
LEARNER_KEY = "sk-sim-learner"  # any key works on the simulator; this one is shown in the journal


def default_time_scale() -> float:
    """Real seconds for a learner, 0.3 of them under test: shorter, yet long enough that the
    machine's scheduling hiccups (sleeps overshooting by tenths of a second) do not decide a
    lesson's timing claim. LLM_SIM_TIME_SCALE overrides both."""
    override = os.environ.get("LLM_SIM_TIME_SCALE")
    return float(override) if override else by_mode(learner=1.0, test=0.3)


class ServerHandle:
    """A running simulated server: where it is, clients for it, and its journal and controls."""

    is_simulator = True

    def __init__(self, process: subprocess.Popen, base_url: str, model: str) -> None:
        self.process = process
        self.base_url = base_url
        self.api_key = LEARNER_KEY
        self.model = model

    def client(self, **kwargs: Any) -> "openai.OpenAI":
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key), **kwargs)

    def async_client(self, **kwargs: Any) -> "openai.AsyncOpenAI":
        import openai

        return openai.AsyncOpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key), **kwargs)

    def _call(self, path: str, payload: dict | None = None) -> Any:
        url = self.base_url.removesuffix("/v1") + path
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def stats(self) -> dict:
        """Counts: in_flight, queued, completed, rate_limited, errors, and the same per_key."""
        return self._call("/sim/stats")

    def requests(self, since: float | None = None) -> list[dict]:
        """Journal entries (arrival, queue_wait, start, first_token, end: Unix times) after `since`."""
        return self._call("/sim/requests" + ("" if since is None else f"?since={since!r}"))

    def configure(self, **changes: Any) -> None:
        """Change preset, seed, time_scale, capacity, rpm or error_rate while the server runs."""
        self._call("/sim/config", changes)
        self.model = changes.get("preset", self.model)

    def reset(self) -> None:
        """Forget the journal and the rate-limit buckets."""
        self._call("/sim/reset", {})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin:
            self.process.stdin.close()

    def __enter__(self) -> "ServerHandle":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else "stopped"
        return f"<simulated LLM server {self.base_url} model={self.model} {state}>"


def start_server(preset: str = "sim-flash", *, seed: int = 0, time_scale: float | None = None,
                 capacity: int | None = None, rpm: int | None = None, error_rate: float = 0.0) -> ServerHandle:
    """Start a simulated server on a free loopback port and return when it answers."""
    scale = default_time_scale() if time_scale is None else time_scale
    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent",
               "--preset", preset, "--seed", str(seed), "--time-scale", str(scale), "--error-rate", str(error_rate)]
    if capacity is not None:
        command += ["--capacity", str(capacity)]
    if rpm is not None:
        command += ["--rpm", str(rpm)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    line = process.stdout.readline()  # the child prints READY <url> once it listens
    if not line.startswith("READY ") or time.monotonic() > deadline:
        process.kill()
        raise RuntimeError(f"the simulated server did not start (exit code {process.poll()}): {line.strip()!r}")
    return ServerHandle(process, base_url=line.split()[1], model=preset)
