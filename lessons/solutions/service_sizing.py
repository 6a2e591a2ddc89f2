"""Solution to the exercise of notebooks/08_serving_users.ipynb: a gate by Little's law, a queue by the deadline."""

from __future__ import annotations

import math


def sizes(per_second: float, seconds_per_call: float, deadline: float) -> tuple[int, int]:
    """max_in_flight: the calls the rate limit keeps busy; max_queue: the waiting the deadline leaves time for."""
    max_in_flight = max(1, math.floor(per_second * seconds_per_call))  # Little's law: in flight = rate × time
    # The request at the back waits max_queue ÷ per_second for the gate, then its own call
    max_queue = max(0, math.floor(per_second * (deadline - seconds_per_call)))
    return max_in_flight, max_queue
