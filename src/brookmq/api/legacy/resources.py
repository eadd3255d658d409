"""EMQX 4's resources (``/resources``, ``/resource_status``, ``/resource_types``) over the
``/api/v5`` connectors: a ``web_hook`` resource is an ``http`` connector, a ``bridge_mqtt`` one an
``mqtt`` connector (see ``service/legacy_rules``). A resource id ``resource:1a`` is the connector
``resource-1a``, the id these routes show."""

from __future__ import annotations

import secrets
from typing import Any

from brookmq.api.legacy.framework import Call, LegacyError, Ok, Route, boolean, required
from brookmq.service.errors import AlreadyExists, Invalid, NotAllowed, NotFound
from brookmq.service.legacy_rules import (
    LEGACY_TYPES,
    RESOURCE_TYPES,
    connector_name,
    v4_resource,
    v5_connector,
)

BAD_REQUEST, NOT_FOUND = 400, 404

_TYPES = {
    "web_hook": ("emqx_web_hook", "WebHook", "Send messages to a web server", {"url": {"type": "string"}}),
    "bridge_mqtt": (
        "emqx_bridge_mqtt",
        "MQTT Bridge",
        "Bridge to another MQTT broker",
        {"address": {"type": "string"}},
    ),
}


def _type_row(name: str) -> dict[str, Any]:
    provider, title, description, params = _TYPES[name]
    return {
        "name": name,
        "provider": provider,
        "params": params,
        "title": {"en": title, "zh": title},
        "description": {"en": description, "zh": description},
    }


def _connectors(call: Call) -> list[dict[str, Any]]:
    return [c for c in call.services.connectors.listing("connector") if c["type"] in LEGACY_TYPES]


def _find(call: Call, resource_id: str) -> dict[str, Any]:
    name = connector_name(resource_id)
    for info in _connectors(call):
        if info["name"] == name:
            return info
    raise LegacyError(NOT_FOUND, f"Resource {resource_id} Not Found")


def _alive(call: Call, info: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"node": call.services.node.name, "is_alive": info["status"] == "connected"}]


def _refused(exc: Exception) -> LegacyError:
    if isinstance(exc, NotFound):
        return LegacyError(NOT_FOUND, exc.message)
    if isinstance(exc, AlreadyExists):
        return LegacyError(BAD_REQUEST, "Already Exists")
    if isinstance(exc, NotAllowed):
        return LegacyError(BAD_REQUEST, exc.message)
    assert isinstance(exc, Invalid)
    return LegacyError(BAD_REQUEST, f"Bad Arguments: {exc.message}")


def list_resources(call: Call) -> Ok:
    return Ok([{**v4_resource(info), "status": info["status"] == "connected"} for info in _connectors(call)])


async def create_resource(call: Call) -> Ok:
    """``{id? ("resource:<hex>"), type (web_hook, bridge_mqtt), config, description}``;
    ``?test=true``: could it connect (nothing kept)."""
    kind = required(call, "type")[0]
    resource_id = call.params.get("id") or f"resource:{secrets.token_hex(4)}"
    try:
        settings = v5_connector(kind, call.params.get("config") or {})
        settings |= {
            "name": connector_name(str(resource_id)),
            "description": call.params.get("description") or "",
        }
        if boolean(call, "test"):
            await call.services.connectors.probe(settings)
            return Ok()
        info = await call.services.connectors.create("connector", settings)
    except (Invalid, NotFound, AlreadyExists) as exc:
        raise _refused(exc) from None
    return Ok(v4_resource(info))


def show_resource(call: Call) -> Ok:
    info = _find(call, call.path["id"])
    return Ok({**v4_resource(info), "status": _alive(call, info)})


async def update_resource(call: Call) -> Ok:
    info = _find(call, call.path["id"])
    kind = LEGACY_TYPES[info["type"]]
    changes: dict[str, Any] = {}
    if "config" in call.params:
        changes = {k: v for k, v in v5_connector(kind, call.params["config"]).items() if k != "type"}
    if "description" in call.params:
        changes["description"] = call.params["description"]
    try:
        changed = await call.services.connectors.update(
            "connector", f"{info['type']}:{info['name']}", changes
        )
    except (Invalid, NotFound) as exc:
        raise _refused(exc) from None
    return Ok(v4_resource(changed))


async def start_resource(call: Call) -> Ok:
    info = _find(call, call.path["id"])
    await call.services.connectors.start(f"{info['type']}:{info['name']}")
    return Ok()


async def delete_resource(call: Call) -> Ok:
    info = _find(call, call.path["id"])
    try:
        await call.services.connectors.delete("connector", f"{info['type']}:{info['name']}", [])
    except NotAllowed as exc:
        raise _refused(exc) from None
    return Ok()


def resource_status(call: Call) -> Ok:
    return Ok(_alive(call, _find(call, call.path["id"])))


def list_resource_types(call: Call) -> Ok:
    return Ok([_type_row(name) for name in _TYPES])


def show_resource_type(call: Call) -> Ok:
    name = call.path["name"]
    if name not in _TYPES:
        raise LegacyError(NOT_FOUND, f"Resource Type {name} Not Found")
    return Ok(_type_row(name))


def resources_of_type(call: Call) -> Ok:
    kind = call.path["type"]
    if kind not in RESOURCE_TYPES:
        raise LegacyError(NOT_FOUND, f"Resource Type {kind} Not Found")
    return Ok([v4_resource(info) for info in _connectors(call) if info["type"] == RESOURCE_TYPES[kind]])


def resource_routes(slash: str = "", updates: bool = True) -> list[Route]:
    """Collections listed as ``/resources`` + ``slash``; ``updates``: EMQX 4's ``PUT``."""
    routes = [
        Route("list_resources", "GET", f"/resources{slash}", list_resources, "A list of all resources"),
        Route("create_resource", "POST", f"/resources{slash}", create_resource, "Create a resource"),
        Route("show_resource", "GET", "/resources/{id}", show_resource, "Show a resource"),
        Route(
            "get_resource_status", "GET", "/resource_status/{id}", resource_status, "Get status of a resource"
        ),
        Route("start_resource", "POST", "/resources/{id}", start_resource, "Start a resource"),
        Route("delete_resource", "DELETE", "/resources/{id}", delete_resource, "Delete a resource"),
        Route(
            "list_resource_types",
            "GET",
            f"/resource_types{slash}",
            list_resource_types,
            "List all resource types",
        ),
        Route(
            "show_resource_type", "GET", "/resource_types/{name}", show_resource_type, "Show a resource type"
        ),
        Route(
            "list_resources_by_type",
            "GET",
            "/resource_types/{type}/resources",
            resources_of_type,
            "List all resources of a resource type",
        ),
    ]
    if updates:
        routes.append(
            Route("update_resource", "PUT", "/resources/{id}", update_resource, "Update a resource")
        )
    return routes
