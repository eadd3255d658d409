"""PUBLISH in both directions: QoS flows, delivery QoS, properties, aliases, limits."""

from __future__ import annotations

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient

from brookmq.mqtt import packets as pk


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("qos", [0, 1, 2])
async def test_message_is_delivered_at_its_qos_with_the_full_handshake(client, version, qos):
    sub = client("s", version)
    sub.subscribe("a/+", 2)
    pub = client("p", version)
    pub.publish("a/b", b"hello", qos, packet_id=7)
    if qos == 1:
        assert pub.recv() == pk.Puback(7)
    if qos == 2:
        assert pub.recv() == pk.Pubrec(7)
        pub.send(pk.Pubrel(7))
        assert pub.recv() == pk.Pubcomp(7)
    [msg] = sub.publishes()
    assert (msg.topic, msg.payload, msg.qos, msg.retain, msg.dup) == ("a/b", b"hello", qos, False, False)
    if qos == 1:
        sub.send(pk.Puback(msg.packet_id))
    if qos == 2:
        sub.send(pk.Pubrec(msg.packet_id))
        assert sub.recv() == pk.Pubrel(msg.packet_id)
        sub.send(pk.Pubcomp(msg.packet_id))
    assert sub.conn.session.inflight == {}
    assert not pub.closed and not sub.closed


@pytest.mark.parametrize(("pub_qos", "sub_qos", "expected"), [(2, 0, 0), (2, 1, 1), (1, 2, 1), (0, 2, 0)])
async def test_delivery_qos_is_the_minimum_of_publish_and_granted_MQTT_3_8_4_8(
    client, pub_qos, sub_qos, expected
):
    sub = client("s")
    sub.subscribe("t", sub_qos)
    client("p").publish("t", b"x", pub_qos)
    assert sub.publishes()[0].qos == expected


async def test_overlapping_subscriptions_deliver_one_copy_with_every_id_MQTT_3_3_4_3(client):
    sub = client("s")
    sub.subscribe("a/#", 0, properties={"subscription_identifier": [1]})
    sub.subscribe("a/+", 2, packet_id=2, properties={"subscription_identifier": [2]})
    client("p").publish("a/b", b"x", 2)
    [msg] = sub.publishes()
    assert msg.qos == 2
    assert sorted(msg.properties["subscription_identifier"]) == [1, 2]


async def test_overlapping_subscriptions_v311_deliver_once_at_max_qos(client):
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("a/#", 1)
    sub.subscribe("+/b", 0, packet_id=2)
    client("p", pk.MQTT_3_1_1).publish("a/b", b"x", 2)
    assert [m.qos for m in sub.publishes()] == [1]


async def test_no_local_skips_the_publishers_own_messages_MQTT_3_8_3_3(broker, client):
    c = client("me")
    c.subscribe("t", 0, no_local=True)
    other = client("other")
    other.subscribe("t")
    c.publish("t", b"mine")
    assert c.publishes() == [] and len(other.publishes()) == 1
    assert broker.counters["delivery.dropped.no_local"] == 1


async def test_v5_properties_pass_through_unchanged_and_in_order_MQTT_3_3_2_17(client):
    sub = client("s")
    sub.subscribe("t")
    props = {
        "payload_format_indicator": 1,
        "content_type": "text/plain",
        "response_topic": "reply/x",
        "correlation_data": b"\x00\x01",
        "user_property": [("z", "1"), ("a", "2"), ("z", "3")],
    }
    client("p").publish("t", b"x", properties=props)
    [msg] = sub.publishes()
    assert msg.properties == props
    assert list(msg.properties["user_property"]) == [("z", "1"), ("a", "2"), ("z", "3")]


async def test_v311_subscriber_gets_a_v5_publishers_message_without_properties(client):
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("t", 1)
    client("p").publish("t", b"x", 1, properties={"user_property": [("a", "b")]})
    [msg] = sub.publishes()
    assert (msg.payload, msg.properties) == (b"x", None)


async def test_puback_says_no_matching_subscribers_in_v5(client):
    pub = client("p")
    pub.publish("nobody", b"x", 1, packet_id=3)
    assert pub.recv() == pk.Puback(3, 0x10)


async def test_message_expiry_interval_counts_down_on_delivery_MQTT_3_3_2_6(broker, client, clock):
    pub = client("p")
    pub.publish("t", b"x", 1, retain=True, properties={"message_expiry_interval": 10})
    clock.advance(4)
    sub = client("s")
    sub.subscribe("t", 1)
    [msg] = sub.publishes()
    assert msg.properties["message_expiry_interval"] == 6


async def test_expired_retained_message_is_not_delivered(broker, client, clock):
    client("p").publish("t", b"x", 0, retain=True, properties={"message_expiry_interval": 5})
    clock.advance(6)
    sub = client("s")
    sub.subscribe("t")
    assert sub.publishes() == []
    assert broker.retained.count == 0


async def test_expired_queued_message_is_dropped_on_resume(broker, clock):
    sub = MemoryClient(broker)
    sub.connect("s", clean_start=False, properties={"session_expiry_interval": 100})
    sub.subscribe("t", 1)
    sub.send(pk.Disconnect())
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"old", 1, properties={"message_expiry_interval": 5})
    pub.publish("t", b"new", 1, packet_id=2)
    clock.advance(6)
    again = MemoryClient(broker)
    again.connect("s", clean_start=False, properties={"session_expiry_interval": 100})
    assert [m.payload for m in again.publishes()] == [b"new"]
    assert broker.counters["delivery.dropped.expired"] == 1


@pytest.mark.parametrize("version", VERSIONS)
async def test_wildcard_in_a_publish_topic_closes_the_connection_MQTT_3_3_2_2(client, broker, version):
    pub = client("p", version)
    pub.publish("a/#", b"x")
    if version == pk.MQTT_5:
        assert pub.recv(pk.Disconnect).reason_code == 0x90
    assert pub.closed and broker.counters["packets.publish.error"] == 1


async def test_topic_with_more_levels_than_allowed_is_refused(make_broker):
    broker = make_broker(max_topic_levels=3)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("a/b/c/d", b"x")
    assert pub.recv(pk.Disconnect).reason_code == 0x90


async def test_inbound_topic_alias_is_set_then_used_MQTT_3_3_2_12(client):
    sub = client("s")
    sub.subscribe("long/topic")
    pub = client("p")
    pub.publish("long/topic", b"1", properties={"topic_alias": 3})
    pub.publish("", b"2", properties={"topic_alias": 3})
    msgs = sub.publishes()
    assert [(m.topic, m.payload) for m in msgs] == [("long/topic", b"1"), ("long/topic", b"2")]
    assert all("topic_alias" not in (m.properties or {}) for m in msgs)


@pytest.mark.parametrize(("alias", "code"), [(0, 0x94), (9, 0x94)])
async def test_topic_alias_zero_or_above_maximum_is_disconnect_0x94_MQTT_3_3_2_8(make_broker, alias, code):
    broker = make_broker(max_topic_alias=8)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"x", properties={"topic_alias": alias})
    assert pub.recv(pk.Disconnect).reason_code == code and pub.closed


async def test_topic_alias_used_before_it_is_set_is_a_protocol_error(client):
    pub = client("p")
    pub.publish("", b"x", properties={"topic_alias": 2})
    assert pub.recv(pk.Disconnect).reason_code == 0x82


async def test_topic_alias_does_not_survive_into_a_new_connection(broker):
    a = MemoryClient(broker)
    a.connect("a", clean_start=False, properties={"session_expiry_interval": 60})
    a.publish("t", b"x", properties={"topic_alias": 1})
    a.send(pk.Disconnect())
    b = MemoryClient(broker)
    b.connect("a", clean_start=False, properties={"session_expiry_interval": 60})
    b.publish("", b"x", properties={"topic_alias": 1})
    assert b.recv(pk.Disconnect).reason_code == 0x82


async def test_outbound_topic_aliases_are_used_when_the_client_allows_them(broker):
    sub = MemoryClient(broker)
    sub.connect("s", properties={"topic_alias_maximum": 1})
    sub.subscribe("+")
    pub = MemoryClient(broker)
    pub.connect("p")
    for topic in ("x", "x", "y"):
        pub.publish(topic, b"m")
    msgs = sub.publishes()
    assert [(m.topic, (m.properties or {}).get("topic_alias")) for m in msgs] == [
        ("x", 1),
        ("", 1),
        ("y", None),
    ]


async def test_client_publish_with_subscription_identifier_is_a_protocol_error_MQTT_3_3_4_6(client):
    pub = client("p")
    pub.publish("t", b"x", properties={"subscription_identifier": [1]})
    assert pub.recv(pk.Disconnect).reason_code == 0x82


async def test_message_larger_than_the_clients_maximum_packet_size_is_dropped_MQTT_3_1_2_24(broker):
    sub = MemoryClient(broker)
    sub.connect("s", properties={"maximum_packet_size": 40})
    sub.subscribe("t", 1)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"x" * 100, 1)
    pub.publish("t", b"small", 1, packet_id=2)
    assert [m.payload for m in sub.publishes()] == [b"small"]
    assert broker.counters["delivery.dropped.too_large"] == 1
    assert len(sub.conn.session.inflight) == 1  # the dropped one left no inflight entry


async def test_clients_receive_maximum_limits_outbound_inflight_MQTT_3_3_4_7(broker):
    sub = MemoryClient(broker)
    sub.connect("s", properties={"receive_maximum": 2})
    sub.subscribe("t", 1)
    pub = MemoryClient(broker)
    pub.connect("p")
    for i in range(5):
        pub.publish("t", bytes([i]), 1, packet_id=i + 1)
    first = sub.publishes()
    assert [m.payload for m in first] == [b"\x00", b"\x01"]
    assert len(sub.conn.session.mqueue) == 3
    sub.send(pk.Puback(first[0].packet_id))
    assert [m.payload for m in sub.publishes()] == [b"\x02"]


async def test_max_inflight_limits_outbound_inflight(make_broker):
    broker = make_broker(max_inflight=1)
    sub = MemoryClient(broker, pk.MQTT_3_1_1)
    sub.connect("s")
    sub.subscribe("t", 2)
    pub = MemoryClient(broker, pk.MQTT_3_1_1)
    pub.connect("p")
    pub.publish("t", b"1", 1)
    pub.publish("t", b"2", 1, packet_id=2)
    [m] = sub.publishes()
    sub.send(pk.Puback(m.packet_id))
    assert [p.payload for p in sub.publishes()] == [b"2"]


async def test_qos2_resent_with_same_id_is_delivered_once_MQTT_4_3_3_9(client):
    sub = client("s")
    sub.subscribe("t", 2)
    pub = client("p")
    pub.publish("t", b"once", 2, packet_id=9)
    assert pub.recv() == pk.Pubrec(9)
    pub.send(pk.Publish("t", b"once", 2, dup=True, packet_id=9))
    assert pub.recv() == pk.Pubrec(9)
    pub.send(pk.Pubrel(9))
    assert pub.recv() == pk.Pubcomp(9)
    assert len(sub.publishes()) == 1


async def test_many_qos2_publishes_with_one_id_never_grow_state(client, broker):
    # CVE-2023-28366 class: same packet id, no PUBREL, over and over
    pub = client("p", pk.MQTT_3_1_1)
    for _ in range(500):
        pub.publish("t", b"x", 2, packet_id=5)
    assert len(pub.conn.session.awaiting_rel) == 1
    assert not pub.closed


async def test_too_many_qos2_awaiting_pubrel_is_disconnect_0x93_in_v5_MQTT_3_3_4_9(make_broker):
    broker = make_broker(max_awaiting_rel=3)
    pub = MemoryClient(broker)
    pub.connect("p")
    for i in range(1, 4):
        pub.publish("t", b"x", 2, packet_id=i)
    pub.publish("t", b"x", 2, packet_id=4)
    assert pub.recv(pk.Disconnect).reason_code == 0x93


async def test_too_many_qos2_awaiting_pubrel_drops_in_v311(make_broker):
    broker = make_broker(max_awaiting_rel=2)
    sub = MemoryClient(broker, pk.MQTT_3_1_1)
    sub.connect("s")
    sub.subscribe("t")
    pub = MemoryClient(broker, pk.MQTT_3_1_1)
    pub.connect("p")
    for i in range(1, 4):
        pub.publish("t", b"x", 2, packet_id=i)
    assert len(sub.publishes()) == 2
    assert [p for p in pub.recv_all()] == [pk.Pubrec(1), pk.Pubrec(2), pk.Pubrec(3)]
    assert broker.counters["packets.publish.dropped"] == 1 and not pub.closed


async def test_awaiting_pubrel_ids_expire_after_await_rel_timeout(make_broker, clock):
    broker = make_broker(await_rel_timeout=10)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"x", 2, packet_id=1)
    clock.advance(11)
    pub.publish("t", b"y", 2, packet_id=2)
    assert list(pub.conn.session.awaiting_rel) == [2]
    assert broker.counters["messages.dropped.await_pubrel_timeout"] == 1
    pub.recv_all()
    pub.send(pk.Pubrel(1))
    assert pub.recv() == pk.Pubcomp(1, 0x92)


@pytest.mark.parametrize("version", VERSIONS)
async def test_unsolicited_acks_are_answered_or_ignored_and_counted(client, broker, version):
    c = client("c", version)
    c.send(pk.Puback(11))
    c.send(pk.Pubcomp(12))
    c.send(pk.Pubrec(13))
    c.send(pk.Pubrel(14))
    code = 0x92 if version == pk.MQTT_5 else 0
    assert c.recv_all() == [pk.Pubrel(13, code), pk.Pubcomp(14, code)]
    assert not c.closed
    for name in ("puback", "pubcomp", "pubrec", "pubrel"):
        assert broker.counters[f"packets.{name}.missed"] == 1


async def test_qos1_delivery_answered_with_pubrec_is_a_protocol_error_that_keeps_the_message(client, broker):
    sub = client("s", properties={"session_expiry_interval": 60})
    sub.subscribe("t", 1)
    client("p").publish("t", b"x", 1)
    [m] = sub.publishes()
    sub.send(pk.Pubrec(m.packet_id))
    assert sub.recv(pk.Disconnect).reason_code == 0x82
    assert sub.closed
    assert m.packet_id in broker.sessions["s"].inflight  # redelivered when the client comes back


async def test_pubrec_with_error_code_ends_the_qos2_flow(client):
    sub = client("s")
    sub.subscribe("t", 2)
    client("p").publish("t", b"x", 2)
    [m] = sub.publishes()
    sub.send(pk.Pubrec(m.packet_id, 0x80))
    assert sub.recv_all() == [] and sub.conn.session.inflight == {}


async def test_qos_above_maximum_is_disconnect_0x9B_MQTT_3_2_2_11(make_broker):
    broker = make_broker(max_qos_allowed=1)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"x", 2)
    assert pub.recv(pk.Disconnect).reason_code == 0x9B


async def test_retain_when_unavailable_is_disconnect_0x9A_MQTT_3_2_2_14(make_broker):
    broker = make_broker(retain_available=False)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"x", retain=True)
    assert pub.recv(pk.Disconnect).reason_code == 0x9A


async def test_fanout_gives_every_subscriber_its_copy(broker, client):
    subs = [client(f"s{i}", pk.MQTT_3_1_1) for i in range(3)]
    for s in subs:
        s.subscribe("t", 1)
    client("p").publish("t", b"x", 1)
    msgs = [s.publishes()[0] for s in subs]
    assert all(m.payload == b"x" and m.qos == 1 for m in msgs)
    assert broker.counters["messages.delivered"] == 3
    assert broker.counters["messages.qos1.sent"] == 3


async def test_a_publish_hook_that_rewrites_the_message_is_what_subscribers_get(broker, client):
    from brookmq.core.hooks import Hook

    class Rewrite(Hook):
        def message_publish(self, message):
            message.payload = message.payload.upper()
            return message

    broker.hooks.add(Rewrite())
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("t", 1)
    client("p", pk.MQTT_3_1_1).publish("t", b"quiet", 1)
    assert [m.payload for m in sub.publishes()] == [b"QUIET"]


@pytest.mark.parametrize("qos", [0, 1, 2])
async def test_v3_publish_is_forwarded_with_the_subscribers_own_packet_id(client, qos):
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("t", 2)
    sub.subscribe("t2", 2, packet_id=2)
    pub = client("p", pk.MQTT_3_1_1)
    pub.publish("t2", b"first", qos, packet_id=4000)  # takes the subscriber's id 1 for qos > 0
    pub.publish("t", b"x", qos, packet_id=777, retain=True)
    _first, msg = sub.publishes()
    assert (msg.topic, msg.payload, msg.qos, msg.retain) == ("t", b"x", qos, False)
    assert msg.packet_id == (2 if qos else 0)
