"""``/connectors``, ``/actions`` and ``/sources`` (EMQX 5.8's data integration), for the
``http`` and ``mqtt`` types; ids are ``<type>:<name>``."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import Body, Request, Response

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import rfc3339_ms
from brookmq.extensions.connectors.registry import TYPES
from brookmq.service.errors import NotAllowed

routes = router()
JsonBody = Annotated[Any, Body()]


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BAD_REQUEST", "the body must be an object")
    return body


def _times(info: dict[str, Any]) -> dict[str, Any]:
    created, modified = rfc3339_ms(info["created_at"]), rfc3339_ms(info["last_modified_at"])
    return {**info, "created_at": created, "last_modified_at": modified}


def _rules_using(request: Request, kind: str, identifier: str) -> list[str]:
    """Rules name an action in their actions, a source in their FROM."""
    rules = services(request).rules
    if kind == "action":
        return rules.using(identifier)
    return rules.selecting(f"$bridges/{identifier}") if kind == "source" else []


def _channel_routes(kind: str, plural: str, tag: str) -> None:
    """The routes ``/actions`` and ``/sources`` share."""
    tags: list[str | Enum] = [tag]

    @routes.get(f"/{plural}", tags=tags, name=f"list_{plural}")
    async def listing(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
        return [_times(item) for item in services(request).connectors.listing(kind)]

    @routes.post(f"/{plural}", status_code=201, tags=tags, name=f"create_{kind}")
    async def create(request: Request, caller: Authenticated, body: JsonBody) -> dict[str, Any]:
        return _times(await services(request).connectors.create(kind, _object(body)))

    @routes.get(f"/{kind}_types", tags=tags, name=f"{kind}_types")
    async def types(request: Request, caller: Authenticated) -> list[str]:
        return [name for name, found in TYPES.items() if kind == "action" or found.source is not None]

    @routes.get(f"/{plural}_summary", tags=tags, name=f"{plural}_summary")
    async def summary(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
        found = services(request)
        rows = []
        for item in found.connectors.listing(kind):
            identifier = f"{item['type']}:{item['name']}"
            figures = found.connectors.metrics(kind, identifier)["metrics"]
            rows.append(
                {
                    "type": item["type"],
                    "name": item["name"],
                    "enable": item["enable"],
                    "status": item["status"],
                    "created_at": rfc3339_ms(item["created_at"]),
                    "last_modified_at": rfc3339_ms(item["last_modified_at"]),
                    "rules": _rules_using(request, kind, identifier),
                    "stats": {
                        key: figures.get(key, 0) for key in ("matched", "success", "failed", "dropped")
                    },
                }
            )
        return rows

    @routes.get(f"/{plural}/{{identifier}}", tags=tags, name=f"get_{kind}")
    async def get(identifier: str, request: Request, caller: Authenticated) -> dict[str, Any]:
        return _times(services(request).connectors.get(kind, identifier))

    @routes.put(f"/{plural}/{{identifier}}", tags=tags, name=f"update_{kind}")
    async def update(
        identifier: str, request: Request, caller: Authenticated, body: JsonBody
    ) -> dict[str, Any]:
        return _times(await services(request).connectors.update(kind, identifier, _object(body)))

    @routes.delete(f"/{plural}/{{identifier}}", status_code=204, tags=tags, name=f"delete_{kind}")
    async def delete(identifier: str, request: Request, caller: Authenticated) -> Response:
        """400 while a rule uses it, as EMQX."""
        try:
            await services(request).connectors.delete(
                kind, identifier, _rules_using(request, kind, identifier)
            )
        except NotAllowed as exc:
            raise ApiError(400, "BAD_REQUEST", exc.message) from None
        return Response(status_code=204)

    @routes.put(
        f"/{plural}/{{identifier}}/enable/{{enable}}", status_code=204, tags=tags, name=f"enable_{kind}"
    )
    async def enable(identifier: str, enable: bool, request: Request, caller: Authenticated) -> Response:
        await services(request).connectors.enable(kind, identifier, enable)
        return Response(status_code=204)

    @routes.get(f"/{plural}/{{identifier}}/metrics", tags=tags, name=f"{kind}_metrics")
    async def metrics(identifier: str, request: Request, caller: Authenticated) -> dict[str, Any]:
        """``matched``, ``success``, ``failed``, ``dropped`` (``.queue_full``, ``.expired``,
        ``.resource_not_found``, ``.resource_stopped``, ``.other``), ``retried``, ``received``,
        and the ``queuing``, ``queuing_bytes`` and ``inflight`` gauges."""
        return services(request).connectors.metrics(kind, identifier)

    @routes.put(f"/{plural}/{{identifier}}/metrics/reset", status_code=204, tags=tags, name=f"reset_{kind}")
    async def reset(identifier: str, request: Request, caller: Authenticated) -> Response:
        services(request).connectors.reset_metrics(kind, identifier)
        return Response(status_code=204)


# ------------------------------------------------------------------ connectors

CONNECTORS: list[str | Enum] = ["Connectors"]


@routes.get("/connectors", tags=CONNECTORS)
async def list_connectors(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return [_times(c) for c in services(request).connectors.listing("connector")]


@routes.post("/connectors", status_code=201, tags=CONNECTORS)
async def create_connector(request: Request, caller: Authenticated, body: JsonBody) -> dict[str, Any]:
    """``{type: "http" | "mqtt", name, ...settings}``: kept, started, checked once → 201 with
    its ``status``."""
    return _times(await services(request).connectors.create("connector", _object(body)))


@routes.post("/connectors_probe", status_code=204, tags=CONNECTORS)
async def probe_connector(request: Request, caller: Authenticated, body: JsonBody) -> Response:
    """Could such a connector connect? 204, or 400 with why; nothing is kept."""
    await services(request).connectors.probe(_object(body))
    return Response(status_code=204)


@routes.get("/connectors/{identifier}", tags=CONNECTORS)
async def get_connector(identifier: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return _times(services(request).connectors.get("connector", identifier))


@routes.put("/connectors/{identifier}", tags=CONNECTORS)
async def update_connector(
    identifier: str, request: Request, caller: Authenticated, body: JsonBody
) -> dict[str, Any]:
    return _times(await services(request).connectors.update("connector", identifier, _object(body)))


@routes.delete("/connectors/{identifier}", status_code=204, tags=CONNECTORS)
async def delete_connector(identifier: str, request: Request, caller: Authenticated) -> Response:
    try:
        await services(request).connectors.delete("connector", identifier, [])
    except NotAllowed as exc:
        raise ApiError(400, "BAD_REQUEST", exc.message) from None
    return Response(status_code=204)


@routes.put("/connectors/{identifier}/enable/{enable}", status_code=204, tags=CONNECTORS)
async def enable_connector(
    identifier: str, enable: bool, request: Request, caller: Authenticated
) -> Response:
    await services(request).connectors.enable("connector", identifier, enable)
    return Response(status_code=204)


@routes.post("/connectors/{identifier}/{operation}", status_code=204, tags=CONNECTORS)
async def operate_connector(
    identifier: str, operation: Literal["start"], request: Request, caller: Authenticated
) -> Response:
    await services(request).connectors.start(identifier)
    return Response(status_code=204)


_channel_routes("action", "actions", "Actions")
_channel_routes("source", "sources", "Sources")
