"""Tools an LLM may call: what the model is told about them, and running the calls it asks for.

A tool is an async function with a name, a description and a JSON Schema of its arguments. The
model never runs anything: it answers with *tool calls* (a name and its arguments as a JSON
string), the program runs them and sends each result back as a `tool` message. When one answer
asks for several calls, they do not depend on each other (the model asked for them all at once),
so they can run concurrently: the turn then takes as long as its slowest call, not their sum.

A model writes arguments as text, and may get them wrong: a tool that does not exist, JSON that
does not parse, an argument the function does not take. Those come back to the model as an error
text it can act on, instead of ending the program; a tool that fails at its own work still raises,
and so does one that returns anything but text (the API takes a tool's result as text only).
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from openai.types.chat import ChatCompletionMessageToolCall


@dataclass(frozen=True)
class Tool:
    """One tool: how the model is told about it, and the async function that does it."""

    name: str
    description: str
    parameters: dict  # JSON Schema of the arguments, "type": "object"
    run: Callable[..., Awaitable[str]]  # called with the call's arguments as keywords


class Toolbox:
    """The tools of one agent, by name."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        tools = list(tools)
        self.tools = {tool.name: tool for tool in tools}
        if len(self.tools) < len(tools):
            raise ValueError(f"two tools may not share a name: {[tool.name for tool in tools]}")
        self.definitions = [{"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                              "parameters": tool.parameters}}
                            for tool in self.tools.values()]  # what `tools=` takes, in OpenAI's shape

    async def run(self, call: ChatCompletionMessageToolCall) -> str:
        """Run one tool call; a call that cannot run comes back as an error text for the model."""
        name = call.function.name
        if name not in self.tools:
            return f"Error: there is no tool called {name!r}; the tools are {', '.join(self.tools)}."
        try:
            arguments = json.loads(call.function.arguments or "{}")
        except json.JSONDecodeError as error:
            return f"Error: the arguments of {name} are not valid JSON ({error})."
        if not isinstance(arguments, dict):
            return f"Error: the arguments of {name} must be a JSON object, got {call.function.arguments}."
        try:
            inspect.signature(self.tools[name].run).bind(**arguments)
        except TypeError as error:
            return f"Error: wrong arguments for {name}: {error}."
        result = await self.tools[name].run(**arguments)
        if not isinstance(result, str):  # else the next request's 400 would blame a message, not this tool
            raise TypeError(f"tool {name!r} returned {result!r}, not a str: a tool's result goes back to the "
                            "model as the text of a `tool` message")
        return result

    async def run_all(self, calls: Sequence[ChatCompletionMessageToolCall], *, concurrent: bool = True) -> list[dict]:
        """Run the calls of one turn, all at once or one after another; their `tool` messages, in the calls' order."""
        if concurrent:
            async with asyncio.TaskGroup() as group:  # one failing cancels the others
                # Each task named after its tool and its place, so a timeline gives each call a row of its own
                tasks = [group.create_task(self.run(call), name=f"{call.function.name} {number}")
                         for number, call in enumerate(calls, start=1)]
            results = [task.result() for task in tasks]
        else:
            results = [await self.run(call) for call in calls]
        return [{"role": "tool", "tool_call_id": call.id, "content": result} for call, result in zip(calls, results)]
