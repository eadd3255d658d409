"""The per-connection authorization cache (EMQX's ``authorization.cache``).

Verdicts of ``client.authorize`` for PUBLISH by (action, topic, QoS, retain), at most ``size``
per connection (the oldest goes first), each kept ``ttl`` seconds. ``Broker.authorize`` reads
and fills it; the management API lists and clears it through these functions.

Unlike EMQX, SUBSCRIBE verdicts are not cached: a client asks for a filter once, so an entry
would only cost memory, about 400 bytes for every idle client that subscribed.
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
    cache: dict[Key, tuple[bool, float]] | None = client.authz_cache
    if cache is None:
        cache = client.authz_cache = {}
    cache.pop(key, None)
    if len(cache) >= options.size:
        del cache[next(iter(cache))]  # the oldest
    cache[key] = (allowed, now + options.ttl)


def forget(client: Any, topic: str) -> None:
    """Drop the client's cached verdicts for ``topic``."""
    cache: dict[Key, tuple[bool, float]] | None = client.authz_cache
    if cache:
        for key in [key for key in cache if key[1] == topic]:
            del cache[key]


def entries(client: Any, now: float, options: AuthzCacheOptions) -> list[dict[str, Any]]:
    """``[{access: {action_type, qos, retain}, topic, result, updated_time (ms)}]``, live only.
    (Caches are cleared when the ttl changes, so an entry was made ``ttl`` before it expires.)"""
    out = []
    for (action, topic, qos, retain), (allowed, expires) in (client.authz_cache or {}).items():
        if expires <= now:
            continue
        out.append(
            {
                "access": {"action_type": action, "qos": qos, "retain": retain},
                "topic": topic,
                "result": "allow" if allowed else "deny",
                "updated_time": int((expires - options.ttl) * 1000),
            }
        )
    return out
