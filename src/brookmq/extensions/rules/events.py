"""What a rule can select from: a published message (``FROM "t/#"``) and the events
(``FROM "$events/client_connected"``), each as EMQX 5.8 names its columns.

Every input has ``event``, ``timestamp`` (ms) and ``node``; a message has ``id``, ``clientid``,
``username``, ``payload``, ``peerhost``, ``peername``, ``topic``, ``qos``, ``flags``,
``headers``, ``pub_props`` (MQTT 5 properties under their wire names, ``User-Property`` as a
map), ``user_property`` and ``publish_received_at``. An :class:`Event` names the hook point it
comes from and builds the columns from that hook's arguments.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brookmq.core.broker import Broker
from brookmq.mqtt import packets as pk
from brookmq.mqtt import reason_codes as rc

MESSAGE_PUBLISH = "message.publish"
EVENT_PREFIX = "$events/"

_REASON_NAMES: dict[int, str] = {}
for _name, _code in vars(rc).items():
    if _name.isupper() and isinstance(_code, int) and not _name.startswith("V3_"):
        _REASON_NAMES.setdefault(_code, _name.lower())

_PROPERTY_NAMES = {
    "payload_format_indicator": "Payload-Format-Indicator",
    "message_expiry_interval": "Message-Expiry-Interval",
    "content_type": "Content-Type",
    "response_topic": "Response-Topic",
    "correlation_data": "Correlation-Data",
    "subscription_identifier": "Subscription-Identifier",
    "topic_alias": "Topic-Alias",
}


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


def _text(payload: bytes) -> str | bytes:
    try:
        return payload.decode()
    except UnicodeDecodeError:
        return payload


def user_properties(properties: dict[str, Any] | None) -> dict[str, str]:
    return dict(properties.get("user_property", ())) if properties else {}


def pub_props(properties: dict[str, Any] | None) -> dict[str, Any]:
    if not properties:
        return {"User-Property": {}}
    out: dict[str, Any] = {"User-Property": user_properties(properties)}
    for name, value in properties.items():
        if name in _PROPERTY_NAMES:
            out[_PROPERTY_NAMES[name]] = _text(value) if isinstance(value, bytes) else value
    return out


def _basic(broker: Broker, event: str) -> dict[str, Any]:
    return {"event": event, "timestamp": _ms(time.time()), "node": broker.node_name}


def _peername(conn: Any) -> str | None:
    return f"{conn.peerhost}:{conn.peerport}" if conn is not None and conn.peerhost else None


def _connection_of(broker: Broker, client_id: str | None) -> Any:
    session = broker.sessions.get(client_id) if client_id else None
    conn = session.connection if session is not None else None
    return conn if conn is not None and hasattr(conn, "peerhost") else None


# A message's id, unique to this process's run: a random prefix and a counter (EMQX's are GUIDs).
_ID_PREFIX = os.urandom(8).hex().upper()
_ids = itertools.count(1)


def message_columns(broker: Broker, message: Any, event: str = MESSAGE_PUBLISH) -> dict[str, Any]:
    """One dict literal: this runs for every message a rule selects from."""
    session = broker.sessions.get(message.origin) if message.origin else None
    publisher = session.connection if session is not None else None
    peerhost = getattr(publisher, "peerhost", None)
    properties = message.properties
    return {
        "event": event,
        "timestamp": int(time.time() * 1000),
        "node": broker.node_name,
        "id": f"{_ID_PREFIX}{next(_ids):016X}",
        "clientid": message.origin,
        "username": message.username,
        "payload": _text(message.payload),
        "peerhost": peerhost,
        "peername": f"{peerhost}:{getattr(publisher, 'peerport', 0)}" if peerhost else None,
        "topic": message.topic,
        "qos": message.qos,
        "flags": {"retain": message.retain, "dup": False},
        "headers": {},
        "pub_props": pub_props(properties) if properties else {"User-Property": {}},
        "user_property": user_properties(properties) if properties else {},
        "publish_received_at": int(message.timestamp * 1000),
        "client_attrs": {},
    }


def _receiver(broker: Broker, client_id: str, message: Any, event: str) -> dict[str, Any]:
    out = message_columns(broker, message, event)
    receiver = _connection_of(broker, client_id)
    out["from_clientid"], out["from_username"] = out.pop("clientid"), out.pop("username")
    out["clientid"] = client_id
    out["username"] = receiver.username if receiver is not None else None
    out["peerhost"] = receiver.peerhost if receiver is not None else None
    out["peername"] = _peername(receiver)
    return out


def _client(broker: Broker, conn: Any, event: str) -> dict[str, Any]:
    return {
        **_basic(broker, event),
        "clientid": conn.client_id,
        "username": conn.username,
        "mountpoint": conn.mountpoint or None,
        "peername": _peername(conn),
        "peerhost": conn.peerhost,
        "sockname": None,
        "proto_name": "MQIsdp" if conn.version == pk.MQTT_3_1 else "MQTT",
        "proto_ver": conn.version,
        "keepalive": conn.keepalive,
        "clean_start": conn.clean_start,
        "is_bridge": False,
        "connected_at": _ms(conn.connected_at) if conn.connected_at else None,
        "client_attrs": {},
    }


def connected(broker: Broker, conn: Any) -> dict[str, Any]:
    session = conn.session
    return {
        **_client(broker, conn, "client.connected"),
        "expiry_interval": int(session.expiry_interval) if session is not None else 0,
        "receive_maximum": conn.inflight_limit,
        "conn_props": {"User-Property": {}},
    }


def disconnected(broker: Broker, conn: Any, reason: str) -> dict[str, Any]:
    return {
        **_client(broker, conn, "client.disconnected"),
        "reason": reason,
        "disconnected_at": _ms(conn.disconnected_at or time.time()),
        "disconn_props": {"User-Property": {}},
    }


def connack(broker: Broker, conn: Any, reason_code: int) -> dict[str, Any]:
    return {
        **_client(broker, conn, "client.connack"),
        "reason_code": _REASON_NAMES.get(reason_code, str(reason_code)),
        "expiry_interval": 0,
        "conn_props": {"User-Property": {}},
    }


def _subscriber(broker: Broker, session: Any, topic: str, event: str) -> dict[str, Any]:
    conn = session.connection if hasattr(session.connection, "peerhost") else None
    return {
        **_basic(broker, event),
        "clientid": session.client_id,
        "username": conn.username if conn is not None else None,
        "peerhost": conn.peerhost if conn is not None else None,
        "peername": _peername(conn),
        "topic": topic,
        "client_attrs": {},
    }


def subscribed(broker: Broker, session: Any, topic: str, options: Any) -> dict[str, Any]:
    return {**_subscriber(broker, session, topic, "session.subscribed"), "qos": options.qos, "sub_props": {}}


def unsubscribed(broker: Broker, session: Any, topic: str) -> dict[str, Any]:
    sub = session.subscriptions.get(topic)
    qos = sub.options.qos if sub is not None else 0
    return {**_subscriber(broker, session, topic, "session.unsubscribed"), "qos": qos, "unsub_props": {}}


def delivered(broker: Broker, client_id: str, message: Any) -> dict[str, Any]:
    return _receiver(broker, client_id, message, "message.delivered")


def acked(broker: Broker, client_id: str, message: Any) -> dict[str, Any]:
    return {**_receiver(broker, client_id, message, "message.acked"), "puback_props": {}}


def message_dropped(broker: Broker, message: Any, reason: str) -> dict[str, Any]:
    return {**message_columns(broker, message, "message.dropped"), "reason": reason}


def delivery_dropped(broker: Broker, client_id: str, message: Any, reason: str) -> dict[str, Any]:
    return {**_receiver(broker, client_id, message, "delivery.dropped"), "reason": reason}


def authn_complete(broker: Broker, conn: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {
        **_basic(broker, "client.check_authn_complete"),
        "clientid": conn.client_id,
        "username": conn.username,
        "peername": _peername(conn),
        "reason_code": _REASON_NAMES.get(result["reason_code"], str(result["reason_code"])),
        "is_superuser": result["is_superuser"],
        "is_anonymous": result["is_anonymous"],
        "client_attrs": {},
    }


def authz_complete(
    broker: Broker, conn: Any, action: str, topic: str, result: str, source: str
) -> dict[str, Any]:
    return {
        **_basic(broker, "client.check_authz_complete"),
        "clientid": conn.client_id,
        "username": conn.username,
        "peerhost": conn.peerhost,
        "peername": _peername(conn),
        "topic": topic,
        "action": action,
        "authz_source": source,
        "result": result,
        "client_attrs": {},
    }


def _alarm(broker: Broker, alarm: Any, event: str) -> dict[str, Any]:
    out = {
        **_basic(broker, event),
        "name": alarm.name,
        "details": alarm.details,
        "message": alarm.message,
        "activated_at": _ms(alarm.activate_at),
    }
    if alarm.deactivate_at:
        out["deactivated_at"] = _ms(alarm.deactivate_at)
    return out


def alarm_activated(broker: Broker, alarm: Any) -> dict[str, Any]:
    return _alarm(broker, alarm, "alarm.activated")


def alarm_deactivated(broker: Broker, alarm: Any) -> dict[str, Any]:
    return _alarm(broker, alarm, "alarm.deactivated")


@dataclass(frozen=True, slots=True)
class Event:
    name: str  # EMQX's: client.connected
    point: str  # the broker hook it comes from
    title: str
    description: str
    sql_example: str
    test_columns: dict[str, Any]
    build: Callable[..., dict[str, Any]]
    columns: tuple[str, ...] = field(default=())

    @property
    def topic(self) -> str:
        return EVENT_PREFIX + self.name.replace(".", "_")


_MESSAGE_TEST = {
    "clientid": "c_emqx",
    "username": "u_emqx",
    "topic": "t/a",
    "qos": 1,
    "payload": '{"msg": "hello"}',
}
_RECEIVER_TEST = {
    "from_clientid": "c_emqx_1",
    "from_username": "u_emqx_1",
    "clientid": "c_emqx_2",
    "username": "u_emqx_2",
    "topic": "t/a",
    "qos": 1,
    "payload": '{"msg": "hello"}',
}
_MESSAGE = [
    "id",
    "clientid",
    "username",
    "payload",
    "peerhost",
    "peername",
    "topic",
    "qos",
    "flags",
    "headers",
    "pub_props",
    "user_property",
    "publish_received_at",
    "timestamp",
    "node",
    "event",
]
_RECEIVER = ["from_clientid", "from_username", *_MESSAGE]
_CLIENT = [
    "clientid",
    "username",
    "mountpoint",
    "peername",
    "sockname",
    "proto_name",
    "proto_ver",
    "keepalive",
    "clean_start",
]
_SUBSCRIBER = ["clientid", "username", "peerhost", "peername", "topic", "qos", "timestamp", "node", "event"]


def _event(
    name: str, title: str, sql: str, test: dict[str, Any], build: Any, cols: list[str], point: str = ""
) -> Event:
    """An event from the hook point of its name (``point`` when it differs)."""
    return Event(name, point or name, title, title, sql, test, build, tuple(cols))


EVENTS: dict[str, Event] = {
    event.name: event
    for event in (
        _event(
            MESSAGE_PUBLISH,
            "message publish",
            "SELECT payload.msg as msg FROM \"t/#\" WHERE msg = 'hello'",
            _MESSAGE_TEST,
            message_columns,
            _MESSAGE,
            point="message.published",
        ),
        _event(
            "message.delivered",
            "message delivered",
            "SELECT * FROM \"$events/message_delivered\" WHERE topic =~ 't/#'",
            _RECEIVER_TEST,
            delivered,
            _RECEIVER,
        ),
        _event(
            "message.acked",
            "message acked",
            "SELECT * FROM \"$events/message_acked\" WHERE topic =~ 't/#'",
            _RECEIVER_TEST,
            acked,
            [*_RECEIVER, "puback_props"],
        ),
        _event(
            "message.dropped",
            "message routing-drop",
            "SELECT * FROM \"$events/message_dropped\" WHERE topic =~ 't/#'",
            {"reason": "no_subscribers", **_MESSAGE_TEST},
            message_dropped,
            ["reason", *_MESSAGE],
        ),
        _event(
            "delivery.dropped",
            "message delivery-drop",
            "SELECT * FROM \"$events/delivery_dropped\" WHERE topic =~ 't/#'",
            {"reason": "queue_full", **_RECEIVER_TEST},
            delivery_dropped,
            ["reason", *_RECEIVER],
        ),
        _event(
            "client.connected",
            "client connected",
            'SELECT * FROM "$events/client_connected"',
            {"clientid": "c_emqx", "username": "u_emqx", "peername": "127.0.0.1:52918"},
            connected,
            [*_CLIENT, "expiry_interval", "receive_maximum", "is_bridge", "conn_props", "connected_at"],
        ),
        _event(
            "client.disconnected",
            "client disconnected",
            'SELECT * FROM "$events/client_disconnected"',
            {"clientid": "c_emqx", "username": "u_emqx", "reason": "normal"},
            disconnected,
            ["reason", *_CLIENT, "disconn_props", "disconnected_at", "connected_at"],
        ),
        _event(
            "client.connack",
            "client connack",
            'SELECT * FROM "$events/client_connack"',
            {"clientid": "c_emqx", "username": "u_emqx", "reason_code": "success"},
            connack,
            ["reason_code", *_CLIENT, "expiry_interval", "conn_props", "connected_at"],
        ),
        _event(
            "client.check_authn_complete",
            "authentication complete",
            'SELECT * FROM "$events/client_check_authn_complete"',
            {
                "clientid": "c_emqx",
                "username": "u_emqx",
                "reason_code": "success",
                "is_superuser": True,
                "is_anonymous": False,
            },
            authn_complete,
            [
                "clientid",
                "username",
                "peername",
                "reason_code",
                "is_superuser",
                "is_anonymous",
                "timestamp",
                "node",
                "event",
            ],
        ),
        _event(
            "client.check_authz_complete",
            "authorization complete",
            "SELECT * FROM \"$events/client_check_authz_complete\" WHERE result = 'deny'",
            {
                "clientid": "c_emqx",
                "username": "u_emqx",
                "topic": "t/1",
                "action": "publish",
                "result": "allow",
            },
            authz_complete,
            [
                "clientid",
                "username",
                "peerhost",
                "peername",
                "topic",
                "action",
                "authz_source",
                "result",
                "timestamp",
                "node",
                "event",
            ],
        ),
        _event(
            "alarm.activated",
            "alarm activated",
            'SELECT * FROM "$events/alarm_activated"',
            {
                "name": "alarm_name",
                "details": {"extra": "details"},
                "message": "something is wrong",
                "activated_at": 1736512728666,
            },
            alarm_activated,
            ["name", "details", "message", "activated_at", "timestamp", "node", "event"],
        ),
        _event(
            "alarm.deactivated",
            "alarm deactivated",
            'SELECT * FROM "$events/alarm_deactivated"',
            {
                "name": "alarm_name",
                "details": {"extra": "details"},
                "message": "something is wrong",
                "activated_at": 1736512728666,
                "deactivated_at": 1736512728999,
            },
            alarm_deactivated,
            ["name", "details", "message", "activated_at", "deactivated_at", "timestamp", "node", "event"],
        ),
        _event(
            "session.subscribed",
            "session subscribed",
            "SELECT * FROM \"$events/session_subscribed\" WHERE topic =~ 't/#'",
            {"clientid": "c_emqx", "username": "u_emqx", "topic": "t/a", "qos": 1},
            subscribed,
            [*_SUBSCRIBER, "sub_props"],
        ),
        _event(
            "session.unsubscribed",
            "session unsubscribed",
            "SELECT * FROM \"$events/session_unsubscribed\" WHERE topic =~ 't/#'",
            {"clientid": "c_emqx", "username": "u_emqx", "topic": "t/a", "qos": 1},
            unsubscribed,
            [*_SUBSCRIBER, "unsub_props"],
        ),
    )
}
BY_TOPIC: dict[str, Event] = {
    event.topic: event for event in EVENTS.values() if event.name != MESSAGE_PUBLISH
}


def event_type(name: str) -> Event | None:
    """An event by its test-context name (``message_publish``, ``client_connected``) or EMQX's."""
    return EVENTS.get(name.replace("_", ".", 1)) or EVENTS.get(name)
