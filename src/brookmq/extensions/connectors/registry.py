"""The running connectors, actions and sources, by EMQX's ids (``<type>:<name>``). The rule
engine finds a rule's ``"http:<name>"`` action here, and an ingress source hands what it
receives to the engine; replacing or removing one stops what it ran."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from brookmq.core.alarms import Alarms
from brookmq.extensions.connectors.http import HttpAction, HttpActionConf, HttpConnector, HttpConnectorConf
from brookmq.extensions.connectors.mqtt import (
    MqttAction,
    MqttActionConf,
    MqttConnector,
    MqttConnectorConf,
    MqttSource,
    MqttSourceConf,
)
from brookmq.extensions.connectors.redis import (
    RedisAction,
    RedisActionConf,
    RedisConnector,
    RedisConnectorConf,
)


@dataclass(frozen=True, slots=True)
class Kind:
    """What one connector type brings: its connector, action and (ingress) source."""

    connector_conf: type[BaseModel]
    connector: Callable[..., Any]
    action_conf: type[BaseModel]
    action: Callable[..., Any]
    source_conf: type[BaseModel] | None = None
    source: Callable[..., Any] | None = None


TYPES: dict[str, Kind] = {
    "http": Kind(HttpConnectorConf, HttpConnector, HttpActionConf, HttpAction),
    "mqtt": Kind(MqttConnectorConf, MqttConnector, MqttActionConf, MqttAction, MqttSourceConf, MqttSource),
    "redis": Kind(RedisConnectorConf, RedisConnector, RedisActionConf, RedisAction),
}

Key = tuple[str, str]  # (type, name)


class Connectors:
    def __init__(self, alarms: Alarms) -> None:
        self.alarms = alarms
        self.connectors: dict[Key, Any] = {}
        self.actions: dict[Key, Any] = {}
        self.sources: dict[Key, Any] = {}
        self.ingest: Callable[[str, Any], None] = lambda source, columns: None  # set by the app

    def sink(self, action_id: str) -> Any:
        """The action a rule names ``<type>:<name>``."""
        kind, _, name = action_id.partition(":")
        return self.actions.get((kind, name))

    def users(self, key: Key) -> list[str]:
        """The actions and sources that use the connector ``key``."""
        kind, name = key
        return sorted(
            n
            for table in (self.actions, self.sources)
            for (k, n), v in table.items()
            if k == kind and v.connector_name == name
        )

    async def put_connector(self, key: Key, conf: Any) -> Any:
        old = self.connectors.get(key)
        if old is not None:
            await old.stop()
        connector = TYPES[key[0]].connector(key[1], conf, self.alarms)
        self.connectors[key] = connector
        connector.start()
        for table in (self.actions, self.sources):
            for (kind, _), user in table.items():
                if kind == key[0] and user.connector_name == key[1]:
                    user.connector = connector
                    if table is self.sources:
                        user.start()
        return connector

    async def remove_connector(self, key: Key) -> None:
        connector = self.connectors.pop(key, None)
        if connector is not None:
            await connector.stop()

    async def put_action(self, key: Key, conf: Any) -> Any:
        old = self.actions.get(key)
        if old is not None:
            await old.stop()
        action = TYPES[key[0]].action(key[1], conf, self.connectors.get((key[0], conf.connector)))
        if old is not None:
            action.counts = old.counts
        self.actions[key] = action
        action.start()
        return action

    async def remove_action(self, key: Key) -> None:
        action = self.actions.pop(key, None)
        if action is not None:
            await action.stop()

    async def put_source(self, key: Key, conf: Any) -> Any:
        old = self.sources.get(key)
        if old is not None:
            await old.stop()
        make = TYPES[key[0]].source
        assert make is not None
        source = make(key[1], conf, self.connectors.get((key[0], conf.connector)), self.ingest)
        if old is not None:
            source.counts = old.counts
        self.sources[key] = source
        source.start()
        return source

    async def remove_source(self, key: Key) -> None:
        source = self.sources.pop(key, None)
        if source is not None:
            await source.stop()

    async def stop(self) -> None:
        for table in (self.sources, self.actions, self.connectors):
            for item in list(table.values()):
                await item.stop()
