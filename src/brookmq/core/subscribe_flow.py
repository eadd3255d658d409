"""SUBSCRIBE and UNSUBSCRIBE from a client."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brookmq.core.hooks import Hooks
from brookmq.core.session import Subscription
from brookmq.mqtt import packets as pk
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.errors import ProtocolError, protocol_error
from brookmq.mqtt.topics import QUEUE_GROUP, has_wildcard, parse_shared, topic_filter_problem

if TYPE_CHECKING:
    from brookmq.core.connection import Connection
    from brookmq.core.options import MqttOptions


def check_filter(opts: MqttOptions, topic_filter: str) -> tuple[int, str, str | None]:
    """(reason code, real filter, share group) for a filter as a client wrote it."""
    try:
        shared = parse_shared(topic_filter)
    except ValueError:
        return rc.TOPIC_FILTER_INVALID, topic_filter, None
    group, real = shared if shared else (None, topic_filter)
    if topic_filter_problem(real, opts.max_topic_levels):
        return rc.TOPIC_FILTER_INVALID, real, group
    if group is not None and not opts.shared_subscription:
        return rc.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED, real, group
    if not opts.wildcard_subscription and has_wildcard(real):
        return rc.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, real, group
    return rc.SUCCESS, real, group


def mounted(mountpoint: str, real: str, group: str | None) -> tuple[str, str]:
    """(filter as stored, real filter) of a client's filter behind a mountpoint."""
    real = mountpoint + real
    if group is None:
        return real, real
    return (f"$queue/{real}" if group == QUEUE_GROUP else f"$share/{group}/{real}"), real


def handle_subscribe(conn: Connection, packet: pk.Subscribe) -> None:
    broker = conn.broker
    opts = conn.options
    counters = broker.counters
    counters["packets.subscribe.received"] += 1
    session = conn.session
    assert session is not None
    v5 = conn.version == pk.MQTT_5
    sub_ids = packet.properties.get("subscription_identifier")
    sub_id = sub_ids[0] if sub_ids else None
    topics = packet.topics
    fns = broker.hooks.listeners("client.subscribe")
    if fns:
        topics = Hooks.fold(fns, list(topics), conn) or []
    codes: list[int] = []
    added: list[tuple[Subscription, bool]] = []
    for topic_filter, options in topics:
        code, real, group = check_filter(conn.options, topic_filter)
        if group is not None and options.no_local and v5:
            raise protocol_error("no local on a shared subscription")  # [MQTT-3.8.3-4]
        if (
            code == rc.SUCCESS
            and opts.max_subscriptions
            and topic_filter not in session.subscriptions
            and len(session.subscriptions) >= opts.max_subscriptions
        ):
            code = rc.QUOTA_EXCEEDED
        if (
            code == rc.SUCCESS
            and broker.on_authorize
            and not broker.authorize(conn, "subscribe", real, options.qos, False)  # a share's topic
        ):
            counters["packets.subscribe.auth_error"] += 1
            if broker.deny_disconnects:
                raise ProtocolError(rc.NOT_AUTHORIZED, f"not authorized to subscribe to {topic_filter}")
            code = rc.NOT_AUTHORIZED
        if code != rc.SUCCESS:
            counters["packets.subscribe.error"] += 1
            codes.append(code if v5 else rc.UNSPECIFIED_ERROR)  # v3 has only 0x80 [MQTT-3.9.3-2]
            continue
        if conn.mountpoint:
            topic_filter, real = mounted(conn.mountpoint, real, group)
        granted = min(options.qos, opts.max_qos_allowed)
        if granted != options.qos:
            options = pk.SubscriptionOptions(
                granted, options.no_local, options.retain_as_published, options.retain_handling
            )
        existed = topic_filter in session.subscriptions
        added.append((broker.subscribe(session, topic_filter, real, group, options, sub_id), existed))
        codes.append(granted)
    conn.send(pk.Suback(packet.packet_id, codes))  # one code per filter, in order [MQTT-3.8.4-6]
    for sub, existed in added:
        broker.deliver_retained(session, sub, existed)


def handle_unsubscribe(conn: Connection, packet: pk.Unsubscribe) -> None:
    broker = conn.broker
    broker.counters["packets.unsubscribe.received"] += 1
    session = conn.session
    assert session is not None
    topics = packet.topics
    fns = broker.hooks.listeners("client.unsubscribe")
    if fns:
        topics = Hooks.fold(fns, list(topics), conn) or []
    codes = []
    for topic_filter in topics:
        code, real, group = check_filter(conn.options, topic_filter)
        if code == rc.TOPIC_FILTER_INVALID:
            broker.counters["packets.unsubscribe.error"] += 1
            codes.append(rc.TOPIC_FILTER_INVALID)
            continue
        if conn.mountpoint:
            topic_filter = mounted(conn.mountpoint, real, group)[0]
        if broker.unsubscribe(session, topic_filter):
            codes.append(rc.SUCCESS)
        else:
            codes.append(rc.NO_SUBSCRIPTION_EXISTED)
    # UNSUBACK even when nothing matched [MQTT-3.10.4-4/5]; v3 carries no codes.
    conn.send(pk.Unsuback(packet.packet_id, codes))
