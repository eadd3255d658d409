"""The MQTT listeners as the management API shows and changes them.

A listener's options are the ``listeners`` settings root; every change goes through the
``ConfigPort``, so it is checked, kept across restarts and applied to the running listeners
(see ``ListenerRegistry.apply``). ``start`` and ``stop`` set ``enable`` as EMQX 5 does, so a
stopped listener stays stopped after a restart; ``restart`` only restarts it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from brookmq.core.broker import Broker
from brookmq.service.configs import ConfigPort, redact
from brookmq.service.errors import AlreadyExists, Invalid, NotAllowed, NotFound, UpdateFailed
from brookmq.transport.listener import ListenerRegistry
from brookmq.transport.options import LISTENER_NAME, LISTENER_TYPES


class Listeners:
    def __init__(self, broker: Broker, registry: ListenerRegistry, config: ConfigPort) -> None:
        self.broker = broker
        self.registry = registry
        self.config = config

    def _split(self, listener_id: str) -> tuple[str, str]:
        kind, sep, name = listener_id.partition(":")
        if not sep or kind not in LISTENER_TYPES or not LISTENER_NAME.fullmatch(name):
            raise Invalid(
                f"{listener_id[:100]!r} is not <type>:<name> with type {', '.join(LISTENER_TYPES)}"
                " and a name of 1..64 of A-Z a-z 0-9 _ -",
                "id",
            )
        return kind, name

    def _existing(self, listener_id: str) -> tuple[str, str, dict[str, Any]]:
        """(type, name, options) of a configured listener."""
        kind, name = self._split(listener_id)
        found = self.config.get("listeners")[kind].get(name)
        if found is None:
            raise NotFound("Listener id not found", "listener")
        return kind, name, found

    def info(self, listener_id: str) -> dict[str, Any]:
        """EMQX's listener object: its options, ``id``/``type``/``name``, and how it runs."""
        kind, name, options = self._existing(listener_id)
        listener = self.registry.listeners.get(listener_id)
        running = listener is not None and listener.running
        status = {
            "running": running,
            "max_connections": options["max_connections"] or "infinity",
            "current_connections": len(listener.state.connections) if listener is not None else 0,
        }
        out = {"id": listener_id, "type": kind, "name": name, **redact(options)}
        if listener is not None:
            out["bind"] = f"{listener.host}:{listener.port}"
        out["status"] = status
        out["node_status"] = [{"node": self.broker.node_name, "status": status}]
        return out

    def shutdown_count(self, listener_id: str) -> dict[str, int]:
        """How many of its connections ended, by reason (EMQX 4's ``shutdown_count``)."""
        listener = self.registry.listeners.get(listener_id)
        return {} if listener is None else dict(listener.state.shutdown_count)

    def all(self, kind: str | None = None) -> list[dict[str, Any]]:
        if kind is not None and kind not in LISTENER_TYPES:
            raise Invalid(f"must be one of {', '.join(LISTENER_TYPES)}", "type")
        return [
            self.info(f"{k}:{name}")
            for k, named in self.config.get("listeners").items()
            if kind in (None, k)
            for name in named
        ]

    async def create(self, listener_id: str, options: dict[str, Any]) -> dict[str, Any]:
        kind, name = self._split(listener_id)
        if name in self.config.get("listeners")[kind]:
            raise AlreadyExists("Already Exist")
        await self.config.merge("listeners", {kind: {name: self._plain(options)}})
        return self.info(listener_id)

    async def update(self, listener_id: str, options: dict[str, Any]) -> dict[str, Any]:
        """Change the options given; the others stay."""
        kind, name, _ = self._existing(listener_id)
        await self.config.merge("listeners", {kind: {name: self._plain(options)}})
        return self.info(listener_id)

    async def delete(self, listener_id: str) -> None:
        kind, name, _ = self._existing(listener_id)
        if name == "default":
            raise NotAllowed("a default listener can be stopped (and stays stopped), not deleted")
        listeners = self.config.get("listeners")
        del listeners[kind][name]
        await self.config.update("listeners", listeners)

    async def start(self, listener_id: str) -> None:
        await self.update(listener_id, {"enable": True})
        await self._run(self.registry.start, listener_id)

    async def stop(self, listener_id: str) -> None:
        await self.update(listener_id, {"enable": False})

    async def restart(self, listener_id: str) -> None:
        self._existing(listener_id)
        await self._run(self.registry.restart, listener_id)

    @staticmethod
    async def _run(action: Callable[[str], Awaitable[None]], listener_id: str) -> None:
        try:
            await action(listener_id)
        except OSError as exc:
            raise UpdateFailed(f"{listener_id}: {exc.strerror or exc}") from None

    @staticmethod
    def _plain(options: dict[str, Any]) -> dict[str, Any]:
        """The options without what the listener object adds around them."""
        if not isinstance(options, dict):
            raise Invalid("must be an object", "body")
        return {k: v for k, v in options.items() if k not in ("id", "type", "name", "status", "node_status")}
