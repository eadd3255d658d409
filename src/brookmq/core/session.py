"""A client's session: subscriptions, the outbound inflight window, the offline
queue (mqueue) and inbound QoS 2 packet ids awaiting PUBREL.

The session outlives connections. While a connection is attached
(``connection`` is set) deliveries go straight to it, up to the inflight
window; otherwise, or when the socket pushes back, they wait in the mqueue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from brookmq.mqtt.errors import protocol_error
from brookmq.mqtt.packets import SubscriptionOptions

if TYPE_CHECKING:
    import asyncio

    from brookmq.core.broker import Broker
    from brookmq.core.message import Message
    from brookmq.core.options import MqttOptions
    from brookmq.core.store import SessionStore
    from brookmq.mqtt.packets import Will

# Outbound QoS 2 states of an inflight entry.
AWAIT_ACK = 0  # PUBLISH sent; waiting for PUBACK or PUBREC
AWAIT_COMP = 1  # PUBREL sent; waiting for PUBCOMP


class Outlet(Protocol):
    """What a session delivers to: a network connection or an in-process client."""

    writable: bool
    inflight_limit: int

    def send_publish(
        self,
        message: Message,
        qos: int,
        retain: bool,
        sub_ids: tuple[int, ...],
        packet_id: int,
        dup: bool = False,
    ) -> bool: ...

    def send_pubrel(self, packet_id: int) -> None: ...

    def hold(self, send: Callable[[], None]) -> None:
        """Call ``send`` once the broker's store has committed what it recorded so far."""

    def evict(self, reason: str) -> None:
        """Let go of the session and close: ``takenover``, ``discarded``, ``kicked`` or ``shutdown``."""


class Subscription:
    """One subscription of a session: the filter as written and its options."""

    __slots__ = (
        "group",
        "no_local",
        "qos",
        "rap",
        "real_filter",
        "rh",
        "sub_id",
        "sub_ids",
        "topic_filter",
    )

    def __init__(
        self,
        topic_filter: str,
        real_filter: str,
        group: str | None,
        options: SubscriptionOptions,
        sub_id: int | None,
    ) -> None:
        self.topic_filter = topic_filter
        self.real_filter = real_filter
        self.group = group
        self.qos = options.qos
        self.no_local = options.no_local
        self.rap = options.retain_as_published
        self.rh = options.retain_handling
        self.sub_id = sub_id
        self.sub_ids: tuple[int, ...] = (sub_id,) if sub_id else ()


class Delivery:
    """A message on its way to this session: queued, or in flight with a packet id."""

    __slots__ = ("group", "key", "message", "packet_id", "qos", "retain", "state", "sub_ids")

    def __init__(
        self,
        message: Message,
        qos: int,
        retain: bool,
        sub_ids: tuple[int, ...],
        group: Any,
    ) -> None:
        self.message = message
        self.qos = qos
        self.retain = retain
        self.sub_ids = sub_ids
        self.group = group  # the SharedGroup it came through, for redispatch
        self.state = AWAIT_ACK
        self.packet_id = 0  # while in flight
        self.key = 0  # its place in the session's order, once a store has it


_NO_QUEUE: tuple[()] = ()  # stands for an empty mqueue until something is queued


class Session:
    __slots__ = (
        "_next_id",
        "awaiting_rel",
        "broker",
        "client_id",
        "connection",
        "created_at",
        "expiry_handle",
        "expiry_interval",
        "inflight",
        "last_client",
        "mqueue",
        "mqueue_bytes",
        "mqueue_dropped",
        "options",
        "pending_will",
        "store",
        "subscriptions",
        "will_handle",
    )

    def __init__(
        self,
        broker: Broker,
        client_id: str,
        expiry_interval: float,
        created_at: float,
        options: MqttOptions | None = None,
    ) -> None:
        self.broker = broker
        self.options = options or broker.options  # the zone of the connection that opened it
        self.client_id = client_id
        self.expiry_interval = expiry_interval
        self.created_at = created_at
        self.subscriptions: dict[str, Subscription] = {}
        self.inflight: dict[int, Delivery] = {}
        self.mqueue: deque[Delivery] | tuple[()] = _NO_QUEUE
        self.awaiting_rel: dict[int, float] = {}  # inbound QoS 2 packet id -> received at
        self.connection: Outlet | None = None
        # The connection that last had it (after a restart, a WillOwner): what listings show.
        self.last_client: Any = None
        self.mqueue_dropped = 0
        self.mqueue_bytes = 0  # payload bytes in the queue
        self.expiry_handle: asyncio.TimerHandle | None = None
        self.will_handle: asyncio.TimerHandle | None = None
        self.pending_will: tuple[Will, Any] | None = None  # the will and the connection it came with
        self.store: SessionStore | None = None  # set while the session is persistent
        self._next_id = 1

    def __repr__(self) -> str:
        return f"Session({self.client_id!r})"

    # ---------------------------------------------------------- delivery

    def deliver(
        self,
        message: Message,
        qos: int,
        retain: bool,
        sub_ids: tuple[int, ...],
        group: Any = None,
    ) -> None:
        conn = self.connection
        if conn is not None and conn.writable and not self.mqueue:
            if not qos:
                conn.send_publish(message, 0, retain, sub_ids, 0)
                return
            if len(self.inflight) < conn.inflight_limit:
                self._send_inflight(conn, Delivery(message, qos, retain, sub_ids, group))
                return
        self.enqueue(Delivery(message, qos, retain, sub_ids, group))

    def enqueue(self, delivery: Delivery) -> None:
        broker = self.broker
        if not delivery.qos and self.connection is None and not self.options.mqueue_store_qos0:
            broker.drop(self.client_id, delivery.message, "qos0_msg")
            return
        queue = self.mqueue
        opts = self.options
        limit, byte_limit = opts.max_mqueue_len, opts.max_mqueue_bytes
        size = len(delivery.message.payload)
        store = self.store
        if (byte_limit and size > byte_limit) or (broker.max_queued_bytes and broker.queue_full(size)):
            self.mqueue_dropped += 1  # larger than a whole queue, or the broker holds too much
            broker.drop(self.client_id, delivery.message, "queue_full")
            return
        while queue and (
            (limit and len(queue) >= limit) or (byte_limit and self.mqueue_bytes + size > byte_limit)
        ):
            # Like EMQX: a full queue drops its oldest messages to make room.
            assert isinstance(queue, deque)
            oldest = queue.popleft()
            self._unqueued(oldest)
            self.mqueue_dropped += 1
            broker.drop(self.client_id, oldest.message, "queue_full")
            if store is not None:
                store.delete_delivery(self, oldest)
        self._queued(delivery)
        if store is not None:
            store.save_delivery(self, delivery)

    def _queued(self, delivery: Delivery) -> None:
        """Put ``delivery`` at the end of the queue (made on first use) and count its bytes."""
        if not isinstance(self.mqueue, deque):
            self.mqueue = deque()
        self.mqueue.append(delivery)
        size = len(delivery.message.payload)
        self.mqueue_bytes += size
        self.broker.queued_bytes += size

    def _unqueued(self, delivery: Delivery) -> None:
        size = len(delivery.message.payload)
        self.mqueue_bytes -= size
        self.broker.unqueued(size)

    def release_queue(self) -> None:
        """The session ends: its queue no longer counts towards the broker's queued bytes."""
        if self.mqueue_bytes:
            self.broker.unqueued(self.mqueue_bytes)
            self.mqueue_bytes = 0
        self.mqueue = _NO_QUEUE

    def _send_inflight(self, conn: Outlet, delivery: Delivery) -> None:
        delivery.packet_id = self._allocate_id()
        self.inflight[delivery.packet_id] = delivery
        store = self.store
        if store is not None:
            store.save_delivery(self, delivery)
            if delivery.qos == 2 and self.broker.hold_acks:
                # A QoS 2 receiver keeps a packet id until PUBREL; it must never get an id that a
                # crash could make the broker forget and hand out again for another message.
                conn.hold(partial(self._transmit, conn, delivery))
                return
        self._transmit(conn, delivery)

    def _transmit(self, conn: Outlet, delivery: Delivery, dup: bool = False) -> None:
        packet_id = delivery.packet_id
        if self.inflight.get(packet_id) is not delivery or self.connection is not conn:
            return  # gone while it waited for the store (taken over, or handed to another member)
        if not conn.send_publish(
            delivery.message, delivery.qos, delivery.retain, delivery.sub_ids, packet_id, dup
        ):
            del self.inflight[packet_id]  # too large for the client: dropped and counted by the outlet
            self._forget(delivery)

    def _forget(self, delivery: Delivery) -> None:
        """``delivery`` is done with (acknowledged, dropped or handed on)."""
        if self.store is not None and delivery.key:
            self.store.delete_delivery(self, delivery)

    def _allocate_id(self) -> int:
        packet_id = self._next_id
        inflight = self.inflight
        while packet_id in inflight:
            packet_id = packet_id % 65535 + 1
        self._next_id = packet_id % 65535 + 1
        return packet_id

    def drain(self) -> None:
        """Send queued messages while the connection can take them."""
        conn = self.connection
        if conn is None:
            return
        queue = self.mqueue
        if not queue:
            return
        assert isinstance(queue, deque)
        now = self.broker.clock.time()
        while queue and conn.writable:
            delivery = queue[0]
            if delivery.qos and len(self.inflight) >= conn.inflight_limit:
                return
            queue.popleft()
            self._unqueued(delivery)
            if delivery.message.expired(now):
                self.broker.drop(self.client_id, delivery.message, "expired")
                self._forget(delivery)
            elif delivery.qos:
                self._send_inflight(conn, delivery)
            else:
                conn.send_publish(delivery.message, 0, delivery.retain, delivery.sub_ids, 0)
                self._forget(delivery)

    def resume(self, conn: Outlet) -> None:
        """Attach ``conn``, resend what was in flight with DUP [MQTT-4.4.0-1], then drain the queue."""
        self.connection = conn
        for packet_id, delivery in list(self.inflight.items()):
            if delivery.state == AWAIT_COMP:
                conn.send_pubrel(packet_id)
            else:
                self._transmit(conn, delivery, True)
        self.drain()

    # ---------------------------------------------------------- acknowledgements

    def _awaiting(self, packet_id: int, ack: str, qos: int, state: int) -> Delivery | None:
        """The delivery ``ack`` answers, or None for an id not in flight (ignored, like EMQX).
        An ack of the wrong type for a message in flight is a protocol error [MQTT-4.3.2, 4.3.3]."""
        delivery = self.inflight.get(packet_id)
        if delivery is not None and (delivery.qos != qos or delivery.state != state):
            raise protocol_error(f"{ack} for packet {packet_id}, a QoS {delivery.qos} message in flight")
        return delivery

    def puback(self, packet_id: int) -> Delivery | None:
        delivery = self._awaiting(packet_id, "PUBACK", 1, AWAIT_ACK)
        if delivery is not None:
            self._done(delivery)
        return delivery

    def pubrec(self, packet_id: int, failed: bool) -> Delivery | None:
        delivery = self._awaiting(packet_id, "PUBREC", 2, AWAIT_ACK)
        if delivery is None:
            return None
        if failed:
            # A PUBREC with an error code ends the flow, no PUBREL [MQTT-4.3.3]; the id is free again.
            self._done(delivery)
        else:
            delivery.state = AWAIT_COMP
            if self.store is not None:
                self.store.save_delivery(self, delivery)
        return delivery

    def pubcomp(self, packet_id: int) -> Delivery | None:
        delivery = self._awaiting(packet_id, "PUBCOMP", 2, AWAIT_COMP)
        if delivery is not None:
            self._done(delivery)
        return delivery

    def _done(self, delivery: Delivery) -> None:
        """Its flow ended: the packet id is free, the window has room for what is queued."""
        del self.inflight[delivery.packet_id]
        self._forget(delivery)
        self.drain()

    def restore(self, deliveries: list[Delivery], awaiting_rel: dict[int, float]) -> None:
        """Take back what a store kept: in-flight deliveries (with their packet ids) and the queue."""
        for delivery in deliveries:
            if delivery.packet_id:
                self.inflight[delivery.packet_id] = delivery
            else:
                self._queued(delivery)
        if self.inflight:
            self._next_id = max(self.inflight) % 65535 + 1
        self.awaiting_rel = dict(awaiting_rel)

    def take_shared(self) -> list[Delivery]:
        """Remove and return the unacknowledged deliveries that came through a shared
        subscription, so the broker can hand them to another member of the group."""
        taken = [d for d in self.inflight.values() if d.group is not None and d.state == AWAIT_ACK]
        if taken:
            self.inflight = {k: d for k, d in self.inflight.items() if d not in taken}
        queued = [d for d in self.mqueue if d.group is not None]
        if queued:
            self.mqueue = deque(d for d in self.mqueue if d.group is None)
            for delivery in queued:
                self._unqueued(delivery)
            taken.extend(queued)
        for delivery in taken:
            self._forget(delivery)
            delivery.packet_id = 0
        return taken

    def info(self) -> dict[str, Any]:
        """Session figures with EMQX's field names."""
        opts = self.options
        return {
            "subscriptions_cnt": len(self.subscriptions),
            "subscriptions_max": opts.max_subscriptions or "infinity",
            "inflight_cnt": len(self.inflight),
            "inflight_max": opts.max_inflight,
            "awaiting_rel_cnt": len(self.awaiting_rel),
            "awaiting_rel_max": opts.max_awaiting_rel,
            "mqueue_len": len(self.mqueue),
            "mqueue_max": opts.max_mqueue_len,
            "mqueue_dropped": self.mqueue_dropped,
            "expiry_interval": self.expiry_interval,
            "created_at": self.created_at,
        }
