"""``/subscriptions`` and ``/topics``: every subscription, and the routing table."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.service.errors import Invalid
from brookmq.service.paging import page_of
from brookmq.service.subscriptions import SubscriptionQuery

routes = router()


def _node(request: Request, node: str | None) -> None:
    if node is not None and node != services(request).broker.node_name:
        raise ApiError(400, "BAD_REQUEST", f"node: unknown node {node}")


@routes.get("/subscriptions", responses=PAGED, tags=["Subscriptions"])
async def list_subscriptions(
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    node: str | None = None,
    clientid: str | None = None,
    qos: Annotated[int | None, Query(ge=0, le=2)] = None,
    topic: Annotated[str | None, Query(description="Exact, as subscribed")] = None,
    share_group: str | None = None,
    match_topic: Annotated[str | None, Query(description="A filter; subscriptions it covers")] = None,
    durable: bool | None = None,
) -> dict[str, Any]:
    """Subscriptions of every client; ``count`` is left out with ``match_topic``."""
    _node(request, node)
    if durable:  # BrookMQ has no durable (DS) sessions
        return envelope(page_of(iter(()), paging.page, paging.limit, 0))
    query = SubscriptionQuery(clientid, qos, topic, share_group, match_topic)
    try:
        return envelope(services(request).subscriptions.find(query, paging.page, paging.limit))
    except Invalid as exc:
        raise ApiError(400, "INVALID_PARAMETER", exc.message) from None


@routes.get("/topics", responses=PAGED, tags=["Topics"])
async def list_topics(
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    topic: Annotated[str | None, Query(description="Exact; $share/<group>/<filter> allowed")] = None,
    node: str | None = None,
) -> dict[str, Any]:
    """The routing table: ``{topic, node}`` per distinct filter."""
    _node(request, node)
    try:
        return envelope(services(request).topics.find(topic, paging.page, paging.limit))
    except Invalid as exc:
        raise ApiError(400, "INVALID_PARAMETER", exc.message) from None


@routes.get("/topics/{topic:path}", tags=["Topics"])
async def get_topic(topic: str, request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    try:
        return services(request).topics.get(topic)
    except Invalid as exc:
        raise ApiError(400, "INVALID_PARAMETER", exc.message) from None
