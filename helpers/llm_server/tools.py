"""Tool calling without a model: the simulated model's plan is written in the prompt.

A real model decides from the conversation which tools to call; this one follows a rule you can
read, so a lesson can script an agent's whole run from its question and know in advance how many
turns, calls and tokens it will take. The rule:

- The simulated model reads the conversation's **latest `user` message**. Every mention there of an
  offered tool's name immediately followed by parentheses, `name(...)`, is a **planned call**, in
  order of appearance. A name without parentheses is not a call (prose may talk about tools).
- Inside the parentheses (pairs of them included: `search_docs(limits (RPM))`): nothing →
  default arguments; a JSON object → those arguments, over the defaults; anything else → that
  text (surrounding quotes stripped) as the value of the schema's first string property
  (required ones first; one with an `enum` takes no free text and is skipped), the other
  required properties at their defaults. (A schema without such a property
  takes no text: the call gets its defaults.)
- Default arguments: every `required` property gets its schema `default`, else its first `enum`
  value, else by type: string: the property's name; integer/number: `minimum` or 1; boolean: true;
  array: []; object: its own required properties. Optional properties are left out. Generated
  arguments validate against the usual schemas; JSON arguments you write are sent as written.
- Mentions are split into **rounds** by the word `then` (whole word, any case) between them:
  `"search_docs(rate limits) and search_docs(retries), then check_facts()"` → round 1: two calls,
  round 2: one call.
- Each assistant turn: count the tool calls already made (in `assistant` messages after the latest
  user message), k. If planned calls remain, the answer is the rest of planned[k]'s round (all of it
  when `parallel_tool_calls` is true, the default; only planned[k] when false) with
  `finish_reason: "tool_calls"`, `content: null`. When none remain: a final text answer whose first
  sentences quote the tool results it received since the latest user message
  (`search_docs said: <its first eight words>.` for each tool message, in order), followed by the
  usual simulated answer on the prompt's topic.
- `tool_choice`: "auto" (the default with tools) → the rule; "none" → text, never tool calls;
  "required" → the rule, or when it has nothing to call, one call of the first tool with default
  arguments; `{"type": "function", "function": {"name": N}}` → exactly one call of N (the next
  planned call of N if any, else N with defaults).
- Call ids: `call_` and 24 alphanumerics, distinct. A call costs the simulator's token count of
  its name and its arguments as completion tokens, timed like text (time to first token, then per
  token). `max_tokens` and `stop` cut text answers only, never a call's arguments.

The request's checks (the 400s) live in tool_checks.py.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from helpers.llm_server.journal import request_id
from helpers.llm_server.text import count_tokens
from helpers.llm_server.tool_checks import FunctionTool, ToolOptions
from helpers.llm_server.validation import text_of_content

THEN = re.compile(r"\bthen\b", re.IGNORECASE)
QUOTED_WORDS = 8  # of each tool result, in the final answer's first sentences
DECODER = json.JSONDecoder()


class Call(NamedTuple):
    """A call the rule plans: which function, with which arguments."""

    name: str
    arguments: dict


class ToolCall(NamedTuple):
    """A call as an answer carries it: an id for the tool message to answer, the arguments as JSON text."""

    id: str
    name: str
    arguments: str

    @property
    def tokens(self) -> int:
        return call_tokens(self.name, self.arguments)

    def wire(self) -> dict:
        """OpenAI's shape: a `tool_calls` entry of the assistant message."""
        return {"id": self.id, "type": "function", "function": {"name": self.name, "arguments": self.arguments}}


def call_tokens(name: str, arguments: str) -> int:
    return count_tokens(name) + count_tokens(arguments)


def since_latest_user(messages: list[dict]) -> tuple[str, list[dict]]:
    """The latest user message's text, and the messages after it (the agent's turns on that question)."""
    latest = max((i for i, message in enumerate(messages) if message["role"] == "user"), default=None)
    if latest is None:
        return "", messages
    return text_of_content(messages[latest].get("content"), latest), messages[latest + 1:]


def next_calls(messages: list[dict], options: ToolOptions) -> list[Call]:
    """The calls the next assistant turn makes; none means it answers in text."""
    question, since = since_latest_user(messages)
    if options.choice == "none":
        return []
    planned = [(number, call) for number, calls in enumerate(plan(question, options.tools)) for call in calls]
    made = sum(len(message.get("tool_calls") or []) for message in since if message["role"] == "assistant")
    remaining = planned[made:]
    if options.forced is not None:
        of_it = [call for _, call in remaining if call.name == options.forced]
        return of_it[:1] or [Call(options.forced, default_arguments(schema_of(options, options.forced)))]
    if remaining:
        this_round = [call for number, call in remaining if number == remaining[0][0]]
        return this_round if options.parallel else this_round[:1]
    if options.choice == "required":
        first = options.tools[0]
        return [Call(first.name, default_arguments(first.parameters))]
    return []


def with_ids(calls: list[Call]) -> tuple[ToolCall, ...]:
    """The calls as an answer carries them, each with an id of its own."""
    return tuple(ToolCall(request_id("call", "_"), call.name, json.dumps(call.arguments)) for call in calls)


def schema_of(options: ToolOptions, name: str) -> dict:
    return next(tool.parameters for tool in options.tools if tool.name == name)


def plan(question: str, tools: list[FunctionTool]) -> list[list[Call]]:
    """The planned calls of a question, in rounds."""
    schemas = {tool.name: tool.parameters for tool in tools}
    names = "|".join(re.escape(name) for name in sorted(schemas, key=len, reverse=True))  # longest name first
    mention = re.compile(rf"(?<![\w-])({names})\(")
    rounds: list[list[Call]] = [[]]
    position = previous_end = 0
    while found := mention.search(question, position):
        inside = parenthesised(question, found.end())
        if inside is None:  # no closing parenthesis: not a call
            position = found.end()
            continue
        text, end = inside
        if rounds[-1] and THEN.search(question, previous_end, found.start()):
            rounds.append([])
        name = found.group(1)
        rounds[-1].append(Call(name, arguments_from(text, schemas[name])))
        position = previous_end = end
    return [calls for calls in rounds if calls]


def parenthesised(question: str, start: int) -> tuple[str, int] | None:
    """What stands between the parentheses opened just before `start`, and where they close.

    A JSON object may hold a ")" of its own, so one is read whole; anything else ends at the ")"
    that closes the opening one, so `search_docs(limits (RPM))` asks about "limits (RPM)".
    """
    opening = len(question) - len(question[start:].lstrip())
    if question.startswith("{", opening):
        try:
            _, stop = DECODER.raw_decode(question, opening)
        except json.JSONDecodeError:
            pass
        else:
            closing = len(question) - len(question[stop:].lstrip())
            if question.startswith(")", closing):
                return question[start:closing], closing + 1
    depth = 1  # parentheses open
    for position in range(start, len(question)):
        depth += {"(": 1, ")": -1}.get(question[position], 0)
        if depth == 0:
            return question[start:position], position + 1
    return None


def arguments_from(text: str, schema: dict) -> dict:
    """A call's arguments from what its parentheses hold (the rule's second point)."""
    arguments = default_arguments(schema)
    text = text.strip()
    if not text:
        return arguments
    try:
        given = json.loads(text)
    except json.JSONDecodeError:
        given = None
    if isinstance(given, dict):
        return arguments | given
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    if (name := first_string_property(schema)) is not None:
        arguments[name] = text
    return arguments


def first_string_property(schema: dict) -> str | None:
    """The property a call's text goes to: the first string one that takes any text (no `enum`)."""
    properties = schema.get("properties") or {}
    for name in [*schema.get("required", []), *properties]:
        prop = properties.get(name)
        kind = prop.get("type") if isinstance(prop, dict) else None
        if (kind == "string" or (isinstance(kind, list) and "string" in kind)) and "enum" not in prop:
            return name
    return None


def default_arguments(schema: dict) -> dict:
    """Every required property at its default value.

    tool_checks.py checks only the top schema, as the rule reads it: in a nested object, a
    `properties` that is no object or a `required` that is no list of names is read as empty.
    """
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = schema.get("required")
    required = required if isinstance(required, list) else []
    return {name: default_value(properties.get(name), name) for name in required if isinstance(name, str)}


def default_value(schema: Any, name: str) -> Any:
    if not isinstance(schema, dict):
        return name
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. ["integer", "null"]: the first type
        kind = kind[0] if kind else None
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return default_arguments(schema)
    return name  # a string, or a property of no stated type


def quotes(messages: list[dict]) -> str:
    """The final answer's first sentences: each tool result since the latest user message, quoted."""
    _, since = since_latest_user(messages)
    names = {call["id"]: call["function"]["name"]
             for message in since if message["role"] == "assistant" for call in message.get("tool_calls") or []}
    sentences = []
    for index, message in enumerate(since):
        if message["role"] == "tool":
            words = " ".join(text_of_content(message.get("content"), index).split()[:QUOTED_WORDS]).rstrip(".,;:!?")
            sentences.append(f"{names[message['tool_call_id']]} said: {words or 'nothing'}.")
    return " ".join(sentences)
