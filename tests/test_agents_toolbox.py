"""The Toolbox on calls built by hand, as the SDK parses them: definitions, arguments, errors for the
model, and one turn's calls run concurrently or one after another (shown by events, not by timing)."""

from __future__ import annotations

import asyncio

import pytest
from openai.types.chat import ChatCompletionMessageToolCall

from helpers.agents.toolbox import Tool, Toolbox

QUERY = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}


def call(name: str, arguments: str, number: int = 1) -> ChatCompletionMessageToolCall:
    return ChatCompletionMessageToolCall(id=f"call_{number:024d}", type="function",
                                         function={"name": name, "arguments": arguments})


async def echo(query: str, loud: bool = False) -> str:
    return query.upper() if loud else query


ECHO = Tool("echo", "Say the query back.", QUERY, echo)


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=10))


def test_definitions_are_in_openais_shape():
    assert Toolbox([ECHO]).definitions == [
        {"type": "function", "function": {"name": "echo", "description": "Say the query back.", "parameters": QUERY}}]


def test_a_call_is_run_with_its_json_arguments_as_keywords():
    box = Toolbox([ECHO])
    assert run(box.run(call("echo", '{"query": "rate limits", "loud": true}'))) == "RATE LIMITS"


@pytest.mark.parametrize("name, arguments, says", [
    ("search", '{"query": "x"}', "no tool called 'search'; the tools are echo"),
    ("echo", '{"query": ', "not valid JSON"),
    ("echo", '["x"]', "must be a JSON object"),
    ("echo", '{"question": "x"}', "wrong arguments for echo"),
    ("echo", "", "wrong arguments for echo"),  # no arguments at all, but query is needed
])
def test_a_call_that_cannot_run_returns_an_error_text_for_the_model(name, arguments, says):
    result = run(Toolbox([ECHO]).run(call(name, arguments)))
    assert result.startswith("Error:") and says in result


def test_a_tool_that_fails_at_its_own_work_raises():
    async def broken(query: str) -> str:
        raise ConnectionError("the docs server is down")

    with pytest.raises(ConnectionError):
        run(Toolbox([Tool("search", "", QUERY, broken)]).run(call("search", '{"query": "x"}')))


def test_a_tool_that_returns_no_text_raises_naming_it():
    async def count(query: str) -> str:
        return len(query)  # a number: the model's API takes a tool message's content as text only

    with pytest.raises(TypeError, match="tool 'count' returned 1, not a str"):
        run(Toolbox([Tool("count", "", QUERY, count)]).run(call("count", '{"query": "x"}')))


def test_two_tools_may_not_share_a_name():
    with pytest.raises(ValueError, match="share a name"):
        Toolbox([ECHO, ECHO])


def meeting_tools(log: list[str]) -> Toolbox:
    """Two tools: `first` ends only once `second` has started, or after 0.3 s without it."""
    second_started = asyncio.Event()

    async def first(query: str) -> str:
        log.append("first started")
        try:
            await asyncio.wait_for(second_started.wait(), timeout=0.3)
            return "met the second"
        except TimeoutError:
            return "ran alone"
        finally:
            log.append("first ended")

    async def second(query: str) -> str:
        log.append("second started")
        second_started.set()
        return "second done"

    return Toolbox([Tool("first", "", QUERY, first), Tool("second", "", QUERY, second)])


def test_run_all_runs_one_turns_calls_at_once_and_answers_in_the_calls_order():
    log: list[str] = []
    calls = [call("first", '{"query": "a"}', 1), call("second", '{"query": "b"}', 2)]
    messages = run(meeting_tools(log).run_all(calls))
    assert messages == [{"role": "tool", "tool_call_id": calls[0].id, "content": "met the second"},
                        {"role": "tool", "tool_call_id": calls[1].id, "content": "second done"}]
    assert log == ["first started", "second started", "first ended"]


def test_run_all_one_after_another_when_not_concurrent():
    log: list[str] = []
    calls = [call("first", '{"query": "a"}', 1), call("second", '{"query": "b"}', 2)]
    messages = run(meeting_tools(log).run_all(calls, concurrent=False))
    assert [message["content"] for message in messages] == ["ran alone", "second done"]
    assert log == ["first started", "first ended", "second started"]


def test_calls_of_one_tool_run_concurrently_in_tasks_of_their_own_names():
    """A timeline draws a row per task name: two searches in one turn must not share a row."""
    async def whoami(query: str) -> str:
        return asyncio.current_task().get_name()

    box = Toolbox([Tool("whoami", "Name the task running the call.", QUERY, whoami)])
    messages = run(box.run_all([call("whoami", '{"query": "a"}', 1), call("whoami", '{"query": "b"}', 2)]))
    assert [message["content"] for message in messages] == ["whoami 1", "whoami 2"]
