"""A workflow graph: results flow along the needs, independent steps overlap, the gate holds, the
critical path bounds the wall time, and a graph that cannot run is refused before any step runs.

Overlap is shown with an event (a step that only ends if another runs meanwhile), not with wall
times; the bounds are inequalities a slow machine can only satisfy more easily.
"""

from __future__ import annotations

import asyncio

import pytest

from helpers.agents.graph import Step, critical_path, run_graph


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, timeout=30))


def sleeper(seconds: float, value: object = None):
    async def step(inputs: dict) -> object:
        await asyncio.sleep(seconds)
        return value if value is not None else inputs
    return step


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def most_at_once(graph) -> int:
    events = sorted([(graph.started[name], 1) for name in graph.started] + [(graph.ended[name], -1) for name in graph.ended])
    running = most = 0
    for _, change in events:  # an end sorts before a start at the same instant
        running += change
        most = max(most, running)
    return most


FAN_OUT = [Step("plan", (), sleeper(0.02, "plan")),
           *[Step(f"part {n}", ("plan",), sleeper(0.05, f"part {n}")) for n in range(1, 5)],
           Step("merge", tuple(f"part {n}" for n in range(1, 5)), sleeper(0.02))]


def test_each_step_gets_its_needs_results_and_starts_after_they_end():
    graph = run(run_graph(FAN_OUT))
    assert graph.results["merge"] == {f"part {n}": f"part {n}" for n in range(1, 5)}
    for step in FAN_OUT:
        for need in step.needs:
            assert graph.started[step.name] >= graph.ended[need]
    assert graph.seconds >= max(graph.ended.values())


def test_steps_that_need_nothing_of_each_other_run_at_once():
    other_started = asyncio.Event()

    async def waits_for_the_other(inputs: dict) -> str:
        await asyncio.wait_for(other_started.wait(), timeout=5)  # one at a time, this would time out
        return "met"

    async def the_other(inputs: dict) -> str:
        other_started.set()
        return "here"

    graph = run(run_graph([Step("first", (), waits_for_the_other), Step("second", (), the_other)]))
    assert graph.results == {"first": "met", "second": "here"}


def test_the_wall_time_is_at_least_the_critical_path_and_a_gate_of_one_makes_it_the_sum():
    needs = {step.name: step.needs for step in FAN_OUT}
    free = run(run_graph(FAN_OUT))
    durations = {name: free.ended[name] - free.started[name] for name in free.started}
    bound = critical_path(durations, needs)
    assert free.seconds >= bound.seconds
    assert bound.steps[0] == "plan" and bound.steps[-1] == "merge" and len(bound.steps) == 3
    assert most_at_once(free) == 4  # the four parts together

    one = run(run_graph(FAN_OUT, at_once=1))
    assert most_at_once(one) == 1
    assert one.seconds >= sum(one.ended[name] - one.started[name] for name in one.started)
    assert one.seconds >= 0.02 + 4 * 0.05 + 0.02  # every sleep, one after the other


def test_the_gate_lets_exactly_that_many_run_at_once():
    assert most_at_once(run(run_graph(FAN_OUT, at_once=2))) == 2


@pytest.mark.parametrize("steps, message", [
    ([Step("a", ("missing",), sleeper(0))], "no step is called"),
    ([Step("a", (), sleeper(0)), Step("a", (), sleeper(0))], "share a name"),
    ([Step("a", ("b",), sleeper(0)), Step("b", ("a",), sleeper(0)), Step("c", (), sleeper(0))], "cycle"),
    ([Step("a", ("a",), sleeper(0))], "cycle"),
])
def test_a_graph_that_cannot_run_is_refused_before_any_step_runs(steps, message):
    ran: list[str] = []
    watched = [step._replace(run=lambda inputs, name=step.name: asyncio.sleep(0, ran.append(name))) for step in steps]
    with pytest.raises(ValueError, match=message):
        run(run_graph(watched))
    assert ran == []


def test_needs_written_as_a_string_are_refused_with_the_missing_comma_named():
    async def step(inputs: dict) -> None:
        return None

    with pytest.raises(ValueError, match=r"a tuple of one needs a comma: \('search',\)"):
        run(run_graph([Step("search", (), step), Step("draft", ("search"), step)]))  # the comma is missing
    with pytest.raises(ValueError, match="a tuple of one needs a comma"):
        critical_path({"search": 1.0, "draft": 1.0}, {"draft": "search"})


def test_a_gate_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        run(run_graph(FAN_OUT, at_once=0))


def test_a_failing_step_cancels_the_others_and_its_error_reaches_the_caller():
    cancelled = asyncio.Event()

    async def forever(inputs: dict) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def fails(inputs: dict) -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("step broke")

    async def main() -> None:
        with pytest.raises(ExceptionGroup) as raised:
            await run_graph([Step("slow", (), forever), Step("broken", (), fails), Step("after", ("broken",), sleeper(0))])
        assert [str(error) for error in raised.value.exceptions] == ["step broke"]
        assert raised.value.exceptions[0].__notes__ == ["raised by the workflow's step 'broken'"]
        assert cancelled.is_set()

    run(main())


def test_critical_path_on_known_durations():
    durations = {"a": 1.0, "b": 3.0, "c": 2.0, "d": 1.0, "alone": 4.5}
    path = critical_path(durations, {"b": ["a"], "c": ["a"], "d": ["b", "c"]})
    assert path.seconds == 5.0 and path.steps == ["a", "b", "d"]
    assert critical_path({"x": 2.0}, {}).steps == ["x"]


def test_critical_path_refuses_unknown_needs_and_cycles():
    with pytest.raises(ValueError, match="no step"):
        critical_path({"a": 1.0}, {"a": ["ghost"]})
    with pytest.raises(ValueError, match="cycle"):
        critical_path({"a": 1.0, "b": 1.0}, {"a": ["b"], "b": ["a"]})
