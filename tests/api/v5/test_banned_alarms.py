"""/api/v5/banned and /api/v5/alarms, with real clients banned and real alarms raised."""

from __future__ import annotations

import json
import re
import socket
import threading
import time

import paho.mqtt.client as mqtt

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import wait_for
from tests.durability.process import Wire
from tests.interop.test_access_paho import connack

# Alarms that fire in a test: any memory use is "high", and congestion alarms clear at once.
NODE_ENV = {
    "BROOKMQ_SYSMON__OS__MEM_CHECK_INTERVAL": "1s",
    "BROOKMQ_SYSMON__OS__SYSMEM_HIGH_WATERMARK": "1%",
    "BROOKMQ_CONN_CONGESTION__MIN_ALARM_SUSTAIN_DURATION": "0s",
}
RFC3339_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def test_a_ban_disconnects_and_refuses_the_client(api, api_node, mqtt_client, prefix) -> None:
    reasons: list[int] = []
    c = mqtt_client(prefix + "bad")
    c.on_disconnect = lambda client, userdata, flags, reason, props: reasons.append(reason.value)
    created = api.post("/banned", json={"as": "clientid", "who": prefix + "bad", "reason": "spam ✓"})
    assert created.status_code == 200
    ban = created.json()
    assert ban["as"] == "clientid" and ban["who"] == prefix + "bad" and ban["by"] == "mgmt_api"
    assert ban["reason"] == "spam ✓" and ban["until"] == "infinity" and RFC3339_S.match(ban["at"])
    wait_for(lambda: reasons)
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "bad") == 0x8A  # banned
    again = api.post("/banned", json={"as": "clientid", "who": prefix + "bad"})
    assert again.status_code == 400 and again.json()["code"] == "ALREADY_EXISTS"
    assert json.loads(again.json()["message"])["who"] == prefix + "bad"
    assert api.delete(f"/banned/clientid/{prefix}bad").status_code == 204
    assert connack(api_node.port, mqtt.MQTTv5, prefix + "bad") == 0
    missing = api.delete(f"/banned/clientid/{prefix}bad")
    assert missing.status_code == 404 and missing.json() == {
        "code": "NOT_FOUND",
        "message": f"clientid: {prefix}bad not found",
    }


def test_ban_validation(api, prefix) -> None:
    soon = int(time.time()) + 3600
    for bad in (
        {"as": "clientid"},
        {"as": "nickname", "who": "x"},
        {"as": "peerhost", "who": "not-an-ip"},
        {"as": "peerhost_net", "who": "10.0.0.0/99"},
        {"as": "clientid_re", "who": "("},
        {"as": "clientid", "who": prefix, "until": int(time.time()) - 10},
        {"as": "clientid", "who": prefix, "until": "tomorrow"},
    ):
        reply = api.post("/banned", json=bad)
        assert reply.status_code == 400 and reply.json()["code"] == "BAD_REQUEST", bad
    net = api.post("/banned", json={"as": "peerhost_net", "who": "192.168.0.7/24", "until": soon}).json()
    assert net["who"] == "192.168.0.0/24" and RFC3339_S.match(net["until"])
    assert api.delete("/banned/peerhost_net/192.168.0.0%2F24").status_code == 204
    assert api.delete("/banned/nickname/x").status_code == 400
    assert (
        api.post("/banned", content=b"as=clientid", headers={"content-type": "text/plain"}).status_code == 415
    )


def test_banned_listing_filters(api, prefix) -> None:
    assert api.delete("/banned").status_code == 204
    for body in (
        {"as": "clientid", "who": prefix + "one"},
        {"as": "clientid_re", "who": f"^{prefix}re"},
        {"as": "username", "who": "mallory"},
        {"as": "peerhost", "who": "10.1.2.3"},
    ):
        assert api.post("/banned", json=body).status_code == 200
    everything = api.get("/banned").json()
    assert everything["meta"] == {"page": 1, "limit": 100, "count": 4, "hasnext": False}
    exact = api.get("/banned", params={"username": "mallory"}).json()
    assert [b["who"] for b in exact["data"]] == ["mallory"] and exact["meta"]["count"] == 1
    like = api.get("/banned", params={"like_clientid": prefix}).json()
    assert sorted(b["who"] for b in like["data"]) == sorted([prefix + "one", f"^{prefix}re"])
    assert "count" not in like["meta"]
    assert [b["who"] for b in api.get("/banned", params={"like_peerhost": r"^10\."}).json()["data"]] == [
        "10.1.2.3"
    ]
    two = api.get("/banned", params={"clientid": "a", "username": "b"})
    assert two.status_code == 400 and two.json()["message"] == "too_many_filters"
    bad = api.get("/banned", params={"like_clientid": "???"})
    assert bad.status_code == 400
    assert json.loads(bad.json()["message"])["message"] == "The filter is not a validation regex expression"
    paged = api.get("/banned", params={"limit": 3, "page": 2}).json()
    assert len(paged["data"]) == 1 and paged["meta"]["hasnext"] is False
    assert api.delete("/banned").status_code == 204
    assert api.get("/banned").json()["data"] == []


def test_system_memory_alarm_is_raised_and_can_be_forced_off(api) -> None:
    alarm = wait_for(
        lambda: next(
            (a for a in api.get("/alarms").json()["data"] if a["name"] == "high_system_memory_usage"), None
        )
    )
    assert alarm["node"] == "brookmq@127.0.0.1" and alarm["details"]["high_watermark"] == 1.0
    assert alarm["message"] == "System memory usage is higher than 1%" and alarm["duration"] >= 0
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$", alarm["activate_at"])
    assert api.post("/alarms/force_deactivate", json={"name": "high_system_memory_usage"}).status_code == 204
    history = api.get("/alarms", params={"activated": False}).json()["data"]
    assert any(a["name"] == "high_system_memory_usage" and "deactivate_at" in a for a in history)
    missing = api.post("/alarms/force_deactivate", json={"name": "no_such_alarm"})
    assert missing.status_code == 400 and missing.json() == {
        "code": "NOT_FOUND",
        "message": "Alarm not found or already deactivated",
    }
    assert api.post("/alarms/force_deactivate", json={}).json() == {
        "code": "INVALID_PARAMETER",
        "message": "name is required",
    }
    assert api.delete("/alarms").status_code == 204
    assert all(
        a["name"] != "high_system_memory_usage"
        for a in api.get("/alarms", params={"activated": False}).json()["data"]
    )


def test_a_client_that_does_not_read_raises_conn_congestion(api, api_node, prefix) -> None:
    wire = Wire(api_node.port)
    name = f"conn_congestion/{prefix}slow/unknown_user"
    try:
        wire.connect(prefix + "slow")
        wire.send(pk.Subscribe(1, [(f"{prefix}/flood", pk.SubscriptionOptions(0))]))
        assert isinstance(wire.recv(), pk.Suback)
        payload = "x" * 500_000
        for _ in range(40):
            api.post("/publish", json={"topic": f"{prefix}/flood", "payload": payload})
            if any(a["name"] == name for a in api.get("/alarms").json()["data"]):
                break
        active = [a for a in api.get("/alarms").json()["data"] if a["name"] == name]
        assert active and active[0]["details"]["clientid"] == prefix + "slow"
        wire.sock.settimeout(5)
        reader = threading.Thread(target=_drain, args=(wire.sock,), daemon=True)
        reader.start()  # reading empties the broker's buffer: the alarm clears
        wait_for(lambda: all(a["name"] != name for a in api.get("/alarms").json()["data"]), timeout=20)
    finally:
        wire.close()


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(1 << 20):
            pass
    except OSError:
        pass
