"""The ``client.authorize`` hook: sources asked in order, ``no_match``, superusers, the cache.

* A superuser (set by its authenticator) may do anything.
* Otherwise each enabled source is asked; the first with a matching rule decides. With none,
  ``no_match`` does (``allow`` by default).
* ``deny_action = disconnect`` makes a denied PUBLISH or SUBSCRIBE close the connection (v5
  DISCONNECT 0x87) instead of answering it; the core does that (``Broker.deny_disconnects``).
* Verdicts are cached per connection (``cache.enable``, ``max_size`` 32 entries, oldest
  dropped first, each kept for ``ttl``), by action, topic, QoS and retain. The cache of one
  client or of all can be listed and cleared; changing rules or settings clears every cache.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from brookmq.core.broker import Broker
from brookmq.core.hooks import Hook
from brookmq.extensions.authz.sources import Source


class Authorization(Hook):
    def __init__(
        self,
        broker: Broker,
        sources: list[Source],
        no_match: Literal["allow", "deny"] = "allow",
        deny_action: Literal["ignore", "disconnect"] = "ignore",
        cache_enable: bool = True,
        cache_max_size: int = 32,
        cache_ttl: float = 60.0,
    ) -> None:
        self.broker = broker
        self.counters = broker.counters
        self.sources = sources
        self.no_match = no_match
        self.deny_action = deny_action
        self.cache_enable = cache_enable
        self.cache_max_size = cache_max_size
        self.cache_ttl = cache_ttl

    def start(self) -> None:
        self.broker.hooks.add(self)
        self.broker.deny_disconnects = self.deny_action == "disconnect"

    def stop(self) -> None:
        self.broker.hooks.remove(self)
        self.broker.deny_disconnects = False

    def source(self, source_type: str) -> Source | None:
        return next((s for s in self.sources if s.type == source_type), None)

    def changed(self) -> None:
        """Rules, sources or settings changed: apply the settings, forget cached verdicts."""
        self.broker.deny_disconnects = self.deny_action == "disconnect"
        self.clear_all_caches()

    # ---------------------------------------------------------------- the hook

    def client_authorize(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool:
        counters = self.counters
        if getattr(client, "is_superuser", False):
            counters["authorization.superuser"] += 1
            return True
        if not self.cache_enable or not hasattr(client, "authz_cache"):  # a will after a restart
            return self._decide(client, action, topic, qos, retain)
        cache = client.authz_cache
        key = (action, topic, qos, retain)
        now = time.monotonic()
        if cache is None:
            cache = client.authz_cache = {}
        else:
            entry = cache.get(key)
            if entry is not None and entry[1] > now:
                counters["authorization.cache_hit"] += 1
                return entry[0]
        counters["authorization.cache_miss"] += 1
        allowed = self._decide(client, action, topic, qos, retain)
        cache.pop(key, None)
        if len(cache) >= self.cache_max_size:
            del cache[next(iter(cache))]  # the oldest
        cache[key] = (allowed, now + self.cache_ttl, time.time())
        return allowed

    def _decide(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool:
        counters = self.counters
        for source in self.sources:
            if not source.enable:
                continue
            verdict = source.verdict(client, action, topic, qos, retain)
            source.count(verdict)
            if verdict is not None:
                counters["authorization.matched.allow" if verdict else "authorization.matched.deny"] += 1
                return verdict
        counters["authorization.nomatch"] += 1
        return self.no_match == "allow"

    # ---------------------------------------------------------------- the cache, for the API

    @staticmethod
    def cache_entries(client: Any) -> list[dict[str, Any]]:
        """``[{access: {action_type, qos[, retain]}, topic, result, updated_time (ms)}]``, live only."""
        now = time.monotonic()
        out = []
        for (action, topic, qos, retain), (allowed, expires, updated) in (client.authz_cache or {}).items():
            if expires <= now:
                continue
            access: dict[str, Any] = {"action_type": action, "qos": qos}
            if action == "publish":
                access["retain"] = retain
            out.append(
                {
                    "access": access,
                    "topic": topic,
                    "result": "allow" if allowed else "deny",
                    "updated_time": int(updated * 1000),
                }
            )
        return out

    @staticmethod
    def clear_cache(client: Any) -> None:
        client.authz_cache = None

    def clear_all_caches(self) -> None:
        for session in self.broker.sessions.values():
            if hasattr(session.connection, "authz_cache"):
                session.connection.authz_cache = None  # type: ignore[union-attr]
