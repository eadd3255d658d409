"""UUIDs, ``getenv``, ``coalesce``, topic tests, and the functions that read the input itself
(``topic()``, ``topic(2)``, ``clientid()``, ``payload('a.b')``, ...)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

from brookmq.extensions.rules.functions.collections import map_get
from brookmq.extensions.rules.values import SqlRuntimeError, decode_json, integer, same, string
from brookmq.mqtt.topics import matches

ENV_PREFIX = "EMQXVAR_"  # getenv reads only these variables, as EMQX does


def getenv(name: Any) -> str | None:
    return os.environ.get(ENV_PREFIX + string(name))


def coalesce(*values: Any) -> Any:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
    return next((value for value in values if value is not None), None)


def coalesce_ne(*values: Any) -> Any:
    if len(values) == 1 and isinstance(values[0], list):
        values = tuple(values[0])
    return next((value for value in values if value not in (None, "", b"")), None)


def _find_filter(filters: Any, topic: Any, test: Callable[[str, str], bool]) -> dict[str, Any] | None:
    if not isinstance(filters, list):
        raise SqlRuntimeError(f"{filters!r} is not an array of {{topic, qos}}")
    wanted = string(topic)
    for entry in filters:
        if isinstance(entry, dict) and isinstance(entry.get("topic"), str) and test(entry["topic"], wanted):
            return entry
    return None


def contains_topic(filters: Any, topic: Any, qos: Any = None) -> bool:
    found = _find_filter(filters, topic, lambda have, wanted: have == wanted)
    return found is not None and (qos is None or same(found.get("qos"), qos))


def contains_topic_match(filters: Any, topic: Any, qos: Any = None) -> bool:
    found = _find_filter(filters, topic, lambda have, wanted: matches(have, wanted))
    return found is not None and (qos is None or same(found.get("qos"), qos))


def _topic(columns: dict[str, Any], level: Any = None) -> Any:
    topic = columns.get("topic")
    if level is None or topic is None:
        return topic
    levels = string(topic).split("/")
    index = integer(level)
    if not 0 < index <= len(levels):
        raise SqlRuntimeError(f"the topic has no level {index}")
    return levels[index - 1]


def _payload(columns: dict[str, Any], path: Any = None) -> Any:
    payload = columns.get("payload")
    if path is None:
        return payload
    decoded = decode_json(payload)
    return map_get(path, decoded) if isinstance(decoded, dict) else None


def _flag(columns: dict[str, Any], name: Any) -> Any:
    flags = columns.get("flags")
    return flags.get(string(name)) if isinstance(flags, dict) else None


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "uuid_v4": lambda: str(uuid.uuid4()),
    "uuid_v4_no_hyphen": lambda: uuid.uuid4().hex,
    "getenv": getenv,
    "null": lambda: None,
    "coalesce": coalesce,
    "coalesce_ne": coalesce_ne,
    "contains_topic": contains_topic,
    "contains_topic_match": contains_topic_match,
    "eq": same,
}

CONTEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "msgid": lambda columns: columns.get("id"),
    "qos": lambda columns: columns.get("qos"),
    "flags": lambda columns: columns.get("flags") or {},
    "flag": _flag,
    "topic": _topic,
    "clientid": lambda columns: columns.get("clientid"),
    "username": lambda columns: columns.get("username"),
    "clientip": lambda columns: columns.get("peerhost"),
    "peerhost": lambda columns: columns.get("peerhost"),
    "payload": _payload,
}
