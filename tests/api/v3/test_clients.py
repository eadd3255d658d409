"""``/api/v3`` connections, sessions, subscriptions, routes and publish/subscribe with real paho
clients: 3.x's ``client_id`` and ``ipaddress``, connections (live) apart from sessions (offline
persistent ones too)."""

from __future__ import annotations

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.api.v5.conftest import mqtt_client, prefix, wait_for  # noqa: F401
from tests.interop.test_paho import connected, make_client, subscribed


def test_connections_in_the_3x_shape(v3, mqtt_client, prefix):  # noqa: F811
    mqtt_client(prefix + "c1", protocol=mqtt.MQTTv311, username=prefix + "user")
    listed = v3.get("/connections/", params={"_limit": 1000}).json()
    mine = [row for row in listed["data"] if row["client_id"] == prefix + "c1"]
    [row] = mine
    assert row["ipaddress"] == "127.0.0.1" and "clientid" not in row and "ip_address" not in row
    assert row["username"] == prefix + "user" and row["proto_ver"] == 4 and row["is_super"] is False
    assert row["mountpoint"] == "undefined" and row["will_topic"] == "undefined"
    assert len(row["connected_at"]) == 19 and listed["meta"]["count"] >= 1
    assert set(listed["meta"]) >= {"page", "limit", "count"}
    assert v3.get(f"/connections/{prefix}c1").json()["data"][0]["client_id"] == prefix + "c1"
    assert v3.get("/connections/nobody-here").json() == {"code": 0, "data": []}
    [by_name] = v3.get(f"/connection/username/{prefix}user").json()["data"]
    assert by_name["client_id"] == prefix + "c1"
    node = row["node"]
    assert v3.get(f"/nodes/{node}/connections/{prefix}c1").json()["data"][0]["port"] == row["port"]


def test_a_will_topic_is_shown(v3, api_node, prefix):  # noqa: F811
    c = make_client(api_node.port, mqtt.MQTTv311, prefix + "willing")
    c.will_set(f"{prefix}/gone", b"bye")
    connected(c, api_node.port)
    try:
        [row] = v3.get(f"/connections/{prefix}willing").json()["data"]
        assert row["will_topic"] == f"{prefix}/gone"
    finally:
        c.disconnect()
        c.loop_stop()


def test_an_offline_persistent_session_is_a_session_not_a_connection(v3, mqtt_client, prefix):  # noqa: F811
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300
    lasting = mqtt_client(prefix + "lasting", clean_start=False, properties=props)
    subscribed(lasting, f"{prefix}/keep/#", 1)
    lasting.disconnect()
    lasting.loop_stop()
    wait_for(lambda: v3.get(f"/connections/{prefix}lasting").json()["data"] == [])
    [row] = v3.get(f"/sessions/{prefix}lasting").json()["data"]
    assert row["client_id"] == prefix + "lasting" and row["subscriptions_count"] == 1
    assert row["expiry_interval"] == 300 and row["clean_start"] is False and row["binding"] == "local"
    assert set(row) >= {"inflight_len", "max_inflight", "mqueue_len", "max_mqueue", "awaiting_rel_len"}
    sessions = v3.get("/sessions/", params={"_limit": 1000}).json()["data"]
    assert any(s["client_id"] == prefix + "lasting" for s in sessions)
    assert v3.delete(f"/sessions/persistent/{prefix}lasting").json() == {"code": 0}
    assert v3.get(f"/sessions/{prefix}lasting").json()["data"] == []


def test_kick_a_connection(v3, mqtt_client, prefix):  # noqa: F811
    mqtt_client(prefix + "victim")
    assert v3.delete(f"/connections/{prefix}victim").json() == {"code": 0}
    wait_for(lambda: v3.get(f"/connections/{prefix}victim").json()["data"] == [])


def test_subscriptions_routes_and_http_publish(v3, mqtt_client, prefix):  # noqa: F811
    me, topic = prefix + "listener", f"{prefix}/t"
    sub = mqtt_client(me)
    subscribed(sub, f"{prefix}/a/#", 1)
    [row] = v3.get(f"/subscriptions/{me}").json()["data"]
    assert row == {"client_id": me, "node": row["node"], "qos": 1, "topic": f"{prefix}/a/#"}
    assert any(r["client_id"] == me for r in v3.get("/subscriptions/").json()["data"])
    assert any(r["topic"] == f"{prefix}/a/#" for r in v3.get("/routes/").json()["data"])
    assert v3.post("/mqtt/subscribe", json={"client_id": me, "topic": topic, "qos": 1}).json() == {"code": 0}
    assert v3.post("/mqtt/publish", json={"topic": topic, "payload": "hello", "qos": 1}).json() == {"code": 0}
    assert sub.inbox.get(timeout=5).payload == b"hello"
    assert v3.post("/mqtt/unsubscribe", json={"client_id": me, "topic": topic}).json() == {"code": 0}
    assert [r["topic"] for r in v3.get(f"/subscriptions/{me}").json()["data"]] == [f"{prefix}/a/#"]
    assert v3.post("/mqtt/subscribe", json={"client_id": "offline-one", "topic": "t"}).json()["code"] == 112
    assert v3.post("/mqtt/publish", json={"payload": "x"}).json()["code"] == 107
    assert v3.post("/mqtt/publish", json={"topic": "a", "client_id": 5}).json()["code"] == 108
