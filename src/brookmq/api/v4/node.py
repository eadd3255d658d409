"""``/brokers``, ``/nodes``, ``/stats``, ``/metrics`` and their ``/nodes/{node}/...`` forms, in
EMQX 4.x's shapes (reference 2.2): uptime as words, loads and memory as strings."""

from __future__ import annotations

import time
from typing import Any

from starlette.responses import PlainTextResponse, Response

from brookmq.api.legacy.framework import Call, Ok, Route, node_of


def uptime_words(ms: int) -> str:
    """EMQX 4's uptime: ``2 days, 3 hours, 4 minutes, 5 seconds`` from the first unit that is not 0."""
    seconds = ms // 1000
    parts: list[str] = []
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1)):
        value, seconds = divmod(seconds, size)
        if value or parts or unit == "seconds":
            parts.append(f"{value} {unit}")
    return ", ".join(parts)


def _status(info: dict[str, Any]) -> str:
    return "Running" if info["node_status"] == "running" else "Stopped"


def broker_info(call: Call) -> dict[str, Any]:
    info = call.services.node.info()
    return {
        "version": info["version"],
        "sysdescr": "BrookMQ",
        "uptime": uptime_words(info["uptime"]),
        "datetime": time.strftime("%Y-%m-%d %H:%M:%S"),
        "node": info["node"],
        "otp_release": info["otp_release"],
        "node_status": _status(info),
    }


def node_info(call: Call) -> dict[str, Any]:
    info = call.services.node.info()
    return {
        "node": info["node"],
        "version": info["version"],
        "uptime": uptime_words(info["uptime"]),
        "node_status": _status(info),
        "otp_release": info["otp_release"],
        "memory_total": info["memory_total"],
        "memory_used": info["memory_used"],
        "process_available": info["max_fds"],
        "process_used": info["connections"],
        "max_fds": info["max_fds"],
        "connections": info["connections"],
        "live_connections": info["live_connections"],
        "load1": str(info["load1"]),
        "load5": str(info["load5"]),
        "load15": str(info["load15"]),
    }


def list_brokers(call: Call) -> Ok:
    return Ok([broker_info(call)])


def get_broker(call: Call) -> Ok:
    node_of(call)
    return Ok(broker_info(call))


def list_nodes(call: Call) -> Ok:
    return Ok([node_info(call)])


def get_node(call: Call) -> Ok:
    node_of(call)
    return Ok(node_info(call))


def list_stats(call: Call) -> Ok:
    return Ok([{"node": call.services.node.name, "stats": call.services.node.stats()}])


def node_stats(call: Call) -> Ok:
    node_of(call)
    return Ok(call.services.node.stats())


# EMQX 4's names of the metrics EMQX 5 renamed (emqx_metrics in 4.4).
_EMQX4_NAMES = {"client.authorize": "client.check_acl", "session.takenover": "session.takeovered"}


def metrics_v4(call: Call) -> dict[str, Any]:
    """The node's metrics under EMQX 4's names."""
    return {_EMQX4_NAMES.get(name, name): value for name, value in call.services.node.metrics().items()}


def list_metrics(call: Call) -> Ok:
    return Ok([{"node": call.services.node.name, "metrics": metrics_v4(call)}])


def node_metrics(call: Call) -> Ok:
    node_of(call)
    return Ok(metrics_v4(call))


def prometheus(call: Call) -> Ok | Response:
    """No credentials (a scraper's); the text exposition, or ``type=json`` for a JSON map."""
    if call.params.get("type") == "json":
        return Ok({name: value for name, (_, value) in call.services.node.prometheus().items()})
    return PlainTextResponse(call.services.node.prometheus_text(), media_type="text/plain; version=0.0.4")


ROUTES = [
    Route("list_brokers", "GET", "/brokers", list_brokers, "A list of brokers in the cluster"),
    Route("lookup_broker", "GET", "/brokers/{node}", get_broker, "Lookup info of a broker in the cluster"),
    Route("list_nodes", "GET", "/nodes", list_nodes, "A list of nodes in the cluster"),
    Route("lookup_node", "GET", "/nodes/{node}", get_node, "Lookup a node in the cluster"),
    Route("list_stats", "GET", "/stats", list_stats, "A list of stats of all nodes in the cluster"),
    Route("lookup_node_stats", "GET", "/nodes/{node}/stats", node_stats, "A list of stats of a node"),
    Route(
        "list_all_metrics", "GET", "/metrics", list_metrics, "A list of metrics of all nodes in the cluster"
    ),
    Route("list_node_metrics", "GET", "/nodes/{node}/metrics", node_metrics, "A list of metrics of a node"),
    Route("prometheus", "GET", "/emqx_prometheus", prometheus, "Metrics and stats for Prometheus", open=True),
]
