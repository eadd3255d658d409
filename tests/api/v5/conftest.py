"""One broker process per test module, its management API reached over real HTTP, and paho
clients connected to it, so what the API lists and changes is real."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import paho.mqtt.client as mqtt
import pytest

from tests.durability.process import BrokerProcess
from tests.interop.test_paho import connected, make_client

KEYS = {
    "administrator": ("admin-key", "admin-secret-1"),
    "viewer": ("viewer-key", "viewer-secret-1"),
    "publisher": ("publisher-key", "publisher-secret-1"),
}


@pytest.fixture(scope="module")
def api_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrokerProcess]:
    """A test module may set ``NODE_ENV``, more environment for its broker, and ``NODE_CONFIG``,
    the text of its configuration file."""
    data = tmp_path_factory.mktemp("node")
    config = None
    if hasattr(request.module, "NODE_CONFIG"):
        config = data / "brookmq.conf"
        config.write_text(request.module.NODE_CONFIG)
    keys = data / "keys.txt"
    keys.write_text("".join(f"{key}:{secret}:{role}\n" for role, (key, secret) in KEYS.items()))
    node = BrokerProcess(
        data,
        config,
        BROOKMQ_API_KEY__BOOTSTRAP_FILE=str(keys),
        BROOKMQ_DASHBOARD__SAMPLE_INTERVAL="1s",
        **getattr(request.module, "NODE_ENV", {}),
    ).start()
    wait_for_api(node)
    yield node
    node.stop()


def wait_for_api(node: BrokerProcess) -> None:
    """Until the dashboard listener and then the management listener (the legacy dialects',
    which starts after it) accept connections."""
    deadline = time.monotonic() + 20
    for port, name in ((node.api_port, "dashboard"), (node.mgmt_port, "management")):
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, f"the {name} listener did not start"
                time.sleep(0.05)


def restart(node: BrokerProcess) -> str:
    """Stop the node (SIGTERM) and start it again on the same data; what it logged before."""
    logged = node.stop()
    node.start()
    wait_for_api(node)
    return logged


def api_client(node: BrokerProcess, role: str = "administrator") -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{node.api_port}/api/v5", auth=KEYS[role], timeout=10)


@pytest.fixture(scope="module")
def api(api_node: BrokerProcess) -> Iterator[httpx.Client]:
    with api_client(api_node) as client:
        yield client


@pytest.fixture
def prefix() -> str:
    """A client id prefix of this test's own, as the broker is shared by the module."""
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture
def mqtt_client(api_node: BrokerProcess) -> Iterator[Callable[..., mqtt.Client]]:
    """``mqtt_client(client_id, protocol=v5, **connect kwargs)``: a connected paho client,
    disconnected after the test."""
    made: list[mqtt.Client] = []

    def make(
        client_id: str,
        protocol: int = mqtt.MQTTv5,
        username: str | None = None,
        client_args: dict | None = None,
        **kwargs,
    ) -> mqtt.Client:
        c = make_client(api_node.port, protocol, client_id, **(client_args or {}))
        if username is not None:
            c.username_pw_set(username, "pw")
        made.append(c)
        return connected(c, api_node.port, **kwargs)

    yield make
    for c in made:
        c.disconnect()
        c.loop_stop()


def wait_for(check: Callable[[], object], timeout: float = 5) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
