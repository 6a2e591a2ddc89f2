"""The workshop room's benchmark (bench/room.py) at small size: its bound, its targets and its record on made-up
runs, and the whole measurement on 3 keys × 20 calls (`python -m bench room` runs it at full size)."""

import json

import pytest

from bench import report, room
from bench.room import KeyRun, RoomRun, fair_share_wait
from bench.targets import check_room


def room_run(medians: list[float], statuses: dict[int, int] | None = None, quiet: tuple = (1.0, 1.0, 2.5)) -> RoomRun:
    """A made-up run of 60 keys × 500 calls on 256 slots: each key's median at the server as given, at its client
    10 s more (what its event loop added)."""
    keys = [KeyRun(f"learner-{i:02d}", [median + 10] * 500, statuses or {200: 500}) for i, median in enumerate(medians)]
    return RoomRun(len(medians), 500, 256, list(quiet), keys, 90.0, 0.6, [0.4, 0.5], list(medians), (0.5, 2.0))


def test_a_keys_median_call_waits_for_half_its_calls_at_its_share_of_the_slots() -> None:
    # 60 keys on 256 slots: 4.27 slots each; 250 of a key's calls go first, 4.27 at a time, 1 s each
    assert fair_share_wait(500, 60, 256, 1.0) == pytest.approx(250 / (256 / 60))
    assert fair_share_wait(500, 60, 256, 2.0) == pytest.approx(2 * fair_share_wait(500, 60, 256, 1.0))
    assert fair_share_wait(4, 60, 256, 1.0) == 0.0  # fewer calls than its share of the slots: nothing queues


def test_the_bound_is_the_slack_times_the_quiet_median_plus_the_fair_share_at_the_quiet_mean() -> None:
    run = room_run([10.0] * 60)
    assert (run.quiet_latency, run.service_seconds) == (1.0, 1.5)
    assert run.bound == pytest.approx(1.5 * (1.0 + 250 / (256 / 60) * 1.5))


def test_the_room_passes_with_every_call_answered_and_every_median_within_the_bound() -> None:
    bound = room_run([1.0] * 60).bound
    assert all(target.passed for target in check_room(room_run([1.0] * 59 + [bound])))


def test_one_slow_key_at_the_server_fails_the_room() -> None:
    bound = room_run([1.0] * 60).bound
    answered, errors, slowest = check_room(room_run([1.0] * 59 + [bound * 1.01]))
    assert answered.passed and errors.passed and not slowest.passed


def test_a_5xx_or_a_call_without_an_answer_fails_the_room() -> None:
    for failed in (500, 0):
        answered, errors, _ = check_room(room_run([1.0] * 60, {200: 499, failed: 1}))
        assert not answered.passed
        assert errors.passed == (failed == 0)  # no answer at all is not a 5xx, but it is a call not answered


def test_the_record_holds_every_key_by_name_and_its_table_shows_the_spread_of_medians() -> None:
    run = room_run([3.0] * 59 + [4.0])
    record = report.room_record(run, settings=room.settings(), seconds=100.0, targets=check_room(run))
    record = json.loads(json.dumps(record))  # as the results file stores it
    assert [key["name"] for key in record["keys"]] == [f"learner-{i:02d}" for i in range(60)]
    assert record["keys"][0]["statuses"] == {"200": 500}
    results = {"date": "2026-12-02T06:00:00+00:00", "machine": {"usable_cpus": 2, "python": "CPython 3.11.7",
                                                                "aiohttp": "3", "openai": "3"}, "room": record}
    table = report.room_tables(results, "bench/results/x.json")
    assert "| 3.0 / 4.0 s | 13.0 / 14.0 s |" in table and all(target["what"] in table for target in record["targets"])


@pytest.mark.slow
def test_a_small_room_answers_every_call_of_every_key() -> None:
    said = []
    run = room.measure(keys=3, calls=20, capacity=4, time_scale=0.05, processes=1, start_delay=0.5, say=said.append)
    assert sorted(key.name for key in run.runs) == ["learner-01", "learner-02", "learner-03"]
    assert all(key.statuses == {200: 20} and len(key.latencies) == 20 for key in run.runs)
    assert len(run.quiet) == room.QUIET_CALLS and len(said) == 4 and len(run.server_medians) == 3
    assert "sk-room" not in "".join(said)  # the keys stay in the roster; the report names learners
