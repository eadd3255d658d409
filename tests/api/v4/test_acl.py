"""``/api/v4/acl``: the built-in database authorization rules in EMQX 4's rows, checked with real
SUBSCRIBEs, and the same rules on v5."""

from __future__ import annotations

from tests.api.v5.conftest import prefix  # noqa: F401
from tests.api.v5.test_authz import RULES, suback


def test_rules_for_a_client_id_refuse_and_allow_real_subscribes(v4, api, api_node, prefix):  # noqa: F811
    device = prefix + "dev"
    added = v4.post(
        "/acl", json={"clientid": device, "topic": f"{prefix}/secret/#", "action": "sub", "access": "deny"}
    ).json()
    assert added == {
        "code": 0,
        "data": {
            "clientid": device,
            "topic": f"{prefix}/secret/#",
            "action": "sub",
            "access": "deny",
            "result": "ok",
        },
    }
    assert suback(api_node.port, device, f"{prefix}/secret/x") == 0x87
    assert suback(api_node.port, prefix + "other", f"{prefix}/secret/x") == 1  # someone else: granted QoS 1
    [row] = v4.get(f"/acl/clientid/{device}").json()["data"]
    assert row == {"clientid": device, "topic": f"{prefix}/secret/#", "action": "sub", "access": "deny"}
    v5 = api.get(f"{RULES}/clients/{device}").json()
    assert v5["rules"][0]["permission"] == "deny" and v5["rules"][0]["action"] == "subscribe"
    topic = f"{prefix}%2Fsecret%2F%23"
    assert v4.delete(f"/acl/clientid/{device}/topic/{topic}").json() == {"code": 0}
    assert suback(api_node.port, device, f"{prefix}/secret/x") == 1
    assert v4.get(f"/acl/clientid/{device}").json()["data"] == []


def test_usernames_all_batches_and_listing(v4, api_node, prefix):  # noqa: F811
    user = prefix + "user"
    batch = [
        {"username": user, "topic": f"{prefix}/u/#", "action": "pubsub", "access": "deny"},
        {"topic": f"{prefix}/all/#", "action": "sub", "access": "deny"},
        {"username": user, "topic": f"{prefix}/x", "action": "shout", "access": "deny"},
    ]
    made = v4.post("/acl", json=batch).json()["data"]
    assert [row["result"] for row in made] == ["ok", "ok", "action: must be pub, sub or pubsub"]
    assert made[1]["all"] == "$all"
    assert suback(api_node.port, prefix + "c1", f"{prefix}/u/1", username=user) == 0x87
    assert suback(api_node.port, prefix + "c2", f"{prefix}/all/1") == 0x87
    listed = v4.get("/acl/username", params={"_like_username": prefix}).json()
    assert [row["topic"] for row in listed["data"]] == [f"{prefix}/u/#"] and listed["meta"]["count"] == -1
    everyone = v4.get("/acl/$all", params={"topic": f"{prefix}/all/#"}).json()["data"]
    assert everyone == [{"all": "$all", "topic": f"{prefix}/all/#", "action": "sub", "access": "deny"}]
    assert v4.delete(f"/acl/$all/topic/{prefix}%2Fall%2F%23").json() == {"code": 0}
    assert suback(api_node.port, prefix + "c3", f"{prefix}/all/1") == 1
    assert v4.delete(f"/acl/username/{user}/topic/{prefix}%2Fu%2F%23").json() == {"code": 0}
    assert suback(api_node.port, prefix + "c4", f"{prefix}/u/1", username=user) == 1


def test_bad_rules_are_refused(v4):
    assert v4.post("/acl", json={"clientid": "x", "topic": "t"}).json() == {
        "code": 107,
        "message": "missing mandatory params: ['action', 'access']",
    }
    bad = v4.post("/acl", json={"clientid": "x", "topic": "t", "action": "pub", "access": "maybe"}).json()
    assert bad["code"] == 108 and "permission" in bad["message"]
    assert (
        v4.post("/acl", json={"clientid": 5, "topic": "t", "action": "pub", "access": "allow"}).json()["code"]
        == 108
    )
