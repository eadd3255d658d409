"""The management API over HTTPS (dashboard.listeners.https) with the node's certificates."""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.api.v5.conftest import KEYS, wait_for
from tests.api.v5.test_listeners import reachable
from tests.durability.process import free_port

HTTPS_PORT = free_port()
NODE_ENV = {
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__ENABLE": "true",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__BIND": f"127.0.0.1:{HTTPS_PORT}",
    "BROOKMQ_DASHBOARD__LISTENERS__HTTPS__SSL_OPTIONS": '{versions = ["tlsv1.3"], handshake_timeout = "5s"}',
}


def test_the_api_is_served_over_tls(api_node) -> None:
    wait_for(lambda: reachable(HTTPS_PORT))  # the fixture waited for the HTTP listener only
    trust = ssl.create_default_context(cafile=str(api_node.data_dir / "certs" / "ca.pem"))
    base = f"https://localhost:{HTTPS_PORT}/api/v5"
    with httpx.Client(base_url=base, verify=trust, auth=KEYS["viewer"], timeout=10) as https:
        assert https.get("/nodes").json()[0]["node_status"] == "running"
        assert https.get("/status").status_code == 200
    old = ssl.create_default_context(cafile=str(api_node.data_dir / "certs" / "ca.pem"))
    old.maximum_version = ssl.TLSVersion.TLSv1_2  # the listener takes TLS 1.3 only
    with pytest.raises(httpx.ConnectError), httpx.Client(verify=old) as client:
        client.get(f"https://localhost:{HTTPS_PORT}/status")
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{HTTPS_PORT}/status", timeout=5)  # plain HTTP is not served there
    assert httpx.get(f"http://127.0.0.1:{api_node.api_port}/status").status_code == 200  # http stays
