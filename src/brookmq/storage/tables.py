"""The store ports on top of tables of rows; a store only says how rows are kept.

``TableStore`` turns the core's calls into row changes (``_put``, ``_delete``,
``_delete_client``) and rebuilds objects from rows at start-up. It also keeps a
message stored once however many sessions hold it: a reference count per stored
message, the row deleted with the last reference.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from brookmq.core.store import StoredDelayed, StoredSession, StoreEvents
from brookmq.core.text import unencodable
from brookmq.mqtt.errors import ProtocolError
from brookmq.storage import records as R

if TYPE_CHECKING:
    from brookmq.core.message import Message
    from brookmq.core.session import Delivery, Session, Subscription
    from brookmq.mqtt.packets import Will

log = logging.getLogger("brookmq.storage")


class Collection:
    """A collection of JSON documents: read from memory, written through the store."""

    def __init__(self, name: str, store: TableStore, docs: dict[str, dict[str, Any]]) -> None:
        self.name = name
        self._table = R.collection_table(name)
        self._store = store
        self._docs = docs

    def get(self, key: str) -> dict[str, Any] | None:
        doc = self._docs.get(key)
        return json.loads(json.dumps(doc)) if doc is not None else None  # callers get their own copy

    def put(self, key: str, doc: dict[str, Any]) -> None:
        text = json.dumps(doc, sort_keys=True)
        self._docs[key] = json.loads(text)
        self._store._put(self._table, (key,), (key, text))

    def delete(self, key: str) -> bool:
        if self._docs.pop(key, None) is None:
            return False
        self._store._delete(self._table, (key,))
        return True

    def items(self) -> list[tuple[str, dict[str, Any]]]:
        return [(key, json.loads(json.dumps(self._docs[key]))) for key in sorted(self._docs)]

    def __len__(self) -> int:
        return len(self._docs)


class TableStore:
    """Everything of ``core.store.Store`` except how rows are kept and committed."""

    def __init__(self) -> None:
        self.writes = 0
        self.events: StoreEvents | None = None
        self._refs: dict[int, int] = {}  # stored message id -> deliveries that hold it
        self._next_message = 1
        self._next_delivery = 1
        self._next_delayed = 1
        self._collections: dict[str, Collection] = {}

    # ------------------------------------------------ how rows are kept (implementations)

    def _rows(self, table: R.Table) -> list[R.Row]:
        """Every row of ``table`` in key order."""
        raise NotImplementedError

    def _largest(self, table: R.Table, column: str) -> int:
        """The largest value of an integer ``column`` of ``table`` (0 when empty)."""
        raise NotImplementedError

    def _continue_counters(self) -> None:
        """New messages, deliveries and delayed messages are numbered after the stored ones."""
        self._next_message = self._largest(R.MESSAGES, "id") + 1
        self._next_delivery = self._largest(R.DELIVERIES, "key") + 1
        self._next_delayed = self._largest(R.DELAYED, "key") + 1

    def _put(self, table: R.Table, key: R.Row, row: R.Row, fresh: bool = False) -> None:
        """Write ``row``; ``fresh`` when no row with this key was ever written."""
        raise NotImplementedError

    def _delete(self, table: R.Table, key: R.Row) -> None:
        raise NotImplementedError

    def _delete_client(self, client_id: str) -> None:
        """Delete every row of ``client_id`` in the per-client tables."""
        raise NotImplementedError

    def after_commit(self, callback: Callable[[], None]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def attach(self, events: StoreEvents) -> None:
        self.events = events

    # ------------------------------------------------ sessions

    def save_session(
        self, session: Session, owner: Any, will: Will | None, disconnected_at: float, will_at: float
    ) -> None:
        row = (
            session.client_id,
            session.expiry_interval,
            session.created_at,
            disconnected_at,
            getattr(owner, "username", None),
            getattr(owner, "peerhost", "") or "",
            R.will_blob(will),
            will_at,
        )
        self._put(R.SESSIONS, (session.client_id,), row)

    def delete_session(self, session: Session) -> None:
        for delivery in (*session.inflight.values(), *session.mqueue):
            if delivery.key:
                self._unref(delivery.message)
                delivery.key = 0
        self._delete_client(session.client_id)

    def save_subscription(self, session: Session, sub: Subscription) -> None:
        self._put(
            R.SUBSCRIPTIONS, (session.client_id, sub.topic_filter), R.subscription_row(session.client_id, sub)
        )

    def delete_subscription(self, session: Session, topic_filter: str) -> None:
        self._delete(R.SUBSCRIPTIONS, (session.client_id, topic_filter))

    def save_delivery(self, session: Session, delivery: Delivery) -> None:
        fresh = not delivery.key
        if fresh:
            delivery.key = self._next_delivery
            self._next_delivery += 1
            self._ref(delivery.message)
        row = R.delivery_row(session.client_id, delivery)
        self._put(R.DELIVERIES, (session.client_id, delivery.key), row, fresh)

    def delete_delivery(self, session: Session, delivery: Delivery) -> None:
        self._delete(R.DELIVERIES, (session.client_id, delivery.key))
        delivery.key = 0
        self._unref(delivery.message)

    def save_awaiting_rel(self, session: Session, packet_id: int, received_at: float) -> None:
        self._put(R.AWAITING_REL, (session.client_id, packet_id), (session.client_id, packet_id, received_at))

    def delete_awaiting_rel(self, session: Session, packet_id: int) -> None:
        self._delete(R.AWAITING_REL, (session.client_id, packet_id))

    def _ref(self, message: Message) -> None:
        mid = message.store_id
        if not mid:
            mid = message.store_id = self._next_message
            self._next_message += 1
            self._refs[mid] = 0
            self._put(R.MESSAGES, (mid,), (mid, *R.message_columns(message)), True)
        self._refs[mid] += 1

    def _unref(self, message: Message) -> None:
        mid = message.store_id
        left = self._refs.get(mid, 0) - 1
        if left > 0:
            self._refs[mid] = left
            return
        self._refs.pop(mid, None)
        self._delete(R.MESSAGES, (mid,))
        message.store_id = 0

    def load_sessions(self) -> list[StoredSession]:
        messages: dict[int, Message] = {}
        for row in self._rows(R.MESSAGES):
            try:
                message = R.message_from(row[1:])
            except ProtocolError as exc:
                log.warning("stored message %s is unreadable (%s); dropped", row[0], exc.message)
                continue
            message.store_id = row[0]
            messages[row[0]] = message
        sessions: dict[str, StoredSession] = {}
        for row in self._rows(R.SESSIONS):
            client_id, expiry, created, disconnected, username, peerhost, will, will_at = row
            try:
                stored_will = R.will_from(will)
            except ProtocolError as exc:
                log.warning("the will of session %r is unreadable (%s); dropped", client_id, exc.message)
                stored_will = None
            sessions[client_id] = StoredSession(
                client_id, expiry, created, disconnected, username, peerhost, stored_will, will_at
            )
        for row in self._rows(R.SUBSCRIPTIONS):
            if row[0] in sessions:
                sessions[row[0]].subscriptions.append(R.subscription_from(row))
        self._refs = {}
        for row in self._rows(R.DELIVERIES):
            client_id, key, mid = row[0], row[1], row[2]
            stored = sessions.get(client_id)
            held = messages.get(mid)
            if stored is None or held is None:
                self._delete(R.DELIVERIES, (client_id, key))
                continue
            stored.deliveries.append(R.delivery_from(row, held))
            self._refs[mid] = self._refs.get(mid, 0) + 1
        for mid in messages.keys() - self._refs.keys():
            self._delete(R.MESSAGES, (mid,))  # held by no session any more
        for row in self._rows(R.AWAITING_REL):
            if row[0] in sessions:
                sessions[row[0]].awaiting_rel[row[1]] = row[2]
        return list(sessions.values())

    # ------------------------------------------------ retained and delayed messages

    def load_retained(self) -> list[Message]:
        out = []
        for row in self._rows(R.RETAINED):
            try:
                out.append(R.message_from(row))
            except ProtocolError as exc:
                log.warning("retained message on %r is unreadable (%s); dropped", row[0], exc.message)
                self._delete(R.RETAINED, (row[0],))
        return out

    def save_retained(self, message: Message) -> None:
        self._put(R.RETAINED, (message.topic,), R.message_columns(message))

    def delete_retained(self, topic: str) -> None:
        self._delete(R.RETAINED, (topic,))

    def load_delayed(self) -> list[StoredDelayed]:
        out = []
        for row in self._rows(R.DELAYED):
            key, due_at = row[0], row[1]
            try:
                out.append(StoredDelayed(key, due_at, R.message_from(row[2:])))
            except ProtocolError as exc:
                log.warning("delayed message %s is unreadable (%s); dropped", key, exc.message)
                self._delete(R.DELAYED, (key,))
        return out

    def save_delayed(self, due_at: float, message: Message) -> int:
        key = self._next_delayed
        self._next_delayed += 1
        self._put(R.DELAYED, (key,), (key, due_at, *R.message_columns(message)), True)
        return key

    def delete_delayed(self, key: int) -> None:
        self._delete(R.DELAYED, (key,))

    # ------------------------------------------------ management data

    def collection(self, name: str) -> Collection:
        if name not in R.COLLECTIONS:
            raise KeyError(f"no collection {name!r}; the collections are {', '.join(R.COLLECTIONS)}")
        found = self._collections.get(name)
        if found is None:
            docs = {}
            for key, doc in self._rows(R.collection_table(name)):
                loaded = json.loads(doc)
                where = unencodable([key, loaded])
                if where is not None:
                    # Kept by an older version that let such text in: it could never be shown.
                    log.warning("skipped %s document %r: its text is not valid UTF-8", name, ascii(key))
                    continue
                docs[key] = loaded
            found = self._collections[name] = Collection(name, self, docs)
        return found
