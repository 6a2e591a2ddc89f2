"""percentiles: the values statistics.quantiles gives (its "inclusive" method), the ends, and refusals."""

from __future__ import annotations

import random
import statistics

import pytest

from helpers.measuring.percentiles import percentiles


def test_known_values_and_the_ends():
    samples = [5.0, 1.0, 3.0, 2.0, 4.0]  # unsorted on purpose
    assert percentiles(samples, (0, 25, 50, 100)) == {0: 1.0, 25: 2.0, 50: 3.0, 100: 5.0}
    assert percentiles([1.0, 2.0], (50,)) == {50: 1.5}
    assert percentiles([7.0]) == {50: 7.0, 95: 7.0, 99: 7.0}


def test_a_tail_shows_in_p99_not_in_p50():
    latencies = [1.0] * 98 + [30.0, 30.0]
    found = percentiles(latencies)
    assert found[50] == 1.0 and found[99] == 30.0


def test_the_same_as_statistics_inclusive_quantiles():
    draw = random.Random(7)
    samples = [draw.lognormvariate(0, 1) for _ in range(101)]
    assert len(set(samples)) == 101
    cuts = statistics.quantiles(samples, n=100, method="inclusive")  # cuts[p - 1] is the p-th percentile
    found = percentiles(samples, range(1, 100))
    assert found == pytest.approx({p: cuts[p - 1] for p in range(1, 100)})


@pytest.mark.parametrize("samples, points", [([], (50,)), ([1.0], (101,)), ([1.0], (-1,))])
def test_no_samples_or_a_point_outside_0_to_100_is_refused(samples, points):
    with pytest.raises(ValueError):
        percentiles(samples, points)
