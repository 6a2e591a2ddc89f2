"""What a chat-completions request asks for, and the answer the simulator gives it.

Online calls (app.py) and Batch API lines (batches.py) go through the same three steps, so the
same request gets the same answer and the same usage either way: `read_chat` checks the body,
`answers_for` writes the answers, `completion` wraps them in OpenAI's chat.completion object.
"""

from __future__ import annotations

from typing import NamedTuple

from helpers.llm_server import text, validation
from helpers.llm_server.latency import PRESETS

Answer = tuple[list[str], str]  # the answer's tokens, and why it ended: "stop" or "length"


class Ask(NamedTuple):
    """A chat-completions request, checked."""

    model: str
    prompt: str
    max_tokens: int | None
    n: int
    seed: int | None
    stops: list[str]
    stream: bool
    include_usage: bool


def read_chat(body: dict) -> Ask:
    messages = validation.messages(body)
    max_tokens = validation.integer(body, "max_completion_tokens", None, 1, validation.MAX_OUTPUT_TOKENS)
    if max_tokens is None:
        max_tokens = validation.integer(body, "max_tokens", None, 1, validation.MAX_OUTPUT_TOKENS)
    stream = validation.flag(body, "stream")
    options = body.get("stream_options") or {}
    return Ask(
        model=validation.model_name(body, set(PRESETS)),
        prompt="\n".join(validation.text_of_content(m.get("content"), i) for i, m in enumerate(messages)),
        max_tokens=max_tokens,
        n=validation.integer(body, "n", 1, 1, 8),
        seed=validation.integer(body, "seed", None, -(2**63), 2**63 - 1),
        stops=validation.stop_sequences(body),
        stream=stream,
        include_usage=stream and isinstance(options, dict) and options.get("include_usage") is True,
    )


def cut(answer: str, max_tokens: int | None, stops: list[str]) -> Answer:
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
    """The request's n answers: its own seed decides the text, or else the server's."""
    seed = server_seed if ask.seed is None else ask.seed
    return [cut(text.answer(ask.prompt, seed, choice), ask.max_tokens, ask.stops) for choice in range(ask.n)]


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def header(completion_id: str, created: float, model: str) -> dict:
    """The fields a chat.completion and each of a stream's chunks begin with."""
    return {"id": completion_id, "created": int(created), "model": model, "system_fingerprint": "fp_sim"}


def completion(base: dict, answers: list[Answer], tokens: dict) -> dict:
    """The chat.completion object: `base` is its `header`, `tokens` its `usage`."""
    choices = [{"index": i, "message": {"role": "assistant", "content": "".join(pieces), "refusal": None},
                "finish_reason": reason, "logprobs": None} for i, (pieces, reason) in enumerate(answers)]
    return {**base, "object": "chat.completion", "choices": choices, "usage": tokens}
