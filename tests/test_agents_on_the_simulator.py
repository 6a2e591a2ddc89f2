"""The agent loop and the lesson's tools on the simulator, through the official AsyncOpenAI client.

The simulated model follows the plan rule (helpers/llm_server/tools.py): every `name(...)` of an
offered tool in the question is a call, and `then` starts the next turn. So a question scripts
the agent, and the server's journal shows what it did: the agent's own calls under its key, the
tools' calls under theirs, and whether two tool calls were in flight at the same time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest
from openai.types.chat import ChatCompletionMessageToolCall
from simulator_support import simulator_fixtures

from helpers.agents.lesson_tools import lesson_toolbox
from helpers.agents.tool_loop import AgentRun, run_agent
from helpers.workloads.cpu_work import score_answer

# sim-fast at this scale answers in about 40 ms: two calls sent at once are both on the server meanwhile.
server, fresh, DEFAULTS = simulator_fixtures(preset="sim-fast", time_scale=0.1)
AGENT_KEY, TOOLS_KEY = "sk-agent", "sk-tools"
SCRIPT = "Use search_docs(rate limits) and search_docs(retries), then check_facts(draft)."
EFFORT = 200


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as workers:
        yield workers


def call(name: str, arguments: str) -> ChatCompletionMessageToolCall:
    return ChatCompletionMessageToolCall(id="call_0123456789abcdefghijklmn", type="function",
                                         function={"name": name, "arguments": arguments})


def ask(fresh, pool, question: str, **options):
    """Run the agent on `question`: its own client under AGENT_KEY, the tools' under TOOLS_KEY."""

    async def main():
        async with fresh.async_client(api_key=AGENT_KEY) as agent, fresh.async_client(api_key=TOOLS_KEY) as tools:
            async with asyncio.timeout(30):
                return await run_agent(agent, fresh.model, question, lesson_toolbox(tools, fresh.model, pool, EFFORT),
                                       **options)

    return asyncio.run(main())


def overlapping(entries: list[dict]) -> bool:
    """Whether any two of these requests were on the server at the same time."""
    spans = sorted((entry["arrival"], entry["end"]) for entry in entries)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:]))


def test_search_docs_asks_the_server_with_the_tools_own_client(fresh, pool):
    async def main() -> str:
        async with fresh.async_client(api_key=TOOLS_KEY) as tools:
            return await lesson_toolbox(tools, fresh.model, pool, EFFORT).run(call("search_docs", '{"query": "retries"}'))

    answer = asyncio.run(main())
    journal = fresh.requests()
    assert answer and [entry["key"] for entry in journal] == [TOOLS_KEY] and journal[0]["status"] == 200


def test_check_facts_scores_the_text_on_the_pool_while_the_loop_goes_on(fresh, pool):
    text = "Rate limits count requests per minute. Retries back off. Retries back off again."
    score = score_answer(text, 1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async def main() -> str:
        async with fresh.async_client(api_key=TOOLS_KEY) as tools:
            ticking = asyncio.create_task(ticker())
            result = await lesson_toolbox(tools, fresh.model, pool, effort=20_000).run(
                call("check_facts", f'{{"text": "{text}"}}'))
            ticking.cancel()
            return result

    result = asyncio.run(main())
    assert result.startswith(f"{score.words} words, {score.sentences} sentences, {score.distinct_words} distinct words")
    assert ticks >= 3, "the event loop stood still while the text was scored"
    assert fresh.requests() == []  # a CPU tool makes no request


def test_the_scripted_question_takes_three_model_calls_in_two_turns(fresh, pool):
    run = ask(fresh, pool, SCRIPT)
    assert run.turns == [["search_docs", "search_docs"], ["check_facts"]]
    assert run.model_calls == 3 and run.tool_calls == 3
    journal = fresh.requests()
    own = [entry for entry in journal if entry["key"] == AGENT_KEY]
    assert [entry["tool_calls"] for entry in own] == [2, 1, 0]
    assert [entry["tool_messages"] for entry in own] == [0, 2, 3]  # every result went back, with its call's id
    assert run.tokens == sum(entry["tokens_in"] + entry["tokens_out"] for entry in own)
    assert sum(entry["key"] == TOOLS_KEY for entry in journal) == 2  # the two searches; the check makes no request
    assert "search_docs said" in run.answer and "check_facts said" in run.answer


@pytest.mark.parametrize("concurrent", [True, False])
def test_one_turns_tool_calls_overlap_on_the_server_only_when_run_concurrently(fresh, pool, concurrent):
    ask(fresh, pool, SCRIPT, concurrent_tools=concurrent)
    searches = [entry for entry in fresh.requests() if entry["key"] == TOOLS_KEY]
    assert len(searches) == 2 and overlapping(searches) == concurrent


def test_an_agent_that_keeps_asking_for_tools_is_stopped_after_max_turns(fresh, pool):
    with pytest.raises(RuntimeError, match="max_turns=1"):
        ask(fresh, pool, SCRIPT, max_turns=1)
    assert ask(fresh, pool, SCRIPT, max_turns=2).model_calls == 3


def test_a_negative_max_turns_is_refused_before_any_call(fresh, pool):
    with pytest.raises(ValueError, match="max_turns"):  # it bounded nothing: the loop ran to the model's end
        ask(fresh, pool, SCRIPT, max_turns=-1)
    assert fresh.requests() == []


def test_a_question_that_calls_no_tool_is_answered_by_one_model_call(fresh, pool):
    run = ask(fresh, pool, "What are search_docs and check_facts good for?")  # named, not called: no parentheses
    assert run == AgentRun(run.answer, model_calls=1, tool_calls=0, tokens=run.tokens, turns=[]) and run.answer
    assert [entry["key"] for entry in fresh.requests()] == [AGENT_KEY]
