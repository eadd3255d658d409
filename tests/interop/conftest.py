"""A real broker process (`python -m brookmq start`) for clients nobody here wrote."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def broker_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("data")
    env = dict(
        os.environ,
        BROOKMQ_LISTENERS__TCP__DEFAULT__BIND=f"127.0.0.1:{port}",
        BROOKMQ_LISTENERS__SSL__DEFAULT__ENABLE="false",
        BROOKMQ_LISTENERS__WS__DEFAULT__ENABLE="false",
        BROOKMQ_LISTENERS__WSS__DEFAULT__ENABLE="false",
        BROOKMQ_NODE__DATA_DIR=str(data_dir),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "brookmq", "start"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"broker exited: {proc.stdout.read() if proc.stdout else ''}") from None
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("broker did not start listening")
    yield port
    proc.terminate()
    try:
        assert proc.wait(10) == 0, "SIGTERM must stop the broker cleanly with exit 0"
    finally:
        proc.kill()
