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
import queue
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, Self

from helpers.llm_server.config import DEFAULTS
from helpers.mode import ENDPOINT_VARIABLE, by_mode

if TYPE_CHECKING:  # the server process never needs the client: keep its start fast
    import openai

    from helpers.llm_server.endpoint import RemoteEndpoint

STARTUP_LIMIT_SECONDS = 60  # a first start compiles every module; a loaded laptop is slow
# The server makes no HTTPS calls, yet importing aiohttp builds two TLS client contexts and so
# parses the system's whole CA bundle: 40 ms of a 250 ms start on a quiet machine, and seconds on
# a loaded one (python -X importtime -m helpers.llm_server --help; bench/README.md). Pointing
# OpenSSL at no certificates, in the server's process only, skips that work.
NO_CERTIFICATES = {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": os.devnull}
LEARNER_KEY = "sk-sim-learner"  # any key works on the simulator; this one is shown in the journal


def default_time_scale() -> float:
    """Real seconds for a learner, 0.3 of them under test: shorter, yet long enough that the
    machine's scheduling hiccups (sleeps overshooting by tenths of a second) do not decide a
    lesson's timing claim. LLM_SIM_TIME_SCALE overrides both."""
    override = os.environ.get("LLM_SIM_TIME_SCALE")
    return float(override) if override else by_mode(learner=DEFAULTS.time_scale, test=0.3)


class ChildProcess:
    """A server in a child process: `stop()` (or leaving a `with` block) ends it, politely first.

    SIGTERM lets it finish what it is doing; after `grace_seconds` it is killed. Closing its
    standard input afterwards releases the pipe it watches (cli.exit_when_parent_dies).
    """

    grace_seconds: float = 5

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=self.grace_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdin:
            self.process.stdin.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ServerHandle(ChildProcess):
    """A running simulated server: where it is, clients for it, and its journal and controls."""

    is_simulator = True

    def __init__(self, process: subprocess.Popen, base_url: str, model: str) -> None:
        super().__init__(process)
        self.base_url = base_url
        self.api_key = LEARNER_KEY
        self.model = model

    def client(self, **kwargs: Any) -> openai.OpenAI:
        import openai

        return openai.OpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key), **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        import openai

        return openai.AsyncOpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key), **kwargs)

    def _call(self, path: str, payload: dict | None = None) -> Any:
        url = self.base_url.removesuffix("/v1") + path
        data = None if payload is None else json.dumps(payload).encode()
        # The key goes along, as the clients' does: a room server shows a learner's key its own journal
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.api_key}"}
        request = urllib.request.Request(url, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:  # say what the server said, e.g. which setting is wrong
            raise ValueError(json.load(error)["error"]["message"]) from None

    def stats(self) -> dict:
        """Counts: in_flight, queued, completed, rate_limited, errors, faults, batch_completed and
        batch_failed (Batch API requests, counted apart from the online ones), and the same per_key."""
        return self._call("/sim/stats")

    def requests(self, since: float | None = None) -> list[dict]:
        """Journal entries (arrival, queue_wait, start, first_token, end: Unix times; tokens, tool_calls,
        tool_messages, ...: journal.Entry) after `since`: the latest `journal_limit` of them, and on a room
        server only those of this handle's `api_key`."""
        return self._call("/sim/requests" + ("" if since is None else f"?since={since!r}"))

    def settings(self) -> dict:
        """The settings in force now (SimConfig in config.py), without the admin token or the roster."""
        return self._call("/sim/config")

    def configure(self, **changes: Any) -> None:
        """Change any setting of `start_server` while the server runs; the rate-limit buckets start full."""
        self._call("/sim/config", changes)
        self.model = changes.get("preset", self.model)

    def reset(self) -> None:
        """Forget the journal and the rate-limit buckets, and stop and forget every batch and file."""
        self._call("/sim/reset", {})

    def __repr__(self) -> str:
        state = "running" if self.process.poll() is None else "stopped"
        return f"<simulated LLM server {self.base_url} model={self.model} {state}>"


def first_line(process: subprocess.Popen, timeout: float) -> str:
    """The child's first line of output, or "" if none comes in time (a thread: pipes cannot time out on Windows)."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


def arguments(settings: dict[str, Any], key_faults: dict[str, dict]) -> list[str]:
    """The command-line flags (cli.py) that give the server these settings."""
    flags = []
    for name, value in settings.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is not None and value is not False:
            flags += [flag, str(value)]
    for key, changes in key_faults.items():
        for name, value in changes.items():
            flags += ["--key-fault", f"{key}:{name}={json.dumps(value)}"]
    return flags


def start_server(preset: str = DEFAULTS.preset, *, seed: int = DEFAULTS.seed, time_scale: float | None = None,
                 capacity: int = DEFAULTS.capacity, batch_seconds: float = DEFAULTS.batch_seconds,
                 rpm: int | None = DEFAULTS.rpm, tpm: int | None = DEFAULTS.tpm,
                 shared_rpm: int | None = DEFAULTS.shared_rpm, shared_tpm: int | None = DEFAULTS.shared_tpm,
                 burst_seconds: float = DEFAULTS.burst_seconds,
                 error_rate: float = DEFAULTS.error_rate, hang_rate: float = DEFAULTS.hang_rate,
                 drop_rate: float = DEFAULTS.drop_rate, slow_first_byte_rate: float = DEFAULTS.slow_first_byte_rate,
                 overload_rate: float = DEFAULTS.overload_rate,
                 slow_first_byte_seconds: float = DEFAULTS.slow_first_byte_seconds,
                 insufficient_quota: bool = DEFAULTS.insufficient_quota,
                 key_faults: dict[str, dict] | None = None) -> ServerHandle | RemoteEndpoint:
    """Start a simulated server on a free loopback port and return when it answers.

    Every setting can be changed later with `handle.configure(...)`; see SimConfig in config.py
    for what each one means and its default, limits.py for the rate limits and `burst_seconds`,
    faults.py for the faults and batches.py for the Batch API (`batch_seconds`).
    `time_scale` left out: real time for a learner, shorter under test (`default_time_scale`).
    If the learner opted in to a real endpoint (LLM_COURSE_BASE_URL, see endpoint.py), start
    nothing and return that endpoint instead: same clients, a request budget, no journal.
    """
    if os.environ.get(ENDPOINT_VARIABLE, "").strip():
        from helpers.llm_server.endpoint import from_environment

        return from_environment()
    settings = {"preset": preset, "seed": seed,
                "time_scale": default_time_scale() if time_scale is None else time_scale,
                "capacity": capacity, "batch_seconds": batch_seconds,
                "rpm": rpm, "tpm": tpm, "shared_rpm": shared_rpm, "shared_tpm": shared_tpm,
                "burst_seconds": burst_seconds,
                "error_rate": error_rate, "hang_rate": hang_rate, "drop_rate": drop_rate,
                "slow_first_byte_rate": slow_first_byte_rate, "overload_rate": overload_rate,
                "slow_first_byte_seconds": slow_first_byte_seconds,
                "insufficient_quota": insufficient_quota}
    return launch(arguments(settings, key_faults or {}), model=preset)


def launch(options: list[str], model: str) -> ServerHandle:
    """Start `python -m helpers.llm_server` with `options` on a free port, tied to this process; return
    when it answers. start_server builds the options from its settings; a room (bench/room.py) from a roster."""
    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent", *options]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env=os.environ | NO_CERTIFICATES)
    line = first_line(process, STARTUP_LIMIT_SECONDS)  # the child prints READY <url> once it listens
    if not line.startswith("READY "):
        process.kill()
        process.wait()
        raise RuntimeError(f"the simulated server did not start (exit code {process.poll()}): {line.strip()!r}")
    return ServerHandle(process, base_url=line.split()[1], model=model)
