"""Malformed input: each vector closes with the right reason code, and only ProtocolError."""

from __future__ import annotations

import pytest

from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import UnsupportedProtocolVersion
from brookmq.mqtt.reader import PacketReader

V3, V4, V5 = pk.MQTT_3_1, pk.MQTT_3_1_1, pk.MQTT_5
MALFORMED, PROTOCOL_ERROR, UNSUPPORTED = 0x81, 0x82, 0x84

ERRORS = [
    # [MQTT-3.1.2-3] reserved CONNECT flag
    ("connect-reserved-flag", V4, "10 0D 00 04 4D 51 54 54 04 03 00 3C 00 01 63", MALFORMED),
    # [MQTT-3.1.2-12] will QoS 3
    ("connect-will-qos3", V4, "10 0D 00 04 4D 51 54 54 04 1E 00 3C 00 01 63", MALFORMED),
    # [MQTT-3.1.2-11] will QoS without the will flag
    ("connect-will-qos-no-flag", V4, "10 0D 00 04 4D 51 54 54 04 0A 00 3C 00 01 63", MALFORMED),
    # [MQTT-3.1.2-22] password without username (3.1.1)
    ("connect-password-no-username", V4, "10 10 00 04 4D 51 54 54 04 42 00 3C 00 01 63 00 01 70", MALFORMED),
    ("connect-level-6", V4, "10 0D 00 04 4D 51 54 54 06 02 00 3C 00 01 63", UNSUPPORTED),
    ("connect-unknown-protocol-name", V4, "10 0D 00 04 4D 51 54 58 04 02 00 3C 00 01 63", UNSUPPORTED),
    ("connect-trailing-bytes", V4, "10 0E 00 04 4D 51 54 54 04 02 00 3C 00 01 63 00", MALFORMED),
    (
        "connect-v5-receive-maximum-0",
        V5,
        "10 10 00 04 4D 51 54 54 05 02 00 3C 03 21 00 00 00 00",
        PROTOCOL_ERROR,
    ),
    (
        "connect-v5-will-props-in-connect",
        V5,
        "10 10 00 04 4D 51 54 54 05 02 00 3C 03 23 00 01 00 00",
        MALFORMED,
    ),
    # [MQTT-3.3.1-4] QoS 3
    ("publish-qos3", V4, "36 07 00 03 61 2F 62 00 01", MALFORMED),
    # [MQTT-3.3.1-2] DUP on QoS 0
    ("publish-dup-qos0", V4, "38 05 00 03 61 2F 62", MALFORMED),
    # [MQTT-2.2.1-3] packet id 0
    ("publish-qos1-packet-id-0", V4, "32 07 00 03 61 2F 62 00 00", PROTOCOL_ERROR),
    # [MQTT-1.5.4-1] ill-formed UTF-8, surrogates; [MQTT-1.5.4-2] U+0000
    ("publish-topic-bad-utf8", V4, "30 04 00 02 C3 28", MALFORMED),
    ("publish-topic-surrogate", V4, "30 05 00 03 ED A0 80", MALFORMED),
    ("publish-topic-nul", V4, "30 03 00 01 00", MALFORMED),
    ("publish-string-past-end", V4, "30 03 00 05 61", MALFORMED),
    ("publish-qos1-truncated-packet-id", V4, "32 04 00 01 61 00", MALFORMED),
    ("publish-v5-unknown-property", V5, "30 06 00 01 61 02 7F 00", MALFORMED),
    ("publish-v5-property-not-allowed", V5, "30 09 00 01 61 05 11 00 00 00 01", MALFORMED),
    ("publish-v5-duplicate-property", V5, "30 08 00 01 61 04 01 00 01 00", PROTOCOL_ERROR),
    ("publish-v5-property-length-overrun", V5, "30 05 00 01 61 09 01", MALFORMED),
    ("publish-v5-payload-format-2", V5, "30 06 00 01 61 02 01 02", PROTOCOL_ERROR),
    ("publish-v5-truncated-property", V5, "30 06 00 01 61 02 02 00", MALFORMED),
    # [MQTT-3.6.1-1] PUBREL flags must be 0010
    ("pubrel-flags-0", V4, "60 02 00 01", MALFORMED),
    ("puback-flags-1", V4, "41 02 00 01", MALFORMED),
    ("puback-v311-long", V4, "40 03 00 01 00", MALFORMED),
    ("puback-truncated", V4, "40 01 00", MALFORMED),
    # [MQTT-3.8.1-1] SUBSCRIBE flags must be 0010
    ("subscribe-flags-0", V4, "80 06 00 01 00 01 61 00", MALFORMED),
    # [MQTT-3.8.3-3] no topic filter
    ("subscribe-empty", V4, "82 02 00 01", PROTOCOL_ERROR),
    ("subscribe-packet-id-0", V4, "82 06 00 00 00 01 61 00", PROTOCOL_ERROR),
    ("subscribe-qos3", V4, "82 06 00 01 00 01 61 03", MALFORMED),
    # [MQTT-3-8.3-4] reserved bits in 3.1.1 options
    ("subscribe-v311-reserved-bits", V4, "82 06 00 01 00 01 61 04", MALFORMED),
    # [MQTT-3.8.3-5] reserved bits in v5 options
    ("subscribe-v5-reserved-bits", V5, "82 07 00 01 00 00 01 61 C0", MALFORMED),
    ("subscribe-v5-retain-handling-3", V5, "82 07 00 01 00 00 01 61 30", PROTOCOL_ERROR),
    ("subscribe-truncated-options", V4, "82 05 00 01 00 01 61", MALFORMED),
    ("subscribe-v5-subscription-id-0", V5, "82 09 00 01 02 0B 00 00 01 61 00", PROTOCOL_ERROR),
    # [MQTT-3.10.3-2] no topic filter
    ("unsubscribe-empty", V4, "A2 02 00 01", PROTOCOL_ERROR),
    ("unsubscribe-flags-0", V4, "A0 05 00 01 00 01 61", MALFORMED),
    ("pingreq-with-body", V4, "C0 01 00", MALFORMED),
    ("disconnect-v311-with-body", V4, "E0 01 00", MALFORMED),
    ("disconnect-v5-trailing", V5, "E0 03 00 00 00", MALFORMED),
    ("auth-in-v311", V4, "F0 00", MALFORMED),
    ("reserved-type-0", V4, "00 00", MALFORMED),
    ("remaining-length-5-bytes", V4, "30 FF FF FF FF 01", MALFORMED),
    ("remaining-length-all-continuation", V4, "30 80 80 80 80", MALFORMED),
    ("remaining-length-not-minimal", V4, "C0 80 00", MALFORMED),
    # reliability 1.3: zero remaining length where a body is required
    ("publish-zero-remaining-length", V4, "30 00", MALFORMED),
    ("subscribe-zero-remaining-length", V4, "82 00", MALFORMED),
    ("puback-zero-remaining-length", V4, "40 00", MALFORMED),
    ("connect-zero-remaining-length", V4, "10 00", MALFORMED),
    # reliability 1.7: U+0000 and ill-formed UTF-8 in client id, username, will topic
    ("connect-client-id-nul", V4, "10 0D 00 04 4D 51 54 54 04 02 00 3C 00 01 00", MALFORMED),
    ("connect-username-bad-utf8", V4, "10 10 00 04 4D 51 54 54 04 82 00 3C 00 01 63 00 01 FF", MALFORMED),
    (
        "connect-will-topic-surrogate",
        V4,
        "10 14 00 04 4D 51 54 54 04 06 00 3C 00 01 63 00 03 ED B0 80 00 00",
        MALFORMED,
    ),
    # reliability 1.9: an invalid property inside the will
    (
        "connect-v5-topic-alias-in-will",
        V5,
        "10 17 00 04 4D 51 54 54 05 06 00 3C 00 00 01 63 03 23 00 01 00 01 77 00 00",
        MALFORMED,
    ),
    ("v5-varint-property-5-bytes", V5, "30 0A 00 01 61 06 0B FF FF FF FF 01", MALFORMED),
]


@pytest.mark.parametrize(("name", "version", "hexbytes", "code"), ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_is_a_protocol_error_with_the_right_code(
    name: str, version: int, hexbytes: str, code: int
) -> None:
    reader = PacketReader(version=version)
    reader.awaiting_connect = False
    assert reader.feed(bytes.fromhex(hexbytes)) == []
    assert reader.error is not None, "accepted bad input"
    assert reader.error.reason_code == code, reader.error.message
    assert reader.feed(b"\xc0\x00") == [], "a reader that failed must stay failed"


def test_packets_before_a_fault_are_still_returned() -> None:
    reader = PacketReader(version=V4)
    reader.awaiting_connect = False
    assert reader.feed(bytes.fromhex("C0 00 C0 00 00 00")) == [pk.Pingreq(), pk.Pingreq()]
    assert reader.error is not None and reader.error.reason_code == MALFORMED


def test_unsupported_level_is_reported_with_the_level_for_the_connack() -> None:
    reader = PacketReader()
    reader.feed(bytes.fromhex("10 0D 00 04 4D 51 54 54 07 02 00 3C 00 01 63"))
    assert isinstance(reader.error, UnsupportedProtocolVersion) and reader.error.level == 7


@pytest.mark.parametrize("first", [0x20, 0x30, 0x82, 0xC0, 0xE0, 0x90])
def test_first_packet_other_than_connect_is_refused_from_its_fixed_header(first: int) -> None:
    # [MQTT-3.1.0-1]: refused before any of a (huge) body is buffered
    reader = PacketReader()
    assert reader.feed(bytes((first, 0xFF, 0xFF, 0xFF, 0x7F))) == []
    assert reader.error is not None and reader.error.reason_code == PROTOCOL_ERROR
    assert reader.buffered == 0


def test_oversized_packet_is_refused_from_its_fixed_header_before_the_body() -> None:
    reader = PacketReader(max_packet_size=100)
    reader.awaiting_connect = False
    assert reader.feed(bytes.fromhex("30 E8 07")) == []  # declares 1000 bytes, sends none
    assert reader.error is not None and reader.error.reason_code == 0x95
    assert reader.buffered == 0


def test_packet_exactly_at_the_maximum_size_is_accepted() -> None:
    reader = PacketReader(max_packet_size=9)
    reader.awaiting_connect = False
    assert reader.feed(bytes.fromhex("30 07 00 03 61 2F 62 68 69")) == [pk.Publish("a/b", b"hi")]
    assert reader.error is None


def test_fifty_thousand_user_properties_parse() -> None:
    # reliability 1.9: must parse (linearly); the benchmark, not this test, owns timing
    prop = bytes.fromhex("26 00 01 6B 00 01 76")
    props = prop * 50_000
    from brookmq.mqtt.primitives import encode_varint

    body = bytes.fromhex("00 01 61") + encode_varint(len(props)) + props
    data = b"\x30" + encode_varint(len(body)) + body
    reader = PacketReader(version=V5)
    reader.awaiting_connect = False
    [packet] = reader.feed(data)
    assert isinstance(packet, pk.Publish)
    assert packet.properties is not None and len(packet.properties["user_property"]) == 50_000
