"""Take a measurement every so often on a background thread, while an experiment runs.

    with CpuMeter() as cpu:        # any PeriodicSampler
        run_the_experiment()
    cpu.samples                    # [(unix time, value), ...]

The thread is a daemon and `stop()` joins it, so leaving the `with` block leaves nothing
running; a kernel restart would end it anyway. It only ever reads, so it cannot disturb the
experiment beyond the little CPU time each sample costs.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Generic, TypeVar

Value = TypeVar("Value")


class PeriodicSampler(Generic[Value]):
    """Calls `sample()` every `interval` seconds between `start()` and `stop()`."""

    name = "sampler"

    def __init__(self, interval: float = 0.1) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.interval = interval
        self.samples: list[tuple[float, Value]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> Value:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"this {self.name} is already running")
        self.samples.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.samples.append((time.time(), self.sample()))  # the state at the very end, too

    def _run(self) -> None:
        while True:
            self.samples.append((time.time(), self.sample()))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Any:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
