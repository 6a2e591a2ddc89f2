"""The instructor's dashboard: the room's rows for the admin token only, exact counts, exercise passes,
and the page in a real browser updating as requests arrive.

Requests come from 127.0.0.2, which the server treats as another machine (see test_room_access.py).
"""

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator

import httpx
import openai
import pytest
from jupyterlab_driver import chromium_path, launch_chromium
from notebook_hygiene import REPOSITORY

from helpers.exercises.bounded_gather import BoundedGatherExercise
from helpers.exercises.progress import report_progress
from helpers.exercises.report import CheckReport
from helpers.llm_server import start_server
from helpers.llm_server.launcher import ServerHandle
from lessons.solutions.bounded_gather import bounded_gather

ELSEWHERE = "127.0.0.2"
TOKEN = "dashboard-test-admin-token"
ADA, BOB, CY = "sk-room-ada", "sk-room-bob", "sk-room-cy"  # cy has no name: shown by fingerprint
NAMES = ("Ada Lovelace", "Bob")
JOURNAL_LIMIT = 3  # smaller than the calls below: the counts must not come from the window
PROMPT = [{"role": "user", "content": "Say hi in 3 words"}]
ARTIFACTS = REPOSITORY / "tests" / "artifacts"


def from_elsewhere(**headers: str) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=ELSEWHERE), headers=headers, timeout=10)


def call(handle: ServerHandle, key: str, times: int = 1) -> None:
    client = openai.OpenAI(base_url=handle.base_url, api_key=key, max_retries=0, http_client=from_elsewhere())
    for _ in range(times):
        client.chat.completions.create(model="instant", messages=PROMPT)


@pytest.fixture(scope="module")
def room(tmp_path_factory) -> Iterator[ServerHandle]:
    """A room of three (two named), with ada's key limited to 2 requests a minute."""
    roster = tmp_path_factory.mktemp("room") / "roster.csv"
    roster.write_text(f"# a test room\n{ADA},Ada Lovelace\n{BOB},Bob\n{CY}\n")
    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent", "--keys", str(roster),
               "--admin-token", TOKEN, "--preset", "instant", "--time-scale", "0.02",
               "--journal-limit", str(JOURNAL_LIMIT), "--key-fault", f"{BOB}:error_rate=1"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert line.startswith("READY "), line
    with ServerHandle(process, base_url=line.split()[1], model="instant") as handle:
        yield handle


def base(handle: ServerHandle) -> str:
    return handle.base_url.removesuffix("/v1")


def rows_by_learner(handle: ServerHandle) -> dict[str, dict]:
    with from_elsewhere(**{"x-admin-token": TOKEN}) as admin:
        response = admin.get(base(handle) + "/sim/room.json")
    assert response.status_code == 200, response.text
    assert "sk-room" not in response.text
    return {row["learner"]: row for row in response.json()["rows"]}


def unnamed(rows: dict[str, dict]) -> str:
    """The row of the learner without a name: a fingerprint (its secret is the server process's own)."""
    (shown,) = set(rows) - set(NAMES)
    assert re.fullmatch("unnamed key [0-9a-f]{8}", shown), shown
    return shown


def test_each_learner_has_a_row_with_exact_counts_beyond_the_journal_window(room):
    before = rows_by_learner(room)
    assert set(NAMES) < set(before) and len(before) == 3  # the roster's, callers or not
    call(room, ADA, times=4)
    with pytest.raises(openai.InternalServerError):  # bob's key fails on purpose
        call(room, BOB)
    rows = rows_by_learner(room)
    ada, bob, cy = rows["Ada Lovelace"], rows["Bob"], rows[unnamed(rows)]
    assert ada["calls"] - before["Ada Lovelace"]["calls"] == 4 > JOURNAL_LIMIT
    assert bob["errors"] - before["Bob"]["errors"] == 1 and bob["calls"] - before["Bob"]["calls"] == 1
    assert ada["in_flight"] == 0 and ada["errors"] == 0
    assert 0 <= ada["last_seen_seconds"] < 30
    assert cy["last_seen_seconds"] is None and cy["calls"] == 0  # nobody calls with cy's key


def test_rate_limited_calls_are_counted(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text(f"{ADA},Ada\n")
    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent", "--keys", str(roster),
               "--admin-token", TOKEN, "--preset", "instant", "--rpm", "2"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    with ServerHandle(process, base_url=process.stdout.readline().split()[1], model="instant") as handle:
        call(handle, ADA, times=2)
        with pytest.raises(openai.RateLimitError):
            call(handle, ADA)
        assert rows_by_learner(handle)["Ada"]["rate_limited"] == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": f"Bearer {ADA}"}, {"x-admin-token": "wrong"}])
@pytest.mark.parametrize("path", ["/sim/room", "/sim/room.json", "/sim/room?token=wrong"])
def test_nobody_but_the_admin_sees_the_room(room, headers, path):
    with from_elsewhere(**headers) as someone:
        response = someone.get(base(room) + path)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["type"] == "permission_error"
    assert "Ada" not in response.text and "sk-room" not in response.text


def test_the_admin_opens_the_page_with_the_token_in_the_url(room):
    with from_elsewhere() as browser:
        response = browser.get(base(room) + f"/sim/room?token={TOKEN}")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/html")
    assert "room.json" in response.text


def test_a_passing_check_reports_with_the_learners_key_and_a_failing_one_does_not(room):
    class Learner:  # what report_progress reads of a server handle: a room server's, with ada's key
        base_url, api_key = room.base_url, ADA

    passed, failed = CheckReport("bounded_gather: passed"), CheckReport("paced_gather: failed")
    passed.expect(True, "all good")
    failed.expect(False, "not yet")
    assert report_progress(Learner(), passed) is passed and report_progress(Learner(), failed) is failed
    assert rows_by_learner(room)["Ada Lovelace"]["exercises_passed"] == ["bounded_gather: passed"]
    assert rows_by_learner(room)["Bob"]["exercises_passed"] == []

    class Stranger(Learner):
        api_key = "sk-room-not-on-the-roster"

    report_progress(Stranger(), passed)  # refused by the room; the learner's report is not disturbed
    assert len(rows_by_learner(room)) == 3


@pytest.mark.parametrize("body", [{}, {"exercise": ""}, {"exercise": 3}, {"exercise": "x" * 201}])
def test_a_pass_without_a_sensible_title_is_refused(room, body):
    with from_elsewhere(Authorization=f"Bearer {ADA}") as learner:
        response = learner.post(base(room) + "/sim/exercises", json=body)
    assert response.status_code == 400 and response.json()["error"]["param"] == "exercise", response.text


def test_an_exercise_check_reports_its_pass_to_a_private_simulator_which_shows_its_owner_the_room():
    with start_server("sim-fast", time_scale=0.1) as server:
        exercise = BoundedGatherExercise(server)
        report = exercise.check(asyncio.run(bounded_gather(exercise.ask, exercise.prompts, exercise.limit)))
        assert report.passed, str(report)
        rows = httpx.get(base(server) + "/sim/room.json", timeout=10).json()["rows"]  # loopback, no roster: no token
    # Two keys: the exercise's own made the 30 calls; the learner's (the handle's) reported the pass
    assert sorted((row["calls"], row["exercises_passed"]) for row in rows) == [(0, [report.title]), (30, [])]


@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="Chromium not found: apt-get install chromium chromium-driver")
def test_the_page_shows_the_room_live_in_chromium_and_refuses_without_the_token(room):
    from playwright.sync_api import expect, sync_playwright

    call(room, ADA)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 360})
            refused = page.goto(base(room) + "/sim/room")
            assert refused.status == 403 and "admin token" in page.content() and "Ada" not in page.content()

            page.goto(base(room) + f"/sim/room?token={TOKEN}")
            ada = page.locator("#rows tr", has_text="Ada Lovelace")
            expect(ada).to_be_visible(timeout=5000)
            expect(page.locator("#rows tr")).to_have_count(3)
            calls = int(ada.locator("td").nth(1).inner_text())
            call(room, ADA, times=2)
            expect(ada.locator("td").nth(1)).to_have_text(str(calls + 2), timeout=5000)  # no reload
            assert unnamed(rows_by_learner(room)) in page.locator("#rows").inner_text()
            assert "sk-room" not in page.content()
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "room_dashboard.png"), full_page=True)
        finally:
            browser.close()
