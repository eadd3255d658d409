"""The other management listeners: ``http_legacy`` (8080, EMQX 3.x's and EMQ 2.x's port, off by
default) and HTTPS (``https``, ``https_legacy``) with the MQTT listeners' ``ssl_options``, each
serving the legacy dialects with the same credentials and limits."""

from __future__ import annotations

import socket
import ssl

import httpx

from tests.api.v5.conftest import KEYS, wait_for
from tests.durability.process import free_port
from tests.hardening.test_http_listener import closed_within

LEGACY_PORT, HTTPS_PORT, HTTPS_LEGACY_PORT = free_port(), free_port(), free_port()
NODE_ENV = {
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTP_LEGACY__ENABLE": "true",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTP_LEGACY__BIND": f"127.0.0.1:{LEGACY_PORT}",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTP_LEGACY__MAX_CONNECTIONS": "2",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTPS__ENABLE": "true",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTPS__BIND": f"127.0.0.1:{HTTPS_PORT}",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTPS_LEGACY__ENABLE": "true",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTPS_LEGACY__BIND": f"127.0.0.1:{HTTPS_LEGACY_PORT}",
    "BROOKMQ_MANAGEMENT__LISTENERS__HTTPS_LEGACY__SSL_OPTIONS": '{versions = ["tlsv1.3"]}',
}


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def test_the_legacy_port_serves_v3_and_v4(api_node):
    # The fixture waits for the dashboard listener; the management listeners start after it.
    assert all(
        wait_for(lambda p=port: _listening(p)) for port in (LEGACY_PORT, HTTPS_PORT, HTTPS_LEGACY_PORT)
    )
    base = f"http://127.0.0.1:{LEGACY_PORT}"
    assert httpx.get(f"{base}/api/v3/brokers", auth=KEYS["viewer"]).json()["code"] == 0
    assert httpx.get(f"{base}/api/v4/nodes", auth=KEYS["viewer"]).json()["code"] == 0
    assert httpx.get(f"{base}/api/v3/brokers").status_code == 401
    assert "is started" in httpx.get(f"{base}/status").text


def test_the_legacy_port_has_its_connection_cap(api_node):
    held = [socket.create_connection(("127.0.0.1", LEGACY_PORT)) for _ in range(2)]
    try:
        extra = socket.create_connection(("127.0.0.1", LEGACY_PORT))
        assert closed_within(extra, 5)  # past max_connections: closed at once
        extra.close()
    finally:
        for sock in held:
            sock.close()


def test_https_listeners_with_their_own_tls_options(api_node):
    trust = ssl.create_default_context(cafile=str(api_node.data_dir / "certs" / "ca.pem"))
    trust.check_hostname = False
    for port in (HTTPS_PORT, HTTPS_LEGACY_PORT):
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", verify=trust, auth=KEYS["administrator"]
        ) as c:
            assert c.get("/api/v4/brokers").json()["code"] == 0
            assert c.get("/api/v3/nodes/").json()["code"] == 0
    old = ssl.create_default_context(cafile=str(api_node.data_dir / "certs" / "ca.pem"))
    old.check_hostname = False
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    assert httpx.get(f"https://127.0.0.1:{HTTPS_PORT}/status", verify=old).status_code == 200
    try:
        httpx.get(f"https://127.0.0.1:{HTTPS_LEGACY_PORT}/status", verify=old)
    except httpx.ConnectError:
        pass  # TLS 1.3 only there
    else:
        raise AssertionError("TLS 1.2 was accepted where only 1.3 is allowed")
