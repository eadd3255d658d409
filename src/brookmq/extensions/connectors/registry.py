"""The running connectors and actions, by EMQX's ids (``http:<name>``). The rule engine finds a
rule's ``"http:<name>"`` action here; replacing or removing one stops what it ran."""

from __future__ import annotations

from brookmq.core.alarms import Alarms
from brookmq.extensions.connectors.http import HttpAction, HttpActionConf, HttpConnector, HttpConnectorConf

TYPES = ("http",)


class Connectors:
    def __init__(self, alarms: Alarms) -> None:
        self.alarms = alarms
        self.connectors: dict[str, HttpConnector] = {}
        self.actions: dict[str, HttpAction] = {}

    def sink(self, action_id: str) -> HttpAction | None:
        """The action a rule names ``http:<name>``."""
        kind, _, name = action_id.partition(":")
        return self.actions.get(name) if kind == "http" else None

    def users(self, connector: str) -> list[str]:
        """The actions that send through ``connector``."""
        return sorted(name for name, action in self.actions.items() if action.conf.connector == connector)

    async def put_connector(self, name: str, conf: HttpConnectorConf) -> HttpConnector:
        old = self.connectors.get(name)
        if old is not None:
            await old.stop()
        connector = HttpConnector(name, conf, self.alarms)
        self.connectors[name] = connector
        connector.start()
        for action in self.actions.values():
            if action.conf.connector == name:
                action.connector = connector
        return connector

    async def remove_connector(self, name: str) -> None:
        connector = self.connectors.pop(name, None)
        if connector is not None:
            await connector.stop()

    async def put_action(self, name: str, conf: HttpActionConf) -> HttpAction:
        old = self.actions.get(name)
        if old is not None:
            await old.stop()
        action = HttpAction(name, conf, self.connectors.get(conf.connector))
        if old is not None:
            action.counts = old.counts
        self.actions[name] = action
        action.start()
        return action

    async def remove_action(self, name: str) -> None:
        action = self.actions.pop(name, None)
        if action is not None:
            await action.stop()

    async def stop(self) -> None:
        for action in list(self.actions.values()):
            await action.stop()
        for connector in list(self.connectors.values()):
            await connector.stop()
