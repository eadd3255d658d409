"""Clients, sessions, subscriptions and routes in EMQ 2.3's shapes (seed 002): 3.x's objects
cut down, ``clean_sess`` for ``clean_start``; node listings paged, lookups ``{objects}``; a kick
of a client that is not connected 112; ``clean_acl_cache`` clears that client's cached verdicts
for the ``topic`` given."""

from __future__ import annotations

from typing import Any

from brookmq.api.legacy.framework import (
    CLIENT_OFFLINE,
    PARAM_TYPE,
    Call,
    Handler,
    LegacyError,
    Ok,
    Route,
    node_of,
    required,
)
from brookmq.api.v2.framework import objects, paged, paging
from brookmq.api.v3 import clients as v3
from brookmq.api.v4 import clients as v4
from brookmq.service.clients import ClientQuery
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.subscriptions import SubscriptionQuery

_CLIENT = (
    "client_id",
    "username",
    "ipaddress",
    "port",
    "clean_sess",
    "proto_ver",
    "keepalive",
    "connected_at",
)
_SESSION = (
    *("client_id", "clean_sess", "subscriptions", "max_inflight", "inflight_len", "mqueue_len"),
    *("mqueue_dropped", "awaiting_rel_len", "deliver_msg", "enqueue_msg", "created_at"),
)


def _cut(row: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    named = {**row, "clean_sess": row["clean_start"], "subscriptions": row.get("subscriptions_count")}
    return {key: named[key] for key in keys}


def client(info: dict[str, Any]) -> dict[str, Any]:
    return _cut(v3.connection(info), _CLIENT)


def session(info: dict[str, Any]) -> dict[str, Any]:
    return _cut(v3.session(info), _SESSION)


def _listing(shape: Any, query: ClientQuery) -> Handler:
    return v3.listing(shape, query, paging, paged)


def _lookup(shape: Any, connected_only: bool) -> Handler:
    return v3.lookup(shape, connected_only, objects)


def kick(call: Call) -> Ok:
    try:
        info = call.services.clients.get(call.path["clientid"])
    except NotFound:
        info = None
    if info is None or not info["connected"]:
        raise LegacyError(CLIENT_OFFLINE, "client not online")
    call.services.clients.kick(call.path["clientid"])
    return Ok()


def clean_acl_cache(call: Call) -> Ok:
    (topic,) = required(call, "topic")
    if not isinstance(topic, str):
        raise LegacyError(PARAM_TYPE, "topic: must be a string")
    try:
        call.services.clients.clean_authz_cache(call.path["clientid"], topic)
    except NotFound:
        raise LegacyError(CLIENT_OFFLINE, "client not online") from None
    return Ok()


def _subscription(row: dict[str, Any]) -> dict[str, Any]:
    return {"client_id": row["clientid"], "topic": row["topic"], "qos": row["qos"]}


def list_subscriptions(call: Call) -> Ok:
    node_of(call)
    page, size = paging(call)
    found = call.services.subscriptions.find(SubscriptionQuery(), page, size)
    return paged(found, [_subscription(row) for row in found.data])


def lookup_subscriptions(call: Call) -> Ok:
    return objects([_subscription(row) for row in v4.subscriptions_of(call)])


def list_routes(call: Call) -> Ok:
    page, size = paging(call)
    found = call.services.topics.find(None, page, size)
    return paged(found, found.data)


def lookup_routes(call: Call) -> Ok:
    try:
        return objects(call.services.topics.get(call.path["topic"]))
    except (NotFound, Invalid):
        return objects([])


_CONNECTED = ClientQuery(conn_state="connected")

ROUTES = [
    Route("list_clients", "GET", "/nodes/{node}/clients", _listing(client, _CONNECTED), "A node's clients"),
    Route("lookup_node_client", "GET", "/nodes/{node}/clients/{clientid}", _lookup(client, True), "A client"),
    Route("lookup_client", "GET", "/clients/{clientid}", _lookup(client, True), "A client in the cluster"),
    Route("kick_client", "DELETE", "/clients/{clientid}", kick, "Kick a client"),
    Route(
        "clean_acl_cache",
        "PUT",
        "/clients/{clientid}/clean_acl_cache",
        clean_acl_cache,
        "Clean its ACL cache",
    ),
    Route(
        "list_sessions",
        "GET",
        "/nodes/{node}/sessions",
        _listing(session, ClientQuery()),
        "A node's sessions",
    ),
    Route(
        "lookup_node_session",
        "GET",
        "/nodes/{node}/sessions/{clientid}",
        _lookup(session, False),
        "A session",
    ),
    Route(
        "lookup_session", "GET", "/sessions/{clientid}", _lookup(session, False), "A session in the cluster"
    ),
    Route(
        "list_subscriptions",
        "GET",
        "/nodes/{node}/subscriptions",
        list_subscriptions,
        "A node's subscriptions",
    ),
    Route(
        "lookup_node_subscriptions",
        "GET",
        "/nodes/{node}/subscriptions/{clientid}",
        lookup_subscriptions,
        "A client's subscriptions",
    ),
    Route(
        "lookup_subscriptions", "GET", "/subscriptions/{clientid}", lookup_subscriptions, "Its subscriptions"
    ),
    Route("list_routes", "GET", "/routes", list_routes, "The routing table"),
    Route("mqtt_publish", "POST", "/mqtt/publish", v3.publish, "Publish a message"),
    Route("mqtt_subscribe", "POST", "/mqtt/subscribe", v3.subscribe, "Subscribe a client"),
    Route("mqtt_unsubscribe", "POST", "/mqtt/unsubscribe", v3.unsubscribe, "Unsubscribe a client"),
    Route("lookup_routes", "GET", "/routes/{topic:path}", lookup_routes, "The routes of a topic"),
]
