"""Kill -9 the broker at random moments while QoS 1 and QoS 2 messages flow to
persistent subscribers and to retained topics; restart it each time. Afterwards
every message the publisher had an acknowledgement for (PUBACK, or PUBREC for
QoS 2) was delivered: QoS 1 at least once, QoS 2 exactly once; every
acknowledged retained message is there.

``make test`` runs 3 kills; ``make test-crash`` (marked slow) runs 20."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from brookmq.mqtt import packets as pk
from tests.durability.process import BrokerProcess, Wire

WINDOW = 20  # messages a publisher has in flight


def _open(port: int, client_id: str, clean: bool, stop: threading.Event) -> Wire | None:
    """Connect, retrying while the broker is down."""
    while not stop.is_set():
        try:
            wire = Wire(port)
            wire.connect(client_id, clean_start=clean)
            return wire
        except (OSError, ConnectionError, AssertionError):
            time.sleep(0.05)
    return None


class Subscriber(threading.Thread):
    """A persistent-session subscriber that handles QoS 2 like a real client: a message counts
    once, when PUBREL releases it; a resent PUBLISH with an id it holds is a duplicate."""

    def __init__(self, port: int, topic: str, qos: int) -> None:
        super().__init__(daemon=True)
        self.port, self.topic, self.qos = port, topic, qos
        self.client_id = f"sub-{topic.replace('/', '-')}"
        self.counts: Counter[bytes] = Counter()
        self.held: dict[int, bytes] = {}  # QoS 2 ids received, not yet released
        self.stop = threading.Event()
        self.last = time.monotonic()

    def subscribe(self) -> None:
        """Subscribe and wait until the subscription is committed (a message to it is acked)."""
        wire = Wire(self.port)
        wire.connect(self.client_id, clean_start=False)
        wire.send(pk.Subscribe(1, [(self.topic, pk.SubscriptionOptions(self.qos))]))
        assert isinstance(wire.recv(), pk.Suback)
        wire.send(pk.Publish(self.topic, b"ready", 1, packet_id=2))
        while wire.recv() != pk.Puback(2):
            pass
        wire.close()

    def run(self) -> None:
        while not self.stop.is_set():
            wire = _open(self.port, self.client_id, False, self.stop)
            if wire is None:
                return
            try:
                while not self.stop.is_set():
                    try:
                        packet = wire.recv(timeout=0.2)
                    except TimeoutError:
                        continue
                    self.last = time.monotonic()
                    self._handle(wire, packet)
            except (OSError, ConnectionError):
                pass
            finally:
                wire.close()

    def _handle(self, wire: Wire, packet: pk.Packet) -> None:
        if isinstance(packet, pk.Publish):
            if packet.qos == 1:
                self.counts[packet.payload] += 1
                wire.send(pk.Puback(packet.packet_id))
            elif packet.qos == 2:
                self.held.setdefault(packet.packet_id, packet.payload)
                wire.send(pk.Pubrec(packet.packet_id))
        elif isinstance(packet, pk.Pubrel):
            payload = self.held.pop(packet.packet_id, None)
            if payload is not None:
                self.counts[payload] += 1
            wire.send(pk.Pubcomp(packet.packet_id))


class Publisher(threading.Thread):
    """Publishes numbered messages, a window at a time, and remembers which were acknowledged.
    Nothing is resent: an unacknowledged message may or may not have been delivered."""

    def __init__(self, port: int, topic: str, qos: int, retain: bool = False) -> None:
        super().__init__(daemon=True)
        self.port, self.topic, self.qos, self.retain = port, topic, qos, retain
        self.acked: set[bytes] = set()
        self.sent = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            wire = _open(self.port, f"pub-{self.topic.replace('/', '-')}", True, self.stop)
            if wire is None:
                return
            inflight: dict[int, bytes] = {}
            try:
                while not self.stop.is_set():
                    while len(inflight) < WINDOW:
                        self.sent += 1
                        payload = f"{self.sent}".encode()
                        pid = self.sent % 65535 + 1
                        inflight[pid] = payload
                        topic = f"{self.topic}/{self.sent}" if self.retain else self.topic
                        wire.send(pk.Publish(topic, payload, self.qos, self.retain, packet_id=pid))
                    packet = wire.recv(timeout=2)
                    if isinstance(packet, pk.Puback | pk.Pubrec):
                        self.acked.add(inflight[packet.packet_id])
                        if isinstance(packet, pk.Pubrec):
                            wire.send(pk.Pubrel(packet.packet_id))
                        else:
                            del inflight[packet.packet_id]
                    elif isinstance(packet, pk.Pubcomp):
                        del inflight[packet.packet_id]
            except (OSError, ConnectionError):
                pass
            finally:
                wire.close()


def retained_topics(port: int, prefix: str) -> set[str]:
    wire = Wire(port)
    wire.connect("retained-check")
    wire.send(pk.Subscribe(1, [(f"{prefix}/#", pk.SubscriptionOptions(0))]))
    topics = set()
    try:
        while True:
            packet = wire.recv(timeout=1)
            if isinstance(packet, pk.Publish):
                topics.add(packet.topic)
    except TimeoutError:
        pass
    wire.close()
    return topics


def crash_and_check(data_dir: Path, kills: int, seed: int) -> None:
    rng = random.Random(seed)
    node = BrokerProcess(data_dir, BROOKMQ_MQTT__MAX_MQUEUE_LEN="0").start()
    try:
        subs = [Subscriber(node.port, "crash/q1", 1), Subscriber(node.port, "crash/q2", 2)]
        for sub in subs:
            sub.subscribe()
        pubs = [
            Publisher(node.port, "crash/q1", 1),
            Publisher(node.port, "crash/q2", 2),
            Publisher(node.port, "crash/retained", 1, retain=True),
        ]
        for thread in (*subs, *pubs):
            thread.start()
        for _ in range(kills):
            time.sleep(rng.uniform(0.2, 1.0))
            node.kill()
            node.start()
        time.sleep(0.5)
        for pub in pubs:
            pub.stop.set()
            pub.join(10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(time.monotonic() - s.last < 1.5 for s in subs):
            time.sleep(0.2)  # until the subscribers have been idle a while
        for sub in subs:
            sub.stop.set()
            sub.join(10)
        q1, q2, retained = pubs
        assert len(q1.acked) > 50 and len(q2.acked) > 50, "too little traffic to mean anything"
        lost1 = sorted(int(p) for p in q1.acked if subs[0].counts[p] < 1)
        assert not lost1, f"acknowledged QoS 1 messages never delivered: {lost1[:20]}"
        lost2 = sorted(int(p) for p in q2.acked if subs[1].counts[p] < 1)
        assert not lost2, f"acknowledged QoS 2 messages never delivered: {lost2[:20]}"
        twice = sorted(int(p) for p, n in subs[1].counts.items() if n > 1 and p != b"ready")
        assert not twice, f"QoS 2 messages delivered more than once: {twice[:20]}"
        present = retained_topics(node.port, "crash/retained")
        missing = sorted(int(p) for p in retained.acked if f"crash/retained/{int(p)}" not in present)
        assert not missing, f"acknowledged retained messages missing: {missing[:20]}"
    finally:
        node.kill()


def test_acknowledged_messages_survive_kill_9_short(tmp_path: Path) -> None:
    crash_and_check(tmp_path / "data", kills=3, seed=1)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_acknowledged_messages_survive_kill_9_at_20_moments(tmp_path: Path) -> None:
    crash_and_check(tmp_path / "data", kills=20, seed=int(time.time()))
