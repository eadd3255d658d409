"""The rule engine inside one broker: it listens only to the hook points its rules need, finds
a message's rules through its topic index, and its queue is bounded."""

from __future__ import annotations

import asyncio
import json

from brookmq.core.broker import Broker
from brookmq.extensions.rules.engine import RuleEngine
from brookmq.extensions.rules.index import TopicIndex
from brookmq.service.rules import Rules
from brookmq.storage.memory import MemoryStore


def _setup(max_pending: int = 10_000) -> tuple[Broker, RuleEngine, Rules]:
    broker = Broker()
    engine = RuleEngine(broker, max_pending=max_pending)
    engine.start()
    return broker, engine, Rules(engine, MemoryStore().collection("rules"))


async def test_hooks_are_there_only_while_a_rule_needs_them() -> None:
    broker, _, rules = _setup()
    points = ("message.published", "client.connected", "message.delivered")
    assert not any(broker.hooks.listeners(point) for point in points)
    rules.create({"id": "t", "sql": 'SELECT * FROM "a/#"'})
    assert broker.hooks.listeners("message.published") and not broker.hooks.listeners("message.delivered")
    rules.create({"id": "e", "sql": 'SELECT * FROM "$events/client_connected"'})
    assert broker.hooks.listeners("client.connected")
    rules.update("e", {"sql": 'SELECT * FROM "$events/message_delivered"'})
    assert not broker.hooks.listeners("client.connected") and broker.hooks.listeners("message.delivered")
    rules.delete("t")
    rules.delete("e")
    assert not any(broker.hooks.listeners(point) for point in points)


async def test_a_message_runs_only_the_rules_whose_filter_matches() -> None:
    broker, engine, rules = _setup()
    for i in range(100):
        rules.create({"id": f"r{i}", "sql": f'SELECT payload.n AS n FROM "dev/{i}/+"'})
    rules.create({"id": "all", "sql": 'SELECT * FROM "dev/#"'})
    broker.client("p").publish("dev/7/x", json.dumps({"n": 1}))
    await asyncio.sleep(0)
    matched = {rule_id for rule_id, rule in engine.rules.items() if rule.metrics.counts["matched"]}
    assert matched == {"r7", "all"}
    assert engine.rules["r7"].metrics.counts["passed"] == 1


async def test_the_queue_is_bounded() -> None:
    broker, engine, rules = _setup(max_pending=2)
    rules.create({"id": "r", "sql": 'SELECT * FROM "q"'})
    publisher = broker.client("p")
    for _ in range(5):  # all before the loop runs the queue
        publisher.publish("q", b"x")
    await asyncio.sleep(0)
    counts = engine.rules["r"].metrics.counts
    assert (counts["matched"], counts["passed"], counts["failed.unknown"]) == (5, 2, 3)
    assert engine.dropped == 3


async def test_a_disabled_rule_does_not_run_and_sys_messages_are_ignored() -> None:
    broker, engine, rules = _setup()
    rules.create({"id": "off", "sql": 'SELECT * FROM "#"', "enable": False})
    rules.create({"id": "sys", "sql": 'SELECT * FROM "$SYS/#"'})
    broker.client("p").publish("x", b"1")
    broker.client("p").publish("$SYS/brokers/x", b"1")
    await asyncio.sleep(0)
    assert engine.rules["off"].metrics.counts["matched"] == 0
    assert engine.rules["sys"].metrics.counts["matched"] == 0
    engine.ignore_sys_message = False
    broker.client("p").publish("$SYS/brokers/x", b"1")
    await asyncio.sleep(0)
    assert engine.rules["sys"].metrics.counts["matched"] == 1


def test_the_topic_index() -> None:
    index: TopicIndex[str] = TopicIndex()
    for topic_filter in ("a/+", "a/#", "#", "+/b", "a/b", "$SYS/#"):
        index.add(topic_filter, topic_filter)
    assert set(index.match("a/b")) == {"a/+", "a/#", "#", "+/b", "a/b"}
    assert set(index.match("$SYS/x")) == {"$SYS/#"}  # no first-level wildcard for $ topics
    assert set(index.match("a")) == {"a/#", "#"}
    index.remove("a/#", "a/#")
    index.remove("a/b", "a/b")
    assert set(index.match("a/b")) == {"a/+", "#", "+/b"} and index.size == 4
