"""Functions that run inside process-pool workers, for lessons 04 and 05.

A worker started by `spawn` or `forkserver` is a fresh interpreter: to run a task it imports
the task's function by module and name. A function defined in a notebook lives in `__main__`,
which that worker cannot import, so every function here is in an importable module instead.
Everything in this file runs in the worker, not in the notebook.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from threading import Barrier  # multiprocessing's Barrier has the same interface

    import openai

T = TypeVar("T")

# The notebook changes this before starting workers: which workers see the change shows what
# each start method copies (fork: the parent's memory; spawn, forkserver: a fresh import).
SETTING = "the value in helpers/workloads/process_workers.py"

_client: openai.OpenAI | None = None  # one client per worker process, made by `connect`
_model = ""


def count_words(text: str) -> int:
    """The seed article's post-processing: a word count (light work)."""
    return len(text.split())


def read_setting() -> str:
    """What this worker sees in SETTING."""
    return SETTING


def connect(base_url: str, model: str, api_key: str, everyone: Barrier | None = None) -> None:
    """Pool initializer: give this worker its own client, then wait at `everyone`.

    A client cannot be pickled and sent to a worker (it holds locks and open connections), so
    each worker builds one. A spawned worker imports `openai` for itself: that import is part of
    what starting a worker costs. With a barrier for all the pool's workers, none takes a task
    before every one has started, so a warm-up leaves the whole pool ready, not just the workers
    that started first.
    """
    global _client, _model
    import openai

    _client = openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0)
    _model = model
    if everyone is not None:
        everyone.wait(timeout=300)


def ask(prompt: str, api_key: str | None = None) -> str:
    """One chat completion with this worker's client (run `connect` first, as the initializer).

    `api_key` replaces the client's key for this call: on the simulator, the key picks the
    request's random stream, so a lesson can give each prompt the same latency in every way it runs.
    """
    if _client is None:
        raise RuntimeError("this worker has no client: start the pool with initializer=connect")
    client = _client if api_key is None else _client.with_options(api_key=api_key)
    reply = client.chat.completions.create(model=_model, messages=[{"role": "user", "content": prompt}])
    return reply.choices[0].message.content


def ask_then_analyse(prompt: str, analyse: Callable[[str], T], api_key: str | None = None) -> T:
    """A whole job in one worker, as a process pool alone does it: wait for the call, then analyse."""
    return analyse(ask(prompt, api_key))


def send_errors_to(path: str) -> None:
    """Pool initializer: this worker writes its error messages to the file `path`.

    A worker that crashes prints its traceback to the standard error it inherited, which in
    Jupyter is the notebook's output. Sending it to a file lets the notebook show one line of it.
    """
    sys.stderr = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (open for the worker's life)
