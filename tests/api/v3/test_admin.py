"""``/api/v3`` banned, alarms, hot configuration, apps and users against a real broker: bans in
3.x's names refuse a real client, an alarm raised by a real queue is present then history, a
``PUT /configs/emqx`` changes the running broker and survives a restart, and what one dialect
makes the others use."""

from __future__ import annotations

import httpx

from brookmq.mqtt import packets as pk
from tests.api.legacy import fill_a_stalled_queue
from tests.api.v4.conftest import v4_client
from tests.api.v5.conftest import restart, wait_for
from tests.durability.process import Wire

NODE_ENV = {"BROOKMQ_SYSMON__MAX_QUEUED_BYTES": "4KB", "BROOKMQ_SYS_TOPICS__SYS_HEARTBEAT_INTERVAL": "1s"}


def test_banned_in_3x_names(v3, api_node):
    made = v3.post(
        "/banned/", json={"who": "v3-evil", "as": "client_id", "desc": "normal banned", "until": 1999999999}
    ).json()
    assert made["code"] == 0
    assert made["data"] | {"who": "v3-evil", "as": "client_id", "desc": "normal banned"} == made["data"]
    assert Wire(api_node.port).connect("v3-evil").reason_code == 0x05  # 3.1.1: not authorized
    [row] = [r for r in v3.get("/banned/").json()["data"] if r["who"] == "v3-evil"]
    assert row["as"] == "client_id" and row["until"] == 1999999999 and row["reason"] == "normal banned"
    wrong = v3.post("/banned/", json={"who": "x", "as": "clientid"}).json()
    assert wrong == {
        "code": 108,
        "message": "value of 'as' must be one of: ['client_id', 'username', 'ip_address']",
    }
    assert v3.delete("/banned/v3-evil").json() == {"code": 107, "message": "missing mandatory params: ['as']"}
    assert v3.delete("/banned/v3-evil", params={"as": "client_id"}).json() == {"code": 0}
    assert Wire(api_node.port).connect("v3-evil").reason_code == 0


def test_alarms_present_then_history(v3, api_node):
    fill_a_stalled_queue(api_node, "v3fill")
    wait_for(lambda: v3.get("/alarms/present").json()["data"][0]["alarms"])
    [alarm] = v3.get("/alarms/present").json()["data"][0]["alarms"]
    assert alarm["id"] == "high_queued_bytes" and alarm["desc"]
    node = v3.get("/nodes/").json()["data"][0]["name"]
    assert v3.get(f"/alarms/present/{node}").json()["data"] == [alarm]
    with v4_client(api_node) as v4:  # v3 has no route to deactivate one; v4 does
        assert v4.post("/alarms/deactivated", json={"name": "high_queued_bytes"}).json() == {"code": 0}
    [gone] = v3.get(f"/alarms/history/{node}").json()["data"]
    assert gone["id"] == "high_queued_bytes" and len(gone["clear_at"]) == 19
    assert v3.get("/alarms/present").json()["data"][0]["alarms"] == []


def test_a_config_change_is_live_and_kept(v3, api_node):
    [row] = v3.get("/configs/").json()["data"]
    config = {item["key"]: item for item in row["config"]}
    assert config["mqtt.max_topic_levels"] == {
        "key": "mqtt.max_topic_levels",
        "value": "128",
        "datatpye": "integer",
        "app": "emqx",
    }
    assert config["mqtt.retain_available"]["value"] == "true"
    assert config["mqtt.allow_anonymous"]["value"] == "true"
    anonymous = {"key": "mqtt.allow_anonymous", "value": "false"}  # the seed's example
    assert v3.put("/configs/emqx", json=anonymous).json() == {"code": 0}
    assert Wire(api_node.port).connect("v3-anonymous").reason_code == 0x05
    assert v3.put("/configs/emqx", json={**anonymous, "value": "true"}).json() == {"code": 0}
    assert Wire(api_node.port).connect("v3-anonymous").reason_code == 0
    change = {"key": "mqtt.max_topic_levels", "value": "3"}
    assert v3.put("/configs/emqx", json=change).json() == {"code": 0}
    deep = Wire(api_node.port, pk.MQTT_5)
    assert deep.connect("v3-deep").reason_code == 0
    deep.send(pk.Subscribe(1, [("a/b/c/d", pk.SubscriptionOptions(0))]))
    assert deep.recv().reason_codes == [0x8F]  # too many levels now: Topic Filter invalid
    deep.send(pk.Subscribe(2, [("$SYS/#", pk.SubscriptionOptions(0))]))
    assert deep.recv().reason_codes == [0]
    uptime = deep.recv(timeout=5)  # the broker's own topics are not held to a client's limit
    while not uptime.topic.endswith("/uptime"):
        uptime = deep.recv(timeout=5)
    deep.close()
    bad = v3.put("/configs/emqx", json={"key": "mqtt.max_topic_levels", "value": "lots"}).json()
    assert bad["code"] == 108 and "max_topic_levels" in bad["message"]
    assert v3.put("/configs/emqx", json={"key": "mqtt.no_such_key", "value": "1"}).json() == {
        "message": "not_found"
    }
    assert v3.put("/configs/emqx_retainer", json=change).json() == {"message": "not_found"}
    assert v3.put("/configs/emqx", json={"key": "mqtt.max_topic_levels"}).json()["code"] == 107
    restart(api_node)
    with httpx.Client(base_url=str(v3.base_url), auth=v3.auth, timeout=10) as again:
        node = again.get("/nodes/").json()["data"][0]["name"]
        kept = {item["key"]: item["value"] for item in again.get(f"/nodes/{node}/configs/").json()["data"]}
        assert kept["mqtt.max_topic_levels"] == "3"
        assert again.put(
            f"/nodes/{node}/configs/emqx", json={"key": "mqtt.max_topic_levels", "value": "128"}
        ).json() == {"code": 0}


def test_an_app_made_on_v3_works_on_v4_and_v5(v3, api_node):
    secret = v3.post("/apps/", json={"app_id": "fromv3", "name": "From v3"}).json()["data"]["secret"]
    assert any(app["app_id"] == "fromv3" for app in v3.get("/apps/").json()["data"])
    with v4_client(api_node, None) as v4:
        assert v4.get("/brokers", auth=("fromv3", secret)).json()["code"] == 0
    v5 = httpx.get(f"http://127.0.0.1:{api_node.api_port}/api/v5/nodes", auth=("fromv3", secret))
    assert v5.status_code == 200
    assert v3.delete("/apps/fromv3").json() == {"code": 0}
    with v4_client(api_node, None) as v4:
        assert v4.get("/brokers", auth=("fromv3", secret)).status_code == 401
