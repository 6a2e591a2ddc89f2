"""Lesson 04's process-pool helpers: workers importable under spawn, costs measured, errors caught."""

import multiprocessing
import os
import sys
import types
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

import helpers.workloads.process_workers as process_workers
from helpers.workloads.process_pools import (
    WorkerErrors,
    errors_in,
    memory_per_thread,
    run_script,
    start_up_seconds,
    worker_memory,
)
from helpers.workloads.process_workers import count_words, read_setting

SPAWN = multiprocessing.get_context("spawn")
# What a spawned worker prints when it cannot find a function of the notebook's __main__.
MISSING_FUNCTION = """Process SpawnProcess-1:
Traceback (most recent call last):
  File "/usr/lib/python3.11/multiprocessing/queues.py", line 122, in get
    return _ForkingPickler.loads(res)
AttributeError: Can't get attribute 'count_words' on <module '__main__' (built-in)>
"""
# What a script without the __main__ guard prints: the message starts on the next line.
NO_GUARD = """Traceback (most recent call last):
  File "<string>", line 1, in <module>
RuntimeError:
        An attempt has been made to start a new process before the
        current process has finished its bootstrapping phase.

        This probably means that you are not using fork.
"""


def test_errors_in_reads_one_line_messages_and_joins_a_message_on_the_next_lines() -> None:
    assert errors_in(MISSING_FUNCTION) == ["AttributeError: Can't get attribute 'count_words' on "
                                           "<module '__main__' (built-in)>"]
    assert errors_in(NO_GUARD + "concurrent.futures.process.BrokenProcessPool: A process died.") == [
        "RuntimeError: An attempt has been made to start a new process before the current process has finished "
        "its bootstrapping phase"]  # a dotted name is not at the start of the line: only errors raised by name
    assert errors_in("all went well\n") == []


def test_the_workers_functions_run_in_a_spawned_worker_which_sees_the_modules_own_setting(monkeypatch) -> None:
    monkeypatch.setattr(process_workers, "SETTING", "changed in the parent")
    with ProcessPoolExecutor(1, mp_context=SPAWN) as pool:
        assert list(pool.map(count_words, ["one two", "three"])) == [2, 1]
        assert pool.submit(read_setting).result() == "the value in helpers/workloads/process_workers.py"


def test_ask_without_a_client_says_to_use_the_initializer() -> None:
    with pytest.raises(RuntimeError, match="initializer=connect"):
        process_workers.ask("hello")


def test_start_up_is_measured_until_the_first_answer() -> None:
    seconds = start_up_seconds("spawn")
    assert 0 < seconds < 60


def test_worker_memory_lists_the_live_workers_and_a_thread_costs_far_less() -> None:
    with ProcessPoolExecutor(2, mp_context=SPAWN) as pool:
        list(pool.map(count_words, ["a", "b", "c", "d"]))
        workers = worker_memory()
    assert len(workers) >= 1 and all(w.name.startswith("SpawnProcess") for w in workers)
    assert all(0 < w.uss <= w.rss for w in workers)
    assert memory_per_thread(20) < min(w.uss for w in workers) / 10


def test_worker_errors_keep_what_a_dying_worker_prints_out_of_the_parents_output(monkeypatch) -> None:
    """A function of a module only the parent has: pickled by name here, not importable in the worker."""
    only_here = types.ModuleType("only_in_the_parent")
    exec("def shout(text):\n    return text.upper()\n", only_here.__dict__)
    monkeypatch.setitem(sys.modules, "only_in_the_parent", only_here)
    with WorkerErrors() as errors:
        pool = ProcessPoolExecutor(1, mp_context=SPAWN, initializer=errors.initializer, initargs=errors.initargs)
        try:
            with pytest.raises(BrokenProcessPool):
                pool.submit(only_here.shout, "hello").result(timeout=60)
        finally:
            pool.shutdown(cancel_futures=True)
        assert errors.found() == ["ModuleNotFoundError: No module named 'only_in_the_parent'"]
        path = errors.path
    assert not path.exists()  # the temporary folder is gone


def test_run_script_runs_a_script_and_kills_one_that_does_not_end() -> None:
    done = run_script("print('hello from a script')", timeout=60)
    assert done.exit_code == 0 and done.stdout.strip() == "hello from a script"
    stuck = run_script("import time\nwhile True:\n    time.sleep(0.1)\n", timeout=1)
    assert stuck.exit_code is None and 1 <= stuck.seconds < 30


def test_a_script_without_the_main_guard_fails_under_spawn_and_with_it_works() -> None:
    body = ("import multiprocessing\nfrom concurrent.futures import ProcessPoolExecutor\n"
            "from helpers.workloads.process_workers import count_words\n")
    main = ("with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context('spawn')) as pool:\n"
            "    print(list(pool.map(count_words, ['a b'])))\n")
    unguarded = run_script(body + main, timeout=120)
    assert unguarded.exit_code not in (0, None)
    assert any("bootstrapping phase" in error for error in errors_in(unguarded.stderr))
    guarded = run_script(body + "if __name__ == '__main__':\n" + "".join("    " + line + "\n"
                                                                          for line in main.splitlines()), timeout=120)
    assert guarded.exit_code == 0 and guarded.stdout.strip() == "[2]"


def test_a_worker_calls_the_simulated_server_through_its_initializer() -> None:
    from helpers.llm_server import start_server
    from helpers.llm_server.text import answer

    with start_server("sim-fast", time_scale=0.05) as server:
        everyone = SPAWN.Barrier(2)  # neither worker takes a task before both have started
        with ProcessPoolExecutor(2, mp_context=SPAWN, initializer=process_workers.connect,
                                 initargs=(server.base_url, server.model, "sk-test-worker", everyone)) as pool:
            [future.result() for future in [pool.submit(os.getpid) for _ in range(2)]]
            started = len(multiprocessing.active_children())  # both: a task ran, so both passed the barrier
            replies = list(pool.map(process_workers.ask, ["Explain AI in 20 words"]))
            counted = pool.submit(process_workers.ask_then_analyse, "Explain AI in 20 words",
                                  process_workers.count_words, "sk-test-prompt-1").result()
        assert started == 2 and replies == [answer("Explain AI in 20 words", 0)]
        assert counted == len(answer("Explain AI in 20 words", 0).split())
        assert [entry["key"] for entry in server.requests()] == ["sk-test-worker", "sk-test-prompt-1"]
