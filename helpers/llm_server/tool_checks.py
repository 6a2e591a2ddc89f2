"""Check what a request says about tools, so a malformed one gets the 400 OpenAI would send.

A tool-calling conversation has rules of its own besides the fields' types: the function names
are unique, `tool_choice` and `parallel_tool_calls` need `tools`, and every call an assistant
message makes is answered by a `tool` message, with the call's id, before the conversation goes
on. An agent loop that forgets one of those meets these errors first, so they copy OpenAI's
wording where it could be found; each message says where it was found, the others are ours.
What OpenAI accepts and this simulator does not run (tools other than functions, a `tool_choice`
of type `allowed_tools` or `custom`, the deprecated `functions` and `function_call`) is a 400
that says so, never silently ignored: a learner would wonder why the model does not use it.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from helpers.llm_server.errors import ApiError
from helpers.llm_server.text import count_tokens

# OpenAI's rule for a function's name (openai issue threads quoting the 400: brekkylab/ailoy PR #109)
NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
MAX_NAME_LENGTH = 64
MODES = ("none", "auto", "required")
NO_PARAMETERS = {"type": "object", "properties": {}}  # OpenAI's meaning of a function without `parameters`
LEGACY = {"functions": "send them in 'tools', each as {\"type\": \"function\", \"function\": ...}",
          "function_call": "use 'tool_choice' instead"}  # OpenAI's deprecated fields, and what replaced them


class FunctionTool(NamedTuple):
    """One offered function: its name and the JSON Schema of its arguments."""

    name: str
    parameters: dict


class ToolOptions(NamedTuple):
    """A request's `tools`, `tool_choice` and `parallel_tool_calls`, checked."""

    tools: list[FunctionTool]
    choice: str  # "auto" (the default), "none", "required", or "function": call `forced`
    forced: str | None
    parallel: bool
    tokens: int  # the definitions' tokens: the model reads them, so they count as prompt tokens


def invalid(message: str, param: str, code: str | None = None) -> ApiError:
    return ApiError(400, message, code=code, param=param)


def kind(value: Any) -> str:
    """A JSON value's type as OpenAI's messages name it: "a string", "an object", ..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    names = {str: "a string", int: "an integer", float: "a number", list: "an array", dict: "an object"}
    return names.get(type(value), "an unknown value")


def read_tools(body: dict) -> ToolOptions | None:
    """The request's tool options, or None when it offers no tools."""
    for name, instead in LEGACY.items():
        if body.get(name) is not None:
            raise invalid(f"This simulator does not run the deprecated '{name}': {instead}.", name)
    given = body.get("tools")
    if given is None:
        for name in ("tool_choice", "parallel_tool_calls"):
            if body.get(name) is not None:
                # OpenAI's wording: writer/writer-framework PR #1013 (tool_choice), Upsonic/Upsonic #323 (parallel_tool_calls)
                raise invalid(f"Invalid value for '{name}': '{name}' is only allowed when 'tools' are specified.", name)
        return None
    if not isinstance(given, list):  # OpenAI's wording, as quoted in public code that met it
        raise invalid(f"Invalid type for 'tools': expected an array of objects, but got {kind(given)} instead.",
                      "tools", "invalid_type")
    if not given:  # OpenAI's wording and code, quoted in a comment of public code that met it
        raise invalid("Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty "
                      "array instead.", "tools", "empty_array")
    tools = [function_tool(tool, index) for index, tool in enumerate(given)]
    names = [tool.name for tool in tools]
    for index, name in enumerate(names):
        if name in names[:index]:  # ours: OpenAI's wording for this one was not found
            raise invalid(f"Invalid 'tools': the function name '{name}' is used by tools[{names.index(name)}] and "
                          f"tools[{index}]; tool names must be unique.", f"tools[{index}].function.name")
    choice, forced = tool_choice(body.get("tool_choice"), names)
    parallel = body.get("parallel_tool_calls")
    if parallel is not None and not isinstance(parallel, bool):  # OpenAI's wording, as quoted in public tests
        raise invalid(f"Invalid type for 'parallel_tool_calls': expected a boolean, but got {kind(parallel)} instead.",
                      "parallel_tool_calls", "invalid_type")
    return ToolOptions(tools, choice, forced, parallel is not False, count_tokens(json.dumps(given)))


def function_tool(tool: Any, index: int) -> FunctionTool:
    where = f"tools[{index}]"
    if not isinstance(tool, dict):
        raise invalid(f"Invalid type for '{where}': expected an object, but got {kind(tool)} instead.", where,
                      "invalid_type")
    if tool.get("type") is None:
        raise invalid(f"Missing required parameter: '{where}.type'.", f"{where}.type", "missing_required_parameter")
    if tool["type"] != "function":  # OpenAI has more kinds of tools; this simulator runs functions only
        raise invalid(f"Invalid value: {tool['type']!r}. This simulator supports only 'function' tools.",
                      f"{where}.type", "invalid_value")
    function = tool.get("function")
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        missing = f"{where}.function" if not isinstance(function, dict) else f"{where}.function.name"
        raise invalid(f"Missing required parameter: '{missing}'.", missing, "missing_required_parameter")
    name = function["name"]
    if len(name) > MAX_NAME_LENGTH:  # OpenAI's wording for a string too long (nanbingxyz/5ire #33, a description)
        raise invalid(f"Invalid '{where}.function.name': string too long. Expected a string with maximum length "
                      f"{MAX_NAME_LENGTH}, but got a string with length {len(name)} instead.",
                      f"{where}.function.name", "string_above_max_length")
    if not NAME.match(name):  # OpenAI's wording: brekkylab/ailoy PR #109
        raise invalid(f"Invalid '{where}.function.name': string does not match pattern. Expected a string that "
                      f"matches the pattern '{NAME.pattern}'.", f"{where}.function.name", "invalid_value")
    parameters = function.get("parameters")
    if parameters is None:
        return FunctionTool(name, NO_PARAMETERS)
    check_schema(name, parameters, f"{where}.function.parameters")
    return FunctionTool(name, parameters)


def check_schema(name: str, schema: Any, param: str) -> None:
    """What the plan rule needs of a schema: an object, its properties an object, its `required` a list.

    OpenAI checks schemas with Python's jsonschema, its messages show: "[] is not of type 'object'"
    (maltekuhr/laravel-gpt #8), "None is not of type 'array'" (yomorun/yomo PR #860), and the
    wording for a schema of another type (browserbase/stagehand #1159).
    """
    start = f"Invalid schema for function '{name}':"
    problem = None
    if not isinstance(schema, dict):
        problem = f"{schema!r} is not of type 'object'."
    elif schema.get("type") != "object":
        problem = f"schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{schema.get('type')}\"'."
    elif not isinstance(schema.get("properties", {}), dict):
        problem = f"{schema['properties']!r} is not of type 'object'."
    elif not (isinstance(required := schema.get("required", []), list) and all(isinstance(r, str) for r in required)):
        problem = f"{required!r} is not of type 'array' of strings."
    if problem:
        raise invalid(f"{start} {problem}", param, "invalid_function_parameters")


def tool_choice(value: Any, names: list[str]) -> tuple[str, str | None]:
    """`tool_choice` as (mode, the function it forces, if any)."""
    if value is None:
        return "auto", None
    if isinstance(value, str):
        if value in MODES:
            return value, None
        # OpenAI's wording, as quoted in a spring-ai issue (copied on nineya.com/archive/24260.html)
        raise invalid(f"Invalid value: {value!r}. Supported values are: 'none', 'auto', and 'required'.",
                      "tool_choice", "invalid_value")
    if isinstance(value, dict) and value.get("type") in ("allowed_tools", "custom"):  # OpenAI's, not run here
        raise invalid(f"This simulator does not run a tool_choice of type '{value['type']}': use 'none', 'auto', "
                      "'required' or one function by name.", "tool_choice", "invalid_value")
    function = value.get("function") if isinstance(value, dict) and value.get("type") == "function" else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(name, str):  # ours, in OpenAI's "Invalid value for" style
        raise invalid("Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or "
                      f'{{"type": "function", "function": {{"name": ...}}}}, got {json.dumps(value)}.', "tool_choice")
    if name not in names:  # ours: OpenAI's wording for this one was not found
        raise invalid(f"Invalid value for 'tool_choice': no function named '{name}' in 'tools' "
                      f"(they are: {', '.join(names)}).", "tool_choice")
    return "function", name


def check_tool_messages(messages: list[dict]) -> None:
    """Every `tool` message answers a call of the assistant message before it, and every call is answered.

    OpenAI writes these params as "messages.[3].role", with a dot before the bracket; so do we.
    """
    waiting: list[str] = []  # the ids of the latest assistant message's calls, not answered yet
    offered: set[str] = set()  # the ids the tool messages here may answer
    asked_at = 0
    for index, message in enumerate(messages):
        if message["role"] == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or not call_id:  # OpenAI's wording: langchain-ai/langchain #22600
                raise invalid("Missing parameter 'tool_call_id': messages with role 'tool' must have a "
                              "'tool_call_id'.", f"messages.[{index}].tool_call_id")
            if call_id not in offered:  # OpenAI's wording, its typo included: miurla/morphic #136, smarter-sh/smarter #264
                raise invalid("Invalid parameter: messages with role 'tool' must be a response to a preceeding "
                              "message with 'tool_calls'.", f"messages.[{index}].role")
            waiting = [waiting_id for waiting_id in waiting if waiting_id != call_id]
            continue
        unanswered(waiting, asked_at)
        offered, waiting, asked_at = set(), [], index
        if message["role"] == "assistant" and message.get("tool_calls"):
            waiting = call_ids(message, index)
            offered = set(waiting)
    unanswered(waiting, asked_at)


def unanswered(waiting: list[str], asked_at: int) -> None:
    if waiting:  # OpenAI's wording: router-for-me/CLIProxyAPI #2798, sdcb/chats PR #132
        raise invalid("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                      "'tool_call_id'. The following tool_call_ids did not have response messages: "
                      f"{', '.join(waiting)}", f"messages.[{asked_at}].role")


def call_ids(message: dict, index: int) -> list[str]:
    """The ids of an assistant message's tool calls, each call checked for what answering it needs."""
    calls = message["tool_calls"]
    if not isinstance(calls, list):
        raise invalid(f"Invalid type for 'messages[{index}].tool_calls': expected an array of objects, but got "
                      f"{kind(calls)} instead.", f"messages[{index}].tool_calls", "invalid_type")
    for number, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(call, dict) or not isinstance(call.get("id"), str):
            missing = "id"
        elif not isinstance(function, dict) or not isinstance(function.get("name"), str):
            missing = "function.name"
        elif not isinstance(function.get("arguments"), str):
            missing = "function.arguments"
        else:
            continue
        where = f"messages[{index}].tool_calls[{number}].{missing}"
        raise invalid(f"Missing required parameter: '{where}'.", where, "missing_required_parameter")
    return [call["id"] for call in calls]
