"""The lesson's two tools, each doing real work of one kind: one waits on I/O, one computes.

* `search_docs(query)` asks the LLM server a short question: it waits on the network, so while
  it waits the event loop runs other tools. Give the toolbox a client with an API key of its
  own, and the server's journal tells the tools' requests apart from the agent's model calls.
* `check_facts(text)` scores a text with `score_answer` (helpers.workloads.cpu_work), pure Python
  that holds the GIL: on the event loop it would stop everything else, so it runs on `pool`
  (a process pool) through `run_in_executor`, and the loop goes on meanwhile.

Two tools of the same kind would teach less: the first shows that concurrent I/O tools take as
long as the slowest, the second that CPU work needs a pool to overlap with them.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from functools import partial

from openai import AsyncOpenAI

from helpers.agents.toolbox import Tool, Toolbox
from helpers.workloads.cpu_work import score_answer


def text_argument(name: str, description: str) -> dict:
    """The JSON Schema of a tool that takes one required string, `name`."""
    return {"type": "object", "properties": {name: {"type": "string", "description": description}}, "required": [name]}


def lesson_toolbox(client: AsyncOpenAI, model: str, pool: Executor, effort: int) -> Toolbox:
    """search_docs (one chat completion on `client`) and check_facts (`score_answer` at `effort`, on `pool`)."""

    async def search_docs(query: str) -> str:
        response = await client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": f"In 30 words, what do the docs say about {query}?"}])
        return response.choices[0].message.content or ""

    async def check_facts(text: str) -> str:
        work = partial(score_answer, text, effort)  # a partial of an importable function: a worker can unpickle it
        score = await asyncio.get_running_loop().run_in_executor(pool, work)
        return (f"{score.words} words, {score.sentences} sentences, {score.distinct_words} distinct words, "
                f"repetition {score.repetition:.2f}")

    return Toolbox([
        Tool("search_docs", "Search the documentation and return what it says about a query.",
             text_argument("query", "what to look up"), search_docs),
        Tool("check_facts", "Check a draft answer and return a short score of it.",
             text_argument("text", "the draft to check"), check_facts),
    ])
