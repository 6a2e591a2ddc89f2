"""A room server as workshop.md starts it (a roster, an admin token), asked from another machine.

127.0.0.2 is a loopback address, but not the server's own: to the server it is another machine's,
so these tests see what a learner on the room's network would, with the official client.
"""

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import openai
import pytest
from simulator_support import simulator_fixtures

from helpers.llm_server.config import SimConfig
from helpers.llm_server.launcher import ServerHandle

ELSEWHERE = "127.0.0.2"
ROSTER = ("sk-room-ada", "sk-room-bob", "sk-room-cy")
TOKEN = "room-admin-token-for-the-test"
BROKEN = "sk-room-cy"  # has a fault of its own: its key must not show in another learner's settings
PROMPT = [{"role": "user", "content": "Say hi in 3 words"}]
server, fresh, DEFAULTS = simulator_fixtures(preset="instant", time_scale=0.02)  # a private simulator


class Room(NamedTuple):
    handle: ServerHandle  # its process and base_url

    @property
    def base(self) -> str:
        return self.handle.base_url.removesuffix("/v1")


def from_elsewhere(**headers: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=ELSEWHERE), headers=headers, timeout=10)


def learner(base_url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, http_client=from_elsewhere())


def start_room(tmp_path, *flags: str, stderr=None) -> ServerHandle:
    roster = tmp_path / "roster.txt"
    roster.write_text("\n".join(ROSTER) + "\n")
    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent", "--keys", str(roster),
               "--admin-token", TOKEN, "--preset", "instant", "--time-scale", "0.02",
               "--key-fault", f"{BROKEN}:error_rate=1", *flags]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True)
    line = process.stdout.readline()
    assert line.startswith("READY ") and "sk-room" not in line and TOKEN not in line, line
    return ServerHandle(process, base_url=line.split()[1], model="instant")


@pytest.fixture(scope="module")
def room_server(tmp_path_factory) -> Iterator[ServerHandle]:
    with start_room(tmp_path_factory.mktemp("room")) as handle:
        yield handle


@pytest.fixture()
def room(room_server: ServerHandle) -> Room:
    """The room after ada called twice and bob once, each from another machine."""
    with from_elsewhere(**{"x-admin-token": TOKEN}) as admin:
        assert admin.post(room_server.base_url.removesuffix("/v1") + "/sim/reset").status_code == 200
    for key, calls in (("sk-room-ada", 2), ("sk-room-bob", 1)):
        for _ in range(calls):
            learner(room_server.base_url, key).chat.completions.create(model="instant", messages=PROMPT)
    return Room(room_server)


def assert_refused(response: httpx.Response, status: int) -> None:
    """Refused as OpenAI refuses: the status and an error body, without any key of the room in it."""
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) >= {"message", "type", "code"}
    assert "sk-room" not in response.text


@pytest.mark.parametrize("path", ["/sim/requests", "/sim/stats", "/sim/config"])
def test_without_a_key_the_room_server_shows_nobody_its_journal_counts_or_settings(room, path) -> None:
    with from_elsewhere() as stranger:
        assert_refused(stranger.get(room.base + path), 401)
        assert_refused(stranger.get(room.base + path, headers={"Authorization": "Bearer sk-room-eve"}), 401)
        assert_refused(stranger.get(room.base + path, headers={"x-admin-token": "a-guess"}), 403)


def test_a_learners_key_reads_its_own_entries_and_counts_only(room) -> None:
    with from_elsewhere(Authorization="Bearer sk-room-ada") as ada:
        entries = ada.get(room.base + "/sim/requests").json()
        stats = ada.get(room.base + "/sim/stats").json()
    assert [entry["key"] for entry in entries] == ["sk-room-ada"] * 2  # its own key, in full: it is the caller's
    assert stats["completed"] == 2 and list(stats["per_key"]) == ["sk-room-ada"]
    assert stats["per_key"]["sk-room-ada"]["completed"] == 2


def test_the_admin_reads_the_whole_room_with_keys_as_fingerprints(room) -> None:
    with from_elsewhere(**{"x-admin-token": TOKEN}) as admin:
        entries = admin.get(room.base + "/sim/requests").json()
        stats = admin.get(room.base + "/sim/stats").json()
        again = admin.get(room.base + "/sim/stats").json()
    assert "sk-room" not in json.dumps(entries) + json.dumps(stats)
    shown = [entry["key"] for entry in entries]
    assert all(re.fullmatch("[0-9a-f]{8}", key) for key in shown)
    ada, bob = shown[0], shown[2]
    assert shown == [ada, ada, bob] and ada != bob  # the same key, the same fingerprint
    assert stats["completed"] == 3 and stats["per_key"][ada]["completed"] == 2 and stats["per_key"][bob]["completed"] == 1
    assert again["per_key"].keys() == stats["per_key"].keys()


def test_only_the_admin_changes_or_resets_the_room(room) -> None:
    with from_elsewhere(Authorization="Bearer sk-room-ada") as ada:
        assert_refused(ada.post(room.base + "/sim/reset"), 403)
        assert_refused(ada.post(room.base + "/sim/config", json={"error_rate": 1.0}), 403)
        assert len(ada.get(room.base + "/sim/requests").json()) == 2  # the reset did not happen
    with from_elsewhere(**{"x-admin-token": TOKEN}) as admin:
        assert_refused(admin.post(room.base + "/sim/reset", headers={"x-admin-token": "a-guess"}), 403)
        changed = admin.post(room.base + "/sim/config", json={"rpm": 1000})
        assert changed.status_code == 200 and changed.json()["rpm"] == 1000
        admin.post(room.base + "/sim/config", json={"rpm": None})


def test_a_learners_settings_show_nothing_about_other_keys(room) -> None:
    with from_elsewhere(Authorization="Bearer sk-room-ada") as ada:
        seen_by_ada = ada.get(room.base + "/sim/config")
    with from_elsewhere(Authorization=f"Bearer {BROKEN}") as cy:
        seen_by_cy = cy.get(room.base + "/sim/config").json()
    with from_elsewhere(**{"x-admin-token": TOKEN}) as admin:
        seen_by_admin = admin.get(room.base + "/sim/config").json()
    (fingerprint,) = seen_by_admin["key_faults"]
    assert seen_by_ada.json()["key_faults"] == {} and fingerprint not in seen_by_ada.text
    assert "sk-room" not in seen_by_ada.text and seen_by_ada.json()["keys"] == len(ROSTER)
    assert seen_by_cy["key_faults"] == {BROKEN: {"error_rate": 1}}  # its own, under its own key
    assert "sk-room" not in json.dumps(seen_by_admin) and re.fullmatch("[0-9a-f]{8}", fingerprint)
    with from_elsewhere(**{"x-admin-token": TOKEN}) as admin:
        refused = admin.post(room.base + "/sim/config", json={"key_faults": {BROKEN: {"error_rate": 2}}})
    assert refused.status_code == 400 and f"key_faults[{fingerprint}]" in refused.text and "sk-room" not in refused.text


def test_a_server_handle_with_a_roster_key_reads_that_keys_journal(room) -> None:
    # OwnKeyExercise.journal keeps the entries of its key from server.requests(): with the learner's
    # roster key that is all the room server answers, so the check works there.
    bobs = ServerHandle(room.handle.process, room.handle.base_url, "instant")
    bobs.api_key = "sk-room-bob"
    assert [entry["key"] for entry in bobs.requests()] == ["sk-room-bob"]
    assert list(bobs.stats()["per_key"]) == ["sk-room-bob"] and bobs.stats()["completed"] == 1
    assert bobs.settings()["key_faults"] == {}
    with pytest.raises(ValueError, match="admin token"):
        bobs.reset()


def test_nothing_the_room_server_prints_names_a_key(tmp_path) -> None:
    log = tmp_path / "server.log"
    with log.open("w") as stderr, start_room(tmp_path, stderr=stderr) as handle:
        for key in ROSTER:
            try:
                learner(handle.base_url, key).chat.completions.create(model="instant", messages=PROMPT)
            except openai.InternalServerError:
                assert key == BROKEN
        with pytest.raises(openai.AuthenticationError):
            learner(handle.base_url, "sk-room-eve").chat.completions.create(model="instant", messages=PROMPT)
        handle.stop()
        printed = handle.process.stdout.read() + log.read_text()  # after the READY line start_room checked
    assert "sk-room" not in printed and TOKEN not in printed


def test_a_private_simulator_asked_from_another_machine_shows_each_key_its_own(fresh) -> None:
    fresh.client(api_key="sk-ada").chat.completions.create(model=fresh.model, messages=PROMPT)
    learner(fresh.base_url, "sk-bob").chat.completions.create(model=fresh.model, messages=PROMPT)
    base = fresh.base_url.removesuffix("/v1")
    with from_elsewhere() as stranger:
        assert_refused(stranger.get(base + "/sim/requests"), 401)
        assert_refused(stranger.post(base + "/sim/reset"), 403)
    with from_elsewhere(Authorization="Bearer sk-bob") as bob:
        assert [entry["key"] for entry in bob.get(base + "/sim/requests").json()] == ["sk-bob"]
    assert [entry["key"] for entry in fresh.requests()] == ["sk-ada", "sk-bob"]  # from its own machine: all, as ever


def test_settings_name_keys_by_fingerprints_not_by_a_prefix_the_room_shares() -> None:
    shown = SimConfig(key_faults={"sk-room-ada": {"error_rate": 1.0}, "sk-room-adb": {"error_rate": 1.0}}).public()
    fingerprints = list(shown["key_faults"])
    assert len(set(fingerprints)) == 2 and all(re.fullmatch("[0-9a-f]{8}", name) for name in fingerprints)
