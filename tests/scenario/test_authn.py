"""Password authentication: the chain and the built-in database."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from tests.conftest import VERSIONS
from tests.memory import MemoryClient

from brookmq.core.broker import Broker
from brookmq.core.clock import ManualClock
from brookmq.extensions.authn.builtin_db import BuiltinDatabase, UserExists
from brookmq.extensions.authn.chain import Authentication, Authenticator
from brookmq.extensions.authn.passwords import PasswordHash
from brookmq.extensions.tables import collection
from brookmq.mqtt import packets as pk
from brookmq.storage.memory import MemoryStore

BAD_PASSWORD = {pk.MQTT_5: 0x86, pk.MQTT_3_1_1: 0x04}
NOT_AUTHORIZED = {pk.MQTT_5: 0x87, pk.MQTT_3_1_1: 0x05}  # nobody knows the client


def chain(clock: ManualClock, store: MemoryStore | None = None, **kwargs) -> tuple[Broker, Authentication]:
    broker = Broker(clock=clock, store=store)
    authn = Authentication(broker, **kwargs)
    authn.start()
    return broker, authn


def builtin(authn: Authentication, user_id_type="username", password_hash=None) -> BuiltinDatabase:
    db = BuiltinDatabase(collection(authn.broker, "authn_users"), user_id_type, password_hash)
    authn.add(db)
    return db


def login(broker: Broker, version: int, client_id: str, username: str | None, password: bytes | None):
    c = MemoryClient(broker, version)
    return c, c.connect(client_id, username=username, password=password).reason_code


async def slow_login(broker: Broker, client_id: str, username: str, password: bytes) -> int:
    """A v5 login whose password may be checked off the event loop (bcrypt, pbkdf2)."""
    c = MemoryClient(broker, pk.MQTT_5)
    c.send(pk.Connect(client_id, pk.MQTT_5, username=username, password=password))
    for _ in range(500):
        if c.inbox:
            break
        await asyncio.sleep(0.01)
    return c.recv(pk.Connack).reason_code


@pytest.mark.parametrize("version", VERSIONS)
async def test_without_authenticators_anyone_may_connect_unless_anonymous_is_off(clock, version) -> None:
    broker, _ = chain(clock)
    assert login(broker, version, "c", None, None)[1] == 0
    assert broker.counters["authentication.success.anonymous"] == 1
    closed, _ = chain(clock, allow_anonymous=False)
    assert login(closed, version, "c", None, None)[1] == NOT_AUTHORIZED[version]


@pytest.mark.parametrize("version", VERSIONS)
async def test_the_built_in_database_checks_username_and_password(clock, version) -> None:
    broker, authn = chain(clock)
    db = builtin(authn)
    db.add_user("alice", "s3cret")
    db.add_user("root", "toor", is_superuser=True)
    c, code = login(broker, version, "c1", "alice", b"s3cret")
    assert code == 0 and c.conn.is_superuser is False
    c, code = login(broker, version, "c2", "root", b"toor")
    assert code == 0 and c.conn.is_superuser is True
    assert login(broker, version, "c3", "alice", b"wrong")[1] == BAD_PASSWORD[version]
    assert login(broker, version, "c4", "nobody", b"s3cret")[1] == NOT_AUTHORIZED[version]
    assert login(broker, version, "c5", None, None)[1] == NOT_AUTHORIZED[version]
    assert (broker.counters["authentication.success"], broker.counters["authentication.failure"]) == (2, 3)


async def test_users_keyed_by_client_id(clock) -> None:
    broker, authn = chain(clock)
    builtin(authn, "clientid").add_user("sensor-1", "pw")
    assert login(broker, pk.MQTT_5, "sensor-1", "anything", b"pw")[1] == 0
    assert login(broker, pk.MQTT_5, "sensor-2", "anything", b"pw")[1] == 0x87


ALGORITHMS = [
    PasswordHash("plain"),
    *(
        PasswordHash(name, position)
        for name in ("md5", "sha", "sha256", "sha512")
        for position in ("prefix", "suffix", "disable")
    ),
    PasswordHash("bcrypt", salt_rounds=5),
    PasswordHash("pbkdf2", mac_fun="sha512", iterations=10, dk_length=32),
]


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: f"{a.name}-{a.salt_position}")
async def test_every_hash_algorithm_accepts_the_password_and_nothing_else(clock, algorithm) -> None:
    store = MemoryStore()
    broker, authn = chain(clock, store)
    builtin(authn, password_hash=algorithm).add_user("u", "pässword")
    assert await slow_login(broker, "a", "u", "pässword".encode()) == 0
    assert await slow_login(broker, "b", "u", b"password") == 0x86
    [(_, doc)] = store.collection("authn_users").items()
    if algorithm.name != "plain":
        assert "pässword" not in str(doc)


async def test_a_salted_sha256_hash_is_emqx_s(clock) -> None:
    algorithm = PasswordHash("sha256", "prefix")
    assert algorithm.hash("pw", "salt") == hashlib.sha256(b"saltpw").hexdigest()
    assert PasswordHash("sha256", "suffix").hash("pw", "salt") == hashlib.sha256(b"pwsalt").hexdigest()
    one, two = algorithm.new_salt(), algorithm.new_salt()
    assert one != two and len(one) == 32


async def test_users_are_updated_deleted_and_survive_a_restart(clock) -> None:
    store = MemoryStore()
    broker, authn = chain(clock, store)
    db = builtin(authn)
    db.add_user("alice", "old")
    with pytest.raises(UserExists):
        db.add_user("alice", "again")
    assert db.update_user("alice", password="new") == {"user_id": "alice", "is_superuser": False}
    db.add_user("bob", "pw")
    assert db.delete_user("bob") and not db.delete_user("bob")
    assert db.user("alice") == {"user_id": "alice", "is_superuser": False}  # never the hash
    broker, authn = chain(clock, store.reopen())
    builtin(authn)
    assert login(broker, pk.MQTT_5, "a", "alice", b"new")[1] == 0
    assert login(broker, pk.MQTT_5, "b", "alice", b"old")[1] == 0x86
    assert login(broker, pk.MQTT_5, "c", "bob", b"pw")[1] == 0x87  # deleted: unknown


async def test_an_authenticator_that_fails_denies(clock) -> None:
    broker, authn = chain(clock)

    class Broken(Authenticator):
        id = "broken"

        def authenticate(self, client, password):
            raise OSError("server unreachable")

    authn.add(Broken())
    assert login(broker, pk.MQTT_5, "c", "u", b"p")[1] == 0x86
