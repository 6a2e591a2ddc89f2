"""Opt-in: run the same notebooks against a real OpenAI-compatible endpoint instead of the simulator.

    export LLM_COURSE_BASE_URL=https://api.openai.com/v1   # or a room server, or a local model server
    export LLM_COURSE_API_KEY=sk-...
    export LLM_COURSE_MODEL=gpt-4o-mini
    export LLM_COURSE_BUDGET=50                            # requests this kernel may send; default 50

With LLM_COURSE_BASE_URL set, `start_server()` starts nothing: it prints which endpoint is in use
and returns a RemoteEndpoint, which has the simulator handle's `.client()`, `.async_client()`,
`.model` and `.base_url`. Every HTTP request those clients send is counted, the SDK's retries
too, because each one may cost money; past the budget the next request raises BudgetExhausted
before it leaves the machine. The count is per kernel and per endpoint: running `start_server()`
again does not refill it. The journal, the stats and the controls (`requests`, `stats`,
`configure`, `reset`) exist only on the simulator; here they raise SimulatorOnly.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import openai

from helpers.mode import API_KEY_VARIABLE, ENDPOINT_VARIABLE

MODEL_VARIABLE = "LLM_COURSE_MODEL"
BUDGET_VARIABLE = "LLM_COURSE_BUDGET"
DEFAULT_BUDGET = 50


class BudgetExhausted(openai.OpenAIError):
    """The request budget is spent. An OpenAIError, so the SDK passes it on without retrying."""


class SimulatorOnly(RuntimeError):
    """Asked a real endpoint for something only the simulator has (its journal, stats or controls)."""


class Budget:
    """How many requests may still go out; shared by every client of one endpoint, thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.spent = 0
        self._lock = threading.Lock()

    def spend(self, url: object) -> None:
        with self._lock:
            if self.spent >= self.limit:
                raise BudgetExhausted(
                    f"Request budget spent: {self.spent} of {self.limit} requests already sent, so {url} "
                    f"was not sent. Raise {BUDGET_VARIABLE} and restart the kernel to allow more, or unset "
                    f"{ENDPOINT_VARIABLE} to use the free simulator.")
            self.spent += 1

    # httpx's request hooks, one per kind of client. Bound methods of one budget compare equal,
    # which is how `counted` sees that a client already counts against this budget.
    def on_request(self, request: Any) -> None:
        self.spend(request.url)

    async def on_async_request(self, request: Any) -> None:
        self.spend(request.url)


def counted(http_client: Any, hook: Callable[[Any], object]) -> Any:
    """The caller's HTTP client, with `hook` run before each request it sends, once however often it is passed.

    The hook goes on the caller's own client, not a copy: that client is what sends the requests.
    Adding it again would count every request twice, so a client that has it already is left alone.
    """
    hooks = http_client.event_hooks["request"]
    if hook not in hooks:
        http_client.event_hooks = {**http_client.event_hooks, "request": [*hooks, hook]}
    return http_client


_budgets: dict[str, Budget] = {}  # one per endpoint for the life of the kernel


class RemoteEndpoint:
    """A real OpenAI-compatible endpoint, looking like a simulator handle, with a request budget."""

    is_simulator = False

    def __init__(self, base_url: str, api_key: str, model: str, budget: Budget) -> None:
        self.base_url, self.api_key, self.model, self.budget = base_url, api_key, model, budget

    def client(self, **kwargs: Any) -> openai.OpenAI:
        http_client = counted(kwargs.pop("http_client", None) or openai.DefaultHttpxClient(), self.budget.on_request)
        return openai.OpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key),
                             http_client=http_client, **kwargs)

    def async_client(self, **kwargs: Any) -> openai.AsyncOpenAI:
        http_client = counted(kwargs.pop("http_client", None) or openai.DefaultAsyncHttpxClient(),
                              self.budget.on_async_request)
        return openai.AsyncOpenAI(base_url=self.base_url, api_key=kwargs.pop("api_key", self.api_key),
                                  http_client=http_client, **kwargs)

    def _simulator_only(self, what: str) -> SimulatorOnly:
        return SimulatorOnly(f"{what} needs the simulated server, but this notebook uses {self.base_url} "
                             f"({ENDPOINT_VARIABLE}). Unset it and restart the kernel to use the simulator.")

    def requests(self, since: float | None = None) -> list[dict]:
        raise self._simulator_only("The request journal")

    def stats(self) -> dict:
        raise self._simulator_only("Server statistics")

    def configure(self, **changes: Any) -> None:
        raise self._simulator_only("Changing latency, limits or faults")

    def reset(self) -> None:
        raise self._simulator_only("Resetting the journal")

    def stop(self) -> None:
        """Nothing to stop: the endpoint is not ours."""

    def __enter__(self) -> RemoteEndpoint:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return (f"<remote LLM endpoint {self.base_url} model={self.model} "
                f"budget {self.budget.spent}/{self.budget.limit} requests>")


def from_environment() -> RemoteEndpoint:
    """The endpoint the LLM_COURSE_* variables name, after a banner saying so and what it may cost."""
    base_url = os.environ[ENDPOINT_VARIABLE].strip()
    api_key = os.environ.get(API_KEY_VARIABLE, "").strip()
    model = os.environ.get(MODEL_VARIABLE, "").strip()
    if not api_key or not model:
        raise RuntimeError(f"{ENDPOINT_VARIABLE} is set, so {API_KEY_VARIABLE} (any non-empty text for a server "
                           f"without keys) and {MODEL_VARIABLE} must be set too.")
    try:
        limit = int(os.environ.get(BUDGET_VARIABLE, DEFAULT_BUDGET))
    except ValueError:
        raise RuntimeError(f"{BUDGET_VARIABLE} must be a whole number of requests.") from None
    budget = _budgets.setdefault(base_url, Budget(limit))
    budget.limit = limit
    print(f"LLM endpoint: {base_url}, model {model} (from {ENDPOINT_VARIABLE}); the simulator is not used.\n"
          f"Requests may cost money: this kernel sends at most {limit} ({BUDGET_VARIABLE}), "
          f"{budget.spent} sent so far.")
    return RemoteEndpoint(base_url, api_key, model, budget)
