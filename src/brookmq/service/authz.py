"""Authorization as the management API shows and changes it: the sources and their order, the
settings (``no_match``, ``deny_action``, ``cache``), the rules of the built-in database, and
the cached verdicts.

Sources and settings are the ``authorization`` settings root, changed through the
``ConfigPort`` (checked, kept, applied). Built-in rules live in the store; each change of them
forgets the cached verdicts, so it holds for the next PUBLISH and SUBSCRIBE.
"""

from __future__ import annotations

from typing import Any, Literal

from brookmq.core.broker import Broker
from brookmq.extensions.authz.authorization import Authorization
from brookmq.extensions.authz.sources import BuiltinRules
from brookmq.service.configs import ConfigPort
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.ordering import moved, reordered
from brookmq.service.paging import Page, page_of

Kind = Literal["username", "clientid"]
_SETTINGS = ("no_match", "deny_action", "cache")


def _type(source: dict[str, Any]) -> str:
    return str(source.get("type", ""))


class Authz:
    def __init__(self, broker: Broker, authorization: Authorization, config: ConfigPort) -> None:
        self.broker = broker
        self.authorization = authorization
        self.config = config

    # ------------------------------------------------------------ sources

    def sources(self) -> list[dict[str, Any]]:
        """In the order they are asked."""
        return list(self.config.get("authorization")["sources"])

    def source(self, source_type: str) -> dict[str, Any]:
        found = next((s for s in self.sources() if _type(s) == source_type), None)
        if found is None:
            raise NotFound(f"source {source_type} not found")
        return found

    async def _set_sources(self, sources: list[dict[str, Any]]) -> None:
        await self.config.merge("authorization", {"sources": sources})

    async def create_source(self, source: Any) -> dict[str, Any]:
        if not isinstance(source, dict):
            raise Invalid("must be an object", "body")
        if any(_type(s) == _type(source) for s in self.sources()):
            raise AlreadyExists(f"source {_type(source)} already exists")
        await self._set_sources([*self.sources(), source])
        return self.source(_type(source))

    async def update_source(self, source_type: str, source: Any) -> dict[str, Any]:
        """Replace the source's settings; its type stays."""
        self.source(source_type)
        if not isinstance(source, dict):
            raise Invalid("must be an object", "body")
        source = {**source, "type": source_type}
        await self._set_sources([source if _type(s) == source_type else s for s in self.sources()])
        return self.source(source_type)

    async def delete_source(self, source_type: str) -> None:
        self.source(source_type)
        await self._set_sources([s for s in self.sources() if _type(s) != source_type])

    async def move_source(self, source_type: str, position: str) -> None:
        await self._set_sources(moved(self.sources(), _type, source_type, position))

    async def order_sources(self, types: list[str]) -> None:
        await self._set_sources(reordered(self.sources(), _type, types))

    def status(self, source_type: str) -> dict[str, Any]:
        self.source(source_type)
        running = self.authorization.source(source_type)
        metrics = dict(running.metrics) if running is not None else {}
        enabled = running is not None and running.enable
        return {"metrics": metrics, "status": "connected" if enabled else "disconnected"}

    # ------------------------------------------------------------ settings

    def settings(self) -> dict[str, Any]:
        current = self.config.get("authorization")
        return {key: current[key] for key in _SETTINGS}

    async def update_settings(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise Invalid("must be an object", "body")
        unknown = sorted(set(patch) - set(_SETTINGS))
        if unknown:
            raise Invalid(f"is not one of {', '.join(_SETTINGS)}", unknown[0])
        await self.config.merge("authorization", patch)
        return self.settings()

    def clean_cache(self) -> None:
        self.broker.clear_authz_caches()

    # ------------------------------------------------------------ built-in rules

    def _builtin(self) -> BuiltinRules:
        found = self.authorization.source("built_in_database")
        if not isinstance(found, BuiltinRules):
            raise NotFound("the built_in_database source is not configured")
        return found

    def _set(self, kind: Kind | Literal["all"], who: str, rules: Any) -> list[dict[str, Any]]:
        try:
            done = self._builtin().set_rules(kind, who, rules)
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        self.authorization.changed()
        return done

    def every_rule_entry(self, kind: Kind) -> list[dict[str, Any]]:
        """``{username|clientid, rules}`` of everyone, in key order."""
        return self._builtin().entries(kind)

    def rule_entries(self, kind: Kind, like: str | None, page: int, limit: int) -> Page:
        """``{username|clientid, rules}`` in key order; ``like`` is a substring (no ``count``)."""
        entries = self.every_rule_entry(kind)
        if like is None:
            return page_of(iter(entries), page, limit, len(entries))
        return page_of((e for e in entries if like in e[kind]), page, limit)

    def add_rules(self, kind: Kind, entries: Any) -> None:
        """Rules for several users or clients at once; none of them may have rules yet."""
        if not isinstance(entries, list) or not entries:
            raise Invalid("must be a non-empty array", "body")
        builtin = self._builtin()
        for index, entry in enumerate(entries):
            who = entry.get(kind) if isinstance(entry, dict) else None
            if not isinstance(who, str) or not who:
                raise Invalid("must be a non-empty string", f"[{index}].{kind}")
            if builtin.rules(kind, who) is not None:
                raise AlreadyExists(f"{kind} {who} already has rules")
        for entry in entries:
            self._set(kind, entry[kind], entry.get("rules"))

    def rules_of(self, kind: Kind, who: str) -> dict[str, Any]:
        rules = self._builtin().rules(kind, who)
        if rules is None:
            raise NotFound(f"{kind} {who} has no rules")
        return {kind: who, "rules": rules}

    def set_rules_of(self, kind: Kind, who: str, body: Any) -> None:
        self.rules_of(kind, who)
        if not isinstance(body, dict):
            raise Invalid("must be an object", "body")
        if body.get(kind, who) != who:
            raise Invalid(f"must be {who!r}, as in the path", kind)
        self._set(kind, who, body.get("rules"))

    def delete_rules_of(self, kind: Kind, who: str) -> None:
        if not self._builtin().delete(kind, who):
            raise NotFound(f"{kind} {who} has no rules")
        self.authorization.changed()

    def rules_for_all(self) -> dict[str, Any]:
        return {"rules": self._builtin().rules("all") or []}

    def set_rules_for_all(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise Invalid("must be an object", "body")
        self._set("all", "", body.get("rules"))

    def delete_rules_for_all(self) -> None:
        self._builtin().delete("all")
        self.authorization.changed()

    def delete_all_rules(self) -> None:
        self._builtin().clear()
        self.authorization.changed()

    def append_rule(self, kind: Kind | Literal["all"], who: str, rule: Any) -> dict[str, Any]:
        """One more rule for ``who`` (a username, a client id; everyone for ``all``), after the
        ones it has (EMQX 4's ``POST /acl``); its normal form."""
        current = self._builtin().rules(kind, who) or []
        return self._set(kind, who, [*current, rule])[-1]

    def remove_topic_rules(self, kind: Kind | Literal["all"], who: str, topic: str) -> None:
        """Drop ``who``'s rules for ``topic`` (EMQX 4's ``DELETE /acl/.../topic/{topic}``)."""
        builtin = self._builtin()
        current = builtin.rules(kind, who) or []
        kept = [rule for rule in current if rule["topic"] != topic]
        if kept:
            self._set(kind, who, kept)
        elif current:
            builtin.delete(kind, who)
            self.authorization.changed()

    def put_rules(self, kind: Kind | Literal["all"], who: str, rules: Any) -> None:
        """``who``'s rules replaced by ``rules`` (a backup being restored)."""
        self._set(kind, who, rules)
