"""``/api/v4`` listeners, alarms, banned, ACL caches and keepalive against a real broker, with
paho clients and raw sockets making the things listed real."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import mqtt_client, prefix, wait_for  # noqa: F401
from tests.durability.process import Wire

NODE_ENV = {"BROOKMQ_SYSMON__MAX_QUEUED_BYTES": "4KB"}


def test_listeners_are_listed_and_restarted(v4, api_node):
    [row] = v4.get("/listeners").json()["data"]
    tcp = next(item for item in row["listeners"] if item["identifier"] == "tcp:default")
    assert tcp["protocol"] == "mqtt:tcp" and tcp["listen_on"].endswith(f":{api_node.port}")
    assert set(tcp) >= {"protocol", "listen_on", "identifier", "acceptors", "max_conns", "current_conns"}
    assert v4.get(f"/nodes/{row['node']}/listeners").json()["data"][0]["identifier"]
    short = Wire(api_node.port)
    assert short.connect("short-lived").reason_code == 0
    short.close()
    wait_for(lambda: _tcp(v4)["shutdown_count"])
    assert sum(_tcp(v4)["shutdown_count"].values()) >= 1  # EMQX 4's {reason: count}
    assert v4.put("/listeners/tcp:default/restart").json() == {"code": 0}
    assert Wire(api_node.port).connect("after-restart").reason_code == 0
    assert v4.put("/listeners/tcp:nothing/restart").json() == {"message": "not_found"}


def _tcp(v4) -> dict:
    [row] = v4.get("/listeners").json()["data"]
    return next(item for item in row["listeners"] if item["identifier"] == "tcp:default")


def test_alarms_activated_deactivated_and_cleared(v4, api_node):
    stalled = Wire(api_node.port, pk.MQTT_5)
    assert (
        stalled.connect("stalled", clean_start=False, properties={"session_expiry_interval": 60}).reason_code
        == 0
    )
    stalled.send(pk.Subscribe(1, [("fill/#", pk.SubscriptionOptions(1))]))
    stalled.recv()
    stalled.close()  # offline: what comes now is queued, past 4 KB the alarm rises
    pub = Wire(api_node.port)
    assert pub.connect("filler").reason_code == 0
    for i in range(8):
        pub.send(pk.Publish(f"fill/{i}", b"x" * 1024, 1, packet_id=i + 1))
    wait_for(lambda: v4.get("/alarms/activated").json()["data"][0]["alarms"])
    [alarm] = v4.get("/alarms/activated").json()["data"][0]["alarms"]
    assert alarm["name"] == "high_queued_bytes" and alarm["activated"] is True
    assert alarm["deactivate_at"] == "infinity" and alarm["activate_at"] > 10**15  # microseconds
    assert v4.post("/alarms/deactivated", json={"name": "high_queued_bytes"}).json() == {"code": 0}
    [gone] = v4.get("/alarms/deactivated").json()["data"][0]["alarms"]
    assert gone["activated"] is False and isinstance(gone["deactivate_at"], int)
    assert v4.post("/alarms/deactivated", json={"name": "no_such_alarm"}).json() == {"message": "not_found"}
    assert v4.post("/alarms/deactivated", json={}).json()["code"] == 107
    assert v4.delete("/alarms/deactivated").json() == {"code": 0}
    assert v4.get("/alarms/deactivated").json()["data"][0]["alarms"] == []


def test_banned_in_the_v4_shape(v4, api_node):
    missing = v4.post("/banned", json={}).json()
    assert missing == {"code": 107, "message": "missing mandatory params: ['who', 'as']"}
    bad = v4.post("/banned", json={"who": "x", "as": "ip"}).json()
    assert bad == {
        "code": 108,
        "message": "value of 'as' must be one of: ['clientid', 'username', 'peerhost']",
    }
    made = v4.post("/banned", json={"who": "bad-device", "as": "clientid", "reason": "test"}).json()
    assert made["code"] == 0 and made["data"]["until"] - made["data"]["at"] == 300
    listed = v4.get("/banned").json()
    assert any(b["who"] == "bad-device" and b["as"] == "clientid" for b in listed["data"])
    assert Wire(api_node.port).connect("bad-device").reason_code == 5  # v3: not authorized
    assert v4.delete("/banned/clientid/bad-device").json() == {"code": 0}
    assert Wire(api_node.port).connect("bad-device").reason_code == 0


def test_acl_caches_and_keepalive(v4, mqtt_client, prefix):  # noqa: F811
    me = prefix + "acl"
    c = mqtt_client(me, protocol=mqtt.MQTTv311)
    c.publish(f"{prefix}/x", b"1", 1).wait_for_publish(5)
    wait_for(lambda: v4.get(f"/clients/{me}/acl_cache").json()["data"])
    [entry] = v4.get(f"/clients/{me}/acl_cache").json()["data"]
    assert entry["access"] == "publish" and entry["topic"] == f"{prefix}/x" and entry["result"] == "allow"
    assert v4.delete(f"/clients/{me}/acl_cache").json() == {"code": 0}
    assert v4.get(f"/clients/{me}/acl_cache").json()["data"] == []
    assert v4.delete("/acl-cache").json() == {"code": 0}
    assert v4.get("/clients/nobody/acl_cache").json()["code"] == 112
    assert v4.put(f"/clients/{me}/keepalive", params={"interval": 30}).json() == {"code": 0}
    assert v4.get(f"/clients/{me}").json()["data"][0]["keepalive"] == 30
    assert v4.put(f"/clients/{me}/keepalive").json() == {"code": 107, "message": "params_not_found"}
    assert v4.put(f"/clients/{me}/keepalive", json={"interval": 70000}).json()["code"] == 102
    assert v4.put("/clients/nobody/keepalive", json={"interval": 5}).json()["code"] == 112
