"""What the stream layers (TLS, WebSocket) share: a lower transport, an upper protocol made
once the layer's handshake is done, a handshake deadline, and flow control passed upward."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class LayerTransport(asyncio.Transport):
    """The transport a layer gives its upper protocol; reading is paused on the one below."""

    def __init__(self, layer: StreamLayer) -> None:
        super().__init__()
        self._layer = layer

    def pause_reading(self) -> None:
        if self._layer.raw is not None:
            self._layer.raw.pause_reading()

    def resume_reading(self) -> None:
        if self._layer.raw is not None:
            self._layer.raw.resume_reading()


class StreamLayer(asyncio.Protocol):
    def __init__(
        self,
        upper: Callable[[], asyncio.Protocol],
        handshake_timeout: float,
        handshaking: set[StreamLayer] | None = None,
    ) -> None:
        self._make_upper = upper
        self._handshake_timeout = handshake_timeout
        # The listener's set of connections still in a handshake, so stopping it can close them.
        self._handshaking = handshaking if handshaking is not None else set()
        self.raw: asyncio.Transport | None = None
        self.upper: asyncio.Protocol | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.raw = transport  # type: ignore[assignment]
        self._handshaking.add(self)
        self._timer = asyncio.get_running_loop().call_later(self._handshake_timeout, self._check_handshake)

    def _check_handshake(self) -> None:
        if self.upper is None:
            self.handshake_expired()

    def handshake_expired(self) -> None:
        """The handshake did not finish in time."""
        raise NotImplementedError

    def start_upper(self, transport: asyncio.BaseTransport) -> None:
        """The handshake is done: make the upper protocol and give it ``transport``."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._handshaking.discard(self)
        self.upper = self._make_upper()
        self.upper.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._handshaking.discard(self)
        if self._timer is not None:
            self._timer.cancel()
        if self.upper is not None:
            self.upper.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.upper is not None:
            self.upper.pause_writing()

    def resume_writing(self) -> None:
        if self.upper is not None:
            self.upper.resume_writing()
