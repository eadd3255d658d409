"""Delayed publish, like EMQX's: a PUBLISH to ``$delayed/<seconds>/<topic>`` is kept
and published to ``<topic>`` once ``<seconds>`` have passed.

The messages are recorded in the broker's store, so they survive a restart; one
that fell due while the broker was down is published at start-up. A topic that
does not have that form (``$delayed/soon/t``, no topic after the interval, an
interval above 4294967 s) is published as it is, like EMQX does.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from brookmq.core.broker import Broker
from brookmq.core.message import Message

log = logging.getLogger("brookmq.delayed")

PREFIX = "$delayed/"
MAX_INTERVAL = 4_294_967  # seconds, EMQX's limit


@dataclass(slots=True)
class DelayedMessage:
    key: int
    due_at: float  # wall-clock seconds
    message: Message  # with its real topic
    handle: asyncio.TimerHandle | None = None


def parse_delayed(topic: str) -> tuple[int, str] | None:
    """``(seconds, topic)`` of a ``$delayed/<seconds>/<topic>`` topic, or None."""
    if not topic.startswith(PREFIX):
        return None
    interval, _, real = topic[len(PREFIX) :].partition("/")
    if not interval.isdigit() or not real or int(interval) > MAX_INTERVAL:
        return None
    return int(interval), real


class DelayedPublish:
    """Takes ``$delayed/...`` messages through the broker's interceptors (not a message.publish
    hook: that would cost every message a call)."""

    def __init__(self, broker: Broker, max_delayed_messages: int = 0) -> None:
        self.broker = broker
        self.max_delayed_messages = max_delayed_messages  # 0 = no limit
        self.messages: dict[int, DelayedMessage] = {}
        self._next_key = 1  # used when the broker has no store

    def start(self) -> None:
        """Take back the stored delayed messages and start delaying new ones."""
        store = self.broker.store
        if store is not None:
            for stored in store.load_delayed():
                self._schedule(DelayedMessage(stored.key, stored.due_at, stored.message))
        self.broker.interceptors["$delayed"] = self.take
        self._update_stats()

    @property
    def enabled(self) -> bool:
        return self.broker.interceptors.get("$delayed") == self.take

    def stop(self) -> None:
        """Stop delaying; the stored messages wait for the next start."""
        self.broker.interceptors.pop("$delayed", None)
        for entry in self.messages.values():
            if entry.handle is not None:
                entry.handle.cancel()
        self.messages.clear()

    def take(self, message: Message) -> bool:
        """Keep ``message`` for later; False (route it as it is) when its topic is malformed."""
        parsed = parse_delayed(message.topic)
        if parsed is None:
            return False
        interval, topic = parsed
        broker = self.broker
        if self.max_delayed_messages and len(self.messages) >= self.max_delayed_messages:
            log.warning("delayed message to %r dropped: %d are waiting", topic, len(self.messages))
            broker.counters["messages.dropped"] += 1
            return True
        delayed = Message(
            topic,
            message.payload,
            message.qos,
            message.retain,
            message.properties,
            message.origin,
            message.username,
            message.timestamp,
        )
        due_at = message.timestamp + interval
        if broker.store is not None:
            key = broker.store.save_delayed(due_at, delayed)
        else:
            key = self._next_key
            self._next_key += 1
        broker.counters["messages.delayed"] += 1
        self._schedule(DelayedMessage(key, due_at, delayed))
        self._update_stats()
        return True

    def _schedule(self, entry: DelayedMessage) -> None:
        wait = max(0.0, entry.due_at - self.broker.clock.time())
        entry.handle = asyncio.get_running_loop().call_later(wait, self._fire, entry.key)
        self.messages[entry.key] = entry

    def _fire(self, key: int) -> None:
        entry = self.messages.get(key)
        if entry is None:
            return
        self._forget(key)
        m = entry.message
        now = self.broker.clock.time()
        self.broker.publish(
            Message(m.topic, m.payload, m.qos, m.retain, m.properties, m.origin, m.username, now)
        )

    def delete(self, key: int) -> bool:
        """Withdraw a delayed message before it is published."""
        entry = self.messages.get(key)
        if entry is None:
            return False
        if entry.handle is not None:
            entry.handle.cancel()
        self._forget(key)
        return True

    def _forget(self, key: int) -> None:
        del self.messages[key]
        if self.broker.store is not None:
            self.broker.store.delete_delayed(key)
        self._update_stats()

    def _update_stats(self) -> None:
        self.broker.stats.set("delayed", len(self.messages))
