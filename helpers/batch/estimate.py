"""How many tokens a request will cost, guessed before it is sent, so a tokens-per-minute budget can be paced.

The rule (OpenAI's rule of thumb, about four characters of English text per token, plus what the
answer may use, which is also how OpenAI counts a request against its limit):

    ceil(characters of the prompt / 4)  +  n × (max_completion_tokens, else max_tokens, else 80)

No tokenizer and no download: the guess only has to be close, and it errs on the side of more.
The server's `x-ratelimit-remaining-tokens` header corrects whatever is left over (pacing.py).
"""

from __future__ import annotations

import math
from typing import Any

CHARACTERS_PER_TOKEN = 4
# With no max_tokens the answer's length is unknown; we assume a short answer of about 60 words.
DEFAULT_COMPLETION_TOKENS = 80


def prompt_characters(body: dict[str, Any]) -> int:
    """Characters of text the request sends: chat messages' contents, or an embedding's input."""
    if "input" in body:  # /v1/embeddings (and /v1/responses)
        given = body["input"]
        pieces = given if isinstance(given, list) else [given]
    else:
        pieces = [message.get("content") for message in body.get("messages", []) if isinstance(message, dict)]
    total = 0
    for piece in pieces:
        if isinstance(piece, str):
            total += len(piece)
        elif isinstance(piece, list):  # content parts: [{"type": "text", "text": ...}, ...]
            total += sum(len(part.get("text", "")) for part in piece if isinstance(part, dict))
    return total


def estimate_tokens(body: dict[str, Any]) -> int:
    """Tokens this request body reserves from a tokens-per-minute budget (the rule above)."""
    prompt = math.ceil(prompt_characters(body) / CHARACTERS_PER_TOKEN)
    if "messages" not in body:  # an embedding writes no tokens
        return prompt
    most = body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_COMPLETION_TOKENS
    return prompt + int(body.get("n") or 1) * int(most)
