"""The offline queue, redelivery on resume, and slow consumers."""

from __future__ import annotations

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop, persistent

from brookmq.mqtt import packets as pk


@pytest.mark.parametrize("version", VERSIONS)
async def test_unacked_messages_are_resent_with_dup_on_resume_MQTT_4_4_0_1(broker, version):
    sub = MemoryClient(broker, version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t", 2)
    pub = MemoryClient(broker, version)
    pub.connect("p")
    pub.publish("t", b"q1", 1)
    pub.publish("t", b"q2", 2, packet_id=2)
    first = sub.publishes()
    assert [m.dup for m in first] == [False, False]
    drop(sub)
    again = MemoryClient(broker, version)
    assert again.connect("s", clean_start=False, **persistent(version)).session_present
    resent = again.publishes()
    assert [(m.payload, m.packet_id, m.dup) for m in resent] == [
        (m.payload, m.packet_id, True) for m in first
    ]


@pytest.mark.parametrize("version", VERSIONS)
async def test_pubrel_is_resent_on_resume_for_a_half_done_qos2(broker, version):
    sub = MemoryClient(broker, version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t", 2)
    pub = MemoryClient(broker, version)
    pub.connect("p")
    pub.publish("t", b"x", 2)
    [m] = sub.publishes()
    sub.send(pk.Pubrec(m.packet_id))
    assert sub.recv() == pk.Pubrel(m.packet_id)
    drop(sub)
    again = MemoryClient(broker, version)
    again.connect("s", clean_start=False, **persistent(version))
    assert again.recv_all() == [pk.Pubrel(m.packet_id)]
    again.send(pk.Pubcomp(m.packet_id))
    assert again.conn.session.inflight == {}


@pytest.mark.parametrize("version", VERSIONS)
async def test_messages_wait_in_the_queue_while_offline(broker, version):
    sub = MemoryClient(broker, version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t", 1)
    sub.send(pk.Disconnect())
    pub = MemoryClient(broker, version)
    pub.connect("p")
    for i in range(5):
        pub.publish("t", bytes([i]), 1, packet_id=i + 1)
    again = MemoryClient(broker, version)
    again.connect("s", clean_start=False, **persistent(version))
    assert [m.payload for m in again.publishes()] == [bytes([i]) for i in range(5)]


async def test_a_full_queue_drops_its_oldest_message_and_counts_it(make_broker):
    broker = make_broker(max_mqueue_len=2)
    sub = MemoryClient(broker, pk.MQTT_3_1_1)
    sub.connect("s", clean_start=False)
    sub.subscribe("t", 1)
    sub.send(pk.Disconnect())
    pub = MemoryClient(broker, pk.MQTT_3_1_1)
    pub.connect("p")
    for i in range(3):
        pub.publish("t", bytes([i]), 1, packet_id=i + 1)
    assert broker.sessions["s"].mqueue_dropped == 1
    assert broker.counters["delivery.dropped.queue_full"] == 1
    again = MemoryClient(broker, pk.MQTT_3_1_1)
    again.connect("s", clean_start=False)
    assert [m.payload for m in again.publishes()] == [b"\x01", b"\x02"]


@pytest.mark.parametrize(("store_qos0", "expected"), [(True, [b"zero"]), (False, [])])
async def test_qos0_is_queued_offline_only_with_mqueue_store_qos0(make_broker, store_qos0, expected):
    broker = make_broker(mqueue_store_qos0=store_qos0)
    sub = MemoryClient(broker, pk.MQTT_3_1_1)
    sub.connect("s", clean_start=False)
    sub.subscribe("t", 0)
    sub.send(pk.Disconnect())
    pub = MemoryClient(broker, pk.MQTT_3_1_1)
    pub.connect("p")
    pub.publish("t", b"zero")
    again = MemoryClient(broker, pk.MQTT_3_1_1)
    again.connect("s", clean_start=False)
    assert [m.payload for m in again.publishes()] == expected


async def test_slow_consumer_queues_in_its_session_without_hurting_others(make_broker):
    broker = make_broker(max_mqueue_len=10)
    slow = MemoryClient(broker)
    slow.connect("slow")
    slow.subscribe("t")
    fast = MemoryClient(broker)
    fast.connect("fast")
    fast.subscribe("t")
    slow.conn.pause_writing()  # its socket buffer is past the high-water mark
    pub = MemoryClient(broker)
    pub.connect("p")
    for i in range(50):
        pub.publish("t", str(i).encode())
    assert len(fast.publishes()) == 50
    assert slow.publishes() == []
    assert len(slow.conn.session.mqueue) == 10  # bounded: the oldest 40 were dropped
    assert broker.counters["delivery.dropped.queue_full"] == 40
    slow.conn.resume_writing()
    assert [int(m.payload) for m in slow.publishes()] == list(range(40, 50))


async def test_delivery_to_a_closed_socket_is_harmless(client, broker):
    sub = client("s")
    sub.subscribe("t", 1)
    sub.transport.closed = True  # the peer went away; we have not noticed yet
    client("p").publish("t", b"x", 1)
    drop(sub)
    assert "s" not in broker.sessions
