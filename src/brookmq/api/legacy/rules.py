"""The rule engine as EMQX 4.x and 3.x showed it, over the same rules as ``/api/v5``: a rule is
``{id, for, rawsql, actions: [{id, name, params, metrics, fallbacks}], enabled, description,
metrics, created_at}``, and an action is named (``republish``, ``inspect``, ``do_nothing``)
with ``params`` (``target_topic``, ``target_qos``, ``target_retain``, ``payload_tmpl``).

A legacy action is kept as the v5 action that does the same (``republish`` with ``topic``,
``qos``, ``retain``, ``payload``; ``inspect`` is ``console``), so a rule made through one
dialect is listed and run by all. ``Naming`` is what differs between 4.x and 3.x: the action
names (3.x: ``built_in:republish_action``)."""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from typing import Any

from brookmq.api.legacy.framework import Call, LegacyError, Ok, Route, boolean, paged, paging, required
from brookmq.service.errors import AlreadyExists, Invalid, NotFound
from brookmq.service.legacy_rules import (
    FUNCTIONS,
    RESOURCE_ACTIONS,
    connector_name,
    v4_action,
    v4_resource_action,
    v5_action,
    v5_resource_action,
)
from brookmq.service.rules import NotMatched, Rules

BAD_REQUEST, NOT_FOUND = 400, 404  # EMQX 4's rule routes answer these codes in the body


_REPUBLISH_PARAMS = {
    "target_topic": {"type": "string", "required": True, "default": "repub/to/${clientid}"},
    "target_qos": {"type": ["number", "string"], "required": True, "default": 0, "enum": [0, 1, 2, "${qos}"]},
    "target_retain": {"type": ["boolean", "string"], "required": False, "default": False},
    "payload_tmpl": {"type": "string", "required": False, "default": "${payload}"},
}
ACTIONS = {
    "republish": (
        "data_forward",
        "Republish",
        "Republish the selected data to another topic",
        _REPUBLISH_PARAMS,
    ),
    "inspect": ("debug", "Inspect (debug)", "Log the selected data and the input", {}),
    "do_nothing": ("debug", "Do Nothing (debug)", "Does nothing and never fails", {}),
}


@dataclass(frozen=True, slots=True)
class Naming:
    """A dialect's names for the built-in actions: ``name(republish)`` and back."""

    prefix: str = ""  # 3.x: "built_in:"
    suffix: str = ""  # 3.x: "_action"

    def name(self, action: str) -> str:
        return f"{self.prefix}{action}{self.suffix}"

    def action(self, name: str) -> str | None:
        if name.startswith(self.prefix) and name.endswith(self.suffix):
            core = name[len(self.prefix) : len(name) - len(self.suffix) if self.suffix else None]
            if core in FUNCTIONS:
                return core
        return None


def _to_v5(naming: Naming, action: Any) -> Any:
    if not isinstance(action, dict) or not isinstance(action.get("name"), str):
        raise LegacyError(BAD_REQUEST, "Bad Arguments: an action is {name, params}")
    name = naming.action(action["name"])
    if name is None:
        raise LegacyError(BAD_REQUEST, f"Action {action['name']} Not Found")
    try:
        return v5_action(name, action.get("params"))
    except Invalid as exc:
        raise LegacyError(BAD_REQUEST, f"Bad Arguments: {exc.message}") from None


def _to_legacy(
    naming: Naming,
    rule_id: str,
    index: int,
    action: Any,
    figures: dict[str, Any],
    resource: tuple[str, dict[str, Any]] | None,
) -> dict[str, Any]:
    """``resource``: EMQX 4's name and params when the action sends through a connector."""
    metrics = {
        "node": figures["node"],
        "success": figures["success"],
        "failed": figures["failed"],
        "taken": 0,
    }
    name, params = resource if resource is not None else v4_action(action)
    return {
        "id": f"{rule_id}_action_{index}",
        "name": name if isinstance(action, str) else naming.name(name),
        "params": params,
        "metrics": [metrics],
        "fallbacks": [],
    }


def rule_row(call: Call, naming: Naming, info: dict[str, Any]) -> dict[str, Any]:
    rules = call.services.rules
    figures = rules.metrics(info["id"])["metrics"]
    node = call.services.node.name
    actions = rules.action_metrics(info["id"])

    def resource_action(action: Any) -> tuple[str, dict[str, Any]] | None:
        if not isinstance(action, str) or action.split(":", 1)[0] not in ("http", "mqtt"):
            return None
        try:
            return v4_resource_action(call.services.connectors.get("action", action))
        except NotFound:
            return None

    return {
        "id": info["id"],
        "for": info["from"],
        "rawsql": info["sql"],
        "actions": [
            _to_legacy(naming, info["id"], i, action, {"node": node, **actions[i]}, resource_action(action))
            for i, action in enumerate(info["actions"])
        ],
        "on_action_failed": "continue",
        "enabled": info["enable"],
        "description": info["description"],
        "created_at": int(info["created_at"] * 1000),
        "metrics": [
            {
                "node": node,
                "matched": figures.get("matched", 0),
                "passed": figures.get("passed", 0),
                "failed": figures.get("failed", 0),
                "exception": figures.get("failed.exception", 0),
                "no_result": figures.get("failed.no_result", 0),
                "speed": figures.get("matched.rate", 0.0),
                "speed_max": figures.get("matched.rate.max", 0.0),
                "speed_last5m": figures.get("matched.rate.last5m", 0.0),
            }
        ],
    }


def _body(call: Call, naming: Naming, rule_id: str, made: list[dict[str, Any]]) -> dict[str, Any]:
    """The v5 rule of the request; ``made`` gets the v5 actions to make first for the actions
    that send through a resource (``data_to_webserver``, ``data_to_mqtt_broker``)."""
    params = call.params
    body: dict[str, Any] = {}
    creating = call.path.get("id") is None
    if creating or "rawsql" in params:
        body["sql"] = required(call, "rawsql")[0]
    if "actions" in params:
        if not isinstance(params["actions"], list):
            raise LegacyError(BAD_REQUEST, "Bad Arguments: actions must be an array")
        body["actions"] = []
        for action in params["actions"]:
            name = action.get("name") if isinstance(action, dict) else None
            if name in RESOURCE_ACTIONS and not naming.prefix:
                made.append(
                    v5_resource_action(
                        name, action.get("params"), f"{connector_name(rule_id)}-{secrets.token_hex(3)}"
                    )
                )
                body["actions"].append(f"{made[-1]['type']}:{made[-1]['name']}")
            else:
                body["actions"].append(_to_v5(naming, action))
    if "enabled" in params:
        body["enable"] = boolean(call, "enabled")
    if "description" in params:
        body["description"] = params["description"]
    if "name" in params and isinstance(params["name"], str):
        body["name"] = params["name"]
    if creating:
        body["id"] = rule_id
    return body


def _made_for(rule_id: str, actions: list[Any]) -> list[str]:
    """The v5 actions a 4.x route made for this rule (named after it)."""
    prefix = f"{connector_name(rule_id)}-"
    return [a for a in actions if isinstance(a, str) and a.split(":", 1)[-1].startswith(prefix)]


async def _with_actions(call: Call, made: list[dict[str, Any]], change: Any) -> Any:
    """Make the actions ``made``, then ``change()`` the rule; if it fails, the actions go."""
    connectors = call.services.connectors
    done: list[str] = []
    try:
        for body in made:
            await connectors.create("action", body)
            done.append(f"{body['type']}:{body['name']}")
        return change()
    except (Invalid, AlreadyExists, NotFound) as exc:
        for identifier in done:
            await connectors.delete("action", identifier, [])
        raise _refused(exc) from None


def _service(call: Call) -> Rules:
    return call.services.rules


def _refused(exc: Exception) -> LegacyError:
    if isinstance(exc, NotFound):
        return LegacyError(NOT_FOUND, exc.message)
    if isinstance(exc, AlreadyExists):
        return LegacyError(BAD_REQUEST, "Already Exists")
    assert isinstance(exc, Invalid)
    return LegacyError(BAD_REQUEST, f"Bad Arguments: {exc.message}")


def rule_routes(naming: Naming, slash: str = "", updates: bool = True) -> list[Route]:
    """One dialect's routes: collections listed as ``/rules`` + ``slash``; ``updates``: the
    ``PUT`` routes EMQX 4 added (3.x has none)."""
    handlers = _handlers(naming)
    routes = [
        Route("create_rule", "POST", f"/rules{slash}", handlers["create"], "Create a rule"),
        Route("list_rules", "GET", f"/rules{slash}", handlers["list"], "A list of all rules"),
        Route("show_rule", "GET", "/rules/{id}", handlers["show"], "Show a rule"),
        Route("delete_rule", "DELETE", "/rules/{id}", handlers["delete"], "Delete a rule"),
        Route("list_actions", "GET", f"/actions{slash}", handlers["actions"], "A list of all actions"),
        Route("show_action", "GET", "/actions/{name}", handlers["action"], "Show an action"),
        Route(
            "list_events",
            "GET",
            f"/rule_events{slash}",
            handlers["events"],
            "List all events with detailed info",
        ),
    ]
    if updates:
        routes += [
            Route("update_rule", "PUT", "/rules/{id}", handlers["update"], "Update a rule"),
            Route(
                "reset_metrics",
                "PUT",
                "/rules/{id}/reset_metrics",
                handlers["reset_metrics"],
                "Reset a rule metrics",
            ),
        ]
    return routes


def _handlers(naming: Naming) -> dict[str, Any]:
    """The route functions of one dialect."""

    def test_sql(call: Call) -> Ok:
        sql, context = required(call, "rawsql")[0], call.params.get("ctx") or {}
        try:
            return Ok(call.services.rules.test(sql, context))
        except NotMatched:
            raise LegacyError(NOT_FOUND, "SQL Not Match") from None
        except Invalid as exc:
            raise _refused(exc) from None

    async def create(call: Call) -> Ok:
        if boolean(call, "test"):
            return test_sql(call)
        rule_id = str(call.params.get("id") or f"rule:{secrets.token_hex(4)}")
        made: list[dict[str, Any]] = []
        body = _body(call, naming, rule_id, made)
        return Ok(
            rule_row(call, naming, await _with_actions(call, made, lambda: _service(call).create(body)))
        )

    def listing(call: Call) -> Ok:
        page, limit = paging(call)
        found = _service(call).find({}, page, limit)
        return paged(found, [rule_row(call, naming, info) for info in found.data], filtered=False)

    def show(call: Call) -> Ok:
        try:
            return Ok(rule_row(call, naming, _service(call).get(call.path["id"])))
        except NotFound as exc:
            raise _refused(exc) from None

    async def update(call: Call) -> Ok:
        rule_id = call.path["id"]
        try:
            before = _service(call).get(rule_id)["actions"]
        except NotFound as exc:
            raise _refused(exc) from None
        made: list[dict[str, Any]] = []
        body = _body(call, naming, rule_id, made)
        changed = await _with_actions(call, made, lambda: _service(call).update(rule_id, body))
        for identifier in _made_for(rule_id, before):
            if identifier not in changed["actions"]:
                await call.services.connectors.delete("action", identifier, [])
        return Ok(rule_row(call, naming, changed))

    async def delete(call: Call) -> Ok:
        rule_id = call.path["id"]
        try:
            actions = _service(call).get(rule_id)["actions"]
            _service(call).delete(rule_id)
        except NotFound:
            return Ok()  # EMQX 4 answers 0 for a rule that is not there
        for identifier in _made_for(rule_id, actions):
            with contextlib.suppress(NotFound):
                await call.services.connectors.delete("action", identifier, [])
        return Ok()

    def reset_metrics(call: Call) -> Ok:
        try:
            _service(call).reset_metrics(call.path["id"])
        except NotFound as exc:
            raise _refused(exc) from None
        return Ok()

    def actions(call: Call) -> Ok:
        return Ok([_action_row(naming, name) for name in ACTIONS])

    def action(call: Call) -> Ok:
        name = naming.action(call.path["name"])
        if name is None:
            raise LegacyError(NOT_FOUND, f"Action {call.path['name']} Not Found")
        return Ok(_action_row(naming, name))

    def events(call: Call) -> Ok:
        return Ok(Rules.events())

    return {
        "create": create,
        "list": listing,
        "show": show,
        "update": update,
        "delete": delete,
        "reset_metrics": reset_metrics,
        "actions": actions,
        "action": action,
        "events": events,
    }


def _action_row(naming: Naming, name: str) -> dict[str, Any]:
    category, title, description, params = ACTIONS[name]
    return {
        "name": naming.name(name),
        "category": category,
        "app": "emqx_rule_engine",
        "for": "$any",
        "type": "built_in",
        "types": [],
        "params": params,
        "title": {"en": title, "zh": title},
        "description": {"en": description, "zh": description},
    }
