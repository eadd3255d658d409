"""What a rule does with what it selected: the built-in ``republish`` and ``console``
functions, and ``${...}`` templates.

A template's ``${a.b}`` is the selected value at that path (a string as it is, anything else as
JSON; missing: ``undefined``), ``${.}`` the whole selection as JSON. ``republish`` publishes
through the broker's in-process client, so authorization-free, with the rule id as the client
id (EMQX's ``from``); a message a rule republished never triggers that same rule again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brookmq.extensions.rules.values import json_text, loads, string, text

log = logging.getLogger("brookmq.rules")

_VAR = re.compile(r"\$\{([^}]*)\}")
_ONE_VAR = re.compile(r"^\$\{([^}]*)\}$")


class ActionError(ValueError):
    """An action's arguments that cannot work (a missing topic, an unknown function)."""


def _path(expression: str) -> list[str]:
    """``a.b``, ``pub_props.'User-Property'``, ``.`` (everything)."""
    expression = expression.strip()
    if expression in ("", "."):
        return []
    parts = re.findall(r"'[^']*'|\"[^\"]*\"|[^.]+", expression.lstrip("."))
    return [part[1:-1] if part[:1] in "'\"" else part for part in parts]


_MISSING: Any = object()


def lookup(data: Any, path: list[str]) -> Any:
    for key in path:
        if isinstance(data, str):
            try:
                data = loads(data)
            except ValueError:
                return _MISSING
        if not isinstance(data, dict) or key not in data:
            return _MISSING
        data = data[key]
    return data


@dataclass(frozen=True, slots=True)
class Template:
    """Parsed once; rendered per output."""

    source: str
    parts: tuple[str | list[str], ...]  # literal text, or a variable's path
    constant: str | None = None  # the text, when there is no variable at all
    whole: bool = False  # the template is "${.}": the output as JSON

    @classmethod
    def parse(cls, source: str) -> Template:
        parts: list[str | list[str]] = []
        at = 0
        for found in _VAR.finditer(source):
            if found.start() > at:
                parts.append(source[at : found.start()])
            parts.append(_path(found.group(1)))
            at = found.end()
        if at < len(source):
            parts.append(source[at:])
        constant = source if all(isinstance(part, str) for part in parts) else None
        return cls(source, tuple(parts), constant, parts == [[]])

    def render(self, selected: dict[str, Any]) -> str:
        if self.constant is not None:
            return self.constant
        if self.whole:
            return json_text(selected)
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = lookup(selected, part)
            if value is _MISSING or value is None:
                out.append("undefined")
            elif isinstance(value, str | bytes):
                out.append(text(value))
            else:
                out.append(json_text(value) if isinstance(value, dict | list) else text(value))
        return "".join(out)


def _simple(value: Any) -> Callable[[dict[str, Any], Any], Any]:
    """A value that is one ``${var}`` is looked up (its default when missing); anything else is
    itself."""
    if isinstance(value, str):
        found = _ONE_VAR.match(value)
        if found is not None:
            path = _path(found.group(1))

            def var(selected: dict[str, Any], default: Any) -> Any:
                got = lookup(selected, path)
                return default if got is _MISSING or got is None else got

            return var
    return lambda selected, default: value


@dataclass(slots=True)
class Republish:
    topic: Template
    payload: Template
    qos: Callable[[dict[str, Any], Any], Any]
    retain: Callable[[dict[str, Any], Any], Any]
    user_properties: Callable[[dict[str, Any], Any], Any]
    mqtt_properties: dict[str, Template] = field(default_factory=dict)

    def message(
        self, selected: dict[str, Any], columns: dict[str, Any]
    ) -> tuple[str, bytes, int, bool, dict[str, Any] | None]:
        """The topic, payload, QoS, retain flag and MQTT 5 properties to publish. A ``${qos}``
        the rule did not select is the input's QoS (EMQX 4's ``target_qos: -1``), else 0."""
        qos = self.qos(selected, columns.get("qos", 0))
        if isinstance(qos, str) and qos.isdigit():
            qos = int(qos)
        if qos not in (0, 1, 2) or isinstance(qos, bool):
            raise ActionError(f"republish: QoS {qos!r} is not 0, 1 or 2")
        retain = self.retain(selected, False)
        retain = retain in (True, "true", 1)
        properties: dict[str, Any] = {}
        users = self.user_properties(selected, None)
        if users and isinstance(users, dict):
            properties["user_property"] = [(str(k), text(v)) for k, v in users.items()]
        if self.mqtt_properties:
            for name, template in self.mqtt_properties.items():
                properties[name] = _PROPERTY_TYPES.get(name, str)(template.render(selected))
        payload = self.payload.render(selected).encode()
        return self.topic.render(selected), payload, qos, retain, properties or None


_PROPERTY_TYPES: dict[str, Callable[[str], Any]] = {
    "message_expiry_interval": int,
    "payload_format_indicator": int,
    "correlation_data": str.encode,
}

# EMQX's republish properties, by their wire names, as BrookMQ's property keys.
MQTT_PROPERTIES = {
    "Payload-Format-Indicator": "payload_format_indicator",
    "Message-Expiry-Interval": "message_expiry_interval",
    "Content-Type": "content_type",
    "Response-Topic": "response_topic",
    "Correlation-Data": "correlation_data",
}


def republish(args: dict[str, Any]) -> Republish:
    """EMQX 5.8's ``republish`` arguments: ``topic`` (required), ``qos`` (``${qos}``),
    ``retain`` (``${retain}``), ``payload`` (``${payload}``; empty: the whole selection as
    JSON), ``user_properties`` (``${user_properties}``), ``mqtt_properties`` (by wire name)."""
    if not isinstance(args, dict):
        raise ActionError("republish: args must be an object")
    topic = args.get("topic")
    if not isinstance(topic, str) or not topic:
        raise ActionError("republish: args.topic is required")
    payload = args.get("payload", "${payload}")
    if not isinstance(payload, str):
        raise ActionError("republish: args.payload must be a string template")
    props = args.get("mqtt_properties") or {}
    if not isinstance(props, dict) or any(name not in MQTT_PROPERTIES for name in props):
        raise ActionError(f"republish: args.mqtt_properties may have {', '.join(MQTT_PROPERTIES)}")
    return Republish(
        Template.parse(topic),
        Template.parse(payload or "${.}"),
        _simple(args.get("qos", "${qos}")),
        _simple(args.get("retain", "${retain}")),
        _simple(args.get("user_properties", "${user_properties}")),
        {MQTT_PROPERTIES[name]: Template.parse(string(value)) for name, value in props.items()},
    )


def console(rule_id: str, selected: Any, columns: dict[str, Any]) -> None:
    log.info("[rule action] %s\n\tAction Data: %s\n\tEnvs: %s", rule_id, selected, columns)
