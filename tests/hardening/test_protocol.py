"""Protocol strictness: what a malformed-packet corpus sends, and what must happen instead.

Raw bytes on a socket against a real broker process; v5 clients hear DISCONNECT with the reason
code first, then the socket closes; the broker carries on for everyone else.
"""

from __future__ import annotations

import pytest

from brookmq.mqtt import packets as pk
from tests.durability.process import BrokerProcess, Wire


def closed_with(wire: Wire, code: int | None) -> None:
    """The broker sends a DISCONNECT with ``code`` (None: nothing at all, as to v3) and closes."""
    if code is not None:
        packet = wire.recv()
        assert isinstance(packet, pk.Disconnect), packet
        assert packet.reason_code == code
    with pytest.raises(ConnectionError):
        wire.recv(timeout=5)


def still_serves(node: BrokerProcess) -> None:
    probe = Wire(node.port, pk.MQTT_5)
    assert probe.connect("probe").reason_code == 0
    probe.send(pk.Pingreq())
    assert isinstance(probe.recv(), pk.Pingresp)
    probe.close()


def v5(node: BrokerProcess, client_id: str, **kwargs: object) -> Wire:
    wire = Wire(node.port, pk.MQTT_5)
    assert wire.connect(client_id, **kwargs).reason_code == 0
    return wire


@pytest.mark.parametrize(
    ("version", "raw"),
    [
        (pk.MQTT_5, "82 06 00 01 00 00 00 00"),
        (pk.MQTT_3_1_1, "82 05 00 01 00 00 00"),
        (pk.MQTT_5, "A2 05 00 01 00 00 00"),
        (pk.MQTT_3_1_1, "A2 04 00 01 00 00"),
    ],
    ids=["subscribe-v5", "subscribe-v311", "unsubscribe-v5", "unsubscribe-v311"],
)
def test_empty_topic_filter_is_malformed_and_closes_without_ack_MQTT_4_7_3_1(api_node, version, raw):
    wire = Wire(api_node.port, version)
    assert wire.connect(f"empty-{raw[:2]}-{version}").reason_code == 0
    wire.sock.sendall(bytes.fromhex(raw))
    closed_with(wire, 0x81 if version == pk.MQTT_5 else None)
    still_serves(api_node)


def delivered(api_node: BrokerProcess, client_id: str, qos: int) -> tuple[Wire, int]:
    """A v5 subscriber that has one QoS ``qos`` PUBLISH in flight; (wire, its packet id)."""
    sub = v5(api_node, client_id)
    sub.send(pk.Subscribe(1, [(f"{client_id}/t", pk.SubscriptionOptions(qos))]))
    assert isinstance(sub.recv(), pk.Suback)
    pub = v5(api_node, f"{client_id}-pub")
    pub.send(pk.Publish(f"{client_id}/t", b"m", qos, packet_id=7))
    pub.recv()
    pub.close()
    publish = sub.recv()
    assert isinstance(publish, pk.Publish) and publish.qos == qos
    return sub, publish.packet_id


@pytest.mark.parametrize(
    ("qos", "acks", "name"),
    [
        (1, [pk.Pubrec], "pubrec-for-qos1"),
        (1, [pk.Pubcomp], "pubcomp-for-qos1"),
        (2, [pk.Puback], "puback-for-qos2"),
        (2, [pk.Pubcomp], "pubcomp-before-pubrec"),
        (2, [pk.Pubrec, pk.Pubrec], "repeated-pubrec"),
    ],
)
def test_ack_of_the_wrong_type_for_a_message_in_flight_is_a_protocol_error(api_node, qos, acks, name):
    sub, packet_id = delivered(api_node, f"wrong-{name}", qos)
    for i, kind in enumerate(acks):
        sub.send(kind(packet_id))
        if i < len(acks) - 1:
            assert isinstance(sub.recv(), pk.Pubrel)
    closed_with(sub, 0x82)
    still_serves(api_node)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("40 02 00 00", "puback-id-0"),
        ("50 02 00 00", "pubrec-id-0"),
        ("62 02 00 00", "pubrel-id-0"),
        ("70 02 00 00", "pubcomp-id-0"),
        ("40 03 00 09 05", "puback-undefined-code"),
        ("50 03 00 09 11", "pubrec-undefined-code"),
        ("62 03 00 09 10", "pubrel-undefined-code"),
        ("70 03 00 09 80", "pubcomp-undefined-code"),
    ],
)
def test_ack_with_packet_id_0_or_an_undefined_reason_code_is_malformed(api_node, raw, name):
    wire = v5(api_node, f"bad-ack-{name}")
    wire.sock.sendall(bytes.fromhex(raw))
    closed_with(wire, 0x81)


def test_pubrec_with_an_error_code_ends_the_qos2_flow_without_pubrel_MQTT_4_3_3(api_node):
    sub, packet_id = delivered(api_node, "pubrec-error", 2)
    sub.send(pk.Pubrec(packet_id, 0x80))
    sub.send(pk.Pingreq())
    assert isinstance(sub.recv(), pk.Pingresp)  # no PUBREL came before it
    sub.send(pk.Pubcomp(packet_id))  # the id is no longer in flight: ignored, not an error
    sub.send(pk.Pingreq())
    assert isinstance(sub.recv(), pk.Pingresp)
    sub.close()


def test_wildcard_in_a_response_topic_is_refused_MQTT_3_3_2_14(api_node):
    wire = v5(api_node, "response-wildcard")
    wire.send(pk.Publish("req/1", b"q", 0, properties={"response_topic": "resp/+"}))
    closed_with(wire, 0x82)
    will = pk.Will("w/1", b"gone", properties={"response_topic": "resp/#"})
    refused = Wire(api_node.port, pk.MQTT_5)
    assert refused.connect("will-response-wildcard", will=will).reason_code == 0x82


def test_no_packet_exceeds_the_clients_maximum_packet_size_reason_string_dropped_MQTT_3_1_2_24(api_node):
    wire = v5(api_node, "small-packets", properties={"maximum_packet_size": 24})
    wire.sock.sendall(bytes.fromhex("82 06 00 01 00 00 00 00"))  # a malformed SUBSCRIBE
    packet = wire.recv()
    assert isinstance(packet, pk.Disconnect) and packet.reason_code == 0x81
    assert packet.properties == {}  # the reason string would not fit
    roomy = v5(api_node, "roomy-packets", properties={"maximum_packet_size": 1000})
    roomy.sock.sendall(bytes.fromhex("82 06 00 01 00 00 00 00"))
    assert "reason_string" in roomy.recv().properties
