"""``/acl`` (EMQX 4's ``emqx_auth_mnesia`` ACL, reference 2.2): the ``built_in_database``
authorization source's rules, one row per rule, for a client id, a username or everyone
(``$all``), with 4.x's names: ``action`` pub / sub / pubsub, ``access`` allow / deny. Rules made
here are v5's ``/authorization/sources/built_in_database/rules`` (their ``qos`` and ``retain``
conditions, which 4.x has not, are not shown). With no such source configured the routes
answer ``{"message": "not_started"}``."""

from __future__ import annotations

from typing import Any, Literal

from brookmq.api.legacy.framework import (
    MISSING_PARAM,
    PARAM_TYPE,
    Call,
    Handler,
    LegacyError,
    Ok,
    Route,
    paged,
    paging,
)
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.paging import page_of

Who = Literal["clientid", "username", "all"]
_ACTIONS = {"pub": "publish", "sub": "subscribe", "pubsub": "all"}
_V4_ACTION = {name: short for short, name in _ACTIONS.items()}
_ALL = "$all"


def _not_started() -> LegacyError:
    return LegacyError(None, "not_started")


def _head(kind: Who, who: str) -> dict[str, Any]:
    return {"all": _ALL} if kind == "all" else {kind: who}


def _row(kind: Who, who: str, rule: dict[str, Any]) -> dict[str, Any]:
    return {
        **_head(kind, who),
        "topic": rule["topic"],
        "action": _V4_ACTION[rule["action"]],
        "access": rule["permission"],
    }


def _rows(call: Call, kind: Who) -> list[dict[str, Any]]:
    authz = call.services.authz
    try:
        if kind == "all":
            return [_row(kind, _ALL, rule) for rule in authz.rules_for_all()["rules"]]
        entries = authz.every_rule_entry(kind)
    except NotFound:
        raise _not_started() from None
    return [_row(kind, entry[kind], rule) for entry in entries for rule in entry["rules"]]


def _lister(kind: Who) -> Handler:
    def run(call: Call) -> Ok:
        page, limit = paging(call)
        rows = _rows(call, kind)
        like = call.params.get(f"_like_{kind}")
        filters = {name: call.params[name] for name in ("topic", "action", "access") if name in call.params}
        if like is not None:
            rows = [row for row in rows if str(like) in row[kind]]
        rows = [row for row in rows if all(row[name] == value for name, value in filters.items())]
        found = page_of(iter(rows), page, limit, len(rows))
        return paged(found, found.data, like is not None or bool(filters))

    return run


def _lookup(kind: Literal["clientid", "username"]) -> Handler:
    def run(call: Call) -> Ok:
        who = call.path[kind]
        return Ok([row for row in _rows(call, kind) if row[kind] == who])

    return run


def _add_one(call: Call, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise LegacyError(PARAM_TYPE, "bad_params: each rule must be an object")
    kind: Who = "clientid" if "clientid" in item else "username" if "username" in item else "all"
    who = item.get(kind, "")
    if kind != "all" and (not isinstance(who, str) or not who):
        raise LegacyError(PARAM_TYPE, f"{kind}: must be a non-empty string")
    topic, action, access = (item.get(name) for name in ("topic", "action", "access"))
    missing = [
        name for name, value in (("topic", topic), ("action", action), ("access", access)) if not value
    ]
    if missing:
        raise LegacyError(MISSING_PARAM, f"missing mandatory params: {missing}")
    if not isinstance(action, str) or action not in _ACTIONS:
        raise LegacyError(PARAM_TYPE, "action: must be pub, sub or pubsub")
    rule = {"topic": topic, "action": _ACTIONS[str(action)], "permission": access}
    try:
        call.services.authz.append_rule(kind, who, rule)
    except NotFound:
        raise _not_started() from None
    except Invalid as exc:
        raise LegacyError(PARAM_TYPE, exc.message) from None
    return {**_head(kind, who), "topic": topic, "action": action, "access": access}


def add_rules(call: Call) -> Ok:
    """One rule, or an array of them: each answered with its ``result``."""
    if not isinstance(call.body, list):
        return Ok({**_add_one(call, call.params), "result": "ok"})
    results = []
    for item in call.body:
        try:
            results.append({**_add_one(call, item), "result": "ok"})
        except LegacyError as exc:
            fields = ("clientid", "username", "topic", "action", "access")
            echo = {k: item[k] for k in fields if k in item} if isinstance(item, dict) else {}
            results.append({**echo, "result": exc.message})
    return Ok(results)


def _deleter(kind: Who) -> Handler:
    def run(call: Call) -> Ok:
        who = "" if kind == "all" else call.path[kind]
        try:
            call.services.authz.remove_topic_rules(kind, who, call.path["topic"])
        except NotFound:
            raise _not_started() from None
        return Ok()

    return run


ROUTES = [
    Route(
        "list_clientid_acl", "GET", "/acl/clientid", _lister("clientid"), "List the ACL rules of client ids"
    ),
    Route(
        "list_username_acl", "GET", "/acl/username", _lister("username"), "List the ACL rules of usernames"
    ),
    Route("list_all_acl", "GET", "/acl/$all", _lister("all"), "List the ACL rules for all"),
    Route(
        "lookup_clientid_acl", "GET", "/acl/clientid/{clientid}", _lookup("clientid"), "A client id's rules"
    ),
    Route(
        "lookup_username_acl", "GET", "/acl/username/{username}", _lookup("username"), "A username's rules"
    ),
    Route("add_acl", "POST", "/acl", add_rules, "Add ACL rules"),
    Route(
        "delete_clientid_acl",
        "DELETE",
        "/acl/clientid/{clientid}/topic/{topic:path}",
        _deleter("clientid"),
        "Delete a client id's rules for a topic",
    ),
    Route(
        "delete_username_acl",
        "DELETE",
        "/acl/username/{username}/topic/{topic:path}",
        _deleter("username"),
        "Delete a username's rules for a topic",
    ),
    Route(
        "delete_all_acl", "DELETE", "/acl/$all/topic/{topic:path}", _deleter("all"), "Delete rules for all"
    ),
]
