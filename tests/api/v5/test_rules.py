"""/api/v5/rules against a real broker: a rule made over HTTP republishes what real paho
clients publish, events feed rules, metrics count what was sent, rules survive a restart."""

from __future__ import annotations

import json

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.api.v5.conftest import restart, wait_for
from tests.interop.test_paho import subscribed


def _rule(api, **body) -> dict:
    made = api.post("/rules", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def test_a_rule_republishes_what_it_selects(api, mqtt_client, prefix) -> None:
    sql = f'SELECT payload.temp AS t, clientid FROM "{prefix}sensors/#" WHERE payload.temp > 20'
    republish = {
        "function": "republish",
        "args": {"topic": f"{prefix}hot/${{clientid}}", "qos": 1, "payload": ""},
    }
    rule = _rule(api, id=f"{prefix}hot", sql=sql, actions=[republish], description="too warm")
    assert rule["from"] == [f"{prefix}sensors/#"] and rule["enable"] is True and rule["name"] == ""
    assert rule["created_at"].endswith(("Z", "00")) and len(rule["created_at"]) >= 29
    watcher = mqtt_client(prefix + "watch")
    subscribed(watcher, f"{prefix}hot/#", 1)
    sensor = mqtt_client(prefix + "sensor")
    for temp in (25, 10, 30):
        sensor.publish(f"{prefix}sensors/1", json.dumps({"temp": temp}), 1).wait_for_publish(5)
    got = [watcher.inbox.get(timeout=5) for _ in range(2)]
    assert [(m.topic, json.loads(m.payload), m.qos) for m in got] == [
        (f"{prefix}hot/{prefix}sensor", {"t": 25, "clientid": prefix + "sensor"}, 1),
        (f"{prefix}hot/{prefix}sensor", {"t": 30, "clientid": prefix + "sensor"}, 1),
    ]
    sensor.publish(f"{prefix}sensors/1", b"not json", 0).wait_for_publish(5)
    metrics = wait_for(
        lambda: (m := api.get(f"/rules/{prefix}hot/metrics").json())["metrics"]["matched"] == 4 and m
    )
    figures = metrics["metrics"]
    assert (
        figures["passed"],
        figures["failed"],
        figures["failed.no_result"],
        figures["failed.exception"],
    ) == (2, 2, 1, 1)
    assert figures["actions.total"] == 2 and figures["actions.success"] == 2 and figures["matched.rate"] >= 0
    assert metrics["node_metrics"][0]["node"] == "brookmq@127.0.0.1"
    assert api.put(f"/rules/{prefix}hot/metrics/reset").status_code == 204
    assert api.get(f"/rules/{prefix}hot/metrics").json()["metrics"]["matched"] == 0


def test_foreach_republishes_each_item_with_templates_and_properties(api, mqtt_client, prefix) -> None:
    sql = (
        "FOREACH payload.sensors DO clientid, item.name as name, item.idx as idx "
        f'INCASE item.idx >= 1 FROM "{prefix}in"'
    )
    args = {
        "topic": f"{prefix}sensors/${{idx}}",
        "qos": 0,
        "payload": "clientid=${clientid},name=${name}",
        "mqtt_properties": {"Content-Type": "text/plain"},
        "user_properties": "${props}",
    }
    _rule(api, id=f"{prefix}each", sql=sql, actions=[{"function": "republish", "args": args}])
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, f"{prefix}sensors/+", 0)
    pub = mqtt_client(prefix + "p")
    body = {"sensors": [{"name": "a", "idx": 0}, {"name": "b", "idx": 1}, {"name": "c", "idx": 2}]}
    pub.publish(f"{prefix}in", json.dumps(body), 1).wait_for_publish(5)
    got = sorted((watcher.inbox.get(timeout=5) for _ in range(2)), key=lambda m: m.topic)
    assert [(m.topic, m.payload) for m in got] == [
        (f"{prefix}sensors/1", f"clientid={prefix}p,name=b".encode()),
        (f"{prefix}sensors/2", f"clientid={prefix}p,name=c".encode()),
    ]
    assert got[0].properties.ContentType == "text/plain"


def test_user_properties_pass_through_and_a_rule_does_not_retrigger_itself(api, mqtt_client, prefix) -> None:
    # The rule republishes onto a topic it selects from itself: EMQX's loop guard stops it there.
    sql = f"SELECT *, pub_props.'User-Property' as user_properties FROM \"{prefix}loop/#\""
    _rule(
        api,
        id=f"{prefix}loop",
        sql=sql,
        actions=[{"function": "republish", "args": {"topic": f"{prefix}loop/again"}}],
    )
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, f"{prefix}loop/again", 0)
    pub = mqtt_client(prefix + "p")
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("k", "v")]
    pub.publish(f"{prefix}loop/start", b"hello", 0, properties=props).wait_for_publish(5)
    again = watcher.inbox.get(timeout=5)
    assert again.payload == b"hello" and again.properties.UserProperty == [("k", "v")]
    figures = wait_for(
        lambda: (m := api.get(f"/rules/{prefix}loop/metrics").json()["metrics"])["passed"] and m
    )
    assert figures["matched"] == 1  # its own republish did not run it again


def test_event_rules(api, mqtt_client, prefix) -> None:
    args = {"topic": f"{prefix}events", "payload": "${event} ${clientid} ${topic} ${reason}"}
    sql = (
        'SELECT * FROM "$events/client_connected", "$events/session_subscribed", '
        f"\"$events/client_disconnected\" WHERE clientid = '{prefix}ev'"
    )
    _rule(
        api,
        id=f"{prefix}events",
        sql=sql,
        actions=[{"function": "republish", "args": args}, {"function": "console"}],
    )
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, f"{prefix}events", 0)
    client = mqtt_client(prefix + "ev")
    subscribed(client, f"{prefix}x/#", 0)
    client.disconnect()
    got = [watcher.inbox.get(timeout=5).payload.decode() for _ in range(3)]
    assert got == [
        f"client.connected {prefix}ev undefined undefined",
        f"session.subscribed {prefix}ev {prefix}x/# undefined",
        f"client.disconnected {prefix}ev undefined normal",
    ]


def test_crud_listing_and_errors(api, prefix) -> None:
    made = _rule(api, sql=f'SELECT * FROM "{prefix}a/#"', actions=["http:my_hook"], enable=False)
    rule_id = made["id"]
    assert len(rule_id) == 8 and made["actions"] == ["http:my_hook"]
    assert api.get(f"/rules/{rule_id}").json()["from"] == [f"{prefix}a/#"]
    listed = api.get("/rules", params={"like_from": prefix, "enable": "false"}).json()
    assert [r["id"] for r in listed["data"]] == [rule_id] and listed["meta"]["count"] == 1
    assert api.get("/rules", params={"match_from": f"{prefix}a/b"}).json()["data"][0]["id"] == rule_id
    assert (
        api.get("/rules", params={"from": f"{prefix}a/#", "like_id": rule_id[:4]}).json()["meta"]["count"]
        == 1
    )
    changed = api.put(f"/rules/{rule_id}", json={"enable": True, "description": "now on"}).json()
    assert (
        changed["enable"] is True
        and changed["sql"] == made["sql"]
        and changed["created_at"] == made["created_at"]
    )
    duplicate = api.post("/rules", json={"id": rule_id, "sql": 'SELECT * FROM "x"', "actions": []})
    assert duplicate.status_code == 400 and duplicate.json()["message"] == "rule id already exists"
    empty = api.post("/rules", json={"id": "", "sql": 'SELECT * FROM "x"'})
    assert empty.status_code == 400 and empty.json()["message"] == "empty rule id is not allowed"
    bad = api.post("/rules", json={"sql": "SELECT a FROM", "actions": []})
    assert bad.status_code == 400 and bad.json()["code"] == "BAD_REQUEST"
    assert "line 1, column 14" in bad.json()["message"] and "expected a string" in bad.json()["message"]
    for body in (
        {"sql": 'SELECT * FROM "$events/nothing"'},
        {"sql": 'SELECT * FROM "x"', "actions": [{"function": "teleport"}]},
        {"sql": 'SELECT * FROM "x"', "actions": [{"function": "republish", "args": {}}]},
        {"sql": 'SELECT * FROM "x"', "actions": "console"},
        {"sql": 42},
        {"sql": 'SELECT * FROM "x"', "enable": "yes"},
        [1, 2],
    ):
        answer = api.post("/rules", json=body)
        assert answer.status_code == 400 and answer.json()["code"] == "BAD_REQUEST", (body, answer.text)
    assert api.delete(f"/rules/{rule_id}").status_code == 204
    gone = api.get(f"/rules/{rule_id}")
    assert gone.status_code == 404 and gone.json() == {"code": "NOT_FOUND", "message": "Rule Id Not Found"}
    assert api.delete(f"/rules/{rule_id}").status_code == 404
    assert api.put(f"/rules/{rule_id}", json={"enable": False}).status_code == 404


def test_rule_test_and_the_event_catalogue(api) -> None:
    body = {
        "sql": "SELECT payload.msg as msg, clientid FROM \"t/#\" WHERE msg = 'hello'",
        "context": {"clientid": "c1", "topic": "t/a", "payload": '{"msg": "hello"}'},
    }
    assert api.post("/rule_test", json=body).json() == {"msg": "hello", "clientid": "c1"}
    miss = api.post("/rule_test", json={**body, "context": {**body["context"], "payload": '{"msg": "bye"}'}})
    assert miss.status_code == 412 and miss.json() == {"code": "NOT_MATCH", "message": "SQL Not Match"}
    other_topic = api.post("/rule_test", json={**body, "context": {**body["context"], "topic": "u/a"}})
    assert other_topic.status_code == 412
    event = {
        "sql": 'SELECT clientid, reason FROM "$events/client_disconnected"',
        "context": {"event_type": "client_disconnected"},
    }
    assert api.post("/rule_test", json=event).json() == {"clientid": "c_emqx", "reason": "normal"}
    assert api.post("/rule_test", json={"sql": "SELECT"}).status_code == 400
    assert (
        api.post(
            "/rule_test", json={"sql": 'SELECT * FROM "t"', "context": {"event_type": "nope"}}
        ).status_code
        == 400
    )
    catalogue = api.get("/rule_events").json()
    names = [e["event"] for e in catalogue]
    assert (
        "message.publish" in names
        and "$events/client_connected" in names
        and "$events/delivery_dropped" in names
    )
    assert all(
        {"event", "title", "description", "columns", "test_columns", "sql_example"} <= set(e)
        for e in catalogue
    )
    assert api.get("/rule_engine").json() == {
        "enable": True,
        "ignore_sys_message": True,
        "max_pending": 10000,
    }
    assert api.put("/rule_engine", json={"max_pending": 500}).json()["max_pending"] == 500
    assert api.put("/rule_engine", json={"max_pending": 0}).status_code == 400
    assert api.put("/rule_engine", json={"max_pending": 10000}).status_code == 200


def test_viewers_read_rules_but_cannot_change_them(api, api_node, prefix) -> None:
    from tests.api.v5.conftest import api_client

    _rule(api, id=f"{prefix}ro", sql='SELECT * FROM "ro"')
    with api_client(api_node, "viewer") as viewer:
        assert viewer.get(f"/rules/{prefix}ro").status_code == 200
        assert viewer.post("/rules", json={"sql": 'SELECT * FROM "x"'}).status_code == 403
        assert viewer.delete(f"/rules/{prefix}ro").status_code == 403
        assert viewer.post("/rule_test", json={"sql": 'SELECT * FROM "x"'}).status_code == 403


def test_rules_survive_a_restart(api, api_node, mqtt_client, prefix) -> None:
    args = {"topic": f"{prefix}out", "payload": "${payload}"}
    _rule(
        api,
        id=f"{prefix}kept",
        sql=f'SELECT payload FROM "{prefix}in"',
        actions=[{"function": "republish", "args": args}],
    )
    restart(api_node)
    assert api.get(f"/rules/{prefix}kept").json()["actions"][0]["args"] == args
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, f"{prefix}out", 0)
    mqtt_client(prefix + "p").publish(f"{prefix}in", b"after restart", 0).wait_for_publish(5)
    assert watcher.inbox.get(timeout=5).payload == b"after restart"


def test_authentication_authorization_and_alarm_events(api, mqtt_client, prefix) -> None:
    out = f"{prefix}seen"
    args = {
        "topic": out,
        "payload": "${event} ${clientid} ${name} ${reason_code} ${result} ${is_anonymous} ${topic}"
        " ${authz_source}",
    }
    sql = (
        'SELECT * FROM "$events/client_check_authn_complete", "$events/client_check_authz_complete", '
        f"\"$events/alarm_activated\" WHERE clientid = '{prefix}who' or name = 'connector:http:{prefix}gone'"
    )
    assert (
        api.post(
            "/rules",
            json={"id": f"{prefix}audit", "sql": sql, "actions": [{"function": "republish", "args": args}]},
        ).status_code
        == 201
    )
    watcher = mqtt_client(prefix + "w")
    subscribed(watcher, out, 0)
    who = mqtt_client(prefix + "who")
    who.publish(f"{prefix}x", b"1", 1).wait_for_publish(5)
    dead = {"type": "http", "name": f"{prefix}gone", "url": "http://127.0.0.1:9", "connect_timeout": "1s"}
    assert api.post("/connectors", json=dead).status_code == 201  # disconnected: its alarm is raised
    got = sorted(watcher.inbox.get(timeout=5).payload.decode() for _ in range(3))
    assert got == sorted(
        [
            f"client.check_authn_complete {prefix}who undefined success undefined true undefined undefined",
            # the default acl.conf's last rule allows all: the file source decided
            f"client.check_authz_complete {prefix}who undefined undefined allow undefined {prefix}x file",
            f"alarm.activated undefined connector:http:{prefix}gone undefined undefined undefined undefined"
            " undefined",
        ]
    )
    assert api.delete(f"/connectors/http:{prefix}gone").status_code == 204
