"""The rule routes of ``/api/v4`` and ``/api/v3`` against a real broker: a rule made in EMQX 4's
shape republishes what a paho client publishes, and every dialect lists the same rules."""

from __future__ import annotations

import json

from tests.api.v3.conftest import v3_client
from tests.api.v5.conftest import mqtt_client, prefix, wait_for  # noqa: F401
from tests.interop.test_paho import subscribed


def test_a_v4_rule_republishes_and_v5_lists_it(v4, api, mqtt_client, prefix) -> None:  # noqa: F811
    made = v4.post(
        "/rules",
        json={
            "rawsql": f'SELECT payload.n AS n, clientid FROM "{prefix}in/#" WHERE payload.n > 1',
            "actions": [
                {
                    "name": "republish",
                    "params": {
                        "target_topic": f"{prefix}out/${{clientid}}",
                        "target_qos": -1,
                        "payload_tmpl": "${n}",
                    },
                },
                {"name": "do_nothing", "params": {}},
            ],
            "description": "from v4",
        },
    ).json()
    assert made["code"] == 0, made
    rule = made["data"]
    assert rule["id"].startswith("rule:") and rule["for"] == [f"{prefix}in/#"] and rule["enabled"] is True
    assert [a["name"] for a in rule["actions"]] == ["republish", "do_nothing"]
    assert rule["actions"][0]["params"]["target_qos"] == -1 and rule["metrics"][0]["matched"] == 0
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, f"{prefix}out/#", 2)
    pub = mqtt_client(prefix + "p")
    for n in (1, 2, 3):
        pub.publish(f"{prefix}in/x", json.dumps({"n": n}), 1).wait_for_publish(5)
    got = [watcher.inbox.get(timeout=5) for _ in range(2)]
    assert [(m.topic, m.payload, m.qos) for m in got] == [
        (f"{prefix}out/{prefix}p", b"2", 1),
        (f"{prefix}out/{prefix}p", b"3", 1),
    ]
    shown = wait_for(
        lambda: (r := v4.get(f"/rules/{rule['id']}").json()["data"])["metrics"][0]["matched"] == 3 and r
    )
    assert shown["metrics"][0]["passed"] == 2 and shown["metrics"][0]["no_result"] == 1
    assert (
        shown["actions"][0]["metrics"][0]["success"] == 2
        and shown["actions"][1]["metrics"][0]["success"] == 2
    )
    assert v4.put(f"/rules/{rule['id']}/reset_metrics").json() == {"code": 0}
    assert v4.get(f"/rules/{rule['id']}").json()["data"]["metrics"][0]["matched"] == 0
    in_v5 = api.get(f"/rules/{rule['id']}").json()
    assert in_v5["sql"] == rule["rawsql"] and in_v5["description"] == "from v4"
    assert in_v5["actions"] == [
        {
            "function": "republish",
            "args": {
                "topic": f"{prefix}out/${{clientid}}",
                "qos": "${qos}",
                "retain": False,
                "payload": "${n}",
            },
        },
        {"function": "do_nothing"},
    ]
    off = v4.put(f"/rules/{rule['id']}", json={"enabled": False}).json()["data"]
    assert off["enabled"] is False and off["rawsql"] == rule["rawsql"]
    assert v4.delete(f"/rules/{rule['id']}").json() == {"code": 0}
    assert v4.get(f"/rules/{rule['id']}").json()["code"] == 404


def test_a_v5_rule_in_v4_and_v3_shapes(v4, api, api_node, prefix) -> None:  # noqa: F811
    args = {"topic": f"{prefix}t", "qos": 2, "payload": "x"}
    api.post(
        "/rules",
        json={
            "id": f"{prefix}five",
            "sql": 'SELECT * FROM "a"',
            "actions": [{"function": "republish", "args": args}, {"function": "console"}],
        },
    )
    listed = v4.get("/rules", params={"_limit": 10000}).json()
    mine = next(r for r in listed["data"] if r["id"] == f"{prefix}five")
    assert listed["meta"]["count"] == len(listed["data"])
    assert mine["actions"][0]["params"] == {
        "target_topic": f"{prefix}t",
        "target_qos": 2,
        "target_retain": "${retain}",
        "payload_tmpl": "x",
    }
    assert mine["actions"][1]["name"] == "inspect"
    with v3_client(api_node) as v3:
        shown = v3.get(f"/rules/{prefix}five").json()["data"]
        assert [a["name"] for a in shown["actions"]] == [
            "built_in:republish_action",
            "built_in:inspect_action",
        ]
        made = v3.post(
            "/rules/",
            json={
                "name": "test-rule",
                "for": "message.publish",
                "rawsql": 'select * from "t/a"',
                "actions": [{"name": "built_in:inspect_action", "params": {"a": 1}}],
                "description": "test-rule",
            },
        ).json()["data"]
        assert (
            made["rawsql"] == 'select * from "t/a"'
            and made["actions"][0]["name"] == "built_in:inspect_action"
        )
        assert api.get(f"/rules/{made['id']}").json()["name"] == "test-rule"
        assert v3.post(
            "/rules/", json={"rawsql": 'SELECT * FROM "x"', "actions": [{"name": "republish"}]}
        ).json() == {
            "code": 400,
            "message": "Action republish Not Found",
        }
        names = [a["name"] for a in v3.get("/actions/").json()["data"]]
        assert names == ["built_in:republish_action", "built_in:inspect_action", "built_in:do_nothing_action"]
        assert v3.get("/actions/built_in:inspect_action").json()["data"]["category"] == "debug"
        assert v3.put(f"/rules/{made['id']}", json={"enabled": False}).status_code == 404  # no PUT in 3.x


def test_sql_test_actions_events_and_errors(v4) -> None:
    ok = v4.post(
        "/rules",
        params={"test": "true"},
        json={"rawsql": 'SELECT payload.a AS a FROM "t/#"', "ctx": {"topic": "t/1", "payload": '{"a": 1}'}},
    )
    assert ok.json() == {"code": 0, "data": {"a": 1}}
    miss = v4.post(
        "/rules",
        params={"test": "true"},
        json={"rawsql": 'SELECT * FROM "t/#" WHERE qos = 2', "ctx": {"topic": "t/1"}},
    )
    assert miss.json() == {"code": 404, "message": "SQL Not Match"}
    bad = v4.post("/rules", json={"rawsql": "SELECT a FROM", "actions": []}).json()
    assert (
        bad["code"] == 400
        and bad["message"].startswith("Bad Arguments: sql: invalid SQL")
        and "column 14" in bad["message"]
    )
    assert v4.post("/rules", json={"actions": []}).json()["code"] == 107
    assert v4.post("/rules", json={"rawsql": 'SELECT * FROM "x"', "actions": "no"}).json()["code"] == 400
    assert v4.post("/rules", json={"rawsql": 'SELECT * FROM "x"', "enabled": "maybe"}).json()["code"] == 108
    twice = {"id": "rule:twice", "rawsql": 'SELECT * FROM "x"', "actions": []}
    assert v4.post("/rules", json=twice).json()["code"] == 0
    assert v4.post("/rules", json=twice).json() == {"code": 400, "message": "Already Exists"}
    assert v4.put("/rules/rule:none", json={"enabled": False}).json()["code"] == 404
    actions = v4.get("/actions").json()["data"]
    assert [a["name"] for a in actions] == ["republish", "inspect", "do_nothing"]
    assert set(actions[0]["params"]) == {"target_topic", "target_qos", "target_retain", "payload_tmpl"}
    assert v4.get("/actions/teleport").json()["code"] == 404
    events = v4.get("/rule_events").json()["data"]
    assert {"message.publish", "$events/client_connected"} <= {e["event"] for e in events}


def test_a_v4_web_hook_resource_and_data_to_webserver(v4, api, api_node, mqtt_client, prefix) -> None:  # noqa: F811
    from tests.api.v5.test_connectors import Sink

    sink = Sink()
    try:
        made = v4.post(
            "/resources",
            json={
                "id": f"resource:{prefix}hook",
                "type": "web_hook",
                "config": {"url": f"http://127.0.0.1:{sink.port}/hook", "content_type": "application/json"},
                "description": "from v4",
            },
        ).json()
        assert made["code"] == 0, made
        resource = made["data"]
        assert resource["id"] == f"resource-{prefix}hook" and resource["type"] == "web_hook"
        assert resource["config"]["url"] == f"http://127.0.0.1:{sink.port}/hook"
        assert api.get(f"/connectors/http:resource-{prefix}hook").json()["status"] == "connected"
        assert v4.get(f"/resource_status/resource:{prefix}hook").json()["data"][0]["is_alive"] is True
        assert any(
            r["id"] == resource["id"] and r["status"] is True for r in v4.get("/resources").json()["data"]
        )
        assert [r["id"] for r in v4.get("/resource_types/web_hook/resources").json()["data"]] == [
            resource["id"]
        ]
        action = {
            "name": "data_to_webserver",
            "params": {"$resource": resource["id"], "path": "/${clientid}", "body": "${payload}"},
        }
        rule = v4.post("/rules", json={"rawsql": f'SELECT * FROM "{prefix}w/#"', "actions": [action]}).json()[
            "data"
        ]
        [shown] = rule["actions"]
        assert shown["name"] == "data_to_webserver" and shown["params"]["$resource"] == resource["id"]
        assert shown["params"]["path"] == "/${clientid}"
        mqtt_client(prefix + "p").publish(f"{prefix}w/1", b"through v4", 1).wait_for_publish(5)
        method, path, _, body = sink.requests.get(timeout=10)
        assert (method, path, body) == ("POST", f"/hook/{prefix}p", b"through v4")
        made_actions = [a for a in api.get("/actions").json() if a["connector"] == resource["id"]]
        assert len(made_actions) == 1  # the v5 action made for the rule
        in_use = v4.delete(f"/resources/{resource['id']}").json()
        assert in_use["code"] == 400 and "channels" in in_use["message"]
        assert v4.delete(f"/rules/{rule['id']}").json() == {"code": 0}
        assert [a for a in api.get("/actions").json() if a["connector"] == resource["id"]] == []
        assert v4.delete(f"/resources/{resource['id']}").json() == {"code": 0}
        assert v4.get(f"/resources/{resource['id']}").json()["code"] == 404
        bad = v4.post("/resources", json={"type": "kafka", "config": {}}).json()
        assert bad == {"code": 404, "message": "Resource Type kafka Not Found"}
        no_resource = v4.post(
            "/rules",
            json={
                "rawsql": 'SELECT * FROM "x"',
                "actions": [{"name": "data_to_webserver", "params": {"$resource": "resource:none"}}],
            },
        ).json()
        assert no_resource["code"] == 400
        assert [t["name"] for t in v4.get("/resource_types").json()["data"]] == ["web_hook", "bridge_mqtt"]
    finally:
        sink.close()
