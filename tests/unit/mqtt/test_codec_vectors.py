"""Byte vectors per packet type and version, written out from the specification.

Each vector is decoded whole, one byte at a time and followed by a trailing
PINGREQ, and the packet re-encodes to the same bytes.
"""

from __future__ import annotations

import pytest

from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode
from brookmq.mqtt.reader import PacketReader

V3, V4, V5 = pk.MQTT_3_1, pk.MQTT_3_1_1, pk.MQTT_5
SO = pk.SubscriptionOptions

VECTORS = [
    ("connect-v311", V4, "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 63", pk.Connect("c", V4, True, 60)),
    ("connect-v31", V3, "10 0F 00 06 4D 51 49 73 64 70 03 02 00 3C 00 01 63", pk.Connect("c", V3, True, 60)),
    (
        "connect-v5-session-expiry",
        V5,
        "10 13 00 04 4D 51 54 54 05 02 00 3C 05 11 00 00 00 0A 00 01 63",
        pk.Connect("c", V5, True, 60, properties={"session_expiry_interval": 10}),
    ),
    (
        "connect-v311-will-user-pass",
        V4,
        "10 19 00 04 4D 51 54 54 04 EE 00 3C 00 01 63 00 01 77 00 01 78 00 01 75 00 01 70",
        pk.Connect("c", V4, True, 60, "u", b"p", pk.Will("w", b"x", 1, True)),
    ),
    (
        "connect-v5-will-delay",
        V5,
        "10 19 00 04 4D 51 54 54 05 04 00 00 00 00 01 63 05 18 00 00 00 05 00 01 77 00 00",
        pk.Connect("c", V5, False, 0, will=pk.Will("w", b"", 0, False, {"will_delay_interval": 5})),
    ),
    ("connack-v311", V4, "20 02 00 00", pk.Connack(False, 0)),
    ("connack-v311-present", V4, "20 02 01 00", pk.Connack(True, 0)),
    ("connack-v5", V5, "20 03 00 00 00", pk.Connack(False, 0)),
    (
        "connack-v5-assigned-id",
        V5,
        "20 07 00 00 04 12 00 01 61",
        pk.Connack(False, 0, {"assigned_client_identifier": "a"}),
    ),
    ("publish-v311-qos0", V4, "30 07 00 03 61 2F 62 68 69", pk.Publish("a/b", b"hi")),
    (
        "publish-v311-qos1-retain-dup",
        V4,
        "3B 09 00 03 61 2F 62 00 0A 68 69",
        pk.Publish("a/b", b"hi", 1, True, True, 10),
    ),
    ("publish-v311-qos2-empty", V4, "34 05 00 01 61 FF FF", pk.Publish("a", b"", 2, packet_id=65535)),
    ("publish-v5-qos0", V5, "30 05 00 01 61 00 70", pk.Publish("a", b"p", properties={})),
    (
        "publish-v5-topic-alias",
        V5,
        "32 09 00 00 00 01 03 23 00 02 70",
        pk.Publish("", b"p", 1, packet_id=1, properties={"topic_alias": 2}),
    ),
    (
        "publish-v5-user-properties-in-order",
        V5,
        "30 13 00 01 61 0E 26 00 01 62 00 01 31 26 00 01 61 00 01 32 70",
        pk.Publish("a", b"p", properties={"user_property": [("b", "1"), ("a", "2")]}),
    ),
    ("puback-v311", V4, "40 02 00 05", pk.Puback(5)),
    ("puback-v5-success-short", V5, "40 02 00 05", pk.Puback(5)),
    ("puback-v5-no-subscribers", V5, "40 03 00 05 10", pk.Puback(5, 0x10)),
    ("pubrec-v311", V4, "50 02 00 05", pk.Pubrec(5)),
    ("pubrel-v311", V4, "62 02 00 05", pk.Pubrel(5)),
    ("pubrel-v5-not-found", V5, "62 03 00 05 92", pk.Pubrel(5, 0x92)),
    ("pubcomp-v311", V4, "70 02 00 05", pk.Pubcomp(5)),
    ("subscribe-v311", V4, "82 08 00 01 00 03 61 2F 23 01", pk.Subscribe(1, [("a/#", SO(1))])),
    (
        "subscribe-v5-options-and-id",
        V5,
        "82 09 00 02 02 0B 05 00 01 61 1E",
        pk.Subscribe(2, [("a", SO(2, True, True, 1))], {"subscription_identifier": [5]}),
    ),
    ("suback-v311", V4, "90 03 00 01 01", pk.Suback(1, [1])),
    ("suback-v5", V5, "90 05 00 02 00 02 80", pk.Suback(2, [2, 0x80])),
    ("unsubscribe-v311", V4, "A2 05 00 03 00 01 61", pk.Unsubscribe(3, ["a"])),
    ("unsubscribe-v5", V5, "A2 06 00 03 00 00 01 61", pk.Unsubscribe(3, ["a"])),
    ("unsuback-v311", V4, "B0 02 00 03", pk.Unsuback(3)),
    ("unsuback-v5", V5, "B0 05 00 03 00 00 11", pk.Unsuback(3, [0, 0x11])),
    ("pingreq", V4, "C0 00", pk.Pingreq()),
    ("pingresp", V5, "D0 00", pk.Pingresp()),
    ("disconnect-v311", V4, "E0 00", pk.Disconnect()),
    ("disconnect-v5-with-will", V5, "E0 01 04", pk.Disconnect(0x04)),
    (
        "disconnect-v5-reason-string",
        V5,
        "E0 06 8E 04 1F 00 01 78",
        pk.Disconnect(0x8E, {"reason_string": "x"}),
    ),
    ("auth-v5", V5, "F0 06 18 04 15 00 01 6D", pk.Auth(0x18, {"authentication_method": "m"})),
]


def _reader(version: int) -> PacketReader:
    reader = PacketReader(version=version)
    reader.awaiting_connect = False
    return reader


@pytest.mark.parametrize(("name", "version", "hexbytes", "packet"), VECTORS, ids=[v[0] for v in VECTORS])
class TestVectors:
    def test_decodes_whole(self, name: str, version: int, hexbytes: str, packet: pk.Packet) -> None:
        reader = _reader(version)
        assert reader.feed(bytes.fromhex(hexbytes)) == [packet]
        assert reader.error is None and reader.buffered == 0

    def test_decodes_byte_by_byte(self, name: str, version: int, hexbytes: str, packet: pk.Packet) -> None:
        reader = _reader(version)
        out: list[pk.Packet] = []
        data = bytes.fromhex(hexbytes)
        for i in range(len(data)):
            out += reader.feed(data[i : i + 1])
            if i < len(data) - 1:
                assert out == []
        assert out == [packet]

    def test_decodes_with_trailing_packet(
        self, name: str, version: int, hexbytes: str, packet: pk.Packet
    ) -> None:
        reader = _reader(version)
        assert reader.feed(bytes.fromhex(hexbytes) + b"\xc0\x00\x30") == [packet, pk.Pingreq()]
        assert reader.buffered == 1  # the start of a third packet waits for its remaining length

    def test_encodes_to_same_bytes(self, name: str, version: int, hexbytes: str, packet: pk.Packet) -> None:
        assert encode(packet, version) == bytes.fromhex(hexbytes)
