"""``/api/v4`` clients, subscriptions, routes and publish/subscribe with real paho clients, so
what is listed, kicked and delivered is real."""

from __future__ import annotations

import base64

import paho.mqtt.client as mqtt

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import mqtt_client, prefix, wait_for  # noqa: F401
from tests.durability.process import Wire
from tests.interop.test_paho import subscribed

NODE_CONFIG = """
listeners.tcp.default.zone = edge
zones.edge.mqtt.max_inflight = 16
"""


def test_clients_are_listed_paged_filtered_and_looked_up(v4, mqtt_client, prefix):  # noqa: F811
    for i in range(3):
        mqtt_client(f"{prefix}c{i}", protocol=mqtt.MQTTv311, username=f"{prefix}user")
    listed = v4.get("/clients", params={"_limit": 2, "_page": 1}).json()
    assert listed["code"] == 0 and len(listed["data"]) == 2
    assert listed["meta"]["count"] >= 3 and listed["meta"]["hasnext"] is True
    mine = v4.get("/clients", params={"_like_clientid": prefix}).json()
    assert sorted(c["clientid"] for c in mine["data"]) == [f"{prefix}c{i}" for i in range(3)]
    assert mine["meta"]["count"] == -1  # any filter: -1, as EMQX 4
    [one] = v4.get(f"/clients/{prefix}c1").json()["data"]
    assert one["username"] == f"{prefix}user" and one["connected"] is True and one["proto_ver"] == 4
    assert len(one["connected_at"]) == 19 and one["zone"] == "edge"  # "YYYY-MM-DD HH:MM:SS"; the listener's
    assert v4.get("/clients/nobody-at-all").json() == {"code": 0, "data": []}
    by_name = v4.get(f"/clients/username/{prefix}user").json()["data"]
    assert len(by_name) == 3
    bad = v4.get("/clients", params={"_page": "x"}).json()
    assert bad["code"] == 108 and "Can't convert x" in bad["message"]
    assert v4.get("/clients", params={"clean_start": "maybe"}).json()["code"] == 108


def test_kick_and_kick_unknown(v4, mqtt_client, prefix):  # noqa: F811
    mqtt_client(prefix + "victim")
    assert v4.delete(f"/clients/{prefix}victim").json() == {"code": 0}
    wait_for(lambda: v4.get(f"/clients/{prefix}victim").json()["data"] == [])
    assert v4.delete("/clients/never-was-here").json() == {"code": 0}  # EMQX 4.3+


def test_subscriptions_and_routes(v4, mqtt_client, prefix):  # noqa: F811
    sub = mqtt_client(prefix + "sub")
    subscribed(sub, f"{prefix}/a/#", 1)
    [row] = v4.get(f"/subscriptions/{prefix}sub").json()["data"]
    assert row == {"node": row["node"], "topic": f"{prefix}/a/#", "clientid": prefix + "sub", "qos": 1}
    found = v4.get("/subscriptions", params={"clientid": prefix + "sub"}).json()
    assert [r["topic"] for r in found["data"]] == [f"{prefix}/a/#"]
    routes = v4.get("/routes").json()
    assert any(r["topic"] == f"{prefix}/a/#" for r in routes["data"])
    one = v4.get(f"/routes/{prefix}%2Fa%2F%23").json()["data"]
    assert one and one[0]["topic"] == f"{prefix}/a/#"


def test_publish_subscribe_unsubscribe_over_http(v4, mqtt_client, prefix):  # noqa: F811
    def post(path: str, body: object) -> dict:
        return v4.post(path, json=body).json()

    me, topic = prefix + "listener", f"{prefix}/t"
    sub = mqtt_client(me)
    assert post("/mqtt/subscribe", {"clientid": me, "topic": topic, "qos": 1}) == {"code": 0}
    sent = post("/mqtt/publish", {"topic": topic, "payload": "hello", "qos": 1, "return": True})
    assert sent["code"] == 0 and "msgid" in sent["data"]
    assert sub.inbox.get(timeout=5).payload == b"hello"
    encoded = base64.b64encode(b"\x00\x01").decode()
    assert post("/mqtt/publish", {"topic": topic, "payload": encoded, "encoding": "base64"}) == {"code": 0}
    assert sub.inbox.get(timeout=5).payload == b"\x00\x01"
    assert post("/mqtt/publish", {"topics": "a/+,#", "payload": "x"})["code"] == 115
    assert post("/mqtt/publish", {"topic": "a", "clientid": 5})["code"] == 108
    assert post("/mqtt/subscribe", {"clientid": "offline-one", "topic": "t"})["code"] == 112
    assert post("/mqtt/subscribe", {"clientid": me, "topic": "t", "qos": 3})["code"] == 116
    assert post("/mqtt/unsubscribe", {"clientid": me, "topic": topic}) == {"code": 0}
    batch = post(
        "/mqtt/publish_batch", [{"topic": f"{prefix}/b", "payload": "1"}, {"topic": "b/#", "payload": "2"}]
    )
    assert batch["code"] == 0 and [r["code"] for r in batch["data"]] == [0, 115]
    garbled = v4.post("/mqtt/publish", content=b"{oops", headers={"content-type": "application/json"})
    assert garbled.status_code == 400 and garbled.text == "Bad Request"


def test_proto_name_and_queue_filters(v4, api_node, mqtt_client, prefix):  # noqa: F811
    mqtt_client(prefix + "old", protocol=mqtt.MQTTv31)
    mqtt_client(prefix + "new", protocol=mqtt.MQTTv311)
    old = v4.get("/clients", params={"_like_clientid": prefix, "proto_name": "MQIsdp"}).json()["data"]
    assert [c["clientid"] for c in old] == [prefix + "old"] and old[0]["proto_name"] == "MQIsdp"
    lasting = Wire(api_node.port, pk.MQTT_5)
    props = {"session_expiry_interval": 60}
    assert lasting.connect(prefix + "queued", clean_start=False, properties=props).reason_code == 0
    lasting.send(pk.Subscribe(1, [(f"{prefix}/q", pk.SubscriptionOptions(1))]))
    lasting.recv()
    lasting.close()
    pub = Wire(api_node.port)
    assert pub.connect(prefix + "pub").reason_code == 0
    for i in range(3):
        pub.send(pk.Publish(f"{prefix}/q", b"m", 1, packet_id=i + 1))
        pub.recv()  # PUBACK: queued by now
    pub.close()

    def ids(**params: object) -> list[str]:
        found = v4.get("/clients", params={"_like_clientid": prefix, **params}).json()["data"]
        return [c["clientid"] for c in found]

    assert ids(_gte_mqueue_len=3) == [prefix + "queued"]
    assert ids(_gte_mqueue_len=1, _lte_mqueue_len=2) == []
    assert ids(_lte_mqueue_dropped=0, _gte_mqueue_len=3) == [prefix + "queued"]
    assert ids(_gte_mqueue_dropped=1) == []
    assert v4.get("/clients", params={"_gte_mqueue_len": "lots"}).json()["code"] == 108
    assert prefix + "queued" in ids(zone="edge") and ids(zone="default") == []
