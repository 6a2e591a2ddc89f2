"""Read a service's /metrics without a Prometheus server: scrape it, sum series, take a quantile.

A service exposes counters (only ever go up), gauges (go up and down) and histograms (counts of
observations at or below each bucket bound `le`, cumulative, the last bound +Inf). What a lesson
wants is a rate or a latency percentile *over a window*: the difference of two scrapes divided
by the seconds between them, and for a p95 the quantile of the buckets' increase, computed by
Prometheus' own rule for `histogram_quantile` (promql/quantile.go) so that the numbers here are
the ones a Prometheus server would show for the same scrapes.
"""

from __future__ import annotations

import math
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """The parsed text of one /metrics page: every sample as (name, labels, value)."""

    def __init__(self, text: str) -> None:
        self.samples = [(s.name, s.labels, s.value)
                        for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum over the series of sample `name` (e.g. "llm_service_requests_total") that carry the
        given labels (e.g. status="200"); 0.0 when there is none (a counter not yet incremented)."""
        return sum(value for sample, have, value in self.samples
                   if sample == name and all(have.get(key) == wanted for key, wanted in labels.items()))

    def buckets(self, name: str, **labels: str) -> list[tuple[float, float]]:
        """The cumulative (le, count) of histogram `name`, summed over its series (as PromQL's
        `sum by (le)`), ordered by le with +Inf last; [] when the histogram is absent."""
        counts: dict[float, float] = {}
        for sample, have, value in self.samples:
            if sample == name + "_bucket" and all(have.get(key) == wanted for key, wanted in labels.items()):
                bound = float(have["le"])
                counts[bound] = counts.get(bound, 0.0) + value
        return sorted(counts.items())


def scrape(url: str, timeout: float = 5) -> Scrape:
    """GET `url` (e.g. service.url + "/metrics") and parse it."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return Scrape(response.read().decode())


def increase(later: Scrape, earlier: Scrape, name: str, **labels: str) -> float:
    """How much counter `name` grew between two scrapes; if it went down, the service restarted and
    its new value is the growth (the same rule as bucket_increase, and Prometheus' `increase`)."""
    now, before = later.value(name, **labels), earlier.value(name, **labels)
    return now - before if now >= before else now


def bucket_increase(later: list[tuple[float, float]], earlier: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """How much each bucket grew between two scrapes: the histogram of the observations in between.

    If a count went down, the service restarted and its counters began again from 0, so the later
    counts are themselves the increase (Prometheus' `increase` treats a reset the same way).
    """
    before = dict(earlier)
    if any(count < before.get(bound, 0.0) for bound, count in later):
        return list(later)
    return [(bound, count - before.get(bound, 0.0)) for bound, count in later]


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """The q-quantile (0..1) of cumulative (le, count) buckets, by Prometheus' rule for classic histograms.

    Find the bucket where the rank q × total falls and interpolate linearly inside it, its lower
    bound being the previous bucket's le, or 0 for the first bucket (unless that bucket's le is at
    or below 0: then that le). A rank in the +Inf bucket gives the highest finite le: the histogram
    cannot tell more. NaN without observations, with fewer than two buckets, or without a +Inf bucket.
    """
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    merged: dict[float, float] = {}
    for bound, count in buckets:  # the same bound twice (two series): one bucket, as Prometheus coalesces
        merged[bound] = merged.get(bound, 0.0) + count
    ordered = sorted(merged.items())
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return math.nan
    highest = 0.0  # counts must not go down; a scrape taken mid-update may show it: keep the envelope
    ordered = [(bound, highest := max(highest, count)) for bound, count in ordered]
    total = ordered[-1][1]
    if total == 0:
        return math.nan
    rank = q * total
    index = next((i for i, (_, count) in enumerate(ordered[:-1]) if count >= rank), len(ordered) - 1)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    if index == 0 and ordered[0][0] <= 0:
        return ordered[0][0]
    start, end, count = 0.0, ordered[index][0], ordered[index][1]
    if index > 0:
        start = ordered[index - 1][0]
        count -= ordered[index - 1][1]
        rank -= ordered[index - 1][1]
    if count == 0:  # q = 0 over an empty first bucket: Prometheus divides 0 by 0 here too
        return math.nan
    return start + (end - start) * rank / count
