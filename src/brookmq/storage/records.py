"""Rows: how the core's objects are written down, for every store.

Each table has named columns, the first ``key`` of which identify a row. A
store keeps rows (plain tuples of str, int, float, bytes and None) and turns
them back into objects with the functions here, so the memory and the SQLite
store read and write exactly the same thing.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from brookmq.core.message import Message
from brookmq.core.session import AWAIT_ACK, AWAIT_COMP, Delivery, Subscription
from brookmq.mqtt import properties as P
from brookmq.mqtt.packets import SubscriptionOptions, Will
from brookmq.mqtt.primitives import decode_binary, decode_string, encode_binary, encode_string

Row = tuple[Any, ...]


class Table(NamedTuple):
    name: str
    columns: tuple[str, ...]
    key: int  # how many leading columns form the primary key
    per_client: bool = False  # its first column is a client id (deleted with the session)


SESSIONS = Table(
    "sessions",
    (
        "client_id",
        "expiry_interval",
        "created_at",
        "disconnected_at",
        "username",
        "peerhost",
        "will",
        "will_at",
    ),
    1,
    True,
)
SUBSCRIPTIONS = Table(
    "subscriptions",
    ("client_id", "topic_filter", "real_filter", "share_group", "qos", "no_local", "rap", "rh", "sub_id"),
    2,
    True,
)
DELIVERIES = Table(
    "deliveries",
    ("client_id", "key", "message_id", "qos", "retain", "sub_ids", "packet_id", "state"),
    2,
    True,
)
AWAITING_REL = Table("awaiting_rel", ("client_id", "packet_id", "received_at"), 2, True)
_MESSAGE_COLUMNS = ("topic", "payload", "qos", "retain", "properties", "origin", "username", "timestamp")
MESSAGES = Table("messages", ("id", *_MESSAGE_COLUMNS), 1)
RETAINED = Table("retained", _MESSAGE_COLUMNS, 1)
DELAYED = Table("delayed", ("key", "due_at", *_MESSAGE_COLUMNS), 1)

TABLES = (SESSIONS, SUBSCRIPTIONS, DELIVERIES, AWAITING_REL, MESSAGES, RETAINED, DELAYED)
CLIENT_TABLES = tuple(t for t in TABLES if t.per_client)

# Management data: one table of JSON documents per collection (see core.store.Collection).
COLLECTIONS = (
    "dashboard_users",
    "dashboard_tokens",
    "api_keys",
    "banned",
    "authn_users",
    "acl_rules",
    "rules",
    "resources",
    "actions",
    "plugins",
    "alarms",
    "settings",
    "config_overrides",
)


def collection_table(name: str) -> Table:
    return Table(f"c_{name}", ("key", "doc"), 1)


# ------------------------------------------------------------------ messages


def _properties(props: dict[str, Any] | None) -> bytes | None:
    return P.encode_properties(props) if props else None


def _read_properties(blob: bytes | None, kind: str) -> dict[str, Any] | None:
    if not blob:
        return None
    props, _ = P.decode_properties(blob, 0, len(blob), kind)
    return props


def message_columns(m: Message) -> Row:
    return (
        m.topic,
        m.payload,
        m.qos,
        int(m.retain),
        _properties(m.properties),
        m.origin,
        m.username,
        m.timestamp,
    )


def message_from(columns: Row) -> Message:
    topic, payload, qos, retain, props, origin, username, timestamp = columns
    return Message(
        topic,
        bytes(payload),
        qos,
        bool(retain),
        _read_properties(props, P.PUBLISH),
        origin,
        username,
        timestamp,
    )


# ------------------------------------------------------------------ wills


def will_blob(will: Will | None) -> bytes | None:
    if will is None:
        return None
    return (
        encode_string(will.topic)
        + encode_binary(will.payload)
        + bytes((will.qos, int(will.retain)))
        + P.encode_properties(will.properties)
    )


def will_from(blob: bytes | None) -> Will | None:
    if not blob:
        return None
    blob = bytes(blob)
    end = len(blob)
    topic, pos = decode_string(blob, 0, end)
    payload, pos = decode_binary(blob, pos, end)
    qos, retain = blob[pos], bool(blob[pos + 1])
    props, _ = P.decode_properties(blob, pos + 2, end, P.WILL)
    return Will(topic, payload, qos, retain, props)


# ------------------------------------------------------------------ sessions


def subscription_row(client_id: str, sub: Subscription) -> Row:
    return (
        client_id,
        sub.topic_filter,
        sub.real_filter,
        sub.group,
        sub.qos,
        int(sub.no_local),
        int(sub.rap),
        sub.rh,
        sub.sub_id,
    )


def subscription_from(row: Row) -> Subscription:
    _, topic_filter, real_filter, group, qos, no_local, rap, rh, sub_id = row
    options = SubscriptionOptions(qos, bool(no_local), bool(rap), rh)
    return Subscription(topic_filter, real_filter, group, options, sub_id)


def delivery_row(client_id: str, d: Delivery) -> Row:
    sub_ids = ",".join(map(str, d.sub_ids)) if d.sub_ids else ""
    return (client_id, d.key, d.message.store_id, d.qos, int(d.retain), sub_ids, d.packet_id, d.state)


def delivery_from(row: Row, message: Message) -> Delivery:
    _, key, _, qos, retain, sub_ids, packet_id, state = row
    d = Delivery(message, qos, bool(retain), tuple(int(s) for s in sub_ids.split(",") if s), None)
    d.key = key
    d.packet_id = packet_id
    d.state = AWAIT_COMP if state == AWAIT_COMP else AWAIT_ACK
    return d
