"""What a chat-completions request asks for, and the answer the simulator gives it.

Online calls (app.py) and Batch API lines (batches.py) go through the same three steps, so the
same request gets the same answer and the same usage either way: `read_chat` checks the body,
`answers_for` writes the answers (text, or tool calls: tools.py), `completion` wraps them in
OpenAI's chat.completion object, and `stream_deltas` cuts one into the deltas of a stream.

Prompt tokens count every message's text, the tool calls of earlier assistant messages and the
tools' definitions (their JSON), all by text.py's rule: a real model reads all three (OpenAI puts
the definitions in the model's context and bills them as prompt tokens, though fewer: its
tokeniser does not pay a token for every quote and brace of the JSON).
"""

from __future__ import annotations

from typing import NamedTuple

from helpers.llm_server import text, tool_checks, tools, validation
from helpers.llm_server.latency import PRESETS
from helpers.llm_server.tool_checks import ToolOptions
from helpers.llm_server.tools import ToolCall


class Answer(NamedTuple):
    """One choice of the answer: its text's tokens, or its tool calls, and why it ended."""

    pieces: list[str]
    finish_reason: str  # "stop", "length" or "tool_calls"
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def tokens(self) -> int:
        return len(self.pieces) + sum(call.tokens for call in self.tool_calls)


class Ask(NamedTuple):
    """A chat-completions request, checked."""

    model: str
    messages: list[dict]
    prompt: str
    prompt_tokens: int
    tools: ToolOptions | None  # None: the request offers no tools
    tool_messages: int  # role "tool" messages since the latest user message
    max_tokens: int | None
    n: int
    seed: int | None
    stops: list[str]
    stream: bool
    include_usage: bool


def read_chat(body: dict) -> Ask:
    messages = validation.messages(body)
    options = tool_checks.read_tools(body)
    tool_checks.check_tool_messages(messages)
    max_tokens = validation.integer(body, "max_completion_tokens", None, 1, validation.MAX_OUTPUT_TOKENS)
    if max_tokens is None:
        max_tokens = validation.integer(body, "max_tokens", None, 1, validation.MAX_OUTPUT_TOKENS)
    stream = validation.flag(body, "stream")
    stream_options = body.get("stream_options") or {}
    prompt = "\n".join(validation.text_of_content(m.get("content"), i) for i, m in enumerate(messages))
    calls_made = sum(tools.call_tokens(call["function"]["name"], call["function"]["arguments"])
                     for m in messages if m["role"] == "assistant" for call in m.get("tool_calls") or [])
    _, since = tools.since_latest_user(messages)
    return Ask(
        model=validation.model_name(body, set(PRESETS)),
        messages=messages,
        prompt=prompt,
        prompt_tokens=text.count_tokens(prompt) + calls_made + (options.tokens if options else 0),
        tools=options,
        tool_messages=sum(m["role"] == "tool" for m in since),
        max_tokens=max_tokens,
        n=validation.integer(body, "n", 1, 1, 8),
        seed=validation.integer(body, "seed", None, -(2**63), 2**63 - 1),
        stops=validation.stop_sequences(body),
        stream=stream,
        include_usage=stream and isinstance(stream_options, dict) and stream_options.get("include_usage") is True,
    )


def cut(answer: str, max_tokens: int | None, stops: list[str]) -> tuple[list[str], str]:
    """The tokens to send and the finish reason: `stop` (natural end or stop sequence) or `length`."""
    for stop in stops:
        if stop and stop in answer:
            answer = answer[: answer.index(stop)]
    if max_tokens is None:
        return text.tokens_of(answer), "stop"
    pieces = text.tokens_of(answer, at_most=max_tokens + 1)  # one more says whether the answer was longer
    if len(pieces) > max_tokens:
        return pieces[:max_tokens], "length"
    return pieces, "stop"


def answers_for(ask: Ask, server_seed: int) -> list[Answer]:
    """The request's n answers: tool calls if the plan has some (tools.py), else text.

    The text: the quotes of the tool results, if any, then the simulated answer, which the request's
    own seed decides, or else the server's.
    """
    calls = tools.next_calls(ask.messages, ask.tools) if ask.tools is not None else []
    if calls:  # each choice makes the same calls, with ids of its own
        return [Answer([], "tool_calls", tools.with_ids(calls)) for _ in range(ask.n)]
    seed = server_seed if ask.seed is None else ask.seed
    quoted = tools.quotes(ask.messages)
    opening = f"{quoted} " if quoted else ""
    return [Answer(*cut(opening + text.answer(ask.prompt, seed, choice), ask.max_tokens, ask.stops))
            for choice in range(ask.n)]


class Totals(NamedTuple):
    """What the journal keeps of the answers: completion tokens and tool calls, over every choice."""

    tokens: int
    tool_calls: int


def totals(answers: list[Answer]) -> Totals:
    return Totals(sum(answer.tokens for answer in answers), sum(len(answer.tool_calls) for answer in answers))


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    """OpenAI's usage object, its details included: code that prices calls reads `cached_tokens`.

    The simulator caches no prompt and has no reasoning tokens, so those counts are always 0.
    """
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def header(completion_id: str, created: float, model: str) -> dict:
    """The fields a chat.completion and each of a stream's chunks begin with."""
    return {"id": completion_id, "created": int(created), "model": model, "system_fingerprint": "fp_sim"}


def message(answer: Answer) -> dict:
    """The assistant message of a chat.completion: text, or tool calls with `content: null`."""
    if answer.tool_calls:
        return {"role": "assistant", "content": None, "refusal": None,
                "tool_calls": [call.wire() for call in answer.tool_calls]}
    return {"role": "assistant", "content": "".join(answer.pieces), "refusal": None}


def completion(base: dict, answers: list[Answer], tokens: dict) -> dict:
    """The chat.completion object: `base` is its `header`, `tokens` its `usage`."""
    choices = [{"index": i, "message": message(answer), "finish_reason": answer.finish_reason, "logprobs": None}
               for i, answer in enumerate(answers)]
    return {**base, "object": "chat.completion", "choices": choices, "usage": tokens}


def first_delta(answer: Answer) -> dict:
    """The delta of a stream's first chunk: the role, and an empty content (null before tool calls, as OpenAI's)."""
    return {"role": "assistant", "content": None if answer.tool_calls else ""}


def stream_deltas(answer: Answer) -> list[dict | None]:
    """What a stream sends as each completion token is due (None: nothing yet).

    Text: one piece a token. A tool call, as OpenAI streams one (a gpt-4.1-nano stream recorded in
    alexbrowng/aiomodels, tests/openai/chat_completion_chunks): a first delta with the call's index,
    id, type and name and empty arguments, sent once its name's tokens are due; then the arguments
    in fragments, one a token, each with the call's index only.
    """
    if not answer.tool_calls:
        return [{"content": piece} for piece in answer.pieces]
    deltas: list[dict | None] = []
    for index, call in enumerate(answer.tool_calls):
        deltas += [None] * (text.count_tokens(call.name) - 1)
        deltas.append({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                       "function": {"name": call.name, "arguments": ""}}]})
        deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                   for piece in text.tokens_of(call.arguments)]
    return deltas
