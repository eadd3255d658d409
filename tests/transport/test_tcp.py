"""The broker on a real TCP listener (loopback), through the app that `brookmq start` runs."""

from __future__ import annotations

import asyncio
import gc

import psutil
import pytest

from brookmq.app.server import BrookMQ
from brookmq.config import load_settings
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode
from brookmq.mqtt.reader import PacketReader
from tests.transport.conftest import LOOPBACK_LISTENERS


@pytest.fixture
async def app(tmp_path):
    settings = load_settings(
        environ={
            **LOOPBACK_LISTENERS,
            "BROOKMQ_NODE__DATA_DIR": str(tmp_path),
            "BROOKMQ_SYS_TOPICS__SYS_MSG_INTERVAL": "200ms",
            "BROOKMQ_SYS_TOPICS__SYS_HEARTBEAT_INTERVAL": "200ms",
        }
    )
    server = BrookMQ(settings)
    await server.start()
    yield server
    await server.stop()


class Wire:
    """A raw TCP MQTT client speaking through the project's codec."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, version: int):
        self.reader, self.writer, self.version = reader, writer, version
        self.decoder = PacketReader(version=version)
        self.decoder.awaiting_connect = False
        self.pending: list[pk.Packet] = []

    @classmethod
    async def open(cls, app: BrookMQ, version: int = pk.MQTT_5) -> Wire:
        reader, writer = await asyncio.open_connection("127.0.0.1", app.listeners.get("tcp:default").port)
        return cls(reader, writer, version)

    def send(self, packet: pk.Packet) -> None:
        self.writer.write(encode(packet, self.version))

    async def recv(self, timeout: float = 5) -> pk.Packet | None:
        """The next packet, or None when the broker closed the connection."""
        while not self.pending:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                return None
            self.pending.extend(self.decoder.feed(data))
        return self.pending.pop(0)

    async def connect(self, client_id: str, **kwargs) -> pk.Connack:
        self.send(pk.Connect(client_id, self.version, **kwargs))
        ack = await self.recv()
        assert isinstance(ack, pk.Connack) and ack.reason_code == 0
        return ack


async def test_publish_and_subscribe_over_tcp(app):
    sub = await Wire.open(app, pk.MQTT_3_1_1)
    await sub.connect("sub")
    sub.send(pk.Subscribe(1, [("t/#", pk.SubscriptionOptions(1))]))
    assert await sub.recv() == pk.Suback(1, [1])
    pub = await Wire.open(app, pk.MQTT_5)
    await pub.connect("pub")
    pub.send(pk.Publish("t/1", b"over tcp", 1, packet_id=3))
    assert await pub.recv() == pk.Puback(3)
    msg = await sub.recv()
    assert isinstance(msg, pk.Publish) and (msg.topic, msg.payload, msg.qos) == ("t/1", b"over tcp", 1)
    client = app.broker.sessions["sub"].connection
    assert client.peerhost == "127.0.0.1" and client.listener == "tcp:default"


async def test_graceful_stop_tells_v5_clients_0x8B_and_closes_everyone(app):
    v5 = await Wire.open(app, pk.MQTT_5)
    await v5.connect("v5")
    v3 = await Wire.open(app, pk.MQTT_3_1_1)
    await v3.connect("v3")
    await app.stop()
    assert await v5.recv() == pk.Disconnect(0x8B)
    assert await v5.recv() is None
    assert await v3.recv() is None
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", app.listeners.get("tcp:default").port)


async def test_huge_declared_first_packets_do_not_grow_memory(app):
    # mosquitto 01-bad-initial-packets: 14 sockets, each a non-CONNECT header declaring ~100 MB
    gc.collect()
    before = psutil.Process().memory_info().rss
    wires = [await Wire.open(app) for _ in range(14)]
    for i, w in enumerate(wires):
        first = [0x30, 0x82, 0xC0, 0xE0, 0x62, 0x40, 0xA2][i % 7]
        w.writer.write(bytes((first, 0x80, 0x80, 0x80, 0x30)) + b"\xaa" * 65536)
    for w in wires:
        assert await w.recv() is None  # closed, nothing answered
    gc.collect()
    growth = psutil.Process().memory_info().rss - before
    assert growth < 20_000_000, growth


async def test_other_clients_carry_on_when_one_sends_garbage(app):
    good = await Wire.open(app)
    await good.connect("good")
    bad = await Wire.open(app)
    await bad.connect("bad")
    bad.writer.write(b"\x30\x04\x00\x02\xc3\x28")  # ill-formed UTF-8 topic
    assert await bad.recv() == pk.Disconnect(0x81, {"reason_string": "ill-formed UTF-8 string"})
    good.send(pk.Pingreq())
    assert await good.recv() == pk.Pingresp()


async def test_sys_topics_are_published_periodically_and_on_client_events(app):
    sub = await Wire.open(app)
    await sub.connect("watcher")
    sub.send(
        pk.Subscribe(
            1,
            [
                ("$SYS/brokers/+/version", pk.SubscriptionOptions()),
                ("$SYS/brokers/+/clients/+/connected", pk.SubscriptionOptions()),
            ],
        )
    )
    assert isinstance(await sub.recv(), pk.Suback)
    other = await Wire.open(app)
    await other.connect("someone")
    topics = set()
    while len(topics) < 2:
        msg = await sub.recv()
        assert isinstance(msg, pk.Publish)
        topics.add(msg.topic)
    node = app.broker.node_name
    assert topics == {f"$SYS/brokers/{node}/version", f"$SYS/brokers/{node}/clients/someone/connected"}


async def test_client_closing_its_socket_is_seen_as_a_disconnect(app):
    c = await Wire.open(app)
    await c.connect("leaver")
    c.writer.close()
    for _ in range(50):
        if "leaver" not in app.broker.sessions:
            break
        await asyncio.sleep(0.02)
    assert "leaver" not in app.broker.sessions
    assert app.broker.connected == 0


async def test_a_subscriber_that_never_reads_is_bounded_and_hurts_nobody(app):
    # reliability 1.18: slow consumer over a real socket; its queue stays bounded
    stuck = await Wire.open(app, pk.MQTT_3_1_1)
    await stuck.connect("stuck")
    stuck.send(pk.Subscribe(1, [("load", pk.SubscriptionOptions(0))]))
    assert await stuck.recv() == pk.Suback(1, [0])
    healthy = await Wire.open(app, pk.MQTT_3_1_1)
    await healthy.connect("healthy")
    healthy.send(pk.Subscribe(1, [("load", pk.SubscriptionOptions(0))]))
    assert await healthy.recv() == pk.Suback(1, [0])
    pub = await Wire.open(app, pk.MQTT_3_1_1)
    await pub.connect("pub")
    payload = b"x" * 1024
    for _ in range(20):  # 20 MB in all, far more than socket buffers hold
        pub.writer.write(encode(pk.Publish("load", payload), pk.MQTT_3_1_1) * 1000)
        await pub.writer.drain()
        for _ in range(1000):  # the healthy subscriber keeps up, round by round
            msg = await healthy.recv()
            assert isinstance(msg, pk.Publish) and msg.payload == payload
    session = app.broker.sessions["stuck"]
    assert not session.connection.writable
    assert len(session.mqueue) <= app.broker.options.max_mqueue_len
    assert app.broker.counters["delivery.dropped.queue_full"] > 0
