"""The course's modes and its one duration format."""

import pytest

from helpers.drawing.formatting import format_amount, format_bound, format_ratio, format_seconds
from helpers.mode import ENDPOINT_VARIABLE, MODE_VARIABLE, Mode, by_mode, current_mode


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, Mode.LEARNER),
        ({MODE_VARIABLE: "learner"}, Mode.LEARNER),
        ({MODE_VARIABLE: "TEST"}, Mode.TEST),
        ({ENDPOINT_VARIABLE: "http://room-server:8000/v1"}, Mode.REAL_ENDPOINT),
        ({MODE_VARIABLE: "test", ENDPOINT_VARIABLE: "http://room-server:8000/v1"}, Mode.TEST),
    ],
)
def test_mode_comes_from_the_environment(monkeypatch, variables, expected) -> None:
    monkeypatch.delenv(MODE_VARIABLE, raising=False)
    monkeypatch.delenv(ENDPOINT_VARIABLE, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert current_mode() is expected


def test_a_misspelt_mode_is_an_error_that_names_the_choices(monkeypatch) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "tset")
    with pytest.raises(ValueError, match="use 'learner' .* or 'test'"):
        current_mode()


def test_by_mode_picks_small_sizes_under_test_and_on_a_paid_endpoint(monkeypatch) -> None:
    monkeypatch.setenv(MODE_VARIABLE, "learner")
    monkeypatch.delenv(ENDPOINT_VARIABLE, raising=False)
    assert by_mode(learner=500, test=20) == 500
    monkeypatch.setenv(ENDPOINT_VARIABLE, "https://api.example.org/v1")
    assert by_mode(learner=500, test=20) == 20
    monkeypatch.setenv(MODE_VARIABLE, "test")
    assert by_mode(learner=500, test=20) == 20


@pytest.mark.parametrize(
    ("seconds", "printed"),
    [(15.1, "15.10 s"), (1.0, "1.00 s"), (0.9996, "1.00 s"), (0.38, "380 ms"), (0.0009996, "1 ms"),
     (4.5e-5, "45 µs"), (0, "0 µs"), (-0.25, "-250 ms")],
)
def test_durations_use_the_unit_that_keeps_them_readable(seconds, printed) -> None:
    assert format_seconds(seconds) == printed


def test_a_duration_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        format_seconds(float("nan"))


def test_ratios_have_one_decimal_and_a_times_sign() -> None:
    assert format_ratio(2.046) == "2.0×"


def test_a_bound_prints_as_the_lesson_wrote_it() -> None:
    assert [format_bound(bound) for bound in (1.25, 2, 1.4)] == ["1.25×", "2×", "1.4×"]


@pytest.mark.parametrize(("amount", "unit", "printed"), [
    (5860, "tokens", "5,860 tokens"), (2010.62, "×", "2010.6×"), (1.98297, "s", "1.98 s"),
    (41.537, "calls/s", "41.5 calls/s"), (2010.62, "calls/s", "2,011 calls/s"), (10, "calls", "10 calls"),
])
def test_an_amount_prints_with_its_unit_and_no_more_figures_than_it_can_tell(amount, unit, printed) -> None:
    assert format_amount(amount, unit) == printed


def test_nbval_sanitizer_recognises_every_printed_duration_and_ratio() -> None:
    """A measured number in a `# NBVAL_CHECK_OUTPUT` cell must never make nbval fail."""
    import configparser
    import re

    from notebook_hygiene import REPOSITORY

    config = configparser.ConfigParser()
    config.read(REPOSITORY / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    patterns = [re.compile(config[section]["regex"]) for section in config.sections()]

    def sanitised(text: str) -> str:
        for section, pattern in zip(config.sections(), patterns):
            text = pattern.sub(config[section]["replace"], text)
        return text

    for seconds in (15.1, 0.38, 4.5e-5, 123.456):
        assert sanitised(f"took {format_seconds(seconds)} in all") == "took <duration> in all"
    assert sanitised(f"speed-up {format_ratio(3.14)}") == "speed-up <ratio>"
