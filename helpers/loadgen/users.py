"""Many users at once: closed-loop users who wait for each answer, open-loop arrivals who do not.

A *closed loop* is N users, each sending a request, waiting for the whole answer, thinking, and
asking again: the load falls when the service slows down, as real users' patience does. An *open
loop* is arrivals at a set rate (Poisson, like independent people) whatever the answers do: the
load a slow service cannot push back on, where queues grow without bound.

This generator speaks HTTP with aiohttp directly, not with the openai client: a load generator
must be cheap per request, or it steals the CPU that the service under test needs from the same
two CPUs, and what it measures is its own slowness. One event loop, one coroutine and one
kept-alive connection per user: 2,000 users against the simulator on this 2-CPU machine cost it
about 0.4 ms of CPU per request (Locust, measured alike: 1.4 ms with its default HttpUser, 0.5 ms
with FastHttpUser). Why not Locust, then: its users are closed-loop greenlets, so it cannot offer
arrivals that ignore the answers (a slow service quietly receives less load: coordinated
omission), and its stopped run left out of its counts the requests still in flight, where here
every request sent becomes an Outcome.
Times come from time.perf_counter, in seconds since the run began.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import NamedTuple

import aiohttp

from helpers.loadgen.outcomes import LoadRun, Outcome
from helpers.loadgen.sockets import ensure_open_files

PROGRESS_EVERY = 0.5  # seconds between on_progress calls
DONE = b"data: [DONE]"


class LoadProgress(NamedTuple):
    """How a run stands, for a live widget."""

    elapsed: float  # seconds since the run began
    sent: int
    answered: int
    in_flight: int
    by_status: dict[int, int]  # answers so far by HTTP status (0: no response)


class Requests:
    """The requests of one run: their bodies, their clock, and the outcomes so far."""

    def __init__(self, base_url: str, *, model: str, api_key: str, questions: Sequence[str] | None,
                 max_tokens: int, stream: bool, seed: int, timeout: float) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.model, self.max_tokens, self.stream = model, max_tokens, stream
        self.questions = list(questions) if questions is not None else None
        self.draw = random.Random(f"questions {seed}")
        self.numbers = itertools.count()
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.outcomes: list[Outcome] = []
        self.by_status: Counter[int] = Counter()
        self.sent = 0
        self.start = time.perf_counter()

    def now(self) -> float:
        return time.perf_counter() - self.start

    def body(self) -> bytes:
        number = next(self.numbers)
        if self.questions is None:  # distinct, so that a cache never hits by accident
            question = f"Question {number}: what is worth knowing about the number {number}?"
        else:
            question = self.draw.choice(self.questions)
        return json.dumps({"model": self.model, "messages": [{"role": "user", "content": question}],
                           "max_tokens": self.max_tokens, "stream": self.stream}).encode()

    async def send(self, session: aiohttp.ClientSession, user: int) -> Outcome:
        """One request, read to its end; whatever happens becomes an Outcome, never an exception."""
        body, first_byte, retry_after, error = self.body(), None, None, None
        self.sent += 1
        sent = self.now()
        try:
            async with session.post(self.url, data=body, headers=self.headers, timeout=self.timeout) as response:
                status = response.status
                if "Retry-After" in response.headers:
                    retry_after = _seconds(response.headers["Retry-After"])
                if self.stream and status == 200:
                    tail = b""
                    async for chunk in response.content.iter_any():
                        if first_byte is None:
                            first_byte = self.now()
                        tail = (tail + chunk)[-len(DONE) - 4:]  # enough to see the end, never the whole stream
                    if DONE not in tail:
                        status, error = 0, "the stream ended before data: [DONE]"
                else:
                    await response.read()
                    if status != 200:
                        error = f"HTTP {status}"
        except TimeoutError:
            status, error = 0, f"no answer within {self.timeout.total:g} s"
        except (aiohttp.ClientError, OSError) as failure:
            status, error = 0, (f"{type(failure).__name__}: {failure}")[:120]
        outcome = Outcome(user, sent, first_byte, self.now(), status, retry_after, error)
        self.outcomes.append(outcome)
        self.by_status[status] += 1
        return outcome

    def progress(self) -> LoadProgress:
        answered = len(self.outcomes)
        return LoadProgress(self.now(), self.sent, answered, self.sent - answered, dict(self.by_status))


def _seconds(header: str) -> float | None:
    try:
        return float(header)
    except ValueError:  # an HTTP date: allowed by the standard, sent by neither the simulator nor the service
        return None


def _session(connections: int) -> aiohttp.ClientSession:
    ensure_open_files(connections)
    # limit=0: no pool cap (aiohttp's default is 100), so every concurrent user has its own
    # connection, kept alive between its requests, as each real user would
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))


async def _reporting(requests: Requests, on_progress: Callable[[LoadProgress], None] | None) -> None:
    while on_progress is not None:
        await asyncio.sleep(PROGRESS_EVERY)
        on_progress(requests.progress())


async def _run(requests: Requests, work: Callable[[], Awaitable[None]],
               on_progress: Callable[[LoadProgress], None] | None) -> None:
    reporter = asyncio.create_task(_reporting(requests, on_progress))
    try:
        await work()
    finally:
        reporter.cancel()
    if on_progress is not None:
        on_progress(requests.progress())


def _check(name: str, value: float, low: float, high: float) -> None:
    if not low < value <= high:
        raise ValueError(f"{name} must be more than {low:g} and at most {high:g}, got {value!r}")


async def closed_loop(base_url: str, *, users: int, seconds: float, model: str, api_key: str = "sk-sim-learner",
                      questions: Sequence[str] | None = None, max_tokens: int = 16, stream: bool = False,
                      think_seconds: float = 0.0, seed: int = 0, timeout: float = 120.0,
                      on_progress: Callable[[LoadProgress], None] | None = None) -> LoadRun:
    """`users` users, each asking, waiting for the whole answer, thinking `think_seconds`, asking again,
    until `seconds` have passed; requests already sent are answered (none abandoned). All users start at
    once: 2,000 simultaneous connects succeed on loopback (the simulator listens with a backlog of 4,096)."""
    _check("users", users, 0, 100_000)
    _check("seconds", seconds, 0, 24 * 3600)
    if think_seconds < 0:
        raise ValueError(f"think_seconds must be 0 or more, got {think_seconds!r}")
    requests = Requests(base_url, model=model, api_key=api_key, questions=questions, max_tokens=max_tokens,
                        stream=stream, seed=seed, timeout=timeout)

    async def user(number: int, session: aiohttp.ClientSession) -> None:
        while requests.now() < seconds:
            await requests.send(session, number)
            if think_seconds:
                await asyncio.sleep(think_seconds)

    async def work() -> None:
        async with _session(users) as session:
            requests.start = time.perf_counter()
            await asyncio.gather(*(user(number, session) for number in range(users)))

    await _run(requests, work, on_progress)
    return LoadRun("closed", users, seconds, sorted(requests.outcomes, key=lambda o: o.sent))


async def open_loop(base_url: str, *, rate: float, seconds: float, model: str, api_key: str = "sk-sim-learner",
                    questions: Sequence[str] | None = None, max_tokens: int = 16, stream: bool = False,
                    seed: int = 0, timeout: float = 120.0,
                    on_progress: Callable[[LoadProgress], None] | None = None) -> LoadRun:
    """Arrivals at `rate` per second for `seconds` (Poisson: independent, seeded gaps), each its own
    request, sent on time whatever the earlier ones are doing; the run ends when the last is answered."""
    _check("rate", rate, 0, 100_000)
    _check("seconds", seconds, 0, 24 * 3600)
    requests = Requests(base_url, model=model, api_key=api_key, questions=questions, max_tokens=max_tokens,
                        stream=stream, seed=seed, timeout=timeout)
    gaps = random.Random(f"arrivals {seed}")

    async def work() -> None:
        # At most the arrivals of one timeout's span are open at once (any older one has timed out)
        async with _session(int(rate * min(seconds, timeout)) + 1) as session:
            requests.start = time.perf_counter()
            arrivals: list[asyncio.Task] = []
            arrival = gaps.expovariate(rate)
            while arrival < seconds:
                if arrival > requests.now():
                    await asyncio.sleep(arrival - requests.now())
                arrivals.append(asyncio.create_task(requests.send(session, len(arrivals))))
                arrival += gaps.expovariate(rate)
            await asyncio.gather(*arrivals)

    await _run(requests, work, on_progress)
    return LoadRun("open", rate, seconds, sorted(requests.outcomes, key=lambda o: o.sent))
