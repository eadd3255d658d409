"""``/api/v4`` apps and dashboard users against a real broker: one credential model, so an app
made through v4 is a v5 API key, a v5 key is a v4 app, and a user made through v4 logs in on v5."""

from __future__ import annotations

import time

import httpx

from tests.api.v4.conftest import v4_client


def _v5(node, auth) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{node.api_port}/api/v5", auth=auth, timeout=10)


def _v5_as_admin(node) -> httpx.Client:
    """``/api_key`` takes a dashboard user's token only (EMQX)."""
    with _v5(node, None) as v5:
        token = v5.post("/login", json={"username": "admin", "password": "public"}).json()["token"]
    client = _v5(node, None)
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def test_an_app_made_on_v4_is_a_v5_api_key(v4, api_node):
    made = v4.post("/apps", json={"app_id": "reporting", "name": "Reporting", "desc": "nightly"}).json()
    secret = made["data"]["secret"]
    assert made["code"] == 0 and len(secret) >= 40
    with v4_client(api_node, None) as anyone:
        assert anyone.get("/brokers", auth=("reporting", secret)).json()["code"] == 0
    with _v5(api_node, ("reporting", secret)) as v5:
        assert v5.get("/nodes").status_code == 200
    with _v5_as_admin(api_node) as v5:
        [key] = [k for k in v5.get("/api_key").json() if k["api_key"] == "reporting"]
        assert key["name"] == "reporting" and key["desc"] == "nightly" and key["enable"] is True
    listed = [app for app in v4.get("/apps").json()["data"] if app["app_id"] == "reporting"]
    assert listed == [
        {
            "app_id": "reporting",
            "name": "Reporting",
            "desc": "nightly",
            "status": True,
            "expired": "undefined",
            "role": "administrator",
        }
    ]
    looked_up = v4.get("/apps/reporting").json()["data"]
    assert looked_up["name"] == "Reporting" and "secret" not in looked_up  # shown once, kept hashed
    assert v4.get("/apps/nothing-here").json() == {"code": 0, "data": {}}
    assert v4.post("/apps", json={"app_id": "reporting"}).json() == {"message": "already_existed"}


def test_an_app_turned_off_expired_or_deleted_is_refused(v4, api_node):
    secret = v4.post("/apps", json={"app_id": "7up", "name": "digits first"}).json()["data"]["secret"]
    with v4_client(api_node, None) as anyone:

        def status() -> int:
            return anyone.get("/brokers", auth=("7up", secret)).status_code

        assert status() == 200
        assert v4.put("/apps/7up", json={"status": False}).json() == {"code": 0}
        assert status() == 401
        assert v4.put("/apps/7up", json={"status": True, "expired": int(time.time()) - 5}).json()["code"] == 0
        assert status() == 401
        assert v4.put("/apps/7up", json={"expired": "undefined", "name": "renamed"}).json()["code"] == 0
        assert status() == 200
        assert v4.get("/apps/7up").json()["data"]["name"] == "renamed"
        assert v4.delete("/apps/7up").json() == {"code": 0}
        assert status() == 401
    assert v4.delete("/apps/7up").json() == {"code": 0}  # gone already: done too
    assert v4.put("/apps/7up", json={"desc": "x"}).json() == {"message": "not_found"}


def test_a_v5_key_is_a_v4_app_with_its_role(v4, api_node):
    with _v5_as_admin(api_node) as v5:
        made = v5.post(
            "/api_key", json={"name": "fromv5", "desc": "", "enable": True, "role": "viewer"}
        ).json()
    apps = {app["app_id"]: app for app in v4.get("/apps").json()["data"]}
    assert apps[made["api_key"]]["name"] == "fromv5" and apps[made["api_key"]]["role"] == "viewer"
    with v4_client(api_node, None) as anyone:
        auth = (made["api_key"], made["api_secret"])
        assert anyone.get("/apps", auth=auth).json()["code"] == 0
        assert anyone.post("/apps", json={"app_id": "sneaky"}, auth=auth).status_code == 403


def test_app_input_is_checked(v4):
    assert v4.post("/apps", json={"name": "x"}).json() == {
        "code": 107,
        "message": "missing mandatory params: ['app_id']",
    }
    bad = v4.post("/apps", json={"app_id": "-starts-with-dash"}).json()
    assert bad["code"] == 108 and "app_id" in bad["message"]
    assert v4.post("/apps", json={"app_id": "x1", "status": "maybe"}).json()["code"] == 108
    assert v4.post("/apps", json={"app_id": "x2", "expired": "soon"}).json()["code"] == 108
    assert v4.post("/apps", json={"app_id": "x3", "role": "root"}).json()["code"] == 108
    assert v4.post("/apps", json={"app_id": "x4", "secret": 12}).json()["code"] == 108
    assert all(app["app_id"] not in ("x1", "x2", "x3", "x4") for app in v4.get("/apps").json()["data"])


def test_a_user_made_on_v4_logs_in_on_v5_and_changes_password(v4, api_node):
    assert v4.post(
        "/users", json={"username": "ops", "password": "first-pass-1", "tags": "on call"}
    ).json() == {"code": 0}
    assert {"username": "ops", "tags": "on call", "role": "administrator"} in v4.get("/users").json()["data"]
    again = v4.post("/users", json={"username": "ops", "password": "first-pass-1"}).json()
    assert again == {"code": 113, "message": "user already exists"}
    with _v5(api_node, None) as v5:
        login = v5.post("/login", json={"username": "ops", "password": "first-pass-1"})
        assert login.status_code == 200 and login.json()["token"]
    with v4_client(api_node, None) as anyone:  # POST /auth needs no credentials
        assert anyone.post("/auth", json={"username": "ops", "password": "first-pass-1"}).json() == {
            "code": 0
        }
        wrong = anyone.post("/auth", json={"username": "ops", "password": "nope-nope-1"}).json()
        assert wrong["code"] == 103
        assert anyone.post("/auth", json={"username": "ops"}).json()["code"] == 104
    changed = v4.put("/change_pwd/ops", json={"old_pwd": "wrong-old-1", "new_pwd": "second-pass-2"}).json()
    assert changed == {"code": 114, "message": "old password error"}
    assert v4.put("/change_pwd/ops", json={"old_pwd": "first-pass-1", "new_pwd": "second-pass-2"}).json() == {
        "code": 0
    }
    with _v5(api_node, None) as v5:
        assert v5.post("/login", json={"username": "ops", "password": "second-pass-2"}).status_code == 200
        assert v5.post("/login", json={"username": "ops", "password": "first-pass-1"}).status_code == 401
    assert v4.put("/users/ops", json={"tags": "retired"}).json() == {"code": 0}
    assert {"username": "ops", "tags": "retired", "role": "administrator"} in v4.get("/users").json()["data"]
    assert v4.delete("/users/ops").json() == {"code": 0}
    assert all(user["username"] != "ops" for user in v4.get("/users").json()["data"])


def test_user_errors_have_their_codes(v4):
    assert v4.delete("/users/admin").json() == {"message": "Cannot delete admin"}
    assert v4.put("/users/ghost", json={"tags": "x"}).json() == {
        "code": 105,
        "message": "user does not exist",
    }
    assert v4.delete("/users/ghost").json()["code"] == 105
    assert v4.put("/change_pwd/ghost", json={"old_pwd": "a", "new_pwd": "b"}).json()["code"] == 105
    assert v4.put("/change_pwd/admin", json={"old_pwd": "a"}).json() == {
        "code": 107,
        "message": "missing mandatory params: ['new_pwd']",
    }
    weak = v4.post("/users", json={"username": "weak", "password": "short"}).json()
    assert weak["code"] == 108 and "password" in weak["message"]
    assert v4.post("/users", json={"username": "bad name!", "password": "good-pass-1"}).json()["code"] == 108
