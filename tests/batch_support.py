"""What the batch runner's tests share: a requests file of chat calls, a run against a server, and reading back."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

from helpers.batch import BatchSummary, read_results, run_batch, write_requests
from helpers.llm_server import ServerHandle


def chat_bodies(count: int, *, model: str = "instant", max_tokens: int = 20) -> list[dict]:
    """`count` chat requests with different prompts (so their token counts differ too)."""
    return [{"model": model, "messages": [{"role": "user", "content": f"Tell me about item {i}" + " please" * (i % 5)}],
             "max_tokens": max_tokens} for i in range(count)]


def requests_file(folder: Path, count: int, **options: Any) -> Path:
    return write_requests(folder / "requests.jsonl", chat_bodies(count, **options))


def run(server: ServerHandle, requests: Path, results: Path, *, api_key: str = "sk-batch-test",
        **options: Any) -> BatchSummary:
    """run_batch against the server, without a progress bar, on a fresh event loop."""
    options.setdefault("progress", False)
    return asyncio.run(run_batch(requests, results, base_url=server.base_url, api_key=api_key, **options))


def ids_written(results: Path) -> Counter[str]:
    """How many times each custom_id appears in the results: exactly once is the promise."""
    return Counter(result["custom_id"] for result in read_results(results))


def expected_ids(count: int) -> Counter[str]:
    return Counter(f"request-{n:06d}" for n in range(1, count + 1))
