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
