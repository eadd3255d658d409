"""``/api/v2`` (EMQ 2.3, seed 002), first slice: the envelope, paging and codes, nodes, clients,
sessions, subscriptions and routes of real paho clients, a kick, a per-topic ACL cache clean,
dashboard users (one made here logs in on v5), every route as every credential."""

from __future__ import annotations

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.api.legacy import DASHBOARD_USER, fill_a_stalled_queue, walk_routes
from tests.api.v2.conftest import v2_client
from tests.api.v5.conftest import mqtt_client, prefix, restart, wait_for  # noqa: F401
from tests.durability.process import Wire
from tests.interop.test_paho import subscribed

NODE_ENV = {"BROOKMQ_SYSMON__MAX_QUEUED_BYTES": "4KB"}


def test_every_route_answers_for_each_credential(api_node):
    walk_routes(api_node, "/api/v2", realm="emqx control center")


def test_the_envelope_and_the_codes(v2, api_node):
    [broker] = v2.get("/management/nodes").json()["result"]
    assert set(broker) == {"name", "version", "sysdescr", "uptime", "datetime", "otp_release", "node_status"}
    one = v2.get(f"/management/nodes/{broker['name']}").json()
    assert one["code"] == 0 and "name" not in one["result"] and one["result"]["node_status"] == "Running"
    [node] = v2.get("/monitoring/nodes").json()["result"]
    assert node["name"] == broker["name"] and isinstance(node["memory_total"], str) and "clients" in node
    assert v2.get("/monitoring/nodes/someone@elsewhere").json()["code"] == 101
    garbled = v2.put(
        "/clients/x/clean_acl_cache", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert garbled.status_code == 200 and garbled.json() == {"code": 109, "message": "Body not json"}
    refused = httpx.get(f"http://127.0.0.1:{api_node.mgmt_port}/api/v2/routes")
    assert (
        refused.status_code == 401
        and refused.headers["www-authenticate"] == 'Basic Realm="emqx control center"'
    )
    with v2_client(api_node, DASHBOARD_USER) as user:  # EMQ 2 took its dashboard users
        assert user.get("/routes").json()["code"] == 0
    assert v2.get("/no/such/route").text == "Not found."


def test_clients_sessions_subscriptions_and_routes(v2, api_node, mqtt_client, prefix):  # noqa: F811
    node = v2.get("/monitoring/nodes").json()["result"][0]["name"]
    sub = mqtt_client(prefix + "c", protocol=mqtt.MQTTv311, username=prefix + "u")
    subscribed(sub, "/World", 1)
    listed = v2.get(f"/nodes/{node}/clients", params={"curr_page": 1, "page_size": 1000}).json()["result"]
    assert {"current_page", "page_size", "total_num", "total_page", "objects"} == set(listed)
    [row] = [c for c in listed["objects"] if c["client_id"] == prefix + "c"]
    assert row == {
        "client_id": prefix + "c",
        "username": prefix + "u",
        "ipaddress": "127.0.0.1",
        "port": row["port"],
        "clean_sess": True,
        "proto_ver": 4,
        "keepalive": 60,
        "connected_at": row["connected_at"],
    }
    assert v2.get(f"/clients/{prefix}c").json()["result"]["objects"] == [row]
    assert v2.get(f"/nodes/{node}/clients/nobody").json() == {"code": 0, "result": {"objects": []}}
    one_page = v2.get(f"/nodes/{node}/clients", params={"page_size": 1}).json()["result"]
    assert one_page["page_size"] == 1 and len(one_page["objects"]) == 1 and one_page["total_page"] >= 1
    [session] = v2.get(f"/sessions/{prefix}c").json()["result"]["objects"]
    assert session["clean_sess"] is True and session["subscriptions"] == 1 and "deliver_msg" in session
    sessions = v2.get(f"/nodes/{node}/sessions").json()["result"]
    assert sessions["total_num"] >= 1
    assert v2.get(f"/subscriptions/{prefix}c").json()["result"]["objects"] == [
        {"client_id": prefix + "c", "topic": "/World", "qos": 1}
    ]
    assert v2.get(f"/nodes/{node}/subscriptions").json()["result"]["total_num"] >= 1
    assert v2.get("/routes//World").json()["result"]["objects"][0]["topic"] == "/World"  # the seed's example
    assert any(r["topic"] == "/World" for r in v2.get("/routes").json()["result"]["objects"])
    assert v2.get(f"/nodes/{node}/clients", params={"curr_page": "first"}).json()["code"] == 108


def test_an_offline_session_and_a_kick(v2, api_node, mqtt_client, prefix):  # noqa: F811
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 300
    lasting = mqtt_client(prefix + "lasting", clean_start=False, properties=props)
    lasting.disconnect()
    lasting.loop_stop()
    wait_for(lambda: v2.get(f"/clients/{prefix}lasting").json()["result"]["objects"] == [])
    assert v2.get(f"/sessions/{prefix}lasting").json()["result"]["objects"][0]["clean_sess"] is False
    assert v2.delete(f"/clients/{prefix}lasting").json()["code"] == 112  # not online
    mqtt_client(prefix + "victim")
    assert v2.delete(f"/clients/{prefix}victim").json() == {"code": 0, "result": []}
    wait_for(lambda: v2.get(f"/clients/{prefix}victim").json()["result"]["objects"] == [])


def test_clean_acl_cache_clears_that_topic_only(v2, api_node, mqtt_client, prefix):  # noqa: F811
    pub = mqtt_client(prefix + "pub", protocol=mqtt.MQTTv311)
    for topic in ("a/1", "a/2"):
        pub.publish(topic, b"x", qos=1).wait_for_publish(5)
    with httpx.Client(base_url=f"http://127.0.0.1:{api_node.mgmt_port}/api/v4", auth=v2.auth) as v4:

        def cached() -> set[str]:
            return {entry["topic"] for entry in v4.get(f"/clients/{prefix}pub/acl_cache").json()["data"]}

        wait_for(lambda: cached() == {"a/1", "a/2"})
        assert v2.put(f"/clients/{prefix}pub/clean_acl_cache", json={"topic": "a/1"}).json() == {
            "code": 0,
            "result": [],
        }
        assert cached() == {"a/2"}
    assert v2.put(f"/clients/{prefix}pub/clean_acl_cache", json={}).json()["code"] == 107
    assert v2.put("/clients/nobody/clean_acl_cache", json={"topic": "a"}).json()["code"] == 112


def test_users_made_on_v2_log_in_on_v5(v2, api_node):
    assert v2.post("/users", json={"username": "v2user", "password": "v2-pass-1", "tags": "ops"}).json() == {
        "code": 0,
        "result": [],
    }
    assert {"username": "v2user", "tags": "ops", "role": "administrator"} in v2.get("/users").json()["result"]
    login = httpx.post(
        f"http://127.0.0.1:{api_node.api_port}/api/v5/login",
        json={"username": "v2user", "password": "v2-pass-1"},
    )
    assert login.status_code == 200
    with v2_client(api_node, None) as anyone:
        assert anyone.post("/auth", json={"username": "v2user", "password": "v2-pass-1"}).json()["code"] == 0
        assert anyone.post("/auth", json={"username": "v2user", "password": "wrong-1"}).json()["code"] == 103
    assert (
        v2.put("/change_pwd/v2user", json={"old_pwd": "bad-old-1", "new_pwd": "v2-pass-2"}).json()["code"]
        == 114
    )
    assert v2.delete("/users/admin").json()["code"] == 106
    assert v2.delete("/users/v2user").json()["code"] == 0


def test_publish_subscribe_and_unsubscribe(v2, mqtt_client, prefix):  # noqa: F811
    me, topic = prefix + "listener", f"{prefix}/t"
    sub = mqtt_client(me)
    assert v2.post("/mqtt/subscribe", json={"client_id": me, "topic": topic, "qos": 1}).json() == {
        "code": 0,
        "result": [],
    }
    assert v2.post("/mqtt/publish", json={"topic": topic, "payload": "hello"}).json()["code"] == 0
    assert sub.inbox.get(timeout=5).payload == b"hello"
    assert v2.post("/mqtt/unsubscribe", json={"client_id": me, "topic": topic}).json()["code"] == 0
    assert v2.get(f"/subscriptions/{me}").json()["result"]["objects"] == []
    assert v2.post("/mqtt/publish", json={"payload": "no topic"}).json()["code"] == 107
    assert v2.post("/mqtt/subscribe", json={"client_id": "offline-one", "topic": "t"}).json()["code"] == 112


def test_monitoring_listeners_metrics_and_stats(v2, api_node):
    node = v2.get("/monitoring/nodes").json()["result"][0]["name"]
    listeners = v2.get("/monitoring/listeners").json()["result"][node]
    tcp = next(row for row in listeners if row["listen"].endswith(f":{api_node.port}"))
    assert set(tcp) == {"protocol", "listen", "acceptors", "max_clients", "current_clients", "shutdown_count"}
    assert tcp["protocol"] == "mqtt:tcp"
    assert v2.get(f"/monitoring/listeners/{node}").json()["result"] == listeners
    assert Wire(api_node.port).connect("v2-metrics").reason_code == 0
    metrics = v2.get("/monitoring/metrics/").json()["result"]
    assert "messages/received" in metrics and "bytes/received" in metrics
    assert metrics["packets/connect"] >= 1 and metrics["packets/connack"] >= 1  # EMQ 2's names
    assert "packets/connect/received" not in metrics and "messages/qos2/dropped" in metrics
    stats_now = v2.get(f"/monitoring/stats/{node}").json()["result"]
    assert metrics["messages/retained"] == stats_now["retained/count"]
    assert v2.get(f"/monitoring/metrics/{node}").json()["result"].keys() == metrics.keys()
    [stats] = v2.get("/monitoring/stats").json()["result"]
    assert "clients/count" in stats[node] and "subscriptions/count" in stats[node]
    assert "clients/max" in v2.get(f"/monitoring/stats/{node}").json()["result"]


def test_hot_configuration_with_2x_key_names(v2, api, api_node):
    node = v2.get("/monitoring/nodes").json()["result"][0]["name"]
    items = {item["key"]: item for item in v2.get("/configs").json()["result"][node]}
    assert items["log.console.level"]["app"] == "emqttd" and "datatpye" in items["log.console.level"]
    assert (
        float(items["mqtt.broker.sys_interval"]["value"]) >= 0
        and items["mqtt.broker.sys_interval"]["datatpye"] == "duration"
    )
    assert "mqtt.max_packet_size" in items
    change = {"key": "log.console.level", "value": "warning"}
    assert v2.put("/configs/emqttd", json=change).json() == {"code": 0, "result": []}
    assert api.get("/configs/log").json()["level"] == "warning"  # the running broker's, as v5 sees it
    interval = {"key": "mqtt.broker.sys_interval", "value": "30"}
    assert v2.put(f"/nodes/{node}/configs/emqttd", json=interval).json()["code"] == 0
    assert api.get("/configs/sys_topics").json()["sys_msg_interval"] == 30.0
    for key, value in (("mqtt.acl_nomatch", "deny"), ("mqtt.cache_acl", "false")):
        assert v2.put("/configs/emqttd", json={"key": key, "value": value}).json()["code"] == 0, key
    settings = api.get("/authorization/settings").json()
    assert settings["no_match"] == "deny" and settings["cache"]["enable"] is False
    assert items["mqtt.acl_nomatch"]["value"] == "allow" and items["mqtt.cache_acl"]["value"] == "true"
    for key, value in (("mqtt.acl_nomatch", "allow"), ("mqtt.cache_acl", "true")):
        assert v2.put("/configs/emqttd", json={"key": key, "value": value}).json()["code"] == 0, key
    assert v2.put("/configs/emqttd", json={"key": "mqtt.acl_nomatch", "value": "maybe"}).json()["code"] == 108
    acl_file = {"key": "mqtt.acl_file", "value": "etc/acl.conf"}  # the file source's own route changes it
    assert v2.put("/configs/emqttd", json=acl_file).json()["code"] == 108
    assert v2.put("/configs/emqttd", json={"key": "log.console.level", "value": "loud"}).json()["code"] == 108
    assert v2.put("/configs/emqttd", json={"key": "log.console.level"}).json()["code"] == 107
    assert v2.put("/configs/emqttd", json={"key": "log.console.level", "value": "info"}).json()["code"] == 0
    assert [item["key"] for item in v2.get(f"/nodes/{node}/configs").json()["result"]] == list(items)


def test_allow_anonymous_is_hot_and_kept(v2, api_node):
    """The seed's own example: ``mqtt.allow_anonymous`` false refuses a client with no
    credentials at once (no authenticator is configured here), and stays so after a restart."""
    node = v2.get("/monitoring/nodes").json()["result"][0]["name"]
    items = {item["key"]: item for item in v2.get(f"/nodes/{node}/configs").json()["result"]}
    assert items["mqtt.allow_anonymous"] == {
        "key": "mqtt.allow_anonymous",
        "value": "true",
        "datatpye": "enum",
        "app": "emqttd",
    }
    assert Wire(api_node.port).connect("v2-anon-before").reason_code == 0
    anonymous = {"key": "mqtt.allow_anonymous", "value": "false"}
    assert v2.put("/configs/emqttd", json=anonymous).json() == {"code": 0, "result": []}
    assert Wire(api_node.port).connect("v2-anon-after").reason_code == 0x05  # 3.1.1: not authorized
    assert v2.put("/configs/emqttd", json={**anonymous, "value": "maybe"}).json()["code"] == 108
    restart(api_node)
    with httpx.Client(base_url=str(v2.base_url), auth=v2.auth, timeout=10) as again:
        kept = {item["key"]: item["value"] for item in again.get(f"/nodes/{node}/configs").json()["result"]}
        assert kept["mqtt.allow_anonymous"] == "false"
        assert Wire(api_node.port).connect("v2-anon-restarted").reason_code == 0x05
        allow = {"key": "mqtt.allow_anonymous", "value": "true"}
        assert again.put(f"/nodes/{node}/configs/emqttd", json=allow).json()["code"] == 0
    assert Wire(api_node.port).connect("v2-anon-again").reason_code == 0


def test_a_nodes_alarms(v2, api_node):
    node = v2.get("/monitoring/nodes").json()["result"][0]["name"]
    assert v2.get(f"/nodes/{node}/alarms").json() == {"code": 0, "result": []}
    fill_a_stalled_queue(api_node, "v2fill")
    wait_for(lambda: v2.get(f"/nodes/{node}/alarms").json()["result"])
    [alarm] = v2.get(f"/nodes/{node}/alarms").json()["result"]
    assert alarm | {"id": "high_queued_bytes", "severity": "warning", "title": "high_queued_bytes"} == alarm
    assert alarm["summary"] and len(alarm["occurred_at"]) == 19
    assert v2.get("/nodes/elsewhere@host/alarms").json()["code"] == 101
