"""Random sequences of client actions against the core: the broker never hits an internal
error, its routing state stays consistent (reliability.md section 1, classes 6, 10-20), and its
store always holds exactly the persistent state, so a restart (one of the actions) loses nothing
(reliability.md section 3, the stateful durable-session fuzzer).

A short run is in the default suite; `make test-slow` runs the long one.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brookmq.core.broker import Broker
from brookmq.core.clock import ManualClock
from brookmq.core.options import MqttOptions
from brookmq.mqtt import packets as pk
from brookmq.storage.memory import MemoryStore
from tests.memory import MemoryClient, drop

CLIENT_IDS = ["a", "b", "c"]
TOPICS = ["t", "t/x", "t/y/z", "$SYS/x", "u"]
FILTERS = ["t/#", "#", "+/x", "$share/g/t/#", "$queue/t"]

client_id = st.sampled_from(CLIENT_IDS)
connect = st.tuples(
    st.just("connect"),
    client_id,
    st.sampled_from([3, 4, 5]),
    st.sampled_from([False, False, True]),  # clean start: mostly keep the session
    st.sampled_from([0, 30]),
    st.booleans(),
)
subscribe = st.tuples(
    st.just("subscribe"), client_id, st.sampled_from(FILTERS), st.integers(0, 2), st.integers(0, 2)
)
# Unsubscribe from one of the client's current filters (by index), or from any filter.
unsubscribe = st.tuples(st.just("unsubscribe"), client_id, st.integers(0, 9), st.booleans())
publish = st.tuples(
    st.just("publish"),
    client_id,
    st.sampled_from(TOPICS),
    st.integers(0, 2),
    st.booleans(),
    st.binary(max_size=8),
    st.integers(1, 5),
)
ack = st.tuples(
    st.just("ack"), client_id, st.sampled_from(["puback", "pubrec", "pubrel", "pubcomp"]), st.integers(1, 5)
)
ack_all = st.tuples(st.just("ack_all"), client_id)
# Weighted by repetition: the common actions come up more often than the disruptive ones.
action = st.one_of(
    connect,
    connect,
    subscribe,
    subscribe,
    subscribe,
    unsubscribe,
    unsubscribe,
    publish,
    publish,
    publish,
    ack,
    ack_all,
    ack_all,
    st.tuples(st.just("disconnect"), client_id, st.sampled_from([0, 4])),
    st.tuples(st.just("drop"), client_id),
    st.tuples(st.just("garbage"), client_id, st.binary(min_size=1, max_size=12)),
    st.tuples(st.just("pause"), client_id, st.booleans()),
    st.tuples(st.just("time"), st.integers(1, 400)),
    st.tuples(
        st.just("restart"),
    ),
)


class InternalErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def check_invariants(broker: Broker) -> None:
    router = broker.router
    subs = sum(len(s.subscriptions) for s in broker.sessions.values())
    assert router.subscription_count == subs
    assert sum(router.filters.values()) == subs
    assert router.shared_count == sum(
        1 for s in broker.sessions.values() for sub in s.subscriptions.values() if sub.group is not None
    )
    connected = [s for s in broker.sessions.values() if s.connection is not None]
    assert broker.connected == len(connected)
    assert broker.queued_bytes == sum(s.mqueue_bytes for s in broker.sessions.values())
    for session in broker.sessions.values():
        held = sum(len(d.message.payload) for d in session.mqueue)
        assert session.mqueue_bytes == held <= broker.options.max_mqueue_bytes
        assert len(session.mqueue) <= broker.options.max_mqueue_len
        assert len(session.inflight) <= broker.options.max_inflight
        assert len(session.awaiting_rel) <= broker.options.max_awaiting_rel


def _delivery(d) -> tuple:
    m = d.message
    return (m.topic, m.payload, m.qos, d.qos, d.retain, d.sub_ids, d.state)


def check_store_mirrors(broker: Broker, store: MemoryStore) -> None:
    """What a restarted broker would load is exactly the live persistent state."""
    kept = store.reopen()
    stored = {s.client_id: s for s in kept.load_sessions()}
    persistent = {cid: s for cid, s in broker.sessions.items() if s.expiry_interval}
    assert set(stored) == set(persistent)
    for cid, live in persistent.items():
        back = stored[cid]
        assert back.expiry_interval == live.expiry_interval
        assert {s.topic_filter: (s.qos, s.no_local, s.rap, s.rh, s.sub_id) for s in back.subscriptions} == {
            s.topic_filter: (s.qos, s.no_local, s.rap, s.rh, s.sub_id) for s in live.subscriptions.values()
        }
        assert {d.packet_id: _delivery(d) for d in back.deliveries if d.packet_id} == {
            pid: _delivery(d) for pid, d in live.inflight.items()
        }
        assert [_delivery(d) for d in back.deliveries if not d.packet_id] == [
            _delivery(d) for d in live.mqueue
        ]
        assert set(back.awaiting_rel) == set(live.awaiting_rel)
    live_retained = broker.retained.match("#") + broker.retained.match("$SYS/#")
    assert sorted((m.topic, m.payload) for m in kept.load_retained()) == sorted(
        (m.topic, m.payload) for m in live_retained
    )


def with_everyone_connected(actions: list[tuple]) -> list[tuple]:
    return [("connect", cid, 5 if i else 4, False, 30, i == 1) for i, cid in enumerate(CLIENT_IDS)] + actions


async def run(actions: list[tuple]) -> None:
    clock = ManualClock()
    options = MqttOptions(
        max_inflight=3, max_mqueue_len=4, max_mqueue_bytes=10, max_awaiting_rel=3, await_rel_timeout=100
    )
    store = MemoryStore()
    broker = Broker(options, clock=clock, store=store)
    store.attach(broker)
    clients: dict[str, MemoryClient] = {}
    for act in actions:
        if act[0] == "restart":  # the process dies; a new broker starts on what the store kept
            store = store.reopen()
            broker = Broker(options, clock=clock, store=store)
            broker.restore()
            store.attach(broker)
            clients.clear()
            check_invariants(broker)
            check_store_mirrors(broker, store)
            continue
        kind, cid = act[0], act[1] if len(act) > 1 else None
        c = clients.get(cid) if cid else None
        live = c is not None and not c.closed
        if kind == "connect":
            _, _, version, clean, expiry, will = act
            c = clients[cid] = MemoryClient(broker, version)
            props = {"session_expiry_interval": expiry} if version == 5 and expiry else {}
            c.send(
                pk.Connect(
                    cid,
                    version,
                    clean,
                    60,
                    will=pk.Will("t/will", b"w", 1) if will else None,
                    properties=props,
                )
            )
        elif not live and kind != "time":
            continue
        elif kind == "subscribe":
            _, _, topic_filter, qos, rh = act
            opts = pk.SubscriptionOptions(qos, retain_handling=rh if c.version == 5 else 0)
            c.send(pk.Subscribe(1, [(topic_filter, opts)]))
        elif kind == "unsubscribe":
            held = sorted(broker.sessions[cid].subscriptions) if cid in broker.sessions else []
            choice = held[act[2] % len(held)] if held and act[3] else FILTERS[act[2] % len(FILTERS)]
            c.send(pk.Unsubscribe(2, [choice]))
        elif kind == "publish":
            _, _, topic, qos, retain, payload, pid = act
            c.send(pk.Publish(topic, payload, qos, retain, packet_id=pid if qos else 0))
        elif kind == "ack":
            cls = {"puback": pk.Puback, "pubrec": pk.Pubrec, "pubrel": pk.Pubrel, "pubcomp": pk.Pubcomp}[
                act[2]
            ]
            c.send(cls(act[3]))
        elif kind == "ack_all":  # what has arrived so far; PUBRELs this causes wait for the next one
            for p in c.recv_all():
                if isinstance(p, pk.Pubrel):
                    c.send(pk.Pubcomp(p.packet_id))
                elif isinstance(p, pk.Publish) and p.qos == 1:
                    c.send(pk.Puback(p.packet_id))
                elif isinstance(p, pk.Publish) and p.qos == 2:
                    c.send(pk.Pubrec(p.packet_id))
        elif kind == "disconnect":
            c.send(pk.Disconnect(act[2] if c.version == 5 else 0))
        elif kind == "drop":
            drop(c)
        elif kind == "garbage":
            c.send_raw(act[2])
        elif kind == "pause":
            (c.conn.pause_writing if act[2] else c.conn.resume_writing)()
        elif kind == "time":
            clock.advance(act[1])
        await asyncio.sleep(0)  # let connection_lost callbacks run
        check_invariants(broker)
        check_store_mirrors(broker, store)
    broker.shutdown()


def fuzz(actions: list[tuple]) -> None:
    errors = InternalErrors()
    logger = logging.getLogger("brookmq")
    logger.addHandler(errors)
    try:
        asyncio.run(run(with_everyone_connected(actions)))
    finally:
        logger.removeHandler(errors)
    assert not errors.records, [r.getMessage() for r in errors.records]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=20, max_size=60))
def test_random_client_actions_keep_the_broker_consistent(actions):
    fuzz(actions)


@pytest.mark.slow
@pytest.mark.timeout(1200)
@settings(max_examples=10000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=50, max_size=200))
def test_random_client_actions_keep_the_broker_consistent_long(actions):
    fuzz(actions)
