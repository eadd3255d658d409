"""``/management/nodes`` and ``/monitoring/nodes`` in EMQ 2.3's shapes (seed 002): a broker
``{name, version, sysdescr, uptime, datetime, otp_release, node_status}`` (the node lookup
without ``name``), a node's figures ``{name, otp_release, memory_total, memory_used,
process_available, process_used, max_fds, clients, node_status, load1, load5, load15}``."""

from __future__ import annotations

from typing import Any

from brookmq.api.legacy.framework import Call, Ok, Route, node_of
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


ROUTES = [
    Route("list_brokers", "GET", "/management/nodes", list_brokers, "The brokers of the cluster"),
    Route("get_broker", "GET", "/management/nodes/{node}", get_broker, "A node's broker"),
    Route("list_nodes", "GET", "/monitoring/nodes", list_nodes, "The nodes' figures"),
    Route("get_node", "GET", "/monitoring/nodes/{node}", get_node, "A node's figures"),
]
