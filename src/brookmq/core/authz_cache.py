"""The per-connection authorization cache (EMQX's ``authorization.cache``).

Verdicts of ``client.authorize`` by (action, topic, QoS, retain), at most ``size`` per
connection (the oldest goes first), each kept ``ttl`` seconds. ``Broker.authorize`` reads and
fills it; the management API lists and clears it through these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Key = tuple[str, str, int, bool]


@dataclass(slots=True)
class AuthzCacheOptions:
    enable: bool = True
    size: int = 32
    ttl: float = 60.0


def remember(client: Any, key: Key, allowed: bool, now: float, options: AuthzCacheOptions) -> None:
    cache: dict[Key, tuple[bool, float, float]] | None = client.authz_cache
    if cache is None:
        cache = client.authz_cache = {}
    cache.pop(key, None)
    if len(cache) >= options.size:
        del cache[next(iter(cache))]  # the oldest
    cache[key] = (allowed, now + options.ttl, now)


def entries(client: Any, now: float) -> list[dict[str, Any]]:
    """``[{access: {action_type, qos[, retain]}, topic, result, updated_time (ms)}]``, live only."""
    out = []
    for (action, topic, qos, retain), (allowed, expires, updated) in (client.authz_cache or {}).items():
        if expires <= now:
            continue
        access: dict[str, Any] = {"action_type": action, "qos": qos}
        if action == "publish":
            access["retain"] = retain
        result = "allow" if allowed else "deny"
        out.append({"access": access, "topic": topic, "result": result, "updated_time": int(updated * 1000)})
    return out
