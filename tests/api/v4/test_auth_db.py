"""``/auth_clientid`` and ``/auth_username`` on ``/api/v4`` and ``/api/v3``: the built-in database
seen by client id and by username, with paho clients logging in by what was made there, and
the same records on v5's ``/authentication/.../users`` (the username view)."""

from __future__ import annotations

import httpx
import paho.mqtt.client as mqtt

from tests.api.v3.conftest import v3_client
from tests.api.v5.conftest import prefix, wait_for_api  # noqa: F401
from tests.durability.process import BrokerProcess
from tests.interop.test_access_paho import connack

NODE_CONFIG = """
authentication = [{mechanism = password_based, backend = built_in_database}]
allow_anonymous = false
"""
V311 = mqtt.MQTTv311


def test_a_client_id_logs_in_by_its_own_record(v4, api_node, prefix):  # noqa: F811
    device = prefix + "dev"
    assert v4.post("/auth_clientid", json={"clientid": device, "password": "pw-1"}).json() == {"code": 0}
    assert connack(api_node.port, V311, device, "anyone", "pw-1") == 0  # by client id, any username
    assert connack(api_node.port, V311, device, "anyone", "wrong") == 134
    assert v4.post("/auth_clientid", json={"clientid": device, "password": "x"}).json() == {
        "message": "existed"
    }
    looked_up = v4.get(f"/auth_clientid/{device}").json()["data"]
    assert looked_up["clientid"] == device and looked_up["created_at"] > 10**12  # ms
    assert v4.put(f"/auth_clientid/{device}", json={"password": "pw-2"}).json() == {"code": 0}
    assert connack(api_node.port, V311, device, "anyone", "pw-1") == 134
    assert connack(api_node.port, V311, device, "anyone", "pw-2") == 0
    assert v4.delete(f"/auth_clientid/{device}").json() == {"code": 0}
    assert connack(api_node.port, V311, device, "anyone", "pw-2") == 135  # no record: not authorized
    assert v4.get(f"/auth_clientid/{device}").json() == {"code": 0, "data": {}}
    assert v4.put(f"/auth_clientid/{device}", json={"password": "x"}).json() == {"message": "noexisted"}


def test_usernames_are_v5s_users(v4, api, api_node, prefix):  # noqa: F811
    user = prefix + "user"
    assert v4.post("/auth_username", json={"username": user, "password": "pw-u"}).json() == {"code": 0}
    assert connack(api_node.port, V311, prefix + "any-client", user, "pw-u") == 0
    v5 = api.get(f"/authentication/password_based:built_in_database/users/{user}")
    assert v5.status_code == 200 and v5.json()["user_id"] == user
    with v3_client(api_node) as v3:  # the same records on v3
        assert v3.get(f"/auth_username/{user}").json()["data"]["username"] == user


def test_listing_is_newest_first_paged_and_filtered(v4, prefix):  # noqa: F811
    batch = [{"clientid": f"{prefix}b{i}", "password": "pw"} for i in range(3)]
    batch.append({"clientid": f"{prefix}b0", "password": "pw"})
    batch.append({"clientid": f"{prefix}nopw"})
    made = v4.post("/auth_clientid", json=batch).json()
    assert made["code"] == 0
    assert made["data"] == {
        f"{prefix}b0": "existed",  # the first b0 was made, the second is the one reported
        f"{prefix}b1": "ok",
        f"{prefix}b2": "ok",
        f"{prefix}nopw": "missing mandatory params: ['password']",
    }
    listed = v4.get("/auth_clientid", params={"_like_clientid": prefix, "_limit": 2}).json()
    assert [row["clientid"] for row in listed["data"]] == [f"{prefix}b2", f"{prefix}b1"]
    assert listed["meta"]["count"] == 3 and listed["meta"]["hasnext"] is True


def test_bad_input_has_its_codes(v4):
    assert v4.post("/auth_clientid", json={"clientid": "x"}).json() == {
        "code": 107,
        "message": "missing mandatory params: ['password']",
    }
    assert v4.post("/auth_clientid", json={"clientid": 5, "password": "p"}).json()["code"] == 108
    assert v4.post("/auth_username", json={"username": "a\nb", "password": "p"}).json()["code"] == 108
    assert v4.put("/auth_username/someone", json={}).json()["code"] == 107
    assert v4.get("/auth_username", params={"_limit": "many"}).json()["code"] == 108


def test_without_a_built_in_database_the_routes_are_not_started(tmp_path):
    node = BrokerProcess(tmp_path, None).start()
    try:
        wait_for_api(node)
        base = f"http://127.0.0.1:{node.mgmt_port}/api/v4"
        with httpx.Client(base_url=base, auth=("admin", "public"), timeout=10) as v4:
            assert v4.get("/auth_clientid").json() == {"message": "not_started"}
            assert v4.post("/auth_username", json={"username": "u", "password": "p"}).json() == {
                "message": "not_started"
            }
    finally:
        node.stop()
