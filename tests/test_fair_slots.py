"""Slots shared fairly between API keys: round-robin between per-key queues, each queue in arrival order.

The unit tests drive `Slots` with asyncio and no clock: a "round" is one call's time, every holder
releasing at its end. The last test is the workshop room's case on a real server and client.
"""

import asyncio

import pytest
from simulator_support import simulator_fixtures

from helpers.llm_server.slots import Slots

server, fresh, DEFAULTS = simulator_fixtures(preset="sim-fast", time_scale=0.05)


async def rounds_waited(limit: int, keys: list[str]) -> list[int]:
    """One request per item of `keys`, all arriving at once in that order, each holding its slot one round:
    how many rounds each waited for its slot."""
    slots = Slots(limit)
    takers = [asyncio.create_task(slots.acquire(key)) for key in keys]
    waited: list[int | None] = [None] * len(keys)
    for round_number in range(len(keys)):
        await asyncio.sleep(0)  # the requests handed a slot run
        holding = [i for i, taker in enumerate(takers) if taker.done() and waited[i] is None]
        for i in holding:
            waited[i] = round_number
        for _ in holding:  # their calls end with the round
            assert slots.busy <= slots.limit
            slots.release()
    return waited


def test_with_one_key_the_waits_are_those_of_one_queue_in_arrival_order() -> None:
    # What the single queue gave: the first 4 at once, then 4 more each round, in arrival order
    assert asyncio.run(rounds_waited(4, ["learner"] * 18)) == [i // 4 for i in range(18)]


def test_one_keys_flood_holds_up_another_keys_single_call_one_round_only() -> None:
    waited = asyncio.run(rounds_waited(4, ["flood"] * 200 + ["single"]))
    assert waited[-1] == 1, f"the single call waited {waited[-1]} rounds behind 200 of another key"  # one queue: 50
    assert waited[:-1] == sorted(waited[:-1])  # the flood's own calls still start in arrival order
    assert max(waited[:-1]) == 50  # the single call took one slot of one round from it, no more


class Taken:
    """Requests waiting on one `Slots`, each named; `order` is the order they were handed a slot."""

    def __init__(self, slots: Slots) -> None:
        self.slots, self.order, self.tasks = slots, [], {}

    def ask(self, name: str) -> None:
        """Queue a request of the key named by `name`'s first letter (a1, a2: key "a")."""
        async def take() -> None:
            await self.slots.acquire(name[0])
            self.order.append(name)
        self.tasks[name] = asyncio.create_task(take())

    async def settle(self) -> list[str]:
        await asyncio.sleep(0)  # queued requests reach the queue; those handed a slot run
        await asyncio.sleep(0)
        return self.order


def test_free_slots_go_round_the_keys_in_turn_and_a_key_new_to_the_queue_joins_the_back() -> None:
    async def serve() -> list[str]:
        taken = Taken(Slots(1))
        for name in ("hold", "a1", "a2", "a3", "a4", "b1", "b2"):
            taken.ask(name)
        await taken.settle()
        for late in ("c1", None, None, None, None, None, None):
            taken.slots.release()
            if late:
                taken.ask(late)
            await taken.settle()
        return taken.order

    # a1 went first, then a went to the back, behind b; c arrived after a1 and joined behind a
    assert asyncio.run(serve()) == ["hold", "a1", "b1", "a2", "c1", "b2", "a3", "a4"]


def test_a_request_that_leaves_keeps_its_keys_turn_and_a_slot_handed_to_it_goes_to_the_next_in_turn() -> None:
    async def leave() -> tuple[list[str], Slots]:
        taken = Taken(Slots(1))
        for name in ("hold", "a1", "a2", "a3", "b1", "c1"):
            taken.ask(name)
        await taken.settle()
        taken.tasks["a1"].cancel()  # left while queued: still a's turn, a2 is next
        taken.slots.release()
        await taken.settle()
        taken.slots.release()  # hands the slot to b1 ...
        taken.tasks["b1"].cancel()  # ... which leaves before it could run: the slot goes on to c1
        await taken.settle()
        taken.slots.release()
        await taken.settle()
        return taken.order, taken.slots

    order, slots = asyncio.run(leave())
    assert order == ["hold", "a2", "c1", "a3"] and (slots.busy, len(slots._waiters)) == (1, 0)


def test_a_resize_hands_the_new_slots_round_the_keys_and_a_shrink_interrupts_nobody() -> None:
    async def resize() -> list[tuple[list[str], int]]:
        taken = Taken(Slots(1))
        for name in ("hold", "a1", "a2", "a3", "b1", "c1"):
            taken.ask(name)
        await taken.settle()
        taken.slots.resize(3)
        seen = [(list(await taken.settle()), taken.slots.busy)]
        taken.slots.resize(1)
        for _ in range(5):
            taken.slots.release()
            seen.append((list(await taken.settle()), taken.slots.busy))
        return seen

    grown, *shrinking = asyncio.run(resize())
    assert grown == (["hold", "a1", "b1"], 3)
    assert [busy for _, busy in shrinking] == [2, 1, 1, 1, 1]
    assert shrinking[1][0] == grown[0]  # two releases before anyone starts again
    assert shrinking[-1][0] == ["hold", "a1", "b1", "c1", "a2", "a3"]


@pytest.mark.slow
def test_another_keys_single_call_waits_about_a_quiet_call_while_one_key_has_200_queued(fresh) -> None:
    """The issue's room: alice fans out 200 calls at a server with 4 slots, then bob sends one."""
    flood, capacity = 200, 4
    fresh.configure(capacity=capacity, time_scale=0.2)  # a call of one token: 0.05 s; the flood, 50 × 0.05 s

    async def single(client) -> str:
        raw = await client.chat.completions.with_raw_response.create(
            model=fresh.model, messages=[{"role": "user", "content": "One word, please."}], max_tokens=1)
        return raw.headers["x-request-id"]

    async def room() -> tuple[str, str, int]:
        async with fresh.async_client(api_key="sk-room-bob", max_retries=0, timeout=60) as bob, \
                fresh.async_client(api_key="sk-room-alice", max_retries=0, timeout=60) as alice:
            quiet = await single(bob)
            fan_out = [asyncio.create_task(alice.chat.completions.create(
                model=fresh.model, messages=[{"role": "user", "content": f"Fact {n}."}], max_tokens=1))
                for n in range(flood)]
            while (queued := (await asyncio.to_thread(fresh.stats))["queued"]) < flood // 2:
                await asyncio.sleep(0.01)
            busy = await single(bob)
            await asyncio.gather(*fan_out)
            return quiet, busy, queued

    quiet_id, busy_id, queued = asyncio.run(room())
    journal = {entry["id"]: entry for entry in fresh.requests()}
    quiet, busy = journal.pop(quiet_id), journal.pop(busy_id)  # what is left is alice's
    ahead = sum(busy["arrival"] < entry["start"] < busy["start"] for entry in journal.values())
    quiet_seconds, busy_seconds = quiet["end"] - quiet["arrival"], busy["end"] - busy["arrival"]
    numbers = (f"bob's call alone: {quiet_seconds:.3f} s; with alice's {queued} queued: {busy_seconds:.3f} s, "
               f"{busy['queue_wait']:.3f} s of it queued while {ahead} of alice's calls started")
    print(numbers)
    # One queue for the room: bob waits for every call alice queued before his, `queued` / 4 calls' time
    assert ahead <= capacity, numbers  # at most the slots' round in progress, then bob's turn
    assert busy_seconds <= 2 * quiet_seconds + 0.1, numbers
