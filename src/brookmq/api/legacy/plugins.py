"""The plugin routes of the legacy dialects: lists ``{name, version, description, active,
type}`` under EMQX 4's names (EMQ 2's for ``/api/v2``), and load / unload / reload (v2:
``PUT {"active": bool}``) acting on the real feature (see ``service/plugins``). What differs is
each dialect's: its names and how it says "already started" / "not started"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brookmq.api.legacy.framework import Call, LegacyError, Ok, Route, boolean, node_of, required
from brookmq.service.errors import NotAllowed, NotFound
from brookmq.service.plugins import AlreadyInState, Plugin


@dataclass(frozen=True, slots=True)
class PluginDialect:
    emq: bool = False  # EMQ 2's names (emq_retainer)
    started_code: int | None = None  # the code of "already_started" (v4: a message only)
    stopped_code: int | None = None  # the code of "not_started"


def _row(dialect: PluginDialect, plugin: Plugin) -> dict[str, Any]:
    return {
        "name": plugin.emq if dialect.emq else plugin.emqx,
        "version": plugin.version,
        "description": plugin.description,
        "active": plugin.active(),
        "type": "feature",
    }


def plugin_handlers(dialect: PluginDialect) -> dict[str, Any]:
    def rows(call: Call) -> list[dict[str, Any]]:
        return [_row(dialect, plugin) for plugin in call.services.plugins.all()]

    def cluster(call: Call) -> Ok:
        return Ok([{"node": call.services.node.name, "plugins": rows(call)}])

    def node(call: Call) -> Ok:
        node_of(call)
        return Ok(rows(call))

    async def switch(call: Call, active: bool | None) -> Ok:
        """``active`` None: reload."""
        node_of(call)
        plugins = call.services.plugins
        try:
            if active is None:
                await plugins.reload(call.path["plugin"])
            else:
                await plugins.set_active(call.path["plugin"], active)
        except AlreadyInState as exc:
            started = exc.message == "already_started"
            raise LegacyError(
                dialect.started_code if started else dialect.stopped_code, exc.message
            ) from None
        except NotFound:
            raise LegacyError(None, "not_found") from None
        except NotAllowed as exc:
            raise LegacyError(None, exc.message) from None
        return Ok([] if dialect.emq else None)

    async def load(call: Call) -> Ok:
        return await switch(call, True)

    async def unload(call: Call) -> Ok:
        return await switch(call, False)

    async def reload(call: Call) -> Ok:
        return await switch(call, None)

    async def set_active(call: Call) -> Ok:
        required(call, "active")
        active = boolean(call, "active")
        return await switch(call, active)

    return {
        "cluster": cluster,
        "node": node,
        "load": load,
        "unload": unload,
        "reload": reload,
        "active": set_active,
    }


def emq_plugin_routes(dialect: PluginDialect) -> list[Route]:
    """EMQ 2's: the node's list, and ``PUT {"active": bool}``."""
    handlers = plugin_handlers(dialect)
    return [
        Route("list_node_plugins", "GET", "/nodes/{node}/plugins", handlers["node"], "A node's plugins"),
        Route(
            "switch_plugin",
            "PUT",
            "/nodes/{node}/plugins/{plugin}",
            handlers["active"],
            "Start or stop a plugin",
        ),
    ]


def plugin_routes(dialect: PluginDialect, slash: str = "", cluster_verbs: bool = False) -> list[Route]:
    """EMQX 4 / 3's routes (``slash``: 3.x lists collections with one; ``cluster_verbs``: 4.x's
    ``PUT /plugins/{plugin}/unload|reload``)."""
    handlers = plugin_handlers(dialect)
    routes = [
        Route(
            "list_all_plugins",
            "GET",
            f"/plugins{slash}",
            handlers["cluster"],
            "List all plugins in the cluster",
        ),
        Route(
            "list_node_plugins",
            "GET",
            f"/nodes/{{node}}/plugins{slash}",
            handlers["node"],
            "List all plugins on a node",
        ),
    ]
    for verb in ("load", "unload", "reload"):
        routes.append(
            Route(
                f"{verb}_plugin",
                "PUT",
                f"/nodes/{{node}}/plugins/{{plugin}}/{verb}",
                handlers[verb],
                f"{verb.capitalize()} a plugin",
            )
        )
    if cluster_verbs:
        for verb in ("unload", "reload"):
            path = f"/plugins/{{plugin}}/{verb}"
            routes.append(
                Route(
                    f"{verb}_plugin_in_cluster", "PUT", path, handlers[verb], f"{verb.capitalize()} a plugin"
                )
            )
    return routes
