"""PUBLISH from a client and the QoS 1/2 acknowledgements in both directions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brookmq.core.hooks import Hooks
from brookmq.core.message import Message
from brookmq.core.metrics import QOS_RECEIVED
from brookmq.mqtt import packets as pk
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.errors import ProtocolError, protocol_error
from brookmq.mqtt.topics import has_wildcard, is_sys, topic_name_problem

if TYPE_CHECKING:
    from brookmq.core.connection import Connection


def handle_publish(conn: Connection, packet: pk.Publish) -> None:
    broker = conn.broker
    store = broker.store
    mark = store.writes if store is not None else 0  # changes recorded before this message
    opts = conn.options
    counters = broker.counters
    conn.recv_msg += 1
    counters["packets.publish.received"] += 1
    qos = packet.qos
    topic = packet.topic
    props = packet.properties
    if props:
        props = _inbound_properties(conn, packet, props)
        if "topic_alias" in props:
            assert conn.aliases_in is not None
            topic = conn.aliases_in[props.pop("topic_alias")]
        props = props or None
    if not topic or "+" in topic or "#" in topic or topic.count("/") >= opts.max_topic_levels:
        counters["packets.publish.error"] += 1
        raise ProtocolError(rc.TOPIC_NAME_INVALID, topic_name_problem(topic, opts.max_topic_levels) or "")
    if qos > opts.max_qos_allowed:
        raise ProtocolError(rc.QOS_NOT_SUPPORTED, f"QoS {qos} is above the maximum")  # [MQTT-3.2.2-11]
    if packet.retain and not opts.retain_available:
        raise ProtocolError(rc.RETAIN_NOT_SUPPORTED, "retain is not available")  # [MQTT-3.2.2-14]
    counters["messages.received"] += 1
    counters[QOS_RECEIVED[qos]] += 1
    name = topic  # as the client sees it: what authorization judges
    if conn.mountpoint:
        topic = conn.mountpoint + topic

    packet_id = packet.packet_id
    session = conn.session
    assert session is not None
    if qos == 2:
        if packet_id in session.awaiting_rel:
            # Already received and routed: acknowledge again, never deliver twice [MQTT-4.3.3-9].
            counters["packets.publish.inuse"] += 1
            code = rc.SUCCESS if packet.dup else rc.PACKET_IDENTIFIER_IN_USE
            conn.ack(pk.Pubrec(packet_id, code), mark)
            return
        _expire_awaiting_rel(conn)
        if len(session.awaiting_rel) >= opts.max_awaiting_rel:
            if conn.version == pk.MQTT_5:
                raise ProtocolError(rc.RECEIVE_MAXIMUM_EXCEEDED, "too many QoS 2 messages awaiting PUBREL")
            counters["messages.dropped"] += 1
            counters["packets.publish.dropped"] += 1
            conn.ack(pk.Pubrec(packet_id), mark)
            return

    if (broker.on_authorize and not broker.authorize(conn, "publish", name, qos, packet.retain)) or (
        name[0] == "$" and is_sys(name) and not conn.is_superuser
    ):  # $SYS/ is the broker's alone, whatever the rules say
        counters["packets.publish.auth_error"] += 1
        if broker.deny_disconnects:
            raise ProtocolError(rc.NOT_AUTHORIZED, f"not authorized to publish to {name}")
        if qos:
            # v3 has no way to say no: the message is acknowledged and dropped.
            code = rc.NOT_AUTHORIZED if conn.version == pk.MQTT_5 else rc.SUCCESS
            conn.ack(pk.Puback(packet_id, code) if qos == 1 else pk.Pubrec(packet_id, code), mark)
        return

    now = broker.clock.time()
    message = Message(topic, packet.payload, qos, packet.retain, props, conn.client_id, conn.username, now)
    if packet.raw and not conn.mountpoint:
        # An MQTT 3.x subscriber at this QoS gets exactly these bytes (packet id patched in).
        message.wire_key = qos * 2 + packet.retain
        message.wire_bytes = packet.raw
    delivered = broker.publish(message)
    # The acknowledgement waits for the store when this message changed what it keeps.
    if qos == 1:
        if delivered or conn.version != pk.MQTT_5:
            counters["packets.puback.sent"] += 1
            conn.ack(b"\x40\x02" + packet_id.to_bytes(2, "big"), mark)
        else:
            conn.ack(pk.Puback(packet_id, rc.NO_MATCHING_SUBSCRIBERS), mark)
    elif qos == 2:
        session.awaiting_rel[packet_id] = now
        if session.store is not None:
            session.store.save_awaiting_rel(session, packet_id, now)  # one transaction with the message
        code = rc.NO_MATCHING_SUBSCRIBERS if not delivered and conn.version == pk.MQTT_5 else rc.SUCCESS
        conn.ack(pk.Pubrec(packet_id, code), mark)


def _inbound_properties(conn: Connection, packet: pk.Publish, props: dict) -> dict:
    """Resolve the topic alias [MQTT-3.3.2-7..12]; refuse a subscription identifier [MQTT-3.3.4-6]
    and a wildcard in the response topic."""
    if "subscription_identifier" in props:
        raise protocol_error("a client PUBLISH must not carry a subscription identifier")
    if has_wildcard(props.get("response_topic", "")):
        raise protocol_error("response topic contains a wildcard")  # [MQTT-3.3.2-14]
    alias = props.get("topic_alias")
    if alias is None:
        return props
    if not 0 < alias <= conn.options.max_topic_alias:
        raise ProtocolError(rc.TOPIC_ALIAS_INVALID, f"topic alias {alias} is out of range")
    if conn.aliases_in is None:
        conn.aliases_in = {}
    if packet.topic:
        conn.aliases_in[alias] = packet.topic
    elif alias not in conn.aliases_in:
        raise protocol_error(f"topic alias {alias} used before it was set")
    return dict(props)


def _expire_awaiting_rel(conn: Connection) -> None:
    """Forget inbound QoS 2 ids whose PUBREL did not come within ``await_rel_timeout``."""
    broker = conn.broker
    session = conn.session
    assert session is not None
    awaiting = session.awaiting_rel
    if not awaiting:
        return
    deadline = broker.clock.time() - conn.options.await_rel_timeout
    for packet_id, received in list(awaiting.items()):
        if received > deadline:
            break
        del awaiting[packet_id]
        if session.store is not None:
            session.store.delete_awaiting_rel(session, packet_id)
        broker.counters["messages.dropped.await_pubrel_timeout"] += 1
        broker.counters["messages.dropped"] += 1


def handle_pubrel(conn: Connection, packet: pk.Pubrel) -> None:
    store = conn.broker.store
    mark = store.writes if store is not None else 0
    counters = conn.broker.counters
    counters["packets.pubrel.received"] += 1
    session = conn.session
    assert session is not None
    if session.awaiting_rel.pop(packet.packet_id, None) is None:
        counters["packets.pubrel.missed"] += 1
        code = rc.PACKET_IDENTIFIER_NOT_FOUND if conn.version == pk.MQTT_5 else rc.SUCCESS
        conn.ack(pk.Pubcomp(packet.packet_id, code), mark)
        return
    if session.store is not None:
        session.store.delete_awaiting_rel(session, packet.packet_id)
    conn.ack(pk.Pubcomp(packet.packet_id), mark)


def _acked(conn: Connection, message: Message) -> None:
    broker = conn.broker
    broker.counters["messages.acked"] += 1
    if broker.on_acked:
        Hooks.notify(broker.on_acked, conn.client_id, message)


def handle_puback(conn: Connection, packet: pk.Puback) -> None:
    counters = conn.broker.counters
    counters["packets.puback.received"] += 1
    session = conn.session
    assert session is not None
    delivery = session.puback(packet.packet_id)
    if delivery is None:
        counters["packets.puback.missed"] += 1  # unsolicited: ignored, like EMQX
    else:
        _acked(conn, delivery.message)


def handle_pubrec(conn: Connection, packet: pk.Pubrec) -> None:
    store = conn.broker.store
    mark = store.writes if store is not None else 0
    counters = conn.broker.counters
    counters["packets.pubrec.received"] += 1
    session = conn.session
    assert session is not None
    failed = conn.version == pk.MQTT_5 and rc.is_error(packet.reason_code)
    delivery = session.pubrec(packet.packet_id, failed)
    if delivery is None:
        counters["packets.pubrec.missed"] += 1
        code = rc.PACKET_IDENTIFIER_NOT_FOUND if conn.version == pk.MQTT_5 else rc.SUCCESS
        conn.send(pk.Pubrel(packet.packet_id, code))
    elif not failed:
        # Held until "PUBREC received" is committed: a subscriber that got PUBREL may forget the
        # id, so after a crash the broker must resend PUBREL, never the PUBLISH again.
        conn.ack(pk.Pubrel(packet.packet_id), mark)


def handle_pubcomp(conn: Connection, packet: pk.Pubcomp) -> None:
    counters = conn.broker.counters
    counters["packets.pubcomp.received"] += 1
    session = conn.session
    assert session is not None
    delivery = session.pubcomp(packet.packet_id)
    if delivery is None:
        counters["packets.pubcomp.missed"] += 1
    else:
        _acked(conn, delivery.message)
