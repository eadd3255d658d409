"""The in-process client publishes and subscribes through the same routing as everyone."""

from __future__ import annotations

import pytest

from brookmq.mqtt import packets as pk
from brookmq.mqtt.errors import ProtocolError


async def test_local_publish_reaches_network_subscribers(broker, client):
    sub = client("s")
    sub.subscribe("t", 1)
    local = broker.client("http")
    assert local.publish("t", "hi", qos=1, retain=True) == 1
    [msg] = sub.publishes()
    assert (msg.payload, msg.qos) == (b"hi", 1)
    assert broker.retained.get("t").payload == b"hi"
    assert "http" not in broker.sessions  # publishing needs no session


async def test_local_subscriber_gets_network_messages_and_retained(broker, client):
    client("p").publish("r/1", b"old", retain=True)
    got = []
    local = broker.client("rules")
    local.subscribe("r/#", got.append, qos=2)
    client("p2").publish("r/2", b"new", 2)
    assert [(m.topic, m.payload) for m in got] == [("r/1", b"old"), ("r/2", b"new")]
    assert broker.sessions["rules"].inflight == {}  # acknowledged at once
    assert local.unsubscribe("r/#") is True
    client("p3").publish("r/3", b"more")
    assert len(got) == 2


async def test_local_subscriber_errors_are_contained(broker, client):
    def broken(message):
        raise RuntimeError("subscriber bug")

    broker.client("x").subscribe("t", broken)
    other = client("s")
    other.subscribe("t")
    client("p").publish("t", b"x")
    assert len(other.publishes()) == 1


async def test_local_client_validates_topics(broker):
    local = broker.client("x")
    with pytest.raises(ValueError):
        local.publish("a/#", "x")
    with pytest.raises(ProtocolError):
        local.subscribe("a/#/b", print)


async def test_local_client_session_goes_away_on_close(broker):
    local = broker.client("x")
    local.subscribe("t", print)
    local.close()
    assert "x" not in broker.sessions and broker.router.subscription_count == 0


async def test_sys_topics_are_not_matched_by_hash(broker, client):
    sub = client("s", pk.MQTT_3_1_1)
    sub.subscribe("#")
    broker.client("$SYS").publish("$SYS/brokers/x/uptime", "1")
    assert sub.publishes() == []
    sys_sub = client("sys", pk.MQTT_3_1_1)
    sys_sub.subscribe("$SYS/#")
    broker.client("$SYS").publish("$SYS/brokers/x/uptime", "2")
    assert [m.payload for m in sys_sub.publishes()] == [b"2"]
