"""SUBSCRIBE / UNSUBSCRIBE answers and shared subscriptions."""

from __future__ import annotations

from collections import Counter

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop

from brookmq.core.hooks import Hook
from brookmq.mqtt import packets as pk


@pytest.mark.parametrize(("version", "bad"), [(pk.MQTT_3_1_1, 0x80), (pk.MQTT_5, 0x8F)])
async def test_suback_has_a_code_per_filter_in_order_MQTT_3_8_4_6(client, version, bad):
    c = client("c", version)
    c.send(
        pk.Subscribe(
            1,
            [
                ("ok/+", pk.SubscriptionOptions(1)),
                ("bad/#/x", pk.SubscriptionOptions(1)),
                ("$share//x", pk.SubscriptionOptions(0)),
                ("q", pk.SubscriptionOptions(2)),
            ],
        )
    )
    assert c.recv() == pk.Suback(1, [1, bad, bad, 2])


async def test_wildcards_refused_with_0xA2_when_disabled(make_broker):
    broker = make_broker(wildcard_subscription=False)
    c = MemoryClient(broker)
    c.connect("c")
    assert c.subscribe("a/+").reason_codes == [0xA2]
    assert c.subscribe("a/b", packet_id=2).reason_codes == [0]


async def test_shared_refused_with_0x9E_when_disabled(make_broker):
    broker = make_broker(shared_subscription=False)
    c = MemoryClient(broker)
    c.connect("c")
    assert c.subscribe("$share/g/a").reason_codes == [0x9E]


async def test_granted_qos_is_capped_by_max_qos_allowed(make_broker):
    broker = make_broker(max_qos_allowed=1)
    c = MemoryClient(broker)
    c.connect("c")
    assert c.subscribe("a", 2).reason_codes == [1]


async def test_subscription_quota_is_0x97_past_max_subscriptions(make_broker):
    broker = make_broker(max_subscriptions=1)
    c = MemoryClient(broker)
    c.connect("c")
    assert c.subscribe("a").reason_codes == [0]
    assert c.subscribe("a", 1, packet_id=2).reason_codes == [1]  # replacing is not a new one
    assert c.subscribe("b", packet_id=3).reason_codes == [0x97]


async def test_no_local_on_a_shared_subscription_is_a_protocol_error_MQTT_3_8_3_4(client):
    c = client("c")
    c.send(pk.Subscribe(1, [("$share/g/t", pk.SubscriptionOptions(0, no_local=True))]))
    assert c.recv(pk.Disconnect).reason_code == 0x82


async def test_resubscribe_replaces_the_options_MQTT_3_8_4_3(client, broker):
    sub = client("s")
    sub.subscribe("t", 0)
    sub.subscribe("t", 2, packet_id=2)
    client("p").publish("t", b"x", 2)
    assert [m.qos for m in sub.publishes()] == [2]
    assert broker.router.subscription_count == 1


@pytest.mark.parametrize("version", VERSIONS)
async def test_unsuback_codes_and_delivery_stops_MQTT_3_10_4_4(client, version):
    c = client("c", version)
    c.subscribe("t")
    c.send(pk.Unsubscribe(5, ["t", "never", "a/#/b"]))
    expected = [0, 0x11, 0x8F] if version == pk.MQTT_5 else []
    assert c.recv() == pk.Unsuback(5, expected)
    client("p", version).publish("t")
    assert c.publishes() == []


@pytest.mark.parametrize(("version", "code"), [(pk.MQTT_3_1_1, 0x80), (pk.MQTT_5, 0x87)])
async def test_authorization_hook_can_refuse_a_subscription(broker, client, version, code):
    class NoSecrets(Hook):
        def client_authorize(self, client, action, topic, qos, retain):
            return False if topic.startswith("secret") else None

    broker.hooks.add(NoSecrets())
    c = client("c", version)
    assert c.subscribe("secret/x").reason_codes == [code]
    assert c.subscribe("open/x", packet_id=2).reason_codes == [0]


async def test_authorization_hook_can_refuse_a_publish(broker, client):
    class ReadOnly(Hook):
        def client_authorize(self, client, action, topic, qos, retain):
            return action != "publish"

    broker.hooks.add(ReadOnly())
    sub = client("s")
    sub.subscribe("t")
    pub = client("p")
    pub.publish("t", b"x", 1, packet_id=4)
    assert pub.recv() == pk.Puback(4, 0x87)
    assert sub.publishes() == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_shared_subscription_gives_each_message_to_one_member_round_robin(client, version):
    members = [client(f"m{i}", version) for i in range(3)]
    for m in members:
        m.subscribe("$share/g/jobs/+", 1)
    pub = client("p", version)
    for i in range(9):
        pub.publish(f"jobs/{i}", str(i).encode())
    counts = [len(m.publishes()) for m in members]
    assert counts == [3, 3, 3]


async def test_queue_prefix_is_a_shared_group(client):
    a, b = client("a"), client("b")
    a.subscribe("$queue/q")
    b.subscribe("$queue/q")
    pub = client("p")
    for _ in range(4):
        pub.publish("q")
    assert len(a.publishes()) + len(b.publishes()) == 4


async def test_shared_and_normal_subscriptions_each_get_a_copy(client):
    a = client("a")
    a.subscribe("$share/g/t")
    a.subscribe("t", packet_id=2)
    client("p").publish("t")
    assert len(a.publishes()) == 2


async def test_separate_groups_each_get_the_message(client):
    a, b = client("a"), client("b")
    a.subscribe("$share/g1/t")
    b.subscribe("$share/g2/t")
    client("p").publish("t")
    assert len(a.publishes()) == len(b.publishes()) == 1


@pytest.mark.parametrize("strategy", ["random", "sticky", "hash_clientid", "hash_topic"])
async def test_every_strategy_delivers_each_message_exactly_once(make_broker, strategy):
    broker = make_broker(shared_subscription_strategy=strategy)
    members = []
    for i in range(3):
        m = MemoryClient(broker)
        m.connect(f"m{i}")
        m.subscribe("$share/g/t/#")
        members.append(m)
    pub = MemoryClient(broker)
    pub.connect("p")
    for i in range(30):
        pub.publish(f"t/{i % 3}", str(i).encode())
    got = [[int(p.payload) for p in m.publishes()] for m in members]
    assert sorted(i for g in got for i in g) == list(range(30))
    busy = [g for g in got if g]
    if strategy in ("sticky", "hash_clientid"):
        assert len(busy) == 1  # one publisher: always the same member
    if strategy == "hash_topic":
        topics = Counter()
        for g in got:
            topics.update({i % 3 for i in g})
        assert all(n == 1 for n in topics.values())  # one topic, one member


async def test_shared_subscriptions_get_no_retained_messages(client):
    client("p").publish("t", b"x", retain=True)
    a = client("a")
    a.subscribe("$share/g/t")
    assert a.publishes() == []


async def test_unacked_shared_messages_are_redispatched_when_a_member_leaves(broker):
    a = MemoryClient(broker)
    a.connect("a")
    a.subscribe("$share/g/t", 1)
    b = MemoryClient(broker)
    b.connect("b")
    b.subscribe("$share/g/t", 1)
    pub = MemoryClient(broker)
    pub.connect("p")
    pub.publish("t", b"1", 1)
    pub.publish("t", b"2", 1, packet_id=2)
    got_a = a.publishes()
    got_b = b.publishes()
    assert len(got_a) == len(got_b) == 1
    drop(a)  # leaves without acknowledging
    assert sorted(m.payload for m in got_b + b.publishes()) == [b"1", b"2"]


async def test_mixing_shared_and_normal_then_reconnecting_keeps_routing_consistent(broker):
    # CVE-2024-8376 class
    for _ in range(3):
        c = MemoryClient(broker)
        c.connect("c", clean_start=False, properties={"session_expiry_interval": 60})
        c.subscribe("$share/g/a")
        c.subscribe("a", packet_id=2)
        c.send(pk.Unsubscribe(3, ["$share/g/a"]))
        c.recv(pk.Unsuback)
        drop(c)
    assert broker.router.subscription_count == 1 and broker.router.shared_count == 0
    c = MemoryClient(broker)
    c.connect("c", clean_start=True)
    assert broker.router.subscription_count == 0 and broker.router.filters == {}
