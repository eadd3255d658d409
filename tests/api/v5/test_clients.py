"""/api/v5/clients and /sessions_count against paho clients connected to a broker process."""

from __future__ import annotations

import re
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import wait_for
from tests.durability.process import Wire

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def persistent(expiry: int = 300) -> dict:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry
    return {"clean_start": False, "properties": props}


def ids(reply) -> list[str]:
    assert reply.status_code == 200, reply.text
    return [c["clientid"] for c in reply.json()["data"]]


def test_a_connected_client_is_listed_with_emqx_fields(api, mqtt_client, prefix) -> None:
    mqtt_client(prefix + "one", username="alice", keepalive=30)
    body = api.get("/clients", params={"like_clientid": prefix}).json()
    assert "count" not in body["meta"] and body["meta"]["hasnext"] is False
    (client,) = body["data"]
    assert client["clientid"] == prefix + "one" and client["username"] == "alice"
    assert client["proto_name"] == "MQTT" and client["proto_ver"] == 5 and client["keepalive"] == 30
    assert client["connected"] is True and client["ip_address"] == "127.0.0.1"
    assert client["listener"] == "tcp:default" and client["node"] == "brookmq@127.0.0.1"
    assert RFC3339_MS.match(client["connected_at"]) and RFC3339_MS.match(client["created_at"])
    assert "disconnected_at" not in client and client["subscriptions_cnt"] == 0
    assert client["recv_pkt"] >= 1 and client["send_pkt"] >= 1 and client["port"] == client["peerport"]
    assert api.get(f"/clients/{prefix}one").json()["clientid"] == prefix + "one"
    missing = api.get(f"/clients/{prefix}nobody")
    assert missing.status_code == 404
    assert missing.json() == {"code": "CLIENTID_NOT_FOUND", "message": "Client ID not found"}


def test_pages_concatenate_to_the_whole_list(api, mqtt_client, prefix) -> None:
    for i in range(7):
        mqtt_client(f"{prefix}{i}")
    whole = ids(api.get("/clients", params={"limit": 10000}))
    assert {f"{prefix}{i}" for i in range(7)} <= set(whole)
    pages, page = [], 1
    while True:
        reply = api.get("/clients", params={"page": page, "limit": 3}).json()
        assert reply["meta"]["count"] == len(whole) and reply["meta"]["limit"] == 3
        pages += [c["clientid"] for c in reply["data"]]
        if not reply["meta"]["hasnext"]:
            break
        page += 1
    assert pages == whole
    past = api.get("/clients", params={"page": 1000, "limit": 5}).json()
    assert past == {"data": [], "meta": {"page": 1000, "limit": 5, "count": len(whole), "hasnext": False}}
    for bad in ({"page": 0}, {"limit": 0}, {"limit": 10001}, {"limit": "abc"}):
        reply = api.get("/clients", params=bad)
        assert reply.status_code == 400 and reply.json()["code"] == "BAD_REQUEST", bad
        assert reply.json()["message"].startswith(next(iter(bad)))


def test_filters_combine_as_emqx_does(api, mqtt_client, prefix) -> None:
    mqtt_client(prefix + "a", username="u1")
    mqtt_client(prefix + "b", username="u2")
    mqtt_client(prefix + "c", mqtt.MQTTv311, username="u1")
    query = [("clientid", prefix + "a"), ("clientid", prefix + "c"), ("clientid", prefix + "a")]
    assert sorted(ids(api.get("/clients", params=query))) == [prefix + "a", prefix + "c"]
    exact = api.get("/clients", params=[*query, ("like_clientid", "no-such-thing")]).json()
    assert len(exact["data"]) == 2 and exact["meta"]["count"] == 2  # like_ yields to the exact key
    both = api.get("/clients", params={"like_clientid": prefix, "username": "u1", "proto_ver": 4})
    assert ids(both) == [prefix + "c"]
    assert sorted(ids(api.get("/clients", params={"like_clientid": prefix, "like_username": "u"}))) == [
        prefix + x for x in "abc"
    ]
    since = int(time.time() * 1000) - 60_000
    ranged = api.get("/clients", params={"like_clientid": prefix, "gte_connected_at": since})
    assert len(ids(ranged)) == 3
    future = api.get("/clients", params={"like_clientid": prefix, "gte_created_at": since + 3_600_000})
    assert ids(future) == []
    only = api.get("/clients", params={"clientid": prefix + "a", "fields": "clientid,username"}).json()
    assert only["data"] == [{"clientid": prefix + "a", "username": "u1"}]
    assert api.get("/clients", params={"fields": "clientid,nonsense"}).status_code == 400
    bad_ip = api.get("/clients", params={"ip_address": "127.0.0.1:8080"})
    assert bad_ip.status_code == 400 and bad_ip.json() == {
        "code": "INVALID_PARAMETER",
        "message": "the ip_address parameter expected type is ip, but the value is 127.0.0.1:8080",
    }
    assert api.get("/clients", params={"conn_state": "sleepy"}).status_code == 400
    assert prefix + "a" in ids(api.get("/clients", params={"ip_address": "127.0.0.1", "limit": 10000}))


def test_a_disconnected_persistent_session_is_listed_and_counted(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "p", username="keeper", **persistent())
    c.disconnect()
    c.loop_stop()
    wait_for(lambda: api.get(f"/clients/{prefix}p").json()["connected"] is False)
    gone = api.get(f"/clients/{prefix}p").json()
    assert gone["is_persistent"] is True and gone["expiry_interval"] == 300
    assert RFC3339_MS.match(gone["disconnected_at"]) and gone["username"] == "keeper"
    states = api.get("/clients", params={"like_clientid": prefix, "conn_state": "disconnected"})
    assert ids(states) == [prefix + "p"]
    assert (
        api.get("/clients", params={"clientid": prefix + "p", "conn_state": "connected"}).json()["data"] == []
    )
    total = api.get("/sessions_count").json()
    assert isinstance(total, int) and total >= 1
    assert api.get("/sessions_count", params={"since": int(time.time()) + 3600}).json() == 0


def test_kick_disconnects_with_0x98_and_discards_the_session(api, mqtt_client, prefix) -> None:
    reasons: list[int] = []
    c = mqtt_client(prefix + "k", **persistent())
    c.on_disconnect = lambda client, userdata, flags, reason, props: reasons.append(reason.value)
    assert api.delete(f"/clients/{prefix}k").status_code == 204
    wait_for(lambda: reasons)
    assert reasons[0] == 0x98  # administrative action
    assert api.get(f"/clients/{prefix}k").status_code == 404
    assert api.delete(f"/clients/{prefix}k").status_code == 404
    mqtt_client(prefix + "x")
    mqtt_client(prefix + "y")
    bulk = api.post("/clients/kickout/bulk", json=[prefix + "x", prefix + "y", prefix + "unknown"])
    assert bulk.status_code == 204
    wait_for(lambda: ids(api.get("/clients", params={"like_clientid": prefix})) == [])


def test_subscribe_on_behalf_of_a_client_then_it_gets_messages(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "s")
    topic = f"{prefix}/news"
    reply = api.post(f"/clients/{prefix}s/subscribe", json={"topic": topic, "qos": 1})
    assert reply.status_code == 200
    assert reply.json() == {
        "clientid": prefix + "s",
        "topic": topic,
        "qos": 1,
        "nl": 0,
        "rap": 0,
        "rh": 0,
        "node": "brookmq@127.0.0.1",
    }
    subs = api.get(f"/clients/{prefix}s/subscriptions").json()
    assert subs == [
        {
            "topic": topic,
            "clientid": prefix + "s",
            "node": "brookmq@127.0.0.1",
            "qos": 1,
            "nl": 0,
            "rap": 0,
            "rh": 0,
            "durable": False,
        }
    ]
    assert api.post("/publish", json={"topic": topic, "payload": "hi", "qos": 1}).status_code == 200
    msg = c.inbox.get(timeout=5)
    assert (msg.topic, msg.payload, msg.qos) == (topic, b"hi", 1)

    bulk = api.post(
        f"/clients/{prefix}s/subscribe/bulk", json=[{"topic": "a/+"}, {"topic": "$share/g/b", "qos": 2}]
    )
    assert [s["topic"] for s in bulk.json()] == ["a/+", "$share/g/b"]
    shared_nl = api.post(f"/clients/{prefix}s/subscribe", json={"topic": "$share/g/c", "nl": 1})
    assert shared_nl.status_code == 400 and shared_nl.json()["code"] == "INVALID_PARAMETER"
    bad_filter = api.post(f"/clients/{prefix}s/subscribe", json={"topic": "a/#/b"})
    assert bad_filter.status_code == 400 and bad_filter.json()["message"].startswith("topic:")
    for bad in ({"topic": "a", "qos": 3}, {"qos": 1}, {"topic": ""}):
        reply = api.post(f"/clients/{prefix}s/subscribe", json=bad)
        assert reply.status_code == 400 and reply.json()["code"] == "BAD_REQUEST", bad
    assert api.post(f"/clients/{prefix}nobody/subscribe", json={"topic": "t"}).status_code == 404

    assert api.post(f"/clients/{prefix}s/unsubscribe", json={"topic": topic}).status_code == 204
    assert api.post(f"/clients/{prefix}s/unsubscribe", json={"topic": topic}).status_code == 204
    unsub = api.post(f"/clients/{prefix}s/unsubscribe/bulk", json=[{"topic": "a/+"}, {"topic": "$share/g/b"}])
    assert unsub.status_code == 204
    assert api.get(f"/clients/{prefix}s/subscriptions").json() == []
    assert api.get(f"/clients/{prefix}s").json()["subscriptions_cnt"] == 0


def test_keepalive_can_be_changed(api, mqtt_client, prefix) -> None:
    mqtt_client(prefix + "ka", keepalive=60)
    reply = api.put(f"/clients/{prefix}ka/keepalive", json={"interval": 120})
    assert reply.status_code == 200 and reply.json()["keepalive"] == 120
    for bad in ({"interval": 65536}, {"interval": -1}, {}):
        assert api.put(f"/clients/{prefix}ka/keepalive", json=bad).status_code == 400
    assert api.put(f"/clients/{prefix}none/keepalive", json={"interval": 1}).status_code == 404


def test_authorization_cache_lists_and_clears(api, mqtt_client, prefix) -> None:
    c = mqtt_client(prefix + "z")
    c.publish(f"{prefix}/cached", b"x", 1).wait_for_publish(5)
    cache = api.get(f"/clients/{prefix}z/authorization/cache").json()
    assert len(cache) == 1
    entry = cache[0]
    assert entry["topic"] == f"{prefix}/cached" and entry["result"] == "allow"
    assert entry["access"] == {"action_type": "publish", "qos": 1, "retain": False}
    assert abs(entry["updated_time"] - time.time() * 1000) < 60_000
    assert api.delete(f"/clients/{prefix}z/authorization/cache").status_code == 204
    assert api.get(f"/clients/{prefix}z/authorization/cache").json() == []


def test_mqueue_messages_page_by_cursor(api, mqtt_client, prefix) -> None:
    topic = f"{prefix}/q"
    c = mqtt_client(prefix + "q", **persistent())
    api.post(f"/clients/{prefix}q/subscribe", json={"topic": topic, "qos": 1})
    c.disconnect()
    c.loop_stop()
    wait_for(lambda: api.get(f"/clients/{prefix}q").json()["connected"] is False)
    for i in range(5):
        assert api.post("/publish", json={"topic": topic, "payload": f"m{i}", "qos": 1}).status_code == 200
    url = f"/clients/{prefix}q/mqueue_messages"
    seen, position, starts = [], None, set()
    while True:
        params = {"limit": 2, "payload": "plain"}
        if position:
            params["position"] = position
        body = api.get(url, params=params).json()
        starts.add(body["meta"]["start"])
        if not body["data"]:
            assert body["meta"]["position"] == position
            break
        seen += [m["payload"] for m in body["data"]]
        position = body["meta"]["position"]
        assert re.match(r"^\d+_0$", position)
    assert seen == [f"m{i}" for i in range(5)] and len(starts) == 1
    first = api.get(url).json()["data"][0]
    assert first["payload"] == "bTA=" and first["from_clientid"] == "http_api" and first["qos"] == 1
    assert len(first["msgid"]) == 32 and first["mqueue_priority"] == 0 and first["inserted_at"].isdigit()
    assert len(api.get(url, params={"max_payload_bytes": 1}).json()["data"]) == 1
    assert "payload" not in api.get(url, params={"payload": "none"}).json()["data"][0]
    assert api.get(url, params={"position": "garbage"}).json() == {
        "code": "INVALID_PARAMETER",
        "message": "position_limit_invalid",
    }
    for bad in ({"limit": 0}, {"max_payload_bytes": "0MB"}, {"max_payload_bytes": "-1"}, {"limit": "limit"}):
        assert api.get(url, params=bad).status_code == 400, bad
    assert api.get(f"/clients/{prefix}gone/mqueue_messages").status_code == 404


def test_inflight_messages_are_the_unacknowledged_ones(api, api_node, prefix) -> None:
    wire = Wire(api_node.port)
    try:
        wire.connect(prefix + "slow")
        wire.send(pk.Subscribe(1, [(f"{prefix}/in", pk.SubscriptionOptions(1))]))
        assert isinstance(wire.recv(), pk.Suback)
        for i in range(3):
            api.post("/publish", json={"topic": f"{prefix}/in", "payload": f"i{i}", "qos": 1})
        for _ in range(3):
            assert isinstance(wire.recv(), pk.Publish)  # and never acknowledged
        body = api.get(f"/clients/{prefix}slow/inflight_messages", params={"payload": "plain"}).json()
        assert [m["payload"] for m in body["data"]] == ["i0", "i1", "i2"]
        assert body["meta"]["position"].isdigit() and body["meta"]["start"] == body["data"][0]["inserted_at"]
        assert api.get(f"/clients/{prefix}slow").json()["inflight_cnt"] == 3
    finally:
        wire.close()
