"""The check of 07_workflows_and_agents accepts the solution and explains typical wrong loops, on a real server."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

import pytest

from helpers.exercises.agent_loop import AgentLoopExercise
from helpers.llm_server import start_server
from lessons.solutions.agent_loop import answer

EFFORT = 20  # check_facts' work: a few milliseconds, below a call at this time scale


@pytest.fixture(scope="module")
def server() -> Iterator:
    with start_server("sim-fast", time_scale=0.2) as handle:  # a call takes about 70 ms
        yield handle


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as workers:
        workers.submit(abs, 1).result()  # started, outside every check's timing
        yield workers


@pytest.fixture
def exercise(server, pool) -> AgentLoopExercise:
    """A new exercise per test: its async client belongs to the event loop of one asyncio.run."""
    return AgentLoopExercise(server, pool, effort=EFFORT)


def check(exercise: AgentLoopExercise, loop, **options):
    return asyncio.run(exercise.check(loop, **options))


async def ask(client, model, messages, toolbox, **options):
    reply = await client.chat.completions.create(model=model, messages=messages, tools=toolbox.definitions, **options)
    return reply.choices[0].message


def tool_messages(calls, results) -> list[dict]:
    return [{"role": "tool", "tool_call_id": call.id, "content": result} for call, result in zip(calls, results)]


def test_the_solution_passes(exercise) -> None:
    report = check(exercise, answer)
    assert report.passed, str(report)


def test_returning_the_first_reply_is_none_and_says_why(exercise) -> None:
    async def first_reply(question, client, model, toolbox):
        return (await ask(client, model, [{"role": "user", "content": question}], toolbox)).content

    report = check(exercise, first_reply)
    assert report.problems == [report.problems[0]] and "returned None after 1 model call" in report.problems[0]
    assert "finish_reason 'tool_calls'" in report.problems[0]


def test_one_round_of_tools_and_no_loop_is_named(exercise) -> None:
    async def once(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        message = await ask(client, model, messages, toolbox)
        messages += [message, *await toolbox.run_all(message.tool_calls)]
        return (await ask(client, model, messages, toolbox)).content

    report = check(exercise, once)
    assert "returned None after 2 model call" in report.problems[0], str(report)


def test_tools_run_one_after_another_are_named_for_each_turn(exercise) -> None:
    async def in_turn(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        while (message := await ask(client, model, messages, toolbox)).tool_calls:
            results = [await toolbox.run(call) for call in message.tool_calls]
            messages += [message, *tool_messages(message.tool_calls, results)]
        return message.content

    report = check(exercise, in_turn)
    assert [problem for problem in report.problems if "ran one after another" in problem] == [
        f"turn {number}: its searches ran one after another. Start all of a turn's tool calls together "
        "(asyncio.gather, a TaskGroup), then await them" for number in (1, 2)], str(report)


def test_forgetting_the_assistant_message_gets_the_servers_400_explained(exercise) -> None:
    async def no_assistant_message(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        while (message := await ask(client, model, messages, toolbox)).tool_calls:
            messages += await toolbox.run_all(message.tool_calls)
        return message.content

    report = check(exercise, no_assistant_message)
    assert report.problems == [report.problems[0]], str(report)
    assert "refused a request (400)" in report.problems[0] and "append the assistant's message" in report.problems[0]


def test_one_tool_call_per_reply_makes_too_many_model_calls(exercise) -> None:
    async def one_at_a_time(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        while (message := await ask(client, model, messages, toolbox, parallel_tool_calls=False)).tool_calls:
            messages += [message, *await toolbox.run_all(message.tool_calls)]
        return message.content

    report = check(exercise, one_at_a_time)
    assert "6 model calls" in report.problems[0] and "parallel_tool_calls" in report.problems[0], str(report)


def test_tool_results_in_another_order_give_another_answer(exercise) -> None:
    async def reversed_results(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        while (message := await ask(client, model, messages, toolbox)).tool_calls:
            messages += [message, *reversed(await toolbox.run_all(message.tool_calls))]
        return message.content

    report = check(exercise, reversed_results)
    assert report.problems and "in the calls' order" in report.problems[-1], str(report)


def test_a_loop_that_forgets_earlier_turns_never_ends_and_is_stopped(exercise) -> None:
    async def latest_turn_only(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        while (message := await ask(client, model, messages, toolbox)).tool_calls:
            messages = [messages[0], message, *await toolbox.run_all(message.tool_calls)]
        return message.content

    report = check(exercise, latest_turn_only, time_limit=2)
    assert report.problems == [report.problems[0]] and "still running after 2 s" in report.problems[0], str(report)


def test_returning_the_message_instead_of_its_text_is_named(exercise) -> None:
    async def the_message(question, client, model, toolbox):
        messages = [{"role": "user", "content": question}]
        while (message := await ask(client, model, messages, toolbox)).tool_calls:
            messages += [message, *await toolbox.run_all(message.tool_calls)]
        return message

    report = check(exercise, the_message)
    assert report.problems == ["answer() returned ChatCompletionMessage, not text: return the final reply's "
                               "message.content"]


def test_the_check_refuses_a_real_endpoint(pool) -> None:
    class RealEndpoint:
        is_simulator = False

    with pytest.raises(RuntimeError, match="journal"):
        AgentLoopExercise(RealEndpoint(), pool)
