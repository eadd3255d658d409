"""Encode and decode every packet type for MQTT 3.1, 3.1.1 and 5.0.

``decode_packet`` takes one framed packet (fixed header already split off);
``encode`` turns a packet object into bytes for the given protocol version.
Every decode path raises only :class:`ProtocolError` for bad input.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from brookmq.mqtt import properties as P
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.errors import ProtocolError, malformed, protocol_error
from brookmq.mqtt.packets import (
    MQTT_3_1,
    MQTT_5,
    Auth,
    Connack,
    Connect,
    Disconnect,
    Packet,
    Pingreq,
    Pingresp,
    Puback,
    Pubcomp,
    Publish,
    Pubrec,
    Pubrel,
    Suback,
    Subscribe,
    SubscriptionOptions,
    Unsuback,
    Unsubscribe,
    Will,
)
from brookmq.mqtt.primitives import (
    decode_binary,
    decode_string,
    encode_binary,
    encode_string,
    encode_varint,
)
from brookmq.mqtt.properties import decode_properties, encode_properties


class UnsupportedProtocolVersion(ProtocolError):
    """CONNECT named a protocol or level we do not speak [MQTT-3.1.2-2]."""

    def __init__(self, level: int) -> None:
        super().__init__(rc.UNSUPPORTED_PROTOCOL_VERSION, f"unsupported protocol level {level}")
        self.level = level


_SUPPORTED = {("MQTT", 4), ("MQTT", 5), ("MQIsdp", 3)}


# ---------------------------------------------------------------- decoding


def _expect_flags(flags: int, want: int, name: str) -> None:
    if flags != want:
        raise malformed(f"reserved fixed header flags of {name} are {flags:#x}")  # [MQTT-2.1.3-1]


def _packet_id(data: bytes, pos: int, end: int) -> int:
    if pos + 2 > end:
        raise malformed("packet identifier is truncated")
    return (data[pos] << 8) | data[pos + 1]


def _decode_connect(flags: int, d: bytes, pos: int, end: int, version: int) -> Connect:
    _expect_flags(flags, 0, "CONNECT")
    name, pos = decode_string(d, pos, end)
    if pos + 4 > end:
        raise malformed("CONNECT variable header is truncated")
    level = d[pos]
    if (name, level) not in _SUPPORTED:
        raise UnsupportedProtocolVersion(level)
    cflags = d[pos + 1]
    keepalive = (d[pos + 2] << 8) | d[pos + 3]
    pos += 4
    if cflags & 0x01:
        raise malformed("CONNECT reserved flag is set")  # [MQTT-3.1.2-3]
    will_flag = bool(cflags & 0x04)
    will_qos = (cflags >> 3) & 0x03
    will_retain = bool(cflags & 0x20)
    has_password = bool(cflags & 0x40)
    has_username = bool(cflags & 0x80)
    if not will_flag and (will_qos or will_retain):
        raise malformed("will QoS or retain set without the will flag")  # [MQTT-3.1.2-11/13]
    if will_qos == 3:
        raise malformed("will QoS 3")  # [MQTT-3.1.2-12]
    if has_password and not has_username and level < MQTT_5:
        raise malformed("password flag without username flag")  # [MQTT-3.1.2-22]
    props: P.Properties = {}
    if level == MQTT_5:
        props, pos = decode_properties(d, pos, end, P.CONNECT)
    client_id, pos = decode_string(d, pos, end)
    will = None
    if will_flag:
        will_props: P.Properties = {}
        if level == MQTT_5:
            will_props, pos = decode_properties(d, pos, end, P.WILL)
        will_topic, pos = decode_string(d, pos, end)
        will_payload, pos = decode_binary(d, pos, end)
        will = Will(will_topic, will_payload, will_qos, will_retain, will_props)
    username = password = None
    if has_username:
        username, pos = decode_string(d, pos, end)
    if has_password:
        password, pos = decode_binary(d, pos, end)
    if pos != end:
        raise malformed("trailing bytes after CONNECT payload")
    return Connect(client_id, level, bool(cflags & 0x02), keepalive, username, password, will, props)


def _decode_connack(flags: int, d: bytes, pos: int, end: int, version: int) -> Connack:
    _expect_flags(flags, 0, "CONNACK")
    if pos + 2 > end:
        raise malformed("CONNACK is truncated")
    if d[pos] & 0xFE:
        raise malformed("CONNACK acknowledge flags reserved bits set")  # [MQTT-3.2.2-1]
    packet = Connack(bool(d[pos] & 1), d[pos + 1])
    pos += 2
    if version == MQTT_5:
        packet.properties, pos = decode_properties(d, pos, end, P.CONNACK)
    if pos != end:
        raise malformed("trailing bytes after CONNACK")
    return packet


def _decode_publish(flags: int, d: bytes, pos: int, end: int, version: int) -> Publish:
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise malformed("PUBLISH with QoS 3")  # [MQTT-3.3.1-4]
    dup = bool(flags & 0x08)
    if dup and not qos:
        raise malformed("DUP flag set on a QoS 0 PUBLISH")  # [MQTT-3.3.1-2]
    topic, pos = decode_string(d, pos, end)
    packet_id = 0
    if qos:
        packet_id = _packet_id(d, pos, end)
        if not packet_id:
            raise protocol_error("PUBLISH with QoS > 0 and packet identifier 0")  # [MQTT-2.2.1-3]
        pos += 2
    props = None
    if version == MQTT_5:
        props, pos = decode_properties(d, pos, end, P.PUBLISH)
    return Publish(topic, d[pos:end], qos, bool(flags & 0x01), dup, packet_id, props)


def _ack_decoder(cls: type, name: str, want_flags: int, codes: frozenset[int]) -> Callable[..., Any]:
    def decode(flags: int, d: bytes, pos: int, end: int, version: int) -> Any:
        _expect_flags(flags, want_flags, name)
        packet_id = _packet_id(d, pos, end)
        if not packet_id:
            raise malformed(f"{name} with packet identifier 0")  # [MQTT-2.2.1-3]
        pos += 2
        if version < MQTT_5:
            if pos != end:
                raise malformed(f"{name} remaining length is not 2")
            return cls(packet_id)
        code = 0
        props: P.Properties | None = None
        if pos < end:
            code = d[pos]
            if code not in codes:
                raise malformed(f"{name} with reason code {code:#04x}, which it cannot carry")
            pos += 1
            if pos < end:
                props, pos = decode_properties(d, pos, end, name)
        if pos != end:
            raise malformed(f"trailing bytes after {name}")
        return cls(packet_id, code, props or None)

    return decode


def _decode_subscribe(flags: int, d: bytes, pos: int, end: int, version: int) -> Subscribe:
    _expect_flags(flags, 0x02, "SUBSCRIBE")  # [MQTT-3.8.1-1]
    packet_id = _packet_id(d, pos, end)
    if not packet_id:
        raise protocol_error("SUBSCRIBE with packet identifier 0")  # [MQTT-2.2.1-3]
    pos += 2
    props: P.Properties = {}
    if version == MQTT_5:
        props, pos = decode_properties(d, pos, end, P.SUBSCRIBE)
        if len(props.get("subscription_identifier", ())) > 1:
            raise protocol_error("SUBSCRIBE with more than one subscription identifier")
    topics = []
    while pos < end:
        topic, pos = decode_string(d, pos, end)
        if not topic:
            raise malformed("SUBSCRIBE with an empty topic filter")  # [MQTT-4.7.3-1]
        if pos >= end:
            raise malformed("SUBSCRIBE options byte missing")
        opts = d[pos]
        pos += 1
        if version == MQTT_5:
            if opts & 0xC0:
                raise malformed("SUBSCRIBE options reserved bits set")  # [MQTT-3.8.3-5]
            if (opts >> 4) & 0x03 == 3:
                raise protocol_error("retain handling 3")
        elif opts & 0xFC:
            raise malformed("SUBSCRIBE requested QoS reserved bits set")  # [MQTT-3-8.3-4]
        if opts & 0x03 == 3:
            raise malformed("SUBSCRIBE requested QoS 3")  # [MQTT-3-8.3-4]
        if version == MQTT_5:
            options = SubscriptionOptions(
                opts & 0x03, bool(opts & 0x04), bool(opts & 0x08), (opts >> 4) & 0x03
            )
        else:
            options = SubscriptionOptions(opts & 0x03)
        topics.append((topic, options))
    if not topics:
        raise protocol_error("SUBSCRIBE without a topic filter")  # [MQTT-3.8.3-3]
    return Subscribe(packet_id, topics, props)


def _decode_suback(flags: int, d: bytes, pos: int, end: int, version: int) -> Suback:
    _expect_flags(flags, 0, "SUBACK")
    packet_id = _packet_id(d, pos, end)
    pos += 2
    props: P.Properties = {}
    if version == MQTT_5:
        props, pos = decode_properties(d, pos, end, P.SUBACK)
    return Suback(packet_id, list(d[pos:end]), props)


def _decode_unsubscribe(flags: int, d: bytes, pos: int, end: int, version: int) -> Unsubscribe:
    _expect_flags(flags, 0x02, "UNSUBSCRIBE")  # [MQTT-3.10.1-1]
    packet_id = _packet_id(d, pos, end)
    if not packet_id:
        raise protocol_error("UNSUBSCRIBE with packet identifier 0")  # [MQTT-2.2.1-3]
    pos += 2
    props: P.Properties = {}
    if version == MQTT_5:
        props, pos = decode_properties(d, pos, end, P.UNSUBSCRIBE)
    topics = []
    while pos < end:
        topic, pos = decode_string(d, pos, end)
        if not topic:
            raise malformed("UNSUBSCRIBE with an empty topic filter")  # [MQTT-4.7.3-1]
        topics.append(topic)
    if not topics:
        raise protocol_error("UNSUBSCRIBE without a topic filter")  # [MQTT-3.10.3-2]
    return Unsubscribe(packet_id, topics, props)


def _decode_unsuback(flags: int, d: bytes, pos: int, end: int, version: int) -> Unsuback:
    _expect_flags(flags, 0, "UNSUBACK")
    packet_id = _packet_id(d, pos, end)
    pos += 2
    if version < MQTT_5:
        if pos != end:
            raise malformed("UNSUBACK remaining length is not 2")
        return Unsuback(packet_id)
    props, pos = decode_properties(d, pos, end, P.UNSUBACK)
    return Unsuback(packet_id, list(d[pos:end]), props)


def _empty_decoder(cls: type, name: str) -> Callable[..., Any]:
    def decode(flags: int, d: bytes, pos: int, end: int, version: int) -> Any:
        _expect_flags(flags, 0, name)
        if pos != end:
            raise malformed(f"{name} has a non-zero remaining length")
        return cls()

    return decode


def _reason_decoder(cls: type, name: str) -> Callable[..., Any]:
    """DISCONNECT and AUTH: empty in v3 (AUTH does not exist there), reason + properties in v5."""

    def decode(flags: int, d: bytes, pos: int, end: int, version: int) -> Any:
        _expect_flags(flags, 0, name)
        if version < MQTT_5:
            if cls is Auth:
                raise malformed("AUTH is a reserved packet type before MQTT 5")
            if pos != end:
                raise malformed(f"{name} has a non-zero remaining length")
            return cls()
        if pos == end:
            return cls()
        code = d[pos]
        props: P.Properties = {}
        if pos + 1 < end:
            props, pos = decode_properties(d, pos + 1, end, name)
        else:
            pos += 1
        if pos != end:
            raise malformed(f"trailing bytes after {name}")
        return cls(code, props)

    return decode


def _reserved(flags: int, d: bytes, pos: int, end: int, version: int) -> Packet:
    raise malformed("reserved packet type 0")


DECODERS: tuple[Callable[..., Any], ...] = (
    _reserved,
    _decode_connect,
    _decode_connack,
    _decode_publish,
    _ack_decoder(Puback, P.PUBACK, 0, rc.PUBLISH_ACK_CODES),
    _ack_decoder(Pubrec, P.PUBREC, 0, rc.PUBLISH_ACK_CODES),
    _ack_decoder(Pubrel, P.PUBREL, 0x02, rc.RELEASE_CODES),  # [MQTT-3.6.1-1]
    _ack_decoder(Pubcomp, P.PUBCOMP, 0, rc.RELEASE_CODES),
    _decode_subscribe,
    _decode_suback,
    _decode_unsubscribe,
    _decode_unsuback,
    _empty_decoder(Pingreq, "PINGREQ"),
    _empty_decoder(Pingresp, "PINGRESP"),
    _reason_decoder(Disconnect, P.DISCONNECT),
    _reason_decoder(Auth, P.AUTH),
)


def decode_packet(first_byte: int, data: bytes, pos: int, end: int, version: int) -> Packet:
    """Decode the body ``data[pos:end]`` of a packet whose fixed header byte is ``first_byte``."""
    decoder: Callable[..., Packet] = DECODERS[first_byte >> 4]
    return decoder(first_byte & 0x0F, data, pos, end, version)


# ---------------------------------------------------------------- encoding


def _frame(first_byte: int, body: bytes) -> bytes:
    return bytes((first_byte,)) + encode_varint(len(body)) + body


def _encode_connect(p: Connect, version: int) -> bytes:
    level = p.protocol_level
    flags = 0x02 if p.clean_start else 0
    if p.will is not None:
        flags |= 0x04 | (p.will.qos << 3) | (0x20 if p.will.retain else 0)
    if p.password is not None:
        flags |= 0x40
    if p.username is not None:
        flags |= 0x80
    body = bytearray(encode_string(p.protocol_name))
    body += bytes((level, flags)) + p.keepalive.to_bytes(2, "big")
    if level == MQTT_5:
        body += encode_properties(p.properties)
    body += encode_string(p.client_id)
    if p.will is not None:
        if level == MQTT_5:
            body += encode_properties(p.will.properties)
        body += encode_string(p.will.topic) + encode_binary(p.will.payload)
    if p.username is not None:
        body += encode_string(p.username)
    if p.password is not None:
        body += encode_binary(p.password)
    return _frame(0x10, bytes(body))


def _encode_connack(p: Connack, version: int) -> bytes:
    body = bytes((1 if p.session_present else 0, p.reason_code))
    if version == MQTT_5:
        body += encode_properties(p.properties)
    return _frame(0x20, body)


def encode_publish(
    topic: str,
    payload: bytes,
    qos: int,
    retain: bool,
    dup: bool,
    packet_id: int,
    properties: P.Properties | None,
    version: int,
) -> bytes:
    """A PUBLISH from its fields, so the core need not build a packet object to send one."""
    topic_bytes = topic.encode("utf-8")
    head = len(topic_bytes).to_bytes(2, "big") + topic_bytes
    if qos:
        head += packet_id.to_bytes(2, "big")
    if version == MQTT_5:
        head += encode_properties(properties)
    first = 0x30 | (0x08 if dup else 0) | (qos << 1) | (1 if retain else 0)
    return bytes((first,)) + encode_varint(len(head) + len(payload)) + head + payload


def packet_id_offset(publish: bytes) -> int:
    """Where the packet identifier of an encoded QoS > 0 PUBLISH starts."""
    pos = 1
    while publish[pos] & 0x80:
        pos += 1
    pos += 1
    return pos + 2 + ((publish[pos] << 8) | publish[pos + 1])


def _encode_publish(p: Publish, version: int) -> bytes:
    return encode_publish(p.topic, p.payload, p.qos, p.retain, p.dup, p.packet_id, p.properties, version)


def _ack_encoder(first_byte: int) -> Callable[[Any, int], bytes]:
    def encode(p: Any, version: int) -> bytes:
        body = p.packet_id.to_bytes(2, "big")
        if version == MQTT_5 and (p.reason_code or p.properties):
            body += bytes((p.reason_code,))
            if p.properties:
                body += encode_properties(p.properties)
        return _frame(first_byte, body)

    return encode


def _encode_subscribe(p: Subscribe, version: int) -> bytes:
    body = bytearray(p.packet_id.to_bytes(2, "big"))
    if version == MQTT_5:
        body += encode_properties(p.properties)
    for topic, o in p.topics:
        opts = o.qos
        if version == MQTT_5:
            opts |= (4 if o.no_local else 0) | (8 if o.retain_as_published else 0) | (o.retain_handling << 4)
        body += encode_string(topic) + bytes((opts,))
    return _frame(0x82, bytes(body))


def _encode_suback(p: Suback, version: int) -> bytes:
    body = p.packet_id.to_bytes(2, "big")
    if version == MQTT_5:
        body += encode_properties(p.properties)
    return _frame(0x90, body + bytes(p.reason_codes))


def _encode_unsubscribe(p: Unsubscribe, version: int) -> bytes:
    body = bytearray(p.packet_id.to_bytes(2, "big"))
    if version == MQTT_5:
        body += encode_properties(p.properties)
    for topic in p.topics:
        body += encode_string(topic)
    return _frame(0xA2, bytes(body))


def _encode_unsuback(p: Unsuback, version: int) -> bytes:
    body = p.packet_id.to_bytes(2, "big")
    if version == MQTT_5:
        body += encode_properties(p.properties) + bytes(p.reason_codes)
    return _frame(0xB0, body)


def _reason_encoder(first_byte: int) -> Callable[[Any, int], bytes]:
    def encode(p: Any, version: int) -> bytes:
        if version < MQTT_5 or (not p.reason_code and not p.properties):
            return bytes((first_byte, 0))
        body = bytes((p.reason_code,))
        if p.properties:
            body += encode_properties(p.properties)
        return _frame(first_byte, body)

    return encode


ENCODERS: dict[type, Callable[[Any, int], bytes]] = {
    Connect: _encode_connect,
    Connack: _encode_connack,
    Publish: _encode_publish,
    Puback: _ack_encoder(0x40),
    Pubrec: _ack_encoder(0x50),
    Pubrel: _ack_encoder(0x62),
    Pubcomp: _ack_encoder(0x70),
    Subscribe: _encode_subscribe,
    Suback: _encode_suback,
    Unsubscribe: _encode_unsubscribe,
    Unsuback: _encode_unsuback,
    Pingreq: lambda p, v: b"\xc0\x00",
    Pingresp: lambda p, v: b"\xd0\x00",
    Disconnect: _reason_encoder(0xE0),
    Auth: _reason_encoder(0xF0),
}


def encode(packet: Packet, version: int) -> bytes:
    """Encode ``packet`` for a peer speaking protocol ``version`` (3, 4 or 5)."""
    return ENCODERS[type(packet)](packet, version)


__all__ = [
    "MQTT_3_1",
    "UnsupportedProtocolVersion",
    "decode_packet",
    "encode",
    "encode_publish",
    "packet_id_offset",
]
