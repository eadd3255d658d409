"""/api/v5/mqtt/retainer and /api/v5/mqtt/delayed, with messages a paho client published."""

from __future__ import annotations

import base64
import time

from tests.api.v5.conftest import restart, wait_for
from tests.interop.test_paho import subscribed

NODE = "brookmq@127.0.0.1"


def test_retained_messages_list_get_and_delete(api, mqtt_client, prefix) -> None:
    pub = mqtt_client(prefix + "pub", username="writer")
    for topic, payload in ((f"{prefix}/c", b"c"), (f"{prefix}/c/1", b"c1"), (f"{prefix}/d", b"\x00\x01")):
        pub.publish(topic, payload, 1, retain=True).wait_for_publish(5)
    assert api.get("/mqtt/retainer").json()["enable"] is True
    everything = api.get("/mqtt/retainer/messages", params={"limit": 10000}).json()
    mine = [m for m in everything["data"] if m["topic"].startswith(prefix)]
    assert len(mine) == 3 and everything["meta"]["count"] == len(everything["data"])
    exact = api.get("/mqtt/retainer/messages", params={"topic": f"{prefix}/c"}).json()
    assert [m["topic"] for m in exact["data"]] == [f"{prefix}/c"] and "count" not in exact["meta"]
    row = exact["data"][0]
    assert row["from_clientid"] == prefix + "pub" and row["from_username"] == "writer" and row["qos"] == 1
    assert len(row["msgid"]) == 32 and "payload" not in row
    wild = api.get("/mqtt/retainer/messages", params={"topic": f"{prefix}/#"}).json()
    assert len(wild["data"]) == 3
    one = api.get(f"/mqtt/retainer/message/{prefix}%2Fd").json()
    assert base64.b64decode(one["payload"]) == b"\x00\x01"
    assert api.get(f"/mqtt/retainer/message/{prefix}%2Fc%2F%23").json()["topic"].startswith(f"{prefix}/c")
    missing = api.get(f"/mqtt/retainer/message/{prefix}%2Fnone")
    assert missing.status_code == 404 and missing.json() == {
        "code": "NOT_FOUND",
        "message": "Viewed message doesn't exist",
    }
    assert api.delete(f"/mqtt/retainer/message/{prefix}%2Fd").status_code == 204
    assert api.delete(f"/mqtt/retainer/message/{prefix}%2Fd").status_code == 404
    late = mqtt_client(prefix + "late")
    subscribed(late, f"{prefix}/#", 0)
    got = sorted(late.inbox.get(timeout=5).topic for _ in range(2))
    assert got == [f"{prefix}/c", f"{prefix}/c/1"] and late.inbox.empty()
    assert api.get("/mqtt/retainer/messages", params={"topic": "a/#/b"}).status_code == 400
    assert api.delete("/mqtt/retainer/messages").status_code == 204
    assert api.get("/mqtt/retainer/messages").json()["data"] == []


def test_delayed_messages_wait_and_can_be_withdrawn(api, mqtt_client, prefix) -> None:
    assert api.get("/mqtt/delayed").json() == {"enable": True, "max_delayed_messages": 100_000}
    pub = mqtt_client(prefix + "pub")
    for topic in (f"{prefix}/one", f"{prefix}/one", f"{prefix}/two"):
        pub.publish(f"$delayed/3600/{topic}", b"later", 1).wait_for_publish(5)
    listed = api.get("/mqtt/delayed/messages", params={"limit": 10000}).json()
    mine = [m for m in listed["data"] if m["topic"].startswith(prefix)]
    assert len(mine) == 3 and listed["meta"]["count"] == len(listed["data"])
    first = mine[0]
    assert (
        first["node"] == NODE
        and first["delayed_interval"] == 3600
        and 3590 <= first["delayed_remaining"] <= 3600
    )
    assert first["from_clientid"] == prefix + "pub" and first["expected_at"] > first["publish_at"]
    one = api.get(f"/mqtt/delayed/messages/{NODE}/{first['msgid']}").json()
    assert base64.b64decode(one["payload"]) == b"later"
    assert api.get(f"/mqtt/delayed/messages/{NODE}/zz").json()["code"] == "MESSAGE_ID_SCHEMA_ERROR"
    assert api.get(f"/mqtt/delayed/messages/other@node/{first['msgid']}").json()["code"] == "INVALID_NODE"
    assert api.get(f"/mqtt/delayed/messages/{NODE}/{'F' * 32}").json()["code"] == "MESSAGE_ID_NOT_FOUND"
    assert api.delete(f"/mqtt/delayed/messages/{NODE}/{first['msgid']}").status_code == 204
    assert api.delete(f"/mqtt/delayed/messages/{prefix}%2Fone").status_code == 204
    gone = api.delete(f"/mqtt/delayed/messages/{prefix}%2Fone")
    assert gone.status_code == 404 and gone.json()["code"] == "MESSAGE_NOT_FOUND"
    assert api.delete("/mqtt/delayed/messages/a%2F%2B").json()["code"] == "INVALID_TOPIC_NAME"
    left = [
        m["topic"] for m in api.get("/mqtt/delayed/messages").json()["data"] if m["topic"].startswith(prefix)
    ]
    assert left == [f"{prefix}/two"]


def test_delayed_publish_can_be_turned_off_and_bounded(api, mqtt_client, prefix) -> None:
    sub = mqtt_client(prefix + "sub")
    subscribed(sub, f"$delayed/+/{prefix}/x", 0)
    try:
        assert api.put("/mqtt/delayed", json={"enable": False}).json()["enable"] is False
        mqtt_client(prefix + "pub").publish(f"$delayed/10/{prefix}/x", b"now", 0)
        assert sub.inbox.get(timeout=5).topic == f"$delayed/10/{prefix}/x"  # routed as it is
        assert api.put("/mqtt/delayed", json={"max_delayed_messages": -1}).status_code == 400
        assert api.put("/mqtt/delayed", json={"max_delayed_messages": "many"}).status_code == 400
    finally:
        reply = api.put("/mqtt/delayed", json={"enable": True, "max_delayed_messages": 0})
    assert reply.json() == {"enable": True, "max_delayed_messages": 0}
    wait_for(lambda: api.get("/mqtt/delayed").json()["enable"])


def test_retainer_limits_are_changed_at_run_time_and_kept(api, api_node, mqtt_client, prefix) -> None:
    def retained(topic: str) -> bool:
        return api.get(f"/mqtt/retainer/message/{topic.replace('/', '%2F')}").status_code == 200

    try:
        changed = api.put(
            "/mqtt/retainer", json={"max_payload_size": "8B", "backend": {"max_retained_messages": 0}}
        )
        assert changed.status_code == 200 and changed.json()["max_payload_size"] == 8
        pub = mqtt_client(prefix + "pub")
        pub.publish(f"{prefix}/small", b"12345678", 1, retain=True).wait_for_publish(5)
        pub.publish(f"{prefix}/big", b"123456789", 1, retain=True).wait_for_publish(5)
        assert retained(f"{prefix}/small") and not retained(f"{prefix}/big")
        restart(api_node)
        assert api.get("/mqtt/retainer").json()["max_payload_size"] == 8
        assert api.put("/mqtt/delayed", json={"max_delayed_messages": 3}).status_code == 200

        assert api.put("/mqtt/retainer", json={"enable": False}).json()["enable"] is False
        late = mqtt_client(prefix + "late")
        subscribed(late, f"{prefix}/#", 0)
        time.sleep(0.2)
        assert late.inbox.empty()  # nothing is sent while the retainer is off
        assert api.put("/mqtt/retainer", json={"max_payload_size": -1}).status_code == 400
        assert api.put("/mqtt/retainer", json={"storage": "disc"}).status_code == 400
        restart(api_node)
        assert api.get("/mqtt/delayed").json()["max_delayed_messages"] == 3
    finally:
        api.put("/mqtt/retainer", json={"enable": True, "max_payload_size": "1MB"})
        api.put("/mqtt/delayed", json={"max_delayed_messages": 0})
    assert retained(f"{prefix}/small")  # kept while it was off
