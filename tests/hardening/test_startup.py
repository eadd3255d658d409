"""A port in use, a missing certificate or an unusable data directory: one clear line naming
the listener, the address or the file, exit 2, before any listener has started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.durability.process import free_port


def start(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "BROOKMQ_NODE__DATA_DIR": str(tmp_path / "data"),
        "BROOKMQ_LISTENERS__TCP__DEFAULT__BIND": f"127.0.0.1:{free_port()}",
        "BROOKMQ_LISTENERS__SSL__DEFAULT__ENABLE": "false",
        "BROOKMQ_LISTENERS__WS__DEFAULT__ENABLE": "false",
        "BROOKMQ_LISTENERS__WSS__DEFAULT__ENABLE": "false",
        "BROOKMQ_DASHBOARD__LISTENERS__HTTP__BIND": f"127.0.0.1:{free_port()}",
        "BROOKMQ_MANAGEMENT__LISTENERS__HTTP__BIND": f"127.0.0.1:{free_port()}",
    }
    return subprocess.run(
        [sys.executable, "-m", "brookmq", "start"],
        env={**os.environ, **base, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_port_in_use_names_the_listener_and_address(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(start(tmp_path, BROOKMQ_LISTENERS__TCP__DEFAULT__BIND=f"127.0.0.1:{port}"))
    assert f"listeners.tcp.default: cannot listen on 127.0.0.1:{port}" in line


def test_a_dashboard_port_in_use_is_refused_before_any_mqtt_listener_starts(tmp_path):
    mqtt = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_line(
            start(
                tmp_path,
                BROOKMQ_LISTENERS__TCP__DEFAULT__BIND=f"127.0.0.1:{mqtt}",
                BROOKMQ_DASHBOARD__LISTENERS__HTTP__BIND=f"127.0.0.1:{port}",
            )
        )
    assert "dashboard.listeners.http" in line and str(port) in line


@pytest.mark.parametrize("missing", ["CERTFILE", "KEYFILE"])
def test_a_missing_certificate_file_names_the_file(tmp_path, missing):
    files = {"CERTFILE": str(tmp_path / "server.pem"), "KEYFILE": str(tmp_path / "server.key")}
    (tmp_path / ("server.key" if missing == "CERTFILE" else "server.pem")).write_text("x")
    line = one_line(
        start(
            tmp_path,
            BROOKMQ_LISTENERS__SSL__DEFAULT__ENABLE="true",
            BROOKMQ_LISTENERS__SSL__DEFAULT__BIND=f"127.0.0.1:{free_port()}",
            **{f"BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__{k}": v for k, v in files.items()},
        )
    )
    assert line.startswith("brookmq: listeners.ssl.default.ssl_options")
    assert "server.pem" in line or "server.key" in line


def test_a_certificate_that_does_not_load_says_so(tmp_path):
    (tmp_path / "bad.pem").write_text("not a certificate")
    line = one_line(
        start(
            tmp_path,
            BROOKMQ_LISTENERS__SSL__DEFAULT__ENABLE="true",
            BROOKMQ_LISTENERS__SSL__DEFAULT__BIND=f"127.0.0.1:{free_port()}",
            BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__CERTFILE=str(tmp_path / "bad.pem"),
            BROOKMQ_LISTENERS__SSL__DEFAULT__SSL_OPTIONS__KEYFILE=str(tmp_path / "bad.pem"),
        )
    )
    assert "listeners.ssl.default.ssl_options: the certificate or key does not load" in line


def test_a_data_directory_that_is_not_one_names_it(tmp_path):
    (tmp_path / "data").write_text("a file, not a directory")
    line = one_line(start(tmp_path))
    assert f"node.data_dir {tmp_path / 'data'}: is not a directory" in line
