"""Run a file of LLM requests as fast as the rate limits allow, losing nothing: the batch runner.

    from helpers.batch import run_batch, write_requests
    write_requests("requests.jsonl", bodies)             # the OpenAI Batch API's input format
    summary = await run_batch("requests.jsonl", "results.jsonl", base_url=..., api_key=..., rpm=500, tpm=200_000)

or from a shell: `llm-batch requests.jsonl results.jsonl --base-url URL --rpm 500 --tpm 200000`.

Modules, in the order a request meets them: requests_file (read and check the input, a line at
a time), ids (remember ids in 8 bytes each), estimate (how many tokens a request will cost),
pacing (token buckets for both budgets, corrected from the server's headers), retries (what to
retry and how long to wait), runner (the loop that ties them together), results_file (append
each result, resume), summary (the counts), progress (the live bar), cli (the command line).

Why these libraries:
- the official `openai.AsyncOpenAI` client, as in every lesson: it knows the base URL, the key
  and the headers. `max_retries=0`, because the runner's retry loop is the one being taught,
  and the SDK's would hide attempts (and its waits) from it. `client.post(path, body=..., cast_to=AsyncAPIResponse)`
  is the SDK's way to call any endpoint and still read status, headers and body. Its aiohttp
  transport (`DefaultAioHttpClient`, lesson 03) sends about three times as many requests a second
  as its default httpx one, whose connection pool is where most of the time goes;
- a plain loop for retries, not tenacity: the decisions (which failures, how long, what the
  server asked for, which counters move) fit in twenty lines read top to bottom, where tenacity
  would need a custom wait to read `retry-after` and callbacks to count;
- tqdm for progress (progress.py): the bar every Python user knows, widget or text by itself.
"""

from helpers.batch.estimate import estimate_tokens
from helpers.batch.pacing import ideal_requests_per_second
from helpers.batch.requests_file import write_requests
from helpers.batch.results_file import read_results
from helpers.batch.retries import backoff_seconds
from helpers.batch.runner import run_batch
from helpers.batch.summary import BatchSummary

__all__ = ["BatchSummary", "backoff_seconds", "estimate_tokens", "ideal_requests_per_second", "read_results",
           "run_batch", "write_requests"]
