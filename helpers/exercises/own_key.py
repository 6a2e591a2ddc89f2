"""An exercise that calls the simulated server with an API key of its own.

The server's journal records the key of every request, so a check that reads only its own key's
entries counts exactly the calls the learner's code made: not the lesson's other calls, and not
what the code says about itself. A real endpoint keeps no such journal, so these exercises need
the simulator.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import openai

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle


class OwnKeyExercise:
    """A fresh API key on `server`, an async `ask(prompt)` that uses it, and that key's journal."""

    def __init__(self, server: ServerHandle, seed: int = 0) -> None:
        if not getattr(server, "is_simulator", False):
            raise RuntimeError("this exercise reads the simulated server's journal: run it without LLM_COURSE_BASE_URL")
        self.server, self.seed = server, seed
        self.key = f"sk-exercise-{uuid.uuid4().hex[:8]}"
        server.configure(seed=seed)  # the answers the check expects depend on the seed
        # No idle connections kept between calls: re-running the exercise's cell drops this object,
        # and connections left to the garbage collector can make the lesson's later calls hang until
        # their timeout (CPython issue 88968). A new loopback connection per call costs well under 1 ms.
        one_connection_per_call = httpx.Limits(max_connections=None, max_keepalive_connections=0)
        self.client = server.async_client(api_key=self.key,
                                          http_client=openai.DefaultAsyncHttpxClient(limits=one_connection_per_call))

    async def ask(self, prompt: str) -> str:
        reply = await self.client.chat.completions.create(model=self.server.model,
                                                          messages=[{"role": "user", "content": prompt}])
        return reply.choices[0].message.content

    def journal(self, since: float | None = None) -> list[dict]:
        """The server's entries for this exercise's key (after `since`, a Unix time)."""
        return [entry for entry in self.server.requests(since=since) if entry["key"] == self.key]
