"""The Broker: the one owner of routing state.

Network connections, the in-process client, ``$SYS`` and (later) the HTTP
publish endpoint and the rule engine all publish and subscribe through it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from brookmq.core import authz_cache
from brookmq.core.alarms import Alarms
from brookmq.core.client import LocalClient
from brookmq.core.clock import Clock
from brookmq.core.hooks import Hooks
from brookmq.core.message import Message
from brookmq.core.metrics import Stats, new_counters
from brookmq.core.options import NEVER_EXPIRE, MqttOptions, RetainerOptions
from brookmq.core.retained import RetainedIndex
from brookmq.core.router import Router
from brookmq.core.session import Session, Subscription
from brookmq.core.store import Store, StoredSession
from brookmq.mqtt.packets import MQTT_5, SubscriptionOptions, Will

QUEUE_ALARM = "high_queued_bytes"
log = logging.getLogger("brookmq.broker")


@dataclass(slots=True)
class WillOwner:
    """Who a will restored from the store belongs to, for its authorization and origin."""

    client_id: str
    username: str | None
    peerhost: str
    disconnected_at: float = 0.0
    is_superuser: bool = False
    authz_cache: dict[Any, Any] | None = None


class Broker:
    def __init__(
        self,
        options: MqttOptions | None = None,
        node_name: str = "brookmq@127.0.0.1",
        clock: Clock | None = None,
        store: Store | None = None,
        ack_after_commit: bool = True,
    ) -> None:
        self.options = options or MqttOptions()
        self.node_name = node_name
        self.clock = clock or Clock()
        self.alarms = Alarms(self.clock)
        self.alarms.listeners.append(self._alarm_changed)
        # Persistent sessions, retained and delayed messages are recorded here; None keeps
        # everything in memory only. With ack_after_commit a PUBACK/PUBREC/PUBCOMP that
        # acknowledges a recorded change waits until the store committed it.
        self.store = store
        self.hold_acks = store is not None and ack_after_commit
        self.hooks = Hooks()
        # Handlers of published `$<name>/...` topics by `$<name>` (e.g. `$delayed`): one that returns
        # True took the message, which is not routed. Checked only for `$` topics, so ordinary
        # messages pay nothing, unlike a message.publish hook.
        self.interceptors: dict[str, Callable[[Message], bool]] = {}
        # Asked at CONNECT, before authentication: True refuses the client as banned (0x8A).
        self.is_banned: Callable[[Any], bool] | None = None
        self.on_publish = self.hooks.listeners("message.publish")
        self.on_published = self.hooks.listeners("message.published")
        self.on_unrouted = self.hooks.listeners("message.dropped")  # no subscriber got it
        self.on_delivered = self.hooks.listeners("message.delivered")
        self.on_authorize = self.hooks.listeners("client.authorize")
        self.on_authorized = self.hooks.listeners("client.check_authz_complete")
        self.authz_cache = authz_cache.AuthzCacheOptions()
        # EMQX's authorization.deny_action: a denied PUBLISH or SUBSCRIBE disconnects the client
        # (0x87) instead of being answered with "not authorized" (or dropped at QoS 0).
        self.deny_disconnects = False
        # what decided the last authorization the hooks made: an authorization hook names its
        # source (``file``, ``http``...); ``default`` when none had a verdict
        self.authz_source = "default"
        # conn_congestion alarms: None = off; else an alarm lasts at least this many seconds
        self.congestion_sustain: float | None = 60.0
        self._congestion_checks: set[str] = set()  # alarms with a clearing check due
        self.on_acked = self.hooks.listeners("message.acked")
        # Payload bytes waiting in every session's queue, and the ceiling past which a message is
        # not queued (0: none); the high_queued_bytes alarm lasts until they fall under 80% of it.
        self.queued_bytes = 0
        self.max_queued_bytes = 0
        self.queue_alarm = False
        self.counters = new_counters()
        self.stats = Stats()
        self.router = Router(self.options.shared_subscription_strategy)
        self.retained = RetainedIndex()
        self.retainer = RetainerOptions()
        self.sessions: dict[str, Session] = {}
        self.local_clients: list[LocalClient] = []  # in-process clients (their sessions are not listed)
        self.connected = 0
        self.started_at = time.monotonic()
        self.closing = False
        # Write coalescing: while a connection's input is being handled, what is written to
        # any connection is gathered and flushed once at the end (one syscall per batch).
        self.batching = False
        self.dirty: list[Any] = []

    # ---------------------------------------------------------- publishing

    def publish(self, message: Message) -> int:
        """Route ``message`` to every matching subscriber; returns how many got it."""
        self.counters["messages.publish"] += 1
        if self.on_publish:
            folded = Hooks.fold(self.on_publish, message)
            if folded is None:
                return 0
            message = folded
            message.wire_key = -1  # a hook may have changed it: the received bytes no longer stand
        if self.interceptors and message.topic[:1] == "$":
            take = self.interceptors.get(message.topic.partition("/")[0])
            if take is not None and take(message):
                return 0
        if message.retain:  # whether retain is available was checked where it was published
            self._retain(message)
        delivered = self.dispatch(message)
        if self.on_published:
            Hooks.notify(self.on_published, message)
        return delivered

    def dispatch(self, message: Message) -> int:
        entries, groups = self.router.match(message.topic)
        origin = message.origin
        msg_qos = message.qos
        retain = message.retain
        delivered = 0
        for session, subs in entries:
            if len(subs) == 1:
                sub = subs[0]
                if sub.no_local and session.client_id == origin:
                    self.counters["delivery.dropped.no_local"] += 1
                    continue  # [MQTT-3.8.3-3]
                session.deliver(
                    message, msg_qos if msg_qos < sub.qos else sub.qos, retain and sub.rap, sub.sub_ids
                )
            elif not self._deliver_overlapping(session, subs, message):
                continue
            delivered += 1
        for group in groups:
            picked = group.pick(message)
            if picked is not None:
                session, sub = picked
                session.deliver(
                    message, msg_qos if msg_qos < sub.qos else sub.qos, retain and sub.rap, sub.sub_ids, group
                )
                delivered += 1
        c = self.counters
        if delivered:
            c["messages.delivered"] += delivered
        else:
            c["messages.dropped"] += 1
            c["messages.dropped.no_subscribers"] += 1
            if self.on_unrouted:
                Hooks.notify(self.on_unrouted, message, "no_subscribers")
        return delivered

    def _deliver_overlapping(
        self, session: Session, subs: tuple[Subscription, ...], message: Message
    ) -> bool:
        """One copy for overlapping subscriptions: the highest QoS and every subscription id."""
        qos = -1
        rap = False
        sub_ids: list[int] = []
        for sub in subs:
            if sub.no_local and session.client_id == message.origin:
                continue
            qos = max(qos, sub.qos)
            rap = rap or sub.rap
            sub_ids.extend(sub.sub_ids)
        if qos < 0:
            self.counters["delivery.dropped.no_local"] += 1
            return False
        session.deliver(message, min(qos, message.qos), message.retain and rap, tuple(sub_ids))
        return True

    def _retain(self, message: Message) -> None:
        retainer = self.retainer
        if not retainer.enable:
            return
        if not message.payload:
            self.delete_retained(message.topic)  # [MQTT-3.3.1-6/7]
            return
        if (retainer.max_payload_size and len(message.payload) > retainer.max_payload_size) or (
            retainer.max_messages
            and self.retained.count >= retainer.max_messages
            and self.retained.get(message.topic) is None
        ):
            return  # not kept; still delivered to the subscribers it has now
        self.retained.set(message)
        if self.store is not None:
            self.store.save_retained(message)
        self.stats.set("retained", self.retained.count)

    def delete_retained(self, topic: str) -> bool:
        if not self.retained.delete(topic):
            return False
        if self.store is not None:
            self.store.delete_retained(topic)
        self.stats.set("retained", self.retained.count)
        return True

    def queue_full(self, size: int) -> bool:
        """Would ``size`` more queued bytes pass the broker-wide ceiling? Raises the alarm."""
        ceiling = self.max_queued_bytes
        if not ceiling or self.queued_bytes + size <= ceiling:
            return False
        if not self.queue_alarm:
            self.queue_alarm = True
            self.alarms.activate(
                QUEUE_ALARM,
                f"queued messages hold {self.queued_bytes} bytes, the ceiling is {ceiling}: "
                "new messages for slow or offline sessions are dropped",
                {"queued_bytes": self.queued_bytes, "max_queued_bytes": ceiling},
            )
        return True

    def unqueued(self, size: int) -> None:
        self.queued_bytes -= size
        if self.queue_alarm and self.queued_bytes < self.max_queued_bytes * 0.8:
            self.queue_alarm = False
            self.alarms.deactivate(QUEUE_ALARM)

    def drop(self, client_id: str, message: Message, reason: str) -> None:
        """Count a message the session of ``client_id`` could not keep (``queue_full``,
        ``expired``, ``qos0_msg``, ...)."""
        c = self.counters
        c["delivery.dropped"] += 1
        c[f"delivery.dropped.{reason}"] += 1
        c["messages.dropped"] += 1
        fns = self.hooks.listeners("delivery.dropped")
        if fns:
            Hooks.notify(fns, client_id, message, reason)

    # ---------------------------------------------------------- subscriptions

    def subscribe(
        self,
        session: Session,
        topic_filter: str,
        real_filter: str,
        group: str | None,
        options: SubscriptionOptions,
        sub_id: int | None = None,
    ) -> Subscription:
        """Add or replace a subscription [MQTT-3.8.4-3]; the caller validated the filter."""
        old = session.subscriptions.get(topic_filter)
        if old is not None:
            self.router.remove(session, old)
        sub = Subscription(topic_filter, real_filter, group, options, sub_id)
        session.subscriptions[topic_filter] = sub
        self.router.add(session, sub)
        if session.store is not None:
            session.store.save_subscription(session, sub)
        self.counters["client.subscribe"] += 1
        Hooks.notify(self.hooks.listeners("session.subscribed"), session, topic_filter, options)
        self._update_stats()
        return sub

    def deliver_retained(self, session: Session, sub: Subscription, existed: bool) -> None:
        """Send the retained messages a new subscription is owed (Retain Handling 0/1/2)."""
        if sub.group is not None or sub.rh == 2 or (sub.rh == 1 and existed) or not self.retainer.enable:
            return  # shared subscriptions get no retained messages [MQTT-4.8.2-?]; [MQTT-3.3.1-10/11]
        now = self.clock.time()
        for message in self.retained.match(sub.real_filter):
            if message.expired(now):
                self.delete_retained(message.topic)
                continue
            session.deliver(message, min(message.qos, sub.qos), True, sub.sub_ids)  # [MQTT-3.3.1-8]

    def unsubscribe(self, session: Session, topic_filter: str) -> bool:
        sub = session.subscriptions.pop(topic_filter, None)
        if sub is None:
            return False
        self.router.remove(session, sub)
        if session.store is not None:
            session.store.delete_subscription(session, topic_filter)
        self.counters["client.unsubscribe"] += 1
        Hooks.notify(self.hooks.listeners("session.unsubscribed"), session, topic_filter)
        self._update_stats()
        return True

    # ---------------------------------------------------------- sessions

    def open_session(
        self, conn: Any, client_id: str, clean_start: bool, expiry: float, will: Will | None = None
    ) -> tuple[Session, bool]:
        """Find or create the session for ``client_id``; an attached connection is taken over.

        ``will`` is recorded with a persistent session, to be published if the broker stops
        while the client is connected."""
        existing = self.sessions.get(client_id)
        if existing is not None and existing.connection is not None:
            existing.connection.evict("discarded" if clean_start else "takenover")
            existing = self.sessions.get(client_id)  # gone if its expiry was 0
            if existing is not None and not clean_start:
                self.counters["session.takenover"] += 1
                Hooks.notify(self.hooks.listeners("session.takenover"), existing)
        if existing is not None and clean_start:
            self.counters["session.discarded"] += 1
            Hooks.notify(self.hooks.listeners("session.discarded"), existing)
            self.terminate(existing, "discarded")
            existing = None
        if existing is None:
            session = Session(self, client_id, expiry, self.clock.time(), getattr(conn, "options", None))
            self.sessions[client_id] = session
            self.counters["session.created"] += 1
            Hooks.notify(self.hooks.listeners("session.created"), session)
            present = False
        else:
            session = existing
            session.options = getattr(conn, "options", self.options)
            self._cancel_timers(session, drop_will=True)  # the will waits no longer [MQTT-3.1.3-9]
            session.expiry_interval = expiry
            self.counters["session.resumed"] += 1
            Hooks.notify(self.hooks.listeners("session.resumed"), session)
            present = True
        self._track(session)
        if session.store is not None:
            session.store.save_session(session, conn, will, 0.0, 0.0)
        self._update_stats()
        return session, present

    def _track(self, session: Session) -> None:
        """Keep the store in step with whether ``session`` is persistent (expiry > 0)."""
        store = self.store
        if store is None:
            return
        if session.expiry_interval and session.store is None:
            session.store = store  # record it whole from now on
            for sub in session.subscriptions.values():
                store.save_subscription(session, sub)
            for delivery in (*session.inflight.values(), *session.mqueue):
                store.save_delivery(session, delivery)
            for packet_id, received_at in session.awaiting_rel.items():
                store.save_awaiting_rel(session, packet_id, received_at)
        elif not session.expiry_interval and session.store is not None:
            session.store.delete_session(session)
            session.store = None

    def connection_closed(self, conn: Any, will: Will | None) -> None:
        """``conn`` let go of its session: publish or schedule its will, start expiry."""
        session: Session = conn.session
        v5 = conn.version == MQTT_5
        if session.connection is not conn:
            return
        session.connection = None
        session.last_client = conn
        self._redispatch(session)
        delay = will.properties.get("will_delay_interval", 0) if will and v5 else 0
        if self.closing:
            will = None
        if session.expiry_interval == 0:
            if will is not None:
                self.publish_will(will, conn)
            self.terminate(session, "closed")
            return
        now = self.clock.time()
        if will is not None:
            if delay == 0:
                self.publish_will(will, conn)
            else:
                # Published when the delay elapses or the session ends, whichever is first [MQTT-3.1.3-9].
                self._schedule_will(session, will, conn, min(delay, session.expiry_interval))
        if session.store is not None:
            pending = session.pending_will
            will_at = now + min(delay, session.expiry_interval) if pending else 0.0
            session.store.save_session(session, conn, pending[0] if pending else None, now, will_at)
        if not self.closing:
            self._schedule_expiry(session, session.expiry_interval)
        self._update_stats()

    def _schedule_will(self, session: Session, will: Will, owner: Any, delay: float) -> None:
        session.pending_will = (will, owner)
        session.will_handle = asyncio.get_running_loop().call_later(
            delay, self._publish_pending_will, session
        )

    def _schedule_expiry(self, session: Session, left: float) -> None:
        if session.expiry_interval != NEVER_EXPIRE:
            session.expiry_handle = asyncio.get_running_loop().call_later(
                left, self.terminate, session, "expired"
            )

    def terminate(self, session: Session, reason: str) -> None:
        """End ``session``: its pending will goes out, its subscriptions go away."""
        if self.sessions.get(session.client_id) is not session:
            return
        self._cancel_timers(session, drop_will=False)
        del self.sessions[session.client_id]
        self._publish_pending_will(session)
        for sub in session.subscriptions.values():
            self.router.remove(session, sub)
        self._redispatch(session)
        session.release_queue()
        session.subscriptions.clear()
        if session.store is not None:
            session.store.delete_session(session)
            session.store = None
        self.counters["session.terminated"] += 1
        Hooks.notify(self.hooks.listeners("session.terminated"), session, reason)
        self._update_stats()

    def _redispatch(self, session: Session) -> None:
        """Unacked messages from a shared subscription go to another member of the group."""
        for delivery in session.take_shared():
            picked = delivery.group.pick(delivery.message, exclude=session)
            if picked is None:
                if session.client_id in self.sessions:
                    session.enqueue(delivery)  # nobody else: it waits for this member
                continue
            member, sub = picked
            member.deliver(
                delivery.message,
                min(delivery.message.qos, sub.qos),
                delivery.retain,
                sub.sub_ids,
                delivery.group,
            )

    def _cancel_timers(self, session: Session, drop_will: bool) -> None:
        for handle in (session.expiry_handle, session.will_handle):
            if handle is not None:
                handle.cancel()
        session.expiry_handle = session.will_handle = None
        if drop_will:
            session.pending_will = None

    def _publish_pending_will(self, session: Session) -> None:
        pending = session.pending_will
        session.pending_will = None
        session.will_handle = None
        if pending is not None and not self.closing:
            self.publish_will(*pending)

    def authorize(self, client: Any, action: str, topic: str, qos: int, retain: bool) -> bool:
        """Whether ``client`` may publish to or subscribe to ``topic``: a superuser may; else
        the cache, else the ``client.authorize`` hooks decide (no verdict allows). Callers skip
        this when ``on_authorize`` is empty: without an authorization hook all is allowed."""
        counters = self.counters
        if client.is_superuser:
            counters["authorization.superuser"] += 1
            allowed, source = True, "superuser"
        else:
            cache = client.authz_cache
            key = (action, topic, qos, retain)
            entry = cache.get(key) if cache is not None else None
            if entry is not None and entry[1] > self.clock.time():
                counters["authorization.cache_hit"] += 1
                allowed, source = entry[0], "cache"
            else:
                allowed = self._authorize_miss(client, key)
                source = self.authz_source
        counters["authorization.allow" if allowed else "authorization.deny"] += 1
        if self.on_authorized:
            Hooks.notify(self.on_authorized, client, action, topic, "allow" if allowed else "deny", source)
        return allowed

    def _authorize_miss(self, client: Any, key: authz_cache.Key) -> bool:
        self.counters["client.authorize"] += 1  # the hooks run: counted as EMQX does
        self.authz_source = "default"
        allowed = Hooks.decide(self.on_authorize, client, *key) is not False
        options = self.authz_cache
        if options.enable and key[0] == "publish":  # a SUBSCRIBE is asked once: see authz_cache
            self.counters["authorization.cache_miss"] += 1
            authz_cache.remember(client, key, allowed, self.clock.time(), options)
        return allowed

    def clear_authz_caches(self) -> None:
        """Forget every connection's cached verdicts (rules or settings changed)."""
        for session in self.sessions.values():
            conn = session.connection
            if conn is not None and hasattr(conn, "authz_cache"):
                conn.authz_cache = None

    def publish_will(self, will: Will, client: Any) -> None:
        """Publish ``client``'s will, if the same authorization as its PUBLISHes allows it."""
        if self.on_authorize and not self.authorize(client, "publish", will.topic, will.qos, will.retain):
            return
        props = {k: v for k, v in will.properties.items() if k != "will_delay_interval"} or None
        now = self.clock.time()
        self.publish(
            Message(
                will.topic, will.payload, will.qos, will.retain, props, client.client_id, client.username, now
            )
        )

    # ---------------------------------------------------------- the store

    def restore(self) -> None:
        """Load what the store kept: retained messages and persistent sessions.

        A session's expiry and its will's delay count from when it disconnected; a session
        that was connected when the broker stopped counts as disconnected now."""
        store = self.store
        if store is None:
            return
        now = self.clock.time()
        for message in store.load_retained():
            if message.expired(now):
                store.delete_retained(message.topic)
            else:
                self.retained.set(message)
        for stored in store.load_sessions():
            self._restore_session(stored, now)
        self._update_stats()

    def _restore_session(self, stored: StoredSession, now: float) -> None:
        store = self.store
        assert store is not None
        session = Session(self, stored.client_id, stored.expiry_interval, stored.created_at)
        session.store = store
        self.sessions[session.client_id] = session
        for sub in stored.subscriptions:
            session.subscriptions[sub.topic_filter] = sub
            self.router.add(session, sub)
        session.restore(stored.deliveries, stored.awaiting_rel)
        disconnected_at = stored.disconnected_at or now
        will = stored.will
        owner = WillOwner(stored.client_id, stored.username, stored.peerhost, disconnected_at)
        session.last_client = owner
        due = 0.0
        if will is not None:
            delay = will.properties.get("will_delay_interval", 0)
            due = stored.will_at or now + min(delay, stored.expiry_interval)
            self._schedule_will(session, will, owner, max(0.0, due - now))
        if not stored.disconnected_at:
            store.save_session(session, owner, will, now, due)
        left = stored.expiry_interval - (now - disconnected_at)
        if stored.expiry_interval != NEVER_EXPIRE and left <= 0:
            self.terminate(session, "expired")
            return
        self._schedule_expiry(session, left)

    def committed(self, callbacks: list[Callable[[], None]]) -> None:
        """The store committed: send the acknowledgements that waited for it, in one batch."""
        self.batching = True
        try:
            for callback in callbacks:
                try:
                    callback()
                except Exception:
                    log.exception("error in a callback after a commit")
        finally:
            self.batching = False
            self.flush()

    def _alarm_changed(self, alarm: Any) -> None:
        fns = self.hooks.listeners("alarm.deactivated" if alarm.deactivate_at else "alarm.activated")
        if fns:
            Hooks.notify(fns, alarm)

    def store_alarm(self, name: str, message: str, active: bool) -> None:
        if active:
            self.alarms.activate(name, message)
        else:
            self.alarms.deactivate(name)

    def congested(self, conn: Any, congested: bool) -> None:
        """Raise or clear ``conn``'s ``conn_congestion`` alarm (its socket cannot take more).
        Cleared no sooner than ``congestion_sustain`` after it was raised, so it does not flap."""
        name = f"conn_congestion/{conn.client_id}/{conn.username or 'unknown_user'}"
        alarm = self.alarms.active.get(name)
        if congested:
            if alarm is None:
                details = {
                    "clientid": conn.client_id,
                    "username": conn.username,
                    "peername": f"{conn.peerhost}:{conn.peerport}",
                }
                self.alarms.activate(name, f"connection congested: {conn.client_id}", details)
            return
        if alarm is None or name in self._congestion_checks:
            return  # none, or a check is already due (a slow reader pauses and resumes often)
        left = alarm.activate_at + (self.congestion_sustain or 0.0) - self.clock.time()
        if left <= 0:
            self.alarms.deactivate(name)
        else:
            self._congestion_checks.add(name)
            asyncio.get_running_loop().call_later(left, self._congestion_over, conn, name)

    def _congestion_over(self, conn: Any, name: str) -> None:
        self._congestion_checks.discard(name)
        if conn.writable or conn.transport is None or conn.transport.is_closing():
            self.alarms.deactivate(name)

    def new_client_id(self) -> str:
        return f"brookmq-{secrets.token_hex(8)}"

    def client(self, client_id: str) -> LocalClient:
        """An in-process client (see :mod:`brookmq.core.client`)."""
        client = LocalClient(self, client_id)
        self.local_clients.append(client)
        return client

    def flush(self) -> None:
        """Write out everything gathered during a batch."""
        while self.dirty:
            dirty = self.dirty
            self.dirty = []
            for conn in dirty:
                conn.flush()

    # ---------------------------------------------------------- bookkeeping

    def client_connected(self) -> None:
        self.connected += 1
        self._update_stats()

    def client_disconnected(self) -> None:
        self.connected -= 1
        self._update_stats()

    def _update_stats(self) -> None:
        stats = self.stats
        router = self.router
        stats.set("connections", self.connected)
        stats.set("live_connections", self.connected)
        stats.set("channels", self.connected)
        stats.set("sessions", len(self.sessions))
        stats.set("cluster_sessions", len(self.sessions))
        stats.set("topics", len(router.filters))
        stats.set("subscriptions", router.subscription_count)
        stats.set("suboptions", router.subscription_count)
        stats.set("subscribers", router.subscription_count)
        stats.set("subscriptions.shared", router.shared_count)
        stats.set("retained", self.retained.count)

    def uptime(self) -> float:
        return time.monotonic() - self.started_at

    def shutdown(self) -> None:
        """Disconnect every client (v5: DISCONNECT 0x8B) and stop all timers; wills are not sent."""
        self.closing = True
        for session in list(self.sessions.values()):
            if session.connection is not None:
                session.connection.evict("shutdown")
            self._cancel_timers(session, drop_will=True)
