"""``/mqtt/publish``, ``/mqtt/subscribe``, ``/mqtt/unsubscribe`` and their ``_batch`` forms, with
EMQX 4.x's parameters and codes (reference 2.2): invalid topic names are left out of ``topics``,
none left is 115; a QoS outside 0..2 is 116; an offline client 112; wrong types 108."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from brookmq.api.legacy.framework import (
    BAD_QOS,
    BAD_TOPIC,
    CLIENT_OFFLINE,
    MISSING_PARAM,
    PARAM_TYPE,
    UNKNOWN,
    Call,
    LegacyError,
    Ok,
    Route,
)
from brookmq.mqtt import reason_codes as rc
from brookmq.mqtt.topics import topic_name_problem
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.publish import Refused


def _topics(params: dict[str, Any]) -> list[str]:
    """``topic`` or ``topics`` (``"a,b,c"``), as given."""
    if "topics" in params:
        given = params["topics"]
        if not isinstance(given, str):
            raise LegacyError(PARAM_TYPE, "bad topics: must be a string like a,b,c")
        return [t.strip() for t in given.split(",") if t.strip()]
    topic = params.get("topic")
    if topic is None:
        raise LegacyError(MISSING_PARAM, "missing mandatory params: ['topic']")
    if not isinstance(topic, str):
        raise LegacyError(PARAM_TYPE, "bad topic: must be a string")
    return [topic]


def _clientid(params: dict[str, Any], required: bool) -> str | None:
    clientid = params.get("clientid")
    if clientid is None:
        if required:
            raise LegacyError(MISSING_PARAM, "missing mandatory params: ['clientid']")
        return None
    if not isinstance(clientid, str):
        raise LegacyError(PARAM_TYPE, "bad clientid: must be string")
    return clientid


def _qos(params: dict[str, Any]) -> int:
    qos = params.get("qos", 0)
    if isinstance(qos, str) and qos.isdigit():
        qos = int(qos)
    if not isinstance(qos, int) or isinstance(qos, bool) or not 0 <= qos <= 2:
        raise LegacyError(BAD_QOS, "bad_qos")
    return qos


def _publish_one(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Publishes to every valid topic; ``{"msgid"}`` or ``{"msgids"}`` of what was published."""
    topics = [t for t in _topics(params) if not topic_name_problem(t)]
    if not topics:
        raise LegacyError(BAD_TOPIC, "bad_topic")
    clientid = _clientid(params, required=False)
    payload = params.get("payload", "")
    if isinstance(payload, dict | list) or not isinstance(payload, str):
        payload = json.dumps(payload)
    encoding = params.get("encoding", "plain")
    if encoding not in ("plain", "base64"):
        raise LegacyError(PARAM_TYPE, "bad encoding: must be plain or base64")
    retain = params.get("retain", False)
    if isinstance(retain, str):
        retain = retain.lower() == "true"
    properties = params.get("properties") or {}
    user_properties = params.get("user_properties")
    if not isinstance(properties, dict) or not isinstance(user_properties or {}, dict):
        raise LegacyError(PARAM_TYPE, "bad_params")
    if user_properties:
        merged = {**(properties.get("user_properties") or {}), **user_properties}
        properties = {**properties, "user_properties": merged}
    qos = _qos(params)
    publisher = call.services.publisher
    ids = []
    for topic in topics:
        try:
            system = call.role == "administrator"  # publisher apps may not pose as the broker
            message = publisher.prepare(
                topic, payload, encoding, qos, bool(retain), properties, system=system
            )
        except Refused as exc:
            if exc.reason_code == rc.TOPIC_NAME_INVALID:
                raise LegacyError(BAD_TOPIC, "bad_topic") from None
            code = PARAM_TYPE if exc.reason_code == rc.IMPLEMENTATION_SPECIFIC_ERROR else UNKNOWN
            raise LegacyError(code, exc.message) from None
        if clientid is not None:
            message.origin = clientid
        outcome = publisher.publish(message)
        ids.append(outcome.id or uuid.uuid4().hex.upper())  # EMQX 4 names the message, delivered or not
    return {"msgid": ids[0]} if "topics" not in params else {"msgids": ids}


def publish(call: Call) -> Ok:
    published = _publish_one(call, call.params)
    return Ok(published if "return" in call.params else None)


def _on_behalf(
    act: Callable[[Call, str, str, dict[str, Any]], object],
) -> Callable[[Call, dict[str, Any]], None]:
    """Subscribe or unsubscribe a connected client to each of the given topics."""

    def one(call: Call, params: dict[str, Any]) -> None:
        clientid = _clientid(params, required=True)
        assert clientid is not None
        for topic in _topics(params):
            try:
                act(call, clientid, topic, params)
            except NotFound:
                raise LegacyError(CLIENT_OFFLINE, "client_not_online") from None
            except Invalid:
                raise LegacyError(BAD_TOPIC, "bad_topic") from None

    return one


_subscribe_one = _on_behalf(lambda call, c, topic, p: call.services.clients.subscribe(c, topic, _qos(p)))
_unsubscribe_one = _on_behalf(lambda call, c, topic, p: call.services.clients.unsubscribe(c, topic))


def _single(do: Callable[[Call, dict[str, Any]], object]) -> Callable[[Call], Ok]:
    def run(call: Call) -> Ok:
        do(call, call.params)
        return Ok()

    return run


subscribe, unsubscribe = _single(_subscribe_one), _single(_unsubscribe_one)


def _batch(do: Any, keys: tuple[str, ...]) -> Any:
    """A batch route: a JSON array of what the single route takes; one result per item."""

    def run(call: Call) -> Ok:
        if not isinstance(call.body, list):
            raise LegacyError(PARAM_TYPE, "bad_params: the body must be a JSON array")
        results = []
        for item in call.body:
            row = {k: item.get(k) for k in keys} if isinstance(item, dict) else {}
            if not isinstance(item, dict):
                results.append({"code": PARAM_TYPE, "message": "bad_params"})
                continue
            try:
                do(call, item)
            except LegacyError as exc:
                results.append({**row, "code": exc.code, "message": exc.message})
            else:
                results.append({**row, "code": 0})
        return Ok(results)

    return run


ROUTES = [
    Route("mqtt_publish", "POST", "/mqtt/publish", publish, "Publish a MQTT message"),
    Route("mqtt_subscribe", "POST", "/mqtt/subscribe", subscribe, "Subscribe a topic"),
    Route("mqtt_unsubscribe", "POST", "/mqtt/unsubscribe", unsubscribe, "Unsubscribe a topic"),
    Route(
        "mqtt_publish_batch", "POST", "/mqtt/publish_batch", _batch(_publish_one, ("topic",)), "Batch publish"
    ),
    Route(
        "mqtt_subscribe_batch",
        "POST",
        "/mqtt/subscribe_batch",
        _batch(_subscribe_one, ("clientid", "topic")),
        "Batch subscribes",
    ),
    Route(
        "mqtt_unsubscribe_batch",
        "POST",
        "/mqtt/unsubscribe_batch",
        _batch(_unsubscribe_one, ("clientid", "topic")),
        "Batch unsubscribes",
    ),
]
