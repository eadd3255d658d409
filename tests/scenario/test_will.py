"""Wills: when they are published, when not, and the Will Delay Interval."""

from __future__ import annotations

import asyncio

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop

from brookmq.mqtt import packets as pk

WILL = pk.Will("last/will", b"gone", 1, False)


def watcher(client, version=pk.MQTT_5):
    w = client("watcher", version)
    w.subscribe("last/#", 1)
    return w


@pytest.mark.parametrize("version", VERSIONS)
async def test_will_is_published_when_the_connection_dies_MQTT_3_1_2_8(client, version):
    w = watcher(client, version)
    c = client("c", version, will=WILL)
    drop(c)
    [msg] = w.publishes()
    assert (msg.topic, msg.payload, msg.qos) == ("last/will", b"gone", 1)


@pytest.mark.parametrize("version", VERSIONS)
async def test_normal_disconnect_discards_the_will_MQTT_3_1_2_10(client, version):
    w = watcher(client, version)
    c = client("c", version, will=WILL)
    c.send(pk.Disconnect())
    drop(c)
    assert w.publishes() == []


async def test_disconnect_with_will_message_0x04_publishes_it(client):
    w = watcher(client)
    c = client("c", will=WILL)
    c.send(pk.Disconnect(0x04))
    assert len(w.publishes()) == 1


@pytest.mark.parametrize("version", VERSIONS)
async def test_will_is_published_on_keepalive_timeout(make_broker, version):
    broker = make_broker(keepalive_multiplier=0.1)
    w = MemoryClient(broker, version)
    w.connect("w")
    w.subscribe("last/#")
    c = MemoryClient(broker, version)
    c.connect("c", keepalive=1, will=WILL)
    await asyncio.sleep(0.25)
    assert c.closed and len(w.publishes()) == 1


async def test_will_is_published_on_server_initiated_close_for_a_protocol_error(client):
    w = watcher(client)
    c = client("c", will=WILL)
    c.publish("bad/#")
    assert c.recv(pk.Disconnect).reason_code == 0x90
    assert len(w.publishes()) == 1


async def test_will_of_the_old_connection_is_published_on_takeover(client):
    w = watcher(client)
    client("c", will=WILL)
    client("c")
    assert [m.payload for m in w.publishes()] == [b"gone"]


async def test_will_is_retained_when_asked(client):
    c = client("c", will=pk.Will("last/r", b"bye", 0, True))
    drop(c)
    late = client("late")
    late.subscribe("last/r")
    assert [(m.payload, m.retain) for m in late.publishes()] == [(b"bye", True)]


async def test_will_properties_pass_on_but_the_delay_does_not(client):
    w = watcher(client)
    will = pk.Will("last/p", b"x", 0, False, {"content_type": "text/plain", "user_property": [("k", "v")]})
    drop(client("c", will=will))
    [msg] = w.publishes()
    assert msg.properties == {"content_type": "text/plain", "user_property": [("k", "v")]}


async def test_will_delay_holds_the_will_until_it_elapses_MQTT_3_1_3_9(client):
    w = watcher(client)
    will = pk.Will("last/d", b"late", 0, False, {"will_delay_interval": 1})
    c = client("c", will=will, clean_start=False, properties={"session_expiry_interval": 60})
    drop(c)
    await asyncio.sleep(0.5)
    assert w.publishes() == []
    await asyncio.sleep(0.7)
    assert [m.payload for m in w.publishes()] == [b"late"]


async def test_reconnecting_within_the_will_delay_cancels_the_will(client):
    w = watcher(client)
    will = pk.Will("last/d", b"late", 0, False, {"will_delay_interval": 1})
    c = client("c", will=will, clean_start=False, properties={"session_expiry_interval": 60})
    drop(c)
    client("c", clean_start=False, properties={"session_expiry_interval": 60})
    await asyncio.sleep(1.2)
    assert w.publishes() == []


async def test_will_delay_longer_than_session_expiry_publishes_at_session_end(client):
    # CVE-2019-11778 class: the will goes out when the session ends, not later
    w = watcher(client)
    will = pk.Will("last/d", b"x", 0, False, {"will_delay_interval": 3600})
    c = client("c", will=will, clean_start=False, properties={"session_expiry_interval": 1})
    drop(c)
    await asyncio.sleep(1.3)
    assert len(w.publishes()) == 1


async def test_will_delay_with_session_expiry_zero_publishes_at_once(client):
    w = watcher(client)
    will = pk.Will("last/d", b"x", 0, False, {"will_delay_interval": 30})
    drop(client("c", will=will))
    assert len(w.publishes()) == 1


async def test_clean_start_takeover_ends_the_session_and_publishes_a_delayed_will(client):
    w = watcher(client)
    will = pk.Will("last/d", b"x", 0, False, {"will_delay_interval": 30})
    client("c", will=will, clean_start=False, properties={"session_expiry_interval": 60})
    client("c", clean_start=True)
    assert len(w.publishes()) == 1


async def test_a_will_goes_through_the_same_authorization_as_a_publish(broker, client):
    # reliability 1.23: a will must not reach a topic its client may not publish to
    from brookmq.core.hooks import Hook

    class NoAlarms(Hook):
        def client_authorize(self, client, action, topic, qos, retain):
            return False if action == "publish" and topic.startswith("last/alarm") else None

    broker.hooks.add(NoAlarms())
    w = watcher(client)
    drop(client("c", will=pk.Will("last/alarm", b"forged")))
    drop(client("d", will=pk.Will("last/ok", b"fine")))
    assert [m.payload for m in w.publishes()] == [b"fine"]
    assert broker.counters["authorization.deny"] == 1
