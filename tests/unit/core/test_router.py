from __future__ import annotations

from brookmq.core.broker import Broker
from brookmq.core.router import Router
from brookmq.core.session import Session, Subscription
from brookmq.mqtt.packets import SubscriptionOptions


def sub(session_router, session, topic_filter, group=None):
    s = Subscription(topic_filter, topic_filter, group, SubscriptionOptions(), None)
    session_router.add(session, s)
    return s


def sessions(n):
    broker = Broker()
    return [Session(broker, f"s{i}", 0, 0.0) for i in range(n)]


def matched(router, topic):
    entries, groups = router.match(topic)
    return sorted(s.client_id for s, _ in entries), [g.name for g in groups]


def test_match_follows_wildcards_and_skips_dollar_topics() -> None:
    r = Router()
    a, b, c, d = sessions(4)
    sub(r, a, "#")
    sub(r, b, "x/+")
    sub(r, c, "x/y/#")
    sub(r, d, "$SYS/#")
    assert matched(r, "x/y") == (["s0", "s1", "s2"], [])
    assert matched(r, "x/y/z") == (["s0", "s2"], [])
    assert matched(r, "$SYS/up") == (["s3"], [])


def test_cache_is_invalidated_by_subscription_changes() -> None:
    r = Router()
    a, b = sessions(2)
    sub(r, a, "t")
    assert matched(r, "t") == (["s0"], [])
    s_b = sub(r, b, "+")
    assert matched(r, "t") == (["s0", "s1"], [])
    r.remove(b, s_b)
    assert matched(r, "t") == (["s0"], [])


def test_overlapping_filters_of_one_session_are_grouped() -> None:
    r = Router()
    (a,) = sessions(1)
    sub(r, a, "t/#")
    sub(r, a, "t/+")
    entries, _ = r.match("t/x")
    assert len(entries) == 1 and len(entries[0][1]) == 2


def test_removing_the_last_subscription_prunes_the_trie() -> None:
    r = Router()
    (a,) = sessions(1)
    s = sub(r, a, "a/b/c")
    r.remove(a, s)
    assert r.filters == {} and r.subscription_count == 0
    assert r._root.children == {}


def test_shared_groups_are_returned_per_group() -> None:
    r = Router()
    a, b = sessions(2)
    sub(r, a, "t", group="g")
    sub(r, b, "t", group="g")
    assert matched(r, "t") == ([], ["g"])
    assert r.shared_count == 2 and r.subscription_count == 2
