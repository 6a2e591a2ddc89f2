"""Solution to the exercise of notebooks/07_workflows_and_agents.ipynb: the agent loop, a turn's tools at once."""

from __future__ import annotations

import asyncio

from openai import AsyncOpenAI

from helpers.agents.toolbox import Toolbox


async def answer(question: str, client: AsyncOpenAI, model: str, toolbox: Toolbox) -> str:
    """Ask; while the reply asks for tools, run all of them at once, send their results, ask again."""
    messages = [{"role": "user", "content": question}]
    while True:
        reply = await client.chat.completions.create(model=model, messages=messages, tools=toolbox.definitions)
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content
        messages.append(message)  # the assistant's turn, its tool calls included: the tool messages answer them
        results = await asyncio.gather(*(toolbox.run(call) for call in message.tool_calls))  # in the calls' order
        messages += [{"role": "tool", "tool_call_id": call.id, "content": result}
                     for call, result in zip(message.tool_calls, results)]
