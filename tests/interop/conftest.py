"""A real broker process (`python -m brookmq start`) for clients nobody here wrote.

All four listener kinds run on free loopback ports, plus ``ssl:mutual``, which
requires a client certificate from a test CA and takes the username from its CN.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningBroker:
    ports: dict[str, int]
    ca: Path  # the CA the broker generated for its default TLS listeners
    pki: dict[str, Path]  # test CA, and a client certificate, for ssl:mutual


def _wait(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"broker exited: {proc.stdout.read() if proc.stdout else ''}") from None
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("broker did not start listening")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningBroker]:
    data_dir = tmp_path_factory.mktemp("data")
    ca = trustme.CA()
    pki = {
        "ca": data_dir / "test-ca.pem",
        "server": data_dir / "test-server.pem",
        "client": data_dir / "test-client.pem",
    }
    ca.cert_pem.write_to_path(str(pki["ca"]))
    ca.issue_cert("localhost", "127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pki["server"]))
    client = ca.issue_cert("sensor-42@example.com", common_name="sensor-42")
    client.private_key_and_cert_chain_pem.write_to_path(str(pki["client"]))
    ports = {kind: free_port() for kind in ("tcp", "ssl", "ws", "wss", "mutual")}
    env = dict(
        os.environ,
        BROOKMQ_NODE__DATA_DIR=str(data_dir),
        BROOKMQ_SYS_TOPICS__SYS_MSG_INTERVAL="0",
        BROOKMQ_DASHBOARD__LISTENERS__HTTP__BIND=f"127.0.0.1:{free_port()}",
        BROOKMQ_MANAGEMENT__LISTENERS__HTTP__BIND=f"127.0.0.1:{free_port()}",
    )
    for kind in ("tcp", "ssl", "ws", "wss"):
        env[f"BROOKMQ_LISTENERS__{kind.upper()}__DEFAULT__BIND"] = f"127.0.0.1:{ports[kind]}"
    mutual = "BROOKMQ_LISTENERS__SSL__MUTUAL__"
    env.update(
        {
            f"{mutual}BIND": f"127.0.0.1:{ports['mutual']}",
            f"{mutual}SSL_OPTIONS__CERTFILE": str(pki["server"]),
            f"{mutual}SSL_OPTIONS__KEYFILE": str(pki["server"]),
            f"{mutual}SSL_OPTIONS__CACERTFILE": str(pki["ca"]),
            f"{mutual}SSL_OPTIONS__VERIFY": "verify_peer",
            f"{mutual}SSL_OPTIONS__FAIL_IF_NO_PEER_CERT": "true",
            f"{mutual}PEER_CERT_AS_USERNAME": "cn",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "brookmq", "start"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    for port in ports.values():
        _wait(port, proc)
    yield RunningBroker(ports, data_dir / "certs" / "ca.pem", pki)
    proc.terminate()
    try:
        assert proc.wait(10) == 0, "SIGTERM must stop the broker cleanly with exit 0"
    finally:
        proc.kill()


@pytest.fixture(scope="session")
def broker_port(broker: RunningBroker) -> int:
    return broker.ports["tcp"]
