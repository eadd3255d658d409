"""``/plugins`` (EMQX 5.8's shapes) over the same plugins as the legacy dialects: BrookMQ's
built-in features, which start and stop at run time."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Request, Response

from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.plugins import AlreadyInState, Plugin

routes = router()


def _plugin(request: Request, plugin: Plugin) -> dict[str, Any]:
    status = "running" if plugin.active() else "stopped"
    return {
        "name": plugin.name,
        "rel_vsn": plugin.version,
        "description": plugin.description,
        "emqx_name": plugin.emqx,
        "builtin": True,
        "running_status": [{"node": services(request).node.name, "status": status}],
    }


@routes.get("/plugins", tags=["Plugins"])
async def list_plugins(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return [_plugin(request, plugin) for plugin in services(request).plugins.all()]


@routes.get("/plugins/{name}", tags=["Plugins"])
async def get_plugin(name: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return _plugin(request, services(request).plugins.find(name))


@routes.get("/plugins/{name}/config", tags=["Plugins"])
async def plugin_config(name: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    """Its settings (the root's: ``retainer``, ``delayed``, ``rule_engine``)."""
    return services(request).plugins.config(name)


@routes.put("/plugins/{name}/config", status_code=204, tags=["Plugins"])
async def change_plugin_config(
    name: str, request: Request, caller: Authenticated, body: Annotated[Any, Body()]
) -> Response:
    """The keys given change, live and kept; 400 naming a key that does not fit."""
    await services(request).plugins.change_config(name, body)
    return Response(status_code=204)


@routes.put("/plugins/{name}/{action}", status_code=204, tags=["Plugins"])
async def switch_plugin(
    name: str, action: Literal["start", "stop"], request: Request, caller: Authenticated
) -> Response:
    """Start or stop it; 400 ``BAD_REQUEST`` for one the API needs (management, dashboard)."""
    try:
        await services(request).plugins.set_active(name, action == "start")
    except AlreadyInState:
        pass  # EMQX 5 answers 204 for a plugin already in that state
    return Response(status_code=204)
