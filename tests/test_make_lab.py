"""`make lab`, the README's first command, really serves JupyterLab with the course's kernel."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from jupyterlab_driver import free_port, stop_process_group
from notebook_hygiene import REPOSITORY

pytestmark = pytest.mark.lab

STARTUP_LIMIT_SECONDS = 120


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def wait_for(url: str, server: subprocess.Popen) -> tuple[int, bytes]:
    deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`make lab` exited with {server.returncode} before serving {url}")
        try:
            return get(url)
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {url} within {STARTUP_LIMIT_SECONDS} s")


def test_make_lab_serves_jupyterlab_and_the_python3_kernel(tmp_path) -> None:
    port = free_port()
    lab_args = (
        f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.token= --ServerApp.password= "
        "--ServerApp.disable_check_xsrf=True"
    )
    environment = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path)}
    server = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_ARGS={lab_args}"],
        cwd=REPOSITORY,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the whole group (make and jupyter) can be stopped at the end
    )
    try:
        status, page = wait_for(f"http://127.0.0.1:{port}/lab", server)
        assert status == 200 and b"JupyterLab" in page
        status, body = get(f"http://127.0.0.1:{port}/api/kernelspecs")
        assert status == 200 and "python3" in json.loads(body)["kernelspecs"]
    finally:
        stop_process_group(server)
