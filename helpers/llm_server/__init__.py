"""A simulated, OpenAI-compatible LLM server for the lessons: no key, no cost, no internet.

    from helpers.llm_server import start_server
    server = start_server()                      # a child process on a free loopback port
    client = server.client()                     # the official openai.OpenAI, pointed at it
    client.chat.completions.create(model=server.model, messages=[...])

Modules: latency (how long a call takes), text (what it answers), limits and headers (rate
limits, and how a response reports them), faults (failures on purpose), journal (what happened),
validation and errors (bad input, OpenAI-shaped errors), config (what can change while it runs),
slots (how many generate at once, a limit that can change while requests wait),
app (the HTTP server), launcher (start it from a notebook), cli (start it from a shell),
endpoint (opt-in: a real OpenAI-compatible endpoint instead, with a request budget).
"""

from helpers.llm_server.launcher import ServerHandle, start_server

__all__ = ["ServerHandle", "start_server"]
