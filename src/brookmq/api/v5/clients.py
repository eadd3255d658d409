"""``/clients``: list, inspect, kick and subscribe clients; their queues and authz cache."""

from __future__ import annotations

import base64
from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from brookmq.api.v5.errors import ApiError
from brookmq.api.v5.params import PAGED, PageParams, as_epoch, as_int, as_ip, envelope
from brookmq.api.v5.security import Authenticated, router, services
from brookmq.api.v5.times import rfc3339_ms
from brookmq.core.units import parse_bytesize
from brookmq.service.clients import ClientQuery, Queued
from brookmq.service.errors import Invalid
from brookmq.service.messages import message_info
from brookmq.service.paging import MAX_LIMIT

routes = router(tags=["Clients"])
_TIMES = ("created_at", "connected_at", "disconnected_at")
FIELDS = [
    "clientid",
    "username",
    "node",
    "ip_address",
    "port",
    "peerport",
    "listener",
    "proto_name",
    "proto_ver",
    "clean_start",
    "keepalive",
    "expiry_interval",
    "connected",
    "created_at",
    "connected_at",
    "disconnected_at",
    "is_bridge",
    "is_persistent",
    "durable",
    "is_expired",
    "enable_authn",
    "mountpoint",
    "client_attrs",
    "subscriptions_cnt",
    "subscriptions_max",
    "inflight_cnt",
    "inflight_max",
    "awaiting_rel_cnt",
    "awaiting_rel_max",
    "mqueue_len",
    "mqueue_max",
    "mqueue_dropped",
    "recv_cnt",
    "recv_oct",
    "recv_pkt",
    "recv_msg",
    "send_cnt",
    "send_oct",
    "send_pkt",
    "send_msg",
    "send_msg.dropped.too_large",
]
_KNOWN = frozenset(FIELDS)


def client_object(info: dict[str, Any], fields: list[str] | None = None) -> dict[str, Any]:
    """EMQX 5's fields only (the service knows more, for the legacy dialects)."""
    out = {k: (rfc3339_ms(v) if k in _TIMES else v) for k, v in info.items() if k in _KNOWN}
    if fields is not None:
        out = {k: out.get(k) for k in fields}
    return out


def _fields(value: str) -> list[str] | None:
    if value == "all":
        return None
    names = [n.strip() for n in value.split(",") if n.strip()]
    unknown = [n for n in names if n not in FIELDS]
    if not names or unknown:
        raise ApiError(400, "BAD_REQUEST", f"fields: unknown field {', '.join(unknown) or value!r}")
    return names


@routes.get("/clients", responses=PAGED)
async def list_clients(
    request: Request,
    caller: Authenticated,
    paging: PageParams,
    node: str | None = None,
    clientid: Annotated[list[str] | None, Query(description="Exact; may be repeated")] = None,
    username: Annotated[list[str] | None, Query(description="Exact; may be repeated")] = None,
    ip_address: str | None = None,
    conn_state: Literal["connected", "idle", "disconnected"] | None = None,
    clean_start: bool | None = None,
    proto_ver: Annotated[str | None, Query(description="3, 4 or 5")] = None,
    like_clientid: Annotated[str | None, Query(description="Substring")] = None,
    like_username: Annotated[str | None, Query(description="Substring")] = None,
    gte_created_at: Annotated[str | None, Query(description="Epoch ms or RFC 3339")] = None,
    lte_created_at: Annotated[str | None, Query(description="Epoch ms or RFC 3339")] = None,
    gte_connected_at: Annotated[str | None, Query(description="Epoch ms or RFC 3339")] = None,
    lte_connected_at: Annotated[str | None, Query(description="Epoch ms or RFC 3339")] = None,
    fields: Annotated[str, Query(description="Comma-separated field names, or all")] = "all",
) -> dict[str, Any]:
    svc = services(request)
    if node is not None and node != svc.broker.node_name:
        raise ApiError(400, "BAD_REQUEST", f"node: unknown node {node}")
    query = ClientQuery(
        clientid=clientid or [],
        username=username or [],
        ip_address=as_ip("ip_address", ip_address),
        conn_state=conn_state,
        clean_start=clean_start,
        proto_ver=as_int("proto_ver", proto_ver),
        like_clientid=like_clientid,
        like_username=like_username,
        gte_created_at=as_epoch("gte_created_at", gte_created_at),
        lte_created_at=as_epoch("lte_created_at", lte_created_at),
        gte_connected_at=as_epoch("gte_connected_at", gte_connected_at),
        lte_connected_at=as_epoch("lte_connected_at", lte_connected_at),
    )
    wanted = _fields(fields)
    page = svc.clients.find(query, paging.page, paging.limit)
    return envelope(page, [client_object(info, wanted) for info in page.data])


@routes.get("/clients/{clientid}")
async def get_client(clientid: str, request: Request, caller: Authenticated) -> dict[str, Any]:
    return client_object(services(request).clients.get(clientid))


@routes.delete("/clients/{clientid}", status_code=204)
async def kick_client(clientid: str, request: Request, caller: Authenticated) -> Response:
    """Disconnect the client and discard its session."""
    services(request).clients.kick(clientid)
    return Response(status_code=204)


@routes.post("/clients/kickout/bulk", status_code=204)
async def kick_clients(body: list[str], request: Request, caller: Authenticated) -> Response:
    """Kick every client named; unknown ones are skipped."""
    services(request).clients.kick_many(body)
    return Response(status_code=204)


class Subscription(BaseModel):
    topic: str
    clientid: str | None
    node: str
    qos: int
    nl: int
    rap: int
    rh: int
    durable: bool = False


@routes.get("/clients/{clientid}/subscriptions", response_model=list[Subscription])
async def client_subscriptions(
    clientid: str, request: Request, caller: Authenticated
) -> list[dict[str, Any]]:
    return services(request).clients.subscriptions(clientid)


class SubscribeBody(BaseModel):
    topic: str = Field(min_length=1)
    qos: int = Field(0, ge=0, le=2)
    nl: int = Field(0, ge=0, le=1)
    rap: int = Field(0, ge=0, le=1)
    rh: int = Field(0, ge=0, le=2)


class Subscribed(BaseModel):
    clientid: str
    topic: str
    qos: int
    nl: int
    rap: int
    rh: int
    node: str


class TopicBody(BaseModel):
    topic: str = Field(min_length=1)


def _subscribe(request: Request, clientid: str, body: SubscribeBody) -> dict[str, Any]:
    try:
        return services(request).clients.subscribe(clientid, body.topic, body.qos, body.nl, body.rap, body.rh)
    except Invalid as exc:  # a bad filter, or no_local on a shared one (EMQX answers 500 to the first)
        raise ApiError(400, "INVALID_PARAMETER", exc.message) from None


@routes.post("/clients/{clientid}/subscribe", response_model=Subscribed)
async def subscribe(
    clientid: str, body: SubscribeBody, request: Request, caller: Authenticated
) -> dict[str, Any]:
    """Subscribe the client, as if it had sent SUBSCRIBE."""
    return _subscribe(request, clientid, body)


@routes.post("/clients/{clientid}/subscribe/bulk", response_model=list[Subscribed])
async def subscribe_bulk(
    clientid: str, body: list[SubscribeBody], request: Request, caller: Authenticated
) -> list[dict[str, Any]]:
    return [_subscribe(request, clientid, item) for item in body]


@routes.post("/clients/{clientid}/unsubscribe", status_code=204)
async def unsubscribe(clientid: str, body: TopicBody, request: Request, caller: Authenticated) -> Response:
    """204 whether or not the client had the subscription."""
    services(request).clients.unsubscribe(clientid, body.topic)
    return Response(status_code=204)


@routes.post("/clients/{clientid}/unsubscribe/bulk", status_code=204)
async def unsubscribe_bulk(
    clientid: str, body: list[TopicBody], request: Request, caller: Authenticated
) -> Response:
    for item in body:
        services(request).clients.unsubscribe(clientid, item.topic)
    return Response(status_code=204)


class KeepaliveBody(BaseModel):
    interval: int = Field(ge=0, le=65535)


@routes.put("/clients/{clientid}/keepalive")
async def set_keepalive(
    clientid: str, body: KeepaliveBody, request: Request, caller: Authenticated
) -> dict[str, Any]:
    """Change a connected client's keepalive; the reply is the whole client object."""
    return client_object(services(request).clients.set_keepalive(clientid, body.interval))


@routes.get("/clients/{clientid}/authorization/cache")
async def authz_cache(clientid: str, request: Request, caller: Authenticated) -> list[dict[str, Any]]:
    """The connection's cached PUBLISH verdicts (``updated_time`` in epoch ms)."""
    return services(request).clients.authz_cache(clientid)


@routes.delete("/clients/{clientid}/authorization/cache", status_code=204)
async def clean_authz_cache(clientid: str, request: Request, caller: Authenticated) -> Response:
    services(request).clients.clean_authz_cache(clientid)
    return Response(status_code=204)


class CursorMeta(BaseModel):
    start: str
    position: str


class QueuedPage(BaseModel):
    data: list[dict[str, Any]]
    meta: CursorMeta


def _queued(
    request: Request,
    clientid: str,
    which: str,
    limit: int,
    position: str | None,
    payload: str,
    max_payload_bytes: str,
) -> dict[str, Any]:
    cap = parse_bytesize(max_payload_bytes)
    if not isinstance(cap, int) or cap <= 0:
        raise ApiError(400, "BAD_REQUEST", "max_payload_bytes: must be a size above 0, e.g. 1MB")
    try:
        chunk = services(request).clients.queued(clientid, which, position, limit)
    except Invalid as exc:
        raise ApiError(400, "INVALID_PARAMETER", exc.message) from None
    n = len(chunk.items) if payload == "none" else _fitting(chunk.items, cap)
    items = chunk.items[:n]
    position = items[-1].position if items else chunk.position
    return {
        "data": _messages(items, which == "mqueue", payload),
        "meta": {"start": chunk.start, "position": position},
    }


def _fitting(items: list[Queued], cap: int) -> int:
    """How many of ``items`` fit in ``cap`` payload bytes (always at least one)."""
    total = 0
    for i, item in enumerate(items):
        total += len(item.message.payload)
        if i and total > cap:
            return i
    return len(items)


def _messages(items: list[Queued], mqueue: bool, payload: str) -> list[dict[str, Any]]:
    out = []
    for item in items:
        message = item.message
        row = message_info(message)
        row["qos"] = item.qos  # as delivered to this client
        row["publish_at"] = int(message.timestamp * 1000)
        row["inserted_at"] = str(item.inserted_ns)
        if mqueue:
            row["mqueue_priority"] = 0
        if payload == "base64":
            row["payload"] = base64.b64encode(message.payload).decode()
        elif payload == "plain":
            try:
                row["payload"] = message.payload.decode()
            except UnicodeDecodeError:
                raise ApiError(
                    400, "INVALID_PARAMETER", "Some message payloads are not JSON serializable"
                ) from None
        out.append(row)
    return out


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Payload = Literal["base64", "plain", "none"]


@routes.get("/clients/{clientid}/mqueue_messages", response_model=QueuedPage)
async def mqueue_messages(
    clientid: str,
    request: Request,
    caller: Authenticated,
    limit: Limit = 100,
    position: str | None = None,
    payload: Payload = "base64",
    max_payload_bytes: str = "1MB",
) -> dict[str, Any]:
    """Messages waiting in the client's queue, ``limit`` at a time after ``position``."""
    return _queued(request, clientid, "mqueue", limit, position, payload, max_payload_bytes)


@routes.get("/clients/{clientid}/inflight_messages", response_model=QueuedPage)
async def inflight_messages(
    clientid: str,
    request: Request,
    caller: Authenticated,
    limit: Limit = 100,
    position: str | None = None,
    payload: Payload = "base64",
    max_payload_bytes: str = "1MB",
) -> dict[str, Any]:
    """Messages sent to the client and not yet acknowledged."""
    return _queued(request, clientid, "inflight", limit, position, payload, max_payload_bytes)


@routes.get("/sessions_count")
async def sessions_count(
    request: Request, caller: Authenticated, since: Annotated[int, Query(ge=0)] = 0
) -> int:
    """Sessions created at or after ``since`` (epoch seconds)."""
    return services(request).clients.count_since(since)
