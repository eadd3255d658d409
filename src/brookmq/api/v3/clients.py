"""``/connections``, ``/sessions``, ``/subscriptions``, ``/routes``, ``/mqtt/*`` and ``/banned``
in EMQX 3.x's shapes (seeds 000 and 001, reference 2.3): ``client_id`` (not ``clientid``) in
objects and bodies, ``ipaddress``, ``"undefined"`` for what is not set, connections and sessions
as two resources, no fuzzy filters; what is the same as v4 is v4's."""

from __future__ import annotations

import dataclasses
from typing import Any

from brookmq.api.legacy.framework import (
    PARAM_TYPE,
    Call,
    Handler,
    LegacyError,
    Ok,
    Route,
    node_of,
    on_node,
    paged,
    paging,
    required,
)
from brookmq.api.v4 import admin as v4_admin
from brookmq.api.v4 import clients as v4_clients
from brookmq.api.v4 import mqtt as v4_mqtt
from brookmq.service.clients import ClientQuery
from brookmq.service.errors import NotFound
from brookmq.service.subscriptions import SubscriptionQuery

# What EMQX 3 bans by, and the service's names for them.
KINDS = {"client_id": "clientid", "username": "username", "ip_address": "peerhost"}
_V3_KIND = {kind: name for name, kind in KINDS.items()}
_UNDEFINED = "undefined"


def _defined(value: Any) -> Any:
    return _UNDEFINED if value in (None, "") else value


def connection(info: dict[str, Any]) -> dict[str, Any]:
    """A 3.x connection from the service's client (001's extra fields included)."""
    out = {
        "client_id": info["clientid"],
        "username": _defined(info["username"]),
        "node": info["node"],
        "ipaddress": info["ip_address"],
        "port": info["port"],
        "zone": info["zone"],
        "clean_start": info["clean_start"],
        "keepalive": info["keepalive"],
        "proto_name": info["proto_name"],
        "proto_ver": info["proto_ver"],
        "is_bridge": info["is_bridge"],
        "is_super": info["is_superuser"],
        "mountpoint": _defined(info["mountpoint"]),
        "will_topic": _defined(info["will_topic"]),
        "connected_at": v4_clients.datetime(info["connected_at"]),
        "heap_size": 0,
        "reductions": 0,
        "mailbox_len": 0,
    }
    out.update({key: info[key] for key in v4_clients.COUNTERS if key in info})
    return out


def session(info: dict[str, Any]) -> dict[str, Any]:
    """A 3.x session: ``deliver_msg`` is what was sent to the client, ``enqueue_msg`` what
    entered the session (sent, queued, or dropped from the queue)."""
    sent = info.get("send_msg", 0)
    return {
        "client_id": info["clientid"],
        "username": _defined(info["username"]),
        "node": info["node"],
        "binding": "local",
        "clean_start": info["clean_start"],
        "expiry_interval": info["expiry_interval"],
        "created_at": v4_clients.datetime(info["created_at"]),
        "subscriptions_count": info["subscriptions_cnt"],
        "max_subscriptions": 0 if info["subscriptions_max"] == "infinity" else info["subscriptions_max"],
        "inflight_len": info["inflight_cnt"],
        "max_inflight": info["inflight_max"],
        "mqueue_len": info["mqueue_len"],
        "max_mqueue": info["mqueue_max"],
        "mqueue_dropped": info["mqueue_dropped"],
        "awaiting_rel_len": info["awaiting_rel_cnt"],
        "max_awaiting_rel": info["awaiting_rel_max"],
        "deliver_msg": sent,
        "enqueue_msg": sent + info["mqueue_len"] + info["mqueue_dropped"],
        "heap_size": 0,
        "reductions": 0,
        "mailbox_len": 0,
    }


def listing(
    shape: Any,
    query: ClientQuery,
    pages: Any = paging,
    pack: Any = lambda found, rows: paged(found, rows, False),
) -> Handler:
    """A node's clients or sessions, paged (``pages``/``pack``: the dialect's paging; v2 has its own)."""

    def run(call: Call) -> Ok:
        node_of(call)
        page, limit = pages(call)
        found = call.services.clients.find(query, page, limit)
        return pack(found, [shape(info) for info in found.data])

    return run


def lookup(shape: Any, connected_only: bool, pack: Any = Ok) -> Handler:
    """One client or session as a list, empty when unknown (or not connected: ``connected_only``)."""

    def run(call: Call) -> Ok:
        node_of(call)
        try:
            info = call.services.clients.get(call.path["clientid"])
        except NotFound:
            return pack([])
        return pack([shape(info)] if info["connected"] or not connected_only else [])

    return run


def connections_of_username(call: Call) -> Ok:
    node_of(call)
    query = ClientQuery(username=[call.path["username"]], conn_state="connected")
    return Ok([connection(info) for info in call.services.clients.find(query, 1, 10000).data])


def _subscription(row: dict[str, Any]) -> dict[str, Any]:
    return {"client_id": row["clientid"], "node": row["node"], "qos": row["qos"], "topic": row["topic"]}


def list_subscriptions(call: Call) -> Ok:
    node_of(call)
    page, limit = paging(call)
    found = call.services.subscriptions.find(SubscriptionQuery(), page, limit)
    return paged(found, [_subscription(row) for row in found.data], False)


def lookup_subscriptions(call: Call) -> Ok:
    return Ok([_subscription(row) for row in v4_clients.subscriptions_of(call)])


def _with_client_id(func: Handler, default: str | None = None) -> Handler:
    """v4's handler, called with 3.x's ``client_id`` as v4's ``clientid`` (``default`` when
    none is given: 001's ``"http"`` for publish)."""

    def run(call: Call) -> Any:
        params = {key: value for key, value in call.params.items() if key != "clientid"}
        client_id = params.pop("client_id", default)
        if client_id is not None:
            params["clientid"] = client_id
        return func(dataclasses.replace(call, params=params))

    return run


# 3.x's (and EMQ 2's) publish, subscribe and unsubscribe: v4's, with ``client_id``.
publish = _with_client_id(v4_mqtt.publish, "http")
subscribe = _with_client_id(v4_mqtt.subscribe)
unsubscribe = _with_client_id(v4_mqtt.unsubscribe)


# ---------------------------------------------------------------- banned


def _kind(value: Any) -> str:
    if not isinstance(value, str) or value not in KINDS:
        raise LegacyError(PARAM_TYPE, f"value of 'as' must be one of: {list(KINDS)}")
    return KINDS[value]


def _ban(row: dict[str, Any]) -> dict[str, Any]:
    """v4's row with 3.x's kind names, ``"undefined"`` for no ``by``, the reason as ``desc``."""
    v4_row = v4_admin.ban_row(row)
    return {**v4_row, "as": _V3_KIND[row["as"]], "by": _defined(row["by"]), "desc": row["reason"]}


def list_banned(call: Call) -> Ok:
    page, limit = paging(call)
    found = call.services.bans.find({}, page, limit)
    return paged(found, [_ban(row) for row in found.data if row["as"] in _V3_KIND], False)


def create_banned(call: Call) -> Ok:
    """v4's, with 3.x's names for ``as``; 3.x's ``desc`` is the reason when no reason is given."""
    _, kind = required(call, "who", "as")
    params = {**call.params, "as": _kind(kind)}
    params.setdefault("reason", call.params.get("desc", ""))
    made = v4_admin.create_ban(dataclasses.replace(call, params=params))
    data = {**made.data, "as": kind, "desc": call.params.get("desc", made.data["reason"])}
    return Ok(data)


def delete_banned(call: Call) -> Ok:
    (kind,) = required(call, "as")
    return v4_admin.delete_ban(dataclasses.replace(call, path={"as": _kind(kind), "who": call.path["who"]}))


_CONNECTED = ClientQuery(conn_state="connected")

ROUTES = [
    *on_node(
        "list_connections", "GET", "/connections/", listing(connection, _CONNECTED), "A list of connections"
    ),
    *on_node(
        "lookup_connections",
        "GET",
        "/connections/{clientid}",
        lookup(connection, True),
        "Lookup a connection",
    ),
    *on_node(
        "lookup_connection_via_username",
        "GET",
        "/connection/username/{username}",
        connections_of_username,
        "Lookup a connection via username",
    ),
    Route(
        "kickout_connection",
        "DELETE",
        "/connections/{clientid}",
        v4_clients.kick_client,
        "Kick out a connection",
    ),
    *on_node("list_sessions", "GET", "/sessions/", listing(session, ClientQuery()), "A list of sessions"),
    *on_node("lookup_session", "GET", "/sessions/{clientid}", lookup(session, False), "Lookup a session"),
    *on_node(
        "clean_persistent_session",
        "DELETE",
        "/sessions/persistent/{clientid}",
        v4_clients.kick_client,
        "Clean a persistent session",
    ),
    *on_node("list_subscriptions", "GET", "/subscriptions/", list_subscriptions, "A list of subscriptions"),
    *on_node(
        "lookup_client_subscriptions",
        "GET",
        "/subscriptions/{clientid}",
        lookup_subscriptions,
        "A list of subscriptions of a client",
    ),
    Route("list_routes", "GET", "/routes/", v4_clients.list_routes, "List routes"),
    Route(
        "lookup_routes", "GET", "/routes/{topic:path}", v4_clients.lookup_routes, "Lookup routes to a topic"
    ),
    Route(
        "mqtt_publish",
        "POST",
        "/mqtt/publish",
        publish,
        "Publish a MQTT message",
    ),
    Route("mqtt_subscribe", "POST", "/mqtt/subscribe", subscribe, "Subscribe a topic"),
    Route(
        "mqtt_unsubscribe",
        "POST",
        "/mqtt/unsubscribe",
        unsubscribe,
        "Unsubscribe a topic",
    ),
    Route("list_banned", "GET", "/banned/", list_banned, "List banned"),
    Route("create_banned", "POST", "/banned/", create_banned, "Create banned"),
    Route("delete_banned", "DELETE", "/banned/{who:path}", delete_banned, "Delete banned"),
]
