"""The service's command line, its graceful SIGTERM, its death with the parent, and 1,000 users at once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import psutil
import pytest

from helpers.loadgen import closed_loop
from helpers.service import start_service
from tests.service_support import PRESET, body, post_many, upstream_fixture

server = upstream_fixture()
COMMAND = [sys.executable, "-m", "helpers.service"]


def test_help_and_a_bad_flag() -> None:
    helped = subprocess.run([*COMMAND, "--help"], capture_output=True, text=True, timeout=30)
    assert helped.returncode == 0 and "--max-queue" in helped.stdout and "LLM_COURSE_SERVICE_API_KEY" in helped.stdout
    for bad in (["--max-queue", "lots"], ["--max-in-flight", "0"]):
        failed = subprocess.run([*COMMAND, "--upstream-base-url", "http://127.0.0.1:9/v1", *bad],
                                capture_output=True, text=True, timeout=30)
        assert failed.returncode == 2, failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1 and "max" in failed.stderr


@pytest.mark.slow
def test_sigterm_finishes_the_requests_in_flight(server) -> None:
    server.configure(preset="sim-fast", time_scale=2.0)  # about 0.6 s an answer: still in flight at SIGTERM
    try:
        with start_service(server, max_in_flight=4, max_queue=None) as service:

            async def load_then_stop() -> list:
                requests = asyncio.ensure_future(post_many(service.base_url, [body()] * 8))
                await asyncio.sleep(0.3)
                assert service.metrics().value("llm_service_in_flight") > 0
                service.process.send_signal(signal.SIGTERM)
                return await requests

            responses = asyncio.run(load_then_stop())
            assert [r.status_code for r in responses] == [200] * 8
            assert service.process.wait(timeout=10) == 0
    finally:
        server.configure(preset=PRESET, time_scale=0.2)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_the_service_dies_when_its_parent_does(server, workers: int) -> None:
    service = start_service(server, workers=workers)
    supervisor = psutil.Process(service.process.pid)  # with one worker, the worker itself
    family = [supervisor, *supervisor.children(recursive=True)]  # with workers, also multiprocessing's tracker
    assert len(family) >= 1 + (workers if workers > 1 else 0)
    service.process.stdin.close()  # what the kernel's death does to the pipe
    assert service.process.wait(timeout=10) == 0
    gone, alive = psutil.wait_procs(family, timeout=10)
    assert alive == [], f"left running after their parent died: {alive}"


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_thousand_users_at_once_none_lost_no_5xx(server) -> None:
    with start_service(server, max_in_flight=64, max_queue=None) as service:
        run = asyncio.run(closed_loop(service.base_url, users=1000, seconds=3, model=PRESET, timeout=20))
        assert len(run.served) > 1000 and run.failed == 0 and run.lost == 0 and run.shed == 0
        scrape = service.metrics()
        assert scrape.value("llm_service_requests_total", status="200") == len(run.served)
        assert sum(scrape.value("llm_service_requests_total", status=str(s)) for s in range(500, 600)) == 0
        assert scrape.value("llm_service_in_flight") == 0
