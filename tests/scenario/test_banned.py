"""Banned clients and flapping detection: refused at CONNECT before authentication."""

from __future__ import annotations

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient, drop

from brookmq.core.broker import Broker
from brookmq.core.clock import ManualClock
from brookmq.extensions.banned import AlreadyBanned, BanError, Banned
from brookmq.extensions.flapping import FlappingDetector
from brookmq.mqtt import packets as pk
from brookmq.storage.memory import MemoryStore

V3_NOT_AUTHORIZED = 0x05


def banned_broker(clock: ManualClock, store: MemoryStore | None = None) -> tuple[Broker, Banned]:
    broker = Broker(clock=clock, store=store)
    banned = Banned(broker, sweep_interval=0)
    banned.start()
    return broker, banned


def refused(connack: pk.Connack, version: int) -> bool:
    return connack.reason_code == (0x8A if version == pk.MQTT_5 else V3_NOT_AUTHORIZED)


BANS = [
    ("clientid", "bad-client"),
    ("username", "mallory"),
    ("peerhost", "127.0.0.1"),
    ("clientid_re", "bad-.*"),
    ("username_re", "mal+ory"),
    ("peerhost_net", "127.0.0.0/8"),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("kind", "who"), BANS, ids=[k for k, _ in BANS])
async def test_a_banned_client_is_refused_at_connect(clock, version, kind, who) -> None:
    broker, banned = banned_broker(clock)
    banned.add(kind, who)
    c = MemoryClient(broker, version)
    assert refused(c.connect("bad-client", username="mallory"), version)
    assert c.closed
    other = MemoryClient(broker, version)
    other.conn.peerhost = "10.1.2.3"  # from elsewhere, with another id and name
    assert other.connect("good-client", username="alice").reason_code == 0


async def test_a_regular_expression_ban_matches_from_the_start(clock) -> None:
    broker, banned = banned_broker(clock)
    banned.add("clientid_re", "bad")
    assert refused(MemoryClient(broker).connect("bad-one"), pk.MQTT_5)
    assert MemoryClient(broker).connect("not-bad").reason_code == 0


async def test_a_ban_disconnects_the_clients_it_matches(clock) -> None:
    broker, banned = banned_broker(clock)
    victim = MemoryClient(broker)
    victim.connect("victim", username="mallory")
    bystander = MemoryClient(broker)
    bystander.connect("bystander", username="alice")
    banned.add("username", "mallory", reason="spam")
    assert victim.recv_all() == [pk.Disconnect(0x98)]
    assert victim.closed and not bystander.closed


async def test_an_expired_ban_stops_matching_and_is_swept(clock) -> None:
    broker, banned = banned_broker(clock)
    banned.add("clientid", "c", until=clock.time() + 10)
    assert refused(MemoryClient(broker).connect("c"), pk.MQTT_5)
    clock.advance(10)
    assert MemoryClient(broker).connect("c").reason_code == 0
    assert banned.entries() == []
    assert banned.sweep() == 1
    banned.add("clientid", "c")  # an expired ban is replaced without complaint


@pytest.mark.parametrize(
    ("kind", "who", "message"),
    [
        ("nickname", "x", "as must be one of"),
        ("clientid", "", "who must not be empty"),
        ("clientid_re", "(", "bad regular expression"),
        ("peerhost", "300.1.1.1", "bad peerhost"),
        ("peerhost_net", "10.0.0.0/40", "bad CIDR"),
    ],
)
async def test_bad_bans_are_refused_with_the_reason(clock, kind, who, message) -> None:
    _, banned = banned_broker(clock)
    with pytest.raises(BanError, match=message):
        banned.add(kind, who)


async def test_a_ban_that_ended_already_or_exists_is_refused(clock) -> None:
    _, banned = banned_broker(clock)
    with pytest.raises(BanError, match="already expired"):
        banned.add("clientid", "c", until=clock.time() - 1)
    first = banned.add("clientid", "c", reason="first")
    with pytest.raises(AlreadyBanned) as err:
        banned.add("clientid", "c")
    assert err.value.existing is first


async def test_bans_survive_a_restart(clock) -> None:
    store = MemoryStore()
    _, banned = banned_broker(clock, store)
    banned.add("peerhost_net", "127.0.0.0/8", by="admin", reason="lab", until=clock.time() + 3600)
    banned.add("clientid", "gone")
    banned.delete("clientid", "gone")
    broker, again = banned_broker(clock, store.reopen())
    assert [(b.kind, b.who, b.by, b.reason) for b in again.entries()] == [
        ("peerhost_net", "127.0.0.0/8", "admin", "lab")
    ]
    assert refused(MemoryClient(broker).connect("anyone"), pk.MQTT_5)


async def test_a_flapping_client_is_banned_for_ban_time(clock) -> None:
    broker, banned = banned_broker(clock)
    FlappingDetector(broker, banned, max_count=3, window_time=60, ban_time=300).start()
    for _ in range(3):
        c = MemoryClient(broker)
        assert c.connect("flappy").reason_code == 0
        drop(c)
        clock.advance(5)
    assert refused(MemoryClient(broker).connect("flappy"), pk.MQTT_5)
    [ban] = banned.entries()
    assert (ban.kind, ban.who, ban.by) == ("clientid", "flappy", "flapping_detector")
    assert ban.until == pytest.approx(ban.at + 300)
    clock.advance(300)
    assert MemoryClient(broker).connect("flappy").reason_code == 0


async def test_disconnects_spread_beyond_the_window_are_not_flapping(clock) -> None:
    broker, banned = banned_broker(clock)
    FlappingDetector(broker, banned, max_count=3, window_time=60, ban_time=300).start()
    for _ in range(6):
        c = MemoryClient(broker)
        assert c.connect("steady").reason_code == 0
        c.send(pk.Disconnect())
        clock.advance(31)
    assert banned.entries() == []


async def test_clearing_removes_every_ban_from_the_store_too(clock) -> None:
    store = MemoryStore()
    broker, banned = banned_broker(clock, store)
    banned.add("clientid", "a")
    banned.add("username_re", "b.*")
    banned.clear()
    assert banned.entries() == []
    assert MemoryClient(broker).connect("a", username="bob").reason_code == 0
    _, again = banned_broker(clock, store.reopen())
    assert again.entries() == []
