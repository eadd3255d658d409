"""MQTT 5 properties (section 2.2.2): the table of every property and its codec.

Properties travel as a plain ``dict`` keyed by the property's snake_case name.
``user_property`` is a list of ``(name, value)`` pairs in wire order and
``subscription_identifier`` a list of ints; every other value is scalar.
"""

from __future__ import annotations

from typing import Any

from brookmq.mqtt.errors import malformed, protocol_error
from brookmq.mqtt.primitives import (
    decode_binary,
    decode_string,
    decode_varint,
    encode_binary,
    encode_string,
    encode_varint,
)

Properties = dict[str, Any]

BYTE, TWO, FOUR, VARINT, UTF8, BINARY, PAIR = range(7)

# Packet kinds a property may appear in. WILL is the will properties block of CONNECT.
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = (
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
)
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, DISCONNECT, AUTH, WILL = (
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "DISCONNECT",
    "AUTH",
    "WILL",
)
_ACKS = (PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK)
_ALL = (CONNECT, CONNACK, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, AUTH, WILL, *_ACKS)

# id: (name, type, packets it may appear in)  -- MQTT 5.0 table 2-4
PROPERTIES: dict[int, tuple[str, int, tuple[str, ...]]] = {
    0x01: ("payload_format_indicator", BYTE, (PUBLISH, WILL)),
    0x02: ("message_expiry_interval", FOUR, (PUBLISH, WILL)),
    0x03: ("content_type", UTF8, (PUBLISH, WILL)),
    0x08: ("response_topic", UTF8, (PUBLISH, WILL)),
    0x09: ("correlation_data", BINARY, (PUBLISH, WILL)),
    0x0B: ("subscription_identifier", VARINT, (PUBLISH, SUBSCRIBE)),
    0x11: ("session_expiry_interval", FOUR, (CONNECT, CONNACK, DISCONNECT)),
    0x12: ("assigned_client_identifier", UTF8, (CONNACK,)),
    0x13: ("server_keep_alive", TWO, (CONNACK,)),
    0x15: ("authentication_method", UTF8, (CONNECT, CONNACK, AUTH)),
    0x16: ("authentication_data", BINARY, (CONNECT, CONNACK, AUTH)),
    0x17: ("request_problem_information", BYTE, (CONNECT,)),
    0x18: ("will_delay_interval", FOUR, (WILL,)),
    0x19: ("request_response_information", BYTE, (CONNECT,)),
    0x1A: ("response_information", UTF8, (CONNACK,)),
    0x1C: ("server_reference", UTF8, (CONNACK, DISCONNECT)),
    0x1F: ("reason_string", UTF8, (CONNACK, DISCONNECT, AUTH, *_ACKS)),
    0x21: ("receive_maximum", TWO, (CONNECT, CONNACK)),
    0x22: ("topic_alias_maximum", TWO, (CONNECT, CONNACK)),
    0x23: ("topic_alias", TWO, (PUBLISH,)),
    0x24: ("maximum_qos", BYTE, (CONNACK,)),
    0x25: ("retain_available", BYTE, (CONNACK,)),
    0x26: ("user_property", PAIR, _ALL),
    0x27: ("maximum_packet_size", FOUR, (CONNECT, CONNACK)),
    0x28: ("wildcard_subscription_available", BYTE, (CONNACK,)),
    0x29: ("subscription_identifier_available", BYTE, (CONNACK,)),
    0x2A: ("shared_subscription_available", BYTE, (CONNACK,)),
}
BY_NAME: dict[str, tuple[int, int]] = {name: (pid, kind) for pid, (name, kind, _) in PROPERTIES.items()}
REPEATABLE = frozenset({"user_property", "subscription_identifier"})
# Byte properties whose only legal values are 0 and 1.
_BOOLEAN_BYTES = frozenset(
    {
        "payload_format_indicator",
        "request_problem_information",
        "request_response_information",
        "maximum_qos",
        "retain_available",
        "wildcard_subscription_available",
        "subscription_identifier_available",
        "shared_subscription_available",
    }
)
# Properties for which the value 0 is a protocol error.
_NON_ZERO = frozenset({"receive_maximum", "maximum_packet_size", "subscription_identifier"})


def decode_properties(data: bytes, pos: int, end: int, packet: str) -> tuple[Properties, int]:
    """Decode the property block at ``pos``; returns the properties and the position after it."""
    length, pos = decode_varint(data, pos, end)
    stop = pos + length
    if stop > end:
        raise malformed("property length exceeds the packet")
    props: Properties = {}
    while pos < stop:
        pid = data[pos]
        pos += 1
        spec = PROPERTIES.get(pid)
        if spec is None:
            raise malformed(f"unknown property id 0x{pid:02x}")
        name, kind, allowed = spec
        if packet not in allowed:
            raise malformed(f"property {name} is not allowed in {packet}")
        value: Any
        if kind == BYTE:
            if pos >= stop:
                raise malformed(f"property {name} is truncated")
            value = data[pos]
            pos += 1
        elif kind == TWO:
            if pos + 2 > stop:
                raise malformed(f"property {name} is truncated")
            value = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        elif kind == FOUR:
            if pos + 4 > stop:
                raise malformed(f"property {name} is truncated")
            value = int.from_bytes(data[pos : pos + 4], "big")
            pos += 4
        elif kind == VARINT:
            value, pos = decode_varint(data, pos, stop)
        elif kind == UTF8:
            value, pos = decode_string(data, pos, stop)
        elif kind == BINARY:
            value, pos = decode_binary(data, pos, stop)
        else:
            key, pos = decode_string(data, pos, stop)
            val, pos = decode_string(data, pos, stop)
            value = (key, val)
        if name in REPEATABLE:
            props.setdefault(name, []).append(value)
            if name == "subscription_identifier" and value == 0:
                raise protocol_error("subscription identifier 0")  # [MQTT-3.3.4-?] value 1..268435455
            continue
        if name in props:
            raise protocol_error(f"property {name} appears twice")  # table 2-4 / [MQTT-2.2.2-?]
        if name in _BOOLEAN_BYTES and value > 1:
            raise protocol_error(f"property {name} must be 0 or 1")
        if name in _NON_ZERO and value == 0:
            raise protocol_error(f"property {name} must not be 0")
        props[name] = value
    return props, stop


def encode_properties(props: Properties | None) -> bytes:
    """Encode a property block (length prefix included); ``None`` or ``{}`` is one zero byte."""
    if not props:
        return b"\x00"
    out = bytearray()
    for name, value in props.items():
        pid, kind = BY_NAME[name]
        if name in REPEATABLE:
            for item in value:
                out.append(pid)
                _encode_value(out, kind, item)
        else:
            out.append(pid)
            _encode_value(out, kind, value)
    return encode_varint(len(out)) + bytes(out)


def _encode_value(out: bytearray, kind: int, value: Any) -> None:
    if kind == BYTE:
        out.append(value)
    elif kind == TWO:
        out += value.to_bytes(2, "big")
    elif kind == FOUR:
        out += value.to_bytes(4, "big")
    elif kind == VARINT:
        out += encode_varint(value)
    elif kind == UTF8:
        out += encode_string(value)
    elif kind == BINARY:
        out += encode_binary(value)
    else:
        out += encode_string(value[0])
        out += encode_string(value[1])
