"""The broker's message: what was published, by whom and when (not the wire packet)."""

from __future__ import annotations

from typing import Any


class Message:
    """A published application message as the broker routes it.

    ``timestamp`` is when it was published (wall-clock seconds, from the broker's clock) and
    ``expires_at`` when it expires, from its Message Expiry Interval (0 = never). ``wire_key`` /
    ``wire_bytes`` cache the last encoded wire form so that subscribers that share
    a form get the same bytes [design: encode once per wire form].
    """

    __slots__ = (
        "expires_at",
        "origin",
        "payload",
        "properties",
        "qos",
        "retain",
        "store_id",
        "timestamp",
        "topic",
        "username",
        "wire_bytes",
        "wire_key",
    )

    def __init__(
        self,
        topic: str,
        payload: bytes,
        qos: int = 0,
        retain: bool = False,
        properties: dict[str, Any] | None = None,
        origin: str | None = None,
        username: str | None = None,
        timestamp: float = 0.0,
    ) -> None:
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
        self.properties = properties
        self.origin = origin
        self.username = username
        self.timestamp = timestamp
        expiry = properties.get("message_expiry_interval") if properties else None
        self.expires_at = timestamp + expiry if expiry else 0.0
        self.wire_key = -1  # which wire form wire_bytes holds (see Connection.send_publish)
        self.wire_bytes = b""
        self.store_id = 0  # the store's key for it, once a persistent session holds it

    def expired(self, now: float) -> bool:
        return bool(self.expires_at) and now >= self.expires_at

    def __repr__(self) -> str:
        return f"Message({self.topic!r}, {self.payload[:32]!r}, qos={self.qos}, retain={self.retain})"
