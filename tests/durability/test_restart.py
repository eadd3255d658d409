"""Real clients against a broker process that is killed (-9) or stopped and started again
on the same data directory."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brookmq.mqtt import packets as pk
from tests.durability.process import BrokerProcess, Wire
from tests.interop.test_paho import connected, make_client, subscribed


@pytest.fixture
def node(tmp_path: Path) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(tmp_path / "data").start()
    yield broker
    broker.kill()


def session_client(port: int, protocol: int, client_id: str) -> mqtt.Client:
    """A paho client with a persistent session (v3: clean session 0; v5: expiry 1 h)."""
    c = make_client(
        port, protocol, client_id, **({} if protocol == mqtt.MQTTv5 else {"clean_session": False})
    )
    if protocol == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        return connected(c, port, clean_start=False, properties=props)
    return connected(c, port)


def published(c: mqtt.Client, topic: str, payload: bytes, qos: int, retain: bool = False) -> None:
    info = c.publish(topic, payload, qos, retain)
    info.wait_for_publish(5)
    assert info.is_published()


def received(c: mqtt.Client, count: int, timeout: float = 5) -> list[mqtt.MQTTMessage]:
    out = []
    for _ in range(count):
        out.append(c.inbox.get(timeout=timeout))
    return out


def nothing_more(c: mqtt.Client) -> bool:
    try:
        c.inbox.get(timeout=0.5)
    except queue.Empty:
        return True
    return False


def stop(*clients: mqtt.Client) -> None:
    for c in clients:
        c.loop_stop()
        c.disconnect()


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["v311", "v5"])
@pytest.mark.parametrize("how", ["kill", "stop"])
def test_a_persistent_session_resumes_with_its_subscription_and_queue(
    node: BrokerProcess, protocol: int, how: str
) -> None:
    sub = session_client(node.port, protocol, "keeper")
    subscribed(sub, "orders/#", 2)
    sub.loop_stop()
    sub.disconnect()
    pub = connected(make_client(node.port, protocol), node.port)
    published(pub, "orders/1", b"first", 1)
    published(pub, "orders/2", b"second", 2)
    stop(pub)
    node.kill() if how == "kill" else node.stop()
    node.start()
    sub = session_client(node.port, protocol, "keeper")
    got = received(sub, 2)
    assert sorted((m.topic, m.payload, m.qos) for m in got) == [
        ("orders/1", b"first", 1),
        ("orders/2", b"second", 2),
    ]
    pub = connected(make_client(node.port, protocol), node.port)
    published(pub, "orders/3", b"third", 1)
    assert received(sub, 1)[0].payload == b"third"  # the subscription came back
    stop(pub, sub)


def test_session_present_is_set_after_a_restart(node: BrokerProcess) -> None:
    wire = Wire(node.port)
    wire.connect("resumer", clean_start=False)
    wire.send(pk.Subscribe(1, [("x", pk.SubscriptionOptions(1))]))
    assert isinstance(wire.recv(), pk.Suback)
    # Its PUBACK comes once the message queued for this session, and what came before
    # (the session and its subscription), is committed.
    wire.send(pk.Publish("x", b"to myself", 1, packet_id=2))
    acked = [wire.recv(), wire.recv()]
    assert pk.Puback(2) in acked
    wire.close()
    node.kill()
    node.start()
    wire = Wire(node.port)
    assert wire.connect("resumer", clean_start=False).session_present
    resent = wire.recv()
    assert isinstance(resent, pk.Publish) and resent.payload == b"to myself"
    wire.close()


def test_retained_messages_survive_kill_9(node: BrokerProcess) -> None:
    pub = connected(make_client(node.port, mqtt.MQTTv311), node.port)
    for i in range(50):
        published(pub, f"state/{i}", f"v{i}".encode(), 1, retain=True)
    published(pub, "state/0", b"", 1, retain=True)  # cleared
    stop(pub)
    node.kill()
    node.start()
    sub = connected(make_client(node.port, mqtt.MQTTv311), node.port)
    sub.subscribe("state/#", 1)
    got = received(sub, 49)
    assert sorted(m.topic for m in got) == sorted(f"state/{i}" for i in range(1, 50))
    assert all(m.retain for m in got)
    assert nothing_more(sub)
    stop(sub)


def test_a_qos2_flow_cut_by_kill_9_completes_exactly_once(node: BrokerProcess) -> None:
    sub = session_client(node.port, mqtt.MQTTv311, "watcher")
    subscribed(sub, "once", 2)
    sub.loop_stop()
    sub.disconnect()
    pub = Wire(node.port)
    pub.connect("sender", clean_start=False)
    pub.send(pk.Publish("once", b"exactly", 2, packet_id=11))
    assert pub.recv() == pk.Pubrec(11)
    pub.close()
    node.kill()
    node.start()
    pub = Wire(node.port)
    assert pub.connect("sender", clean_start=False).session_present
    pub.send(pk.Publish("once", b"exactly", 2, packet_id=11, dup=True))  # PUBREC lost, as far as it knows
    assert pub.recv() == pk.Pubrec(11)
    pub.send(pk.Pubrel(11))
    assert pub.recv() == pk.Pubcomp(11)
    pub.close()
    sub = session_client(node.port, mqtt.MQTTv311, "watcher")
    assert [m.payload for m in received(sub, 1)] == [b"exactly"]
    assert nothing_more(sub)
    stop(sub)


def test_delayed_messages_fire_after_a_restart(node: BrokerProcess) -> None:
    sub = session_client(node.port, mqtt.MQTTv311, "alarm-clock")
    subscribed(sub, "wake/#", 1)  # the SUBACK: the subscription is kept before the kill
    pub = connected(make_client(node.port, mqtt.MQTTv311), node.port)
    published(pub, "$delayed/2/wake/up", b"ring", 1)
    stop(pub, sub)
    node.kill()
    node.start()
    sub = session_client(node.port, mqtt.MQTTv311, "alarm-clock")
    [m] = received(sub, 1, timeout=10)
    assert (m.topic, m.payload) == ("wake/up", b"ring")
    stop(sub)


def test_a_corrupt_database_is_moved_aside_and_the_broker_serves(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "brookmq.db").write_bytes(b"\x00" * 8192)  # zeroed by a power cut
    node = BrokerProcess(data).start()
    try:
        pub = connected(make_client(node.port, mqtt.MQTTv311), node.port)
        published(pub, "still/here", b"yes", 1, retain=True)
        stop(pub)
        log = node.stop()
    finally:
        node.kill()
    assert "could not be used" in log and "alarm database_corrupt raised" in log
    assert [p.name for p in data.glob("brookmq.db.corrupt-*") if p.name[-1].isdigit()]
    node.start()
    sub = connected(make_client(node.port, mqtt.MQTTv311), node.port)
    sub.subscribe("still/#", 1)
    assert received(sub, 1)[0].payload == b"yes"  # the new database works
    stop(sub)
    node.kill()


def test_with_durability_off_nothing_is_written(tmp_path: Path) -> None:
    node = BrokerProcess(tmp_path / "data", BROOKMQ_DURABILITY__ENABLE="false").start()
    try:
        pub = connected(make_client(node.port, mqtt.MQTTv311), node.port)
        published(pub, "r", b"x", 1, retain=True)
        stop(pub)
        node.stop()
    finally:
        node.kill()
    assert not (tmp_path / "data" / "brookmq.db").exists()
