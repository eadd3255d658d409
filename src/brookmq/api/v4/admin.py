"""``/listeners``, ``/alarms``, ``/banned``, ``/acl-cache`` and a client's ``acl_cache`` and
``keepalive``, in EMQX 4.x's shapes (reference 2.2): alarm times in microseconds, ban times in
epoch seconds, cluster lists as ``[{node, <things>}]`` and node lists flat."""

from __future__ import annotations

import time
from typing import Any

from brookmq.api.legacy.framework import (
    CLIENT_OFFLINE,
    MISSING_PARAM,
    PARAM_TYPE,
    UNKNOWN,
    Call,
    LegacyError,
    Ok,
    Route,
    integer,
    node_of,
    on_node,
    paged,
    paging,
    required,
)
from brookmq.core.units import parse_bytesize, parse_duration
from brookmq.service.errors import AlreadyExists, Invalid, NotFound

V4_KINDS = ("clientid", "username", "peerhost")  # what EMQX 4 bans by (BrookMQ has more)
_US = 1_000_000


# ---------------------------------------------------------------- listeners


def _listener(info: dict[str, Any]) -> dict[str, Any]:
    status = info["status"]
    limit = status["max_connections"]
    return {
        "protocol": f"mqtt:{info['type']}",
        "listen_on": info.get("bind", ""),
        "identifier": info["id"],
        "acceptors": 1,
        "max_conns": 0 if limit == "infinity" else limit,  # 0: no limit
        "current_conns": status["current_connections"],
        "running": status["running"],
    }


def listeners_of(call: Call) -> list[dict[str, Any]]:
    """With each one's ``shutdown_count`` (``[]`` while none ended, as EMQX 4 shows it)."""
    listeners = call.services.listeners
    return [
        {**_listener(info), "shutdown_count": listeners.shutdown_count(info["id"]) or []}
        for info in listeners.all()
    ]


def list_listeners(call: Call) -> Ok:
    return Ok([{"node": call.services.node.name, "listeners": listeners_of(call)}])


def node_listeners(call: Call) -> Ok:
    node_of(call)
    return Ok(listeners_of(call))


async def restart_listener(call: Call) -> Ok:
    node_of(call)
    try:
        await call.services.listeners.restart(call.path["identifier"])
    except (NotFound, Invalid):
        raise LegacyError(None, "not_found") from None
    return Ok()


# ---------------------------------------------------------------- alarms


def _alarm(info: dict[str, Any]) -> dict[str, Any]:
    active = "deactivate_at" not in info
    return {
        "name": info["name"],
        "message": info["message"],
        "details": info["details"],
        "activate_at": int(info["activate_at"] * _US),
        "deactivate_at": "infinity" if active else int(info["deactivate_at"] * _US),
        "activated": active,
        "duration": info["duration"] * 1000,
    }


def _alarms(call: Call, which: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for activated in (True, False):
        if which in ("all", "activated" if activated else "deactivated"):
            found = call.services.alarms.find(activated, 1, 10000)
            out.extend(_alarm(info) for info in found.data)
    return out


def _alarm_routes(which: str, path: str) -> list[Route]:
    def cluster(call: Call) -> Ok:
        return Ok([{"node": call.services.node.name, "alarms": _alarms(call, which)}])

    def node(call: Call) -> Ok:
        node_of(call)
        return Ok(_alarms(call, which))

    name = "list_all_alarms" if which == "all" else f"list_{which}_alarms"
    return [
        Route(name, "GET", path, cluster, f"List {which} alarms in the cluster"),
        Route(f"{name}_on_node", "GET", f"/nodes/{{node}}{path}", node, f"List {which} alarms of a node"),
    ]


def deactivate_alarm(call: Call) -> Ok:
    name = call.params.get("name")
    if not isinstance(name, str) or not name:
        raise LegacyError(MISSING_PARAM, "missing mandatory params: ['name']")
    if call.params.get("node", call.services.node.name) != call.services.node.name:
        raise LegacyError(None, "not_found")
    try:
        call.services.alarms.force_deactivate(name)
    except NotFound:
        raise LegacyError(None, "not_found") from None
    return Ok()


def delete_deactivated(call: Call) -> Ok:
    node_of(call)
    call.services.alarms.clear_history()
    return Ok()


# ---------------------------------------------------------------- banned


def _kind(value: Any) -> str:
    if value not in V4_KINDS:
        raise LegacyError(PARAM_TYPE, f"value of 'as' must be one of: {list(V4_KINDS)}")
    return str(value)


def list_banned(call: Call) -> Ok:
    page, limit = paging(call)
    found = call.services.bans.find({}, page, limit)
    # Bans by pattern or network (v5's kinds) have no v4 form and are left out of the page.
    return paged(found, [ban_row(row) for row in found.data if row["as"] in V4_KINDS], False)


def ban_row(row: dict[str, Any]) -> dict[str, Any]:
    """A ban as EMQX 4 lists it: times in whole epoch seconds, ``until`` "infinity" for ever."""
    return {**row, "at": int(row["at"]), "until": int(row["until"]) if row["until"] else "infinity"}


def create_ban(call: Call) -> Ok:
    who, kind = required(call, "who", "as")
    kind = _kind(kind)
    if not isinstance(who, str):
        raise LegacyError(PARAM_TYPE, "who: must be a string")
    now = time.time()
    at = integer(call, "at", int(now))
    until = integer(call, "until", int(now) + 300)  # EMQX 4: five minutes unless given
    by, reason = call.params.get("by", "user"), call.params.get("reason", "")
    if not isinstance(by, str) or not isinstance(reason, str):
        raise LegacyError(PARAM_TYPE, "by and reason: must be strings")
    try:
        call.services.bans.create(kind, who, by, reason, float(at or now), float(until or 0))
    except AlreadyExists:
        raise LegacyError(None, "already_existed") from None
    except Invalid as exc:
        raise LegacyError(PARAM_TYPE, exc.message) from None
    return Ok({"who": who, "as": kind, "by": by, "reason": reason, "at": at, "until": until})


def delete_ban(call: Call) -> Ok:
    kind = _kind(call.path["as"])
    try:
        call.services.bans.delete(kind, call.path["who"])
    except NotFound:
        pass  # EMQX 4 answers 0 for a ban that is not there
    except Invalid as exc:
        raise LegacyError(PARAM_TYPE, exc.message) from None
    return Ok()


# ---------------------------------------------------------------- ACL caches, keepalive


def clean_acl_caches(call: Call) -> Ok:
    node_of(call)
    call.services.authz.clean_cache()
    return Ok()


def client_acl_cache(call: Call) -> Ok:
    try:
        entries = call.services.clients.authz_cache(call.path["clientid"])
    except NotFound:
        raise LegacyError(CLIENT_OFFLINE, "not_found") from None
    return Ok(
        [
            {
                "access": entry["access"]["action_type"],
                "topic": entry["topic"],
                "result": entry["result"],
                "updated_time": entry["updated_time"],
            }
            for entry in entries
        ]
    )


def clean_client_acl_cache(call: Call) -> Ok:
    try:
        call.services.clients.clean_authz_cache(call.path["clientid"])
    except NotFound:
        raise LegacyError(CLIENT_OFFLINE, "not_found") from None
    return Ok()


def set_keepalive(call: Call) -> Ok:
    interval = integer(call, "interval")
    if interval is None:
        raise LegacyError(MISSING_PARAM, "params_not_found")
    if not 0 <= interval <= 65535:
        raise LegacyError(UNKNOWN, "mqtt3.1.1 specification: keepalive must between 0~65535")
    try:
        call.services.clients.set_keepalive(call.path["clientid"], interval)
    except NotFound:
        raise LegacyError(CLIENT_OFFLINE, "not_found") from None
    return Ok()


# ---------------------------------------------------------------- ratelimit, quota

_LIMITS = {  # EMQX 4's parameter: the connection's limit it sets
    "ratelimit": {"conn_bytes_in": "bytes_in", "conn_messages_in": "messages_in"},
    "quota": {"conn_messages_routing": "messages_routing"},
}


def _limit(name: str, value: Any) -> tuple[float, float]:
    """``"limit,duration"``: ``"100KB,10s"``, ``"100,1s"``."""
    if not isinstance(value, str) or value.count(",") != 1:
        raise LegacyError(PARAM_TYPE, f'{name}: must be "limit,duration", like "100KB,10s"')
    amount, duration = (part.strip() for part in value.split(","))
    limit, period = parse_bytesize(amount), parse_duration(duration)
    if not isinstance(limit, int | float) or not isinstance(period, int | float):
        raise LegacyError(PARAM_TYPE, f"{name}: {amount!r} is not an amount or {duration!r} not a duration")
    if limit <= 0 or period <= 0:
        raise LegacyError(PARAM_TYPE, f"{name}: the limit and the duration must be positive")
    return float(limit), float(period)


def _limits_route(kind: str, remove: bool) -> Any:
    def run(call: Call) -> Ok:
        names = _LIMITS[kind]
        if remove:
            given: dict[str, tuple[float, float] | None] = dict.fromkeys(names.values())
        else:
            given = {names[k]: _limit(k, v) for k, v in call.params.items() if k in names}
            if not given:
                raise LegacyError(MISSING_PARAM, f"missing mandatory params: {list(names)}")
        try:
            call.services.clients.set_limits(call.path["clientid"], **given)
        except NotFound:
            raise LegacyError(CLIENT_OFFLINE, "not_found") from None
        return Ok()

    return run


ROUTES = [
    Route("list_listeners", "GET", "/listeners", list_listeners, "A list of listeners in the cluster"),
    Route("list_node_listeners", "GET", "/nodes/{node}/listeners", node_listeners, "Listeners of a node"),
    *on_node("restart_listener", "PUT", "/listeners/{identifier}/restart", restart_listener, "Restart"),
    *_alarm_routes("all", "/alarms"),
    *_alarm_routes("activated", "/alarms/activated"),
    *_alarm_routes("deactivated", "/alarms/deactivated"),
    Route("deactivate_alarm", "POST", "/alarms/deactivated", deactivate_alarm, "Deactivate an alarm"),
    *on_node("delete_alarms", "DELETE", "/alarms/deactivated", delete_deactivated, "Clear deactivated"),
    Route("list_banned", "GET", "/banned", list_banned, "List banned"),
    Route("create_banned", "POST", "/banned", create_ban, "Create banned"),
    Route("delete_banned", "DELETE", "/banned/{as}/{who:path}", delete_ban, "Delete banned"),
    *on_node("clean_acl_cache_all", "DELETE", "/acl-cache", clean_acl_caches, "Clean all ACL caches"),
    Route("list_acl_cache", "GET", "/clients/{clientid}/acl_cache", client_acl_cache, "A client's ACL cache"),
    Route("clean_acl_cache", "DELETE", "/clients/{clientid}/acl_cache", clean_client_acl_cache, "Clean it"),
    Route("set_keepalive", "PUT", "/clients/{clientid}/keepalive", set_keepalive, "Set a keepalive"),
    Route(
        "set_ratelimit",
        "POST",
        "/clients/{clientid}/ratelimit",
        _limits_route("ratelimit", False),
        "Rate limit",
    ),
    Route(
        "clean_ratelimit",
        "DELETE",
        "/clients/{clientid}/ratelimit",
        _limits_route("ratelimit", True),
        "No limit",
    ),
    Route("set_quota", "POST", "/clients/{clientid}/quota", _limits_route("quota", False), "Set a quota"),
    Route("clean_quota", "DELETE", "/clients/{clientid}/quota", _limits_route("quota", True), "No quota"),
]
