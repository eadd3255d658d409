"""/api/v5/publish, /subscriptions and /topics against paho clients and a broker process."""

from __future__ import annotations

import base64

import paho.mqtt.client as mqtt

from tests.api.v5.conftest import api_client
from tests.interop.test_paho import subscribed


def test_publish_reaches_a_v5_subscriber_with_its_properties(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "sub")
    subscribed(c, f"{prefix}/#", 2)
    reply = api.post(
        "/publish",
        json={
            "topic": f"{prefix}/x",
            "payload": base64.b64encode(b"\x00\xffbin").decode(),
            "payload_encoding": "base64",
            "qos": 2,
            "properties": {
                "user_properties": {"k": "v"},
                "content_type": "application/octet-stream",
                "response_topic": "reply/here",
                "correlation_data": "c-1",
                "message_expiry_interval": 60,
                "payload_format_indicator": 0,
            },
        },
    )
    assert reply.status_code == 200 and len(reply.json()["id"]) == 32
    msg = c.inbox.get(timeout=5)
    assert (msg.topic, msg.payload, msg.qos) == (f"{prefix}/x", b"\x00\xffbin", 2)
    props = msg.properties
    assert props.UserProperty == [("k", "v")] and props.ContentType == "application/octet-stream"
    assert props.ResponseTopic == "reply/here" and props.CorrelationData == b"c-1"
    assert 0 < props.MessageExpiryInterval <= 60


def test_publish_statuses(api, prefix) -> None:
    nobody = api.post("/publish", json={"topic": f"{prefix}/void", "payload": "x"})
    assert nobody.status_code == 202
    assert nobody.json() == {"reason_code": 16, "message": "no_matching_subscribers"}
    wild = api.post("/publish", json={"topic": "a/+", "payload": "x"})
    assert wild.status_code == 400 and wild.json() == {"reason_code": 144, "message": "topic_name_invalid"}
    garbled = api.post("/publish", json={"topic": "a", "payload": "%%%", "payload_encoding": "base64"})
    assert garbled.status_code == 400 and garbled.json()["reason_code"] == 131
    huge = api.post("/publish", json={"topic": "a", "payload": "x" * (1024 * 1024 + 1)})
    assert huge.status_code == 400 and huge.json() == {"reason_code": 151, "message": "packet_too_large"}
    for bad in (
        {"payload": "x"},
        {"topic": "a"},
        {"topic": "a", "payload": "x", "qos": 3},
        {"topic": "a", "payload": "x", "properties": {"nonsense": 1}},
    ):
        reply = api.post("/publish", json=bad)
        assert reply.status_code == 400 and reply.json()["code"] == "BAD_REQUEST", bad


def test_a_retained_publish_is_kept_for_later_subscribers(api, mqtt_client, prefix) -> None:
    assert (
        api.post("/publish", json={"topic": f"{prefix}/r", "payload": "kept", "retain": True}).status_code
        == 202
    )
    c = mqtt_client(prefix + "late")
    subscribed(c, f"{prefix}/r", 0)
    msg = c.inbox.get(timeout=5)
    assert msg.payload == b"kept" and msg.retain
    api.post("/publish", json={"topic": f"{prefix}/r", "payload": "", "retain": True})


def test_bulk_publish_is_all_or_nothing(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "bulk")
    subscribed(c, f"{prefix}/b", 0)
    refused = api.post(
        "/publish/bulk", json=[{"topic": f"{prefix}/b", "payload": "1"}, {"topic": "#", "payload": "2"}]
    )
    assert refused.status_code == 400 and refused.json()["reason_code"] == 144
    assert c.inbox.empty()
    mixed = api.post(
        "/publish/bulk",
        json=[{"topic": f"{prefix}/b", "payload": "1"}, {"topic": f"{prefix}/none", "payload": "2"}],
    )
    assert mixed.status_code == 202
    first, second = mixed.json()
    assert len(first["id"]) == 32 and second == {"reason_code": 16, "message": "no_matching_subscribers"}
    assert c.inbox.get(timeout=5).payload == b"1"
    assert api.post("/publish/bulk", json=[{"topic": f"{prefix}/b", "payload": "3"}]).status_code == 200
    assert api.post("/publish/bulk", json=[]).status_code == 400


def test_roles_on_publish(api_node, prefix) -> None:
    body = {"topic": f"{prefix}/roles", "payload": "x"}
    with api_client(api_node, "publisher") as publisher, api_client(api_node, "viewer") as viewer:
        assert publisher.post("/publish", json=body).status_code == 202
        assert publisher.post("/publish/bulk", json=[body]).status_code == 202
        assert publisher.get("/clients").status_code == 403
        assert viewer.post("/publish", json=body).json()["code"] == "UNAUTHORIZED_ROLE"
        assert viewer.get("/subscriptions").status_code == 200


def test_subscriptions_listing_and_its_filters(api, mqtt_client, prefix) -> None:
    a = mqtt_client(prefix + "a")
    b = mqtt_client(prefix + "b", mqtt.MQTTv311)
    subscribed(a, f"{prefix}/t/1", 1)
    subscribed(a, f"$share/grp/{prefix}/t/+", 0)
    subscribed(b, f"{prefix}/t/#", 2)
    mine = api.get("/subscriptions", params={"clientid": prefix + "a"}).json()
    assert mine["meta"]["count"] == 2
    assert {s["topic"] for s in mine["data"]} == {f"{prefix}/t/1", f"$share/grp/{prefix}/t/+"}
    covered = api.get("/subscriptions", params={"match_topic": f"{prefix}/t/#"}).json()
    assert "count" not in covered["meta"]
    assert sorted(s["topic"] for s in covered["data"]) == sorted(
        [f"{prefix}/t/1", f"$share/grp/{prefix}/t/+", f"{prefix}/t/#"]
    )
    narrow = api.get("/subscriptions", params={"match_topic": f"{prefix}/t/1"}).json()
    assert [s["topic"] for s in narrow["data"]] == [f"{prefix}/t/1"]
    group = api.get("/subscriptions", params={"share_group": "grp", "clientid": prefix + "a"}).json()
    assert [s["topic"] for s in group["data"]] == [f"$share/grp/{prefix}/t/+"]
    qos2 = api.get("/subscriptions", params={"qos": 2, "topic": f"{prefix}/t/#"}).json()
    assert qos2["data"] == [
        {
            "topic": f"{prefix}/t/#",
            "clientid": prefix + "b",
            "node": "brookmq@127.0.0.1",
            "qos": 2,
            "nl": 0,
            "rap": 0,
            "rh": 0,
            "durable": False,
        }
    ]
    for bad in ("$share/g/x", "a/#/b"):
        reply = api.get("/subscriptions", params={"match_topic": bad})
        assert reply.json() == {"code": "INVALID_PARAMETER", "message": "match_topic_invalid"}
    assert api.get("/subscriptions", params={"qos": 3}).status_code == 400
    durable = api.get("/subscriptions", params={"durable": True}).json()  # BrookMQ has no durable sessions
    assert durable == {"data": [], "meta": {"page": 1, "limit": 100, "count": 0, "hasnext": False}}
    everything = api.get("/subscriptions", params={"limit": 10000}).json()
    assert everything["meta"]["count"] == len(everything["data"]) >= 3


def test_topics_are_the_routes(api, mqtt_client, prefix) -> None:
    a = mqtt_client(prefix + "rt")
    subscribed(a, f"{prefix}/r/+", 0)
    subscribed(a, f"$share/g/{prefix}/s", 0)
    listed = api.get("/topics", params={"limit": 10000}).json()
    topics = [t["topic"] for t in listed["data"]]
    assert f"{prefix}/r/+" in topics and f"{prefix}/s" in topics and listed["meta"]["count"] == len(topics)
    exact = api.get("/topics", params={"topic": f"$share/g/{prefix}/s"}).json()
    assert exact["data"] == [{"topic": f"{prefix}/s", "node": "brookmq@127.0.0.1"}]
    one = api.get(f"/topics/{prefix}%2Fr%2F%2B")
    assert one.status_code == 200 and one.json() == [{"topic": f"{prefix}/r/+", "node": "brookmq@127.0.0.1"}]
    missing = api.get(f"/topics/{prefix}%2Fnothing")
    assert missing.status_code == 404 and missing.json() == {
        "code": "TOPIC_NOT_FOUND",
        "message": "Topic not found",
    }
    assert api.get("/topics", params={"topic": "$share/group"}).json()["code"] == "INVALID_PARAMETER"
