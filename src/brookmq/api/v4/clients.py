"""``/clients``, ``/subscriptions``, ``/routes`` and their ``/nodes/{node}/...`` forms in EMQX
4.x's shapes (reference 2.2, 2.3): times as local ``YYYY-MM-DD HH:MM:SS``, lookups as arrays."""

from __future__ import annotations

import time
from typing import Any

from brookmq.api.legacy.framework import (
    UNKNOWN,
    Call,
    LegacyError,
    Ok,
    Route,
    boolean,
    integer,
    node_of,
    on_node,
    paged,
    paging,
)
from brookmq.service.clients import ClientQuery
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.subscriptions import SubscriptionQuery

COUNTERS = ("recv_cnt", "recv_msg", "recv_oct", "recv_pkt", "send_cnt", "send_msg", "send_oct", "send_pkt")


def datetime(epoch: float | None) -> str | None:
    return None if epoch is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def client(info: dict[str, Any]) -> dict[str, Any]:
    """EMQX 4's client object from the service's (v5-named) one."""
    out = {
        "clientid": info["clientid"],
        "username": info["username"],
        "node": info["node"],
        "ip_address": info["ip_address"],
        "port": info["port"],
        "zone": info["zone"],
        "mountpoint": info["mountpoint"] or "undefined",
        "is_bridge": info["is_bridge"],
        "clean_start": info["clean_start"],
        "keepalive": info["keepalive"],
        "expiry_interval": info["expiry_interval"],
        "proto_name": info["proto_name"],
        "proto_ver": info["proto_ver"],
        "connected": info["connected"],
        "connected_at": datetime(info["connected_at"]),
        "created_at": datetime(info["created_at"]),
        "subscriptions_cnt": info["subscriptions_cnt"],
        "max_subscriptions": 0 if info["subscriptions_max"] == "infinity" else info["subscriptions_max"],
        "inflight": info["inflight_cnt"],
        "max_inflight": info["inflight_max"],
        "awaiting_rel": info["awaiting_rel_cnt"],
        "max_awaiting_rel": info["awaiting_rel_max"],
        "mqueue_len": info["mqueue_len"],
        "mqueue_dropped": info["mqueue_dropped"],
        "max_mqueue": info["mqueue_max"],
        "heap_size": 0,
        "reductions": 0,
        "mailbox_len": 0,
    }
    if "disconnected_at" in info:
        out["disconnected_at"] = datetime(info["disconnected_at"])
    out.update({key: info[key] for key in COUNTERS if key in info})
    return out


def _epoch(call: Call, name: str) -> float | None:
    value = integer(call, name)
    return None if value is None else float(value)


def _query(call: Call) -> tuple[ClientQuery, bool]:
    """The listing's filters, and whether any was given."""
    state = call.params.get("conn_state")
    if state is not None and state not in ("connected", "disconnected"):
        raise LegacyError(UNKNOWN, "conn_state must be connected or disconnected")
    query = ClientQuery(
        clientid=[str(call.params["clientid"])] if "clientid" in call.params else [],
        username=[str(call.params["username"])] if "username" in call.params else [],
        ip_address=call.params.get("ip_address"),
        conn_state=state,
        clean_start=boolean(call, "clean_start"),
        proto_ver=integer(call, "proto_ver"),
        like_clientid=call.params.get("_like_clientid"),
        like_username=call.params.get("_like_username"),
        gte_created_at=_epoch(call, "_gte_created_at"),
        lte_created_at=_epoch(call, "_lte_created_at"),
        gte_connected_at=_epoch(call, "_gte_connected_at"),
        lte_connected_at=_epoch(call, "_lte_connected_at"),
        proto_name=str(call.params["proto_name"]) if "proto_name" in call.params else None,
        zone=str(call.params["zone"]) if "zone" in call.params else None,
        gte_mqueue_len=integer(call, "_gte_mqueue_len"),
        lte_mqueue_len=integer(call, "_lte_mqueue_len"),
        gte_mqueue_dropped=integer(call, "_gte_mqueue_dropped"),
        lte_mqueue_dropped=integer(call, "_lte_mqueue_dropped"),
    )
    names = (
        "clientid",
        "username",
        "zone",
        "ip_address",
        "conn_state",
        "clean_start",
        "proto_ver",
        "proto_name",
    )
    fuzzy = ("_like_", "_gte_", "_lte_")
    filtered = any(k in call.params for k in names) or any(k.startswith(fuzzy) for k in call.params)
    return query, filtered


def list_clients(call: Call) -> Ok:
    node_of(call)
    page, limit = paging(call)
    query, filtered = _query(call)
    found = call.services.clients.find(query, page, limit)
    return paged(found, [client(info) for info in found.data], filtered)


def lookup_client(call: Call) -> Ok:
    node_of(call)
    try:
        return Ok([client(call.services.clients.get(call.path["clientid"]))])
    except NotFound:
        return Ok([])


def lookup_by_username(call: Call) -> Ok:
    node_of(call)
    found = call.services.clients.find(ClientQuery(username=[call.path["username"]]), 1, 10000)
    return Ok([client(info) for info in found.data])


def kick_client(call: Call) -> Ok:
    """EMQX 4.3+: ``{"code": 0}`` for an unknown client too."""
    try:
        call.services.clients.kick(call.path["clientid"])
    except NotFound:
        pass
    return Ok()


def _subscription(row: dict[str, Any]) -> dict[str, Any]:
    return {"node": row["node"], "topic": row["topic"], "clientid": row["clientid"], "qos": row["qos"]}


def list_subscriptions(call: Call) -> Ok:
    node_of(call)
    page, limit = paging(call)
    share = call.params.get("share")
    query = SubscriptionQuery(
        clientid=call.params.get("clientid"),
        qos=integer(call, "qos"),
        topic=call.params.get("topic"),
        share_group=share,
        match_topic=call.params.get("_match_topic"),
    )
    try:
        found = call.services.subscriptions.find(query, page, limit)
    except Invalid as exc:
        raise LegacyError(UNKNOWN, exc.message) from None
    filtered = any(k in call.params for k in ("clientid", "qos", "share", "_match_topic"))
    return paged(found, [_subscription(r) for r in found.data], filtered and "topic" not in call.params)


def subscriptions_of(call: Call) -> list[dict[str, Any]]:
    """The ``{clientid}``'s subscriptions (the service's rows), none for an unknown client."""
    node_of(call)
    try:
        return call.services.clients.subscriptions(call.path["clientid"])
    except NotFound:
        return []


def lookup_subscriptions(call: Call) -> Ok:
    return Ok([_subscription(r) for r in subscriptions_of(call)])


def list_routes(call: Call) -> Ok:
    page, limit = paging(call)
    found = call.services.topics.find(None, page, limit)
    return paged(found, found.data, False)


def lookup_routes(call: Call) -> Ok:
    try:
        return Ok(call.services.topics.get(call.path["topic"]))
    except (NotFound, Invalid):
        return Ok([])


ROUTES = [
    *on_node("list_clients", "GET", "/clients", list_clients, "A list of clients on current node"),
    *on_node("lookup_client", "GET", "/clients/{clientid}", lookup_client, "Lookup a client in the cluster"),
    *on_node(
        "lookup_client_via_username",
        "GET",
        "/clients/username/{username}",
        lookup_by_username,
        "Lookup a client via username in the cluster",
    ),
    Route("kickout_client", "DELETE", "/clients/{clientid}", kick_client, "Kick out a client in the cluster"),
    *on_node("list_subscriptions", "GET", "/subscriptions", list_subscriptions, "A list of subscriptions"),
    *on_node(
        "lookup_client_subscriptions",
        "GET",
        "/subscriptions/{clientid}",
        lookup_subscriptions,
        "A list of subscriptions of a client",
    ),
    Route("list_routes", "GET", "/routes", list_routes, "List routes"),
    Route("lookup_routes", "GET", "/routes/{topic:path}", lookup_routes, "Lookup routes to a topic"),
]
