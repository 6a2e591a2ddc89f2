"""The 503 overloaded fault, the budget each 429 names, and the price table: through the official client."""

import random
import re

import openai
import pytest
from simulator_support import simulator_fixtures

from helpers.llm_server import cli, config
from helpers.llm_server.faults import RATES, Faults
from helpers.llm_server.latency import PRESETS, request_rng
from helpers.llm_server.prices import BATCH_DISCOUNT, PRICES, cost

PROMPT = [{"role": "user", "content": "Explain AI in 50 words"}]
server, fresh, DEFAULTS = simulator_fixtures(preset="instant", time_scale=0.05)
RATES_BEFORE_OVERLOAD = ("error_rate", "hang_rate", "drop_rate", "slow_first_byte_rate")


def draw_as_before_overload(rates: dict[str, float], rng: random.Random) -> str | None:
    """Faults.draw as it was before overload_rate existed: the four older rates, in their order."""
    point = rng.random()
    for name in RATES_BEFORE_OVERLOAD:
        if point < rates[name]:
            return name.removesuffix("_rate")
        point -= rates[name]
    return None


def test_overload_is_appended_so_seeded_draws_from_before_it_do_not_change() -> None:
    assert RATES[: len(RATES_BEFORE_OVERLOAD)] == RATES_BEFORE_OVERLOAD and RATES[-1] == "overload_rate"
    old = dict(error_rate=0.1, hang_rate=0.05, drop_rate=0.05, slow_first_byte_rate=0.1)
    before = [draw_as_before_overload(old, request_rng(0, "sk-test", n)) for n in range(2000)]
    for overload_rate in (0.0, 0.2):
        now = [Faults(**old, overload_rate=overload_rate).draw(request_rng(0, "sk-test", n)) for n in range(2000)]
        changed = [(b, n) for b, n in zip(before, now) if b != n]
        # Only requests that suffered no fault before may now be overloaded, and only if it is on
        assert all(b is None and n == "overload" for b, n in changed)
        assert bool(changed) == (overload_rate > 0)


def test_an_overloaded_server_answers_503_in_openais_shape_and_the_sdk_retries_it(fresh) -> None:
    fresh.configure(overload_rate=1.0)
    with pytest.raises(openai.InternalServerError) as raised:
        fresh.client(max_retries=0).chat.completions.create(model="instant", messages=PROMPT)
    error = raised.value
    assert error.status_code == 503 and error.body["type"] == "server_error"
    assert error.body["code"] is None and error.body["param"] is None
    assert error.body["message"].startswith("That model is currently overloaded with other requests.")
    assert error.response.headers["x-request-id"] in error.body["message"]
    assert [(e["status"], e["fault"]) for e in fresh.requests()] == [(503, "overload")]

    fresh.reset()
    with pytest.raises(openai.InternalServerError):
        fresh.client(max_retries=2).chat.completions.create(model="instant", messages=PROMPT)
    assert [e["retry_count"] for e in fresh.requests()] == [0, 1, 2]  # the SDK retried the 503 twice
    assert fresh.stats()["errors"] == 3


@pytest.mark.slow
def test_an_overload_share_is_seeded_and_an_overloaded_request_retried_succeeds(fresh) -> None:
    fresh.configure(overload_rate=0.3, seed=5)
    client = fresh.client(max_retries=5)
    for _ in range(12):  # few: each retry waits the SDK's backoff, 0.5 s and more
        client.chat.completions.create(model="instant", messages=PROMPT)  # every call ends well
    statuses = [e["status"] for e in fresh.requests()]
    assert statuses.count(200) == 12 and statuses.count(503) > 0 and set(statuses) == {200, 503}
    fresh.reset()
    for _ in range(12):
        client.chat.completions.create(model="instant", messages=PROMPT)
    assert [e["status"] for e in fresh.requests()] == statuses  # same seed, same failures


@pytest.mark.parametrize("limits, budget, kind", [
    (dict(rpm=1), "requests per min (RPM)", "requests"),
    (dict(tpm=200), "tokens per min (TPM)", "tokens"),
])
def test_a_rate_limit_429_names_the_budget_that_ran_out(fresh, limits, budget, kind) -> None:
    fresh.configure(time_scale=1.0, **limits)  # a real minute: nothing refills within the test
    client = fresh.client(max_retries=0)
    client.chat.completions.create(model="instant", messages=PROMPT, max_tokens=150)
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="instant", messages=PROMPT, max_tokens=150)
    assert f" on {budget}: Limit {next(iter(limits.values()))}," in raised.value.body["message"]
    assert raised.value.body["type"] == kind and raised.value.code == "rate_limit_exceeded"
    assert fresh.requests()[-1]["limited_by"] == f"key {kind}"


def test_every_preset_model_has_a_price_and_the_batch_api_costs_half() -> None:
    assert set(PRICES) == set(PRESETS)
    small, large = PRICES["sim-fast"], PRICES["sim-large"]
    assert small.input < large.input and small.output < large.output and small.input < small.output
    online = cost("sim-large", 1_000_000, 1_000_000)
    assert online == pytest.approx(large.input + large.output)
    assert cost("sim-large", 1_000_000, 1_000_000, batch=True) == pytest.approx(online * BATCH_DISCOUNT)
    assert BATCH_DISCOUNT == 0.5
    assert cost("sim-fast", 2000, 500) == pytest.approx((2000 * small.input + 500 * small.output) / 1e6)
    with pytest.raises(ValueError, match="no price for model 'gpt-9'"):
        cost("gpt-9", 1, 1)


def test_the_command_line_explains_the_new_settings_with_their_defaults(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.parse(["--help"])
    shown = " ".join(capsys.readouterr().out.split())
    for flag, value in (("--overload-rate", config.DEFAULTS.overload_rate),
                        ("--batch-seconds", config.DEFAULTS.batch_seconds)):
        assert re.search(rf"{flag} \S+ \w.*?\(default: {value}\)", shown), flag
    settings = cli.config_from(cli.parse(["--overload-rate", "0.25", "--batch-seconds", "5"]))
    assert (settings.overload_rate, settings.batch_seconds) == (0.25, 5.0)
    with pytest.raises(SystemExit, match="the fault rates add up to more than 1"):
        cli.config_from(cli.parse(["--overload-rate", "0.6", "--error-rate", "0.6"]))
