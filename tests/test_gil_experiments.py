"""Lesson 01's experiments on the GIL: the waiting thread beside CPU threads, NumPy's matrix product."""

import sys
import threading
import time

import numpy as np
import pytest

from helpers.workloads.gil import (
    PYTHON_A,
    PYTHON_B,
    calls_per_second,
    numpy_matmul_work,
    python_matmul_work,
    switch_interval,
)


def test_calls_per_second_counts_calls_over_their_wall_time_and_leaves_nothing_running() -> None:
    before = sys.getswitchinterval()
    rate = calls_per_second(lambda: time.sleep(0.02), calls=5, cpu_threads=2, interval=0.001)
    assert 0 < rate <= 50  # five 20 ms naps cannot finish faster than 50 a second
    assert sys.getswitchinterval() == before
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("CPU thread")]


def test_the_switch_interval_is_restored_even_after_an_error() -> None:
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError), switch_interval(0.05):
        assert sys.getswitchinterval() == pytest.approx(0.05)
        raise RuntimeError
    assert sys.getswitchinterval() == before


def test_the_pure_python_product_is_a_real_matrix_product() -> None:
    """The same operation both ways: the Python version agrees with NumPy on its own matrices."""
    expected = (np.array(PYTHON_A) @ np.array(PYTHON_B))[0, 0]
    assert python_matmul_work(1) == pytest.approx(expected)
    assert numpy_matmul_work(2) == numpy_matmul_work(1)
