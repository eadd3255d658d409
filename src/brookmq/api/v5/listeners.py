"""``/listeners``: the MQTT listeners, their state, and run-time changes (kept across restarts)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import Body, Path, Request, Response

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.errors import AlreadyExists, Invalid

routes = router(tags=["Listeners"])
Id = Annotated[str, Path(description="<type>:<name>, e.g. tcp:default")]
Options = Annotated[dict[str, Any], Body(description="Listener options (see docs/configuration.md)")]


@contextmanager
def _listener_ids() -> Iterator[None]:
    """EMQX's 400 ``BAD_LISTENER_ID`` for an id that is malformed or taken (an unknown one is a
    404 with the same code, mapped for every route)."""
    try:
        yield
    except AlreadyExists as exc:
        raise ApiError(400, "BAD_LISTENER_ID", exc.message) from None
    except Invalid as exc:
        if exc.field != "id":
            raise
        raise ApiError(400, "BAD_LISTENER_ID", exc.message) from None


@routes.get("/listeners")
async def list_listeners(
    request: Request, caller: Authenticated, type: Literal["tcp", "ssl", "ws", "wss"] | None = None
) -> list[dict[str, Any]]:
    return services(request).listeners.all(type)


@routes.get("/listeners_status")
async def listeners_status(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return services(request).listeners.all()


@routes.get("/listeners/{id}")
async def get_listener(id: Id, request: Request, caller: Authenticated) -> dict[str, Any]:
    with _listener_ids():
        return services(request).listeners.info(id)


@routes.post("/listeners")
async def create_listener(body: Options, request: Request, caller: Authenticated) -> dict[str, Any]:
    """``{type, name, ...options}``; 400 ``BAD_LISTENER_ID`` when it exists."""
    kind, name = body.get("type", ""), body.get("name", "")
    if not isinstance(kind, str) or not isinstance(name, str):
        raise ApiError(400, "BAD_REQUEST", "type and name: must be strings")
    listener_id = f"{kind}:{name}"
    with _listener_ids():
        return await services(request).listeners.create(listener_id, body)


@routes.post("/listeners/{id}")
async def create_listener_at(
    id: Id, body: Options, request: Request, caller: Authenticated
) -> dict[str, Any]:
    with _listener_ids():
        return await services(request).listeners.create(id, body)


@routes.put("/listeners/{id}")
async def update_listener(id: Id, body: Options, request: Request, caller: Authenticated) -> dict[str, Any]:
    """Change the options given; the listener restarts with them (its clients are disconnected)."""
    with _listener_ids():
        return await services(request).listeners.update(id, body)


@routes.delete("/listeners/{id}", status_code=204)
async def delete_listener(id: Id, request: Request, caller: Authenticated) -> Response:
    with _listener_ids():
        await services(request).listeners.delete(id)
    return Response(status_code=204)


@routes.post("/listeners/{id}/{action}")
async def listener_action(
    id: Id, action: Literal["start", "stop", "restart"], request: Request, caller: Authenticated
) -> Response:
    """``start`` and ``stop`` also set ``enable``, so the listener stays that way after a restart."""
    listeners = services(request).listeners
    with _listener_ids():
        await {"start": listeners.start, "stop": listeners.stop, "restart": listeners.restart}[action](id)
    return Response(status_code=200)
