"""The in-process client: publish and subscribe from Python code in the broker's process.

The HTTP publish endpoint, the rule engine's republish and ``$SYS`` use it. It
has a session like any client, so routing, shared groups and retained
messages treat it the same; its outlet calls a Python callback instead of
writing bytes, and acknowledges QoS 1/2 deliveries at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from brookmq.core.message import Message
from brookmq.core.session import Session
from brookmq.core.subscribe_flow import check_filter
from brookmq.core.text import unencodable
from brookmq.mqtt.errors import ProtocolError
from brookmq.mqtt.packets import SubscriptionOptions
from brookmq.mqtt.reason_codes import SUCCESS
from brookmq.mqtt.topics import matches, topic_name_problem

if TYPE_CHECKING:
    from brookmq.core.broker import Broker

log = logging.getLogger("brookmq.client")

Callback = Callable[[Message], Any]


class LocalClient:
    writable = True
    inflight_limit = 65535

    def __init__(self, broker: Broker, client_id: str) -> None:
        self.broker = broker
        self.client_id = client_id
        self._session: Session | None = None  # made on the first subscribe
        self._callbacks: dict[str, Callback] = {}
        # Topics this client published to that passed the checks, under the max_topic_levels
        # they were checked with: a client that publishes to the same topics (a rule's
        # republish, $SYS) checks each once.
        self._checked: set[str] = set()
        self._checked_levels = -1

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session, _ = self.broker.open_session(self, self.client_id, True, 0)
            self._session.connection = self
        return self._session

    def publish(
        self,
        topic: str,
        payload: bytes | str,
        qos: int = 0,
        retain: bool = False,
        properties: dict[str, Any] | None = None,
        username: str | None = None,
    ) -> int:
        """Publish like a client would; returns how many subscribers got the message. The
        broker's own ``$SYS/`` topics are not held to ``max_topic_levels`` (a client's limit)."""
        self._check_topic(topic)
        if retain and not self.broker.options.retain_available:
            raise ValueError("retain is not available")
        where = unencodable({"properties": properties}) if properties else None
        if where is not None:
            raise ValueError(f"{where}: is not valid UTF-8 text (a lone surrogate)")
        data = payload.encode() if isinstance(payload, str) else payload
        now = self.broker.clock.time()
        message = Message(topic, data, qos, retain, properties, self.client_id, username, now)
        return self.broker.publish(message)

    def _check_topic(self, topic: str) -> None:
        max_levels = self.broker.options.max_topic_levels
        if max_levels != self._checked_levels or len(self._checked) >= 1024:
            self._checked.clear()
            self._checked_levels = max_levels
        if topic in self._checked:
            return
        problem = topic_name_problem(topic, 0 if topic.startswith("$SYS/") else max_levels)
        if problem:
            raise ValueError(problem)
        where = unencodable({"topic": topic})
        if where is not None:
            raise ValueError(f"{where}: is not valid UTF-8 text (a lone surrogate)")
        self._checked.add(topic)

    def subscribe(self, topic_filter: str, callback: Callback, qos: int = 0) -> None:
        """Call ``callback(message)`` for every message matching ``topic_filter``."""
        code, real, group = check_filter(self.broker.options, topic_filter)
        if code != SUCCESS:
            raise ProtocolError(code, f"cannot subscribe to {topic_filter!r}")
        existed = topic_filter in self.session.subscriptions
        self._callbacks[topic_filter] = callback
        sub = self.broker.subscribe(self.session, topic_filter, real, group, SubscriptionOptions(qos))
        self.broker.deliver_retained(self.session, sub, existed)

    def unsubscribe(self, topic_filter: str) -> bool:
        self._callbacks.pop(topic_filter, None)
        return self.broker.unsubscribe(self.session, topic_filter)

    def close(self) -> None:
        if self._session is not None:
            self.broker.terminate(self._session, "closed")
            self._session = None

    # ---------------------------------------------------------- outlet

    def send_publish(
        self,
        message: Message,
        qos: int,
        retain: bool,
        sub_ids: tuple[int, ...],
        packet_id: int,
        dup: bool = False,
    ) -> bool:
        for topic_filter, callback in list(self._callbacks.items()):
            sub = self.session.subscriptions.get(topic_filter)
            if sub is not None and matches(sub.real_filter, message.topic):
                try:
                    callback(message)
                except Exception:
                    log.exception("in-process subscriber %r failed", self.client_id)
        # Handled already: acknowledge at once (the window never fills, so nothing queues).
        if qos == 1:
            self.session.puback(packet_id)
        elif qos == 2 and self.session.pubrec(packet_id, False) is not None:
            self.session.pubcomp(packet_id)
        return True

    def send_pubrel(self, packet_id: int) -> None:
        self.session.pubcomp(packet_id)

    def hold(self, send: Callable[[], None]) -> None:
        send()  # an in-process client's session is never persistent: nothing to wait for

    def evict(self, reason: str) -> None:
        if self._session is not None:
            self._session.connection = None
            self._session = None
