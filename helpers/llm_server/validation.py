"""Check a request body field by field, so bad input is a clear 400 and never a 500."""

from __future__ import annotations

from typing import Any

from helpers.llm_server.errors import ApiError, bad_request

ROLES = {"system", "developer", "user", "assistant", "tool"}
MAX_OUTPUT_TOKENS = 16_384


def require_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def model_name(body: dict, known: set[str]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("you must provide a model parameter", "model")
    if model not in known:
        raise ApiError(404, f"The model `{model}` does not exist. Available: {', '.join(sorted(known))}.",
                       code="model_not_found", param="model")
    return model


def text_of_content(content: Any, index: int) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "..."}]
        texts = [part.get("text", "") for part in content if isinstance(part, dict)]
        if all(isinstance(text, str) for text in texts):
            return " ".join(texts)
        raise bad_request(f"messages[{index}].content: each text part's text must be a string.",
                          f"messages[{index}].content")
    if content is None:
        return ""
    raise bad_request(f"messages[{index}].content must be a string or a list of content parts.", f"messages[{index}].content")


def messages(body: dict) -> list[dict]:
    found = body.get("messages")
    if not isinstance(found, list) or not found:
        raise bad_request("messages must be a non-empty array of {role, content} objects.", "messages")
    for index, message in enumerate(found):
        if not isinstance(message, dict):
            raise bad_request(f"messages[{index}] must be an object.", f"messages[{index}]")
        if message.get("role") not in ROLES:
            raise bad_request(f"messages[{index}].role must be one of {sorted(ROLES)}, got {message.get('role')!r}.",
                              f"messages[{index}].role")
        text_of_content(message.get("content"), index)
    return found


def integer(body: dict, name: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise bad_request(f"{name} must be an integer from {low} to {high}, got {value!r}.", name)
    return value


def stop_sequences(body: dict) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and len(stop) <= 4 and all(isinstance(s, str) for s in stop):
        return stop
    raise bad_request("stop must be a string or a list of up to 4 strings.", "stop")


def flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise bad_request(f"{name} must be true or false, got {value!r}.", name)
    return value
