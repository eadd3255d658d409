"""Memory per session is bounded in bytes (``mqtt.max_mqueue_bytes``), all queues together by
``sysmon.max_queued_bytes`` with the ``high_queued_bytes`` alarm, and memory returns after the
clients leave. RSS of a real broker process, before, during and after."""

from __future__ import annotations

import time

import psutil

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import wait_for
from tests.durability.process import BrokerProcess, Wire

NODE_ENV = {"BROOKMQ_MQTT__MAX_MQUEUE_BYTES": "8MB", "BROOKMQ_SYSMON__MAX_QUEUED_BYTES": "12MB"}
PAYLOAD = b"x" * 512 * 1024


def rss(node: BrokerProcess) -> int:
    assert node.proc is not None
    return psutil.Process(node.proc.pid).memory_info().rss


def stalled_subscriber(node: BrokerProcess, client_id: str) -> Wire:
    """Subscribes to slow/# at QoS 1, then never reads again."""
    wire = Wire(node.port, pk.MQTT_5)
    assert wire.connect(client_id).reason_code == 0
    wire.send(pk.Subscribe(1, [("slow/#", pk.SubscriptionOptions(1))]))
    assert isinstance(wire.recv(), pk.Suback)
    return wire


def test_a_subscriber_that_never_reads_pins_at_most_max_mqueue_bytes(api_node, api):
    before = rss(api_node)
    stalled = [stalled_subscriber(api_node, f"stalled-{i}") for i in range(2)]
    pub = Wire(api_node.port, pk.MQTT_5)
    assert pub.connect("big-publisher").reason_code == 0
    for i in range(100):  # 50 MB for each subscriber
        pub.send(pk.Publish(f"slow/{i}", PAYLOAD, 0))
    pub.send(pk.Pingreq())
    assert isinstance(pub.recv(timeout=30), pk.Pingresp)
    during = rss(api_node)
    alarms = api.get("/alarms", params={"activated": "true"}).json()["data"]
    assert "high_queued_bytes" in [a["name"] for a in alarms]
    dropped = api.get("/metrics").json()[0]["delivery.dropped.queue_full"]
    assert dropped > 100  # 200 deliveries of 0.5 MB, at most 12 MB of them queued
    for wire in stalled:
        wire.close()
    wait_for(lambda: api.get("/clients").json()["meta"]["count"] <= 1, timeout=10)
    time.sleep(0.5)
    after = rss(api_node)
    print(f"RSS before {before >> 20} MB, during {during >> 20} MB, after {after >> 20} MB")
    assert during - before < 60 * 1024 * 1024  # 100 MB were sent for queues; at most 12 MB are kept
    assert after - before < 25 * 1024 * 1024
    wait_for(
        lambda: (
            "high_queued_bytes"
            not in [a["name"] for a in api.get("/alarms", params={"activated": "true"}).json()["data"]]
        )
    )
