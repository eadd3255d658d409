"""Listener options with EMQX's names and defaults (``listeners.<type>.<name>.*``).

Stdlib dataclasses, so the configuration layer validates them with pydantic
without a second definition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

LISTENER_TYPES = ("tcp", "ssl", "ws", "wss")
LISTENER_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # EMQX's ^[0-9a-zA-Z_-]+$, at most 64
DEFAULT_PORTS = {"tcp": 1883, "ssl": 8883, "ws": 8083, "wss": 8084}
TLS_VERSIONS = ("tlsv1.2", "tlsv1.3")
CertField = Literal["disabled", "cn", "dn"]


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


@dataclass(frozen=True)
class SslOptions:
    certfile: str = ""  # empty: the self-signed certificate generated in the data directory
    keyfile: str = ""
    cacertfile: str = ""  # CA bundle to verify client certificates against
    verify: Literal["verify_none", "verify_peer"] = "verify_none"
    fail_if_no_peer_cert: bool = False
    versions: tuple[str, ...] = ("tlsv1.3", "tlsv1.2")
    ciphers: str = ""  # OpenSSL cipher string for TLS 1.2; empty: OpenSSL's defaults
    handshake_timeout: float = field(default=15.0, metadata={"unit": "duration"})

    def __post_init__(self) -> None:
        unknown = [v for v in self.versions if v not in TLS_VERSIONS]
        if unknown or not self.versions:
            raise ValueError(f"versions: must be a non-empty list of {', '.join(TLS_VERSIONS)}")
        if bool(self.certfile) != bool(self.keyfile):
            raise ValueError("keyfile: certfile and keyfile go together")


@dataclass(frozen=True)
class WebsocketOptions:
    mqtt_path: str = "/mqtt"
    fail_if_no_subprotocol: bool = True
    supported_subprotocols: tuple[str, ...] = ("mqtt", "mqttv3.1", "mqttv5", "mqttv3.1.1")
    check_origin_enable: bool = False
    allow_origin_absence: bool = True
    check_origins: tuple[str, ...] = ()
    # Behind a reverse proxy, take the client's address from these headers (off when empty:
    # trusting them from anyone would let clients pose as any address).
    proxy_address_header: str = ""
    proxy_port_header: str = ""


@dataclass(frozen=True)
class ListenerOptions:
    enable: bool = True
    bind: str | int = ""  # a port, or host:port; empty: 0.0.0.0 and the type's default port
    max_connections: int = 0  # 0 = infinity
    mountpoint: str = ""
    zone: str = "default"  # whose mqtt.* limits apply: zones.<zone>.mqtt over the global mqtt
    peer_cert_as_username: CertField = "disabled"
    peer_cert_as_clientid: CertField = "disabled"
    ssl_options: SslOptions = field(default_factory=SslOptions)
    websocket: WebsocketOptions = field(default_factory=WebsocketOptions)

    def __post_init__(self) -> None:
        if self.bind:
            try:
                parse_bind(self.bind)
            except ValueError as exc:
                raise ValueError(f"bind: {exc}") from None
        if not 0 <= self.max_connections <= 16_777_216:
            raise ValueError("max_connections: must be 0 (infinity) or positive, at most 16777216")

    def address(self, kind: str) -> tuple[str, int]:
        return parse_bind(self.bind or DEFAULT_PORTS[kind])
