"""``/connectors`` and ``/actions`` (EMQX 5.8's data integration) for the ``http`` type."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Body, Request, Response

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import rfc3339_ms
from brookmq.service.errors import NotAllowed

routes = router()
CONNECTORS: list[str | Enum] = ["Connectors"]
ACTIONS: list[str | Enum] = ["Actions"]
JsonBody = Annotated[Any, Body()]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BAD_REQUEST", "the body must be an object")
    return body


def _times(info: dict[str, Any]) -> dict[str, Any]:
    return {
        **info,
        "created_at": rfc3339_ms(info["created_at"]),
        "last_modified_at": rfc3339_ms(info["last_modified_at"]),
    }


def _not_allowed(exc: NotAllowed) -> ApiError:
    return ApiError(400, "BAD_REQUEST", exc.message)


# ------------------------------------------------------------------ connectors


@routes.get("/connectors", tags=CONNECTORS)
async def list_connectors(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return [_times(c) for c in services(request).connectors.list_connectors()]


@routes.post("/connectors", status_code=201, tags=CONNECTORS)
async def create_connector(request: Request, caller: Authenticated, body: JsonBody) -> dict[str, Any]:
    """``{type: "http", name, url, headers, connect_timeout, pool_size, resource_opts, ...}``:
    kept, started, checked once → 201 with its ``status``."""
    return _times(await services(request).connectors.create_connector(_object(body)))


@routes.post("/connectors_probe", status_code=204, tags=CONNECTORS)
async def probe_connector(request: Request, caller: Authenticated, body: JsonBody) -> Response:
    """Could such a connector connect? 204, or 400 with why; nothing is kept."""
    await services(request).connectors.probe(_object(body))
    return Response(status_code=204)


@routes.get("/connectors/{connector_id}", tags=CONNECTORS)
async def get_connector(connector_id: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return _times(services(request).connectors.get_connector(connector_id))


@routes.put("/connectors/{connector_id}", tags=CONNECTORS)
async def update_connector(
    connector_id: str, request: Request, caller: Authenticated, body: JsonBody
) -> dict[str, Any]:
    return _times(await services(request).connectors.update_connector(connector_id, _object(body)))


@routes.delete("/connectors/{connector_id}", status_code=204, tags=CONNECTORS)
async def delete_connector(connector_id: str, request: Request, caller: Authenticated) -> Response:
    try:
        await services(request).connectors.delete_connector(connector_id)
    except NotAllowed as exc:
        raise _not_allowed(exc) from None
    return Response(status_code=204)


@routes.put("/connectors/{connector_id}/enable/{enable}", status_code=204, tags=CONNECTORS)
async def enable_connector(
    connector_id: str, enable: bool, request: Request, caller: Authenticated
) -> Response:
    await services(request).connectors.enable_connector(connector_id, enable)
    return Response(status_code=204)


@routes.post("/connectors/{connector_id}/{operation}", status_code=204, tags=CONNECTORS)
async def operate_connector(
    connector_id: str, operation: Literal["start"], request: Request, caller: Authenticated
) -> Response:
    await services(request).connectors.start_connector(connector_id)
    return Response(status_code=204)


# ------------------------------------------------------------------ actions


@routes.get("/actions", tags=ACTIONS)
async def list_actions(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return [_times(a) for a in services(request).connectors.list_actions()]


@routes.post("/actions", status_code=201, tags=ACTIONS)
async def create_action(request: Request, caller: Authenticated, body: JsonBody) -> dict[str, Any]:
    """``{type: "http", name, connector, parameters: {path, method, headers, body, max_retries,
    request_timeout}, resource_opts}``; a rule uses it as ``"http:<name>"``."""
    return _times(await services(request).connectors.create_action(_object(body)))


@routes.get("/action_types", tags=ACTIONS)
async def action_types(request: Request, caller: Authenticated) -> list[str]:
    return ["http"]


@routes.get("/actions_summary", tags=ACTIONS)
async def actions_summary(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    summary = []
    for action in services(request).connectors.list_actions():
        figures = services(request).connectors.metrics(f"http:{action['name']}")["metrics"]
        summary.append(
            {
                "type": "http",
                "name": action["name"],
                "enable": action["enable"],
                "status": action["status"],
                "created_at": rfc3339_ms(action["created_at"]),
                "last_modified_at": rfc3339_ms(action["last_modified_at"]),
                "rules": services(request).rules.using(f"http:{action['name']}"),
                "stats": {key: figures[key] for key in ("matched", "success", "failed", "dropped")},
            }
        )
    return summary


@routes.get("/actions/{action_id}", tags=ACTIONS)
async def get_action(action_id: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return _times(services(request).connectors.get_action(action_id))


@routes.put("/actions/{action_id}", tags=ACTIONS)
async def update_action(
    action_id: str, request: Request, caller: Authenticated, body: JsonBody
) -> dict[str, Any]:
    return _times(await services(request).connectors.update_action(action_id, _object(body)))


@routes.delete("/actions/{action_id}", status_code=204, tags=ACTIONS)
async def delete_action(action_id: str, request: Request, caller: Authenticated) -> Response:
    """400 while a rule uses it, as EMQX."""
    found = services(request)
    try:
        await found.connectors.delete_action(action_id, found.rules.using(action_id))
    except NotAllowed as exc:
        raise _not_allowed(exc) from None
    return Response(status_code=204)


@routes.put("/actions/{action_id}/enable/{enable}", status_code=204, tags=ACTIONS)
async def enable_action(action_id: str, enable: bool, request: Request, caller: Authenticated) -> Response:
    await services(request).connectors.enable_action(action_id, enable)
    return Response(status_code=204)


@routes.get("/actions/{action_id}/metrics", tags=ACTIONS)
async def action_metrics(action_id: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    """``matched``, ``success``, ``failed``, ``dropped`` (``.queue_full``, ``.expired``,
    ``.resource_not_found``, ``.resource_stopped``), ``retried``, ``received``, and the
    ``queuing``, ``queuing_bytes`` and ``inflight`` gauges."""
    return services(request).connectors.metrics(action_id)


@routes.put("/actions/{action_id}/metrics/reset", status_code=204, tags=ACTIONS)
async def reset_action_metrics(action_id: str, request: Request, caller: Authenticated) -> Response:
    services(request).connectors.reset_metrics(action_id)
    return Response(status_code=204)
