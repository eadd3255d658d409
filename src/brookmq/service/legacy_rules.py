"""EMQX 4's rule actions (a ``name`` and its ``params``) and the ``/api/v5`` actions that do the
same, both ways: ``republish`` (``target_topic``, ``target_qos`` (-1: the input's),
``target_retain``, ``payload_tmpl``) is ``republish`` (``topic``, ``qos``, ``retain``,
``payload``), ``inspect`` is ``console``, ``do_nothing`` is ``do_nothing``. The 4.x routes and
the 4.4 export format both speak it."""

from __future__ import annotations

from typing import Any

from brookmq.service.errors import Invalid, NotFound

FUNCTIONS = {"republish": "republish", "inspect": "console", "do_nothing": "do_nothing"}
LEGACY = {function: name for name, function in FUNCTIONS.items()}


def v5_action(name: str, params: Any) -> dict[str, Any]:
    """The v5 action of EMQX 4's action ``name``; NotFound for one BrookMQ does not have."""
    if name not in FUNCTIONS:
        raise NotFound(f"Action {name} Not Found")
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise Invalid("must be an object", "params")
    if name != "republish":
        return {"function": FUNCTIONS[name]}
    qos = params.get("target_qos", 0)
    return {
        "function": "republish",
        "args": {
            "topic": params.get("target_topic", ""),
            "qos": "${qos}" if qos == -1 else qos,
            "retain": params.get("target_retain", False),
            "payload": params.get("payload_tmpl", "${payload}"),
        },
    }


def v4_action(action: Any) -> tuple[str, dict[str, Any]]:
    """EMQX 4's name and params of a v5 action (a connector's ``type:name`` as it is)."""
    if isinstance(action, str):
        return action, {}
    function = action.get("function")
    if function != "republish":
        return LEGACY.get(function, str(function)), {}
    args = action.get("args") or {}
    qos = args.get("qos", "${qos}")
    return "republish", {
        "target_topic": args.get("topic"),
        "target_qos": -1 if qos == "${qos}" else qos,
        "target_retain": args.get("retain", "${retain}"),
        "payload_tmpl": args.get("payload", "${payload}"),
    }


# ------------------------------------------------------------------ resources (EMQX 4's connectors)

RESOURCE_TYPES = {"web_hook": "http", "bridge_mqtt": "mqtt"}  # EMQX 4's resource type: v5's
LEGACY_TYPES = {five: four for four, five in RESOURCE_TYPES.items()}
RESOURCE_ACTIONS = {"data_to_webserver": "http", "data_to_mqtt_broker": "mqtt"}  # their actions
_PROTOCOLS = {"mqttv3": "v3", "mqttv4": "v4", "mqttv5": "v5"}


def connector_name(resource_id: str) -> str:
    """The v5 name of an EMQX 4 resource id (v5 names have no ``:``): ``resource:1a`` is
    ``resource-1a``, which is also the id the 4.x routes show."""
    return resource_id.replace(":", "-")


def v5_connector(resource_type: Any, config: Any) -> dict[str, Any]:
    """The v5 connector settings of an EMQX 4 resource (its ``type`` and ``config``)."""
    if resource_type not in RESOURCE_TYPES:
        raise NotFound(f"Resource Type {resource_type} Not Found")
    if not isinstance(config, dict):
        raise Invalid("must be an object", "config")
    if resource_type == "web_hook":
        headers = dict(config.get("headers") or {})
        if config.get("content_type"):
            headers.setdefault("content-type", config["content_type"])
        return {
            "type": "http",
            "url": config.get("url"),
            "headers": headers,
            "connect_timeout": config.get("connect_timeout", "5s"),
            "pool_size": config.get("pool_size", 8),
        }
    return {
        "type": "mqtt",
        "server": config.get("address"),
        "username": config.get("username") or None,
        "password": config.get("password") or None,
        "keepalive": config.get("keepalive", "60s"),
        "proto_ver": _PROTOCOLS.get(config.get("proto_ver", "mqttv4"), "v4"),
    }


def v4_resource(info: dict[str, Any]) -> dict[str, Any]:
    """EMQX 4's resource of a v5 connector (as ``/api/v5/connectors`` shows it)."""
    if info["type"] == "http":
        config = {"url": info["url"], "headers": info["headers"], "connect_timeout": info["connect_timeout"]}
        config["pool_size"] = info["pool_size"]
    else:
        protocol = {v: k for k, v in _PROTOCOLS.items()}.get(info["proto_ver"], "mqttv4")
        config = {
            "address": info["server"],
            "username": info.get("username") or "",
            "keepalive": info["keepalive"],
        }
        config |= {"password": "******" if info.get("password") else "", "proto_ver": protocol}
    return {
        "id": info["name"],
        "type": LEGACY_TYPES.get(info["type"], info["type"]),
        "config": config,
        "description": info.get("description", ""),
    }


def v5_resource_action(name: str, params: Any, action_name: str) -> dict[str, Any]:
    """The v5 action made for an EMQX 4 rule's ``data_to_webserver`` / ``data_to_mqtt_broker``
    (its ``params`` name the resource as ``$resource``)."""
    if not isinstance(params, dict) or not isinstance(params.get("$resource"), str):
        raise Invalid("needs the $resource it sends through", "params")
    connector = connector_name(params["$resource"])
    if RESOURCE_ACTIONS[name] == "http":
        parameters = {
            "path": params.get("path") or "",
            "method": str(params.get("method") or "POST").lower(),
            "headers": params.get("headers") or {},
            "body": params.get("body") or None,
        }
        return {"type": "http", "name": action_name, "connector": connector, "parameters": parameters}
    parameters = {
        "topic": params.get("forward_topic") or "${topic}",
        "payload": params.get("payload_tmpl") or "${payload}",
        "qos": "${qos}",
    }
    return {"type": "mqtt", "name": action_name, "connector": connector, "parameters": parameters}


def v4_resource_action(info: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """EMQX 4's name and params of a v5 http or mqtt action (as ``/api/v5/actions`` shows it)."""
    params = info["parameters"]
    if info["type"] == "http":
        return "data_to_webserver", {
            "$resource": info["connector"],
            "path": params["path"],
            "method": params["method"].upper(),
            "headers": params["headers"],
            "body": params["body"] or "",
        }
    return "data_to_mqtt_broker", {
        "$resource": info["connector"],
        "forward_topic": params["topic"],
        "payload_tmpl": params["payload"],
    }
