"""Retained messages: store, replace, clear, Retain Handling, Retain As Published."""

from __future__ import annotations

import pytest
from tests.conftest import VERSIONS

from brookmq.mqtt import packets as pk


@pytest.mark.parametrize("version", VERSIONS)
async def test_retained_message_is_sent_to_new_subscribers_with_retain_set_MQTT_3_3_1_9(client, version):
    client("p", version).publish("r/1", b"kept", 1, retain=True)
    sub = client("s", version)
    sub.subscribe("r/#", 1)
    [msg] = sub.publishes()
    assert (msg.topic, msg.payload, msg.retain, msg.qos) == ("r/1", b"kept", True, 1)


@pytest.mark.parametrize("version", VERSIONS)
async def test_retained_message_is_replaced_then_cleared_by_empty_payload_MQTT_3_3_1_6(
    broker, client, version
):
    pub = client("p", version)
    pub.publish("r", b"one", retain=True)
    pub.publish("r", b"two", retain=True)
    sub = client("s", version)
    sub.subscribe("r")
    assert [m.payload for m in sub.publishes()] == [b"two"]
    pub.publish("r", b"", retain=True)
    assert [m.payload for m in sub.publishes()] == [b""]  # still delivered live
    late = client("late", version)
    late.subscribe("r")
    assert late.publishes() == []
    assert broker.retained.count == 0
    assert broker.stats.snapshot()["retained.max"] == 1


async def test_live_delivery_clears_retain_unless_retain_as_published_MQTT_3_3_1_12(client):
    plain = client("plain")
    plain.subscribe("r")
    rap = client("rap")
    rap.subscribe("r", retain_as_published=True)
    client("p").publish("r", b"x", retain=True)
    assert plain.publishes()[0].retain is False
    assert rap.publishes()[0].retain is True


async def test_retain_handling_1_sends_only_for_a_new_subscription_MQTT_3_3_1_10(client):
    client("p").publish("r", b"x", retain=True)
    sub = client("s")
    sub.subscribe("r", retain_handling=1)
    assert len(sub.publishes()) == 1
    sub.subscribe("r", retain_handling=1, packet_id=2)
    assert sub.publishes() == []


async def test_retain_handling_0_resends_on_every_subscribe(client):
    client("p").publish("r", b"x", retain=True)
    sub = client("s")
    sub.subscribe("r")
    sub.subscribe("r", packet_id=2)
    assert len(sub.publishes()) == 2


async def test_retain_handling_2_never_sends_retained_MQTT_3_3_1_11(client):
    client("p").publish("r", b"x", retain=True)
    sub = client("s")
    sub.subscribe("r", retain_handling=2)
    assert sub.publishes() == []


async def test_retained_delivery_qos_is_the_minimum(client):
    client("p").publish("r", b"x", 2, retain=True)
    sub = client("s")
    sub.subscribe("r", 1)
    assert sub.publishes()[0].qos == 1


async def test_wildcard_subscription_does_not_receive_dollar_retained_messages_MQTT_4_7_2_1(client):
    client("p").publish("$internal/x", b"x", retain=True)
    client("p2").publish("plain/x", b"y", retain=True)
    sub = client("s")
    sub.subscribe("#")
    assert [m.topic for m in sub.publishes()] == ["plain/x"]
    dollar = client("d")
    dollar.subscribe("$internal/+")
    assert [m.topic for m in dollar.publishes()] == ["$internal/x"]


async def test_many_retained_messages_all_arrive_on_one_hash_subscription(client):
    pub = client("p", pk.MQTT_3_1_1)
    for i in range(500):
        pub.publish(f"r/{i % 10}/{i}", str(i).encode(), retain=True)
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("#")
    assert sorted(int(m.payload) for m in sub.publishes()) == list(range(500))
