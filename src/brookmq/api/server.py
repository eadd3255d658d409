"""The management listeners: the API's ASGI app served by uvicorn inside the broker's own event
loop (one process, one loop; the broker handles the signals).

Every listener, whatever dialects it mounts, carries the same protections (``HttpLimits``): a
cap on open connections (past it a new one is closed at once, so the management port can never
take the file descriptors MQTT needs), a deadline for each request to arrive whole (slowloris,
connections that send nothing, idle keep-alive), and over HTTPS (``Tls``) a deadline for the
handshake. Each app limits its request bodies with
``BodyLimit`` (413).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import h11
import uvicorn
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from brookmq.transport.tls import TlsLayer

log = logging.getLogger("brookmq.api")
_LINGER_SECONDS, _LINGER_BYTES = 2.0, 4 * 1024 * 1024  # what an early answer waits for, at most


@dataclass(frozen=True, slots=True)
class HttpLimits:
    max_connections: int = 512
    idle_timeout: float = 15.0  # for a request to arrive whole, and between requests


class _GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with the connection cap and the request deadline."""

    def __init__(self, *args: Any, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._deadline: asyncio.TimerHandle | None = None
        self._lingering = 0  # bytes still taken (and discarded) after an early answer

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            transport.abort()  # before any byte is read: counts nothing, keeps nothing
            return
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is None:  # refused in connection_made
            return
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.limits.idle_timeout, self._expired)

    def _expired(self) -> None:
        """Closes unless the request is in (the app is answering it; the deadline is re-armed
        when the answer is done)."""
        self._deadline = None
        if self.conn.their_state is not h11.DONE and not self.transport.is_closing():
            self.transport.close()

    def on_response_complete(self) -> None:
        if self.conn.their_state is h11.SEND_BODY:
            # Answered before the body was read (refused credentials, 413). Closing at once would
            # reset the connection under a client still sending, and lose it the answer: take
            # (and discard) what it sends for a moment, then close (a lingering close).
            self._lingering = _LINGER_BYTES
            super().on_response_complete()
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(
                min(_LINGER_SECONDS, self.limits.idle_timeout), self._expired
            )
            return
        self._lingering = 0
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            self._lingering -= min(len(data), self._lingering)
            if not self._lingering:
                self.transport.close()
                return
        super().data_received(data)


class BodyLimit:
    """ASGI middleware of each app: a request body over ``max_size`` (or, for a path in
    ``larger``, what its function says now) ends the request with a 413, raised where the app
    reads the body, so the app's error handlers shape it and a route refused before it reads the
    body (for want of credentials) never reads a byte of it."""

    def __init__(
        self, app: ASGIApp, max_size: int, larger: Mapping[str, Callable[[], int]] | None = None
    ) -> None:
        self.app = app
        self.max_size = max_size
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = self.larger.get(scope["path"])
        limit = max(self.max_size, upload()) if upload is not None else self.max_size
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = HTTPException(413, f"the request body is larger than {limit} bytes")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                raise too_large
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise too_large
            return message

        await self.app(scope, limited, send)


class _Refused(asyncio.Protocol):
    """What a connection past the cap gets while TLS handshakes fill it: closed at once."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.abort()  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Tls:
    """HTTPS through the MQTT listeners' own TLS layer: a handshake must finish within
    ``handshake_timeout`` (asyncio's own TLS would hold a silent socket for 60 s), and sockets
    still handshaking count against the connection cap."""

    context: ssl.SSLContext
    handshake_timeout: float = 15.0


class _InLoopServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # SIGTERM and SIGINT belong to the broker, which stops this server itself


class DashboardListener:
    """``bind`` is ``host:port``; with ``tls`` it serves HTTPS."""

    def __init__(
        self,
        app: ASGIApp,
        bind: str,
        tls: Tls | None = None,
        limits: HttpLimits | None = None,
        name: str = "dashboard",
    ) -> None:
        host, _, port = bind.rpartition(":")
        self.host, self.wanted_port = host or "0.0.0.0", int(port)
        self.limits = limits or HttpLimits()
        self.app = app
        self.tls = tls
        self.name = name
        self.port = 0
        self._server: _InLoopServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        sock = socket.create_server((self.host, self.wanted_port), reuse_port=False)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            lifespan="off",
            log_level="warning",
            access_log=False,
            http=self._protocol(),  # type: ignore[arg-type]
            ws="none",
        )
        config.load()
        self._server = _InLoopServer(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()  # raises what stopped it
            await asyncio.sleep(0.01)
        scheme = "https" if self.tls is not None else "http"
        log.info("%s listener (%s) on %s:%d", self.name, scheme, self.host, self.port)

    def _protocol(self) -> Callable[..., asyncio.Protocol]:
        """What uvicorn makes for each connection (it passes config, server_state, app_state)."""
        limits, tls = self.limits, self.tls
        if tls is None:
            return functools.partial(_GuardedH11, limits=limits)
        handshaking: set[Any] = set()

        def over_tls(**uvicorn_args: Any) -> asyncio.Protocol:
            if len(handshaking) + len(uvicorn_args["server_state"].connections) >= limits.max_connections:
                return _Refused()
            http = functools.partial(_GuardedH11, limits=limits, **uvicorn_args)
            return TlsLayer(tls.context, http, tls.handshake_timeout, _tls_failed, handshaking)

        return over_tls

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
            self._server = self._task = None


def _tls_failed(why: str) -> None:
    """TlsLayer logs the failure itself; there is no listener state to count it in."""
