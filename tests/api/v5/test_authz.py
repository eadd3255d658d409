"""/api/v5/authorization: built-in database rules for users, clients and all, the sources and
their order, the settings and the verdict cache, checked with real SUBSCRIBEs."""

from __future__ import annotations

from brookmq.mqtt import packets as pk
from tests.api.v5.conftest import restart
from tests.durability.process import Wire

RULES = "/authorization/sources/built_in_database/rules"
DENY_SECRET = [{"topic": "secret/#", "permission": "deny", "action": "subscribe"}]


def suback(
    port: int, client_id: str, topic: str, username: str | None = None, password: str | None = None
) -> int:
    """The SUBACK reason code a v5 client gets for ``topic``."""
    wire = Wire(port, pk.MQTT_5)
    try:
        secret = None if password is None else password.encode()
        assert wire.connect(client_id, username=username, password=secret).reason_code == 0
        wire.send(pk.Subscribe(1, [(topic, pk.SubscriptionOptions(1))]))
        ack = wire.recv()
        assert isinstance(ack, pk.Suback)
        return ack.reason_codes[0]
    finally:
        wire.close()


def test_rules_for_users_clients_and_all(api, api_node, prefix) -> None:
    port, user = api_node.port, prefix + "u"
    assert suback(port, prefix + "a", "secret/1", user) == 1
    assert api.post(RULES + "/users", json=[{"username": user, "rules": DENY_SECRET}]).status_code == 204
    assert suback(port, prefix + "b", "secret/1", user) == 0x87
    assert suback(port, prefix + "c", "secret/1", prefix + "someone-else") == 1
    again = api.post(RULES + "/users", json=[{"username": user, "rules": DENY_SECRET}])
    assert again.status_code == 409 and again.json()["code"] == "ALREADY_EXISTS"
    assert api.get(f"{RULES}/users/{user}").json() == {
        "username": user,
        "rules": [{**DENY_SECRET[0], "qos": [0, 1, 2], "retain": "all"}],
    }
    listed = api.get(RULES + "/users", params={"like_username": prefix}).json()
    assert [e["username"] for e in listed["data"]] == [user] and "count" not in listed["meta"]
    allow = [{"topic": "secret/#", "permission": "allow", "action": "all"}]
    assert api.put(f"{RULES}/users/{user}", json={"rules": allow}).status_code == 204
    assert suback(port, prefix + "d", "secret/1", user) == 1
    assert api.put(f"{RULES}/users/{user}", json={"username": "other", "rules": allow}).status_code == 400
    assert api.delete(f"{RULES}/users/{user}").status_code == 204
    assert api.get(f"{RULES}/users/{user}").status_code == 404

    client = prefix + "cid"
    assert api.post(RULES + "/clients", json=[{"clientid": client, "rules": DENY_SECRET}]).status_code == 204
    assert suback(port, client, "secret/x") == 0x87
    assert api.delete(f"{RULES}/clients/{client}").status_code == 204

    assert api.post(RULES + "/all", json={"rules": DENY_SECRET}).status_code == 204
    assert api.get(RULES + "/all").json()["rules"][0]["topic"] == "secret/#"
    assert suback(port, prefix + "e", "secret/1") == 0x87
    assert api.delete(RULES + "/all").status_code == 204
    assert suback(port, prefix + "f", "secret/1") == 1

    too_many = [{"username": prefix + "many", "rules": DENY_SECRET * 101}]
    assert api.post(RULES + "/users", json=too_many).status_code == 400
    bad_rule = [
        {"username": prefix + "bad", "rules": [{"topic": "a", "permission": "maybe", "action": "all"}]}
    ]
    bad = api.post(RULES + "/users", json=bad_rule)
    assert bad.status_code == 400 and "permission" in bad.json()["message"]


def test_sources_order_settings_and_persistence(api, api_node, prefix) -> None:
    sources = api.get("/authorization/sources").json()["sources"]
    assert [s["type"] for s in sources] == ["built_in_database", "file"]
    assert api.get("/authorization/sources/file/status").json()["status"] == "connected"
    assert api.post("/authorization/sources/file/move", json={"position": "front"}).status_code == 204
    assert [s["type"] for s in api.get("/authorization/sources").json()["sources"]] == [
        "file",
        "built_in_database",
    ]
    order = [{"type": "built_in_database"}, {"type": "file"}]
    assert api.put("/authorization/sources/order", json=order).status_code == 204

    # Only the rules file, with a rule of its own: '#' is then denied to everyone.
    rules = '{deny, all, subscribe, ["#"]}.\n{allow, all}.\n'
    assert api.put("/authorization/sources/file", json={"rules": rules}).status_code == 204
    assert suback(api_node.port, prefix + "a", "#") == 0x87
    assert api.delete("/authorization/sources/built_in_database").status_code == 204
    assert api.get(RULES + "/all").status_code == 404
    created = api.post("/authorization/sources", json={"type": "built_in_database"})
    assert created.status_code == 204
    assert api.post("/authorization/sources", json={"type": "file"}).status_code == 409
    bad = api.put("/authorization/sources/file", json={"rules": "{allow"})
    assert bad.status_code == 400 and bad.json()["code"] == "UPDATE_FAILED"

    settings = api.put("/authorization/settings", json={"no_match": "deny", "cache": {"ttl": "10s"}})
    assert settings.json() == {
        "no_match": "deny",
        "deny_action": "ignore",
        "cache": {"enable": True, "max_size": 32, "ttl": 10.0},
    }
    assert api.put("/authorization/settings", json={"sources": []}).status_code == 400
    assert api.delete("/authorization/cache").status_code == 204

    restart(api_node)
    assert [s["type"] for s in api.get("/authorization/sources").json()["sources"]] == [
        "file",
        "built_in_database",
    ]
    assert api.get("/authorization/settings").json()["no_match"] == "deny"
    assert suback(api_node.port, prefix + "b", "#") == 0x87
