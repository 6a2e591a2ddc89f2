"""Run a function that may be a coroutine function, to completion, from ordinary code.

A notebook cell already runs inside the kernel's event loop, so `asyncio.run(...)` fails there
("cannot be called from a running event loop"). A helper that must wait for a coroutine (to
time it, say) runs it on a fresh event loop in a short-lived thread of its own instead: the
kernel's loop is left alone, and the coroutine gets a loop with nothing else on it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def call_to_completion(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)`; if that is a coroutine, its result once it has finished."""
    result = function(*args, **kwargs)
    if not inspect.iscoroutine(result):
        return result
    with ThreadPoolExecutor(1, thread_name_prefix="own event loop") as thread:
        return thread.submit(asyncio.run, result).result()
