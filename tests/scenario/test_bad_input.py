"""Bad input closes only the offending connection, with the right reason code first.

Raw bytes into a connected session (reliability.md section 1, bug classes 1-20).
"""

from __future__ import annotations

import pytest
from tests.memory import MemoryClient

from brookmq.core.hooks import Hook
from brookmq.core.message import Message
from brookmq.mqtt import packets as pk


def bystander(client):
    b = client("bystander")
    b.subscribe("t")
    return b


def still_works(bystander_client, client):
    client("after").publish("t", b"alive")
    assert [m.payload for m in bystander_client.publishes()] == [b"alive"]


@pytest.mark.parametrize(
    ("name", "raw", "code"),
    [
        ("malformed-utf8-topic", "30 04 00 02 C3 28", 0x81),
        ("remaining-length-5-bytes", "30 FF FF FF FF 01", 0x81),
        ("reserved-type-0", "00 00", 0x81),
        ("pingreq-with-body", "C0 01 00", 0x81),
        ("subscribe-bad-flags", "80 06 00 01 00 01 61 00", 0x81),
        ("publish-qos3", "36 05 00 01 61 00 01", 0x81),
        ("unknown-property", "30 06 00 01 61 02 7F 00", 0x81),
        ("duplicate-property", "30 08 00 01 61 04 01 00 01 00", 0x82),
        ("connack-from-client", "20 03 00 00 00", 0x82),
        ("suback-from-client", "90 04 00 01 00 00", 0x82),
        ("unsuback-from-client", "B0 03 00 01 00", 0x82),
        ("pingresp-from-client", "D0 00", 0x82),
        ("qos1-packet-id-0", "32 05 00 01 61 00 00", 0x82),
        ("oversized", "30 FF FF 7F", 0x95),
    ],
)
async def test_v5_bad_packet_gets_disconnect_with_reason_then_close(client, broker, name, raw, code):
    b = bystander(client)
    c = client("bad")
    c.send_raw(bytes.fromhex(raw))
    assert c.recv(pk.Disconnect).reason_code == code
    assert c.closed
    assert c.conn.reader.buffered == 0
    still_works(b, client)


async def test_v311_bad_packet_closes_without_disconnect(client):
    b = bystander(client)
    c = client("bad", pk.MQTT_3_1_1)
    c.send_raw(bytes.fromhex("30 04 00 02 C3 28"))
    assert c.closed and c.recv_all() == []
    still_works(b, client)


async def test_oversized_first_packet_is_refused_without_buffering(broker):
    c = MemoryClient(broker)
    c.send_raw(bytes.fromhex("10 FF FF FF 7F") + b"\x00" * 1000)
    assert c.closed and c.conn.reader.buffered == 0


@pytest.mark.parametrize("first", [0x30, 0x82, 0xC0, 0xE0, 0xF0, 0x62])
async def test_huge_declared_non_connect_first_packet_is_closed_at_once(broker, first):
    # mosquitto 01-bad-initial-packets: 4-byte remaining length, then nothing buffered
    c = MemoryClient(broker)
    c.send_raw(bytes((first, 0xFF, 0xFF, 0xFF, 0x2F)) + b"\x00" * 4096)
    assert c.closed and c.conn.reader.buffered == 0 and c.recv_all() == []


async def test_packets_in_the_same_read_before_a_bad_one_are_handled(client):
    sub = client("s")
    sub.subscribe("t")
    c = client("c")
    good = bytes.fromhex("30 05 00 01 74 00 31")  # PUBLISH t "1" (v5, no properties)
    c.send_raw(good + bytes.fromhex("30 04 00 02 C3 28"))
    assert [m.payload for m in sub.publishes()] == [b"1"]
    assert c.closed


async def test_any_split_of_a_stream_is_handled_like_the_whole(client):
    sub = client("s")
    sub.subscribe("t")
    c = client("c")
    stream = b"".join(bytes.fromhex("30 05 00 01 74 00") + bytes([0x30 + i]) for i in range(5))
    for i in range(len(stream)):
        c.send_raw(stream[i : i + 1])
    assert [m.payload for m in sub.publishes()] == [str(i).encode() for i in range(5)]


async def test_an_exception_inside_a_handler_closes_only_that_connection(broker, client):
    class Broken(Hook):
        def message_publish(self, message):
            if message.topic == "boom":
                raise RuntimeError("hook bug")
            return message

    broker.hooks.add(Broken())
    b = bystander(client)
    c = client("c")
    c.publish("boom")
    assert c.recv(pk.Disconnect).reason_code == 0x80 and c.closed
    still_works(b, client)


async def test_rapid_reconnects_with_one_client_id_during_publishing_leave_one_session(broker, client):
    sub = client("s")
    sub.subscribe("t", 0)  # QoS 0: this test is about the flapping client, not the window
    for i in range(200):
        c = MemoryClient(broker)
        c.connect("flappy", clean_start=i % 2 == 0, properties={"session_expiry_interval": 10})
        c.subscribe("t", 1)
        c.publish("t", str(i).encode(), 1)
    assert [s for s in broker.sessions] == ["s", "flappy"]
    assert broker.connected == 2
    assert len(sub.publishes()) == 200
    assert broker.router.subscription_count == 2


async def test_another_users_reconnect_with_a_clean_start_does_not_inherit_the_session(client, broker):
    # session hijack class: clean start always gets a fresh session
    victim = client("victim", clean_start=False, properties={"session_expiry_interval": 60})
    victim.subscribe("private/#")
    victim.send(pk.Disconnect())
    thief = MemoryClient(broker)
    assert thief.connect("victim", clean_start=True).session_present is False
    client("p").publish("private/x", b"secret")
    assert thief.publishes() == []


async def test_a_message_whose_text_cannot_be_encoded_is_dropped_for_each_subscriber_not_fatal(
    client, broker
):
    """Past every checked edge (e.g. a hook), text UTF-8 cannot encode must not disconnect anyone."""
    v5, v3 = client("v5"), client("v3", pk.MQTT_3_1_1)
    v5.subscribe("t")
    v3.subscribe("t")
    props = {"user_property": [("k", "\ud800")]}
    broker.publish(Message("t", b"x", 0, False, props, "hook", None, 0.0))
    broker.publish(Message("t", b"y", 0, False, None, "hook", None, 0.0))
    assert [m.payload for m in v5.publishes()] == [b"y"]
    assert [m.payload for m in v3.publishes()] == [b"x", b"y"]  # v3 carries no properties
    assert not v5.closed and not v3.closed
    assert broker.counters["delivery.dropped.bad_text"] == 1
