"""Persistent sessions, retained and delayed messages across a broker restart, and
acknowledgements held until the store commits.

A "restart" builds a new broker on what the old one's store kept (MemoryStore.reopen);
the old broker is abandoned mid-flight, as a killed process would be."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop, persistent, settle

from brookmq.core.broker import Broker
from brookmq.core.clock import ManualClock
from brookmq.extensions.delayed import DelayedPublish
from brookmq.mqtt import packets as pk
from brookmq.storage.memory import MemoryStore


class Node:
    """A broker on a memory store that can be restarted."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.store = MemoryStore()
        self.broker = self._start(self.store)

    def _start(self, store: MemoryStore) -> Broker:
        broker = Broker(clock=self.clock, store=store)
        broker.restore()
        store.attach(broker)
        return broker

    def restart(self) -> Broker:
        self.store = self.store.reopen()
        self.broker = self._start(self.store)
        return self.broker

    def client(self, version: int = pk.MQTT_5) -> MemoryClient:
        return MemoryClient(self.broker, version)


@pytest.fixture
def node(clock: ManualClock) -> Node:
    return Node(clock)


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_persistent_session_resumes_after_a_restart_with_its_queue(node: Node, version: int) -> None:
    sub = node.client(version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t/#", 2)
    sub.send(pk.Disconnect())
    pub = node.client(version)
    pub.connect("p")
    pub.publish("t/1", b"one", 1)
    pub.publish("t/2", b"two", 2, packet_id=2)
    node.restart()
    again = node.client(version)
    assert again.connect("s", clean_start=False, **persistent(version)).session_present
    assert [(m.topic, m.payload, m.qos) for m in again.publishes()] == [
        ("t/1", b"one", 1),
        ("t/2", b"two", 2),
    ]
    pub = node.client(version)
    pub.connect("p2")
    pub.publish("t/3", b"three", 1)
    assert [m.payload for m in again.publishes()] == [b"three"]  # the subscription came back too


@pytest.mark.parametrize("version", VERSIONS)
async def test_messages_in_flight_at_a_crash_are_resent_with_dup_and_their_packet_ids(
    node: Node, version: int
) -> None:
    sub = node.client(version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t", 2)
    pub = node.client(version)
    pub.connect("p")
    pub.publish("t", b"q1", 1)
    pub.publish("t", b"q2", 2, packet_id=2)
    pub.publish("t", b"q2-half", 2, packet_id=3)
    first = sub.publishes()
    sub.send(pk.Pubrec(first[2].packet_id))  # the third is half done: PUBREL owed
    node.restart()
    again = node.client(version)
    again.connect("s", clean_start=False, **persistent(version))
    got = again.recv_all()
    assert [(m.payload, m.packet_id, m.dup) for m in got if isinstance(m, pk.Publish)] == [
        (b"q1", first[0].packet_id, True),
        (b"q2", first[1].packet_id, True),
    ]
    assert pk.Pubrel(first[2].packet_id) in got


@pytest.mark.parametrize("version", VERSIONS)
async def test_an_inbound_qos2_flow_cut_by_a_restart_completes_exactly_once(node: Node, version: int) -> None:
    sub = node.client(version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t", 0)
    pub = node.client(version)
    pub.connect("p", clean_start=False, **persistent(version))
    pub.publish("t", b"once", 2, packet_id=7)
    assert pub.recv() == pk.Pubrec(7)
    assert [m.payload for m in sub.publishes()] == [b"once"]
    node.restart()
    sub = node.client(version)
    sub.connect("s", clean_start=False, **persistent(version))
    pub = node.client(version)
    assert pub.connect("p", clean_start=False, **persistent(version)).session_present
    pub.send(pk.Publish("t", b"once", 2, packet_id=7, dup=True))  # the client resends: PUBREC was lost
    assert pub.recv() == pk.Pubrec(7)
    pub.send(pk.Pubrel(7))
    assert pub.recv() == pk.Pubcomp(7)
    assert sub.publishes() == []  # delivered before the restart, and only then


async def test_retained_messages_and_their_deletion_survive_a_restart(node: Node) -> None:
    pub = node.client()
    pub.connect("p")
    pub.publish("r/1", b"keep", 1, retain=True)
    pub.publish("r/2", b"old", 0, retain=True)
    pub.publish("r/2", b"", 0, retain=True)  # deletes it
    node.restart()
    sub = node.client()
    sub.connect("s")
    sub.subscribe("r/#", 1)
    assert [(m.topic, m.payload, m.retain) for m in sub.publishes()] == [("r/1", b"keep", True)]


def victim_and_watcher(node: Node, will: pk.Will) -> MemoryClient:
    """A persistent watcher of ``wills/#`` and a connected persistent client ``v`` with ``will``."""
    watcher = node.client()
    watcher.connect("w", clean_start=False, **persistent(pk.MQTT_5))
    watcher.subscribe("wills/#", 1)
    victim = node.client()
    victim.connect("v", clean_start=False, will=will, **persistent(pk.MQTT_5))
    return victim


async def wills_after_restart(node: Node) -> list[tuple[str, bytes]]:
    """Restart, then what the watcher got."""
    node.restart()
    await settle()
    watcher = node.client()
    watcher.connect("w", clean_start=False, **persistent(pk.MQTT_5))
    return [(m.topic, m.payload) for m in watcher.publishes()]


async def test_the_will_of_a_client_connected_at_a_crash_is_published_after_the_restart(node: Node) -> None:
    victim_and_watcher(node, pk.Will("wills/v", b"gone", 1))
    assert await wills_after_restart(node) == [("wills/v", b"gone")]


async def test_a_normal_disconnect_leaves_no_will_to_publish_after_a_restart(node: Node) -> None:
    victim = victim_and_watcher(node, pk.Will("wills/v", b"gone", 1))
    victim.send(pk.Disconnect())
    assert await wills_after_restart(node) == []


async def test_a_session_expires_by_the_time_it_disconnected_not_by_the_restart(
    node: Node, clock: ManualClock
) -> None:
    sub = node.client()
    sub.connect("s", clean_start=False, **persistent(pk.MQTT_5, expiry=60))
    sub.subscribe("t", 1)
    sub.send(pk.Disconnect())
    clock.advance(61)
    broker = node.restart()
    assert "s" not in broker.sessions
    again = node.client()
    assert not again.connect("s", clean_start=False, **persistent(pk.MQTT_5)).session_present
    [stored] = node.store.reopen().load_sessions()  # the new session, without the old one's subscription
    assert stored.subscriptions == []


async def test_a_session_resumed_with_expiry_0_leaves_the_store(node: Node) -> None:
    sub = node.client()
    sub.connect("s", clean_start=False, **persistent(pk.MQTT_5))
    sub.subscribe("t", 1)
    sub.send(pk.Disconnect())
    again = node.client()
    assert again.connect("s", clean_start=False).session_present  # expiry 0 from now on
    broker = node.restart()
    assert "s" not in broker.sessions


@pytest.mark.parametrize("version", VERSIONS)
async def test_clean_sessions_and_their_qos0_traffic_never_touch_the_store(node: Node, version: int) -> None:
    sub = node.client(version)
    sub.connect("s")
    sub.subscribe("t", 2)
    pub = node.client(version)
    pub.connect("p")
    before = node.store.writes
    for qos in (0, 1, 2):
        pub.publish("t", b"x", qos, packet_id=qos)
    for m in sub.publishes():
        if m.qos == 1:
            sub.send(pk.Puback(m.packet_id))
    sub.send(pk.Disconnect())
    assert node.store.writes == before


class ManualCommitStore(MemoryStore):
    """A memory store whose transactions commit when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[Callable[[], None]] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.waiting.append(callback)

    def commit(self) -> None:
        waiting, self.waiting = self.waiting, []
        assert self.events is not None
        self.events.committed(waiting)


def manual_broker(clock: ManualClock, ack_after_commit: bool = True) -> tuple[Broker, ManualCommitStore]:
    store = ManualCommitStore()
    broker = Broker(clock=clock, store=store, ack_after_commit=ack_after_commit)
    store.attach(broker)
    return broker, store


@pytest.mark.parametrize("version", VERSIONS)
async def test_puback_waits_until_the_message_is_committed(clock: ManualClock, version: int) -> None:
    broker, store = manual_broker(clock)
    sub = MemoryClient(broker, version)
    sub.connect("s", clean_start=False, **persistent(version))
    sub.subscribe("t", 1)
    sub.send(pk.Disconnect())
    pub = MemoryClient(broker, version)
    pub.connect("p")
    pub.publish("t", b"durable", 1, packet_id=1)
    pub.publish("nobody/listens", b"x", 1, packet_id=2)  # nothing to store, but acks keep their order
    pub.publish("t", b"durable", 2, packet_id=3)
    assert pub.recv_all() == []
    store.commit()
    got = pub.recv_all()
    assert [(type(p).__name__, p.packet_id) for p in got] == [("Puback", 1), ("Puback", 2), ("Pubrec", 3)]
    pub.send(pk.Pubrel(3))
    assert pub.recv_all() == [pk.Pubcomp(3)]  # the publisher's session is clean: nothing to wait for


async def test_a_retained_publish_is_acknowledged_after_commit(clock: ManualClock) -> None:
    broker, store = manual_broker(clock)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("r", b"x", 1, retain=True)
    assert pub.recv_all() == []
    store.commit()
    assert [type(p) for p in pub.recv_all()] == [pk.Puback]


async def test_with_ack_immediate_nothing_waits_for_the_store(clock: ManualClock) -> None:
    broker, store = manual_broker(clock, ack_after_commit=False)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("r", b"x", 1, retain=True)
    assert [type(p) for p in pub.recv_all()] == [pk.Puback]
    assert store.waiting == []


async def test_pubcomp_waits_for_the_persistent_publisher_s_qos2_id_to_be_forgotten(
    clock: ManualClock,
) -> None:
    broker, store = manual_broker(clock)
    pub = MemoryClient(broker)
    pub.connect("p", clean_start=False, **persistent(pk.MQTT_5))
    pub.publish("t", b"x", 2, packet_id=4)
    store.commit()
    assert pub.recv().packet_id == 4
    pub.send(pk.Pubrel(4))
    assert pub.recv_all() == []
    store.commit()
    assert pub.recv_all() == [pk.Pubcomp(4)]


async def test_delayed_messages_are_published_when_due_even_after_a_restart(
    node: Node, clock: ManualClock
) -> None:
    delayed = DelayedPublish(node.broker)
    delayed.start()
    sub = node.client()
    sub.connect("s", clean_start=False, **persistent(pk.MQTT_5))
    sub.subscribe("later/#", 1)
    pub = node.client()
    pub.connect("p")
    pub.publish("$delayed/10/later/x", b"tick", 1)
    assert pub.recv(pk.Puback).reason_code == 0x10  # nobody subscribes to the $delayed topic itself
    assert sub.publishes() == []
    delayed.stop()
    clock.advance(11)
    broker = node.restart()
    DelayedPublish(broker).start()
    await settle()
    again = node.client()
    again.connect("s", clean_start=False, **persistent(pk.MQTT_5))
    assert [(m.topic, m.payload) for m in again.publishes()] == [("later/x", b"tick")]
    assert node.store.reopen().load_delayed() == []


async def test_a_malformed_delayed_topic_is_published_as_it_is(node: Node) -> None:
    DelayedPublish(node.broker).start()
    sub = node.client()
    sub.connect("s")
    sub.subscribe("$delayed/#", 0)
    pub = node.client()
    pub.connect("p")
    for topic in ("$delayed/soon/t", "$delayed/10", "$delayed/4294968/t"):
        pub.publish(topic, b"x")
    assert [m.topic for m in sub.publishes()] == ["$delayed/soon/t", "$delayed/10", "$delayed/4294968/t"]


async def test_qos2_publish_and_pubrel_to_a_persistent_subscriber_wait_for_their_commits(
    clock: ManualClock,
) -> None:
    broker, store = manual_broker(clock)
    sub = MemoryClient(broker)
    sub.connect("s", clean_start=False, **persistent(pk.MQTT_5))
    sub.subscribe("t", 2)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"x", 2)
    assert sub.publishes() == []  # its packet id must be on disk before a QoS 2 receiver holds it
    store.commit()
    [m] = sub.publishes()
    sub.send(pk.Pubrec(m.packet_id))
    assert sub.recv_all() == []  # a crash now must resend PUBLISH, so the subscriber keeps the id
    store.commit()
    assert sub.recv_all() == [pk.Pubrel(m.packet_id)]


@pytest.mark.parametrize(("down_for", "published"), [(10, False), (31, True)])
async def test_a_delayed_will_keeps_its_deadline_across_a_restart(
    node: Node, clock: ManualClock, down_for: int, published: bool
) -> None:
    victim = victim_and_watcher(node, pk.Will("wills/v", b"gone", 1, properties={"will_delay_interval": 30}))
    drop(victim)  # the will is due in 30 s
    clock.advance(down_for)
    assert await wills_after_restart(node) == ([("wills/v", b"gone")] if published else [])
    if not published:
        again = node.client()
        again.connect("v", clean_start=False, **persistent(pk.MQTT_5))  # back in time: no will
        assert node.broker.sessions["v"].pending_will is None


async def test_a_withdrawn_delayed_message_is_never_published_nor_kept(node: Node) -> None:
    delayed = DelayedPublish(node.broker)
    delayed.start()
    sub = node.client()
    sub.connect("s")
    sub.subscribe("later/#", 0)
    pub = node.client()
    pub.connect("p")
    pub.publish("$delayed/0/later/x", b"never")
    [key] = delayed.messages
    assert delayed.delete(key) and not delayed.delete(key)
    await settle()
    assert sub.publishes() == []
    assert node.store.reopen().load_delayed() == []
