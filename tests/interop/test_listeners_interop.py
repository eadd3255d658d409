"""paho-mqtt and mosquitto clients over TLS, WebSocket and secure WebSocket."""

from __future__ import annotations

import subprocess
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from tests.interop.conftest import RunningBroker
from tests.interop.test_paho import subscribed


def client_over(broker: RunningBroker, kind: str, protocol: int = mqtt.MQTTv311, **kwargs) -> mqtt.Client:
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"{kind}-{uuid.uuid4().hex[:8]}",
        protocol=protocol,
        transport="websockets" if kind in ("ws", "wss") else "tcp",
    )
    if kind in ("ws", "wss"):
        c.ws_set_options(path="/mqtt")
    if kind in ("ssl", "wss"):
        c.tls_set(ca_certs=str(broker.ca))
    if kind == "mutual":
        c.tls_set(
            ca_certs=str(broker.pki["ca"]),
            certfile=str(broker.pki["client"]),
            keyfile=str(broker.pki["client"]),
        )
    c.inbox = []
    c.got = threading.Event()
    c.on_message = lambda client, userdata, msg: (client.inbox.append(msg), client.got.set())
    done = threading.Event()
    c.on_connect = lambda *args: done.set()
    c.connect("127.0.0.1", broker.ports[kind], **kwargs)
    c.loop_start()
    assert done.wait(10), f"no CONNACK over {kind}"
    return c


def finish(*clients: mqtt.Client) -> None:
    for c in clients:
        c.disconnect()
        c.loop_stop()


@pytest.mark.parametrize("kind", ["ssl", "ws", "wss", "mutual"])
@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["v311", "v5"])
def test_paho_publish_subscribe_over_each_transport(broker, kind, protocol):
    topic = f"over/{kind}/{uuid.uuid4().hex}"
    c = client_over(broker, kind, protocol)
    subscribed(c, topic, 1)
    c.publish(topic, b"hello", 1).wait_for_publish(5)
    assert c.got.wait(5)
    assert c.inbox[0].payload == b"hello"
    finish(c)


@pytest.mark.parametrize(
    ("pub_kind", "sub_kind"), [("tcp", "ssl"), ("ssl", "ws"), ("ws", "wss"), ("wss", "tcp")]
)
def test_a_message_crosses_from_one_transport_to_another(broker, pub_kind, sub_kind):
    topic = f"cross/{uuid.uuid4().hex}"
    sub = client_over(broker, sub_kind)
    subscribed(sub, topic, 1)
    pub = client_over(broker, pub_kind)
    pub.publish(topic, f"{pub_kind}->{sub_kind}".encode(), 1).wait_for_publish(5)
    assert sub.got.wait(5)
    assert sub.inbox[0].payload == f"{pub_kind}->{sub_kind}".encode()
    finish(pub, sub)


def test_mutual_tls_takes_the_username_from_the_certificate(broker):
    watcher = client_over(broker, "tcp")
    subscribed(watcher, "$SYS/brokers/+/clients/+/connected", 0)
    device = client_over(broker, "mutual")
    assert watcher.got.wait(5)
    assert b'"username": "sensor-42"' in watcher.inbox[0].payload
    finish(device, watcher)


def test_mutual_tls_refuses_a_client_without_a_certificate(broker):
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="no-cert")
    c.tls_set(ca_certs=str(broker.pki["ca"]))
    connected = threading.Event()
    c.on_connect = lambda *args: connected.set()
    try:
        c.connect("127.0.0.1", broker.ports["mutual"])  # TLS 1.2 refuses here ...
        c.loop_start()
        assert not connected.wait(3), "a client without a certificate got a CONNACK"  # ... TLS 1.3 after
    except OSError:
        pass
    finally:
        c.loop_stop()


def test_mosquitto_clients_over_tls(broker):
    topic = f"mosq/tls/{uuid.uuid4().hex}"
    common = ["-h", "127.0.0.1", "-p", str(broker.ports["ssl"]), "--cafile", str(broker.ca), "-t", topic]
    sub = subprocess.Popen(
        ["mosquitto_sub", *common, "-C", "1", "-W", "10", "-q", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(0.5)  # let it subscribe
    subprocess.run(["mosquitto_pub", *common, "-m", "over tls", "-q", "1"], check=True, timeout=10)
    out, err = sub.communicate(timeout=15)
    assert out.strip() == "over tls", err
