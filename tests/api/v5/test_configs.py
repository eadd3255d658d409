"""/api/v5/configs: settings read and changed at run time, what the change does to the running
broker, and that it is kept across a restart until reset."""

from __future__ import annotations

import json
import threading

from tests.api.v5.conftest import restart, wait_for

NODE_CONFIG = """
mqtt.keepalive_multiplier = 1.5
dashboard.default_password = "first-start-Secret1"
"""


def keepalive(api, mqtt_client, client_id: str) -> int:
    """The keepalive a new client (asking for 60 s) gets: the server's, when it sets one."""
    mqtt_client(client_id)
    return api.get(f"/clients/{client_id}").json()["keepalive"]


def test_mqtt_change_applies_to_new_connections_and_survives_a_restart(
    api, api_node, mqtt_client, prefix
) -> None:
    old = mqtt_client(prefix + "old")
    assert api.get("/configs/mqtt").json()["server_keepalive"] == 0
    changed = api.put("/configs/mqtt", json={"server_keepalive": 42, "max_inflight": 7})
    assert changed.status_code == 200
    assert changed.json()["server_keepalive"] == 42 and changed.json()["max_inflight"] == 7
    assert changed.json()["max_packet_size"] == 1024 * 1024  # the others stay
    assert keepalive(api, mqtt_client, prefix + "new") == 42
    assert api.get(f"/clients/{prefix}new").json()["inflight_max"] == 7
    assert api.get(f"/clients/{prefix}old").json()["inflight_max"] == 32  # opened before
    old.disconnect()

    restart(api_node)
    assert api.get("/configs/mqtt").json()["server_keepalive"] == 42
    assert keepalive(api, mqtt_client, prefix + "after") == 42

    reset = api.post("/configs_reset/mqtt", params={"conf_path": "server_keepalive"})
    assert reset.status_code == 200 and reset.json()["server_keepalive"] == 0
    assert reset.json()["max_inflight"] == 7  # only that key went back
    assert api.post("/configs_reset/mqtt").json()["max_inflight"] == 32
    logged = restart(api_node)  # what the node started after the first restart said
    assert "settings changed through the API are in use for: mqtt" in logged
    assert api.get("/configs/mqtt").json()["max_inflight"] == 32


def test_bad_changes_are_refused_and_change_nothing(api) -> None:
    bad = api.put("/configs/mqtt", json={"max_inflight": 0})
    assert bad.status_code == 400 and bad.json()["code"] == "UPDATE_FAILED"
    assert "mqtt.max_inflight" in bad.json()["message"]
    unknown_key = api.put("/configs/sysmon", json={"os": {"nonsense": 1}})
    assert unknown_key.status_code == 400 and "sysmon.os.nonsense" in unknown_key.json()["message"]
    assert api.get("/configs/mqtt").json()["max_inflight"] == 32
    assert api.get("/configs/node").status_code == 404  # not a root the API serves
    assert api.put("/configs/durability", json={}).status_code == 404
    not_object = api.put("/configs", json={"mqtt": 5})
    assert not_object.status_code == 400 and not_object.json()["code"] == "BAD_REQUEST"
    assert api.post("/configs_reset/mqtt", params={"conf_path": "no.such"}).status_code == 400


def test_secrets_are_never_shown_and_kept_when_sent_back(api) -> None:
    dashboard = api.get("/configs/dashboard").json()
    assert dashboard["default_password"] == "******"
    assert "first-start-Secret1" not in api.get("/configs", headers={"accept": "application/json"}).text
    dashboard["token_expired_time"] = 120
    assert api.put("/configs/dashboard", json=dashboard).json()["token_expired_time"] == 120
    everything = api.get("/configs", params={"key": "dashboard"})
    assert everything.headers["content-type"].startswith("text/plain")
    assert json.loads(everything.text)["dashboard"]["default_password"] == "******"


def test_sysmon_and_alarm_changes_raise_and_publish_alarms(api, mqtt_client, prefix) -> None:
    got: list[dict] = []
    seen = threading.Event()
    watcher = mqtt_client(prefix + "watch")

    def on_message(client, userdata, message) -> None:
        got.append(json.loads(message.payload))
        seen.set()

    watcher.on_message = on_message
    watcher.subscribe("$SYS/brokers/+/alarms/activate", qos=1)
    wait_for(lambda: api.get(f"/clients/{prefix}watch").json()["subscriptions_cnt"] == 1)
    assert api.put("/configs/alarm", json={"actions": ["log", "publish"], "size_limit": 5}).status_code == 200
    changed = api.put(
        "/configs/sysmon", json={"os": {"mem_check_interval": "1s", "sysmem_high_watermark": "1%"}}
    )
    assert changed.status_code == 200 and changed.json()["os"]["sysmem_high_watermark"] == 0.01
    assert seen.wait(5), "no alarm was published"
    assert got[0]["name"] == "high_system_memory_usage" and got[0]["activate_at"] > 0
    assert any(a["name"] == "high_system_memory_usage" for a in api.get("/alarms").json()["data"])
    api.put("/configs/sysmon", json={"os": {"sysmem_high_watermark": "100%"}})
    wait_for(lambda: not api.get("/alarms", params={"activated": True}).json()["data"])


def test_several_roots_at_once_and_replace_mode(api) -> None:
    done = api.put(
        "/configs", json={"log": {"level": "debug"}, "sys_topics": {"sys_heartbeat_interval": "5s"}}
    )
    assert done.status_code == 200
    assert done.json() == {
        "log": {"level": "debug"},
        "sys_topics": {**api.get("/configs/sys_topics").json(), "sys_heartbeat_interval": 5.0},
    }
    replaced = api.put("/configs", params={"mode": "replace"}, json={"sys_topics": {"sys_msg_interval": 0}})
    assert replaced.json()["sys_topics"]["sys_heartbeat_interval"] == 30.0  # back to its default
    api.post("/configs_reset/log")
    assert api.get("/configs/log").json() == {"level": "info"}
