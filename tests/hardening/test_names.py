"""Names, ids and limits: ids with ``/`` are addressable, names and numbers are validated on
create, client ids with wildcards make valid ``$SYS`` topics, ``$SYS/`` is the broker's, bans
may last forever, a rules file that is not one shows none of its content."""

from __future__ import annotations

import urllib.parse

import pytest

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import api_client
from tests.durability.process import Wire

AUTHN = "password_based:built_in_database"
RULES = "/authorization/sources/built_in_database/rules"


def quoted(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def test_ids_with_a_slash_are_addressable_decoded_after_splitting(api_node, api):
    wire = Wire(api_node.port, pk.MQTT_5)
    assert wire.connect("probe/slash").reason_code == 0
    found = api.get(f"/clients/{quoted('probe/slash')}")
    assert found.status_code == 200 and found.json()["clientid"] == "probe/slash"
    subscribed = api.post(f"/clients/{quoted('probe/slash')}/subscribe", json={"topic": "s/1", "qos": 1})
    assert subscribed.status_code == 200
    assert api.delete(f"/clients/{quoted('probe/slash')}").status_code == 204
    assert isinstance(wire.recv(), pk.Disconnect)

    rules = [{"username": "team/a", "rules": [{"topic": "t/#", "permission": "allow", "action": "all"}]}]
    assert api.post(f"{RULES}/users", json=rules).status_code == 204
    assert api.get(f"{RULES}/users/{quoted('team/a')}").json()["username"] == "team/a"
    assert api.delete(f"{RULES}/users/{quoted('team/a')}").status_code == 204

    assert api.post(
        "/authentication", json={"mechanism": "password_based", "backend": "built_in_database"}
    ).is_success
    try:
        users = f"/authentication/{AUTHN}/users"
        assert api.post(users, json={"user_id": "dept/x", "password": "pw"}).status_code == 201
        assert api.get(f"{users}/{quoted('dept/x')}").json()["user_id"] == "dept/x"
        assert api.delete(f"{users}/{quoted('dept/x')}").status_code == 204
    finally:
        assert api.delete(f"/authentication/{AUTHN}").status_code == 204


@pytest.mark.parametrize("name", [5, {}, None, "a\x00b", "a\nb", "a\rb", "a/b", "a:b", "x" * 1_000_000, ""])
def test_listener_names_are_validated_on_create(api, name):
    reply = api.post("/listeners", json={"type": "tcp", "name": name, "bind": "127.0.0.1:0"})
    assert reply.status_code == 400, reply.text
    assert len(reply.text) < 1000  # never the name echoed in full
    assert api.get("/listeners").status_code == 200


@pytest.mark.parametrize(("user_id"), ["a\x00b", "line\nbreak", "x" * 2000], ids=["nul", "lf", "long"])
def test_authentication_user_ids_are_validated(api, user_id):
    assert api.post(
        "/authentication", json={"mechanism": "password_based", "backend": "built_in_database"}
    ).is_success
    try:
        reply = api.post(f"/authentication/{AUTHN}/users", json={"user_id": user_id, "password": "pw"})
        assert reply.status_code == 400, reply.text
    finally:
        api.delete(f"/authentication/{AUTHN}")


@pytest.mark.parametrize("topic", ["a\x00b", "x" * 1_000_000], ids=["nul", "1MB"])
def test_api_subscribe_and_publish_refuse_what_mqtt_refuses(api_node, api, topic):
    wire = Wire(api_node.port, pk.MQTT_5)
    assert wire.connect("api-sub-target").reason_code == 0
    reply = api.post("/clients/api-sub-target/subscribe", json={"topic": topic, "qos": 0})
    assert reply.status_code == 400, reply.text[:200]
    assert api.post("/publish", json={"topic": topic, "payload": "x"}).status_code == 400
    wire.close()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/configs/mqtt", {"max_topic_levels": 2**63}),
        ("PUT", "/configs/mqtt", {"max_mqueue_len": 2**63}),
        ("PUT", "/configs/mqtt", {"session_expiry_interval": 2**63}),
        (
            "POST",
            "/listeners",
            {"type": "tcp", "name": "big", "bind": "127.0.0.1:0", "max_connections": 2**63},
        ),
        ("PUT", "/mqtt/retainer", {"max_payload_size": 2**63}),
        ("PUT", "/mqtt/delayed", {"max_delayed_messages": 2**63}),
        ("POST", "/banned", {"as": "clientid", "who": "far", "until": 2**63}),
    ],
    ids=[
        "topic-levels",
        "mqueue-len",
        "session-expiry",
        "max-connections",
        "retained-payload",
        "delayed",
        "until",
    ],
)
def test_numbers_have_sane_upper_bounds(api, method, path, body):
    reply = api.request(method, path, json=body)
    assert reply.status_code == 400, reply.text


def test_a_ban_with_until_null_lasts_forever(api):
    made = api.post("/banned", json={"as": "clientid", "who": "forever-null", "until": None})
    assert made.status_code == 200, made.text
    assert made.json()["until"] == "infinity"
    assert api.delete("/banned/clientid/forever-null").status_code == 204


def test_client_ids_with_wildcards_make_valid_sys_topics(api_node):
    watcher = Wire(api_node.port, pk.MQTT_5)
    assert watcher.connect("sys-watcher").reason_code == 0
    watcher.send(pk.Subscribe(1, [("$SYS/brokers/+/clients/+/connected", pk.SubscriptionOptions(0))]))
    assert isinstance(watcher.recv(), pk.Suback)
    odd = Wire(api_node.port, pk.MQTT_5)
    assert odd.connect("a+b#c/d").reason_code == 0
    event = watcher.recv()
    assert isinstance(event, pk.Publish)
    assert event.topic.endswith("/clients/a%2Bb%23c%2Fd/connected")


def test_only_the_broker_and_superusers_publish_to_sys(api_node, api):
    spoof = Wire(api_node.port, pk.MQTT_5)
    assert spoof.connect("sys-spoofer").reason_code == 0
    spoof.send(pk.Publish("$SYS/brokers/fake/version", b"6.6.6", 1, retain=True, packet_id=3))
    ack = spoof.recv()
    assert isinstance(ack, pk.Puback) and ack.reason_code == 0x87
    with api_client(api_node, "publisher") as publisher:
        refused = publisher.post(
            "/publish", json={"topic": "$SYS/brokers/fake/x", "payload": "1", "retain": True}
        )
        assert refused.status_code == 400 and refused.json()["reason_code"] == 0x87
    assert api.get("/mqtt/retainer/messages").json()["data"] == [] or all(
        not m["topic"].startswith("$SYS/brokers/fake")
        for m in api.get("/mqtt/retainer/messages").json()["data"]
    )
    assert api.post("/publish", json={"topic": "$SYS/brokers/test/note", "payload": "ok"}).status_code in (
        200,
        202,
    )


def test_a_rules_file_source_naming_a_host_file_shows_none_of_its_content(api):
    reply = api.put(
        "/authorization/sources/file", json={"type": "file", "path": "/etc/passwd", "enable": True}
    )
    assert reply.status_code == 400, reply.text
    assert "root" not in reply.text and "/bin/" not in reply.text
    assert "/etc/passwd" in reply.text
