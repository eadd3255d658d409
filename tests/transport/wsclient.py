"""A small WebSocket client for tests, on wsproto (the same library the broker uses, client side)."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    RejectConnection,
    Request,
)


class WsClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.ws = WSConnection(ConnectionType.CLIENT)
        self.events: list[Event] = []
        self.accepted: AcceptConnection | None = None
        self.rejected: RejectConnection | None = None

    @classmethod
    async def connect(
        cls,
        port: int,
        path: str = "/mqtt",
        subprotocols: tuple[str, ...] = ("mqtt",),
        headers: list[tuple[bytes, bytes]] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> WsClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
        client = cls(reader, writer)
        writer.write(
            client.ws.send(
                Request(
                    host="localhost",
                    target=path,
                    subprotocols=list(subprotocols),
                    extra_headers=headers or [],
                )
            )
        )
        while client.accepted is None and client.rejected is None:
            event = await client.next_event()
            if event is None:
                break
            if isinstance(event, AcceptConnection):
                client.accepted = event
            elif isinstance(event, RejectConnection):
                client.rejected = event
        return client

    async def next_event(self, timeout: float = 5) -> Event | None:
        while not self.events:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                return None
            self.ws.receive_data(data)
            self.events.extend(self.ws.events())
        return self.events.pop(0)

    def send(self, data: bytes) -> None:
        self.writer.write(self.ws.send(BytesMessage(data)))

    def ping(self, payload: bytes = b"hi") -> None:
        self.writer.write(self.ws.send(Ping(payload)))

    async def recv_bytes(self, want: int, timeout: float = 5) -> bytes:
        out = b""
        while len(out) < want:
            event = await self.next_event(timeout)
            if event is None:
                break
            if isinstance(event, BytesMessage):
                out += bytes(event.data)
            elif isinstance(event, Ping):
                self.writer.write(self.ws.send(event.response()))
        return out

    async def until(self, kind: type, timeout: float = 5) -> Any:
        while True:
            event = await self.next_event(timeout)
            if event is None or isinstance(event, kind):
                return event

    def close(self) -> None:
        self.writer.write(self.ws.send(CloseConnection(code=1000)))
