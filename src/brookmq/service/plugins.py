"""Plugins as every dialect lists, starts and stops them.

A plugin is a feature of the broker that can be turned on and off while it runs: the built-in
ones (the retainer, delayed publish, the rule engine, and the management API and dashboard,
which cannot be stopped) with EMQX 4's names (``emqx_retainer``) and EMQ 2's (``emq_retainer``).
Turning one on or off is a change of its settings (``retainer.enable``), so it is live, kept in
the store and still so after a restart, and ``/api/v5/configs`` shows it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from brookmq.service.configs import ConfigPort
from brookmq.service.errors import Invalid, NotAllowed, NotFound, ServiceError, UpdateFailed


class AlreadyInState(ServiceError):
    """Started when it is running (``already_started``), stopped when it is not (``not_started``)."""


@dataclass(frozen=True, slots=True)
class Plugin:
    name: str  # BrookMQ's: retainer
    emqx: str  # EMQX 4 / 3: emqx_retainer
    emq: str  # EMQ 2: emq_retainer
    description: str
    version: str
    active: Callable[[], bool]
    switch: Callable[[bool], Awaitable[Any] | Any] | None = None  # None: it cannot be stopped
    root: str | None = None  # the settings root of its configuration


class Plugins:
    def __init__(self, plugins: list[Plugin], config: ConfigPort) -> None:
        self.plugins = plugins
        self.config_port = config

    def all(self) -> list[Plugin]:
        return list(self.plugins)

    def find(self, name: str) -> Plugin:
        """By any of its names."""
        for plugin in self.plugins:
            if name in (plugin.name, plugin.emqx, plugin.emq):
                return plugin
        raise NotFound(f"plugin {name} not found", "plugin")

    async def set_active(self, name: str, active: bool) -> None:
        plugin = self.find(name)
        if plugin.active() == active:
            raise AlreadyInState("already_started" if active else "not_started")
        await self._switch(plugin, active)

    async def reload(self, name: str) -> None:
        """Stop it and start it again (a plugin that is not running is started)."""
        plugin = self.find(name)
        if plugin.active():
            await self._switch(plugin, False)
        await self._switch(plugin, True)

    def settings(self, name: str) -> list[tuple[str, Any]]:
        """Its configuration as ``(root.key.path, value)``, every scalar key."""
        plugin = self.find(name)
        if plugin.root is None:
            return []
        out: list[tuple[str, Any]] = []

        def walk(prefix: str, value: Any) -> None:
            if isinstance(value, dict):
                for key, inner in value.items():
                    walk(f"{prefix}.{key}", inner)
            elif not isinstance(value, list):
                out.append((prefix, value))

        walk(plugin.root, self.config_port.get(plugin.root))
        return out

    def config(self, name: str) -> dict[str, Any]:
        """Its settings as one object (the root's)."""
        plugin = self.find(name)
        if plugin.root is None:
            raise NotFound(f"{plugin.name} has no configuration", "plugin")
        value: dict[str, Any] = self.config_port.get(plugin.root)
        return value

    async def change_config(self, name: str, changes: Any) -> dict[str, Any]:
        """The keys given change (objects merge), checked and applied as one change."""
        plugin = self.find(name)
        if plugin.root is None:
            raise NotFound(f"{plugin.name} has no configuration", "plugin")
        if not isinstance(changes, dict):
            raise Invalid("must be an object of its settings")
        try:
            changed: dict[str, Any] = await self.config_port.merge(plugin.root, changes)
        except UpdateFailed as exc:
            raise Invalid(exc.message) from None
        return changed

    async def change_settings(self, name: str, changes: dict[str, Any]) -> None:
        """``{"root.key.path": value}``, checked and applied as one change of its root."""
        plugin = self.find(name)
        known = dict(self.settings(name))
        if plugin.root is None or not isinstance(changes, dict):
            raise Invalid("takes an object of its settings' keys")
        patch: dict[str, Any] = {}
        for key, value in changes.items():
            if key not in known:
                raise Invalid(f"is not a key of {plugin.emqx}'s settings", str(key))
            target = patch
            parts = key.split(".")[1:]
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
        try:
            await self.config_port.merge(plugin.root, patch)
        except UpdateFailed as exc:
            raise Invalid(exc.message) from None

    @staticmethod
    async def _switch(plugin: Plugin, active: bool) -> None:
        if plugin.switch is None:
            raise NotAllowed(f"{plugin.emqx} cannot be stopped: the running API needs it")
        done = plugin.switch(active)
        if inspect.isawaitable(done):
            await done


def builtin(config: ConfigPort, version: str) -> list[Plugin]:
    """The built-in plugins, each on its settings root's ``enable``."""

    def switchable(root: str, name: str, emqx: str, emq: str, description: str) -> Plugin:
        return Plugin(
            name,
            emqx,
            emq,
            description,
            version,
            lambda: bool(config.get(root)["enable"]),
            lambda on: config.merge(root, {"enable": on}),
            root,
        )

    def always(name: str, emqx: str, emq: str, description: str) -> Plugin:
        return Plugin(name, emqx, emq, description, version, lambda: True)

    return [
        switchable("retainer", "retainer", "emqx_retainer", "emq_retainer", "EMQX Retainer"),
        switchable(
            "delayed", "delayed", "emqx_delayed_publish", "emq_delayed_publish", "EMQX Delayed Publish"
        ),
        switchable("rule_engine", "rule_engine", "emqx_rule_engine", "emq_rule_engine", "EMQX Rule Engine"),
        always("management", "emqx_management", "emq_management", "EMQX Management API"),
        always("dashboard", "emqx_dashboard", "emq_dashboard", "EMQX Web Dashboard"),
    ]
