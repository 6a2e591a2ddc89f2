"""The room's roster: `key` or `key,name` lines, clear errors, and `llm-sim-server roster N` read back by the server."""

import subprocess
import sys

import openai
import pytest

from helpers.llm_server.cli import config_from, parse
from helpers.llm_server.launcher import ServerHandle
from helpers.llm_server.roster import KEY_PREFIX, RosterError, read_roster

TOKEN = "roster-test-admin-token"


def test_keys_with_and_without_names_comments_and_blank_lines(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("# the room of Tuesday\n\nsk-room-ada, Ada Lovelace\nsk-room-bob\n  sk-room-cy,Cy  \n")
    keys, names = read_roster(roster)
    assert keys == ["sk-room-ada", "sk-room-bob", "sk-room-cy"]
    assert names == {"sk-room-ada": "Ada Lovelace", "sk-room-cy": "Cy"}


@pytest.mark.parametrize(("text", "line", "says"), [
    ("sk-room-ada\nsk-room-bob\nsk-room-ada,Ada again\n", 3, "this key is already on line 1"),
    ("sk-room-ada\nsk-room-bob,\n", 2, "expected `key` or `key,name`"),
    ("sk-room-ada\n,Nobody\n", 2, "expected `key` or `key,name`"),
    ("sk-room-ada,Ada,Lovelace\n", 1, "expected `key` or `key,name`"),
    ("sk room ada,Ada\n", 1, "expected `key` or `key,name`"),
])
def test_a_malformed_line_or_a_duplicate_key_is_named(tmp_path, text, line, says):
    roster = tmp_path / "roster.csv"
    roster.write_text(text)
    with pytest.raises(RosterError, match=f"line {line}: {says}"):
        read_roster(roster)


def test_the_server_refuses_to_start_on_a_bad_roster_saying_where(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("sk-room-ada\nsk-room-ada\n")
    with pytest.raises(SystemExit, match="roster.csv, line 2: this key is already on line 1"):
        config_from(parse(["--keys", str(roster)]))


def test_the_names_stay_out_of_the_settings_anyone_reads(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("sk-room-ada,Ada\n")
    config = config_from(parse(["--keys", str(roster)]))
    assert config.names == {"sk-room-ada": "Ada"}
    assert "Ada" not in str(config.public()) and "Ada" not in str(config.public(own_key="sk-room-ada"))
    assert "Ada" not in repr(config)


def run_cli(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers.llm_server", *arguments],
                          capture_output=True, text=True, timeout=60)


def test_the_roster_command_writes_named_random_keys_the_server_accepts(tmp_path):
    written = run_cli("roster", "12")
    assert written.returncode == 0, written.stderr
    roster = tmp_path / "roster.csv"
    roster.write_text(written.stdout)
    keys, names = read_roster(roster)
    assert len(set(keys)) == 12 and all(key.startswith(KEY_PREFIX) and len(key) > len(KEY_PREFIX) + 16 for key in keys)
    assert [names[key] for key in keys] == [f"learner-{n:02d}" for n in range(1, 13)]
    assert set(read_roster_of(run_cli("roster", "12").stdout, tmp_path).keys).isdisjoint(keys)  # fresh each time

    command = [sys.executable, "-m", "helpers.llm_server", "--port", "0", "--watch-parent", "--keys", str(roster),
               "--admin-token", TOKEN, "--preset", "instant", "--time-scale", "0.02"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    with ServerHandle(process, base_url=line.split()[1], model="instant") as handle:
        assert ", 12 keys" in line and "sk-room" not in line
        reply = openai.OpenAI(base_url=handle.base_url, api_key=keys[5], max_retries=0).chat.completions.create(
            model="instant", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=handle.base_url, api_key=KEY_PREFIX + "guessed", max_retries=0).models.list()


def read_roster_of(text: str, folder):
    other = folder / "other.csv"
    other.write_text(text)
    return read_roster(other)


def test_the_roster_command_has_help_and_refuses_nonsense():
    assert "key,name" in run_cli("roster", "--help").stdout
    assert "roster" in run_cli("--help").stdout
    refused = run_cli("roster", "0")
    assert refused.returncode != 0 and "at least 1" in refused.stderr
