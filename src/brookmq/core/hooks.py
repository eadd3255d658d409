"""Hook points with EMQX's names and three kinds of semantics.

A hook is a :class:`Hook` subclass that overrides the methods of the points it
cares about; the registry works out which those are and precomputes one
dispatch list per point, so the hot path skips points nobody listens to.

=====================  =========  ==============================================
point                  kind       method and meaning of its return value
=====================  =========  ==============================================
client.connect         transform  client_connect(client, props) -> props
client.connack         notify     client_connack(client, reason_code)
client.connected       notify     client_connected(client)
client.disconnected    notify     client_disconnected(client, reason)
client.authenticate    decide     client_authenticate(client, password) -> bool|None, a
                                    CONNACK reason code to refuse with, or an awaitable
                                    of one of those (CONNECT waits for it)
client.authorize       decide     client_authorize(client, action, topic, qos, retain)
                                    -> bool|None
client.enhanced_auth.. decide     client_enhanced_authenticate(client, method, data)
                                    -> (reason_code, data)|None
client.check_authn_.. notify     client_check_authn_complete(client, result)
client.check_authz_.. notify     client_check_authz_complete(client, action, topic,
                                    result, source)
client.subscribe       transform  client_subscribe(client, topics) -> topics
client.unsubscribe     transform  client_unsubscribe(client, topics) -> topics
session.created        notify     session_created(session)
session.subscribed     notify     session_subscribed(session, topic, options)
session.unsubscribed   notify     session_unsubscribed(session, topic)
session.resumed        notify     session_resumed(session)
session.discarded      notify     session_discarded(session)
session.takenover      notify     session_takenover(session)
session.terminated     notify     session_terminated(session, reason)
message.publish        transform  message_publish(message) -> message|None (None drops)
message.published      notify     message_published(message), after it was routed
message.delivered      notify     message_delivered(client_id, message), per receiver
message.acked          notify     message_acked(client_id, message)
message.dropped        notify     message_dropped(message, reason): no subscriber
delivery.dropped       notify     delivery_dropped(client_id, message, reason)
alarm.activated        notify     alarm_activated(alarm)
alarm.deactivated      notify     alarm_deactivated(alarm)
=====================  =========  ==============================================

decide: the first hook that returns a verdict (not None) wins; no verdict means
the default (allow). transform: each hook gets the previous hook's result.
notify: every hook runs; an exception is logged and never raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("brookmq.hooks")

DECIDE, TRANSFORM, NOTIFY = "decide", "transform", "notify"

HOOK_POINTS: dict[str, str] = {
    "client.connect": TRANSFORM,
    "client.connack": NOTIFY,
    "client.connected": NOTIFY,
    "client.disconnected": NOTIFY,
    "client.authenticate": DECIDE,
    "client.authorize": DECIDE,
    "client.enhanced_authenticate": DECIDE,
    "client.check_authn_complete": NOTIFY,
    "client.check_authz_complete": NOTIFY,
    "client.subscribe": TRANSFORM,
    "client.unsubscribe": TRANSFORM,
    "session.created": NOTIFY,
    "session.subscribed": NOTIFY,
    "session.unsubscribed": NOTIFY,
    "session.resumed": NOTIFY,
    "session.discarded": NOTIFY,
    "session.takenover": NOTIFY,
    "session.terminated": NOTIFY,
    "message.publish": TRANSFORM,
    "message.published": NOTIFY,
    "message.delivered": NOTIFY,
    "message.acked": NOTIFY,
    "message.dropped": NOTIFY,
    "delivery.dropped": NOTIFY,
    "alarm.activated": NOTIFY,
    "alarm.deactivated": NOTIFY,
}


def method_name(point: str) -> str:
    return point.replace(".", "_")


class Hook:
    """Base class: every method is a no-op with the default result."""

    def client_connect(self, client: Any, props: dict[str, Any]) -> dict[str, Any]:
        return props

    def client_connack(self, client: Any, reason_code: int) -> None: ...
    def client_connected(self, client: Any) -> None: ...
    def client_disconnected(self, client: Any, reason: str) -> None: ...

    def client_authenticate(self, client: Any, password: bytes | None) -> Any:
        return None

    def client_authorize(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool | None:
        return None

    def client_enhanced_authenticate(
        self, client: Any, method: str, data: bytes | None
    ) -> tuple[int, bytes | None] | None:
        return None

    def client_check_authn_complete(self, client: Any, result: dict[str, Any]) -> None: ...
    def client_check_authz_complete(
        self, client: Any, action: str, topic: str, result: str, source: str
    ) -> None: ...

    def client_subscribe(self, client: Any, topics: list[Any]) -> list[Any]:
        return topics

    def client_unsubscribe(self, client: Any, topics: list[str]) -> list[str]:
        return topics

    def session_created(self, session: Any) -> None: ...
    def session_subscribed(self, session: Any, topic: str, options: Any) -> None: ...
    def session_unsubscribed(self, session: Any, topic: str) -> None: ...
    def session_resumed(self, session: Any) -> None: ...
    def session_discarded(self, session: Any) -> None: ...
    def session_takenover(self, session: Any) -> None: ...
    def session_terminated(self, session: Any, reason: str) -> None: ...

    def message_publish(self, message: Any) -> Any:
        return message

    def message_published(self, message: Any) -> None: ...
    def message_delivered(self, client_id: str, message: Any) -> None: ...
    def message_acked(self, client_id: str, message: Any) -> None: ...
    def message_dropped(self, message: Any, reason: str) -> None: ...
    def delivery_dropped(self, client_id: str, message: Any, reason: str) -> None: ...
    def alarm_activated(self, alarm: Any) -> None: ...
    def alarm_deactivated(self, alarm: Any) -> None: ...


class Hooks:
    """The registry: one precomputed list of bound methods per hook point."""

    def __init__(self) -> None:
        self._hooks: list[tuple[int, Hook]] = []
        self._lists: dict[str, list[Callable[..., Any]]] = {}
        self._rebuild()

    def add(self, hook: Hook, priority: int = 0) -> None:
        """Register ``hook``; higher priority runs first (decide: gets the first say)."""
        self._hooks.append((priority, hook))
        self._hooks.sort(key=lambda item: -item[0])
        self._rebuild()

    def remove(self, hook: Hook) -> None:
        self._hooks = [(p, h) for p, h in self._hooks if h is not hook]
        self._rebuild()

    def listeners(self, point: str) -> list[Callable[..., Any]]:
        """The dispatch list for ``point``; empty when no hook overrides it.

        The list object stays the same for the registry's life (it is updated in
        place), so the hot path may keep a reference to it.
        """
        return self._lists[point]

    def _rebuild(self) -> None:
        for point in HOOK_POINTS:
            name = method_name(point)
            base = getattr(Hook, name)
            fns = [getattr(h, name) for _, h in self._hooks if getattr(type(h), name) is not base]
            self._lists.setdefault(point, [])[:] = fns

    @staticmethod
    def decide(fns: list[Callable[..., Any]], *args: Any) -> Any:
        for fn in fns:
            verdict = fn(*args)
            if verdict is not None:
                return verdict
        return None

    @staticmethod
    def fold(fns: list[Callable[..., Any]], value: Any, *args: Any) -> Any:
        for fn in fns:
            value = fn(*args, value) if args else fn(value)
            if value is None:
                return None
        return value

    @staticmethod
    def notify(fns: list[Callable[..., Any]], *args: Any) -> None:
        for fn in fns:
            try:
                fn(*args)
            except Exception:
                log.exception("hook %s failed", getattr(fn, "__qualname__", fn))
