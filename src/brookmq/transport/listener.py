"""Listeners of every kind (tcp, ssl, ws, wss) and the registry that starts and stops them.

A listener builds the stream layers for each accepted socket -- TLS, then
WebSocket, then the core's MQTT Connection -- and keeps the figures the
management API reports: current connections and why connections ended.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from brookmq.core.broker import Broker
from brookmq.core.connection import Connection
from brookmq.core.listener import ListenerContext
from brookmq.core.options import MqttOptions
from brookmq.transport.layer import StreamLayer
from brookmq.transport.options import LISTENER_TYPES, ListenerOptions
from brookmq.transport.tls import TlsLayer, server_context
from brookmq.transport.websocket import WebSocketLayer

log = logging.getLogger("brookmq.listener")


class ListenerState(ListenerContext):
    """The core's view of a listener, plus its counts."""

    def __init__(
        self, kind: str, name: str, options: ListenerOptions, zone: MqttOptions | None = None
    ) -> None:
        super().__init__(f"{kind}:{name}", options.mountpoint, zone, options.zone)
        self.settings = options
        self.connections: set[Connection] = set()
        self.handshaking: set[StreamLayer] = set()  # TLS / WebSocket connections not yet speaking MQTT
        self.shutdown_count: Counter[str] = Counter()

    def opened(self, conn: Any) -> bool:
        limit = self.settings.max_connections
        if limit and len(self.connections) >= limit:
            self.shutdown_count["max_connections"] += 1
            log.info("%s refused %s: max_connections %d reached", self.name, conn.peerhost, limit)
            return False
        self.connections.add(conn)
        return True

    def closed(self, conn: Any, reason: str) -> None:
        self.connections.discard(conn)
        self.shutdown_count[reason] += 1

    def failed(self, kind: str, why: str) -> None:
        """A ``tls_error`` or ``websocket_error`` before MQTT began."""
        self.shutdown_count[kind] += 1

    def identity(self, transport: Any) -> tuple[str | None, str | None]:
        as_username = self.settings.peer_cert_as_username
        as_clientid = self.settings.peer_cert_as_clientid
        if as_username == "disabled" and as_clientid == "disabled":
            return None, None
        der = transport.get_extra_info("peercert_der")
        if not der:
            return None, None
        subject = x509.load_der_x509_certificate(der).subject
        cns = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        fields = {"cn": str(cns[0].value) if cns else None, "dn": subject.rfc4514_string(), "disabled": None}
        return fields[as_username], fields[as_clientid]


class Listener:
    def __init__(
        self,
        broker: Broker,
        kind: str,
        name: str,
        options: ListenerOptions,
        data_dir: str | Path,
        zone: MqttOptions | None = None,
    ):
        if kind not in LISTENER_TYPES:
            raise ValueError(f"unknown listener type {kind!r}")
        self.broker = broker
        self.kind = kind
        self.name = name
        self.options = options
        self.data_dir = data_dir
        self.host, self.port = options.address(kind)
        self.state = ListenerState(kind, name, options, zone)
        self.server: asyncio.Server | None = None

    @property
    def id(self) -> str:
        return self.state.name

    @property
    def running(self) -> bool:
        return self.server is not None

    def _factory(self) -> Callable[[], asyncio.Protocol]:
        broker, state, opts = self.broker, self.state, self.options
        idle = broker.options.idle_timeout

        def mqtt() -> asyncio.Protocol:
            return Connection(broker, state)

        factory = mqtt
        if self.kind in ("ws", "wss"):

            def websocket() -> asyncio.Protocol:
                return WebSocketLayer(
                    opts.websocket, mqtt, idle, partial(state.failed, "websocket_error"), state.handshaking
                )

            factory = websocket
        if self.kind in ("ssl", "wss"):
            context = server_context(opts.ssl_options, self.data_dir)
            timeout = opts.ssl_options.handshake_timeout
            plain = factory

            def tls() -> asyncio.Protocol:
                return TlsLayer(
                    context, plain, timeout, partial(state.failed, "tls_error"), state.handshaking
                )

            factory = tls
        return factory

    async def start(self) -> None:
        if self.server is not None:
            return
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            self._factory(), self.host, self.options.address(self.kind)[1], reuse_address=True, backlog=4096
        )
        self.port = self.server.sockets[0].getsockname()[1]  # the real port when 0 was asked for
        log.info("listener %s on %s:%d", self.id, self.host, self.port)

    async def stop(self, reason: str = "listener_stopped") -> None:
        """Stop accepting and disconnect this listener's clients (v5: 0x8B); others are untouched."""
        if self.server is None:
            return
        self.server.close()
        self.server = None
        for conn in list(self.state.connections):
            conn.evict(reason)
        for layer in list(self.state.handshaking):
            if layer.raw is not None:
                layer.raw.close()
        log.info("listener %s stopped", self.id)

    def info(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.kind,
            "name": self.name,
            "bind": f"{self.host}:{self.port}",
            "running": self.running,
            "current_connections": len(self.state.connections),
            "max_connections": self.options.max_connections or "infinity",
            "shutdown_count": dict(self.state.shutdown_count),
        }


class ListenerRegistry:
    """Every configured listener by id (``"ssl:default"``); the service layer drives it at runtime."""

    def __init__(
        self,
        broker: Broker,
        listeners: dict[str, dict[str, ListenerOptions]],
        data_dir: str | Path,
        zones: dict[str, MqttOptions] | None = None,
    ):
        """``zones`` maps a zone name to its MQTT limits; listeners in other zones use the broker's."""
        self.broker = broker
        self.data_dir = data_dir
        self.listeners: dict[str, Listener] = {}
        zones = zones or {}
        for kind, named in listeners.items():
            for name, options in named.items():
                listener = Listener(broker, kind, name, options, data_dir, zones.get(options.zone))
                self.listeners[listener.id] = listener

    async def apply(
        self, listeners: dict[str, dict[str, ListenerOptions]], zones: dict[str, MqttOptions]
    ) -> None:
        """Make the running listeners what ``listeners`` says: a removed one is stopped (its
        clients disconnected), a changed one restarted with its new options (stopped when no
        longer enabled), a new enabled one started. Unchanged ones keep their clients; new
        connections take their zone's limits as they are now."""
        wanted = {
            f"{kind}:{name}": (kind, name, opts)
            for kind, named in listeners.items()
            for name, opts in named.items()
        }
        for listener_id in [i for i in self.listeners if i not in wanted]:
            await self.listeners.pop(listener_id).stop()
        for listener_id, (kind, name, options) in wanted.items():
            current = self.listeners.get(listener_id)
            zone = zones.get(options.zone)
            if current is not None and current.options == options:
                current.state.options = zone
                continue
            if current is not None:
                await current.stop()
            listener = self.listeners[listener_id] = Listener(
                self.broker, kind, name, options, self.data_dir, zone
            )
            if options.enable:
                await listener.start()

    def get(self, listener_id: str) -> Listener:
        try:
            return self.listeners[listener_id]
        except KeyError:
            raise KeyError(f"no listener {listener_id!r}") from None

    async def start_enabled(self) -> None:
        for listener in self.listeners.values():
            if listener.options.enable:
                await listener.start()

    async def start(self, listener_id: str) -> None:
        await self.get(listener_id).start()

    async def stop(self, listener_id: str) -> None:
        await self.get(listener_id).stop()

    async def restart(self, listener_id: str) -> None:
        listener = self.get(listener_id)
        await listener.stop()
        await listener.start()

    async def stop_all(self, reason: str = "listener_stopped") -> None:
        for listener in self.listeners.values():
            await listener.stop(reason)

    def info(self) -> list[dict[str, Any]]:
        return [listener.info() for listener in self.listeners.values()]
