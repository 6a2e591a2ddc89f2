"""The `seed-article` preset gives the seed article's five prompts the article's magnitudes.

The article timed its five Gemini calls at 15.10 s one after another and 7.38 s gathered, so the
five took about 15 s in all and the slowest about 7 s. Lessons 04 and 05 send the same five
prompts, one key per prompt, to a fresh server on this preset: what the server's journal says
each call took is what those lessons measure.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from helpers.llm_server import start_server
from helpers.mode import ENDPOINT_VARIABLE
from helpers.workloads.hybrid import SEED_PROMPTS, key_per_prompt

TIME_SCALE = 0.2  # the five calls in about 1.4 s of real time; the journal's durations are divided back


@pytest.fixture(scope="module")
def call_seconds() -> list[float]:
    """How long the server took over each of the five seed prompts, in simulated seconds."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENDPOINT_VARIABLE, raising=False)
        with start_server("seed-article", time_scale=TIME_SCALE) as server:
            keys = key_per_prompt(SEED_PROMPTS)

            def ask(prompt: str) -> None:
                server.client(api_key=keys[prompt]).chat.completions.create(
                    model=server.model, messages=[{"role": "user", "content": prompt}])

            server.reset()
            with ThreadPoolExecutor(len(SEED_PROMPTS)) as threads:
                list(threads.map(ask, SEED_PROMPTS))
            return [(entry["end"] - entry["arrival"]) / TIME_SCALE for entry in server.requests()]


def test_the_five_seed_prompts_add_up_to_the_articles_sequential_time(call_seconds) -> None:
    assert len(call_seconds) == len(SEED_PROMPTS)
    assert 15.10 * 0.85 <= sum(call_seconds) <= 15.10 * 1.15


def test_the_slowest_seed_prompt_takes_about_seven_seconds_and_the_others_about_two(call_seconds) -> None:
    slowest, *others = sorted(call_seconds, reverse=True)
    assert 6.3 <= slowest <= 7.7  # the article's gathered 7.38 s is its slowest call plus a little
    assert all(1.0 <= seconds <= 3.5 for seconds in others)
