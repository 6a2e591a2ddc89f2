"""A simulated, OpenAI-compatible LLM server for the lessons: no key, no cost, no internet.

    from helpers.llm_server import start_server
    server = start_server()                      # a child process on a free loopback port
    client = server.client()                     # the official openai.OpenAI, pointed at it
    client.chat.completions.create(model=server.model, messages=[...])

Endpoints: POST /v1/chat/completions (streamed or not, with tool calling), /v1/responses,
/v1/embeddings, GET /v1/models; the Batch API: POST /v1/files, GET /v1/files/{id} and
/v1/files/{id}/content, POST /v1/batches, GET /v1/batches and /v1/batches/{id}, POST
/v1/batches/{id}/cancel; and the simulator's own: GET /sim/stats, GET /sim/requests, GET or POST
/sim/config, POST /sim/reset; for a workshop room, the instructor's GET /sim/room (a page) and
/sim/room.json, and POST /sim/exercises (a learner's passing check).

Modules: latency (how long a call takes), text (what it answers), chat (a chat request read and
answered, online or in a batch), tools and tool_checks (tool calling: the simulated model's plan,
read from the prompt, and the 400s of a malformed tool conversation), limits and headers (rate
limits, and how a response reports them), faults (failures on purpose), journal (what happened),
validation, access and errors (bad input, keys, OpenAI-shaped errors), config (what can change
while it runs), slots (how many generate at once, the keys served in turn, a limit that can change
while requests wait), files and batches (the Batch API: a file of requests in, a file of answers
out, later), prices (what the calls would cost, online and in a batch), app (the HTTP server),
launcher (start it from a notebook), cli (start it from a shell), roster (a room's keys and
names), room_view and room_page (the instructor's dashboard), fingerprints (a key named without
showing it), endpoint (opt-in: a real OpenAI-compatible endpoint instead, with a request budget).
"""

from helpers.llm_server.launcher import ServerHandle, start_server

__all__ = ["ServerHandle", "start_server"]
