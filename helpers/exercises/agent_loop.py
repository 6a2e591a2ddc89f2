"""Exercise of 07_workflows_and_agents: the agent loop, each turn's tool calls run at once.

The learner writes `answer(question, client, model, toolbox)`: ask the model with the toolbox's
definitions; while the reply asks for tools, append the assistant's message and one `tool`
message per call, the calls of a turn run together, and ask again; return the final text.

The check runs it once on the exercise's question, whose plan (written in the prompt, the
simulated model's rule) is two turns of tools: two searches and a check, then two searches. It
judges from evidence the learner's code cannot fake: the server's journal for the exercise's two
API keys (the agent's own calls, and the calls `search_docs` makes with a key of its own), and
when each tool ran, as the toolbox noted it:

1. the answer is text: not None, which the first reply's content is (it asks for tools);
2. one model call per turn of tools, plus the final answer;
3. each turn's searches overlapped on the server;
4. the last model call carried every tool result;
5. the answer is the one the model gives to the conversation a correct loop sends (the model
   quotes the tool results in the order of the tool messages): the exercise runs `run_agent` on
   keys of its own for it, after the learner's run;
6. the wall time is within MARGIN of the bound: the agent's model calls one after another, plus
   each turn's slowest tool.

Typical wrong loops each get their own explanation, including the 400s the server sends for a
malformed conversation (a tool message without the assistant message it answers).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

import openai

from helpers.agents.lesson_tools import lesson_toolbox
from helpers.agents.tool_loop import run_agent
from helpers.agents.toolbox import Tool, Toolbox
from helpers.drawing.formatting import format_seconds
from helpers.exercises.near_bound import expect_near_bound
from helpers.exercises.own_key import OwnKeyExercise
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport
from helpers.measuring.spans import max_overlap
from helpers.mode import by_mode
from helpers.workloads.cpu_work import score_answer, units_for_seconds

if TYPE_CHECKING:
    from helpers.llm_server.launcher import ServerHandle

CHECKED = "retry with backoff, time out every call, hedge the slowest"
QUESTION = ("How should a chat app survive rate limits and slow answers? First search_docs(rate limits), "
            f"search_docs(retries) and check_facts({CHECKED}), then search_docs(timeouts) and search_docs(hedging).")
TURNS = (("search_docs", "search_docs", "check_facts"), ("search_docs", "search_docs"))  # QUESTION's plan
MARGIN = 1.3  # the wall time may exceed the bound by this factor ...
SLACK = 0.15  # ... plus these seconds: the event loop's own work, trips to the pool's worker
# How long answer() may run before the check gives up on it: a loop that never ends meets this.
TIME_LIMIT_SECONDS = 30

Answer = Callable[[str, openai.AsyncOpenAI, str, Toolbox], Awaitable[Any]]
# What the server's 400 means for an agent loop, by a phrase of its message.
HINTS = {
    "must be a response to a preceeding message with 'tool_calls'":
        "append the assistant's message (reply.choices[0].message, its tool_calls included) before the tool "
        "messages that answer it",
    "did not have response messages":
        "every call of an assistant message needs a tool message with its id before the next request",
    "must have a 'tool_call_id'": "give each tool message the id of the call it answers: tool_call_id=call.id",
}


class ToolRun(NamedTuple):
    """One run of a tool, as the exercise's toolbox noted it (Unix times)."""

    name: str
    start: float
    end: float


def noting(toolbox: Toolbox, runs: list[ToolRun]) -> Toolbox:
    """The same tools, each noting in `runs` when it ran."""

    def noted(tool: Tool) -> Tool:
        @functools.wraps(tool.run)  # keeps the signature, which Toolbox.run checks the arguments against
        async def run(**arguments: Any) -> str:
            start = time.time()
            try:
                return await tool.run(**arguments)
            finally:
                runs.append(ToolRun(tool.name, start, time.time()))

        return replace(tool, run=run)

    return Toolbox(noted(tool) for tool in toolbox.tools.values())


class AgentLoopExercise(OwnKeyExercise):
    """The question, a client with the exercise's key, the model, a toolbox whose search has a key of its own."""

    question = QUESTION

    def __init__(self, server: ServerHandle, pool: Executor, effort: int | None = None, seed: int = 0) -> None:
        super().__init__(server, seed)
        self.model = server.model
        self.tools_key = f"{self.key}-tools"
        self.pool = pool
        seconds = by_mode(learner=0.2, test=0.05)  # of CPU for check_facts: about a search's time
        self.effort = effort or units_for_seconds(lambda units: score_answer(CHECKED, units), seconds)
        self.runs: list[ToolRun] = []
        self.toolbox = noting(self._toolbox(self.tools_key), self.runs)

    def _toolbox(self, key: str) -> Toolbox:
        return lesson_toolbox(self.client.with_options(api_key=key), self.model, self.pool, self.effort)

    async def check(self, answer: Answer, time_limit: float = TIME_LIMIT_SECONDS) -> CheckReport:
        """Run `answer` once on the question and say what is right and what is wrong."""
        report = CheckReport(f"The agent loop: {len(TURNS)} turns of tools, {sum(map(len, TURNS))} tool calls")
        self.runs.clear()
        since, started = time.time(), time.perf_counter()
        try:
            async with asyncio.timeout(time_limit):
                result = await answer(QUESTION, self.client, self.model, self.toolbox)
        except TimeoutError:
            report.expect(False, f"answer() was still running after {time_limit:g} s, after "
                                 f"{len(self.journal(since))} model calls: does the loop end when a reply has no "
                                 "tool calls? Does every request carry the whole conversation so far?")
            return report
        except openai.BadRequestError as error:
            report.expect(False, refused(error))
            return report
        wall = time.perf_counter() - started
        agent = [entry for entry in self.journal(since) if entry["key"] == self.key]
        searches = [entry for entry in self.server.requests(since=since) if entry["key"] == self.tools_key]
        if judge(report, result, agent, searches, sorted(self.runs, key=lambda run: run.start), wall):
            expected = await run_agent(self.client.with_options(api_key=f"{self.key}-reference"), self.model,
                                       QUESTION, self._toolbox(f"{self.key}-reference-tools"))
            report.expect(result == expected.answer, "the answer is the model's final text" if result == expected.answer
                          else f"the answer is not the model's final text ({result[:60]!r}…, expected "
                               f"{expected.answer[:60]!r}…): did you send each tool's result as it came, one tool "
                               "message per call, in the calls' order?")
        return await asyncio.to_thread(report_progress, self.server, report)  # an HTTP call: off the loop


def refused(error: openai.BadRequestError) -> str:
    """The server's 400, and what it means for the loop."""
    message = error.body.get("message", str(error)) if isinstance(error.body, dict) else str(error)
    hint = next((hint for phrase, hint in HINTS.items() if phrase in message), "")
    return f"the server refused a request (400): {message}" + (f" So {hint}." if hint else "")


def judge(report: CheckReport, result: Any, agent: list[dict], searches: list[dict], runs: list[ToolRun],
          wall: float) -> bool:
    """Checks 1 to 4 and 6 of the module's docstring; True if the answer is worth comparing with the expected one."""
    calls = len(agent)
    if result is None:
        report.expect(False, f"answer() returned None after {calls} model call(s). A reply that asks for tools has "
                             "finish_reason 'tool_calls' and content None: run the calls, send their results, "
                             "and ask again until a reply has no tool calls")
        return False
    if not isinstance(result, str):
        report.expect(False, f"answer() returned {type(result).__name__}, not text: return the final reply's "
                             "message.content")
        return False
    if not report.expect(calls == len(TURNS) + 1, f"{calls} model calls: one per turn of tools and one for the answer"
                         if calls == len(TURNS) + 1 else many_calls(calls)):
        return False
    turns = by_turn(agent, searches, runs)
    for number, (turn_searches, _) in enumerate(turns, start=1):
        overlap = max_overlap([(entry["arrival"], entry["end"]) for entry in turn_searches])
        report.expect(overlap >= 2, f"turn {number}: its {len(turn_searches)} searches overlapped on the server"
                      if overlap >= 2 else f"turn {number}: its searches ran one after another. Start all of a turn's "
                      "tool calls together (asyncio.gather, a TaskGroup), then await them")
    carried = agent[-1]["tool_messages"]
    planned = sum(map(len, TURNS))
    report.expect(carried == planned, f"the last request carried all {planned} tool results" if carried == planned
                  else f"the last request carried {carried} tool results of {planned}: keep every message of the "
                       "conversation, from the question on, in every request")
    near_the_bound(report, agent, turns, wall)
    return report.passed


def many_calls(calls: int) -> str:
    if calls < len(TURNS) + 1:
        return (f"only {calls} model call(s), for {len(TURNS)} turns of tools and the answer: loop while the reply "
                "asks for tools, not once")
    return (f"{calls} model calls, for {len(TURNS)} turns of tools and the answer: send every tool call of a reply "
            "back before asking again (leave parallel_tool_calls at its default, true), and keep the earlier turns in "
            "the conversation")


def by_turn(agent: list[dict], searches: list[dict], runs: list[ToolRun]) -> list[tuple[list[dict], list[ToolRun]]]:
    """Each turn's searches (from the journal) and tool runs: those between one model call's end and the next's start."""
    turns = []
    for asked, next_ask in zip(agent, agent[1:]):
        first, last = asked["end"], next_ask["arrival"]
        turns.append(([entry for entry in searches if first <= entry["arrival"] <= last],
                      [run for run in runs if first <= run.start <= last]))
    return turns


def near_the_bound(report: CheckReport, agent: list[dict], turns: list[tuple[list[dict], list[ToolRun]]],
                   wall: float) -> None:
    """The agent's model calls cannot overlap; a turn's tools can, so a turn takes at least its slowest tool."""
    asking = sum(entry["end"] - entry["arrival"] for entry in agent)
    tools = sum(max((run.end - run.start for run in runs), default=0.0) for _, runs in turns)
    bound = asking + tools
    numbers = (f"wall time {format_seconds(wall)}; the bound is {format_seconds(bound)} ({format_seconds(asking)} "
               f"of model calls one after another, {format_seconds(tools)} of each turn's slowest tool)")
    expect_near_bound(report, wall, bound, numbers, "Do a turn's tools all run at once, check_facts included?",
                      margin=MARGIN, slack=SLACK)
