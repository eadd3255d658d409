"""Text that UTF-8 cannot encode (a lone surrogate, ``"\\ud800"`` in JSON) is refused where it
comes in, naming the field; nothing is stored or published, nobody is disconnected, and what an
older version stored is skipped with a log line instead of breaking a listing."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import KEYS, restart, wait_for_api
from tests.durability.process import BrokerProcess, Wire

BAD = "\ud800"


@pytest.fixture(scope="module")
def admin(api_node):
    """The API as the dashboard user ``admin`` (a bearer token reaches /api_key and /users too)."""
    base = f"http://127.0.0.1:{api_node.api_port}/api/v5"
    token = httpx.post(f"{base}/login", json={"username": "admin", "password": "public"}).json()["token"]
    with httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=10) as client:
        yield client


def post(api, path: str, body: object, method: str = "POST"):
    # json.dumps escapes the surrogate as \ud800, as any client's JSON would
    return api.request(method, path, content=json.dumps(body), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/publish", {"topic": "t/" + BAD, "payload": "x"}, "topic"),
        ("/publish", {"topic": "t/1", "payload": BAD}, "payload"),
        ("/publish", {"topic": "t/1", "payload": "x", "properties": {"user_properties": {"k": BAD}}}, "k"),
        ("/publish/bulk", [{"topic": "t/1", "payload": "x"}, {"topic": BAD, "payload": "x"}], "1.topic"),
        ("/banned", {"as": "clientid", "who": "w", "reason": BAD}, "reason"),
        ("/banned", {"as": "clientid", "who": "w", "by": BAD}, "by"),
        ("/api_key", {"name": "k1", "desc": BAD}, "desc"),
        ("/listeners", {"type": "tcp", "name": "x1", "bind": "127.0.0.1:0", "mountpoint": BAD}, "mountpoint"),
    ],
)
def test_unencodable_text_in_any_json_field_is_refused_naming_it(admin, path, body, field):
    reply = post(admin, path, body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["code"] == "BAD_REQUEST"
    assert field in reply.json()["message"]
    for listing in ("/banned", "/api_key", "/listeners", "/mqtt/retainer/messages"):
        assert admin.get(listing).status_code == 200


def test_dashboard_user_text_and_login_passwords(admin):
    made = post(admin, "/users", {"username": "u1", "password": "pass" + BAD + "1", "role": "viewer"})
    assert made.status_code == 400 and "password" in made.json()["message"]
    described = post(admin, "/users", {"username": "u2", "password": "secret-pw-1", "description": BAD})
    assert described.status_code == 400 and "description" in described.json()["message"]
    bad_login = post(admin, "/login", {"username": "admin", "password": BAD})
    assert bad_login.status_code == 400 and "password" in bad_login.json()["message"]
    assert admin.get("/users").status_code == 200


def test_a_refused_publish_reaches_no_subscriber_and_disconnects_nobody(api_node, api):
    sub = Wire(api_node.port, pk.MQTT_5)
    assert sub.connect("surrogate-sub").reason_code == 0
    sub.send(pk.Subscribe(1, [("sur/#", pk.SubscriptionOptions(1))]))
    assert isinstance(sub.recv(), pk.Suback)
    props = {"user_properties": {"k": BAD}}
    assert (
        post(
            api, "/publish", {"topic": "sur/1", "payload": "x", "retain": True, "properties": props}
        ).status_code
        == 400
    )
    assert post(api, "/publish", {"topic": "sur/1", "payload": "fine", "qos": 1}).status_code == 200
    got = sub.recv()
    assert isinstance(got, pk.Publish) and got.payload == b"fine"
    later = Wire(api_node.port, pk.MQTT_5)
    assert later.connect("surrogate-later").reason_code == 0
    later.send(pk.Subscribe(1, [("sur/#", pk.SubscriptionOptions(1))]))
    assert isinstance(later.recv(), pk.Suback)
    later.send(pk.Pingreq())
    assert isinstance(later.recv(), pk.Pingresp)  # no retained message came, nor a DISCONNECT


def test_bad_text_an_older_version_stored_is_skipped_with_a_log_line(tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text("".join(f"{key}:{secret}:{role}\n" for role, (key, secret) in KEYS.items()))
    node = BrokerProcess(tmp_path, BROOKMQ_API_KEY__BOOTSTRAP_FILE=str(keys))
    node.start()
    wait_for_api(node)
    node.stop()
    db = sqlite3.connect(tmp_path / "brookmq.db")
    bad = {"kind": "clientid", "who": "old", "by": "x", "reason": BAD, "at": 1.0, "until": 4e9}
    db.execute("INSERT INTO c_banned (key, doc) VALUES (?, ?)", ("clientid:old", json.dumps(bad)))
    db.commit()
    db.close()
    node.start()
    wait_for_api(node)
    try:
        listing = httpx.get(f"http://127.0.0.1:{node.api_port}/api/v5/banned", auth=KEYS["viewer"])
        assert listing.status_code == 200 and listing.json()["data"] == []
    finally:
        logged = restart(node)
        node.stop()
    assert "skipped banned document" in logged
