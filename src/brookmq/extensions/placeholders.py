"""``${name}`` placeholders filled from a client, for HTTP requests and JWT claims.

The names are EMQX's: ``clientid``, ``username``, ``password``, ``peerhost``, ``peerport``,
``protocol``. A client without a username renders it as the empty string. Every value goes
through an ``escape`` function chosen for where it lands (a URL, a header), so a client id
cannot smuggle control characters or separators into the request.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
NAMES = ("clientid", "username", "password", "peerhost", "peerport", "protocol")


def check(template: str, where: str) -> None:
    """Raise ValueError naming ``where`` when ``template`` has an unknown placeholder."""
    for name in PLACEHOLDER.findall(template):
        if name not in NAMES:
            raise ValueError(f"{where}: unknown placeholder ${{{name}}}; known: {', '.join(NAMES)}")


def check_all(templates: Mapping[str, Any], where: str) -> None:
    for key, template in templates.items():
        check(str(template), f"{where}.{key}")


def client_values(client: Any, password: bytes | None = None) -> dict[str, str]:
    return {
        "clientid": client.client_id,
        "username": client.username or "",
        "password": (password or b"").decode("utf-8", "replace"),
        "peerhost": client.peerhost,
        "peerport": str(getattr(client, "peerport", "")),
        "protocol": "mqtt",
    }


def render(template: str, values: Mapping[str, str], escape: Callable[[str], str] = str) -> str:
    return PLACEHOLDER.sub(lambda m: escape(values.get(m.group(1), "")), template)


def escape_control(value: str) -> str:
    """Percent-encode control characters (CR and LF above all), for header values."""
    return "".join(f"%{ord(c):02X}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in value)
