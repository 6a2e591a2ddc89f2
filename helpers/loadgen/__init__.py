"""Many users at once: closed-loop users and open-loop arrivals (`llm-course-load`).

users (closed_loop, open_loop: the load, over aiohttp, cheap per request), outcomes (Outcome per
request, LoadRun and its table row: served, shed, failed, lost, throughput, p50/p95/p99),
sockets (enough open files for thousands of connections), cli (the same from a shell).
"""

from helpers.loadgen.outcomes import LoadRun, Outcome
from helpers.loadgen.users import LoadProgress, closed_loop, open_loop

__all__ = ["LoadProgress", "LoadRun", "Outcome", "closed_loop", "open_loop"]
