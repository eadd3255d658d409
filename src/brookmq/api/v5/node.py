"""``/nodes``, ``/metrics``, ``/stats``, ``/monitor*``, ``/cluster`` and ``/prometheus/stats``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from brookmq.api.v5.security import Authenticated, router, services

routes = router()
open_routes = router()
PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def _one(request: Request, node: str | None, row: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-node listing: this node's row with its ``node``, or nothing for another name."""
    name = services(request).node.name
    return [] if node is not None and node != name else [{"node": name, **row}]


@routes.get("/nodes", tags=["Nodes"])
async def list_nodes(request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    return [services(request).node.info()]


@routes.get("/nodes/{node}", tags=["Nodes"])
async def get_node(node: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    """404 ``NOT_FOUND`` for another node's name."""
    svc = services(request).node
    svc.check(node)
    return svc.info()


@routes.get("/nodes/{node}/metrics", tags=["Metrics"])
async def node_metrics(node: str, request: Request, caller: Authenticated) -> dict[str, int]:
    svc = services(request).node
    svc.check(node)
    return svc.metrics()


@routes.get("/nodes/{node}/stats", tags=["Metrics"])
async def node_stats(node: str, request: Request, caller: Authenticated) -> dict[str, int]:
    svc = services(request).node
    svc.check(node)
    return svc.stats()


@routes.get("/metrics", tags=["Metrics"])
async def metrics(
    request: Request, caller: Authenticated, aggregate: bool = False, node: str | None = None
) -> Any:
    """``aggregate=true``: one object; otherwise one object per node, with ``node``."""
    values = services(request).node.metrics()
    return values if aggregate else _one(request, node, values)


@routes.get("/stats", tags=["Metrics"])
async def stats(request: Request, caller: Authenticated, aggregate: bool = False) -> Any:
    values = services(request).node.stats()
    return values if aggregate else _one(request, None, values)


Latest = Annotated[int | None, Query(ge=1, description="Only the samples of the last this many seconds")]


@routes.get("/monitor", tags=["Metrics"])
async def monitor(request: Request, caller: Authenticated, latest: Latest = None) -> list[dict[str, int]]:
    """Samples every 10 s, kept for a day: gauges, and counters as growth per sample."""
    return services(request).node.series(latest)


@routes.get("/monitor/nodes/{node}", tags=["Metrics"])
async def node_monitor(
    node: str, request: Request, caller: Authenticated, latest: Latest = None
) -> list[dict[str, int]]:
    svc = services(request).node
    svc.check(node)
    return svc.series(latest)


@routes.delete("/monitor", status_code=204, tags=["Metrics"])
async def clear_monitor(request: Request, caller: Authenticated) -> Response:
    services(request).node.clear_samples()
    return Response(status_code=204)


@routes.get("/monitor_current", tags=["Metrics"])
async def monitor_current(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).node.current()


@routes.get("/monitor_current/nodes/{node}", tags=["Metrics"])
async def node_monitor_current(node: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    svc = services(request).node
    svc.check(node)
    return {**svc.current(), "node_uptime": int(svc.broker.uptime())}


@routes.get("/cluster", tags=["Cluster"])
async def cluster(request: Request, caller: Authenticated) -> dict[str, Any]:
    return services(request).node.cluster()


@open_routes.get(
    "/prometheus/stats",
    tags=["Monitor"],
    openapi_extra={"security": []},
    responses={200: {"content": {"text/plain": {}, "application/json": {}}}},
)
async def prometheus_stats(
    request: Request,
    mode: Annotated[str, Query(description="node, all_nodes_aggregated or all_nodes_unaggregated")] = "node",
) -> Response:
    """The Prometheus text exposition (``Accept: application/json`` for JSON), EMQX's names."""
    families = services(request).node.prometheus()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({name: value for name, (_, value) in families.items()})
    return PlainTextResponse(services(request).node.prometheus_text(), media_type=PROMETHEUS_TEXT)
