"""Footprint keeps the largest memory and thread count seen while the block ran, not the last ones."""

import itertools
import time

from helpers.measuring.footprint import Footprint


class Growing:
    """A service whose memory rises, then falls, as a load would make it."""

    def __init__(self) -> None:
        self.readings = itertools.chain([(100, 3), (900, 40), (300, 12)], itertools.repeat((200, 5)))
        self.last = (0, 0)

    def memory_bytes(self) -> int:
        self.last = next(self.readings)
        return self.last[0]

    def thread_count(self) -> int:
        return self.last[1]


def test_the_peaks_are_the_largest_readings_while_the_block_ran():
    with Footprint(Growing(), interval=0.01) as footprint:
        time.sleep(0.1)
    assert len(footprint.samples) >= 4
    assert footprint.samples[-1][1] == (200, 5)  # the block ended low ...
    assert (footprint.peak_memory, footprint.peak_threads) == (900, 40)  # ... yet the peaks are kept


def test_no_reading_means_no_peak():
    assert (Footprint(Growing()).peak_memory, Footprint(Growing()).peak_threads) == (0, 0)
