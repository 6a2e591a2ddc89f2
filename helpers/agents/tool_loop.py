"""The agent loop: ask the model, run the tools it asks for, send their results back, ask again.

An agent is this loop and nothing more. Each answer either asks for tools (`finish_reason` is
"tool_calls") or is the final text. Between two model calls the program runs the tools, and
that is where concurrency pays inside an agent: the calls of one answer are independent, so
`concurrent_tools=True` runs them together. The model calls themselves cannot overlap: each
needs the results of the tools the previous one asked for.

The conversation grows by the model's own message (its tool calls, sent back as they came) and
one `tool` message per call, each naming the call it answers by its id. `max_turns` stops a
model that keeps asking for tools: an agent loop without a bound can spend without end.
"""

from __future__ import annotations

from typing import NamedTuple

from openai import AsyncOpenAI

from helpers.agents.toolbox import Toolbox


class AgentRun(NamedTuple):
    """What one question cost and what the model answered."""

    answer: str
    model_calls: int
    tool_calls: int
    tokens: int  # prompt + completion tokens over all model calls
    turns: list[list[str]]  # the tool names asked for in each turn that asked for tools


async def run_agent(client: AsyncOpenAI, model: str, question: str, toolbox: Toolbox, *,
                    concurrent_tools: bool = True, max_turns: int = 6) -> AgentRun:
    """Answer `question` with the model and the tools, running each turn's tools concurrently or one by one."""
    if max_turns < 0:
        raise ValueError(f"max_turns is how many turns may ask for tools: 0 or more, got {max_turns}")
    messages: list[dict] = [{"role": "user", "content": question}]
    turns: list[list[str]] = []
    model_calls = tokens = 0
    while True:
        response = await client.chat.completions.create(model=model, messages=messages, tools=toolbox.definitions)
        model_calls += 1
        tokens += response.usage.total_tokens
        choice = response.choices[0]
        if choice.finish_reason != "tool_calls":
            return AgentRun(choice.message.content or "", model_calls, sum(map(len, turns)), tokens, turns)
        if len(turns) == max_turns:
            raise RuntimeError(f"the model asked for tools more than max_turns={max_turns} times")
        calls = choice.message.tool_calls
        turns.append([call.function.name for call in calls])
        messages.append({"role": "assistant", "content": choice.message.content,
                         "tool_calls": [call.model_dump(include={"id", "type", "function"}) for call in calls]})
        messages += await toolbox.run_all(calls, concurrent=concurrent_tools)
