"""paho-mqtt (PyPI), for MQTT 3.1, 3.1.1 and 5.0, against the broker process."""

from __future__ import annotations

import queue
import threading
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

PROTOCOLS = [
    pytest.param(mqtt.MQTTv31, id="v31"),
    pytest.param(mqtt.MQTTv311, id="v311"),
    pytest.param(mqtt.MQTTv5, id="v5"),
]


def make_client(port: int, protocol: int, client_id: str | None = None, **kwargs) -> mqtt.Client:
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id or f"paho-{uuid.uuid4().hex[:8]}",
        protocol=protocol,
        **kwargs,
    )
    c.inbox = queue.Queue()
    c.on_message = lambda client, userdata, msg: client.inbox.put(msg)
    return c


def connected(c: mqtt.Client, port: int, **kwargs) -> mqtt.Client:
    done = threading.Event()
    c.on_connect = lambda *args: done.set()
    c.connect("127.0.0.1", port, **kwargs)
    c.loop_start()
    assert done.wait(5), "no CONNACK"
    return c


def subscribed(c: mqtt.Client, topic: str, qos: int) -> None:
    done = threading.Event()
    c.on_subscribe = lambda *args: done.set()
    c.subscribe(topic, qos)
    assert done.wait(5), "no SUBACK"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_paho_publish_subscribe_each_qos(broker_port, protocol, qos):
    topic = f"interop/{uuid.uuid4().hex}"
    sub = connected(make_client(broker_port, protocol), broker_port)
    subscribed(sub, topic, 2)
    pub = connected(make_client(broker_port, protocol), broker_port)
    info = pub.publish(topic, f"qos{qos}".encode(), qos)
    info.wait_for_publish(5)
    assert info.is_published()
    msg = sub.inbox.get(timeout=5)
    assert (msg.topic, msg.payload, msg.qos) == (topic, f"qos{qos}".encode(), qos)
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_paho_retained_message_reaches_a_later_subscriber(broker_port, protocol):
    topic = f"interop/retained/{uuid.uuid4().hex}"
    pub = connected(make_client(broker_port, protocol), broker_port)
    pub.publish(topic, b"stay", 1, retain=True).wait_for_publish(5)
    sub = connected(make_client(broker_port, protocol), broker_port)
    subscribed(sub, topic, 1)
    msg = sub.inbox.get(timeout=5)
    assert (msg.payload, msg.retain) == (b"stay", True)
    pub.publish(topic, b"", 1, retain=True).wait_for_publish(5)
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_paho_will_is_delivered_when_the_client_vanishes(broker_port, protocol):
    topic = f"interop/will/{uuid.uuid4().hex}"
    watcher = connected(make_client(broker_port, protocol), broker_port)
    subscribed(watcher, topic, 1)
    doomed = make_client(broker_port, protocol)
    doomed.will_set(topic, b"vanished", 1)
    connected(doomed, broker_port)
    doomed.loop_stop()
    doomed.socket().close()  # no DISCONNECT: the network just goes away
    msg = watcher.inbox.get(timeout=5)
    assert msg.payload == b"vanished"
    watcher.disconnect()
    watcher.loop_stop()


def test_paho_v5_properties_and_subscription_identifier(broker_port):
    topic = f"interop/v5/{uuid.uuid4().hex}"
    sub = connected(make_client(broker_port, mqtt.MQTTv5), broker_port)
    done = threading.Event()
    sub.on_subscribe = lambda *args: done.set()
    sub_props = Properties(PacketTypes.SUBSCRIBE)
    sub_props.SubscriptionIdentifier = 42
    sub.subscribe(topic, 1, properties=sub_props)
    assert done.wait(5)
    pub = connected(make_client(broker_port, mqtt.MQTTv5), broker_port)
    props = Properties(PacketTypes.PUBLISH)
    props.ContentType = "application/json"
    props.ResponseTopic = "reply/here"
    props.CorrelationData = b"\x01\x02"
    props.UserProperty = [("k1", "v1"), ("k2", "v2")]
    props.MessageExpiryInterval = 60
    pub.publish(topic, b"{}", 1, properties=props).wait_for_publish(5)
    msg = sub.inbox.get(timeout=5)
    got = msg.properties
    assert got.ContentType == "application/json" and got.ResponseTopic == "reply/here"
    assert got.CorrelationData == b"\x01\x02"
    assert got.UserProperty == [("k1", "v1"), ("k2", "v2")]
    assert got.SubscriptionIdentifier == [42]
    assert 0 < got.MessageExpiryInterval <= 60
    for c in (pub, sub):
        c.disconnect()
        c.loop_stop()


def test_paho_v5_persistent_session_gets_queued_messages(broker_port):
    topic = f"interop/session/{uuid.uuid4().hex}"
    client_id = f"persist-{uuid.uuid4().hex[:8]}"
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300
    sub = connected(
        make_client(broker_port, mqtt.MQTTv5, client_id), broker_port, clean_start=False, properties=props
    )
    subscribed(sub, topic, 1)
    sub.disconnect()
    sub.loop_stop()
    pub = connected(make_client(broker_port, mqtt.MQTTv5), broker_port)
    pub.publish(topic, b"while-away", 1).wait_for_publish(5)
    back = make_client(broker_port, mqtt.MQTTv5, client_id)
    flags = {}
    done = threading.Event()
    back.on_connect = lambda client, userdata, f, rc, p: (flags.update(present=f.session_present), done.set())
    back.connect("127.0.0.1", broker_port, clean_start=False, properties=props)
    back.loop_start()
    assert done.wait(5) and flags["present"] is True
    assert back.inbox.get(timeout=5).payload == b"while-away"
    for c in (pub, back):
        c.disconnect()
        c.loop_stop()
