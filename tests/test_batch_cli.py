"""`llm-batch` from a shell: --help explains every flag, bad input gets a clear error and exit code 2, and the
exit code says whether every request succeeded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from batch_support import expected_ids, ids_written, requests_file

from helpers.batch import write_requests
from helpers.batch.cli import main, parser
from helpers.llm_server import start_server

SCRIPT = Path(sys.executable).with_name("llm-batch")  # the console script pyproject.toml declares


def llm_batch(*arguments: str, key: str | None = "sk-cli") -> subprocess.CompletedProcess:
    environment = {name: value for name, value in os.environ.items() if name != "OPENAI_API_KEY"}
    if key:
        environment["OPENAI_API_KEY"] = key
    return subprocess.run([str(SCRIPT), *arguments], capture_output=True, text=True, env=environment, timeout=60)


def test_help_explains_every_flag_and_the_exit_codes() -> None:
    shown = llm_batch("--help")
    assert shown.returncode == 0
    for action in parser()._actions:
        for flag in action.option_strings:
            assert flag in shown.stdout
        explained = action.help.split("%(")[0].strip()  # the words before argparse fills in the default
        assert explained and explained in " ".join(shown.stdout.split()), f"{action.dest} is not explained"
    for code in ("0 ", "1 ", "2 ", "130 "):
        assert f"\n  {code}" in shown.stdout


def test_the_command_runs_a_file_and_says_so(tmp_path) -> None:
    requests = requests_file(tmp_path, 12)
    with start_server("instant", time_scale=0.1) as server:
        done = llm_batch(str(requests), str(tmp_path / "results.jsonl"), "--base-url", server.base_url, "--rpm", "6000")
        again = llm_batch(str(requests), str(tmp_path / "results.jsonl"), "--base-url", server.base_url)
    assert done.returncode == 0, done.stderr
    assert "12 succeeded, 0 failed" in done.stdout and "0 succeeded, 0 failed, 12 already done" in again.stdout
    assert ids_written(tmp_path / "results.jsonl") == expected_ids(12)


def test_exit_code_1_when_some_requests_failed(tmp_path) -> None:
    write_requests(tmp_path / "requests.jsonl", [{"model": "instant", "messages": [{"role": "user", "content": "hi"}]},
                                                 {"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]}])
    with start_server("instant", time_scale=0.1) as server:
        done = llm_batch(str(tmp_path / "requests.jsonl"), str(tmp_path / "results.jsonl"), "--base-url", server.base_url,
                         "--no-progress")
    assert done.returncode == 1 and "1 succeeded, 1 failed" in done.stdout


def line(**fields: object) -> str:
    request = {"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "instant"}}
    return json.dumps({**request, **fields}) + "\n"


BAD_FILES = [
    (line() + '{"custom_id": "b", "method": \n', "line 2: not valid JSON"),
    (line() + line(custom_id="b") + line(), "line 3: custom_id 'a' was already used on line 1"),
    (line(custom_id=None), "line 1: custom_id must be a non-empty string"),
    (line(method="GET"), "line 1: method must be \"POST\""),
    (line(url="https://example.com/v1/chat/completions"), "line 1: url must be a path starting with /v1/"),
    (line(body="hello"), "line 1: body must be a JSON object"),
    ("[1, 2]\n", "line 1: each line must be a JSON object"),
]
BAD_USAGE = [
    (["missing.jsonl", "results.jsonl"], "missing.jsonl: no such file"),
    (["requests.jsonl", "results.jsonl", "--rpm", "0"], "argument --rpm: must be more than 0"),
    (["requests.jsonl", "results.jsonl", "--tpm", "lots"], "argument --tpm: 'lots' is not a number"),
    (["requests.jsonl", "results.jsonl", "--timeout", "-1"], "argument --timeout: must be more than 0"),
    (["requests.jsonl", "requests.jsonl"], "RESULTS.jsonl must be another file than REQUESTS.jsonl"),
    (["requests.jsonl"], "the following arguments are required: RESULTS.jsonl"),
]


def exit_code_of(arguments: list[str]) -> int:
    """main() in this process (a new one per case would only add a second of imports); argparse exits."""
    try:
        return main(arguments)
    except SystemExit as stop:
        return stop.code


@pytest.mark.parametrize(("content", "message"), BAD_FILES)
def test_a_bad_requests_file_is_refused_before_any_call_naming_the_line(tmp_path, capsys, content: str,
                                                                       message: str) -> None:
    (tmp_path / "requests.jsonl").write_text(content)
    code = exit_code_of([str(tmp_path / "requests.jsonl"), str(tmp_path / "results.jsonl"),
                         "--base-url", "http://127.0.0.1:9/v1", "--api-key", "sk-cli"])
    error = capsys.readouterr().err
    assert code == 2 and message in error, error
    assert not (tmp_path / "results.jsonl").exists()


@pytest.mark.parametrize(("arguments", "message"), BAD_USAGE)
def test_bad_usage_gets_a_clear_error_and_exit_code_2(tmp_path, capsys, monkeypatch, arguments: list[str],
                                                      message: str) -> None:
    requests_file(tmp_path, 1)
    monkeypatch.chdir(tmp_path)
    code = exit_code_of([*arguments, "--api-key", "sk-cli"])
    error = capsys.readouterr().err
    assert code == 2 and message in error, error


def test_the_real_command_refuses_a_bad_file_and_a_bad_flag_without_a_traceback(tmp_path) -> None:
    (tmp_path / "requests.jsonl").write_text(BAD_FILES[0][0])
    bad_file = llm_batch(str(tmp_path / "requests.jsonl"), str(tmp_path / "results.jsonl"))
    bad_flag = llm_batch(str(tmp_path / "requests.jsonl"), str(tmp_path / "results.jsonl"), "--rpm", "0")
    assert bad_file.returncode == 2 and BAD_FILES[0][1] in bad_file.stderr
    assert bad_flag.returncode == 2 and BAD_USAGE[1][1] in bad_flag.stderr
    assert "Traceback" not in bad_file.stderr + bad_flag.stderr


def test_no_api_key_is_a_clear_error(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code = exit_code_of([str(requests_file(tmp_path, 1)), str(tmp_path / "results.jsonl")])
    assert code == 2 and "no API key: give --api-key or set OPENAI_API_KEY" in capsys.readouterr().err


def test_python_m_helpers_batch_is_the_same_command() -> None:
    shown = subprocess.run([sys.executable, "-m", "helpers.batch", "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and shown.stdout == llm_batch("--help").stdout
