"""Broker counters and per-client figures with EMQX's names count exactly what went over the wire."""

from __future__ import annotations

from tests.memory import MemoryClient

from brookmq.core.metrics import METRIC_NAMES
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode


async def test_every_emqx_metric_exists_from_the_start(broker):
    assert set(broker.counters) == set(METRIC_NAMES)
    assert all(v == 0 for v in broker.counters.values())


async def test_packets_and_bytes_are_counted_both_ways(broker):
    c = MemoryClient(broker, pk.MQTT_3_1_1)
    connect = encode(pk.Connect("m", pk.MQTT_3_1_1), pk.MQTT_3_1_1)
    c.send_raw(connect + b"\xc0\x00")  # CONNECT and PINGREQ in one read
    counters = broker.counters
    assert counters["packets.received"] == 2 and counters["bytes.received"] == len(connect) + 2
    assert counters["packets.sent"] == 2 and counters["bytes.sent"] == 4 + 2  # CONNACK, PINGRESP
    assert (counters["packets.connect.received"], counters["packets.connack.sent"]) == (1, 1)
    assert (counters["packets.pingreq.received"], counters["packets.pingresp.sent"]) == (1, 1)
    info = c.conn.client_info()
    assert (info["recv_cnt"], info["recv_pkt"], info["recv_oct"]) == (1, 2, len(connect) + 2)
    assert (info["send_cnt"], info["send_pkt"], info["send_oct"]) == (1, 2, 6)  # coalesced: one write


async def test_message_counters_follow_a_qos1_round_trip(broker, client):
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("t", 1)
    client("p", pk.MQTT_3_1_1).publish("t", b"x", 1)
    [m] = sub.publishes()
    sub.send(pk.Puback(m.packet_id))
    counters = broker.counters
    assert counters["messages.received"] == counters["messages.qos1.received"] == 1
    assert counters["messages.sent"] == counters["messages.qos1.sent"] == 1
    assert counters["messages.delivered"] == counters["messages.acked"] == 1
    assert counters["packets.puback.sent"] == counters["packets.puback.received"] == 1
    stats = broker.stats.snapshot()
    assert (
        stats["connections.count"] == 2 and stats["subscriptions.count"] == 1 and stats["topics.count"] == 1
    )
