"""The ``client.authorize`` hook: the sources asked in order, then ``no_match``.

What the core does around it (``Broker.authorize``): a superuser may do anything; verdicts are
cached per connection (``core/authz_cache``: ``cache.enable``, ``max_size`` 32 entries, oldest
dropped first, each kept for ``ttl``); ``deny_action = disconnect`` makes a denied PUBLISH or
SUBSCRIBE close the connection (v5 DISCONNECT 0x87) instead of answering it. This extension
sets those from ``authorization.*`` when it starts and after a change.
"""

from __future__ import annotations

from typing import Any, Literal

from brookmq.core.authz_cache import AuthzCacheOptions
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
        cache: AuthzCacheOptions | None = None,
    ) -> None:
        self.broker = broker
        self.counters = broker.counters
        self.sources = sources
        self.no_match = no_match
        self.deny_action = deny_action
        self.cache = cache or AuthzCacheOptions()

    def start(self) -> None:
        self.changed()

    def stop(self) -> None:
        self.broker.hooks.remove(self)
        self.broker.deny_disconnects = False

    def source(self, source_type: str) -> Source | None:
        return next((s for s in self.sources if s.type == source_type), None)

    def changed(self) -> None:
        """Rules, sources or settings changed: apply the settings, forget cached verdicts.

        With no enabled source and ``no_match = allow`` everything is allowed, so the hook is
        taken out and PUBLISH and SUBSCRIBE skip authorization altogether."""
        broker = self.broker
        broker.hooks.remove(self)
        if self.no_match == "deny" or any(source.enable for source in self.sources):
            broker.hooks.add(self)
        broker.deny_disconnects = self.deny_action == "disconnect"
        broker.authz_cache = self.cache
        broker.clear_authz_caches()

    def client_authorize(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool:
        counters = self.counters
        for source in self.sources:
            if not source.enable:
                continue
            verdict = source.verdict(client, action, topic, qos, retain)
            source.count(verdict)
            if verdict is not None:
                counters["authorization.matched.allow" if verdict else "authorization.matched.deny"] += 1
                self.broker.authz_source = source.type
                return verdict
        counters["authorization.nomatch"] += 1
        return self.no_match == "allow"
