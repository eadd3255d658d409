"""MQTT over WebSocket: a wsproto layer between the byte stream and the MQTT connection.

The HTTP upgrade is checked (path, subprotocol, origin), binary frames are fed
to the connection as one byte stream (a packet split across frames and several
packets in one frame both work), and what the connection writes goes out as
binary frames. wsproto answers pings and does the close handshake.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
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
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from brookmq.transport.layer import LayerTransport, StreamLayer
from brookmq.transport.options import WebsocketOptions

log = logging.getLogger("brookmq.websocket")

_ERROR_CODES = {1002, 1007, 1009}  # protocol error, invalid payload, message too big
_BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class WsTransport(LayerTransport):
    """What the MQTT connection writes to: bytes in, binary frames out."""

    _layer: WebSocketLayer

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._layer.send_binary(bytes(data))

    def close(self) -> None:
        self._layer.close(1000)

    def is_closing(self) -> bool:
        return self._layer.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "peername" and self._layer.peer is not None:
            return self._layer.peer
        return self._layer.raw.get_extra_info(name, default) if self._layer.raw else default


class WebSocketLayer(StreamLayer):
    def __init__(
        self,
        options: WebsocketOptions,
        upper: Callable[[], asyncio.Protocol],
        handshake_timeout: float,
        on_failure: Callable[[str], None],
        handshaking: set[StreamLayer] | None = None,
    ) -> None:
        super().__init__(upper, handshake_timeout, handshaking)
        self._options = options
        self._on_failure = on_failure
        self._ws = WSConnection(ConnectionType.SERVER)
        self.peer: tuple[str, int] | None = None
        self.closing = False

    def data_received(self, data: bytes) -> None:
        if self.closing:
            return
        try:
            self._ws.receive_data(data)
            for event in self._ws.events():
                self._event(event)
                if self.closing:
                    return
        except RemoteProtocolError as exc:
            self._bad_input(exc)

    def _event(self, event: Event) -> None:
        if isinstance(event, BytesMessage):
            if self.upper is not None:
                self.upper.data_received(bytes(event.data))
        elif isinstance(event, Request):
            self._upgrade(event)
        elif isinstance(event, Ping):
            self._write(self._ws.send(event.response()))
        elif isinstance(event, TextMessage):
            self._fail("text frame: MQTT needs binary frames")
            self.close(1003)
        elif isinstance(event, CloseConnection):
            if event.code in _ERROR_CODES:  # wsproto reports a malformed frame this way too
                self._fail(f"WebSocket closed with {event.code}: {event.reason}")
            self._write(self._ws.send(event.response()))
            self.closing = True
            self._close_raw()

    def _upgrade(self, request: Request) -> None:
        opts = self._options
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.extra_headers
        }
        if request.target.split("?", 1)[0] != opts.mqtt_path:
            return self._reject(404, f"path {request.target!r} is not {opts.mqtt_path!r}")
        if opts.check_origin_enable:
            origin = headers.get("origin")
            if origin is None and not opts.allow_origin_absence:
                return self._reject(403, "no Origin header")
            if origin is not None and origin not in opts.check_origins:
                return self._reject(403, f"origin {origin!r} is not allowed")
        chosen = next((p for p in request.subprotocols if p in opts.supported_subprotocols), None)
        if chosen is None and opts.fail_if_no_subprotocol:
            return self._reject(400, f"no supported subprotocol in {request.subprotocols!r}")
        self.peer = self._proxied_peer(headers)
        self._write(self._ws.send(AcceptConnection(subprotocol=chosen)))
        self.start_upper(WsTransport(self))

    def _proxied_peer(self, headers: dict[str, str]) -> tuple[str, int] | None:
        opts = self._options
        if not opts.proxy_address_header or opts.proxy_address_header.lower() not in headers:
            return None
        host = headers[opts.proxy_address_header.lower()].split(",")[0].strip()
        port_text = headers.get(opts.proxy_port_header.lower(), "") if opts.proxy_port_header else ""
        real = self.raw.get_extra_info("peername") if self.raw else None
        port = int(port_text) if port_text.isdigit() else (real[1] if real else 0)
        return host, port

    def _reject(self, status: int, why: str) -> None:
        self._fail(why)
        self._write(self._ws.send(RejectConnection(status_code=status, headers=[(b"connection", b"close")])))
        self.closing = True
        self._close_raw()

    def _bad_input(self, exc: RemoteProtocolError) -> None:
        if self.upper is None:
            self._fail(f"bad WebSocket handshake: {exc}")
            try:
                self._write(self._ws.send(exc.event_hint or RejectConnection(status_code=400)))
            except LocalProtocolError:
                self._write(_BAD_REQUEST)
            self.closing = True
            self._close_raw()
        else:
            self._fail(f"bad WebSocket frame: {exc}")
            self.close(1002)

    def handshake_expired(self) -> None:
        if not self.closing:
            self._fail("WebSocket handshake not finished in time")
            self.closing = True
            self._close_raw()

    def _fail(self, why: str) -> None:
        log.info("closing %s: %s", self.raw.get_extra_info("peername") if self.raw else None, why)
        self._on_failure(why)

    def send_binary(self, data: bytes) -> None:
        if not self.closing:
            self._write(self._ws.send(BytesMessage(data)))

    def close(self, code: int = 1000) -> None:
        if self.closing:
            return
        self.closing = True
        try:
            self._write(self._ws.send(CloseConnection(code=code)))
        except LocalProtocolError:
            pass
        self._close_raw()

    def _write(self, data: bytes) -> None:
        if self.raw is not None and not self.raw.is_closing():
            self.raw.write(data)

    def _close_raw(self) -> None:
        if self.raw is not None:
            self.raw.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closing = True
        super().connection_lost(exc)
