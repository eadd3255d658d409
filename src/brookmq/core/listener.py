"""What a connection knows of the listener that accepted it.

The transport layer subclasses :class:`ListenerContext` to count connections,
enforce ``max_connections`` and read identities from client certificates; the
core calls these methods at the right moments and knows nothing of sockets.
"""

from __future__ import annotations

from typing import Any

from brookmq.core.options import MqttOptions


class ListenerContext:
    def __init__(
        self,
        name: str = "tcp:default",
        mountpoint: str = "",
        options: MqttOptions | None = None,
        zone: str = "default",
    ) -> None:
        self.name = name  # "<type>:<name>", e.g. "ssl:default"
        self.zone = zone  # the name of the zone whose limits ``options`` are
        self.mountpoint = mountpoint  # may hold ${clientid} and ${username}
        self.options = options  # the MQTT limits of the listener's zone; None: the broker's

    def opened(self, conn: Any) -> bool:
        """A connection was accepted; False refuses it (e.g. past ``max_connections``)."""
        return True

    def closed(self, conn: Any, reason: str) -> None:
        """A connection accepted by this listener ended for ``reason``."""

    def identity(self, transport: Any) -> tuple[str | None, str | None]:
        """(username, client id) to impose from the transport (a client certificate), if any."""
        return None, None


def mount(mountpoint: str, client_id: str, username: str | None) -> str:
    """The mountpoint with EMQX's placeholders filled in."""
    return mountpoint.replace("${clientid}", client_id).replace("${username}", username or "")
