"""The plugin routes of the legacy dialects: lists ``{name, version, description, active,
type}`` under EMQX 4's names (EMQ 2's for ``/api/v2``), and load / unload / reload (v2:
``PUT {"active": bool}``) acting on the real feature (see ``service/plugins``). What differs is
each dialect's: its names and how it says "already started" / "not started"."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brookmq.api.legacy.framework import PARAM_TYPE, Call, LegacyError, Ok, Route, boolean, node_of, required
from brookmq.service.errors import Invalid, NotAllowed, NotFound
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

    def get_configs(call: Call) -> Ok:
        """``[{key, value (text), desc, required}]`` of its settings."""
        node_of(call)
        try:
            items = call.services.plugins.settings(call.path["plugin"])
        except NotFound:
            raise LegacyError(None, "not_found") from None
        return Ok([{"key": key, "value": _text(value), "desc": "", "required": True} for key, value in items])

    async def put_configs(call: Call) -> Ok:
        """``{key: value, ...}``: live and kept, as ``/api/v5/configs``."""
        node_of(call)
        try:
            await call.services.plugins.change_settings(call.path["plugin"], call.body)
        except NotFound:
            raise LegacyError(None, "not_found") from None
        except Invalid as exc:
            raise LegacyError(PARAM_TYPE, exc.message) from None
        return Ok([] if dialect.emq else None)

    return {
        "cluster": cluster,
        "node": node,
        "load": load,
        "unload": unload,
        "reload": reload,
        "active": set_active,
        "get_configs": get_configs,
        "put_configs": put_configs,
    }


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def config_routes(dialect: PluginDialect) -> list[Route]:
    """3.x and 2.x's ``plugin_configs``."""
    handlers = plugin_handlers(dialect)
    path = "/nodes/{node}/plugin_configs/{plugin}"
    get_descr, put_descr = (
        "Get configurations of a plugin on the node",
        "Update configurations of a plugin on the node",
    )
    return [
        Route("get_plugin_configs", "GET", path, handlers["get_configs"], get_descr),
        Route("update_plugin_configs", "PUT", path, handlers["put_configs"], put_descr),
    ]


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
