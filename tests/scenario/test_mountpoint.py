"""A listener's mountpoint: its clients live under a topic prefix without seeing it."""

from __future__ import annotations

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop

from brookmq.core.listener import ListenerContext
from brookmq.mqtt import packets as pk


def mounted_client(broker, client_id, version, mountpoint="tenant/${clientid}/", **kwargs):
    c = MemoryClient(broker, version, ListenerContext("tcp:tenants", mountpoint))
    assert c.connect(client_id, **kwargs).reason_code == 0
    return c


@pytest.mark.parametrize("version", VERSIONS)
async def test_publish_and_subscribe_happen_under_the_mountpoint(broker, client, version):
    outside = client("outside", version)
    outside.subscribe("#")
    dev = mounted_client(broker, "dev1", version)
    dev.subscribe("cmd/+", 1)
    dev.publish("status", b"up")
    assert [(m.topic, m.payload) for m in outside.publishes()] == [("tenant/dev1/status", b"up")]
    outside.publish("tenant/dev1/cmd/reboot", b"now", 1)
    [msg] = dev.publishes()
    assert (msg.topic, msg.payload) == ("cmd/reboot", b"now")
    assert "tenant/dev1/cmd/+" in broker.sessions["dev1"].subscriptions


async def test_clients_behind_different_mountpoints_are_isolated(broker):
    a = mounted_client(broker, "a", pk.MQTT_5)
    b = mounted_client(broker, "b", pk.MQTT_5)
    a.subscribe("x")
    b.publish("x", b"from b")
    assert a.publishes() == []


async def test_unsubscribe_and_shared_filters_are_mounted_too(broker, client):
    dev = mounted_client(broker, "d", pk.MQTT_3_1_1, mountpoint="site/")
    dev.subscribe("$share/g/t", 0)
    assert "$share/g/site/t" in broker.sessions["d"].subscriptions
    client("p").publish("site/t", b"x")
    assert len(dev.publishes()) == 1
    dev.send(pk.Unsubscribe(2, ["$share/g/t"]))
    dev.recv(pk.Unsuback)
    assert broker.sessions["d"].subscriptions == {}


async def test_will_and_retained_messages_follow_the_mountpoint(broker, client):
    outside = client("outside")
    outside.subscribe("site/#")
    dev = mounted_client(broker, "d", pk.MQTT_5, mountpoint="site/", will=pk.Will("gone", b"bye"))
    drop(dev)
    assert [m.topic for m in outside.publishes()] == ["site/gone"]
    outside.publish("site/config", b"v1", retain=True)
    dev2 = mounted_client(broker, "d2", pk.MQTT_3_1_1, mountpoint="site/")
    dev2.subscribe("config")
    [msg] = dev2.publishes()
    assert (msg.topic, msg.payload, msg.retain) == ("config", b"v1", True)


async def test_username_placeholder_in_the_mountpoint(broker, client):
    outside = client("outside")
    outside.subscribe("u/#")
    dev = mounted_client(broker, "d", pk.MQTT_5, mountpoint="u/${username}/", username="alice")
    dev.publish("t")
    assert [m.topic for m in outside.publishes()] == ["u/alice/t"]


class Limited(ListenerContext):
    def __init__(self, limit):
        super().__init__("tcp:limited")
        self.limit, self.current, self.refused, self.reasons = limit, 0, 0, []

    def opened(self, conn):
        if self.current >= self.limit:
            self.refused += 1
            return False
        self.current += 1
        return True

    def closed(self, conn, reason):
        self.current -= 1
        self.reasons.append(reason)


async def test_listener_context_can_refuse_and_sees_every_close(broker):
    ctx = Limited(1)
    first = MemoryClient(broker, pk.MQTT_5, ctx)
    first.connect("one")
    second = MemoryClient(broker, pk.MQTT_5, ctx)
    assert second.closed and ctx.refused == 1
    first.send(pk.Disconnect())
    assert ctx.current == 0 and ctx.reasons == ["normal"]


class Certified(ListenerContext):
    def identity(self, transport):
        return "cert-user", "cert-client"


async def test_identity_from_the_listener_overrides_the_connect_packet(broker):
    c = MemoryClient(broker, pk.MQTT_5, Certified("ssl:default"))
    c.connect("claimed", username="claimed")
    assert (c.conn.client_id, c.conn.username) == ("cert-client", "cert-user")
    assert "cert-client" in broker.sessions


async def test_a_listener_zone_sets_the_limits_of_its_connections(broker, client):
    from brookmq.core.options import MqttOptions

    small = ListenerContext("tcp:small", options=MqttOptions(max_packet_size=64, max_mqueue_len=1))
    tight = MemoryClient(broker, pk.MQTT_5, small)
    tight.connect("tight", clean_start=False, properties={"session_expiry_interval": 60})
    assert tight.conn.options.max_packet_size == 64
    tight.subscribe("t", 1)
    tight.send(pk.Disconnect())
    pub = client("p")
    pub.publish("t", b"1", 1)
    pub.publish("t", b"2", 1, packet_id=2)
    assert broker.sessions["tight"].mqueue_dropped == 1  # the zone's queue of one
    pub.publish("big", b"x" * 100)  # fine on the default zone
    assert not pub.closed
    again = MemoryClient(broker, pk.MQTT_5, small)
    again.connect("tight", clean_start=False, properties={"session_expiry_interval": 60})
    again.publish("big", b"x" * 100)  # too large in the small zone
    assert again.recv(pk.Disconnect).reason_code == 0x95
