"""The plain TCP listener."""

from __future__ import annotations

import asyncio
import logging

from brookmq.core.broker import Broker
from brookmq.core.connection import Connection

log = logging.getLogger("brookmq.listener")


def parse_bind(bind: str | int) -> tuple[str, int]:
    """``"0.0.0.0:1883"``, ``"[::1]:1883"``, ``":1883"`` or ``1883`` -> (host, port)."""
    text = str(bind).strip()
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = "0.0.0.0", text
    host = host.strip("[]") or "0.0.0.0"
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"bind {bind!r} is not host:port")
    return host, int(port)


class TcpListener:
    def __init__(self, broker: Broker, name: str, bind: str | int) -> None:
        self.broker = broker
        self.name = f"tcp:{name}"
        self.host, self.port = parse_bind(bind)
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            self._protocol, self.host, self.port, reuse_address=True, backlog=4096
        )
        sock = self.server.sockets[0]
        self.port = sock.getsockname()[1]  # the real port when 0 was asked for
        log.info("listener %s on %s:%d", self.name, self.host, self.port)

    def _protocol(self) -> Connection:
        return Connection(self.broker, self.name)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
