"""Authorization: sources, rules, no_match, deny_action, superusers and the cache."""

from __future__ import annotations

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop, settle

from brookmq.core import authz_cache
from brookmq.core.authz_cache import AuthzCacheOptions
from brookmq.core.broker import Broker
from brookmq.core.clock import ManualClock
from brookmq.extensions.authz.authorization import Authorization
from brookmq.extensions.authz.sources import BuiltinRules, FileRules
from brookmq.mqtt import packets as pk
from brookmq.storage.memory import MemoryStore

DENIED_SUB = {pk.MQTT_5: 0x87, pk.MQTT_3_1_1: 0x80}
REMOTE = "192.0.2.7"  # not 127.0.0.1, which the default rules let do anything


def authorization(
    broker: Broker, rules: str | None = None, cache: AuthzCacheOptions | None = None, **kwargs
) -> Authorization:
    """The built-in database first, then a rules file (BrookMQ's default when ``rules`` is None)."""
    store = broker.store or MemoryStore()
    sources = [BuiltinRules(store.collection("acl_rules")), FileRules(text=rules)]
    authz = Authorization(broker, sources, cache=cache, **kwargs)
    authz.start()
    return authz


def client(
    broker: Broker, client_id: str, version: int = pk.MQTT_5, peerhost: str = REMOTE, **kwargs
) -> MemoryClient:
    c = MemoryClient(broker, version, peerhost=peerhost)
    assert c.connect(client_id, **kwargs).reason_code == 0
    return c


def suback(c: MemoryClient, topic: str, qos: int = 0) -> int:
    return c.subscribe(topic, qos).reason_codes[0]


def puback(c: MemoryClient, topic: str, qos: int = 1, retain: bool = False) -> int:
    c.publish(topic, qos=qos, retain=retain)
    return c.recv(pk.Puback if qos == 1 else pk.Pubrec).reason_code


@pytest.mark.parametrize("version", VERSIONS)
async def test_default_rules_keep_sys_and_hash_from_remote_subscribers(clock, version) -> None:
    broker = Broker(clock=clock)
    authorization(broker)
    remote = client(broker, "remote", version)
    assert suback(remote, "$SYS/brokers") == DENIED_SUB[version]
    assert suback(remote, "#") == DENIED_SUB[version]
    assert suback(remote, "a/#") == 0  # only "#" itself is denied
    local = client(broker, "local", version, peerhost="127.0.0.1")
    assert suback(local, "#") == 0 and suback(local, "$SYS/#") == 0
    dashboard = client(broker, "d", version, username="dashboard")
    assert suback(dashboard, "$SYS/#") == 0
    assert broker.counters["authorization.deny"] == 2


async def test_a_denied_publish_is_answered_0x87_in_v5_and_dropped_in_v3(clock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, '{deny, all, publish, ["secret/#"]}.')
    watcher = client(broker, "w")
    watcher.subscribe("secret/#", 1)
    v5 = client(broker, "v5")
    assert puback(v5, "secret/a", 1) == 0x87 and puback(v5, "secret/a", 2) == 0x87
    v5.publish("secret/a", qos=0)
    v3 = client(broker, "v3", pk.MQTT_3_1_1)
    assert puback(v3, "secret/a", 1) == 0  # v3 cannot say no: acknowledged, dropped
    assert watcher.publishes() == []
    assert puback(v5, "open", 1) == 0x10  # allowed (no subscriber)
    assert broker.counters["packets.publish.auth_error"] == 4


@pytest.mark.parametrize("version", VERSIONS)
async def test_deny_action_disconnect_closes_the_connection(clock, version) -> None:
    broker = Broker(clock=clock)
    authorization(broker, '{deny, all, all, ["forbidden"]}.', deny_action="disconnect")
    c = client(broker, "c", version)
    c.publish("forbidden", qos=1)
    await settle()
    assert c.closed and pk.Puback not in [type(p) for p in c.inbox]
    if version == pk.MQTT_5:
        assert c.recv(pk.Disconnect).reason_code == 0x87
    s = client(broker, "s", version)
    s.send(pk.Subscribe(1, [("forbidden", pk.SubscriptionOptions(0))]))
    await settle()
    assert s.closed and pk.Suback not in [type(p) for p in s.inbox]


async def test_first_matching_source_and_rule_win_then_no_match(clock) -> None:
    broker = Broker(clock=clock)
    authz = authorization(
        broker,
        """
        {allow, {clientid, "special"}, publish, ["x/#"]}.
        {deny, all, publish, ["x/#"]}.
        """,
        no_match="deny",
    )
    db = authz.source("built_in_database")
    assert isinstance(db, BuiltinRules)
    db.set_rules("username", "alice", [{"topic": "x/alice", "permission": "allow", "action": "publish"}])
    db.set_rules("clientid", "bob-1", [{"topic": "x/#", "permission": "deny", "action": "all"}])
    db.set_rules("all", "", [{"topic": "x/bob", "permission": "allow", "action": "publish"}])
    alice = client(broker, "a", username="alice")
    assert puback(alice, "x/alice") == 0x10  # her own rule, before the file's deny
    assert puback(alice, "x/other") == 0x87  # the file's deny
    bob = client(broker, "bob-1", username="bob")
    assert puback(bob, "x/bob") == 0x87  # client id rules come before rules for all
    assert puback(client(broker, "special"), "x/y") == 0x10
    assert puback(alice, "elsewhere") == 0x87  # nothing matches: no_match = deny
    assert broker.counters["authorization.nomatch"] == 1


async def test_placeholders_never_widen_with_wildcards_or_levels(clock) -> None:
    broker = Broker(clock=clock)
    authorization(
        broker,
        """
        {allow, all, all, ["users/%u/#", "devices/${clientid}/+"]}.
        {deny, all, all, ["private/%u/#"]}.
        {allow, all, publish, ["private/#"]}.
        """,
        no_match="deny",
    )
    alice = client(broker, "dev1", username="alice")
    assert suback(alice, "users/alice/#") == 0 and suback(alice, "devices/dev1/state") == 0
    assert suback(alice, "users/bob/x") == 0x87 and suback(alice, "users/+/x") == 0x87
    hacker = client(broker, "#", username="+")
    assert suback(hacker, "users/+/x") == 0x87  # "+" as a username is the word "+", not a wildcard
    assert suback(hacker, "users/alice/x") == 0x87
    assert suback(hacker, "devices/#") == 0x87
    slash = client(broker, "s", username="alice/x")
    assert suback(slash, "users/alice/x/y") == 0x87  # "/" would reach into alice's levels
    assert puback(slash, "private/alice/x/secret") == 0x87  # but a deny rule still applies
    assert puback(slash, "private/other") == 0x10
    anonymous = client(broker, "anon")
    assert suback(anonymous, "users//x") == 0x87  # no username: a %u rule is not about it


async def test_sys_topics_follow_deny_rules_and_wildcards_do_not_reach_them(clock) -> None:
    broker = Broker(clock=clock)
    authorization(
        broker, '{deny, all, subscribe, ["$SYS/brokers/#"]}. {allow, all, all, ["#"]}.', no_match="deny"
    )
    c = client(broker, "c")
    assert suback(c, "$SYS/brokers/+/version") == 0x87
    assert suback(c, "$SYS/other") == 0x87  # "#" does not cover $ topics
    assert suback(c, "a/b") == 0


async def test_qos_and_retain_conditions(clock) -> None:
    broker = Broker(clock=clock)
    authorization(
        broker,
        """
        {deny, all, {publish, [{retain, true}]}, ["#"]}.
        {deny, all, {all, [{qos, 2}]}, ["#"]}.
        """,
    )
    c = client(broker, "c")
    assert puback(c, "t", 1, retain=True) == 0x87
    assert puback(c, "t", 1) == 0x10
    assert puback(c, "t", 2) == 0x87
    assert suback(c, "t", 2) == 0x87 and suback(c, "t", 1) == 1


async def test_a_denied_retained_message_is_not_kept(clock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, '{deny, all, {publish, [{retain, true}]}, ["#"]}.')
    c = client(broker, "c")
    assert puback(c, "kept", 1, retain=True) == 0x87
    later = client(broker, "later")
    later.subscribe("kept")
    assert later.publishes() == []


async def test_a_denied_will_is_not_published(clock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, '{deny, all, publish, ["wills/denied"]}.')
    watcher = client(broker, "w")
    watcher.subscribe("wills/#")
    for topic in ("wills/denied", "wills/allowed"):
        c = MemoryClient(broker, pk.MQTT_5, peerhost=REMOTE)
        c.connect(topic.replace("/", "-"), will=pk.Will(topic, b"bye", 0, False))
        drop(c)
    await settle()
    assert [p.topic for p in watcher.publishes()] == ["wills/allowed"]


async def test_superusers_skip_every_rule(clock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, "{deny, all}.")
    root = MemoryClient(broker, pk.MQTT_5, peerhost=REMOTE)
    root.conn.is_superuser = True  # as an authenticator sets it
    root.connect("root")
    assert suback(root, "#") == 0 and puback(root, "t") == 0
    assert broker.counters["authorization.superuser"] == 2
    assert suback(client(broker, "other"), "t") == 0x87


async def test_the_cache_answers_repeats_until_its_ttl_and_keeps_max_size(clock: ManualClock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, "{allow, all}.", cache=AuthzCacheOptions(size=3, ttl=60.0))
    c = client(broker, "c")
    for _ in range(3):
        c.publish("t", qos=0)
    assert (broker.counters["authorization.cache_miss"], broker.counters["authorization.cache_hit"]) == (1, 2)
    for topic in ("a", "b", "c"):
        c.publish(topic, qos=0)
    entries = authz_cache.entries(c.conn, clock.time(), broker.authz_cache)
    assert [e["topic"] for e in entries] == ["a", "b", "c"]  # "t", the oldest, made room
    assert entries[0]["access"] == {"action_type": "publish", "qos": 0, "retain": False}
    assert entries[0]["result"] == "allow" and entries[0]["updated_time"] == int(clock.time() * 1000)
    clock.advance(61)
    assert authz_cache.entries(c.conn, clock.time(), broker.authz_cache) == []
    c.publish("a", qos=0)
    assert broker.counters["authorization.cache_miss"] == 5


async def test_subscribe_verdicts_are_not_cached(clock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, "{allow, all}.")
    c = client(broker, "c")
    assert suback(c, "t") == 0 and suback(c, "t") == 0
    assert broker.counters["client.authorize"] == 2 and broker.counters["authorization.cache_hit"] == 0
    assert c.conn.authz_cache is None  # an idle subscriber carries no cache


async def test_without_the_cache_every_publish_is_judged(clock) -> None:
    broker = Broker(clock=clock)
    authorization(broker, "{allow, all}.", cache=AuthzCacheOptions(enable=False))
    c = client(broker, "c")
    for _ in range(3):
        c.publish("t", qos=0)
    assert broker.counters["authorization.matched.allow"] == 3 and c.conn.authz_cache is None


async def test_rule_changes_and_clearing_empty_the_caches(clock) -> None:
    broker = Broker(clock=clock)
    authz = authorization(broker, "{allow, all}.")
    c = client(broker, "c")
    assert puback(c, "t") == 0x10
    db = authz.source("built_in_database")
    assert isinstance(db, BuiltinRules)
    db.set_rules("clientid", "c", [{"topic": "t", "permission": "deny", "action": "publish"}])
    assert puback(c, "t") == 0x10  # still cached, as in EMQX
    c.conn.authz_cache = None  # what the API's "clean this client's cache" does
    assert puback(c, "t") == 0x87
    db.delete("clientid", "c")
    authz.changed()
    assert authz_cache.entries(c.conn, clock.time(), broker.authz_cache) == []
    assert puback(c, "t") == 0x10


async def test_with_nothing_to_ask_authorization_steps_aside(clock) -> None:
    broker = Broker(clock=clock)
    authz = Authorization(broker, [], no_match="allow")
    authz.start()
    assert broker.on_authorize == []  # no rules, allow: PUBLISH skips authorization altogether
    authz.no_match = "deny"
    authz.changed()
    assert suback(client(broker, "c"), "t") == 0x87


async def test_built_in_rules_survive_a_restart(clock) -> None:
    store = MemoryStore()
    db = BuiltinRules(store.collection("acl_rules"))
    kept = db.set_rules(
        "username", "u", [{"topic": "eq a/+", "permission": "deny", "action": "all", "qos": 1}]
    )
    assert kept == [{"topic": "eq a/+", "permission": "deny", "action": "all", "qos": [1], "retain": "all"}]
    reopened = store.reopen()
    broker = Broker(clock=clock, store=reopened)
    authorization(broker)
    c = client(broker, "c", username="u")
    assert suback(c, "a/+", 1) == 0x87  # eq: the filter itself
    assert suback(c, "a/+", 0) == 0  # qos condition
    assert suback(c, "a/b", 1) == 1
