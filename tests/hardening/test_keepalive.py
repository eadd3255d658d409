"""``mqtt.max_keepalive`` (Mosquitto's): a keepalive of 0 or above it becomes it; v5 clients are
told with Server Keep Alive, v3 clients are held to it."""

from __future__ import annotations

import time

import pytest

from brookmq.mqtt import packets as pk
from tests.durability.process import Wire

NODE_ENV = {"BROOKMQ_MQTT__MAX_KEEPALIVE": "2"}


@pytest.mark.parametrize(("asked", "told"), [(0, 2), (60, 2), (1, None), (2, None)])
def test_max_keepalive_lowers_zero_or_larger_keepalives_of_v5_clients(api_node, asked, told):
    wire = Wire(api_node.port, pk.MQTT_5)
    ack = wire.connect(f"ka-{asked}", keepalive=asked)
    assert ack.properties.get("server_keep_alive") == told
    wire.close()


def test_max_keepalive_holds_a_v3_client_with_keepalive_0_to_it(api_node):
    wire = Wire(api_node.port, pk.MQTT_3_1_1)
    assert wire.connect("ka-v3", keepalive=0).reason_code == 0
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        wire.recv(timeout=10)  # silent: closed after 2 s x 1.5
    assert 2.5 < time.monotonic() - started < 6
