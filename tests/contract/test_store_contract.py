"""One contract for every store: what is written comes back after a restart, exactly.

Each test runs against the memory store and the SQLite store; "reopen" is a
restarted broker's view of the same data (for SQLite: closed and opened again
from the file)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from brookmq.core.broker import Broker
from brookmq.core.message import Message
from brookmq.core.session import AWAIT_COMP, Delivery, Session, Subscription
from brookmq.mqtt.packets import SubscriptionOptions, Will
from brookmq.storage import records
from brookmq.storage.memory import MemoryStore
from brookmq.storage.sqlite import SqliteStore
from brookmq.storage.tables import TableStore


@dataclass
class Events:
    """Stands in for the broker: runs what waited for a commit, records alarms."""

    commits: int = 0
    alarms: list[tuple[str, bool]] = field(default_factory=list)

    def committed(self, callbacks: list[Callable[[], None]]) -> None:
        self.commits += 1
        for callback in callbacks:
            callback()

    def store_alarm(self, name: str, message: str, active: bool) -> None:
        self.alarms.append((name, active))


class Stores:
    """Opens one kind of store and reopens it as a restarted broker would."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path / "brookmq.db"
        self.events = Events()
        self.current: TableStore = self._new()

    def _new(self) -> TableStore:
        store: TableStore = MemoryStore() if self.kind == "memory" else SqliteStore(self.path)
        store.attach(self.events)
        return store

    def reopen(self) -> TableStore:
        old = self.current
        if isinstance(old, MemoryStore):
            self.current = old.reopen()
            self.current.attach(self.events)
        else:
            old.close()
            self.current = self._new()
        return self.current

    async def committed(self) -> None:
        """Wait until everything recorded so far has committed."""
        done = asyncio.Event()
        self.current.after_commit(done.set)
        await asyncio.wait_for(done.wait(), 5)


@pytest.fixture(params=["memory", "sqlite"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    s = Stores(request.param, tmp_path)
    yield s
    s.current.close()


@pytest.fixture
def broker() -> Broker:
    return Broker()


def session(broker: Broker, client_id: str = "c1", expiry: float = 3600) -> Session:
    return Session(broker, client_id, expiry, 1_700_000_000.0)


def message(topic: str = "t/1", payload: bytes = b"hello", **kwargs: Any) -> Message:
    return Message(topic, payload, kwargs.pop("qos", 1), origin="pub", username="u", timestamp=1.5, **kwargs)


class Owner:
    username = "alice"
    peerhost = "10.0.0.7"


def same_message(a: Message, b: Message) -> bool:
    fields = (
        "topic",
        "payload",
        "qos",
        "retain",
        "properties",
        "origin",
        "username",
        "timestamp",
        "expires_at",
    )
    return all(getattr(a, f) == getattr(b, f) for f in fields)


async def test_a_session_header_with_its_will_comes_back(stores: Stores, broker: Broker) -> None:
    s = session(broker)
    will = Will("last/words", b"bye", 1, True, {"will_delay_interval": 30, "user_property": [("k", "v")]})
    stores.current.save_session(s, Owner(), will, 1_700_000_100.0, 1_700_000_130.0)
    [back] = stores.reopen().load_sessions()
    assert (back.client_id, back.expiry_interval, back.created_at) == ("c1", 3600, 1_700_000_000.0)
    assert (back.disconnected_at, back.will_at) == (1_700_000_100.0, 1_700_000_130.0)
    assert (back.username, back.peerhost) == ("alice", "10.0.0.7")
    assert back.will == will


async def test_saving_a_session_again_replaces_its_header(stores: Stores, broker: Broker) -> None:
    s = session(broker)
    stores.current.save_session(s, Owner(), Will("w", b"x"), 0.0, 0.0)
    s.expiry_interval = 60
    stores.current.save_session(s, Owner(), None, 5.0, 0.0)
    [back] = stores.reopen().load_sessions()
    assert (back.expiry_interval, back.will, back.disconnected_at) == (60, None, 5.0)


async def test_subscriptions_come_back_with_their_options(stores: Stores, broker: Broker) -> None:
    s = session(broker)
    store = stores.current
    store.save_session(s, Owner(), None, 0.0, 0.0)
    plain = Subscription("a/+", "a/+", None, SubscriptionOptions(2, True, True, 2), 7)
    shared = Subscription("$share/g/b/#", "b/#", "g", SubscriptionOptions(1), None)
    gone = Subscription("c", "c", None, SubscriptionOptions(0), None)
    for sub in (plain, shared, gone):
        store.save_subscription(s, sub)
    store.delete_subscription(s, "c")
    [back] = stores.reopen().load_sessions()
    got = {sub.topic_filter: sub for sub in back.subscriptions}
    assert sorted(got) == ["$share/g/b/#", "a/+"]
    a = got["a/+"]
    assert (a.qos, a.no_local, a.rap, a.rh, a.sub_id, a.sub_ids) == (2, True, True, 2, 7, (7,))
    b = got["$share/g/b/#"]
    assert (b.real_filter, b.group, b.qos, b.sub_id) == ("b/#", "g", 1, None)


async def test_queued_and_inflight_deliveries_come_back_in_order(stores: Stores, broker: Broker) -> None:
    s = session(broker)
    store = stores.current
    store.save_session(s, Owner(), None, 0.0, 0.0)
    props = {"message_expiry_interval": 60, "correlation_data": b"\x00\x01", "user_property": [("a", "b")]}
    sent = [message("t/0", b"zero", properties=props), message("t/1", b"one", qos=2), message("t/2", b"two")]
    deliveries = [Delivery(m, m.qos, i == 0, (3, 4) if i == 0 else (), None) for i, m in enumerate(sent)]
    for d in deliveries:
        store.save_delivery(s, d)
    deliveries[1].packet_id = 9
    deliveries[1].state = AWAIT_COMP
    store.save_delivery(s, deliveries[1])  # in flight, PUBREC received
    [back] = stores.reopen().load_sessions()
    assert [d.message.topic for d in back.deliveries] == ["t/0", "t/1", "t/2"]
    first, second, third = back.deliveries
    assert same_message(first.message, sent[0])
    assert (first.retain, first.sub_ids, first.packet_id) == (True, (3, 4), 0)
    assert (second.qos, second.packet_id, second.state) == (2, 9, AWAIT_COMP)
    assert third.packet_id == 0


async def test_a_message_held_by_many_sessions_is_stored_once(stores: Stores, broker: Broker) -> None:
    store = stores.current
    shared = message()
    sessions = [session(broker, f"c{i}") for i in range(3)]
    deliveries = []
    for s in sessions:
        store.save_session(s, Owner(), None, 0.0, 0.0)
        d = Delivery(shared, 1, False, (), None)
        store.save_delivery(s, d)
        deliveries.append(d)
    assert len({d.key for d in deliveries}) == 3
    store.delete_delivery(sessions[0], deliveries[0])
    reopened = stores.reopen()
    loaded = reopened.load_sessions()
    held = [d.message for stored in loaded for d in stored.deliveries]
    assert len(held) == 2 and held[0] is held[1]  # one stored message, read once
    # Acknowledged by every remaining holder: the message row goes too.
    for stored in loaded:
        for d in stored.deliveries:
            reopened.delete_delivery(session(broker, stored.client_id), d)
    again = stores.reopen()
    assert again._largest(records.MESSAGES, "id") == 0  # no message row is left
    assert all(not st.deliveries for st in again.load_sessions())


async def test_deleting_a_session_forgets_everything_it_held(stores: Stores, broker: Broker) -> None:
    store = stores.current
    s, other = session(broker, "gone"), session(broker, "kept")
    for x in (s, other):
        store.save_session(x, Owner(), None, 0.0, 0.0)
        store.save_subscription(x, Subscription("t", "t", None, SubscriptionOptions(1), None))
        d = Delivery(message(), 1, False, (), None)
        store.save_delivery(x, d)
        x.mqueue = deque([d])
        store.save_awaiting_rel(x, 5, 2.0)
    store.delete_session(s)
    [back] = stores.reopen().load_sessions()
    assert back.client_id == "kept"
    assert (len(back.subscriptions), len(back.deliveries), back.awaiting_rel) == (1, 1, {5: 2.0})


async def test_a_session_deleted_and_started_again_keeps_only_the_new_rows(
    stores: Stores, broker: Broker
) -> None:
    store = stores.current
    s = session(broker)
    store.save_session(s, Owner(), None, 0.0, 0.0)
    store.save_subscription(s, Subscription("old", "old", None, SubscriptionOptions(1), None))
    await stores.committed()
    store.save_subscription(s, Subscription("new", "new", None, SubscriptionOptions(1), None))
    store.delete_session(s)
    fresh = session(broker)
    store.save_session(fresh, Owner(), None, 0.0, 0.0)
    store.save_subscription(fresh, Subscription("new", "new", None, SubscriptionOptions(0), None))
    [back] = stores.reopen().load_sessions()
    assert [(sub.topic_filter, sub.qos) for sub in back.subscriptions] == [("new", 0)]


async def test_inbound_qos2_ids_come_back(stores: Stores, broker: Broker) -> None:
    store = stores.current
    s = session(broker)
    store.save_session(s, Owner(), None, 0.0, 0.0)
    for pid in (1, 2, 65535):
        store.save_awaiting_rel(s, pid, float(pid))
    store.delete_awaiting_rel(s, 2)
    [back] = stores.reopen().load_sessions()
    assert back.awaiting_rel == {1: 1.0, 65535: 65535.0}


async def test_retained_messages_come_back_and_deleted_ones_do_not(stores: Stores) -> None:
    store = stores.current
    kept = message("r/1", b"kept", retain=True, properties={"content_type": "text/plain"})
    store.save_retained(kept)
    store.save_retained(message("r/2", b"old", retain=True))
    store.save_retained(message("r/2", b"new", retain=True))
    store.save_retained(message("r/3", b"gone", retain=True))
    store.delete_retained("r/3")
    back = {m.topic: m for m in stores.reopen().load_retained()}
    assert sorted(back) == ["r/1", "r/2"]
    assert same_message(back["r/1"], kept)
    assert back["r/2"].payload == b"new"


async def test_delayed_messages_come_back_with_when_they_are_due(stores: Stores) -> None:
    store = stores.current
    first = store.save_delayed(100.0, message("d/1"))
    second = store.save_delayed(50.0, message("d/2", qos=0))
    store.delete_delayed(first)
    reopened = stores.reopen()
    [back] = reopened.load_delayed()
    assert (back.key, back.due_at, back.message.topic, back.message.qos) == (second, 50.0, "d/2", 0)
    assert reopened.save_delayed(1.0, message()) > second  # keys are never reused


async def test_collections_keep_documents_by_key(stores: Stores) -> None:
    users = stores.current.collection("dashboard_users")
    users.put("admin", {"role": "administrator", "tags": ["a"]})
    users.put("viewer", {"role": "viewer"})
    users.put("admin", {"role": "administrator", "tags": ["b"]})
    users.put("tmp", {})
    assert users.delete("tmp") and not users.delete("tmp")
    doc = users.get("admin")
    assert doc == {"role": "administrator", "tags": ["b"]}
    doc["role"] = "changed"  # a copy: the collection is not changed behind the store's back
    assert users.get("admin") == {"role": "administrator", "tags": ["b"]}
    back = stores.reopen().collection("dashboard_users")
    assert back.items() == [
        ("admin", {"role": "administrator", "tags": ["b"]}),
        ("viewer", {"role": "viewer"}),
    ]
    assert len(back) == 2 and back.get("tmp") is None


async def test_an_unknown_collection_is_refused(stores: Stores) -> None:
    with pytest.raises(KeyError, match="no collection 'nope'"):
        stores.current.collection("nope")


async def test_after_commit_runs_once_what_came_before_has_committed(stores: Stores, broker: Broker) -> None:
    store = stores.current
    store.save_retained(message("r", b"x", retain=True))
    ran: list[int] = []
    store.after_commit(lambda: ran.append(1))
    store.after_commit(lambda: ran.append(2))
    await stores.committed()
    assert ran == [1, 2]
    assert [m.topic for m in stores.reopen().load_retained()] == ["r"]


async def test_writes_counts_every_change(stores: Stores, broker: Broker) -> None:
    store = stores.current
    before = store.writes
    store.save_retained(message("r", b"x", retain=True))
    store.delete_retained("r")
    assert store.writes == before + 2
