"""paho-mqtt against a broker process: bans and users kept in its database, flapping detection."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from tests.durability.process import BrokerProcess
from tests.interop.test_paho import make_client

from brookmq.extensions.authn.passwords import PasswordHash
from brookmq.storage.sqlite import SqliteStore


def connack(
    port: int, protocol: int, client_id: str, username: str | None = None, password: str | None = None
) -> int:
    """Connect with paho; the CONNACK's reason code as paho reports it."""
    got: list[int] = []
    done = threading.Event()

    def on_connect(client, userdata, flags, reason, properties=None) -> None:
        got.append(reason.value)
        done.set()

    c = make_client(port, protocol, client_id)
    if username is not None:
        c.username_pw_set(username, password)
    c.on_connect = on_connect
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        assert done.wait(5), "no CONNACK"
    finally:
        c.disconnect()
        c.loop_stop()
    return got[0]


# paho reports the v3 return code 5 (not authorized) as the v5 code 0x87.
@pytest.mark.parametrize(
    ("protocol", "code"), [(mqtt.MQTTv311, 0x87), (mqtt.MQTTv5, 0x8A)], ids=["v311", "v5"]
)
def test_a_ban_in_the_database_refuses_the_client(tmp_path: Path, protocol: int, code: int) -> None:
    data = tmp_path / "data"
    seed = SqliteStore(data / "brookmq.db")
    seed.collection("banned").put(
        "clientid:evil",
        {"kind": "clientid", "who": "evil", "by": "test", "reason": "", "at": 0.0, "until": 0.0},
    )
    seed.close()
    node = BrokerProcess(data).start()
    try:
        assert connack(node.port, protocol, "evil") == code
        assert connack(node.port, protocol, "good") == 0
    finally:
        node.kill()


def test_a_client_that_keeps_reconnecting_is_banned(tmp_path: Path) -> None:
    node = BrokerProcess(
        tmp_path / "data",
        BROOKMQ_FLAPPING_DETECT__ENABLE="true",
        BROOKMQ_FLAPPING_DETECT__MAX_COUNT="3",
        BROOKMQ_FLAPPING_DETECT__WINDOW_TIME="1m",
    ).start()
    try:
        for _ in range(3):
            assert connack(node.port, mqtt.MQTTv5, "flappy") == 0
            time.sleep(0.05)
        assert connack(node.port, mqtt.MQTTv5, "flappy") == 0x8A
    finally:
        node.kill()


@pytest.mark.parametrize(
    ("protocol", "bad"), [(mqtt.MQTTv311, 0x86), (mqtt.MQTTv5, 0x86)], ids=["v311", "v5"]
)
def test_built_in_database_users_log_in_with_their_password(tmp_path: Path, protocol: int, bad: int) -> None:
    data = tmp_path / "data"
    seed = SqliteStore(data / "brookmq.db")
    algorithm = PasswordHash("sha512", "suffix")
    salt = algorithm.new_salt()
    doc = {
        "user_id": "alice",
        "password_hash": algorithm.hash("wonderland", salt),
        "salt": salt,
        "is_superuser": False,
    }
    seed.collection("authn_users").put("username:alice", doc)
    seed.close()
    chain = '[{password_hash_algorithm {name = "sha512", salt_position = "suffix"}}]'
    node = BrokerProcess(data, BROOKMQ_AUTHENTICATION=chain).start()
    try:
        assert connack(node.port, protocol, "c1", "alice", "wonderland") == 0
        assert connack(node.port, protocol, "c2", "alice", "queen") == bad
        assert connack(node.port, protocol, "c3") == 0x87  # anonymous: nobody knows it (v3: 5)
    finally:
        node.kill()
