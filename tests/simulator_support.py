"""What the simulator's test modules share: one server for the whole module, and a fresh start for each test.

    server, fresh, DEFAULTS = simulator_fixtures(preset="instant", time_scale=0.05)

`server` (module scope) starts one simulator, whatever LLM_COURSE_BASE_URL says in the shell: these
tests need the simulator, not a real endpoint. `fresh` (each test) puts back every setting a test
may change and empties the journal, so no test sees what another left. DEFAULTS is what `fresh`
restores: the server's own defaults with the module's settings on top.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpers.llm_server import config, start_server
from helpers.llm_server.launcher import ServerHandle
from helpers.mode import ENDPOINT_VARIABLE


def simulator_fixtures(**settings: Any) -> tuple[Any, Any, dict[str, Any]]:
    defaults = {name: getattr(config.DEFAULTS, name) for name in config.CHANGEABLE} | settings

    @pytest.fixture(scope="module")
    def server() -> Iterator[ServerHandle]:
        with pytest.MonkeyPatch.context() as patch:
            patch.delenv(ENDPOINT_VARIABLE, raising=False)
            with start_server(defaults["preset"], time_scale=defaults["time_scale"]) as running:
                yield running

    @pytest.fixture()
    def fresh(server: ServerHandle) -> ServerHandle:
        server.configure(**defaults)
        server.reset()
        return server

    return server, fresh, defaults
