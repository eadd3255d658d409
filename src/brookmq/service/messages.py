"""A message as the management API lists it (queued, in flight, retained or delayed)."""

from __future__ import annotations

from typing import Any

from brookmq.core.message import Message


def message_id(message: Message) -> str:
    """32 hex digits: the message's identity in memory (stable while the broker runs)."""
    return format(id(message), "032X")


def message_info(message: Message, msgid: str | None = None) -> dict[str, Any]:
    """``{msgid, topic, qos, publish_at, from_clientid, from_username}``; times in epoch
    seconds, no payload."""
    return {
        "msgid": message_id(message) if msgid is None else msgid,
        "topic": message.topic,
        "qos": message.qos,
        "publish_at": message.timestamp,
        "from_clientid": message.origin,
        "from_username": message.username or "",
    }
