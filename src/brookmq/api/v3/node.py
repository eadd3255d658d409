"""``/brokers``, ``/nodes``, ``/stats``, ``/metrics``, ``/listeners``, ``/alarms`` and ``/configs``
in EMQX 3.x's shapes (seed 000): a node also has its ``name``, the cluster's stats are flat per
node, alarms are ``{id, desc[, clear_at]}`` as ``present`` and ``history``, and the hot
configuration is a list of ``{key, value, datatpye, app}`` (the seed's spelling), changed one key
at a time by ``PUT /configs/{app}``, live and kept across restarts. Stats and metrics are named
with slashes (``connections/count``)."""

from __future__ import annotations

from typing import Any

from brookmq.api.legacy.framework import Call, Ok, Route, node_of
from brookmq.api.legacy.hot_config import HotConfig
from brookmq.api.v4 import admin as v4_admin
from brookmq.api.v4 import clients as v4_clients
from brookmq.api.v4 import node as v4_node

APP = "emqx"  # the application of EMQX 3's hot configuration


def _named(call: Call) -> dict[str, Any]:
    return {**v4_node.node_info(call), "name": call.services.node.name}


def list_nodes(call: Call) -> Ok:
    return Ok([_named(call)])


def get_node(call: Call) -> Ok:
    node_of(call)
    return Ok(_named(call))


def slashed(figures: dict[str, Any]) -> dict[str, Any]:
    """EMQX 3 names its stats and metrics with slashes: ``connections/count``, ``bytes/received``."""
    return {name.replace(".", "/"): value for name, value in figures.items()}


def list_stats(call: Call) -> Ok:
    return Ok([{"node": call.services.node.name, **slashed(call.services.node.stats())}])


def node_stats(call: Call) -> Ok:
    node_of(call)
    return Ok(slashed(call.services.node.stats()))


def list_metrics(call: Call) -> Ok:
    return Ok([{"node": call.services.node.name, "metrics": slashed(v4_node.metrics_v4(call))}])


def node_metrics(call: Call) -> Ok:
    node_of(call)
    return Ok(slashed(v4_node.metrics_v4(call)))


def _alarms(call: Call, present: bool) -> list[dict[str, Any]]:
    found = call.services.alarms.find(present, 1, 10000).data
    rows = []
    for info in found:
        row = {"id": info["name"], "desc": info["message"]}
        if not present:
            row["clear_at"] = v4_clients.datetime(info["deactivate_at"])
        rows.append(row)
    return rows


def _alarm_routes(present: bool) -> list[Route]:
    which = "present" if present else "history"

    def cluster(call: Call) -> Ok:
        return Ok([{"node": call.services.node.name, "alarms": _alarms(call, present)}])

    def node(call: Call) -> Ok:
        node_of(call)
        return Ok(_alarms(call, present))

    name = "list_all_alarms" if present else "list_all_alarm_history"
    return [
        Route(name, "GET", f"/alarms/{which}", cluster, f"List {which} alarms"),
        Route(
            name.replace("all", "node"),
            "GET",
            f"/alarms/{which}/{{node}}",
            node,
            f"List {which} alarms of a node",
        ),
    ]


# ``mqtt.allow_anonymous`` (the seed's example) is BrookMQ's top-level ``allow_anonymous``.
HOT = HotConfig(APP, {"mqtt.allow_anonymous": ("allow_anonymous", ())})


def all_configs(call: Call) -> Ok:
    return Ok([{"node": call.services.node.name, "config": HOT.items(call)}])


def node_configs(call: Call) -> Ok:
    node_of(call)
    return Ok(HOT.items(call))


ROUTES = [
    Route("list_brokers", "GET", "/brokers/", v4_node.list_brokers, "A list of brokers in the cluster"),
    Route("get_broker", "GET", "/brokers/{node}", v4_node.get_broker, "Get broker info of a node"),
    Route("list_nodes", "GET", "/nodes/", list_nodes, "A list of nodes in the cluster"),
    Route("get_node", "GET", "/nodes/{node}", get_node, "Lookup a node in the cluster"),
    Route("list_stats", "GET", "/stats/", list_stats, "A list of stats of all nodes in the cluster"),
    Route("lookup_node_stats", "GET", "/nodes/{node}/stats/", node_stats, "A list of stats of a node"),
    Route("list_all_metrics", "GET", "/metrics/", list_metrics, "A list of metrics of all nodes"),
    Route(
        "list_node_metrics",
        "GET",
        "/nodes/{node}/metrics/",
        node_metrics,
        "A list of metrics of a node",
    ),
    Route(
        "list_listeners", "GET", "/listeners/", v4_admin.list_listeners, "A list of listeners in the cluster"
    ),
    Route(
        "list_node_listeners",
        "GET",
        "/nodes/{node}/listeners",
        v4_admin.node_listeners,
        "Listeners of a node",
    ),
    *_alarm_routes(present=True),
    *_alarm_routes(present=False),
    Route("get_all_configs", "GET", "/configs/", all_configs, "Get all configs"),
    Route("get_all_configs", "GET", "/nodes/{node}/configs/", node_configs, "Get all configs of a node"),
    Route("update_config", "PUT", "/configs/{app}", HOT.update, "Update config of an application"),
    Route("update_node_config", "PUT", "/nodes/{node}/configs/{app}", HOT.update, "Update it on a node"),
]
