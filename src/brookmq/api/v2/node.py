"""``/management/nodes`` and ``/monitoring/...`` in EMQ 2.3's shapes (seed 002): a broker
``{name, version, sysdescr, uptime, datetime, otp_release, node_status}`` (the node lookup
without ``name``), a node's figures ``{name, otp_release, memory_total, memory_used,
process_available, process_used, max_fds, clients, node_status, load1, load5, load15}``,
listeners ``{protocol, listen, acceptors, max_clients, current_clients, shutdown_count}`` keyed
by node, metrics and stats with slashed names (stats of connections as 2.x's ``clients/``), a
node's alarms, and the hot configuration of the application ``emqttd``."""

from __future__ import annotations

from typing import Any

from brookmq.api.legacy.framework import PARAM_TYPE, Call, LegacyError, Ok, Route, node_of
from brookmq.api.legacy.hot_config import HotConfig
from brookmq.api.v3.node import slashed
from brookmq.api.v4 import admin as v4_admin
from brookmq.api.v4 import clients as v4_clients
from brookmq.api.v4 import node as v4_node


def _broker(call: Call) -> dict[str, Any]:
    info = v4_node.broker_info(call)
    return {"name": info["node"], **{k: v for k, v in info.items() if k != "node"}}


def _figures(call: Call) -> dict[str, Any]:
    info = v4_node.node_info(call)
    keys = ("otp_release", "memory_total", "memory_used", "process_available", "process_used", "max_fds")
    return {
        "name": info["node"],
        **{key: info[key] for key in keys},
        "clients": info["connections"],
        "node_status": info["node_status"],
        **{key: info[key] for key in ("load1", "load5", "load15")},
    }


def list_brokers(call: Call) -> Ok:
    return Ok([_broker(call)])


def get_broker(call: Call) -> Ok:
    node_of(call)
    return Ok({k: v for k, v in _broker(call).items() if k != "name"})


def list_nodes(call: Call) -> Ok:
    return Ok([_figures(call)])


def get_node(call: Call) -> Ok:
    node_of(call)
    return Ok(_figures(call))


def _listeners(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "protocol": row["protocol"],
            "listen": row["listen_on"],
            "acceptors": row["acceptors"],
            "max_clients": row["max_conns"],
            "current_clients": row["current_conns"],
            "shutdown_count": row["shutdown_count"],
        }
        for row in v4_admin.listeners_of(call)
    ]


def cluster_listeners(call: Call) -> Ok:
    return Ok({call.services.node.name: _listeners(call)})


def node_listeners(call: Call) -> Ok:
    node_of(call)
    return Ok(_listeners(call))


# EMQ 2 named the packets of one direction without it (``packets/connack`` is the CONNACKs sent).
_EMQ2_NAMES = {
    "packets/connect/received": "packets/connect",
    "packets/connack/sent": "packets/connack",
    "packets/disconnect/received": "packets/disconnect",
    "packets/subscribe/received": "packets/subscribe",
    "packets/suback/sent": "packets/suback",
    "packets/unsubscribe/received": "packets/unsubscribe",
    "packets/unsuback/sent": "packets/unsuback",
    "packets/pingreq/received": "packets/pingreq",
    "packets/pingresp/sent": "packets/pingresp",
    "messages/dropped/await_pubrel_timeout": "messages/qos2/dropped",
}


def metrics(call: Call) -> Ok:
    """One map for the cluster (seed 002 shows it so), the node's for the node form: EMQ 2's
    names, and ``messages/retained``, the retained messages kept."""
    node_of(call)
    named = {_EMQ2_NAMES.get(name, name): value for name, value in slashed(v4_node.metrics_v4(call)).items()}
    return Ok({**named, "messages/retained": call.services.node.stats()["retained.count"]})


def _stats(call: Call) -> dict[str, Any]:
    return {
        name.replace("connections/", "clients/", 1): value
        for name, value in slashed(call.services.node.stats()).items()
    }


def cluster_stats(call: Call) -> Ok:
    return Ok([{call.services.node.name: _stats(call)}])


def node_stats(call: Call) -> Ok:
    node_of(call)
    return Ok(_stats(call))


# EMQ 2's hot configuration: the application ``emqttd``, five of its keys named otherwise.
HOT = HotConfig(
    "emqttd",
    {
        "log.console.level": ("log", ("level",)),
        "mqtt.broker.sys_interval": ("sys_topics", ("sys_msg_interval",)),
        "mqtt.acl_nomatch": ("authorization", ("no_match",)),
        "mqtt.cache_acl": ("authorization", ("cache", "enable")),
        "mqtt.allow_anonymous": ("allow_anonymous", ()),
    },
    LegacyError(PARAM_TYPE, "key: not a key of the hot configuration"),
)


def node_alarms(call: Call) -> Ok:
    """The node's raised alarms as EMQ 2 showed them: ``{id, severity, title, summary,
    occurred_at}``; BrookMQ's alarms are all of EMQ 2's ``warning`` severity."""
    node_of(call)
    return Ok(
        [
            {
                "id": info["name"],
                "severity": "warning",
                "title": info["name"],
                "summary": info["message"],
                "occurred_at": v4_clients.datetime(info["activate_at"]),
            }
            for info in call.services.alarms.find(True, 1, 10000).data
        ]
    )


def cluster_configs(call: Call) -> Ok:
    return Ok({call.services.node.name: HOT.items(call)})


def node_configs(call: Call) -> Ok:
    node_of(call)
    return Ok(HOT.items(call))


ROUTES = [
    Route("list_brokers", "GET", "/management/nodes", list_brokers, "The brokers of the cluster"),
    Route("get_broker", "GET", "/management/nodes/{node}", get_broker, "A node's broker"),
    Route("list_nodes", "GET", "/monitoring/nodes", list_nodes, "The nodes' figures"),
    Route("get_node", "GET", "/monitoring/nodes/{node}", get_node, "A node's figures"),
    Route("list_listeners", "GET", "/monitoring/listeners", cluster_listeners, "The listeners of every node"),
    Route("node_listeners", "GET", "/monitoring/listeners/{node}", node_listeners, "A node's listeners"),
    Route("list_metrics", "GET", "/monitoring/metrics", metrics, "The metrics"),
    Route("node_metrics", "GET", "/monitoring/metrics/{node}", metrics, "A node's metrics"),
    Route("list_stats", "GET", "/monitoring/stats", cluster_stats, "The stats of every node"),
    Route("node_stats", "GET", "/monitoring/stats/{node}", node_stats, "A node's stats"),
    Route("node_alarms", "GET", "/nodes/{node}/alarms", node_alarms, "A node's raised alarms"),
    Route("list_configs", "GET", "/configs", cluster_configs, "The hot configuration of every node"),
    Route("node_configs", "GET", "/nodes/{node}/configs", node_configs, "A node's hot configuration"),
    Route("update_config", "PUT", "/configs/{app}", HOT.update, "Change a key"),
    Route("update_node_config", "PUT", "/nodes/{node}/configs/{app}", HOT.update, "Change a key on a node"),
]
