"""Drive a core Connection through an in-memory byte stream, no sockets.

``MemoryClient`` speaks MQTT with the project's codec: it writes encoded
packets into the connection and decodes whatever the broker writes back.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.connection import Connection
from brookmq.core.listener import ListenerContext
from brookmq.mqtt import packets as pk
from brookmq.mqtt.codec import encode
from brookmq.mqtt.reader import PacketReader


class MemoryTransport(asyncio.Transport):
    def __init__(self, client: MemoryClient, peer: tuple[str, int]) -> None:
        super().__init__()
        self.client = client
        self.peer = peer
        self.closed = False
        self.reading = True

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self.closed:
            self.client.received(bytes(data))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            asyncio.get_running_loop().call_soon(self.client.conn.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default


class MemoryClient:
    _ports = itertools.cycle(range(40000, 65000))  # fake peer ports; long fuzz runs make many clients

    def __init__(
        self,
        broker: Broker,
        version: int = pk.MQTT_5,
        context: ListenerContext | None = None,
        peerhost: str = "127.0.0.1",
    ) -> None:
        self.broker = broker
        self.version = version
        self.conn = Connection(broker, context)
        self.transport = MemoryTransport(self, (peerhost, next(self._ports)))
        self.reader = PacketReader(version=version)
        self.reader.awaiting_connect = False
        self.inbox: deque[pk.Packet] = deque()
        self.conn.connection_made(self.transport)

    # ------------------------------------------------------------ wire

    def received(self, data: bytes) -> None:
        self.inbox.extend(self.reader.feed(data))
        assert self.reader.error is None, f"broker sent bad bytes: {self.reader.error}"

    def send(self, packet: pk.Packet) -> None:
        self.send_raw(encode(packet, self.version))

    def send_raw(self, data: bytes) -> None:
        self.conn.data_received(data)

    @property
    def closed(self) -> bool:
        return self.transport.closed

    def recv(self, kind: type | None = None) -> Any:
        """The next packet the broker sent, or the first of ``kind`` (others keep their order)."""
        assert self.inbox, "the broker sent nothing"
        if kind is None:
            return self.inbox.popleft()
        for packet in self.inbox:
            if isinstance(packet, kind):
                self.inbox.remove(packet)
                return packet
        raise AssertionError(f"expected a {kind.__name__}, got {list(self.inbox)!r}")

    def recv_all(self) -> list[pk.Packet]:
        out = list(self.inbox)
        self.inbox.clear()
        return out

    def publishes(self) -> list[pk.Publish]:
        out = [p for p in self.inbox if isinstance(p, pk.Publish)]
        self.inbox = deque(p for p in self.inbox if not isinstance(p, pk.Publish))
        return out

    # ------------------------------------------------------------ helpers

    def connect(self, client_id: str = "c", clean_start: bool = True, **kwargs: Any) -> pk.Connack:
        self.send(pk.Connect(client_id, self.version, clean_start, **kwargs))
        return self.recv(pk.Connack)

    def subscribe(self, topic: str, qos: int = 0, packet_id: int = 1, **kwargs: Any) -> pk.Suback:
        props = kwargs.pop("properties", {})
        self.send(pk.Subscribe(packet_id, [(topic, pk.SubscriptionOptions(qos, **kwargs))], props))
        return self.recv(pk.Suback)

    def publish(
        self, topic: str, payload: bytes = b"x", qos: int = 0, packet_id: int = 0, **kwargs: Any
    ) -> None:
        self.send(pk.Publish(topic, payload, qos, packet_id=packet_id or (1 if qos else 0), **kwargs))


def persistent(version: int, expiry: int = 300) -> dict[str, Any]:
    """CONNECT arguments for a session that outlives its connection (3.x: clean_start=False does it)."""
    return {"properties": {"session_expiry_interval": expiry}} if version == pk.MQTT_5 else {}


async def settle() -> None:
    """Let callbacks scheduled with call_soon (connection_lost) run."""
    for _ in range(3):
        await asyncio.sleep(0)


def drop(client: MemoryClient) -> None:
    """The network connection dies without a DISCONNECT."""
    client.transport.closed = True
    client.conn.connection_lost(ConnectionResetError())
