"""Retained messages and delayed publishes, as the management API lists and removes them
(``/mqtt/retainer``, ``/mqtt/delayed``). Message ids are 32 hex digits: a retained message's
is its identity in memory, a delayed message's its key in the store (it survives a restart)."""

from __future__ import annotations

from typing import Any

from brookmq.core.broker import Broker
from brookmq.core.message import Message
from brookmq.extensions.delayed import DelayedPublish
from brookmq.mqtt.topics import has_wildcard, topic_filter_problem, topic_name_problem
from brookmq.service.configs import ConfigPort
from brookmq.service.errors import Invalid, NotFound
from brookmq.service.messages import message_info
from brookmq.service.paging import Page, page_of


class Retainer:
    """The ``retainer`` settings root (changed through the ``ConfigPort``) and the messages."""

    def __init__(self, broker: Broker, config: ConfigPort) -> None:
        self.broker = broker
        self.config_port = config

    def config(self) -> dict[str, Any]:
        return self.config_port.get("retainer")

    async def configure(self, patch: Any) -> dict[str, Any]:
        if not isinstance(patch, dict):
            raise Invalid("must be an object", "body")
        return await self.config_port.merge("retainer", patch)

    def find(self, topic: str | None, page: int, limit: int) -> Page:
        """Every retained message, or those a topic filter matches (then no ``count``)."""
        retained = self.broker.retained
        if topic is None:
            rows = (message_info(m) for m in retained.messages())
            return page_of(rows, page, limit, retained.count)
        return page_of((message_info(m) for m in self._match(topic)), page, limit)

    def _match(self, topic_filter: str) -> list[Message]:
        if topic_filter_problem(topic_filter):
            raise Invalid("not a valid topic filter", "topic")
        now = self.broker.clock.time()
        return [m for m in self.broker.retained.match(topic_filter) if not m.expired(now)]

    def get(self, topic_filter: str) -> tuple[dict[str, Any], bytes]:
        """The first message the filter matches, and its payload."""
        found = self._match(topic_filter)
        if not found:
            raise NotFound("Viewed message doesn't exist")
        return message_info(found[0]), found[0].payload

    def delete(self, topic_filter: str) -> None:
        """Remove the retained messages the filter matches."""
        found = self._match(topic_filter)
        if not found:
            raise NotFound("Viewed message doesn't exist")
        for message in found:
            self.broker.delete_retained(message.topic)

    def clear(self) -> None:
        for message in list(self.broker.retained.messages()):
            self.broker.delete_retained(message.topic)


class Delayed:
    """The ``delayed`` settings root (changed through the ``ConfigPort``) and the messages."""

    def __init__(self, broker: Broker, delayed: DelayedPublish, config: ConfigPort) -> None:
        self.broker = broker
        self.delayed = delayed
        self.config_port = config

    def config(self) -> dict[str, Any]:
        return self.config_port.get("delayed")

    async def configure(self, enable: bool | None, max_delayed_messages: int | None) -> dict[str, Any]:
        if max_delayed_messages is not None and max_delayed_messages < 0:
            raise Invalid("Max delayed must be equal or greater than 0")
        patch = {"enable": enable, "max_delayed_messages": max_delayed_messages}
        return await self.config_port.merge("delayed", {k: v for k, v in patch.items() if v is not None})

    def _info(self, key: int) -> dict[str, Any]:
        entry = self.delayed.messages[key]
        message = entry.message
        info = message_info(message, format(key, "032X"))
        info["node"] = self.broker.node_name
        info["delayed_interval"] = round(entry.due_at - message.timestamp)
        info["delayed_remaining"] = max(0, round(entry.due_at - self.broker.clock.time()))
        info["expected_at"] = entry.due_at
        return info

    def find(self, page: int, limit: int) -> Page:
        messages = self.delayed.messages
        return page_of((self._info(k) for k in messages), page, limit, len(messages))

    def _key(self, node: str, msgid: str) -> int:
        try:
            key = int(msgid, 16)
        except ValueError:
            raise Invalid("must be hexadecimal", "msgid") from None
        if node != self.broker.node_name:
            raise Invalid(f"unknown node {node}", "node")
        if key not in self.delayed.messages:
            raise NotFound("Message ID not found", "message_id")
        return key

    def get(self, node: str, msgid: str) -> tuple[dict[str, Any], bytes]:
        key = self._key(node, msgid)
        return self._info(key), self.delayed.messages[key].message.payload

    def delete(self, node: str, msgid: str) -> None:
        self.delayed.delete(self._key(node, msgid))

    def delete_topic(self, topic: str) -> None:
        """Withdraw every delayed message to ``topic`` (a topic name, not a filter)."""
        if has_wildcard(topic) or topic_name_problem(topic):
            raise Invalid("a topic name without wildcards", "topic")
        keys = [k for k, e in self.delayed.messages.items() if e.message.topic == topic]
        if not keys:
            raise NotFound("Message not found", "message")
        for key in keys:
            self.delayed.delete(key)
