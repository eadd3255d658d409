"""The store ports: what the core asks of whatever keeps its state across restarts.

The core records every change of durable state as it happens (a persistent
session's header, subscriptions, queued and in-flight deliveries, inbound QoS 2
ids; retained and delayed messages) and never waits for the disk. A store
groups those writes into transactions; ``after_commit`` is how the broker holds
an acknowledgement back until what it acknowledges is on disk.

Implementations live in ``brookmq.storage`` (SQLite, the default, and memory);
the contract tests in ``tests/contract`` hold every implementation to this text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from brookmq.core.message import Message
    from brookmq.core.session import Delivery, Session, Subscription
    from brookmq.mqtt.packets import Will


@dataclass(slots=True)
class StoredSession:
    """A persistent session as the store gives it back at start-up.

    ``disconnected_at`` is 0 when the session was connected when the broker stopped:
    the broker treats that as a disconnect at restart. ``will_at`` is when the pending
    will is due (0 with a will: due on disconnect after its delay).
    """

    client_id: str
    expiry_interval: float
    created_at: float
    disconnected_at: float
    username: str | None  # of the last connection, whose will this is
    peerhost: str
    will: Will | None
    will_at: float
    subscriptions: list[Subscription] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)  # in key order; packet_id 0 = queued
    awaiting_rel: dict[int, float] = field(default_factory=dict)


@dataclass(slots=True)
class StoredDelayed:
    """A delayed publish waiting for ``due_at`` (wall-clock seconds)."""

    key: int
    due_at: float
    message: Message


class SessionStore(Protocol):
    """Persistent sessions (Session Expiry Interval > 0)."""

    def load_sessions(self) -> list[StoredSession]: ...

    def save_session(
        self, session: Session, owner: Any, will: Will | None, disconnected_at: float, will_at: float
    ) -> None:
        """Create or update the session's header; ``owner`` (a connection) gives the
        ``username`` and ``peerhost`` its will is published as."""

    def delete_session(self, session: Session) -> None:
        """Forget the session with everything it holds (its deliveries' keys go back to 0)."""

    def save_subscription(self, session: Session, sub: Subscription) -> None: ...

    def delete_subscription(self, session: Session, topic_filter: str) -> None: ...

    def save_delivery(self, session: Session, delivery: Delivery) -> None:
        """Record a queued or in-flight delivery, or its new packet id and state.

        A delivery gets its ``key`` (its place in the session's order) the first time."""

    def delete_delivery(self, session: Session, delivery: Delivery) -> None: ...

    def save_awaiting_rel(self, session: Session, packet_id: int, received_at: float) -> None: ...

    def delete_awaiting_rel(self, session: Session, packet_id: int) -> None: ...


class RetainStore(Protocol):
    def load_retained(self) -> list[Message]: ...

    def save_retained(self, message: Message) -> None: ...

    def delete_retained(self, topic: str) -> None: ...


class DelayedStore(Protocol):
    def load_delayed(self) -> list[StoredDelayed]: ...

    def save_delayed(self, due_at: float, message: Message) -> int:
        """Record a delayed message; returns its key."""

    def delete_delayed(self, key: int) -> None: ...


class Collection(Protocol):
    """A named table of JSON documents by key, for management data (users, API keys,
    bans, rules, ...). Reads are served from memory; writes go through the store's
    transactions like everything else."""

    name: str

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, doc: dict[str, Any]) -> None: ...

    def delete(self, key: str) -> bool: ...

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        """Every document, in key order."""

    def __len__(self) -> int: ...


class StoreEvents(Protocol):
    """What a store tells the broker, on the event loop."""

    def committed(self, callbacks: list[Callable[[], None]]) -> None:
        """A transaction committed; run what waited for it."""

    def store_alarm(self, name: str, message: str, active: bool) -> None:
        """Raise (``active``) or clear an alarm about the store."""


class Store(SessionStore, RetainStore, DelayedStore, Protocol):
    """Everything durable, written in transactions."""

    writes: int  # how many changes were recorded so far; the broker compares it before and after

    def attach(self, events: StoreEvents) -> None:
        """Start writing; report commits and alarms to ``events``."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once every change recorded so far has committed."""

    def collection(self, name: str) -> Collection: ...

    def close(self) -> None:
        """Commit what is pending and stop."""
