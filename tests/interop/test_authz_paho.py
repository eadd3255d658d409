"""paho-mqtt (v3.1.1 and v5) against a broker process: the HTTP and JWT authenticators, rules
from the file and from the database, superusers, and the conformance profile."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import jwt
import paho.mqtt.client as mqtt
import pytest
from tests.authserver import AuthServer, auth_server
from tests.durability.process import BrokerProcess
from tests.interop.test_access_paho import connack
from tests.interop.test_paho import make_client

from brookmq.extensions.authn.builtin_db import BuiltinDatabase
from brookmq.extensions.authz.sources import BuiltinRules
from brookmq.storage.sqlite import SqliteStore

SECRET = "interop-secret-of-at-least-32-bytes!"
ROOT = Path(__file__).resolve().parents[2]
VERSIONS = pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["v311", "v5"])
CONFIG = """
authentication = [
  { mechanism = jwt, secret = "%(secret)s", verify_claims { clientid = "${clientid}" } }
  { mechanism = password_based, backend = http, url = "%(url)s", request_timeout = 2s }
  { mechanism = password_based, backend = built_in_database }
]
authorization {
  sources = [
    { type = built_in_database }
    {
      type = file
      rules = \"\"\"
        {deny, all, subscribe, ["$SYS/brokers/#"]}.
        {allow, all, all, ["users/%%u/#"]}.
        {deny, all, all, ["users/#"]}.
        {deny, all, publish, ["readonly/#", "wills/denied"]}.
        {deny, all, {publish, [{retain, true}]}, ["noretain/#"]}.
        {allow, all}.
      \"\"\"
    }
  ]
}
"""


class Session:
    """A connected paho client and what the broker answered it."""

    def __init__(self, port: int, protocol: int, client_id: str, username: str, password: str, **kw) -> None:
        self.client = make_client(port, protocol, client_id)
        self.client.username_pw_set(username, password)
        if "will" in kw:
            self.client.will_set(kw["will"], b"bye", 0)
        self.acks: dict[int, int] = {}
        self.subacks: dict[int, list[int]] = {}
        self.event = threading.Condition()
        self.connack: int | None = None
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        with self.event:
            assert self.event.wait_for(lambda: self.connack is not None, 5), "no CONNACK"

    def _on_connect(self, client, userdata, flags, reason, properties=None) -> None:
        with self.event:
            self.connack = reason.value
            self.event.notify_all()

    def _on_subscribe(self, client, userdata, mid, reasons, properties=None) -> None:
        with self.event:
            self.subacks[mid] = [r.value for r in reasons]
            self.event.notify_all()

    def _on_publish(self, client, userdata, mid, reason, properties=None) -> None:
        with self.event:
            self.acks[mid] = reason.value
            self.event.notify_all()

    def subscribe(self, topic: str, qos: int = 1) -> int:
        _, mid = self.client.subscribe(topic, qos)
        with self.event:
            assert self.event.wait_for(lambda: mid in self.subacks, 5), "no SUBACK"
        return self.subacks[mid][0]

    def publish(self, topic: str, qos: int = 1, retain: bool = False) -> int:
        mid = self.client.publish(topic, b"x", qos, retain).mid
        with self.event:
            assert self.event.wait_for(lambda: mid in self.acks, 5), "no PUBACK"
        return self.acks[mid]

    def received(self, timeout: float = 0.5) -> list[str]:
        topics = []
        try:
            while True:
                topics.append(self.client.inbox.get(timeout=timeout).topic)
        except Exception:
            return topics

    def close(self, clean: bool = True) -> None:
        if clean:
            self.client.disconnect()
        else:
            self.client._sock.close()  # the network dies: the will goes out
        self.client.loop_stop()


@pytest.fixture(scope="module")
def service() -> Iterator[AuthServer]:
    with auth_server() as server:
        server.default = (200, {"result": "ignore"}, 0.0)
        server.answers = {
            "http-user": (200, {"result": "allow"}, 0.0),
            "http-root": (200, {"result": "allow", "is_superuser": True}, 0.0),
            "http-denied": (200, {"result": "deny"}, 0.0),
            "+": (200, {"result": "allow"}, 0.0),
        }
        yield server


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, service: AuthServer) -> Iterator[BrokerProcess]:
    data = tmp_path_factory.mktemp("authz") / "data"
    seed = SqliteStore(data / "brookmq.db")
    BuiltinDatabase(seed.collection("authn_users")).add_user("db-user", "db-pass")
    rules = BuiltinRules(seed.collection("acl_rules"))
    rules.set_rules("username", "db-user", [{"topic": "db/denied", "permission": "deny", "action": "all"}])
    seed.close()
    config = data.parent / "brookmq.conf"
    config.write_text(CONFIG % {"secret": SECRET, "url": service.url})
    process = BrokerProcess(data, config).start()
    yield process
    process.kill()


def token(client_id: str, **claims) -> str:
    return jwt.encode({"clientid": client_id, **claims}, SECRET, algorithm="HS256")


@VERSIONS
def test_each_authenticator_of_the_chain(node: BrokerProcess, protocol: int) -> None:
    port = node.port
    assert connack(port, protocol, "j1", "anyone", token("j1")) == 0
    assert connack(port, protocol, "j2", "anyone", token("someone-else")) == 0x86
    assert connack(port, protocol, "h1", "http-user", "pw") == 0
    # paho reports the v3 return code 5 (not authorized) as 0x87, and 4 as 0x86.
    assert connack(port, protocol, "h2", "http-denied", "pw") == 0x86
    assert connack(port, protocol, "d1", "db-user", "db-pass") == 0  # HTTP ignores it, the database knows it
    assert connack(port, protocol, "d2", "db-user", "nope") == 0x86
    assert connack(port, protocol, "x1", "stranger", "pw") == 0x87  # nobody knows a stranger


@VERSIONS
def test_rules_from_the_file_and_the_database(node: BrokerProcess, protocol: int) -> None:
    denied_sub = 0x87 if protocol == mqtt.MQTTv5 else 0x80
    alice = Session(node.port, protocol, "a1", "http-user", "pw")
    try:
        assert alice.subscribe("users/http-user/#") == 1
        assert alice.subscribe("users/+/inbox") == denied_sub  # reaches other users' inboxes
        assert alice.subscribe("readonly/news") == 1
        if protocol == mqtt.MQTTv5:
            assert alice.publish("readonly/news") == 0x87
            assert alice.publish("users/http-user/x") == 0
        else:
            assert alice.publish("readonly/news") == 0  # v3 cannot be told; the message is dropped
        assert alice.received() == (["users/http-user/x"] if protocol == mqtt.MQTTv5 else [])
    finally:
        alice.close()
    db_user = Session(node.port, protocol, "d3", "db-user", "db-pass")
    try:
        assert db_user.subscribe("db/denied") == denied_sub
        assert db_user.subscribe("db/other") == 1
    finally:
        db_user.close()


@VERSIONS
def test_a_wildcard_username_widens_nothing_and_sys_topics_follow_deny_rules(
    node: BrokerProcess, protocol
) -> None:
    denied_sub = 0x87 if protocol == mqtt.MQTTv5 else 0x80
    plus = Session(node.port, protocol, "p1", "+", "pw")
    try:
        assert plus.subscribe("users/+/inbox") == denied_sub  # "users/%u/#" is "users/<the word +>/#"
        assert plus.subscribe("users/http-user/inbox") == denied_sub
        assert plus.subscribe("$SYS/brokers/+/version") == denied_sub
        assert plus.subscribe("$SYS/other") == 1
    finally:
        plus.close()


@VERSIONS
def test_superusers_skip_the_rules(node: BrokerProcess, protocol: int) -> None:
    root = Session(node.port, protocol, "r1", "http-root", "pw")
    try:
        assert root.subscribe("users/+/inbox") == 1
        no_subscribers = 0x10 if protocol == mqtt.MQTTv5 else 0
        assert root.publish("readonly/news", qos=1) == no_subscribers  # allowed, nobody listens
    finally:
        root.close()


def test_denied_wills_and_retained_messages_go_nowhere(node: BrokerProcess) -> None:
    watcher = Session(node.port, mqtt.MQTTv5, "w1", "http-user", "pw")
    try:
        assert watcher.subscribe("wills/#") == 1
        for topic in ("wills/denied", "wills/allowed"):
            Session(node.port, mqtt.MQTTv311, topic.replace("/", "-"), "http-user", "pw", will=topic).close(
                False
            )
        assert sorted(watcher.received(1.0)) == ["wills/allowed"]
        assert watcher.publish("noretain/x", retain=True) == 0x87
        assert watcher.publish("noretain/x", retain=False) == 0x10
        assert watcher.subscribe("noretain/#") == 1
        assert watcher.received() == []  # nothing was retained
    finally:
        watcher.close()


@VERSIONS
def test_the_conformance_profile_denies_test_nosubscribe(tmp_path: Path, protocol: int) -> None:
    node = BrokerProcess(tmp_path / "data", ROOT / "profiles" / "conformance.conf").start()
    try:
        c = Session(node.port, protocol, "conformance", "u", "p")
        try:
            assert c.subscribe("test/nosubscribe") == (0x87 if protocol == mqtt.MQTTv5 else 0x80)
            assert c.subscribe("test/other") == 1
            assert c.subscribe("#") == 1
        finally:
            c.close()
    finally:
        node.kill()
