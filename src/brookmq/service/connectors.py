"""Connectors and actions as ``/api/v5/connectors`` and ``/api/v5/actions`` manage them.

Each is kept in the store (connectors in ``resources``, actions in ``actions``) as it was
given (EMQX 5.8's fields), checked against its schema, and run by the connector registry. The
objects shown carry the settings with their defaults, the ``status`` (``connecting``,
``connected``, ``disconnected``) with ``status_reason`` and ``node_status``, and, for a
connector, the actions that use it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from brookmq.core.store import Collection
from brookmq.extensions.connectors.http import HttpAction, HttpActionConf, HttpConnector, HttpConnectorConf
from brookmq.extensions.connectors.registry import TYPES, Connectors
from brookmq.service.errors import AlreadyExists, Invalid, NotAllowed, NotFound

log = logging.getLogger("brookmq.connectors")

_DURATIONS = {"connect_timeout", "health_check_interval", "start_timeout", "request_ttl", "request_timeout"}


def _shown(conf: BaseModel) -> dict[str, Any]:
    """The settings with their defaults, durations as EMQX writes them (``"15s"``)."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if key in _DURATIONS and isinstance(value, float):
            return f"{value:g}s"
        return value

    shown: dict[str, Any] = walk(conf.model_dump())
    return shown


def _checked(model: type[BaseModel], body: dict[str, Any]) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Invalid(first["msg"], where) from None


def _split(kind: str, identifier: str) -> tuple[str, str]:
    """``http:<name>`` into its type and name; NotFound for another type."""
    type_, _, name = identifier.partition(":")
    if type_ not in TYPES or not name:
        raise NotFound(f"{kind} not found")
    return type_, name


def _new_name(body: dict[str, Any], records: Collection, kind: str) -> str:
    """The ``name`` of a new connector or action of a known ``type``."""
    type_, name = body.get("type"), body.get("name")
    if type_ not in TYPES:
        raise Invalid(f"must be one of {', '.join(TYPES)}", "type")
    if not isinstance(name, str) or not name or ":" in name:
        raise Invalid("is required, without ':'", "name")
    if records.get(name) is not None:
        raise AlreadyExists(f"{kind} already exists")
    return name


def _kept(identifier: str, records: Collection, kind: str, missing: str) -> tuple[str, dict[str, Any]]:
    """The name and kept record of ``http:<name>``."""
    _, name = _split(kind, identifier)
    record = records.get(name)
    if record is None:
        raise NotFound(missing)
    return name, record


class ConnectorsService:
    def __init__(self, registry: Connectors, connectors: Collection, actions: Collection, node: str) -> None:
        self.registry = registry
        self.connectors = connectors
        self.actions = actions
        self.node = node

    async def load(self) -> None:
        for name, doc in self.connectors.items():
            try:
                await self.registry.put_connector(name, HttpConnectorConf.model_validate(doc["conf"]))
            except ValidationError as exc:
                log.error("connector http:%s is kept but not run: %s", name, exc)
        for name, doc in self.actions.items():
            try:
                await self.registry.put_action(name, HttpActionConf.model_validate(doc["conf"]))
            except ValidationError as exc:
                log.error("action http:%s is kept but not run: %s", name, exc)

    # ------------------------------------------------------------ shapes

    def _status(self, status: str, reason: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"status": status, "node_status": [{"node": self.node, "status": status}]}
        if reason:
            out["status_reason"] = reason
            out["node_status"][0]["status_reason"] = reason
        return out

    def _connector(self, connector: HttpConnector) -> dict[str, Any]:
        doc = self.connectors.get(connector.name) or {}
        return {
            "type": "http",
            "name": connector.name,
            **_shown(connector.conf),
            **self._status(connector.status, connector.status_reason),
            "actions": self.registry.users(connector.name),
            "sources": [],
            "created_at": doc.get("created_at"),
            "last_modified_at": doc.get("last_modified_at"),
        }

    def _action(self, action: HttpAction) -> dict[str, Any]:
        doc = self.actions.get(action.name) or {}
        connector = action.connector
        reason = None if connector is None else connector.status_reason
        if connector is None:
            reason = f"connector http:{action.conf.connector} not found"
        elif not action.conf.enable:
            reason = "disabled"
        return {
            "type": "http",
            "name": action.name,
            **_shown(action.conf),
            **self._status(action.status, reason),
            "created_at": doc.get("created_at"),
            "last_modified_at": doc.get("last_modified_at"),
        }

    # ------------------------------------------------------------ connectors

    def list_connectors(self) -> list[dict[str, Any]]:
        return [self._connector(c) for c in self.registry.connectors.values()]

    def get_connector(self, identifier: str) -> dict[str, Any]:
        _, name = _split("connector", identifier)
        connector = self.registry.connectors.get(name)
        if connector is None:
            raise NotFound("connector not found")
        return self._connector(connector)

    async def create_connector(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._put_connector(_new_name(body, self.connectors, "connector"), body, time.time())

    async def update_connector(self, identifier: str, body: dict[str, Any]) -> dict[str, Any]:
        name, old = _kept(identifier, self.connectors, "connector", "connector not found")
        return await self._put_connector(name, {**old["conf"], **body}, old["created_at"])

    async def _put_connector(self, name: str, body: dict[str, Any], created_at: float) -> dict[str, Any]:
        raw = {k: v for k, v in body.items() if k not in ("type", "name")}
        conf = _checked(HttpConnectorConf, raw)
        self.connectors.put(name, {"conf": raw, "created_at": created_at, "last_modified_at": time.time()})
        connector = await self.registry.put_connector(name, conf)
        if conf.enable:
            await connector.check()
        return self._connector(connector)

    async def delete_connector(self, identifier: str) -> None:
        _, name = _split("connector", identifier)
        if self.connectors.get(name) is None:
            raise NotFound("connector not found")
        users = self.registry.users(name)
        if users:
            raise NotAllowed(
                f"Cannot delete connector while there are active channels defined for this connector: {users}"
            )
        self.connectors.delete(name)
        await self.registry.remove_connector(name)

    async def enable_connector(self, identifier: str, enable: bool) -> None:
        await self.update_connector(identifier, {"enable": enable})

    async def start_connector(self, identifier: str) -> None:
        _, name = _split("connector", identifier)
        connector = self.registry.connectors.get(name)
        if connector is None:
            raise NotFound("connector not found")
        connector.start()
        await connector.check()

    async def probe(self, body: dict[str, Any]) -> None:
        """Could a connector with these settings connect? Nothing is kept."""
        raw = {k: v for k, v in body.items() if k not in ("type", "name")}
        connector = HttpConnector("probe", _checked(HttpConnectorConf, raw), self.registry.alarms)
        await connector.check()
        connector.alarms.deactivate(connector.alarm)
        if connector.status != "connected":
            raise Invalid(connector.status_reason or "cannot connect")

    # ------------------------------------------------------------ actions

    def list_actions(self) -> list[dict[str, Any]]:
        return [self._action(a) for a in self.registry.actions.values()]

    def _running(self, identifier: str) -> HttpAction:
        _, name = _split("action", identifier)
        action = self.registry.actions.get(name)
        if action is None:
            raise NotFound("Action not found")
        return action

    def get_action(self, identifier: str) -> dict[str, Any]:
        return self._action(self._running(identifier))

    async def create_action(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._put_action(_new_name(body, self.actions, "action"), body, time.time())

    async def update_action(self, identifier: str, body: dict[str, Any]) -> dict[str, Any]:
        name, old = _kept(identifier, self.actions, "action", "Action not found")
        return await self._put_action(name, {**old["conf"], **body}, old["created_at"])

    async def _put_action(self, name: str, body: dict[str, Any], created_at: float) -> dict[str, Any]:
        raw = {k: v for k, v in body.items() if k not in ("type", "name")}
        conf = _checked(HttpActionConf, raw)
        if conf.connector not in self.registry.connectors:
            raise Invalid(f"connector http:{conf.connector} does not exist", "connector")
        self.actions.put(name, {"conf": raw, "created_at": created_at, "last_modified_at": time.time()})
        return self._action(await self.registry.put_action(name, conf))

    async def delete_action(self, identifier: str, rules_using: list[str]) -> None:
        action = self._running(identifier)
        if rules_using:
            raise NotAllowed(f"Cannot delete action while dependent rules exist: {rules_using}")
        self.actions.delete(action.name)
        await self.registry.remove_action(action.name)

    async def enable_action(self, identifier: str, enable: bool) -> None:
        await self.update_action(identifier, {"enable": enable})

    def metrics(self, identifier: str) -> dict[str, Any]:
        action = self._running(identifier)
        figures = {**action.counts, **action.gauges(), "rate": 0.0, "rate_max": 0.0, "rate_last5m": 0.0}
        return {"metrics": figures, "node_metrics": [{"node": self.node, "metrics": figures}]}

    def reset_metrics(self, identifier: str) -> None:
        action = self._running(identifier)
        action.counts = dict.fromkeys(action.counts, 0)
