"""The built-in plugins through /api/v4, /api/v3, /api/v2 and /api/v5 against a real broker:
stopping one removes its feature for real clients, starting it brings it back, the state is
kept across a restart, and what the API needs cannot be stopped."""

from __future__ import annotations

import queue

from tests.api.v2.conftest import v2_client
from tests.api.v3.conftest import v3_client
from tests.api.v5.conftest import mqtt_client, prefix, restart, wait_for  # noqa: F401
from tests.interop.test_paho import subscribed


def _plugins(v4) -> dict[str, bool]:
    [row] = v4.get("/plugins").json()["data"]
    return {plugin["name"]: plugin["active"] for plugin in row["plugins"]}


def _got(client, timeout: float = 1.0) -> bytes | None:
    try:
        return client.inbox.get(timeout=timeout).payload
    except queue.Empty:
        return None


def test_the_retainer_stops_and_starts_with_its_messages_kept(v4, api_node, mqtt_client, prefix) -> None:  # noqa: F811
    node = v4.get("/nodes").json()["data"][0]["node"]
    assert _plugins(v4) | {"emqx_retainer": True, "emqx_management": True} == _plugins(v4)
    pub = mqtt_client(prefix + "pub")
    pub.publish(f"{prefix}kept", b"before", 1, retain=True).wait_for_publish(5)
    assert v4.put(f"/nodes/{node}/plugins/emqx_retainer/unload").json() == {"code": 0}
    assert v4.put(f"/nodes/{node}/plugins/emqx_retainer/unload").json() == {"message": "not_started"}
    assert _plugins(v4)["emqx_retainer"] is False
    off = mqtt_client(prefix + "off")
    subscribed(off, f"{prefix}kept", 0)
    assert _got(off) is None  # no retained message while the retainer is stopped
    restart(api_node)
    assert _plugins(v4)["emqx_retainer"] is False  # kept across the restart
    assert v4.put(f"/nodes/{node}/plugins/emqx_retainer/load").json() == {"code": 0}
    assert v4.put(f"/nodes/{node}/plugins/emqx_retainer/load").json() == {"message": "already_started"}
    on = mqtt_client(prefix + "on")
    subscribed(on, f"{prefix}kept", 0)
    assert _got(on, 5) == b"before"  # the kept one is back


def test_the_rule_engine_stops_and_starts(v4, api, mqtt_client, prefix) -> None:  # noqa: F811
    args = {"topic": f"{prefix}out", "payload": "${payload}"}
    api.post(
        "/rules",
        json={
            "id": f"{prefix}r",
            "sql": f'SELECT payload FROM "{prefix}in"',
            "actions": [{"function": "republish", "args": args}],
        },
    )
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, f"{prefix}out", 0)
    pub = mqtt_client(prefix + "p")
    assert v4.put("/plugins/emqx_rule_engine/unload").json() == {"code": 0}
    pub.publish(f"{prefix}in", b"while off", 1).wait_for_publish(5)
    assert _got(watcher) is None
    assert api.get(f"/rules/{prefix}r").status_code == 200  # the rules are kept
    assert v4.put("/plugins/emqx_rule_engine/reload").json() == {"code": 0}
    pub.publish(f"{prefix}in", b"back on", 1).wait_for_publish(5)
    assert _got(watcher, 5) == b"back on"


def test_each_dialect_names_and_refuses_in_its_way(v4, api, api_node) -> None:
    node = v4.get("/nodes").json()["data"][0]["node"]
    answer = v4.put(f"/nodes/{node}/plugins/emqx_management/unload").json()
    assert "cannot be stopped" in answer["message"]
    assert v4.put(f"/nodes/{node}/plugins/emqx_nothing/load").json() == {"message": "not_found"}
    assert v4.get("/nodes/elsewhere@host/plugins").json()["code"] == 101
    with v3_client(api_node) as v3:
        names = [p["name"] for p in v3.get(f"/nodes/{node}/plugins/").json()["data"]]
        assert "emqx_delayed_publish" in names
        assert v3.put(f"/nodes/{node}/plugins/emqx_delayed_publish/load").json() == {
            "code": 102,
            "message": "already_started",
        }
    with v2_client(api_node) as v2:
        rows = v2.get(f"/nodes/{node}/plugins").json()["result"]
        assert {r["name"] for r in rows} >= {"emq_retainer", "emq_delayed_publish", "emq_rule_engine"}
        assert v2.put(f"/nodes/{node}/plugins/emq_delayed_publish", json={"active": False}).json() == {
            "code": 0,
            "result": [],
        }
        assert (
            v2.put(f"/nodes/{node}/plugins/emq_delayed_publish", json={"active": False}).json()["code"] == 111
        )
        assert v2.put(f"/nodes/{node}/plugins/emq_delayed_publish", json={"active": True}).json()["code"] == 0
        assert (
            v2.put(f"/nodes/{node}/plugins/emq_delayed_publish", json={"active": True}).json()["code"] == 110
        )
        assert v2.put(f"/nodes/{node}/plugins/emq_delayed_publish", json={}).json()["code"] == 107
    listed = {p["name"]: p for p in api.get("/plugins").json()}
    assert (
        listed["delayed"]["emqx_name"] == "emqx_delayed_publish"
        and listed["delayed"]["running_status"][0]["status"] == "running"
    )
    assert api.put("/plugins/delayed/stop").status_code == 204
    assert api.get("/mqtt/delayed").json()["enable"] is False  # one state, the settings'
    assert api.put("/plugins/delayed/start").status_code == 204
    assert api.put("/plugins/management/stop").status_code == 400
    assert api.get("/plugins/nothing").status_code == 404
    assert api.get("/plugins/retainer").json()["builtin"] is True


def test_plugin_configs_read_and_change_the_settings(v4, api, api_node) -> None:
    node = v4.get("/nodes").json()["data"][0]["node"]
    with v3_client(api_node) as v3:
        items = {i["key"]: i for i in v3.get(f"/nodes/{node}/plugin_configs/emqx_retainer").json()["data"]}
        assert items["retainer.enable"] == {
            "key": "retainer.enable",
            "value": "true",
            "desc": "",
            "required": True,
        }
        assert "retainer.backend.max_retained_messages" in items
        change = {"retainer.max_payload_size": "2048"}
        assert v3.put(f"/nodes/{node}/plugin_configs/emqx_retainer", json=change).json() == {"code": 0}
        assert api.get("/mqtt/retainer").json()["max_payload_size"] == 2048
        wrong = v3.put(f"/nodes/{node}/plugin_configs/emqx_retainer", json={"retainer.nothing": 1}).json()
        assert wrong["code"] == 108 and "retainer.nothing" in wrong["message"]
        bad = v3.put(
            f"/nodes/{node}/plugin_configs/emqx_retainer", json={"retainer.max_payload_size": "huge"}
        ).json()
        assert bad["code"] == 108
        assert v3.get(f"/nodes/{node}/plugin_configs/emqx_nothing").json() == {"message": "not_found"}
        assert v3.get(f"/nodes/{node}/plugin_configs/emqx_management").json() == {"code": 0, "data": []}
    with v2_client(api_node) as v2:
        rows = v2.get(f"/nodes/{node}/plugin_configs/emq_delayed_publish").json()["result"]
        assert {r["key"] for r in rows} == {"delayed.enable", "delayed.max_delayed_messages"}
        change = {"delayed.max_delayed_messages": 500}
        assert v2.put(f"/nodes/{node}/plugin_configs/emq_delayed_publish", json=change).json() == {
            "code": 0,
            "result": [],
        }
        assert api.get("/mqtt/delayed").json()["max_delayed_messages"] == 500
    api.put("/mqtt/retainer", json={"max_payload_size": "1MB"})


def test_v5_plugin_config(api) -> None:
    config = api.get("/plugins/retainer/config").json()
    assert config["enable"] is True and "max_payload_size" in config
    assert api.put("/plugins/retainer/config", json={"max_payload_size": "64KB"}).status_code == 204
    assert api.get("/mqtt/retainer").json()["max_payload_size"] == 65536
    bad = api.put("/plugins/retainer/config", json={"max_payload_size": "lots"})
    assert bad.status_code == 400 and "max_payload_size" in bad.json()["message"]
    assert api.get("/plugins/management/config").status_code == 404
    assert api.put("/plugins/retainer/config", json={"max_payload_size": "1MB"}).status_code == 204
