"""Connectors, actions and sources as ``/api/v5/connectors``, ``/actions`` and ``/sources``
manage them.

Each is kept in the store (connectors in ``resources``, actions and sources in ``actions``,
keyed ``<kind>:<type>:<name>``) as it was given (EMQX 5.8's fields), checked against its
type's schema, and run by the connector registry. The objects shown carry the settings with
their defaults, the ``status`` (``connecting``, ``connected``, ``disconnected``) with
``status_reason`` and ``node_status``, and, for a connector, the actions and sources that use it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pydantic import BaseModel, ValidationError

from brookmq.core.store import Collection
from brookmq.extensions.connectors.registry import TYPES, Connectors, Key
from brookmq.service.errors import AlreadyExists, Invalid, NotAllowed, NotFound

log = logging.getLogger("brookmq.connectors")

_DURATIONS = {
    "connect_timeout",
    "health_check_interval",
    "start_timeout",
    "request_ttl",
    "request_timeout",
    "keepalive",
    "retry_interval",
}
HIDDEN = "******"  # a password as every answer shows it
_MISSING = {"connector": "connector not found", "action": "Action not found", "source": "Source not found"}


def _shown(conf: BaseModel) -> dict[str, Any]:
    """The settings with their defaults, durations as EMQX writes them (``"15s"``), secrets hidden."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if key in _DURATIONS and isinstance(value, float):
            return f"{value:g}s"
        if key == "password" and value is not None:
            return HIDDEN
        return value

    shown: dict[str, Any] = walk(conf.model_dump())
    return shown


def _checked(model: type[BaseModel] | None, body: dict[str, Any]) -> Any:
    if model is None:
        raise Invalid("this type has no such kind", "type")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise Invalid(first["msg"], where) from None


def _key(kind: str, identifier: str) -> Key:
    """``<type>:<name>`` into its parts; NotFound for an unknown type."""
    type_, _, name = identifier.partition(":")
    if type_ not in TYPES or not name:
        raise NotFound(_MISSING[kind])
    return type_, name


def _new_key(body: dict[str, Any]) -> Key:
    type_, name = body.get("type"), body.get("name")
    if type_ not in TYPES:
        raise Invalid(f"must be one of {', '.join(TYPES)}", "type")
    if not isinstance(name, str) or not name or ":" in name:
        raise Invalid("is required, without ':'", "name")
    return type_, name


def _settings(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("type", "name")}


class ConnectorsService:
    def __init__(self, registry: Connectors, connectors: Collection, channels: Collection, node: str) -> None:
        self.registry = registry
        self.records = {"connector": connectors, "action": channels, "source": channels}
        self.node = node

    def _record_key(self, kind: str, key: Key) -> str:
        return f"{key[0]}:{key[1]}" if kind == "connector" else f"{kind}:{key[0]}:{key[1]}"

    def _record(self, kind: str, key: Key) -> dict[str, Any] | None:
        return self.records[kind].get(self._record_key(kind, key))

    async def load(self) -> None:
        """Start what is kept: connectors first."""
        for kind in ("connector", "action", "source"):
            for record_key, doc in self.records[kind].items():
                parts = record_key.split(":", 2)
                if (kind == "connector") != (len(parts) == 2) or (kind != "connector" and parts[0] != kind):
                    continue
                key = (parts[-2], parts[-1])
                try:
                    await self._run(kind, key, self._model(kind, key[0]).model_validate(doc["conf"]))
                except (ValidationError, KeyError, AttributeError) as exc:
                    log.error("%s %s:%s is kept but not run: %s", kind, key[0], key[1], exc)

    @staticmethod
    def _model(kind: str, type_: str) -> Any:
        found = TYPES[type_]
        return {"connector": found.connector_conf, "action": found.action_conf, "source": found.source_conf}[
            kind
        ]

    async def _run(self, kind: str, key: Key, conf: Any) -> Any:
        registry = self.registry
        put = {
            "connector": registry.put_connector,
            "action": registry.put_action,
            "source": registry.put_source,
        }
        return await put[kind](key, conf)

    def _table(self, kind: str) -> dict[Key, Any]:
        registry = self.registry
        return {"connector": registry.connectors, "action": registry.actions, "source": registry.sources}[
            kind
        ]

    # ------------------------------------------------------------ shapes

    def _status(self, status: str, reason: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"status": status, "node_status": [{"node": self.node, "status": status}]}
        if reason:
            out["status_reason"] = reason
            out["node_status"][0]["status_reason"] = reason
        return out

    def _shape(self, kind: str, key: Key, running: Any) -> dict[str, Any]:
        doc = self._record(kind, key) or {}
        out = {"type": key[0], "name": key[1], **_shown(running.conf)}
        if kind == "connector":
            out |= self._status(running.status, running.status_reason)
            users = self.registry.users(key)
            out["actions"] = [n for n in users if (key[0], n) in self.registry.actions]
            out["sources"] = [n for n in users if (key[0], n) in self.registry.sources]
        else:
            connector = running.connector
            reason = None if connector is None else connector.status_reason
            if connector is None:
                reason = f"connector {key[0]}:{running.connector_name} not found"
            elif not running.enable:
                reason = "disabled"
            out |= self._status(running.status, reason)
        return {**out, "created_at": doc.get("created_at"), "last_modified_at": doc.get("last_modified_at")}

    # ------------------------------------------------------------ the operations, for each kind

    def listing(self, kind: str) -> list[dict[str, Any]]:
        return [self._shape(kind, key, running) for key, running in self._table(kind).items()]

    def _running(self, kind: str, identifier: str) -> tuple[Key, Any]:
        key = _key(kind, identifier)
        running = self._table(kind).get(key)
        if running is None:
            raise NotFound(_MISSING[kind])
        return key, running

    def get(self, kind: str, identifier: str) -> dict[str, Any]:
        return self._shape(kind, *self._running(kind, identifier))

    async def create(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        key = _new_key(body)
        if self._record(kind, key) is not None:
            raise AlreadyExists(f"{kind} already exists")
        return await self._put(kind, key, _settings(body), time.time())

    async def update(self, kind: str, identifier: str, body: dict[str, Any]) -> dict[str, Any]:
        key = _key(kind, identifier)
        old = self._record(kind, key)
        if old is None:
            raise NotFound(_MISSING[kind])
        changes = _settings(body)
        if changes.get("password") == HIDDEN:  # the hidden value sent back: the password stays
            del changes["password"]
        return await self._put(kind, key, {**old["conf"], **changes}, old["created_at"])

    async def _put(self, kind: str, key: Key, raw: dict[str, Any], created_at: float) -> dict[str, Any]:
        conf = _checked(self._model(kind, key[0]), raw)
        if kind != "connector" and (key[0], conf.connector) not in self.registry.connectors:
            raise Invalid(f"connector {key[0]}:{conf.connector} does not exist", "connector")
        record = {"conf": raw, "created_at": created_at, "last_modified_at": time.time()}
        self.records[kind].put(self._record_key(kind, key), record)
        running = await self._run(kind, key, conf)
        if kind == "connector" and conf.enable:
            await running.check()
        return self._shape(kind, key, running)

    async def delete(self, kind: str, identifier: str, rules_using: list[str]) -> None:
        key, _ = self._running(kind, identifier)
        if kind == "connector" and self.registry.users(key):
            users = self.registry.users(key)
            raise NotAllowed(
                f"Cannot delete connector while there are active channels defined for this connector: {users}"
            )
        if rules_using:
            raise NotAllowed(f"Cannot delete {kind} while dependent rules exist: {rules_using}")
        self.records[kind].delete(self._record_key(kind, key))
        remove = {
            "connector": self.registry.remove_connector,
            "action": self.registry.remove_action,
            "source": self.registry.remove_source,
        }
        await remove[kind](key)

    async def enable(self, kind: str, identifier: str, enable: bool) -> None:
        await self.update(kind, identifier, {"enable": enable})

    async def start(self, identifier: str) -> None:
        _, connector = self._running("connector", identifier)
        connector.start()
        await connector.check()

    async def probe(self, body: dict[str, Any]) -> None:
        """Could a connector with these settings connect? Nothing is kept."""
        type_ = body.get("type")
        if type_ not in TYPES:
            raise Invalid(f"must be one of {', '.join(TYPES)}", "type")
        conf = _checked(TYPES[type_].connector_conf, _settings(body))
        connector = TYPES[type_].connector("probe", conf, self.registry.alarms)
        connector.start()
        try:
            await connector.check()
            status, reason = connector.status, connector.status_reason
        finally:
            await connector.stop()
        if status != "connected":
            raise Invalid(reason or "cannot connect")

    def metrics(self, kind: str, identifier: str) -> dict[str, Any]:
        _, running = self._running(kind, identifier)
        figures = running.metrics()
        return {"metrics": figures, "node_metrics": [{"node": self.node, "metrics": figures}]}

    def reset_metrics(self, kind: str, identifier: str) -> None:
        _, running = self._running(kind, identifier)
        running.reset_metrics()
